// Runs the real `fixpoint` entry point (through tsx, no build needed) as a child process.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildOnnx, tensor } from '../../src/core/onnx/build';
import { ProtoWriter } from '../../src/core/onnx/wire';

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

const dir = mkdtempSync(join(tmpdir(), 'fixpoint-inspect-'));
function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** The user-error contract: exit 2, nothing on stdout, exactly one `error: …` line on stderr. */
function expectUserError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
}

// Concurrent: each case is a separate Node process, mostly start-up time.
describe.concurrent('fixpoint inspect', () => {
  it('--json prints the documented object for mnist-8', async () => {
    const r = await fixpoint('inspect', 'public/models/mnist-8.onnx', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['format', 'opset', 'producer', 'nodes', 'ops', 'params', 'macs', 'inputs', 'outputs']);
    expect(j).toMatchObject({ format: 'onnx', opset: 8, producer: 'CNTK', nodes: 12, params: 5998, macs: 786560 });
    expect(j.ops).toEqual({ Reshape: 2, Conv: 2, Add: 3, Relu: 2, MaxPool: 2, MatMul: 1 });
    expect(j.inputs).toEqual([{ name: 'Input3', shape: [1, 1, 28, 28], dtype: 'float32' }]);
  });

  it('prints a readable summary and per-layer table without --json', async () => {
    const r = await fixpoint('inspect', 'public/models/mnist-8.onnx');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ONNX opset 8');
    expect(r.stdout).toMatch(/nodes 12 +params .*\(5998\) +MACs .*\(786560\)/);
    expect(r.stdout).toMatch(/Input3: float32 \[1×1×28×28\]/);
    const row = r.stdout.split('\n').find((l) => l.includes('Convolution110'));
    expect(row).toMatch(/Conv +1×16×14×14 +3200 +627200$/);
  });

  it('works on a generated model with a symbolic batch', async () => {
    const p = file('gen.onnx', buildOnnx({
      inputs: { x: ['float32', ['N', 3, 8, 8]] },
      outputs: ['y'],
      initializers: { w: tensor('float32', [4, 3, 1, 1], new Array(12).fill(1)) },
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'] }],
    }));
    const r = await fixpoint('inspect', p, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.outputs).toEqual([{ name: 'y', shape: ['N', 4, 8, 8], dtype: 'float32' }]);
    expect(j.macs).toBe(4 * 8 * 8 * 3);
    expect(j.params).toBe(12);
  });

  it('rejects a PNG renamed .onnx, an empty file, random bytes and a truncated model with one line and exit 2', async () => {
    const png = file('photo.onnx', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52));
    let seed = 7;
    const noise = new Uint8Array(2048).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
    const mnist = readFileSync('public/models/mnist-8.onnx');
    const [a, b, c, d] = await Promise.all([
      fixpoint('inspect', png),
      fixpoint('inspect', file('empty.onnx', new Uint8Array(0))),
      fixpoint('inspect', file('noise.onnx', noise)),
      fixpoint('inspect', file('cut.onnx', mnist.subarray(0, 10000))),
    ]);
    expectUserError(a, /photo\.onnx is a PNG image, not an ONNX model/);
    expectUserError(b, /empty/);
    expectUserError(c, /not an ONNX model|truncated/);
    expectUserError(d, /truncated/);
  });

  it('names the external data file a model needs', async () => {
    const t = new ProtoWriter().varint(1, 4).varint(2, 1).string(8, 'w')
      .message(13, new ProtoWriter().string(1, 'location').string(2, 'model.onnx.data')).varint(14, 1);
    const node = new ProtoWriter().string(1, 'w').string(2, 'y').string(4, 'Identity');
    const g = new ProtoWriter().message(1, node).message(5, t)
      .message(12, new ProtoWriter().string(1, 'y').message(2, new ProtoWriter().message(1, new ProtoWriter().varint(1, 1))));
    const p = file('ext.onnx', new ProtoWriter().varint(1, 8).message(7, g).message(8, new ProtoWriter().varint(2, 17)).finish());
    expectUserError(await fixpoint('inspect', p), /uses external data file "model\.onnx\.data".*save with all tensors inside the file/);
  });

  it('reports a missing file and bad usage as user errors', async () => {
    const [missing, none, option] = await Promise.all([
      fixpoint('inspect', join(dir, 'nope.onnx')),
      fixpoint('inspect'),
      fixpoint('inspect', 'public/models/mnist-8.onnx', '--yaml'),
    ]);
    expectUserError(missing, /cannot read .*nope\.onnx: no such file/);
    expectUserError(none, /usage: fixpoint inspect MODEL/);
    expectUserError(option, /unknown option --yaml/);
  });

  it('the real bin (node bin/fixpoint.js) runs: dist-cli/ when built, else the source through tsx', async () => {
    const m = file('bin-small.onnx', buildOnnx({
      inputs: { x: ['float32', [1, 3, 8, 8]] }, outputs: ['y'],
      initializers: { w: tensor('float32', [4, 3, 1, 1], new Array(12).fill(0.5)) },
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] }, { op: 'Relu', inputs: ['c'], outputs: ['y'] }],
    }));
    let r: { code: number; stdout: string; stderr: string };
    try {
      const { stdout, stderr } = await run(process.execPath, ['bin/fixpoint.js', 'inspect', m, '--json']);
      r = { code: 0, stdout, stderr };
    } catch (e) {
      r = e as { code: number; stdout: string; stderr: string };
    }
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      format: 'onnx', opset: 13, producer: 'fixpoint-test', nodes: 2, ops: { Conv: 1, Relu: 1 }, params: 12,
      macs: 4 * 8 * 8 * 3, inputs: [{ name: 'x', shape: [1, 3, 8, 8], dtype: 'float32' }],
      outputs: [{ name: 'y', shape: [1, 4, 8, 8], dtype: 'float32' }],
    });
  });

  it('the bin says what to do when there is neither a build nor tsx', async () => {
    // A copy of the launcher with no dist-cli/, src/ or node_modules/ beside it.
    const lone = join(mkdtempSync(join(tmpdir(), 'fixpoint-bin-')), 'bin');
    mkdirSync(lone);
    copyFileSync('bin/fixpoint.js', join(lone, 'fixpoint.js'));
    const r = await run(process.execPath, [join(lone, 'fixpoint.js'), 'inspect', 'x.onnx']).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (e) => e as { code: number; stdout: string; stderr: string });
    expectUserError(r, /the CLI is not built and tsx is not installed; run `npm run build`/);
  });
});
