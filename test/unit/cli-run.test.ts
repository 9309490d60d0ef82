import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { outputFileName } from '../../src/cli/commands/run';
import { batches, samplesFromFiles } from '../../src/core/data/calib';
import { parseNpy, toFloat32, writeNpy } from '../../src/core/data/npy';
import { inputSpecFromShape } from '../../src/core/data/preprocess';
import { readOnnx } from '../../src/core/onnx/reader';
import { writeOnnx } from '../../src/core/onnx/writer';
import { parseQuantConfig } from '../../src/core/quant/config';
import { exportQdq } from '../../src/core/quant/qdq';
import { quantizeModel } from '../../src/core/quant/quantize';
import { createFloatSession } from '../../src/core/sim/float/ort';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fixpoint-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODEL = 'public/models/fmnist_seed000.onnx';
const own = (s: string) => s.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n');

/** Through the real bin, as a user runs it. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['bin/fixpoint.js', 'run', ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr: own(stderr) };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: own(x.stderr) };
  }
}

const images = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy')));
/** The first n images as a uint8 [n, 28, 28] .npy, as the sample data ships. */
function subset(n: number, file: string): string {
  const path = join(dir, file);
  writeFileSync(path, writeNpy({ dtype: 'uint8', shape: [n, 28, 28], data: (images.data as Uint8Array).slice(0, n * 784) }));
  return path;
}

/** The session run directly, one sample at a time. */
async function direct(modelBytes: Uint8Array, n: number): Promise<Float32Array> {
  const s = await createFloatSession(modelBytes);
  const out = new Float32Array(n * 10);
  try {
    const x = toFloat32(images);
    for (let i = 0; i < n; i++) out.set((await s.run({ image: { shape: [1, 1, 28, 28], data: x.slice(i * 784, (i + 1) * 784) } })).logits.data, i * 10);
    return out;
  } finally {
    await s.release();
  }
}

/** The model with a symbolic batch axis, so the command batches samples into one run. */
function symbolicBatch(): string {
  const m = readOnnx(new Uint8Array(readFileSync(MODEL)));
  const g = m.graph;
  const path = join(dir, 'fm_dynamic.onnx');
  writeFileSync(path, writeOnnx({
    ...m,
    graph: {
      ...g,
      inputs: g.inputs.map((i) => ({ ...i, shape: ['N', ...(i.shape ?? []).slice(1)] })),
      outputs: g.outputs.map((o) => ({ ...o, shape: ['N', ...(o.shape ?? []).slice(1)] })),
      valueInfo: new Map(),
    },
  }));
  return path;
}

function expectClose(a: Float32Array, b: Float32Array) {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  expect(worst).toBeLessThan(1e-5);
}

describe('fixpoint run', () => {
  it('runs every sample (the model fixes batch 1: one run each) and writes each output with the samples first', async () => {
    const out = join(dir, 'fm');
    const r = await cli(MODEL, '--input', subset(37, 'x37.npy'), '--out', out, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.samples).toBe(37);
    expect(j.outputs).toEqual([{ name: 'logits', file: 'logits.npy', shape: [37, 10], fix_point: null }]);
    expect(j.ms_per_sample).toBeGreaterThan(0);
    const y = parseNpy(new Uint8Array(readFileSync(join(out, 'logits.npy'))));
    expect(y.dtype).toBe('float32');
    expect(y.shape).toEqual([37, 10]);
    expectClose(y.data as Float32Array, await direct(new Uint8Array(readFileSync(MODEL)), 37));
  });
  it('batches samples along axis 0 when the batch axis is symbolic (37 = 16 + 16 + 5)', async () => {
    const r = await cli(symbolicBatch(), '--input', subset(37, 'x37.npy'), '--out', join(dir, 'dyn'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).outputs[0].shape).toEqual([37, 10]);
    const y = parseNpy(new Uint8Array(readFileSync(join(dir, 'dyn', 'logits.npy'))));
    expectClose(y.data as Float32Array, await direct(new Uint8Array(readFileSync(MODEL)), 37));
  });
  it('an array of one sample\'s shape is one sample', async () => {
    const one = join(dir, 'one.npy');
    writeFileSync(one, writeNpy({ dtype: 'float32', shape: [1, 28, 28], data: toFloat32(images).slice(0, 784) }));
    const r = await cli(MODEL, '--input', one, '--out', join(dir, 'one'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).outputs[0].shape).toEqual([1, 10]);
    const y = parseNpy(new Uint8Array(readFileSync(join(dir, 'one', 'logits.npy'))));
    expectClose(y.data as Float32Array, await direct(new Uint8Array(readFileSync(MODEL)), 1));
  });
  it('reports the fix point of a QDQ model\'s outputs', async () => {
    const model = readOnnx(new Uint8Array(readFileSync(MODEL)));
    const spec = inputSpecFromShape('image', model.graph.inputs[0].shape ?? []);
    const calib = samplesFromFiles([{ name: 'c.npy', bytes: readFileSync(subset(8, 'c8.npy')) }], spec);
    const q = await quantizeModel(model, () => batches(calib, spec), parseQuantConfig({}), { skipEvaluation: true });
    const path = join(dir, 'qdq.onnx');
    const bytes = writeOnnx(exportQdq(q.model, q.tensors).model);
    writeFileSync(path, bytes);
    const r = await cli(path, '--input', subset(5, 'x5.npy'), '--out', join(dir, 'q'), '--json');
    expect(r.code).toBe(0);
    const fp = q.tensors.get('logits')?.fixPoint;
    expect(typeof fp).toBe('number');
    expect(JSON.parse(r.stdout).outputs[0].fix_point).toBe(fp);
    const y = parseNpy(new Uint8Array(readFileSync(join(dir, 'q', 'logits.npy'))));
    expectClose(y.data as Float32Array, await direct(bytes, 5));
    // Every value lies on the output's power-of-two grid.
    for (const v of y.data as Float32Array) expect(Number.isInteger(v * 2 ** fp!)).toBe(true);
  });
  it('names output files with characters outside [A-Za-z0-9_.-] replaced', () => {
    expect(outputFileName('a/b:c d.e-f_1')).toBe('a_b_c_d.e-f_1.npy');
  });
  it('bad input exits 2 with a one-line error', async () => {
    const wrong = join(dir, 'wrong.npy');
    writeFileSync(wrong, writeNpy({ dtype: 'float32', shape: [3, 27, 28], data: new Float32Array(3 * 27 * 28) }));
    const cases: [string[], RegExp][] = [
      [[MODEL, '--out', dir], /--input is required/],
      [[MODEL, '--input', wrong, '--out', dir], /wrong\.npy has shape \[3, 27, 28\]; the model input takes samples of shape \[1, 28, 28\]/],
      [[MODEL, '--input', 'nope.npy', '--out', dir], /cannot read nope\.npy/],
      [['public/calib/ATTRIBUTION.md', '--input', wrong, '--out', dir], /./],
    ];
    for (const [args, re] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
  });
});
