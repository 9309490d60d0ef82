import { describe, expect, it } from 'vitest';
import { quantError } from '../../src/core/quant/fixpoint';
import { addToHistogram, binWidth, HIST_BINS, newHistogram, totalCount, absHistogram } from '../../src/core/quant/calibrate/histogram';
import {
  combineFixPoints, diffsFixPoint, entropyThreshold, maxminFixPoint, mseThreshold, percentileThreshold,
} from '../../src/core/quant/calibrate/methods';
import { cellErrors, chooseFixPoint, clippedFraction, newTensorStats, observe, observeParts } from '../../src/core/quant/calibrate/stats';
import { samplesFromArray } from '../../src/core/data/calib';
import { inputSpecFromShape } from '../../src/core/data/preprocess';

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
    // By hand: SSE ≈ outlier clip loss (10 − 127·2^-fp)² + rounding noise 20000·(2^-fp)²/12 (σ = 0.1 spans
    // several steps from fp 4 on; at fp 3 the outlier 10 = 80 steps is exact):
    //   fp 3: 0 + 26.0   fp 4: 4.25 + 6.51 = 10.8   fp 5: 36.4 + 1.63 = 38.0
    //   fp 6: 64.3 + 0.41 = 64.7   fp 7: 81.1 + 0.10 = 81.2   → fp 4
    expect(d.fixPoint).toBe(4);
    const hand = [26.0, 10.8, 38.0, 64.7, 81.2];
    d.errors.forEach((e, k) => expect(Math.abs(e.sse - hand[k])).toBeLessThan(0.3));
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

/** An |x| histogram with the given counts in bins of width 1 (range 2048 over 4096 signed bins). */
function absCounts(counts: readonly number[]) {
  const h = newHistogram();
  h.range = HIST_BINS / 2;
  counts.forEach((c, k) => { h.counts[HIST_BINS / 2 + k] = c; });
  return h;
}

/**
 * TensorRT's KL calibration written out plainly (no prefix sums, every candidate rebuilt from scratch):
 * P = bins [0, i) with the tail added to bin i−1; Q = bins [0, i) merged into `levels` groups
 * [⌊j·i/levels⌋, ⌊(j+1)·i/levels⌋) and spread back over each group's non-empty bins; the i with the least
 * KL(P‖Q) gives the threshold (i + 0.5) bins, capped at the data's last bin.
 */
function referenceEntropyBins(abs: readonly number[], levels: number): number {
  let last = abs.length - 1;
  while (last > 0 && abs[last] === 0) last--;
  if (last + 1 <= levels) return last + 1;
  const sum = (a: readonly number[]) => a.reduce((x, y) => x + y, 0);
  let best = 0;
  let bestKl = Infinity;
  for (let i = levels; i <= last + 1; i++) {
    const p = abs.slice(0, i);
    p[i - 1] += sum(abs.slice(i));
    const q = new Array<number>(i).fill(0);
    for (let j = 0; j < levels; j++) {
      const lo = Math.floor((j * i) / levels);
      const hi = Math.floor(((j + 1) * i) / levels);
      const group = abs.slice(lo, hi);
      const nonEmpty = group.filter((v) => v > 0).length;
      for (let k = lo; k < hi; k++) q[k] = abs[k] > 0 ? sum(group) / nonEmpty : 0;
    }
    const sp = sum(p);
    const sq = sum(q);
    let kl = 0;
    for (let k = 0; k < i; k++) if (p[k] > 0) kl += q[k] === 0 ? Infinity : (p[k] / sp) * Math.log((p[k] / sp) / (q[k] / sq));
    if (kl < bestKl) { bestKl = kl; best = i; }
  }
  return Math.min(best + 0.5, last + 1);
}

describe('histogram methods', () => {
  const h = newHistogram();
  const x = gaussian(200000, 1, 7);
  addToHistogram(h, x);
  const w = binWidth(h); // 8 / 2048
  const sorted = Float64Array.from(x, Math.abs).sort();
  const quantile = (pct: number) => sorted[Math.ceil((pct / 100) * sorted.length) - 1];
  it('percentile: the upper edge of the bin holding the sample quantile (≈3.92 at 99.99 % for N(0,1))', () => {
    for (const pct of [99.99, 99, 95]) {
      const t = percentileThreshold(h, pct)!;
      expect(t).toBeGreaterThanOrEqual(quantile(pct));
      expect(t - quantile(pct)).toBeLessThanOrEqual(w);
    }
    expect(percentileThreshold(h, 99.99)!).toBeCloseTo(3.92, 1);
    expect(percentileThreshold(h, 95)!).toBeCloseTo(1.96, 2);
  });
  it('mse: the candidate edge whose exact squared error on the samples is least (≈ 4 σ for 8 bits)', () => {
    const t = mseThreshold(h)!;
    // every candidate of the search (edges 16, 24, … bins), scored on the raw samples
    const exact = (edge: number) => {
      const s = (edge * w) / 127;
      let e = 0;
      for (const v of sorted) { const q = Math.min(Math.round(v / s), 127) * s; e += (v - q) ** 2; }
      return e;
    };
    let bestEdge = 16;
    for (let edge = 16; edge <= 2048; edge += 8) if (exact(edge) < exact(bestEdge)) bestEdge = edge;
    // the histogram estimate may land one candidate off the exact optimum, no further
    expect(Math.abs(t / w - bestEdge)).toBeLessThanOrEqual(8);
    expect(t).toBeGreaterThan(3.8);
    expect(t).toBeLessThan(4.1);
  });
  it('entropy (KL), by hand with 2 levels: counts [8, 4, 4, 1] → threshold 3.5 bins', () => {
    // i = 2: P = [8, 9]/17,       Q = [8, 4]/12:          KL = 0.0810
    // i = 3: P = [8, 4, 5]/17,    Q = [8, 4, 4]/16:       KL = (12/17)·ln(16/17) + (5/17)·ln(20/17) = 0.0050
    // i = 4: P = [8, 4, 4, 1]/17, Q = [6, 6, 2.5, 2.5]/17: KL = 0.0967
    // i = 3 wins → (3 + 0.5) bins
    expect(entropyThreshold(absCounts([8, 4, 4, 1]), 2)).toBe(3.5);
    // [8, 8, 2, 1, 1]: KL 0.0201, 0.0380, 0.0062, 0.0118 for i = 2…5 → 4.5 bins
    expect(entropyThreshold(absCounts([8, 8, 2, 1, 1]), 2)).toBe(4.5);
    // flat counts: the full range reproduces P exactly (KL 0) and the threshold is the data's end
    expect(entropyThreshold(absCounts(new Array(256).fill(5)), 8)).toBe(256);
  });
  it('entropy (KL) on N(0,1) equals the plain reference implementation', () => {
    const abs = [...absHistogram(h)];
    const t = entropyThreshold(h)!;
    expect(t).toBe(referenceEntropyBins(abs, 128) * w);
    expect(t).toBeCloseTo(4.0996, 3);
    for (const seed of [3, 11]) {
      const hh = newHistogram();
      addToHistogram(hh, gaussian(50000, 0.5, seed).map((v) => Math.max(0, v)));
      expect(entropyThreshold(hh)).toBe(referenceEntropyBins([...absHistogram(hh)], 128) * binWidth(hh));
    }
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
  it('a large batch (one pass over a grid of cells) picks the diffs fp the per-value sums pick', () => {
    const n = 200_000;
    const g = gaussian(n, 1, 7);
    const cases: [string, Float32Array][] = [
      ['gaussian', g],
      ['relu', g.map((v) => Math.max(0, v))],
      ['heavy tail', g.map((v) => v * v * v)],
      ['integers 0..255', Float32Array.from({ length: n }, (_, i) => (i * 7919) % 256)],
      ['on the fp-6 grid', g.map((v) => Math.round(v * 64) / 64)],
      ['tiny (fix point capped)', g.map((v) => v * 1e-6)],
      ['sigmoid-like 0..1', g.map((v) => 1 / (1 + Math.exp(-3 * v)))],
      ['one outlier', Float32Array.from(g, (v, i) => (i === 12345 ? 40 : v))],
    ];
    for (const [what, x] of cases) {
      const s = newTensorStats();
      observe(s, x, 8, 'half_up');
      const exact = diffsFixPoint(x, 8, 'half_up')!;
      expect(s.batchFps.diffs, what).toEqual([exact.fixPoint]);
      // The histogram filled in the same pass is the one addToHistogram fills.
      const h = newHistogram();
      addToHistogram(h, x);
      expect(s.hist, what).toEqual(h);
      // The cells' sums are the per-value sums up to rounding.
      const fromCells = new Float64Array(exact.errors.length);
      cellErrors([x], exact.errors[0].fp, fromCells, 8);
      exact.errors.forEach((e, k) => expect(Math.abs(fromCells[k] - e.sse), `${what} fp ${e.fp}`).toBeLessThanOrEqual(1e-9 * e.sse + 1e-30));
    }
  });
  it('a batch folded in parts gives the statistics of the whole batch', () => {
    const x = gaussian(150_000, 2, 3).map((v) => Math.max(-1, v));
    const whole = newTensorStats();
    observe(whole, x);
    const parts = newTensorStats();
    observeParts(parts, [x.subarray(0, 70_000), x.subarray(70_000, 70_001), x.subarray(70_001)]);
    expect(parts).toEqual(whole);
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

describe('calibration samples from an array', () => {
  const spec = inputSpecFromShape('x', ['N', 1, 4, 4]);
  it('converts each sample when it is read, not the whole array (a uint8 set stays 1 byte per value)', () => {
    const n = 1 << 22; // 4 M samples of 16 pixels: 64 MB of uint8, 256 MB as float32
    const data = new Uint8Array(n * 16);
    for (let i = 0; i < 64; i++) data[i] = i;
    data[data.length - 1] = 255;
    const before = process.memoryUsage().arrayBuffers;
    const s = samplesFromArray({ dtype: 'uint8', shape: [n, 1, 4, 4], data }, spec);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(16 << 20);
    expect(s.count).toBe(n);
    expect([...s.sample(1)]).toEqual(Array.from({ length: 16 }, (_, k) => 16 + k));
    expect(s.sample(n - 1)[15]).toBe(255);
    // a fresh copy each read: changing one does not change the data
    s.sample(0)[0] = 99;
    expect(s.sample(0)[0]).toBe(0);
  });
  it('int64 and float64 samples convert the same way', () => {
    const i64 = samplesFromArray({ dtype: 'int64', shape: [2, 1, 4, 4], data: BigInt64Array.from({ length: 32 }, (_, k) => BigInt(k - 3)) }, spec);
    expect([...i64.sample(1)]).toEqual(Array.from({ length: 16 }, (_, k) => k + 13));
    const f64 = samplesFromArray({ dtype: 'float64', shape: [2, 1, 4, 4], data: Float64Array.from({ length: 32 }, (_, k) => k / 4) }, spec);
    expect(f64.sample(1)).toEqual(Float32Array.from({ length: 16 }, (_, k) => (k + 16) / 4));
  });
});
