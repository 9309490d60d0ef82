// The `fixpoint` command on TFLite and Keras files (through tsx, as a child process).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

async function fixpoint(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: process.cwd() });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const dir = mkdtempSync(join(tmpdir(), 'fixpoint-import-'));

describe.concurrent('fixpoint on TFLite and Keras files', () => {
  it('inspect --json reports the format in the ONNX shape', async () => {
    for (const [path, format] of [
      ['public/models/person_detect.tflite', 'tflite'],
      ['test/fixtures/keras/tf2_functional.h5', 'keras-h5'],
      ['test/fixtures/keras/k3_functional.keras', 'keras'],
    ] as const) {
      const r = await fixpoint('inspect', path, '--json');
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.format).toBe(format);
      expect(j.opset).toBe(14);
      expect(j.inputs[0].shape).toHaveLength(4);
      expect(j.params).toBeGreaterThan(0);
    }
  });

  it('compiles a vai_q quantized .h5 with its own fix points', async () => {
    const r = await fixpoint('compile', 'test/fixtures/keras/vaiq_quantized.h5', '--board', 'KV260', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.subgraphs.filter((s: { device: string }) => s.device === 'DPU')).toHaveLength(1);
  });

  it('convert writes the float ONNX model that reads back with the same graph', async () => {
    const out = join(dir, 'zoo.onnx');
    const r = await fixpoint('convert', 'test/fixtures/keras/tf2_functional.h5', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*zoo\.onnx \(\d+ nodes, from keras-h5\)/);
    const back = await fixpoint('inspect', out, '--json');
    expect(JSON.parse(back.stdout)).toMatchObject({ format: 'onnx', opset: 14 });
  });

  it('a truncated .h5 and a bad .tflite: exit 2 with one error line', async () => {
    const cut = join(dir, 'cut.h5');
    writeFileSync(cut, readFileSync('test/fixtures/keras/tf2_functional.h5').subarray(0, 4000));
    const bad = join(dir, 'bad.tflite');
    const b = new Uint8Array(readFileSync('test/fixtures/tflite/hello_world_float.tflite'));
    b.set([0x41, 0x42, 0x43, 0x44], 4);
    writeFileSync(bad, b);
    for (const [p, pattern] of [[cut, /cut\.h5 is a damaged HDF5 file \(truncated file/], [bad, /bad\.tflite: the FlatBuffer identifier is "ABCD"/]] as const) {
      const r = await fixpoint('inspect', p);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
    }
  });
});
