// Pictures of one simulated tensor, built where the data lives (the simulation worker) so the page only
// copies pixels: a grid of its channels as grey images (float, int8 dequantized), their difference as a
// heat map, and histograms of both on one axis with the int8 clipping edges.
import { InputError } from '../errors';
import { chw, differingPositions, positionOf } from '../sim/metrics';

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
  /** The drawn channels' values (source layout, channel-major), for the readout under the cursor. */
  readonly values: { readonly q: Int8Array; readonly float?: Float32Array; readonly other?: Int8Array };
  /** Where another run's codes (fake-quant) differ from the int8 ones, over the whole tensor. */
  readonly differ?: {
    readonly against: string;
    readonly count: number;
    readonly total: number;
    readonly maxLsb: number;
    /** The first differing positions as [channel, y, x]. */
    readonly positions: readonly (readonly [number, number, number])[];
    /** RGBA over the grid: opaque where a drawn position differs, transparent elsewhere. */
    readonly overlay: Uint8ClampedArray;
  };
}

/** What the readout under the cursor shows for one position of the grid. */
export interface Readout {
  readonly channel: number;
  readonly y: number;
  readonly x: number;
  readonly code: number;
  readonly dequantized: number;
  readonly fixPoint: number;
  readonly float?: number;
  /** The other run's code (fake-quant) at this position. */
  readonly other?: number;
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
export function tensorView(
  name: string, shape: readonly number[], fixPoint: number, q: Int8Array, float?: Float32Array, other?: { name: string; q: Int8Array },
): TensorView {
  const n = q.length;
  if (float && float.length !== n) throw new InputError(`tensor ${name}: float has ${float.length} values, int8 ${n}`);
  if (other && other.q.length !== n) throw new InputError(`tensor ${name}: ${other.name} has ${other.q.length} values, int8 ${n}`);
  const [C, H, W] = chw(shape, n);
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
  const differ = other ? differences(shape, q, other, { channels, cols, W, H, width, height }) : undefined;
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
    values: { q: q.slice(0, used), ...(float ? { float: float.slice(0, used) } : {}), ...(other ? { other: other.q.slice(0, used) } : {}) },
    ...(differ ? { differ } : {}),
  };
}

const SHOWN_POSITIONS = 20;

function differences(
  shape: readonly number[], q: Int8Array, other: { name: string; q: Int8Array },
  g: { channels: number; cols: number; W: number; H: number; width: number; height: number },
): NonNullable<TensorView['differ']> {
  // Indices come ascending, so the drawn channels' differences are all among the first `used`.
  const d = differingPositions(q, other.q, g.channels * g.H * g.W);
  const overlay = new Uint8ClampedArray(g.width * g.height * 4);
  for (const i of d.indices) {
    const [c, y, x] = positionOf(shape, i);
    if (c >= g.channels) break;
    const o = ((Math.floor(c / g.cols) * (g.H + 1) + y) * g.width + (c % g.cols) * (g.W + 1) + x) * 4;
    overlay[o] = 20; overlay[o + 1] = 90; overlay[o + 2] = 255; overlay[o + 3] = 255;
  }
  return {
    against: other.name, count: d.count, total: q.length, maxLsb: d.maxLsb,
    positions: d.indices.slice(0, SHOWN_POSITIONS).map((i) => positionOf(shape, i)), overlay,
  };
}

/** The values at grid pixel (px, py), or undefined on a gap between tiles or outside the drawn channels. */
export function readAt(v: Pick<TensorView, 'cols' | 'channels' | 'tileW' | 'tileH' | 'fixPoint' | 'values'>, px: number, py: number): Readout | undefined {
  if (px < 0 || py < 0) return undefined;
  const channel = Math.floor(py / (v.tileH + 1)) * v.cols + Math.floor(px / (v.tileW + 1));
  const x = px % (v.tileW + 1);
  const y = py % (v.tileH + 1);
  if (Math.floor(px / (v.tileW + 1)) >= v.cols || channel >= v.channels || x >= v.tileW || y >= v.tileH) return undefined;
  const i = (channel * v.tileH + y) * v.tileW + x;
  const code = v.values.q[i];
  return {
    channel, y, x, code, dequantized: code * 2 ** -v.fixPoint, fixPoint: v.fixPoint,
    ...(v.values.float ? { float: v.values.float[i] } : {}),
    ...(v.values.other ? { other: v.values.other[i] } : {}),
  };
}

function minOf(a: Float32Array): number { let m = Infinity; for (const v of a) if (v < m) m = v; return m; }
function maxOf(a: Float32Array): number { let m = -Infinity; for (const v of a) if (v > m) m = v; return m; }
