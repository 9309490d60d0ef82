// Hostile files through the real `fixpoint` command: one `error: …` line naming the file, exit 2, whatever
// the file name or the names inside it hold.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hostileOnnx } from '../fuzz/hostile';

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

const dir = mkdtempSync(join(tmpdir(), 'fixpoint-hostile-'));

describe('fixpoint on hostile files', { concurrent: true }, () => {
  it('names a file whose name holds a newline and shell syntax, on one line', async () => {
    const name = 'evil;$(id)\nname.onnx';
    writeFileSync(join(dir, name), readFileSync('test/fixtures/fuzz/onnx-tile-reps-2p31.onnx'));
    const r = await fixpoint('inspect', join(dir, name));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: evil;$(id)\\x0aname.onnx: node "big_tile" (Tile) would make output "y" of shape [2147483648, 8589934592], more than 4294967296 elements; check its sizes\n');
  });

  it('opens a 10,000-node chain', async () => {
    writeFileSync(join(dir, 'chain.onnx'), hostileOnnx.chain(10_000));
    const r = await fixpoint('inspect', join(dir, 'chain.onnx'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).nodes).toBe(10_000);
  });

  it('compiles 2,000 nested If bodies', async () => {
    writeFileSync(join(dir, 'deep.onnx'), hostileOnnx.nestedIf(2000));
    const r = await fixpoint('compile', join(dir, 'deep.onnx'), '--arch', 'B4096', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).target).toMatch(/B4096/);
  });

  it('refuses nesting beyond the limit with a message instead of a stack trace', async () => {
    writeFileSync(join(dir, 'deeper.onnx'), hostileOnnx.nestedIf(10_001));
    const r = await fixpoint('inspect', join(dir, 'deeper.onnx'));
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: deeper\.onnx: .*control-flow bodies nest deeper than 10000 levels/);
  });
});
