// `fixpoint simulate` through the real command: quantize the Fashion-MNIST sample with the CLI, then
// simulate a few evaluation images and check the JSON, the .npy outputs and the golden files.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy, writeNpy } from '../../src/core/data/npy';
import { readOnnx } from '../../src/core/onnx/reader';
import { dequantizeModel } from '../../src/core/sim/dpu/source';
import { runFloat } from '../../src/core/sim/float/interpreter';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fixpoint-simulate-'));
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

const N = 4;
const qdq = join(dir, 'q', 'fmnist_seed000_qdq.onnx');
const input = join(dir, 'eval4.npy');
const labels = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000_labels.npy')));

beforeAll(async () => {
  const q = await cli('quantize', 'public/models/fmnist_seed000.onnx', '--calib', 'public/calib/fmnist_calib200.npy', '--calib-count', '32', '--out', join(dir, 'q'), '--json');
  expect(q.code, q.stderr).toBe(0);
  const evalSet = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000.npy')));
  writeFileSync(input, writeNpy({ dtype: 'uint8', shape: [N, 28, 28], data: (evalSet.data as Uint8Array).slice(0, N * 784) }));
}, 180_000);

describe('fixpoint simulate', () => {
  it('writes each output as .npy, the golden files, and the --json report; every DPU tensor equals fake-quant', async () => {
    const out = join(dir, 'out');
    const dump = join(dir, 'golden');
    const r = await cli('simulate', qdq, '--input', input, '--out', out, '--dump', dump, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j).sort()).toEqual(['kernel_threads', 'ms_per_sample', 'outputs', 'samples', 'samples_per_s', 'subgraphs', 'tensors', 'threads']);
    expect(j.samples).toBe(N);
    expect(j.ms_per_sample).toBeGreaterThan(0);
    // Four samples stay on one thread by default (a worker only pays off from 64 samples each).
    expect(j.threads).toBe(1);
    expect(j.outputs).toHaveLength(1);
    const o = j.outputs[0];
    expect(Object.keys(o).sort()).toEqual(['file', 'fix_point', 'name', 'shape']);
    expect(o.file).toBe(`${o.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.npy`);
    expect(o.shape).toEqual([N, 10]);
    const y = parseNpy(new Uint8Array(readFileSync(join(out, o.file))));
    expect(y.dtype).toBe('float32');
    expect(y.shape).toEqual([N, 10]);
    if (o.fix_point !== null) {
      // int8 results dequantized by 2^-fp: integer codes in [-128, 127].
      for (const v of y.data as Float32Array) {
        const q = v * 2 ** o.fix_point;
        expect(Number.isInteger(q) && q >= -128 && q <= 127).toBe(true);
      }
    }
    // The seed network is ~88 % accurate: most of four samples are classified right.
    let right = 0;
    for (let i = 0; i < N; i++) {
      const row = Array.from((y.data as Float32Array).subarray(i * 10, i * 10 + 10));
      if (row.indexOf(Math.max(...row)) === Number(labels.data[i])) right++;
    }
    expect(right).toBeGreaterThanOrEqual(3);

    expect(j.tensors.length).toBeGreaterThan(0);
    for (const t of j.tensors) {
      expect(Object.keys(t).sort()).toEqual(['clipped_fraction_float', 'clipped_fraction_int8', 'cosine_vs_float', 'fix_point',
        'identical_fraction_vs_fake_quant', 'max_lsb_vs_fake_quant', 'name', 'sqnr_db_vs_float']);
      expect(t.identical_fraction_vs_fake_quant, t.name).toBe(1);
      expect(t.max_lsb_vs_fake_quant).toBe(0);
      expect(Number.isInteger(t.fix_point)).toBe(true);
      // Every fmnist DPU tensor has a float twin in the de-Q/DQ'd model: all measured, and close.
      expect(t.cosine_vs_float, t.name).toBeGreaterThan(0.99);
      expect(t.cosine_vs_float).toBeLessThanOrEqual(1 + 1e-12);
      expect(t.sqnr_db_vs_float, t.name).toBeGreaterThan(20);
      for (const k of ['clipped_fraction_int8', 'clipped_fraction_float']) expect(t[k] >= 0 && t[k] <= 1, `${t.name} ${k}`).toBe(true);
    }
    // The logits (the last DPU tensor), measured again here over all samples as one vector: int8 codes from
    // the written .npy, float from the interpreter on the QDQ model with its Q/DQ removed (the CLI's reference).
    const logits = j.tensors.at(-1);
    expect(logits.name).toMatch(/logits/);
    expect(logits.fix_point).toBe(o.fix_point);
    const float = dequantizeModel(readOnnx(new Uint8Array(readFileSync(qdq)))).float;
    const images = parseNpy(new Uint8Array(readFileSync(input)));
    const step = 2 ** -o.fix_point;
    let dot = 0, ff = 0, xx = 0, edge = 0, beyond = 0;
    for (let i = 0; i < N; i++) {
      const f = runFloat(float, { image: { shape: [1, 1, 28, 28], data: Float32Array.from((images.data as Uint8Array).subarray(i * 784, (i + 1) * 784)) } })[float.graph.outputs[0].name].data;
      for (let k = 0; k < 10; k++) {
        const x = (y.data as Float32Array)[i * 10 + k];
        dot += f[k] * x; ff += f[k] * f[k]; xx += x * x;
        if (x / step <= -128 || x / step >= 127) edge++;
        if (f[k] < -128.5 * step || f[k] >= 127.5 * step) beyond++;
      }
    }
    expect(logits.cosine_vs_float).toBeCloseTo(dot / Math.sqrt(ff * xx), 5);
    expect(logits.clipped_fraction_int8).toBe(edge / (N * 10));
    expect(Math.abs(logits.clipped_fraction_float - beyond / (N * 10))).toBeLessThanOrEqual(1 / (N * 10));
    expect(j.subgraphs.length).toBeGreaterThan(0);
    const dpu = j.subgraphs.filter((s: { device: string }) => s.device === 'DPU');
    expect(dpu.length).toBeGreaterThan(0);
    for (const s of j.subgraphs) expect(Object.keys(s).sort()).toEqual(['bytes_in', 'bytes_out', 'bytes_weights', 'device', 'macs', 'ms', 'name']);
    // Conv 16·3·3 on 26×26 + Dense 128 + Dense 10: at least the dense layers' MACs.
    expect(dpu.reduce((a: number, s: { macs: number }) => a + s.macs, 0)).toBeGreaterThan(16 * 9 * 26 * 26);

    expect(existsSync(join(dump, 'index.json'))).toBe(true);
    const bins = readdirSync(dump, { recursive: true }).map(String).filter((f) => f.endsWith('.bin'));
    expect(bins.length).toBeGreaterThan(0);
  });

  it('simulates the Vitis AI RetinaFace QDQ as it is: three outputs, file names without ":"', async () => {
    const x = join(dir, 'face.npy');
    const data = Float32Array.from({ length: 3 * 320 * 320 }, (_, i) => (((i * 2654435761) >>> 24) - 128) / 128);
    writeFileSync(x, writeNpy({ dtype: 'float32', shape: [1, 3, 320, 320], data }));
    const out = join(dir, 'face');
    const r = await cli('simulate', 'public/models/retinaface_vitis_qdq.onnx', '--input', x, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.outputs.map((o: { file: string }) => o.file)).toEqual(['RetinaFace__9281.npy', 'RetinaFace__9554.npy', 'RetinaFace__9551.npy']);
    for (const o of j.outputs) {
      const y = parseNpy(new Uint8Array(readFileSync(join(out, o.file))));
      expect(y.shape).toEqual(o.shape);
      expect(o.shape.slice(0, 2)).toEqual([1, 4200]);
    }
    expect(j.tensors.every((t: { identical_fraction_vs_fake_quant: number }) => t.identical_fraction_vs_fake_quant === 1)).toBe(true);
    expect(j.subgraphs.some((s: { device: string }) => s.device === 'CPU')).toBe(true);
  });

  it('prints a readable summary without --json', async () => {
    const r = await cli('simulate', qdq, '--input', input, '--board', 'KV260', '--out', join(dir, 'out2'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/simulated fmnist_seed000_qdq\.onnx on DPUCZDX8G.*: 4 sample\(s\)/);
    expect(r.stdout).toMatch(/(\d+) of \1 DPU tensors identical to the fake-quant run/);
    // The float reference each sample ran is reported in the summary too.
    const low = /lowest SQNR vs float: (\S+) (-?[\d.]+) dB \(cosine ([\d.]+), [\d.]+ % of its int8 codes/.exec(r.stdout);
    expect(low, r.stdout).not.toBeNull();
    expect(Number(low![2])).toBeGreaterThan(5);
    expect(Number(low![3])).toBeGreaterThan(0.5);
  });

  it('bad input exits 2 with a one-line error', async () => {
    const cases: [string[], RegExp][] = [
      [['simulate', 'public/models/fmnist_seed000.onnx', '--input', input, '--out', dir], /float model.*fixpoint quantize/],
      [['simulate', qdq, '--out', dir], /--input is required/],
      [['simulate', qdq, '--input', input], /--out is required/],
      [['simulate', qdq, '--input', 'nope.npy', '--out', dir], /nope\.npy/],
      [['simulate', qdq, '--input', input, '--arch', 'DPUXYZ', '--out', dir], /DPUXYZ/],
      [['simulate', qdq, '--input', input, '--arch', 'DPUCZDX8G_ISA1_B4096', '--board', 'KV260', '--out', dir], /at most one of/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
  });
});
