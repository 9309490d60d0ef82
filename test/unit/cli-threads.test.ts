// `fixpoint simulate` / `evaluate --threads N`: the samples split over worker threads give the results of one
// thread (outputs byte for byte, agreement, predictions), and `simulate` of the quantizer's _int.xmodel
// gives the outputs of the QDQ model written beside it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy, writeNpy } from '../../src/core/data/npy';
import { ranges } from '../../src/cli/parallel';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fixpoint-threads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const own = (s: string) => s.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('npx', ['tsx', 'src/cli/main.ts', ...args], { timeout: 300_000 });
    return { code: 0, stdout, stderr: own(stderr) };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: own(x.stderr) };
  }
}

const N = 40;
const q = join(dir, 'q');
const qdq = join(q, 'fmnist_seed000_qdq.onnx');
const data = join(dir, 'eval.npy');
const labels = join(dir, 'labels.npy');
/** The JSON without what depends on timing. */
const stable = (s: string) => JSON.parse(s, (k, v) => (k === 'ms' || k === 'ms_per_sample' || k === 'samples_per_s' || k === 'threads' || k === 'kernel_threads' ? undefined : v));

beforeAll(async () => {
  const r = await cli('quantize', 'public/models/fmnist_seed000.onnx', '--calib', 'public/calib/fmnist_calib200.npy', '--calib-count', '32', '--out', q, '--json');
  expect(r.code, r.stderr).toBe(0);
  const x = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000.npy')));
  const y = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000_labels.npy')));
  writeFileSync(data, writeNpy({ dtype: 'uint8', shape: [N, 28, 28], data: (x.data as Uint8Array).slice(0, N * 784) }));
  writeFileSync(labels, writeNpy({ dtype: y.dtype, shape: [N], data: (y.data as Uint8Array).slice(0, N) }));
}, 300_000);

describe('--threads', () => {
  it('splits samples into contiguous ranges, at most one per sample', () => {
    expect(ranges(40, 3)).toEqual([[0, 13], [13, 26], [26, 40]]);
    expect(ranges(2, 4)).toEqual([[0, 1], [1, 2]]);
    expect(ranges(5, 1)).toEqual([[0, 5]]);
  });

  it('simulate on 3 threads writes the outputs and report of 1 thread, and the golden files of sample 0', async () => {
    const one = await cli('simulate', qdq, '--input', data, '--out', join(dir, 'o1'), '--threads', '1', '--json');
    const three = await cli('simulate', qdq, '--input', data, '--out', join(dir, 'o3'), '--dump', join(dir, 'g3'), '--threads', '3', '--json');
    expect(one.code, one.stderr).toBe(0);
    expect(three.code, three.stderr).toBe(0);
    expect([JSON.parse(one.stdout).threads, JSON.parse(three.stdout).threads]).toEqual([1, 3]);
    // Split over worker threads, every shard's kernels run on its own thread; --threads 1 means one thread.
    expect([JSON.parse(one.stdout).kernel_threads, JSON.parse(three.stdout).kernel_threads]).toEqual([1, 1]);
    expect(stable(three.stdout)).toEqual(stable(one.stdout));
    const outs = JSON.parse(one.stdout).outputs as { file: string; shape: number[] }[];
    expect(outs[0].shape).toEqual([N, 10]);
    for (const o of outs) expect(readFileSync(join(dir, 'o3', o.file))).toEqual(readFileSync(join(dir, 'o1', o.file)));
    expect(JSON.parse(readFileSync(join(dir, 'g3', 'index.json'), 'utf8')).length).toBeGreaterThan(0);
  }, 300_000);

  it('simulate of samples that run in one shard gives the kernels the threads', async () => {
    const one = join(dir, 'one.npy');
    writeFileSync(one, writeNpy({ dtype: 'uint8', shape: [1, 28, 28], data: (parseNpy(new Uint8Array(readFileSync(data))).data as Uint8Array).slice(0, 784) }));
    const r = await cli('simulate', qdq, '--input', one, '--out', join(dir, 'k2'), '--threads', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect([JSON.parse(r.stdout).threads, JSON.parse(r.stdout).kernel_threads]).toEqual([1, 2]);
    const ref = await cli('simulate', qdq, '--input', one, '--out', join(dir, 'k1'), '--threads', '1', '--json');
    expect(JSON.parse(ref.stdout).kernel_threads).toBe(1);
    expect(readFileSync(join(dir, 'k2', 'logits.npy'))).toEqual(readFileSync(join(dir, 'k1', 'logits.npy')));
  }, 300_000);

  it('evaluate on 2 threads gives the predictions of 1 thread', async () => {
    const one = await cli('evaluate', qdq, '--data', data, '--labels', labels, '--threads', '1', '--json');
    const two = await cli('evaluate', qdq, '--data', data, '--labels', labels, '--threads', '2', '--json');
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    expect(JSON.parse(two.stdout)).toEqual(JSON.parse(one.stdout));
    expect(JSON.parse(one.stdout).samples).toBe(N);
  }, 300_000);

  it('refuses a bad --threads in one line', async () => {
    const r = await cli('simulate', qdq, '--input', data, '--out', join(dir, 'bad'), '--threads', '0');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('error: --threads must be an integer from 1 to 64, got "0"');
  }, 120_000);
});

describe('simulate of the _int.xmodel `fixpoint quantize` wrote', () => {
  it('gives the int8 outputs of the QDQ model beside it', async () => {
    const x = await cli('simulate', join(q, 'fmnist_seed000_int.xmodel'), '--input', data, '--out', join(dir, 'ox'), '--threads', '2', '--json');
    expect(x.code, x.stderr).toBe(0);
    const jx = JSON.parse(x.stdout);
    expect(jx.outputs.map((o: { shape: number[]; fix_point: number }) => [o.shape, o.fix_point])).toEqual(
      JSON.parse((await cli('simulate', qdq, '--input', data, '--out', join(dir, 'oq'), '--threads', '1', '--json')).stdout).outputs.map((o: { shape: number[]; fix_point: number }) => [o.shape, o.fix_point]));
    expect(readFileSync(join(dir, 'ox', jx.outputs[0].file))).toEqual(readFileSync(join(dir, 'oq', 'logits.npy')));
    expect(jx.tensors.every((t: { identical_fraction_vs_fake_quant: number }) => t.identical_fraction_vs_fake_quant === 1)).toBe(true);
  }, 300_000);
});
