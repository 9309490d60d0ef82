// ONNX conformance: every model.onnx of Debian's libonnx-testdata must open, run shape inference, and
// agree with the output shapes the model declares; the output of a common CNN op must not stay unknown
// when the shapes of its inputs are known. Not part of `npm test` (about 1000 files).
//   npm run conformance [-- --verbose]   (--verbose also lists outputs inference left unknown)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isInputError } from '../src/core/errors';
import type { Dim, Shape, TensorInfo } from '../src/core/ir';
import { readOnnx, readValueInfo } from '../src/core/onnx/reader';
import { isUntyped } from '../src/core/onnx/untyped';
import { ProtoReader } from '../src/core/onnx/wire';
import { inferShapes } from '../src/core/onnx/shapes';

// ONNX_TESTDATA_DIR points the script at another tree of model.onnx files (its own tests use that).
const ROOT = process.env.ONNX_TESTDATA_DIR ?? '/usr/share/libonnx-testdata/data';
const verbose = process.argv.includes('--verbose');

function findModels(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findModels(p, out);
    else if (name === 'model.onnx') out.push(p);
  }
  return out;
}

/** Ops every CNN export uses: inference must always find their output's shape from known input shapes. */
const COMMON_CNN = new Set([
  'Conv', 'Relu', 'MaxPool', 'AveragePool', 'BatchNormalization', 'Gemm', 'MatMul', 'Add', 'Mul', 'Concat', 'Reshape',
  'Flatten', 'Transpose', 'Resize', 'Softmax', 'Sigmoid', 'GlobalAveragePool', 'Pad', 'Slice', 'Squeeze', 'Unsqueeze',
  'Clip', 'LeakyRelu',
]);

const fmt = (s: Shape | undefined) => (s ? `[${s.join(',')}]` : '?');

/** Shapes disagree when ranks differ or a dimension both know as a number differs. */
function disagrees(inferred: Shape, declared: Shape): boolean {
  return inferred.length !== declared.length || inferred.some((d: Dim, i) => typeof d === 'number' && d !== declared[i]);
}

/**
 * A rejection is expected only for what the reader documents refusing — external data — and only when
 * the file really refers to an external location (the key appears in its bytes).
 */
function expectedRejection(message: string, bytes: Uint8Array): boolean {
  if (!/uses external data file ".*", which cannot be opened here; save with all tensors inside the file$/.test(message)) return false;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes('location');
}

/** The top-level graph's value_info (field 13) or outputs (field 12) exactly as the file declares them. */
function declared(bytes: Uint8Array, field: 12 | 13): Map<string, TensorInfo> {
  const out = new Map<string, TensorInfo>();
  const model = new ProtoReader(bytes);
  while (!model.done) {
    const [f, wt] = model.tag();
    if (f !== 7) { model.skip(wt); continue; }
    const g = model.message();
    while (!g.done) {
      const [gf, gwt] = g.tag();
      if (gf === field) { const vi = readValueInfo(g.message()); out.set(vi.name, vi); } else g.skip(gwt);
    }
  }
  return out;
}

function main(): number {
  if (!existsSync(ROOT)) {
    console.log('conformance: 0 passed, 0 failed (libonnx-testdata not installed)');
    return 0;
  }
  const files = findModels(ROOT);
  let passed = 0;
  const failures: string[] = [];
  const expected: string[] = [];
  const unknownOutputs: string[] = [];
  /** Node outputs (top-level graphs) whose shape inference left unknown, by op type. */
  const unknownByOp = new Map<string, number>();
  let outputsChecked = 0;
  let partlySymbolic = 0;
  for (const file of files) {
    const rel = relative(ROOT, file);
    const bytes = new Uint8Array(readFileSync(file));
    let model;
    try {
      model = readOnnx(bytes);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (isInputError(e) && expectedRejection(msg, bytes)) {
        expected.push(`${rel}: ${msg}`);
        passed++;
      } else failures.push(`FAIL ${rel}: ${isInputError(e) ? 'rejected' : 'crashed'}: ${msg.split('\n')[0]}`);
      continue;
    }
    // Inference alone, without the file's declared value_info, so the declared outputs are a real check.
    let inferred;
    try {
      inferred = inferShapes({ ...model.graph, valueInfo: new Map() }, model.opset);
    } catch (e) {
      failures.push(`FAIL ${rel}: shape inference threw: ${(e as Error).message}`);
      continue;
    }
    const bad: string[] = [];
    const known = (t: string) => !t || inferred.get(t)?.shape !== undefined;
    for (const n of model.graph.nodes) {
      const op = n.domain ? `${n.domain}::${n.opType}` : n.opType;
      n.outputs.forEach((o, k) => {
        if (!o || known(o)) return;
        unknownByOp.set(op, (unknownByOp.get(op) ?? 0) + 1);
        // Optional outputs (Dropout's mask, BatchNormalization's training statistics) are not the op's result.
        if (k === 0 && !n.domain && COMMON_CNN.has(n.opType) && n.inputs.every(known)) {
          bad.push(`${n.opType} "${n.name}" output ${o} stays unknown though its inputs' shapes are known (${n.inputs.filter(Boolean).map((i) => fmt(inferred.get(i)?.shape)).join(', ')})`);
        }
      });
    }
    const typed = new Set([...declared(bytes, 12).values()].filter((o) => !isUntyped(o)).map((o) => o.name));
    for (const o of model.graph.outputs) {
      const info = inferred.get(o.name);
      if (info && typed.has(o.name) && info.dtype !== o.dtype) bad.push(`${o.name}: inferred ${info.dtype}, declared ${o.dtype}`);
      const got = info?.shape;
      const want = o.shape;
      if (!got) {
        unknownOutputs.push(`${rel}: ${o.name}`);
        continue;
      }
      if (!want || !want.every((d) => typeof d === 'number')) continue;
      outputsChecked++;
      if (got.some((d) => typeof d !== 'number')) {
        partlySymbolic++;
        if (verbose) console.log(`  partly unknown: ${rel}: ${o.name} inferred ${fmt(got)}, declared ${fmt(want)}`);
      }
      if (disagrees(got, want)) bad.push(`${o.name}: inferred ${fmt(got)}, declared ${fmt(want)}`);
    }
    // Intermediate tensors the file declares (value_info) are checked the same way.
    for (const [name, decl] of declared(bytes, 13)) {
      const got = inferred.get(name)?.shape;
      const want = decl.shape;
      if (!got || !want || !want.every((d) => typeof d === 'number')) continue;
      outputsChecked++;
      if (disagrees(got, want)) bad.push(`${name}: inferred ${fmt(got)}, declared ${fmt(want)}`);
    }
    if (bad.length) failures.push(`FAIL ${rel}: ${bad.join('; ')}`);
    else passed++;
  }
  for (const f of failures) console.log(f);
  if (expected.length) {
    console.log(`expected rejections (${expected.length}):`);
    for (const e of expected) console.log(`  ${e}`);
  }
  console.log(`checked ${outputsChecked} static declared shapes (outputs and value_info) (${partlySymbolic} inferred with some dimension unknown); ${unknownOutputs.length} outputs left unknown by inference`);
  if (verbose) for (const u of unknownOutputs) console.log(`  unknown: ${u}`);
  const byOp = [...unknownByOp].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  console.log(`node outputs left unknown, by op type (${byOp.reduce((a, [, c]) => a + c, 0)} in all): ${byOp.map(([op, c]) => `${op} ${c}`).join(', ') || 'none'}`);
  console.log(`conformance: ${passed} passed, ${failures.length} failed`);
  return failures.length ? 1 : 0;
}

process.exitCode = main();
