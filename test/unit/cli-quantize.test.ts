import { execFile } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { encode as encodePng } from 'fast-png';
import { mkdirSync } from 'node:fs';
import { parseNpy, writeNpy } from '../../src/core/data/npy';
import { readOnnx } from '../../src/core/onnx/reader';
import { importQdq } from '../../src/core/quant/qdq';
import { readXModel } from '../../src/core/xmodel/codec';
import { checkXModelOps } from '../../src/core/xmodel/opdef-check';
import { opFixPoint } from '../../src/core/xmodel/types';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fixpoint-quantize-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** npx itself may warn about the environment's npm config; that is not the command's output. */
const own = (s: string) => s.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'src/cli/main.ts', 'quantize', ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr: own(stderr) };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: own(x.stderr) };
  }
}

describe('fixpoint quantize', () => {
  it('writes the QDQ model, quant_info.json and report.json, and prints the --json summary', async () => {
    const out = join(dir, 'fm');
    const r = await cli('public/models/fmnist_seed000.onnx', '--calib', 'public/calib/fmnist_calib200.npy', '--calib-count', '16', '--out', out, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.tensors).toBe(10);
    expect(j.fix_points.image).toBe(-1);
    expect(Array.isArray(j.adjustments)).toBe(true);
    expect(j.worst_layers).toHaveLength(3);
    expect(j.worst_layers[0].sqnr_db).toBeGreaterThan(15);
    const info = JSON.parse(readFileSync(join(out, 'quant_info.json'), 'utf8'));
    expect(info.image).toEqual([8, -1]);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.calibration_samples).toBe(16);
    expect(report.tensors['conv.weight']).toMatchObject({ data_type: 'weights', bit_width: 8, method: 'diffs' });
    expect(report.layers.map((l: { op: string }) => l.op)).toEqual(['Conv', 'Gemm', 'Gemm']);
    const qdq = importQdq(readOnnx(new Uint8Array(readFileSync(join(out, 'fmnist_seed000_qdq.onnx')))));
    for (const [name, [, fp]] of Object.entries(info as Record<string, [number, number]>)) expect(qdq.fixPoints.get(name)?.fixPoint).toBe(fp);
    // The _int.xmodel for vai_c_xir: XIR ops only, the same fix points (image's fix and each weight's).
    expect(j.int_xmodel).toBe(join(out, 'fmnist_seed000_int.xmodel'));
    const x = readXModel(new Uint8Array(readFileSync(j.int_xmodel)));
    expect(checkXModelOps(x)).toEqual([]);
    const fixOf = (op: string) => x.ops.find((o) => o.type === 'fix' && o.args[0].ops[0] === op);
    expect(fixOf('image') && opFixPoint(fixOf('image')!)).toBe(-1);
    expect(fixOf('conv.weight') && opFixPoint(fixOf('conv.weight')!)).toBe(info['conv.weight'][1]);
  });
  it('takes a config and a preprocess file', async () => {
    const cfg = join(dir, 'q.json');
    const pre = join(dir, 'p.json');
    writeFileSync(cfg, JSON.stringify({ tensor_quantize_config: { activation: { method: 'maxmin' } } }));
    writeFileSync(pre, JSON.stringify({ scale: 0.5 }));
    const r = await cli('public/models/fmnist_seed000.onnx', '--calib', 'public/calib/fmnist_calib200.npy', '--calib-count', '8', '--config', cfg, '--preprocess', pre, '--out', join(dir, 'p'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).fix_points.image).toBe(0); // pixels halved: 0..127.5
    expect(JSON.parse(readFileSync(join(dir, 'p', 'report.json'), 'utf8')).tensors['/Relu_output_0'].method).toBe('maxmin');
  });
  it('calibrates from a folder of PNG images', async () => {
    const imgs = join(dir, 'imgs');
    mkdirSync(imgs);
    const a = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy')));
    for (let i = 0; i < 4; i++)
      writeFileSync(join(imgs, `im${i}.png`), encodePng({ width: 28, height: 28, channels: 1, depth: 8, data: (a.data as Uint8Array).slice(i * 784, (i + 1) * 784) }));
    writeFileSync(join(imgs, 'README.txt'), 'not an image');
    const r = await cli('public/models/fmnist_seed000.onnx', '--calib', imgs, '--out', join(dir, 'i'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'i', 'report.json'), 'utf8')).calibration_samples).toBe(4);
    expect(JSON.parse(r.stdout).fix_points.image).toBe(-1);
  });
  it('takes the images of a folder that also holds arrays, saying which files it left out', async () => {
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    const a = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy')));
    for (let i = 0; i < 2; i++)
      writeFileSync(join(mixed, `im${i}.png`), encodePng({ width: 28, height: 28, channels: 1, depth: 8, data: (a.data as Uint8Array).slice(i * 784, (i + 1) * 784) }));
    writeFileSync(join(mixed, 'digits.npy'), readFileSync('public/demo/mnist_test20.npy'));
    const r = await cli('public/models/fmnist_seed000.onnx', '--calib', mixed, '--out', join(dir, 'mx'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/on 2 samples/);
    expect(r.stderr).toMatch(/^note: calibrating on the 2 image\(s\) in .*mixed; ignoring digits\.npy/m);
  });
  it('reads a calibration .npy a batch at a time: a 4.7 GB (sparse) file with --calib-count 16 calibrates as its first 16 samples', async () => {
    const images = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy')));
    const first = (images.data as Uint8Array).slice(0, 16 * 784);
    const small = join(dir, 'first16.npy');
    writeFileSync(small, writeNpy({ dtype: 'uint8', shape: [16, 28, 28], data: first }));
    // The header of 6 million samples, the first 16 written, the rest a hole: more than Node can read
    // into one buffer (2 GiB), so only a reader that seeks gets through it.
    const n = 6_000_000;
    const head = writeNpy({ dtype: 'uint8', shape: [n, 28, 28], data: new Uint8Array(0) });
    const big = join(dir, 'huge.npy');
    const fd = openSync(big, 'w');
    try {
      writeSync(fd, head);
      writeSync(fd, first);
      ftruncateSync(fd, head.length + n * 784);
    } finally {
      closeSync(fd);
    }
    const a = await cli('public/models/fmnist_seed000.onnx', '--calib', small, '--out', join(dir, 'small'), '--json');
    const b = await cli('public/models/fmnist_seed000.onnx', '--calib', big, '--calib-count', '16', '--out', join(dir, 'huge'), '--json');
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout).fix_points).toEqual(JSON.parse(a.stdout).fix_points);
    expect(readFileSync(join(dir, 'huge', 'quant_info.json'), 'utf8')).toBe(readFileSync(join(dir, 'small', 'quant_info.json'), 'utf8'));
    expect(readFileSync(join(dir, 'huge', 'fmnist_seed000_qdq.onnx')).equals(readFileSync(join(dir, 'small', 'fmnist_seed000_qdq.onnx')))).toBe(true);
  });

  it('bad input exits 2 with a one-line error', async () => {
    const arrays = join(dir, 'arrays');
    mkdirSync(arrays);
    writeFileSync(join(arrays, 'a.npy'), readFileSync('public/demo/mnist_test20.npy'));
    writeFileSync(join(arrays, 'b.npy'), readFileSync('public/demo/mnist_test20.npy'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ tensor_quantize_config: { activation: { method: 'kl' } } }));
    const cases: [string[], RegExp][] = [
      [['public/models/fmnist_seed000.onnx', '--out', dir], /--calib is required/],
      [['public/models/fmnist_seed000.onnx', '--calib', 'nope.npy', '--out', dir], /cannot read nope.npy/],
      [['public/models/fmnist_seed000.onnx', '--calib', 'public/calib/fmnist_calib200.npy', '--config', bad, '--out', dir], /tensor_quantize_config\.activation\.method: expected one of/],
      [['public/models/fmnist_seed000.onnx', '--calib', 'public/calib/ATTRIBUTION.md', '--out', dir], /no calibration data/],
      [['public/models/fmnist_seed000.onnx', '--calib', 'public/calib/fmnist_calib200.npy', '--calib-count', 'x', '--out', dir], /--calib-count must be a positive integer/],
      [['public/models/fmnist_seed000.onnx', '--calib', arrays, '--out', dir], /holds 2 arrays and no images \(a\.npy, b\.npy\): give one of them as --calib FILE/],
    ];
    for (const [args, msg] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(join(dir, 'quant_info.json'))).toBe(false);
  });
});
