// A bounded fuzz run per reader inside `npm test` (the long run is `npm run fuzz`): mutated seed files
// must open or be refused with a one-line InputError, and what opens must have possible shapes.
import { describe, expect, it } from 'vitest';
import { mutateBytes, mutateJson, rng } from '../fuzz/mutate';
import { fuzz } from '../fuzz/run';
import { TARGETS } from '../fuzz/targets';

const CASES: Record<string, number> = { onnx: 300, 'onnx-open': 150, xmodel: 150, 'xmodel-open': 60, npy: 1500, npz: 400, image: 300, 'quant-config': 600, preprocess: 600 };

describe('reader fuzzing (bounded)', () => {
  it.each(TARGETS.map((t) => [t.name, t] as const))('%s: no crash, no hang', (_, t) => {
    const c = fuzz(t, CASES[t.name] ?? 200, 20261204);
    expect(c.findings.map((f) => `${f.kind}: ${f.what}`)).toEqual([]);
    expect(c.crashes + c.hangs).toBe(0);
    // Mutations that never get through (or never get refused) would test nothing.
    expect(c.rejected).toBeGreaterThan(0);
    expect(c.accepted).toBeGreaterThan(0);
  });
});

describe('the mutator', () => {
  it('is deterministic for a seed and changes its input', () => {
    const src = Uint8Array.from({ length: 200 }, (_, i) => i);
    const a = Array.from({ length: 50 }, (_, k) => mutateBytes(src, rng(k)));
    const b = Array.from({ length: 50 }, (_, k) => mutateBytes(src, rng(k)));
    expect(a).toEqual(b);
    expect(a.filter((x) => x.length === src.length && x.every((v, i) => v === src[i])).length).toBeLessThan(5);
    expect(src[7]).toBe(7);
  });

  it('damages JSON documents without touching the seed', () => {
    const seed = { a: { b: [1, 2] }, c: 'x' };
    const r = rng(3);
    const outs = Array.from({ length: 30 }, () => JSON.stringify(mutateJson(seed, r)));
    expect(new Set(outs).size).toBeGreaterThan(10);
    expect(seed).toEqual({ a: { b: [1, 2] }, c: 'x' });
  });
});
