// The quantizer's `_int.xmodel` (what vai_c_xir reads): written from a layer graph, checked op by op against
// XIR's op definitions, compared with the real pointpillars_int.xmodel, compiled like the QDQ model it came from.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { layersOf, partition, targetByArch } from '../../src/core/compile';
import type { CompileResult } from '../../src/core/compile';
import type { Model } from '../../src/core/ir';
import { readOnnx } from '../../src/core/onnx/reader';
import { parseNpy } from '../../src/core/data/npy';
import { inputSpecFromShape } from '../../src/core/data/preprocess';
import { batches, samplesFromArray } from '../../src/core/data/calib';
import { parseQuantConfig } from '../../src/core/quant/config';
import { exportQdq, importQdq } from '../../src/core/quant/qdq';
import { quantizeModel } from '../../src/core/quant/quantize';
import { readXModel, writeXModel } from '../../src/core/xmodel/codec';
import { intXModel, intXModelOf } from '../../src/core/xmodel/int-export';
import { checkOp, checkXModelOps } from '../../src/core/xmodel/opdef-check';
import { xmodelToModel } from '../../src/core/xmodel/to-model';
import { opFixPoint, type XAttr, type XModel } from '../../src/core/xmodel/types';

const target = targetByArch('DPUCZDX8G_ISA1_B4096');
const load = (f: string) => readXModel(new Uint8Array(readFileSync(f)));
const plain = (a: XAttr) => JSON.stringify(a.value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Array.from(v).join(',') : v));
const placement = (r: CompileResult) => r.subgraphs.map((s) => `${s.device}:${s.layers.length}`);

describe('XIR op definitions', () => {
  it('the real Vitis AI files satisfy them (the table is read right)', () => {
    for (const f of ['pointpillars_int', 'pointpillars_compiled_B4096', 'tf2_custom_op_compiled_B4096'])
      expect(checkXModelOps(load(`test/fixtures/xmodel/${f}.xmodel`)), f).toEqual([]);
  });
  it('names a missing required attribute, a wrongly typed one, an unknown argument and an unknown type', () => {
    const out = { name: 'y', shape: [1], dataType: 'FLOAT' as const, bitWidth: 32, attrs: {} };
    expect(checkOp({ name: 'c', type: 'concat', attrs: {}, args: [{ name: 'input', ops: ['a'] }], output: out }))
      .toEqual(['c (concat): required attribute "axis" is missing']);
    expect(checkOp({ name: 'c', type: 'concat', attrs: { axis: { kind: 'int64', value: 3n } }, args: [{ name: 'x', ops: ['a'] }], output: out }))
      .toEqual(['c (concat): attribute "axis" is int64, XIR wants int32', 'c (concat): argument "x" is not in its definition', 'c (concat): required argument "input" is missing']);
    expect(checkOp({ name: 'k', type: 'conv2d', attrs: { kernel: { kind: 'int32_vec', value: [3] }, stride: { kind: 'int32_vec', value: [1, 1] }, pad_mode: { kind: 'string', value: 'FLOOR' } }, args: [{ name: 'input', ops: ['a'] }, { name: 'weights', ops: ['w'] }], output: out }))
      .toEqual(['k (conv2d): attribute "kernel" has 1 values, XIR wants 2']);
    expect(checkOp({ name: 'z', type: 'conv', attrs: {}, args: [], output: out })).toEqual(['z: op type "conv" is not an XIR op']);
  });
});

describe('pointpillars_int.xmodel read and written back', () => {
  const src = load('test/fixtures/xmodel/pointpillars_int.xmodel');
  const back = readXModel(writeXModel(intXModel(layersOf({ kind: 'xmodel', xmodel: src }), { xmodel: src })));
  it('has the same ops by name, with the same types, attributes, arguments, data and fix points', () => {
    expect(checkXModelOps(back)).toEqual([]);
    expect(back.ops.map((o) => o.name).sort()).toEqual(src.ops.map((o) => o.name).sort());
    const mine = new Map(back.ops.map((o) => [o.name, o]));
    for (const o of src.ops) {
      const b = mine.get(o.name)!;
      expect(b.type, o.name).toBe(o.type);
      expect(opFixPoint(b), o.name).toBe(opFixPoint(o));
      expect(b.output.shape, o.name).toEqual(o.output.shape);
      expect(Object.keys(b.attrs).sort(), o.name).toEqual(Object.keys(o.attrs).sort());
      // const data_type: the real file says `float32`, XIR's own writer `FLOAT32`; both parse to FLOAT32.
      for (const [k, a] of Object.entries(o.attrs))
        if (k !== 'data_type') expect(plain(b.attrs[k]), `${o.name}.${k}`).toBe(plain(a));
      expect(b.args.map((a) => `${a.name}:${[...a.ops].sort()}`), o.name).toEqual(o.args.map((a) => `${a.name}:${[...a.ops].sort()}`));
    }
    expect(back.attrs.return_ops).toEqual(src.attrs.return_ops);
    expect(back.root.children).toEqual([]);
  });
  it('compiles to the same partition', () => {
    expect(placement(partition(layersOf({ kind: 'xmodel', xmodel: back }), target))).toEqual(placement(partition(layersOf({ kind: 'xmodel', xmodel: src }), target)));
  });
});

/** Export → bytes → read: every check the issue asks of an exported file. */
function checkExport(qdq: Model) {
  const x = readXModel(writeXModel(intXModelOf(qdq)));
  expect(checkXModelOps(x)).toEqual([]);
  // One root subgraph; every input is data → fix; every weight const → fix.
  expect(x.root.children).toEqual([]);
  const byName = new Map(x.ops.map((o) => [o.name, o]));
  for (const o of x.ops) {
    if (o.type === 'data' || o.type === 'const') {
      const readers = x.ops.filter((r) => r.args.some((a) => a.ops.includes(o.name)));
      expect(readers.map((r) => r.type), o.name).toEqual(['fix']);
    }
    for (const a of o.args) for (const i of a.ops) expect(byName.has(i), `${o.name} reads ${i}`).toBe(true);
  }
  // Compiles to the partition of the QDQ model it came from.
  const fromQdq = partition(layersOf({ kind: 'onnx', model: qdq }), target);
  const fromInt = partition(layersOf({ kind: 'xmodel', xmodel: x }), target);
  expect(fromInt.summary).toBe(fromQdq.summary);
  // Devices in order; layer counts may differ by the NHWC → NCHW transposes written before a reshape.
  expect(fromInt.subgraphs.map((s) => s.device)).toEqual(fromQdq.subgraphs.map((s) => s.device));
  // Opened in the app, its fix points (on the fix nodes) equal the QDQ model's, tensor by tensor.
  const opened = xmodelToModel(x);
  const fps = importQdq(qdq).fixPoints;
  const shown = new Map<string, number>();
  for (const n of opened.graph.nodes) if (n.opType === 'fix' && n.attrs.fix_point?.kind === 'int') shown.set(n.inputs[0], n.attrs.fix_point.value);
  let compared = 0;
  for (const l of layersOf({ kind: 'onnx', model: qdq }).layers) {
    const want = fps.get(l.tensor)?.fixPoint;
    if (want === undefined || l.kind === 'output') continue;
    expect(shown.get(l.kind === 'activation' && l.chain ? l.chain[1].name : l.name), l.tensor).toBe(want);
    compared++;
  }
  return { x, compared };
}

const FMNIST = 'public/models/fmnist_seed000.onnx';
describe.skipIf(!existsSync(FMNIST))('fmnist_seed000 quantized here → _int.xmodel', () => {
  it('satisfies the op definitions, compiles to the QDQ model\'s partition and keeps its fix points', async () => {
    const model = readOnnx(new Uint8Array(readFileSync(FMNIST)));
    const spec = inputSpecFromShape('image', model.graph.inputs[0].shape!);
    const calib = samplesFromArray(parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy'))), spec);
    const r = await quantizeModel(model, () => batches(calib, spec), parseQuantConfig({}), { skipEvaluation: true });
    const qdq = exportQdq(r.model, r.tensors).model;
    const { x, compared } = checkExport(qdq);
    expect(compared).toBeGreaterThanOrEqual(4);
    expect(x.ops.filter((o) => o.type === 'conv2d')).toHaveLength(1);
    expect(x.ops.filter((o) => o.type === 'inner-product')).toHaveLength(2);
    // Weight fix points are those of the quantization.
    let weights = 0;
    for (const [name, t] of r.tensors) {
      const c = x.ops.find((o) => o.type === 'const' && o.name === name);
      if (!c) continue;
      weights++;
      const fix = x.ops.find((o) => o.type === 'fix' && o.args[0].ops[0] === c.name)!;
      expect(opFixPoint(fix), name).toBe(t.fixPoint);
    }
    expect(weights).toBe(6);
  }, 60_000);
});

const RETINA = 'public/models/retinaface_vitis_qdq.onnx';
describe.skipIf(!existsSync(RETINA))('retinaface_vitis_qdq.onnx (a Vitis AI QDQ) → _int.xmodel', () => {
  it('satisfies the op definitions, compiles to the QDQ model\'s partition and keeps its fix points', () => {
    const { compared } = checkExport(readOnnx(new Uint8Array(readFileSync(RETINA))));
    expect(compared).toBeGreaterThan(20);
  });
});

/** A float sample quantized here on one random input (enough for fix points to exist; accuracy is not the point). */
async function quantizedSample(file: string): Promise<Model> {
  const model = readOnnx(new Uint8Array(readFileSync(file)));
  const input = model.graph.inputs[0];
  const shape = (input.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
  let seed = 9;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const sample = { [input.name]: { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rnd) } };
  const q = await quantizeModel(model, [sample], parseQuantConfig({}), { skipEvaluation: true });
  return exportQdq(q.model, q.tensors).model;
}

for (const [file, minCompared] of [['public/models/yolox_nano.onnx', 200], ['public/models/mnist-8.onnx', 4]] as const)
  describe.skipIf(!existsSync(file))(`${file.split('/').pop()} quantized here → _int.xmodel`, () => {
    it('satisfies the op definitions, compiles to the QDQ model\'s partition and keeps its fix points', async () => {
      const { x, compared } = checkExport(await quantizedSample(file));
      expect(compared).toBeGreaterThanOrEqual(minCompared);
      if (file.includes('yolox')) {
        // Focus slices as strided_slice on NHWC (H stride 2 is axis 1), the head reshapes after an NCHW transpose.
        const s4 = x.ops.find((o) => o.name === 'Slice_4')!;
        expect(s4.type).toBe('strided_slice');
        expect(s4.attrs.strides).toEqual({ kind: 'int32_vec', value: [1, 2, 1, 1] });
        expect(x.ops.filter((o) => o.type === 'reshape').every((r) => x.ops.find((o) => o.name === r.args[0].ops[0])?.type === 'transpose')).toBe(true);
      }
    }, 120_000);
  });

describe('refusals', () => {
  it('a layer with no XIR float form is named', () => {
    const src: XModel = load('test/fixtures/xmodel/pointpillars_int.xmodel');
    const g = layersOf({ kind: 'xmodel', xmodel: src });
    // Without its source file a transpose's order is unknown.
    expect(() => intXModel(g)).toThrow(/^cannot write \S+_sink_tranpose_0 \(transpose\) into an _int\.xmodel: no XIR float op/);
  });
});
