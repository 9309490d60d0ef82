import { intRange } from '../fixpoint';
import { binWidth, type Histogram } from './histogram';

/**
 * Fraction of observed values that saturate at fp, from the histogram: bins entirely beyond the
 * representable range count whole, the straddling bin counts in proportion.
 */
export function clippedFractionFromHistogram(h: Histogram, count: number, fp: number, bitWidth = 8): number {
  if (count === 0 || h.range === 0) return 0;
  const { lo, hi } = intRange(bitWidth);
  const top = (hi + 0.5) * 2 ** -fp;
  const bottom = (lo - 0.5) * 2 ** -fp;
  const w = binWidth(h);
  let n = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i];
    if (!c) continue;
    const a = -h.range + i * w;
    const b = a + w;
    if (a >= top || b <= bottom) n += c;
    else if (b > top) n += (c * (b - top)) / w;
    else if (a < bottom) n += (c * (bottom - a)) / w;
  }
  return n / count;
}
