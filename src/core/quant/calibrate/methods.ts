// Choosing a quantization threshold from data (§4). Each method gives a float scale (for targets with
// arbitrary scales) and a power-of-two fix point (for the DPU).
import { intRange, maxFixPoint, quantError, ROUNDERS, type RoundMode } from '../fixpoint';
import { absHistogram, binWidth, type Histogram } from './histogram';

export type CalibMethod = 'maxmin' | 'diffs' | 'percentile' | 'mse' | 'entropy';
export const CALIB_METHODS: readonly CalibMethod[] = ['maxmin', 'percentile', 'entropy', 'mse', 'diffs'];

/** Clamp to the quantizer's fix-point ceiling (12 for 8 bits). */
export function capFixPoint(fp: number, bitWidth: number): number {
  return Math.min(fp, maxFixPoint(bitWidth));
}

/** Non-overflow position: step = max(min/−(2^(b−1)+0.5), max/(2^(b−1)−0.5)), fp = floor(log2(1/step)). */
export function maxminFixPoint(min: number, max: number, bitWidth = 8): number | undefined {
  const { lo, hi } = intRange(bitWidth);
  const step = Math.max(min / (lo - 0.5), max / (hi + 0.5));
  if (!(step > 0)) return undefined; // all zero
  return capFixPoint(Math.floor(Math.log2(1 / step)), bitWidth);
}

/** Fix point from a symmetric threshold t (percentile/mse/entropy on the DPU): the maxmin rule on ±t. */
export function fixPointOfThreshold(t: number, bitWidth = 8): number | undefined {
  return maxminFixPoint(-t, t, bitWidth);
}

/** Float scale of a symmetric threshold: t maps to the largest integer. */
export function scaleOfThreshold(t: number, bitWidth = 8): number {
  return t / intRange(bitWidth).hi;
}

/**
 * diffs / MinMSE on raw data: try fp0 … fp0+4 from the non-overflow fp0 and keep the one with the least
 * Σ(x − fq(x))². Ties keep the smaller fp (less clipping). Returns each candidate's error too.
 */
export function diffsFixPoint(
  x: ArrayLike<number>, bitWidth = 8, mode: RoundMode = 'half_up', span = 4,
): { fixPoint: number; errors: { fp: number; sse: number }[] } | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const fp0 = maxminFixPoint(Math.min(min, 0), Math.max(max, 0), bitWidth);
  if (fp0 === undefined) return undefined;
  const errors: { fp: number; sse: number }[] = [];
  let best = fp0;
  let bestErr = Infinity;
  for (let fp = fp0; fp <= capFixPoint(fp0 + span, bitWidth); fp++) {
    const sse = quantError(x, fp, bitWidth, mode);
    errors.push({ fp, sse });
    if (sse < bestErr) { bestErr = sse; best = fp; }
  }
  return { fixPoint: best, errors };
}

/** Threshold below which `percentage` % of |x| lies (bin upper edge). */
export function percentileThreshold(h: Histogram, percentage = 99.99): number | undefined {
  if (h.range === 0) return undefined;
  const abs = absHistogram(h);
  let total = 0;
  for (const v of abs) total += v;
  const target = (total * percentage) / 100;
  const w = binWidth(h);
  let acc = 0;
  for (let i = 0; i < abs.length; i++) {
    acc += abs[i];
    if (acc >= target) return (i + 1) * w;
  }
  return abs.length * w;
}

/**
 * Estimated Σ(x − fq(x))² from the signed histogram: each bin is sampled at four points, enough when the
 * quantization step is at least a few bins wide (it is: 2048 bins per sign vs 128 levels).
 */
export function histogramSse(h: Histogram, quant: (x: number) => number): number {
  if (h.range === 0) return 0;
  const w = binWidth(h);
  let e = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const n = h.counts[i];
    if (!n) continue;
    const start = -h.range + i * w;
    for (let k = 0; k < 4; k++) {
      const x = start + (k + 0.5) * (w / 4);
      const d = x - quant(x);
      e += (n / 4) * d * d;
    }
  }
  return e;
}

export function histogramSseAtFixPoint(h: Histogram, fp: number, bitWidth = 8, mode: RoundMode = 'half_up'): number {
  // fakeQuantValue with its constants hoisted: called 16K times per fix point and tensor (every tensor's
  // alternatives at each re-solve), where a range object per call cost more than the arithmetic.
  const { lo, hi } = intRange(bitWidth);
  const s = 2 ** fp;
  const inv = 2 ** -fp;
  const r = ROUNDERS[mode];
  return histogramSse(h, (x) => {
    const q = r(x * s);
    return (q < lo ? lo : q > hi ? hi : q) * inv;
  });
}

/** mse: the threshold (a bin edge of the |x| histogram) minimising the estimated squared error. */
export function mseThreshold(h: Histogram, bitWidth = 8, stride = 8): number | undefined {
  if (h.range === 0) return undefined;
  const abs = absHistogram(h);
  const w = binWidth(h);
  const hi = intRange(bitWidth).hi;
  let best = abs.length * w;
  let bestErr = Infinity;
  for (let edge = 16; edge <= abs.length; edge += stride) {
    const t = edge * w;
    const s = t / hi;
    let e = 0;
    for (let i = 0; i < abs.length; i++) {
      const n = abs[i];
      if (!n) continue;
      const c = (i + 0.5) * w;
      const q = Math.min(Math.round(c / s), hi) * s;
      e += n * (c - q) * (c - q);
    }
    if (e < bestErr) { bestErr = e; best = t; }
  }
  return best;
}

/**
 * entropy: TensorRT's KL calibration. For each candidate threshold bin i ≥ 128, P is the |x| histogram
 * up to i with the tail folded into its last bin, Q is P squeezed into 128 levels and expanded back over
 * the non-empty bins; the threshold minimising KL(P‖Q) wins.
 */
export function entropyThreshold(h: Histogram, bitWidth = 8, stride = 1): number | undefined {
  if (h.range === 0) return undefined;
  const abs = absHistogram(h);
  const nbins = abs.length;
  const levels = 2 ** (bitWidth - 1);
  const w = binWidth(h);
  let last = nbins - 1;
  while (last > 0 && abs[last] === 0) last--;
  if (last + 1 <= levels) return (last + 1) * w;
  const suffix = new Float64Array(nbins + 1);
  for (let i = nbins - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + abs[i];
  let bestI = last + 1;
  let bestKl = Infinity;
  const p = new Float64Array(nbins);
  const q = new Float64Array(nbins);
  // Thresholds beyond the last occupied bin only add empty bins; the search stops at the data's max.
  for (let i = levels; i <= last + 1; i += stride) {
    for (let k = 0; k < i; k++) p[k] = abs[k];
    p[i - 1] += suffix[i];
    // Squeeze bins [0, i) into `levels` groups of (nearly) equal width, then spread each group's
    // mass evenly over its non-empty bins.
    for (let j = 0; j < levels; j++) {
      const start = Math.floor((j * i) / levels);
      const stop = Math.floor(((j + 1) * i) / levels);
      let sum = 0;
      let nonzero = 0;
      for (let k = start; k < stop; k++) {
        sum += abs[k];
        if (abs[k] !== 0) nonzero++;
      }
      for (let k = start; k < stop; k++) q[k] = abs[k] !== 0 ? sum / nonzero : 0;
    }
    let sp = 0;
    let sq = 0;
    for (let k = 0; k < i; k++) { sp += p[k]; sq += q[k]; }
    let kl = 0;
    for (let k = 0; k < i; k++) {
      if (p[k] === 0) continue;
      const pk = p[k] / sp;
      const qk = q[k] / sq;
      kl += qk === 0 ? Infinity : pk * Math.log(pk / qk);
      if (kl === Infinity) break;
    }
    if (kl < bestKl) { bestKl = kl; bestI = i; }
  }
  return Math.min(bestI + 0.5, last + 1) * w;
}

/** How per-batch positions are combined (`calib_statistic_method`). */
export type StatisticMethod = 'modal' | 'max' | 'mean' | 'median';

export function combineFixPoints(fps: readonly number[], how: StatisticMethod): number | undefined {
  if (fps.length === 0) return undefined;
  switch (how) {
    case 'max': return Math.max(...fps);
    case 'mean': return Math.round(fps.reduce((a, b) => a + b, 0) / fps.length);
    case 'median': {
      const s = [...fps].sort((a, b) => a - b);
      return s[(s.length - 1) >> 1];
    }
    case 'modal': {
      const counts = new Map<number, number>();
      for (const f of fps) counts.set(f, (counts.get(f) ?? 0) + 1);
      // Ties go to the smaller position: it clips less.
      let best = fps[0];
      let bestN = 0;
      for (const [f, n] of counts) if (n > bestN || (n === bestN && f < best)) { best = f; bestN = n; }
      return best;
    }
  }
}
