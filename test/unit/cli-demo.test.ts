// `fixpoint simulate --task classify` and `fixpoint evaluate` through the real command on the quantized
// Fashion-MNIST sample: top-5 with label names for float and int8, accuracy and confusion matrices
// checked against the simulator's own `--out` outputs and onnxruntime's `fixpoint run`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy, writeNpy } from '../../src/core/data/npy';
import { argmax } from '../../src/core/demo/classify';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fixpoint-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const own = (s: string) => s.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'src/cli/main.ts', ...args], { timeout: 180_000 });
    return { code: 0, stdout, stderr: own(stderr) };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: own(x.stderr) };
  }
}

const N = 40;
const FLOAT = 'public/models/fmnist_seed000.onnx';
const qdq = join(dir, 'q', 'fmnist_seed000_qdq.onnx');
const one = join(dir, 'one.npy');
const data = join(dir, 'x.npy');
const labelsFile = join(dir, 'y.npy');
const FASHION = readFileSync('public/labels/fashion_mnist.txt', 'utf8').trim().split('\n');

beforeAll(async () => {
  const q = await cli('quantize', FLOAT, '--calib', 'public/calib/fmnist_calib200.npy', '--calib-count', '32', '--out', join(dir, 'q'), '--json');
  expect(q.code, q.stderr).toBe(0);
  const x = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000.npy'))).data as Uint8Array;
  const y = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000_labels.npy'))).data as Uint8Array;
  writeFileSync(one, writeNpy({ dtype: 'uint8', shape: [1, 28, 28], data: x.slice(0, 784) }));
  writeFileSync(data, writeNpy({ dtype: 'uint8', shape: [N, 28, 28], data: x.slice(0, N * 784) }));
  writeFileSync(labelsFile, writeNpy({ dtype: 'uint8', shape: [N], data: y.slice(0, N) }));
}, 180_000);

describe('fixpoint simulate --task classify', () => {
  it('prints float and int8 top-5 with Fashion-MNIST names; int8 top-1 is the simulator output\'s argmax', async () => {
    const r = await cli('simulate', qdq, '--input', one, '--task', 'classify', '--float', FLOAT, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.task).toBe('classify');
    for (const side of [j.float, j.int8]) {
      expect(side).toHaveLength(5);
      for (const t of side) {
        expect(Object.keys(t).sort()).toEqual(['class', 'label', 'score']);
        expect(t.label).toBe(FASHION[t.class]);
      }
      const scores = side.map((t: { score: number }) => t.score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    }
    const out = join(dir, 'sim');
    const s = await cli('simulate', qdq, '--input', one, '--out', out, '--json');
    expect(s.code, s.stderr).toBe(0);
    const y = parseNpy(new Uint8Array(readFileSync(join(out, JSON.parse(s.stdout).outputs[0].file)))).data as Float32Array;
    expect(j.int8[0].class).toBe(argmax(y));
    const f = await cli('run', FLOAT, '--input', one, '--out', join(dir, 'float'), '--json');
    const fy = parseNpy(new Uint8Array(readFileSync(join(dir, 'float', JSON.parse(f.stdout).outputs[0].file)))).data as Float32Array;
    expect(j.float[0].class).toBe(argmax(fy));
  }, 120_000);

  it('names a bad task and a multi-sample input', async () => {
    const bad = await cli('simulate', qdq, '--input', one, '--task', 'segment');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--task must be one of classify, detect-yolox, detect-retinaface, not "segment"/);
    const many = await cli('simulate', qdq, '--input', data, '--task', 'classify');
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(/holds 40 samples; --task reads one/);
  }, 120_000);
});

describe('fixpoint evaluate', () => {
  it('prints both accuracies and confusion matrices that agree with them', async () => {
    const r = await cli('evaluate', qdq, '--data', data, '--labels', labelsFile, '--float', FLOAT, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.samples).toBe(N);
    for (const [key, m] of [['float_top1', j.confusion.float], ['int8_top1', j.confusion.int8]] as const) {
      expect(m).toHaveLength(10);
      const total = m.flat().reduce((a: number, b: number) => a + b, 0);
      const diag = m.reduce((a: number, row: number[], i: number) => a + row[i], 0);
      expect(total).toBe(N);
      expect(j[key]).toBeCloseTo(diag / N, 12);
      expect(j[key]).toBeGreaterThan(0.7);
    }
  }, 120_000);

  it('refuses labels that do not match the samples', async () => {
    const short = join(dir, 'short.npy');
    writeFileSync(short, writeNpy({ dtype: 'uint8', shape: [3], data: new Uint8Array([1, 2, 3]) }));
    const r = await cli('evaluate', qdq, '--data', data, '--labels', short);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/short\.npy holds 3 labels for 40 samples/);
  }, 120_000);
});
