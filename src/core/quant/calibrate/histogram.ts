// A signed histogram with a fixed bin count whose range grows by powers of two: when a value falls
// outside [-R, R) the range doubles and neighbouring bins merge pairwise, so memory stays constant however
// many images are observed and no value is ever re-binned approximately.

export const HIST_BINS = 4096; // 2048 per sign, as TensorRT's |x| histogram

export interface Histogram {
  /** Half-range R: bins cover [-R, R). 0 until a non-zero value is seen. */
  range: number;
  readonly counts: Float64Array;
  /** Exact zeros are common (ReLU): counted apart so they never depend on R. */
  zeros: number;
}

export function newHistogram(): Histogram {
  return { range: 0, counts: new Float64Array(HIST_BINS), zeros: 0 };
}

function pow2Ceil(x: number): number {
  return 2 ** Math.ceil(Math.log2(x));
}

/** Double the range until it exceeds absMax, merging bin pairs toward the centre. */
export function growHistogram(h: Histogram, absMax: number): void {
  if (h.range === 0) {
    h.range = pow2Ceil(absMax * (1 + 1e-7));
    if (h.range <= absMax) h.range *= 2;
    return;
  }
  while (h.range <= absMax) {
    const c = h.counts;
    const half = HIST_BINS / 2;
    const merged = new Float64Array(HIST_BINS);
    // Bin i covers [-R + i·w, …). After doubling, old bin i lands in new bin half/2 + floor(i/2).
    for (let i = 0; i < HIST_BINS; i++) merged[half / 2 + (i >> 1)] += c[i];
    c.set(merged);
    h.range *= 2;
  }
}

export function addToHistogram(h: Histogram, x: ArrayLike<number>): void {
  let absMax = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a > absMax) absMax = a;
  }
  if (absMax > 0 && absMax >= h.range) growHistogram(h, absMax);
  binValues(h, x);
}

/** Counts values already inside the range (call `growHistogram` with their |max| first). */
export function binValues(h: Histogram, x: ArrayLike<number>): void {
  if (h.range === 0) {
    h.zeros += x.length;
    return;
  }
  const scale = HIST_BINS / (2 * h.range);
  const c = h.counts;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v === 0) { h.zeros++; continue; }
    let b = Math.floor((v + h.range) * scale);
    if (b >= HIST_BINS) b = HIST_BINS - 1;
    else if (b < 0) b = 0;
    c[b]++;
  }
}

export function binWidth(h: Histogram): number {
  return (2 * h.range) / HIST_BINS;
}

/** |x| histogram of HIST_BINS/2 bins over [0, R); zeros fall in bin 0. */
export function absHistogram(h: Histogram): Float64Array {
  const half = HIST_BINS / 2;
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) out[i] = h.counts[half + i] + h.counts[half - 1 - i];
  out[0] += h.zeros;
  return out;
}

export function totalCount(h: Histogram): number {
  let n = h.zeros;
  for (const v of h.counts) n += v;
  return n;
}

/** Coarser copy for display: `bins` bins over the occupied part of the range. */
export function displayHistogram(h: Histogram, bins = 128): { lo: number; hi: number; counts: number[] } {
  if (h.range === 0) return { lo: 0, hi: 0, counts: [h.zeros] };
  let first = 0;
  let last = HIST_BINS - 1;
  while (first < HIST_BINS && h.counts[first] === 0) first++;
  while (last > first && h.counts[last] === 0) last--;
  const w = binWidth(h);
  let lo = -h.range + first * w;
  let hi = -h.range + (last + 1) * w;
  if (lo > 0) lo = 0;
  if (hi < 0) hi = 0;
  const out = new Array<number>(bins).fill(0);
  const span = hi - lo || 1;
  const put = (x: number, n: number) => {
    out[Math.min(bins - 1, Math.max(0, Math.floor(((x - lo) / span) * bins)))] += n;
  };
  for (let i = first; i <= last; i++) if (h.counts[i]) put(-h.range + (i + 0.5) * w, h.counts[i]);
  if (h.zeros) put(0, h.zeros);
  return { lo, hi, counts: out };
}
