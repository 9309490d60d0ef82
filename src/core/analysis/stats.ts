// Weight statistics for the inspector: plain numbers and arrays so they cross a worker boundary as is.
import type { ConstTensor } from '../ir';
import { toFloat64 } from '../onnx/values';

export { toFloat64 } from '../onnx/values';

export interface TensorStats {
  readonly count: number;
  /** Over finite elements; NaN when there are none. */
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Population standard deviation. */
  readonly std: number;
  readonly histogram: { readonly edges: number[]; readonly counts: number[] };
}

/** count/min/max/mean/std and a `bins`-bin histogram over [min, max] of a tensor's finite values. */
export function tensorStats(t: ConstTensor, bins = 64): TensorStats {
  if (!(bins >= 1 && Number.isInteger(bins))) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const v = toFloat64(t);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) continue;
    finite++;
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const counts = new Array<number>(bins).fill(0);
  if (finite === 0) {
    return { count: v.length, min: NaN, max: NaN, mean: NaN, std: NaN, histogram: { edges: new Array(bins + 1).fill(NaN), counts } };
  }
  const mean = sum / finite;
  let sq = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (Number.isFinite(x)) sq += (x - mean) * (x - mean);
  }
  // A constant tensor gets a unit-wide range so every value lands in one bin.
  const lo = min;
  const hi = max > min ? max : min + 1;
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * width));
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) continue;
    counts[Math.min(bins - 1, Math.floor((x - lo) / width))]++;
  }
  return { count: v.length, min, max, mean, std: Math.sqrt(sq / finite), histogram: { edges, counts } };
}
