// Per-tensor measures of one simulated int8 tensor against the float model and against another run of
// the same sample (fake-quant): what the layer table sorts by and what the tensor view highlights.

/** Cosine of the angle between the float values and the dequantized codes; NaN for unequal lengths or an empty tensor. */
export function cosineSimilarity(ref: ArrayLike<number>, q: ArrayLike<number>, scale = 1): number {
  if (ref.length !== q.length || ref.length === 0) return Number.NaN;
  let dot = 0;
  let rr = 0;
  let qq = 0;
  for (let i = 0; i < ref.length; i++) {
    const x = q[i] * scale;
    dot += ref[i] * x;
    rr += ref[i] * ref[i];
    qq += x * x;
  }
  // Both all zero: the same tensor. Only one: nothing in common.
  if (rr === 0 && qq === 0) return 1;
  if (rr === 0 || qq === 0) return 0;
  return dot / Math.sqrt(rr * qq);
}

/** Fraction of int8 codes at the edges of the range (−128 or 127): values the saturation may have cut. */
export function edgeFraction(q: ArrayLike<number>): number {
  if (q.length === 0) return 0;
  let n = 0;
  for (let i = 0; i < q.length; i++) if (q[i] <= -128 || q[i] >= 127) n++;
  return n / q.length;
}

/**
 * Fraction of float values outside the int8 grid of fix point `fp`, [−128·2^−fp, 127·2^−fp], widened by
 * half a step: what rounds to a code beyond the range and is clipped. NaN for an empty tensor.
 */
export function floatClippedFraction(float: ArrayLike<number>, fixPoint: number): number {
  if (float.length === 0) return Number.NaN;
  const step = 2 ** -fixPoint;
  const lo = -128.5 * step;
  const hi = 127.5 * step;
  let n = 0;
  for (let i = 0; i < float.length; i++) if (float[i] < lo || float[i] >= hi) n++;
  return n / float.length;
}

/**
 * What a tensor's measures against float are computed from, sample by sample, so that the measures over
 * many samples are those of all their values taken as one vector. The float sums are kept per sample and
 * added in sample order at the end: samples split over threads and merged in order give the same bits.
 */
export interface VsFloatSums {
  /** Per sample with a float twin: Σ f·x, Σ f², Σ x², Σ (f − x)², x the dequantized codes. */
  sums: number[];
  /** Values compared with float, and float values beyond the grid's edges (±half a step). */
  compared: number; floatClipped: number;
  /** int8 codes seen, and those at −128 or 127. */
  codes: number; edge: number;
}

export const emptyVsFloat = (): VsFloatSums => ({ sums: [], compared: 0, floatClipped: 0, codes: 0, edge: 0 });

/** Adds one sample of a tensor: its int8 codes at `fixPoint`, and its float twin when there is one of the same length. */
export function addVsFloat(s: VsFloatSums, q: ArrayLike<number>, fixPoint: number, float?: ArrayLike<number>): void {
  for (let i = 0; i < q.length; i++) if (q[i] <= -128 || q[i] >= 127) s.edge++;
  s.codes += q.length;
  if (!float || float.length !== q.length) return;
  const step = 2 ** -fixPoint;
  const lo = -128.5 * step;
  const hi = 127.5 * step;
  let dot = 0, ff = 0, xx = 0, err = 0;
  for (let i = 0; i < q.length; i++) {
    const f = float[i];
    const x = q[i] * step;
    dot += f * x; ff += f * f; xx += x * x; err += (f - x) * (f - x);
    if (f < lo || f >= hi) s.floatClipped++;
  }
  s.sums.push(dot, ff, xx, err);
  s.compared += q.length;
}

/** `a` then `b` (b's samples after a's). */
export function sumVsFloat(a: VsFloatSums, b: VsFloatSums): VsFloatSums {
  return { sums: [...a.sums, ...b.sums], compared: a.compared + b.compared, floatClipped: a.floatClipped + b.floatClipped,
    codes: a.codes + b.codes, edge: a.edge + b.edge };
}

/** The measures of cosineSimilarity, sqnrDb (report.ts), edgeFraction and floatClippedFraction from the sums; NaN where nothing was compared. */
export function vsFloatMeasures(s: VsFloatSums): { cosine: number; sqnrDb: number; clippedInt8: number; clippedFloat: number } {
  let dot = 0, ff = 0, xx = 0, err = 0;
  for (let i = 0; i < s.sums.length; i += 4) { dot += s.sums[i]; ff += s.sums[i + 1]; xx += s.sums[i + 2]; err += s.sums[i + 3]; }
  const none = s.compared === 0;
  return {
    cosine: none ? Number.NaN : ff === 0 && xx === 0 ? 1 : ff === 0 || xx === 0 ? 0 : dot / Math.sqrt(ff * xx),
    sqnrDb: none ? Number.NaN : err === 0 ? Infinity : 10 * Math.log10(ff / err),
    clippedInt8: s.codes ? s.edge / s.codes : 0,
    clippedFloat: none ? Number.NaN : s.floatClipped / s.compared,
  };
}

export interface Differences {
  /** How many positions differ. */
  readonly count: number;
  /** The first `limit` differing flat indices (source layout), ascending. */
  readonly indices: readonly number[];
  /** Largest |a − b| in LSB (0 when identical). */
  readonly maxLsb: number;
}

/** The positions where two int8 runs of a tensor differ (e.g. the DPU simulation and fake-quant). */
export function differingPositions(a: ArrayLike<number>, b: ArrayLike<number>, limit = 1000): Differences {
  if (a.length !== b.length) throw new Error(`differingPositions: ${a.length} values against ${b.length}`);
  let count = 0;
  let maxLsb = 0;
  const indices: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d === 0) continue;
    count++;
    if (d > maxLsb) maxLsb = d;
    if (indices.length < limit) indices.push(i);
  }
  return { count, indices, maxLsb };
}

/** [channel, y, x] of a flat index in a [1, C, H, W] tensor (a [1, N] vector is one 1×N channel). */
export function positionOf(shape: readonly number[], index: number): [number, number, number] {
  const [, H, W] = chw(shape, shape.reduce((a, b) => a * b, 1));
  return [Math.floor(index / (H * W)), Math.floor(index / W) % H, index % W];
}

/** The tensor as channels of H × W, as the tensor view draws it. */
export function chw(shape: readonly number[], n: number): [number, number, number] {
  return shape.length === 4 ? [shape[1], shape[2], shape[3]] : shape.length === 3 ? [shape[1], 1, shape[2]] : [1, 1, n];
}
