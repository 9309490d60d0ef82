// Pictures of one simulated tensor, built where the data lives (the simulation worker) so the page only
// copies pixels: a grid of its channels as grey images (float, int8 dequantized), their difference as a
// heat map, and histograms of both on one axis with the int8 clipping edges.
import { InputError } from '../errors';

export interface TensorView {
  readonly name: string;
  readonly shape: readonly number[];
  readonly fixPoint: number;
  /** The int8 grid's edges: −128·2^−fp and 127·2^−fp. */
  readonly clip: readonly [number, number];
  /** Channels drawn (the first MAX_CHANNELS of C), tiles per row, and each tile's size. */
  readonly channels: number;
  readonly totalChannels: number;
  readonly cols: number;
  readonly tileW: number;
  readonly tileH: number;
  /** RGBA images of width × height; float absent without a float reference. */
  readonly width: number;
  readonly height: number;
  readonly float?: Uint8ClampedArray;
  readonly int8: Uint8ClampedArray;
  readonly diff?: Uint8ClampedArray;
  /** max |float − int8| over the drawn channels: the heat map's full red. */
  readonly maxDiff: number;
  readonly hist: { readonly lo: number; readonly hi: number; readonly float?: readonly number[]; readonly int8: readonly number[] };
}

export const MAX_CHANNELS = 64;
const BINS = 64;

/** Histogram counts over [lo, hi] in `bins` equal bins (values outside land in the end bins). */
export function histogram(values: ArrayLike<number>, lo: number, hi: number, bins = BINS): number[] {
  const h = new Array<number>(bins).fill(0);
  const k = hi > lo ? bins / (hi - lo) : 0;
  for (let i = 0; i < values.length; i++) h[Math.min(bins - 1, Math.max(0, Math.floor((values[i] - lo) * k)))]++;
  return h;
}

/**
 * `q` and `float` are in the source layout [1, C, H, W] (a [1, N] vector is one 1×N channel). Grey
 * levels map −r..r to black..white with r the largest |value| of either, so float and int8 share a scale.
 */
export function tensorView(name: string, shape: readonly number[], fixPoint: number, q: Int8Array, float?: Float32Array): TensorView {
  const n = q.length;
  if (float && float.length !== n) throw new InputError(`tensor ${name}: float has ${float.length} values, int8 ${n}`);
  const [C, H, W] = shape.length === 4 ? [shape[1], shape[2], shape[3]] : shape.length === 3 ? [shape[1], 1, shape[2]] : [1, 1, n];
  const step = 2 ** -fixPoint;
  const deq = Float32Array.from(q, (v) => v * step);
  const channels = Math.min(C, MAX_CHANNELS);
  const cols = Math.ceil(Math.sqrt(channels));
  const rows = Math.ceil(channels / cols);
  const width = cols * (W + 1) - 1;
  const height = rows * (H + 1) - 1;
  const used = channels * H * W;
  let r = 0;
  let maxDiff = 0;
  for (let i = 0; i < used; i++) {
    r = Math.max(r, Math.abs(deq[i]), float ? Math.abs(float[i]) : 0);
    if (float) maxDiff = Math.max(maxDiff, Math.abs(float[i] - deq[i]));
  }
  const paint = (at: (i: number) => [number, number, number]) => {
    const img = new Uint8ClampedArray(width * height * 4);
    for (let p = 3; p < img.length; p += 4) img[p] = 255;
    for (let c = 0; c < channels; c++) {
      const ox = (c % cols) * (W + 1);
      const oy = Math.floor(c / cols) * (H + 1);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const [R, G, B] = at((c * H + y) * W + x);
          const o = ((oy + y) * width + ox + x) * 4;
          img[o] = R; img[o + 1] = G; img[o + 2] = B;
        }
    }
    return img;
  };
  const grey = (v: number): [number, number, number] => { const g = r > 0 ? 127.5 + 127.5 * v / r : 128; return [g, g, g]; };
  const lo = Math.min(-128 * step, ...(float ? [minOf(float)] : []));
  const hi = Math.max(127 * step, ...(float ? [maxOf(float)] : []));
  return {
    name, shape: [...shape], fixPoint, clip: [-128 * step, 127 * step], channels, totalChannels: C, cols, tileW: W, tileH: H, width, height,
    int8: paint((i) => grey(deq[i])),
    ...(float ? {
      float: paint((i) => grey(float[i])),
      diff: paint((i) => { const t = maxDiff > 0 ? Math.abs(float[i] - deq[i]) / maxDiff : 0; return [255, 255 * (1 - t), 255 * (1 - t)]; }),
    } : {}),
    maxDiff,
    hist: { lo, hi, int8: histogram(deq, lo, hi), ...(float ? { float: histogram(float, lo, hi) } : {}) },
  };
}

function minOf(a: Float32Array): number { let m = Infinity; for (const v of a) if (v < m) m = v; return m; }
function maxOf(a: Float32Array): number { let m = -Infinity; for (const v of a) if (v > m) m = v; return m; }
