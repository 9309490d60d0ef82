// Running statistics of one activation over the calibration set. Bounded memory: a fixed histogram,
// min/max, and one small number per batch; fix points can be re-derived from these at any time without
// another float pass (the UI changes a method and gets an answer at once).
import { clippedFractionFromHistogram } from './clip';
import { addToHistogram, newHistogram, displayHistogram, type Histogram } from './histogram';
import {
  capFixPoint, combineFixPoints, diffsFixPoint, entropyThreshold, fixPointOfThreshold, histogramSseAtFixPoint,
  maxminFixPoint, mseThreshold, percentileThreshold, scaleOfThreshold,
  type CalibMethod, type StatisticMethod,
} from './methods';
import { zeroTensorFixPoint, type RoundMode } from '../fixpoint';

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
  if (x.length === 0) return;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  s.count += x.length;
  s.min = Math.min(s.min, min);
  s.max = Math.max(s.max, max);
  addToHistogram(s.hist, x);
  const mm = maxminFixPoint(Math.min(min, 0), Math.max(max, 0), bitWidth);
  if (mm !== undefined) s.batchFps.maxmin.push(mm);
  const d = diffsFixPoint(x, bitWidth, mode);
  if (d) s.batchFps.diffs.push(d.fixPoint);
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
