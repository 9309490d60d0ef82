import { describe, expect, it } from 'vitest';
import { quantError } from '../../src/core/quant/fixpoint';
import { addToHistogram, newHistogram, totalCount, absHistogram } from '../../src/core/quant/calibrate/histogram';
import {
  combineFixPoints, diffsFixPoint, entropyThreshold, maxminFixPoint, mseThreshold, percentileThreshold,
} from '../../src/core/quant/calibrate/methods';
import { chooseFixPoint, clippedFraction, newTensorStats, observe } from '../../src/core/quant/calibrate/stats';

/** Deterministic normal samples (Box–Muller over a LCG). */
function gaussian(n: number, sigma = 1, seed = 1): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = sigma * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

describe('maxmin (non-overflow)', () => {
  it('follows step = max(min/-128.5, max/127.5), fp = floor(log2(1/step))', () => {
    expect(maxminFixPoint(-1, 1)).toBe(6); // 127.5 → log2 6.99
    expect(maxminFixPoint(0, 255)).toBe(-1); // raw pixels
    expect(maxminFixPoint(-128.5 / 128, 0)).toBe(7); // exactly reaches -128 at fp 7
    expect(maxminFixPoint(0, 1000)).toBe(-3);
    expect(maxminFixPoint(0, 1e-9)).toBe(12); // capped at 12 for 8 bits
    expect(maxminFixPoint(0, 0)).toBeUndefined();
  });
});

describe('diffs (MinMSE)', () => {
  it('picks the candidate fp with the least squared error, better than non-overflow when outliers exist', () => {
    const x = gaussian(20000, 0.1);
    x[0] = 10; // one outlier: maxmin would waste the range
    const d = diffsFixPoint(x)!;
    expect(maxminFixPoint(-10, 10)).toBe(3);
    expect(d.errors.map((e) => e.fp)).toEqual([3, 4, 5, 6, 7]);
    const brute = d.errors.reduce((a, b) => (b.sse < a.sse ? b : a));
    expect(d.fixPoint).toBe(brute.fp);
    expect(d.fixPoint).toBeGreaterThan(3);
    for (const e of d.errors) expect(e.sse).toBeCloseTo(quantError(x, e.fp), 6);
  });
  it('keeps fp0 for a uniform distribution that a larger fp would clip heavily', () => {
    const x = Float32Array.from({ length: 1001 }, (_, i) => (-1 + i / 500) * 1.9);
    expect(diffsFixPoint(x)!.fixPoint).toBe(6);
  });
});

describe('combining per-batch positions', () => {
  it('modal, max, mean, median', () => {
    const fps = [5, 6, 6, 7, 6, 5, 9];
    expect(combineFixPoints(fps, 'modal')).toBe(6);
    expect(combineFixPoints(fps, 'max')).toBe(9);
    expect(combineFixPoints(fps, 'mean')).toBe(6); // 44/7 = 6.29
    expect(combineFixPoints(fps, 'median')).toBe(6);
    expect(combineFixPoints([4, 5], 'modal')).toBe(4);
  });
});

describe('histogram', () => {
  it('grows by doubling without losing counts', () => {
    const h = newHistogram();
    addToHistogram(h, [0.1, -0.2, 0]);
    expect(h.range).toBe(0.25);
    addToHistogram(h, [3, -7.9, 0.05]);
    expect(h.range).toBe(8);
    expect(totalCount(h)).toBe(6);
    const abs = absHistogram(h);
    // 0.1 and 0.05 both fall in the first 2 |x| bins of width 8/2048
    expect(abs.reduce((a, b) => a + b, 0)).toBe(6);
  });
});

describe('histogram methods', () => {
  const h = newHistogram();
  const x = gaussian(200000, 1, 7);
  addToHistogram(h, x);
  it('percentile: 99.99 % of |N(0,1)| lies below ≈3.89', () => {
    expect(percentileThreshold(h, 99.99)!).toBeGreaterThan(3.6);
    expect(percentileThreshold(h, 99.99)!).toBeLessThan(4.3);
    expect(percentileThreshold(h, 95)!).toBeCloseTo(1.96, 1);
  });
  it('mse: the 8-bit MSE-optimal clip of N(0,1) is ≈ 4 σ (Banner et al.)', () => {
    const t = mseThreshold(h)!;
    expect(t).toBeGreaterThan(3.3);
    expect(t).toBeLessThan(4.5);
  });
  it('entropy (KL): clips well inside the max of N(0,1)', () => {
    const t = entropyThreshold(h)!;
    let max = 0;
    for (const v of x) max = Math.max(max, Math.abs(v));
    expect(t).toBeGreaterThan(2);
    expect(t).toBeLessThan(max);
  });
});

describe('tensor statistics', () => {
  it('a ReLU-like activation observed in batches gets the modal per-batch diffs fp', () => {
    const s = newTensorStats();
    for (let b = 0; b < 5; b++) observe(s, gaussian(5000, 1, b + 1).map((v) => Math.max(0, v)));
    const c = chooseFixPoint(s, { method: 'diffs', bitWidth: 8, statistic: 'modal', percentage: 99.99 });
    expect(s.batchFps.diffs).toHaveLength(5);
    expect(c.fixPoint).toBe(combineFixPoints(s.batchFps.diffs, 'modal'));
    expect(c.fixPoint).toBeGreaterThanOrEqual(4);
    const mm = chooseFixPoint(s, { method: 'maxmin', bitWidth: 8, statistic: 'max', percentage: 99.99 });
    expect(clippedFraction(s, mm.fixPoint)).toBeLessThan(1e-3);
    expect(clippedFraction(s, c.fixPoint + 3)).toBeGreaterThan(0.01);
  });
  it('an all-zero tensor gets the sentinel', () => {
    const s = newTensorStats();
    observe(s, new Float32Array(100));
    const c = chooseFixPoint(s, { method: 'diffs', bitWidth: 8, statistic: 'modal', percentage: 99.99 });
    expect(c.allZero).toBe(true);
    expect(c.fixPoint).toBe(12);
  });
  it('raw 0..255 pixels get fp -1', () => {
    const s = newTensorStats();
    observe(s, Float32Array.from({ length: 784 }, (_, i) => i % 256));
    expect(chooseFixPoint(s, { method: 'diffs', bitWidth: 8, statistic: 'modal', percentage: 99.99 }).fixPoint).toBe(-1);
  });
});
