// The conformance script's own logic, run on a small tree of generated models.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildOnnx } from '../../src/core/onnx/build';
import { ProtoWriter } from '../../src/core/onnx/wire';

const run = promisify(execFile);

async function conformance(root: string): Promise<{ code: number; stdout: string }> {
  const env = { ...process.env, ONNX_TESTDATA_DIR: root };
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/conformance.ts'], { env });
    return { code: 0, stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string };
    return { code: err.code, stdout: err.stdout };
  }
}

function put(root: string, dir: string, bytes: Uint8Array): void {
  mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, dir, 'model.onnx'), bytes);
}

const relu = (declared: number[]) => buildOnnx({
  inputs: { x: ['float32', [1, 3]] },
  outputs: { y: ['float32', declared] },
  nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
});

function externalData(): Uint8Array {
  const t = new ProtoWriter().varint(1, 4).varint(2, 1).string(8, 'w')
    .message(13, new ProtoWriter().string(1, 'location').string(2, 'w.bin')).varint(14, 1);
  const node = new ProtoWriter().string(1, 'w').string(2, 'y').string(4, 'Identity');
  const g = new ProtoWriter().message(1, node).message(5, t)
    .message(12, new ProtoWriter().string(1, 'y').message(2, new ProtoWriter().message(1, new ProtoWriter().varint(1, 1))));
  return new ProtoWriter().varint(1, 8).message(7, g).message(8, new ProtoWriter().varint(2, 17)).finish();
}

describe.concurrent('scripts/conformance.ts', () => {
  it('says so and succeeds when the test data is not installed', async () => {
    const r = await conformance(join(tmpdir(), 'no-such-testdata-dir'));
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').pop()).toBe('conformance: 0 passed, 0 failed (libonnx-testdata not installed)');
  });

  it('passes good models and documented rejections, fails wrong shapes and broken files', async () => {
    const root = mkdtempSync(join(tmpdir(), 'conformance-'));
    put(root, 'node/test_good', relu([1, 3]));
    put(root, 'node/test_external', externalData());
    put(root, 'node/test_wrong_shape', relu([1, 4]));
    put(root, 'real/test_truncated', relu([1, 3]).subarray(0, 30));
    const r = await conformance(root);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.pop()).toBe('conformance: 2 passed, 2 failed');
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([
      'FAIL node/test_wrong_shape/model.onnx: y: inferred [1,3], declared [1,4]',
      expect.stringMatching(/^FAIL real\/test_truncated\/model\.onnx: rejected: the file is truncated/),
    ]);
    expect(r.stdout).toMatch(/expected rejections \(1\):\n {2}node\/test_external\/model\.onnx: .*uses external data file "w\.bin"/);
  });

  it('lists outputs left unknown per op type, and fails a common CNN op left unknown from known input shapes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'conformance-'));
    // A Reshape target of symbolic length: the output's rank cannot be found, though every input's shape is known.
    put(root, 'node/test_reshape_unknown', buildOnnx({
      inputs: { x: ['float32', [2, 3]], s: ['int64', ['n']] },
      outputs: ['y'],
      nodes: [{ op: 'Reshape', inputs: ['x', 's'], outputs: ['y'] }],
    }));
    // An op of another domain may stay unknown: it is listed, not failed.
    put(root, 'node/test_custom', buildOnnx({
      inputs: { x: ['float32', [2, 3]] },
      outputs: ['y'],
      extraOpsets: [{ domain: 'com.example', version: 1 }],
      nodes: [{ op: 'Foo', domain: 'com.example', inputs: ['x'], outputs: ['t'] }, { op: 'Relu', inputs: ['t'], outputs: ['y'] }],
    }));
    const r = await conformance(root);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.pop()).toBe('conformance: 1 passed, 1 failed');
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([
      'FAIL node/test_reshape_unknown/model.onnx: Reshape "Reshape_0" output y stays unknown though its inputs\' shapes are known ([2,3], [n])',
    ]);
    // Relu after the unknown op is unknown too, but its input was not known: no failure for it.
    expect(lines).toContain('node outputs left unknown, by op type (3 in all): com.example::Foo 1, Relu 1, Reshape 1');
  });
});
