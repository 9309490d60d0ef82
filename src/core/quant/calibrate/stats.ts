// Running statistics of one activation over the calibration set. Bounded memory: a fixed histogram,
// min/max, and one small number per batch; fix points can be re-derived from these at any time without
// another float pass (the UI changes a method and gets an answer at once).
import { clippedFractionFromHistogram } from './clip';
import { binValues, growHistogram, HIST_BINS, newHistogram, displayHistogram, type Histogram } from './histogram';
import {
  capFixPoint, combineFixPoints, entropyThreshold, fixPointOfThreshold, histogramSseAtFixPoint,
  maxminFixPoint, mseThreshold, percentileThreshold, scaleOfThreshold,
  type CalibMethod, type StatisticMethod,
} from './methods';
import { intRange, ROUNDERS, zeroTensorFixPoint, type RoundMode } from '../fixpoint';
import { cellErrorsInWasm, rangeInWasm, statsWasmUsable } from './stats-wasm';

export interface TensorStats {
  count: number;
  min: number;
  max: number;
  readonly hist: Histogram;
  /** Per-batch positions of the per-batch methods (diffs, maxmin). */
  readonly batchFps: { diffs: number[]; maxmin: number[] };
}

export function newTensorStats(): TensorStats {
  return { count: 0, min: Infinity, max: -Infinity, hist: newHistogram(), batchFps: { diffs: [], maxmin: [] } };
}

/** Fold one batch of values in. `bitWidth`/`mode` are those diffs evaluates with. */
export function observe(s: TensorStats, x: ArrayLike<number>, bitWidth = 8, mode: RoundMode = 'half_up'): void {
  observeParts(s, [x], bitWidth, mode);
}

/**
 * Fold one batch given as several arrays (one per run of the batch), read in place: the same result as
 * `observe` on their concatenation, bit for bit (every sum runs over the values in the same order), in
 * two passes over the data: min/max, then histogram and all of diffs' candidate errors at once.
 */
export function observeParts(
  s: TensorStats, parts: readonly ArrayLike<number>[], bitWidth = 8, mode: RoundMode = 'half_up', range?: { readonly min: number; readonly max: number },
): void {
  // `range`, when the caller has it, saves the first pass; else wasm makes it (bit for bit the loop's).
  range ??= rangeInWasm(parts);
  let min = range?.min ?? Infinity;
  let max = range?.max ?? -Infinity;
  let n = 0;
  for (const x of parts) {
    n += x.length;
    if (range) continue;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (n === 0) return;
  // −0 and +0 alike as +0: the wasm pass's lanes meet them in another order than this loop.
  if (min === 0) min = 0;
  if (max === 0) max = 0;
  s.count += n;
  s.min = Math.min(s.min, min);
  s.max = Math.max(s.max, max);
  const absMax = Math.max(-min, max);
  if (absMax > 0 && absMax >= s.hist.range) growHistogram(s.hist, absMax);
  const mm = maxminFixPoint(Math.min(min, 0), Math.max(max, 0), bitWidth);
  if (mm !== undefined) s.batchFps.maxmin.push(mm);
  // diffs: the non-overflow position fp0 and up to four finer ones (diffsFixPoint's candidates).
  const errors = mm === undefined ? undefined : new Float64Array(capFixPoint(mm + 4, bitWidth) - mm + 1);
  if (errors && usesCells(n, bitWidth, mode, parts, min)) {
    // The histogram is filled in the same pass as the cells.
    s.batchFps.diffs.push(mm! + bestCandidate(parts, mm!, errors, bitWidth, mode, cellErrors(parts, mm!, errors, bitWidth, s.hist, { min, max })));
    return;
  }
  for (const x of parts) binValues(s.hist, x);
  if (errors) s.batchFps.diffs.push(mm! + bestCandidate(parts, mm!, errors, bitWidth, mode));
}

/**
 * Whether the cells give diffs' errors: half_up, or std_round (half away from zero: graph inputs by default)
 * on a batch with no negative value, where the two round every value alike (images: raw or scaled pixels).
 */
export function usesCells(n: number, bitWidth: number, mode: RoundMode, parts: readonly ArrayLike<number>[], min: number): boolean {
  const halfUp = mode === 'half_up' || (mode === 'std_round' && min >= 0);
  return halfUp && bitWidth <= 8 && n >= (statsWasmUsable(parts) ? CELL_MIN_VALUES_WASM : CELL_MIN_VALUES);
}

/** Values from which the cell estimate beats one pass per candidate (below, the cells' fixed cost dominates). */
const CELL_MIN_VALUES = 1 << 16;
/**
 * The same in wasm: ~45 µs per batch for the cells' closing pass, then ~1.5 ns per value, against ~24 ns per
 * value for the JavaScript pass per candidate (fmnist's 128-wide dense layer, 4096 values per batch: ~60 → ~30 µs).
 */
const CELL_MIN_VALUES_WASM = 1 << 12;

/**
 * diffs' choice among fp0 … fp0+errors.length−1: the least error, ties to the smaller fix point. With
 * `margin`, `errors` already holds the cells' estimate, within `margin` of the exact sums.
 */
function bestCandidate(parts: readonly ArrayLike<number>[], fp0: number, errors: Float64Array, bitWidth: number, mode: RoundMode, margin?: number): number {
  const argmin = () => {
    let best = 0;
    for (let k = 1; k < errors.length; k++) if (errors[k] < errors[best]) best = k;
    return best;
  };
  if (margin !== undefined) {
    const best = argmin();
    // A runner-up within the rounding distance could swap places with the winner: such a batch (a tie,
    // in practice) is decided by the exact sums.
    let clear = true;
    for (let k = 0; k < errors.length; k++) if (k !== best && errors[k] - errors[best] <= margin) clear = false;
    if (clear) return best;
    errors.fill(0);
  }
  for (const x of parts) candidateErrors(x, fp0, errors, bitWidth, mode);
  return argmin();
}

/**
 * Σ(x − fq(x))² at each candidate from a grid of cells of width 2^-(fp0+5): every rounding boundary of
 * fp0 … fp0+4 is a cell edge, so all values of a cell share one quantized value q per candidate and the
 * cell contributes Σx² − 2qΣx + n·q² (values beyond the fp0 range saturate at every candidate: they join
 * the edge cells). One pass over the data instead of one per candidate. half_up only: a value on a
 * boundary rounds like the rest of the cell that starts there. Returns a bound on the rounding
 * difference from the exact per-value sums. `range` (the parts' exact min and max) only saves work.
 */
export function cellErrors(
  parts: readonly ArrayLike<number>[], fp0: number, errors: Float64Array, bitWidth: number, hist?: Histogram,
  range?: { readonly min: number; readonly max: number },
): number {
  const { lo, hi } = intRange(bitWidth);
  const jlo = 32 * lo - 16;
  const jhi = 32 * hi + 15;
  const cells = jhi - jlo + 1;
  const c = 2 ** (fp0 + 5);
  // The wasm loop adds in another order (four interleaved copies): the sums differ in the last bits, far
  // inside the returned bound, and the histogram's integer counts are the same.
  const fromWasm = cellErrorsInWasm(parts, fp0, c, jlo, jhi, lo, hi, errors, hist, range);
  if (fromWasm !== undefined) return fromWasm;
  const cnt = new Float64Array(cells);
  const s1 = new Float64Array(cells);
  const s2 = new Float64Array(cells);
  for (const x of parts) {
    const n = x.length;
    if (hist && hist.range > 0) {
      // binValues, inlined: the same bins and zero count.
      const range = hist.range;
      const scale = HIST_BINS / (2 * range);
      const counts = hist.counts;
      let zeros = 0;
      for (let i = 0; i < n; i++) {
        const v = x[i];
        if (v === 0) zeros++;
        else {
          let b = Math.floor((v + range) * scale);
          if (b >= HIST_BINS) b = HIST_BINS - 1;
          else if (b < 0) b = 0;
          counts[b]++;
        }
        let j = Math.floor(v * c);
        j = j < jlo ? 0 : j > jhi ? cells - 1 : j - jlo;
        cnt[j]++;
        s1[j] += v;
        s2[j] += v * v;
      }
      hist.zeros += zeros;
      continue;
    }
    if (hist) binValues(hist, x);
    for (let i = 0; i < n; i++) {
      const v = x[i];
      let j = Math.floor(v * c);
      j = j < jlo ? 0 : j > jhi ? cells - 1 : j - jlo;
      cnt[j]++;
      s1[j] += v;
      s2[j] += v * v;
    }
  }
  let scale = 0;
  for (let k = 0; k < errors.length; k++) {
    const fs = 2 ** (fp0 + k);
    const inv = 2 ** -(fp0 + k);
    let e = 0;
    let mag = 0;
    for (let j = 0; j < cells; j++) {
      const m = cnt[j];
      if (m === 0) continue;
      const r = Math.floor(((j + jlo) / c) * fs + 0.5);
      const q = (r < lo ? lo : r > hi ? hi : r) * inv;
      e += s2[j] - 2 * q * s1[j] + m * q * q;
      mag += s2[j] + 2 * Math.abs(q * s1[j]) + m * q * q;
    }
    errors[k] = e;
    scale = Math.max(scale, mag);
  }
  // Sums of up to 2^31 terms in float64 and one cancellation per cell: far inside 1e-8 of the magnitudes.
  return 1e-8 * scale;
}

/**
 * Adds Σ(x − fq(x))² at fix points fp0 … fp0+errors.length−1 into `errors`, in one pass: the same
 * arithmetic as `quantError` per candidate, so the sums are identical to separate passes.
 */
function candidateErrors(x: ArrayLike<number>, fp0: number, errors: Float64Array, bitWidth: number, mode: RoundMode): void {
  const { lo, hi } = intRange(bitWidth);
  const k = errors.length;
  // Unused candidates (k < 5, near the fix-point cap) repeat the last one and are not added.
  const f = (j: number) => fp0 + Math.min(j, k - 1);
  const s0 = 2 ** f(0), s1 = 2 ** f(1), s2 = 2 ** f(2), s3 = 2 ** f(3), s4 = 2 ** f(4);
  const i0 = 2 ** -f(0), i1 = 2 ** -f(1), i2 = 2 ** -f(2), i3 = 2 ** -f(3), i4 = 2 ** -f(4);
  let e0 = 0, e1 = 0, e2 = 0, e3 = 0, e4 = 0;
  const n = x.length;
  if (mode === 'half_up') {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      let q = Math.floor(v * s0 + 0.5); let d = v - (q < lo ? lo : q > hi ? hi : q) * i0; e0 += d * d;
      q = Math.floor(v * s1 + 0.5); d = v - (q < lo ? lo : q > hi ? hi : q) * i1; e1 += d * d;
      q = Math.floor(v * s2 + 0.5); d = v - (q < lo ? lo : q > hi ? hi : q) * i2; e2 += d * d;
      q = Math.floor(v * s3 + 0.5); d = v - (q < lo ? lo : q > hi ? hi : q) * i3; e3 += d * d;
      q = Math.floor(v * s4 + 0.5); d = v - (q < lo ? lo : q > hi ? hi : q) * i4; e4 += d * d;
    }
  } else {
    const r = ROUNDERS[mode];
    for (let i = 0; i < n; i++) {
      const v = x[i];
      let q = r(v * s0); let d = v - (q < lo ? lo : q > hi ? hi : q) * i0; e0 += d * d;
      q = r(v * s1); d = v - (q < lo ? lo : q > hi ? hi : q) * i1; e1 += d * d;
      q = r(v * s2); d = v - (q < lo ? lo : q > hi ? hi : q) * i2; e2 += d * d;
      q = r(v * s3); d = v - (q < lo ? lo : q > hi ? hi : q) * i3; e3 += d * d;
      q = r(v * s4); d = v - (q < lo ? lo : q > hi ? hi : q) * i4; e4 += d * d;
    }
  }
  const e = [e0, e1, e2, e3, e4];
  for (let j = 0; j < k; j++) errors[j] += e[j];
}

export interface CalibChoice {
  /** Power-of-two position (DPU). */
  readonly fixPoint: number;
  /** Float scale for targets that take one (2^-fixPoint for the per-batch methods). */
  readonly scale: number;
  /** Symmetric clipping threshold behind the choice. */
  readonly threshold: number;
  readonly allZero: boolean;
}

export interface ChooseOptions {
  readonly method: CalibMethod;
  readonly bitWidth: number;
  readonly statistic: StatisticMethod;
  readonly percentage: number;
  /** 'float' (non-DPU targets): maxmin gives scale = max|x| / (2^(b−1) − 1) instead of a power of two. */
  readonly scaleType?: 'float' | 'poweroftwo';
}

export function chooseFixPoint(s: TensorStats, o: ChooseOptions): CalibChoice {
  const zero = (): CalibChoice => {
    const fp = zeroTensorFixPoint(o.bitWidth);
    return { fixPoint: fp, scale: 2 ** -fp, threshold: 0, allZero: true };
  };
  if (s.count === 0 || (s.min === 0 && s.max === 0)) return zero();
  const fromThreshold = (t: number | undefined): CalibChoice => {
    if (t === undefined || !(t > 0)) return zero();
    const fp = fixPointOfThreshold(t, o.bitWidth)!;
    return { fixPoint: fp, scale: scaleOfThreshold(t, o.bitWidth), threshold: t, allZero: false };
  };
  const fromFp = (fp: number | undefined): CalibChoice => {
    if (fp === undefined) return zero();
    fp = capFixPoint(fp, o.bitWidth);
    return { fixPoint: fp, scale: 2 ** -fp, threshold: (2 ** (o.bitWidth - 1) - 1) * 2 ** -fp, allZero: false };
  };
  switch (o.method) {
    // A float scale is symmetric over the whole calibration set's range (vai_q's running min/max).
    case 'maxmin': return o.scaleType === 'float'
      ? fromThreshold(Math.max(-s.min, s.max))
      : fromFp(combineFixPoints(s.batchFps.maxmin, o.statistic));
    case 'diffs': return fromFp(combineFixPoints(s.batchFps.diffs, o.statistic));
    case 'percentile': return fromThreshold(percentileThreshold(s.hist, o.percentage));
    case 'mse': return fromThreshold(mseThreshold(s.hist, o.bitWidth));
    case 'entropy': return fromThreshold(entropyThreshold(s.hist, o.bitWidth));
  }
}

/** Estimated mean squared error at nearby fix points, for the UI's "what if" list. */
export function alternatives(s: TensorStats, around: number, bitWidth = 8, mode: RoundMode = 'half_up', radius = 3): { fp: number; mse: number }[] {
  const out: { fp: number; mse: number }[] = [];
  if (s.count === 0) return out;
  for (let fp = around - radius; fp <= capFixPoint(around + radius, bitWidth); fp++)
    out.push({ fp, mse: histogramSseAtFixPoint(s.hist, fp, bitWidth, mode) / s.count });
  return out;
}

export function clippedFraction(s: TensorStats, fp: number, bitWidth = 8): number {
  return clippedFractionFromHistogram(s.hist, s.count, fp, bitWidth);
}

export function histogramForDisplay(s: TensorStats, bins = 128) {
  return displayHistogram(s.hist, bins);
}
