// Resize and Upsample. Nearest, linear and cubic interpolation are all separable, so an N-d resize is
// run as one 1-D resample per axis whose size changes — exactly equal to the N-d formulas.
import { attr, attrInt, type FloatTensor } from '../../../ir';
import { bad, need, type Kernel, type KernelCtx } from '../kernel';
import { size } from '../tensor';

type Coord = (xo: number, scale: number, inLen: number, outLen: number) => number;

// Every step is rounded to float32 as onnxruntime computes it: nearest-neighbour picks flip on exact
// ties (3.5 / 1.4f is 2.5 in float32 but 2.50000004 in doubles).
const r32 = Math.fround;

function coordinateMode(ctx: KernelCtx, mode: string): Coord {
  switch (mode) {
    case 'half_pixel': return (x, s) => r32(r32((x + 0.5) / s) - 0.5);
    case 'pytorch_half_pixel': return (x, s, _n, out) => (out > 1 ? r32(r32((x + 0.5) / s) - 0.5) : 0);
    case 'align_corners': return (x, _s, n, out) => (out === 1 ? 0 : r32(r32(x * (n - 1)) / (out - 1)));
    case 'asymmetric': return (x, s) => r32(x / s);
    case 'tf_half_pixel_for_nn': return (x, s) => r32((x + 0.5) / s);
    case 'half_pixel_symmetric': return (x, s, n, out) => {
      const adj = r32(out / r32(s * n));
      const offset = r32(r32(n / 2) * r32(1 - adj));
      return r32(offset + r32(r32((x + 0.5) / s) - 0.5));
    };
    default: throw bad(ctx, `coordinate_transformation_mode ${mode} is not supported`);
  }
}

function nearestMode(ctx: KernelCtx, mode: string, downsample: boolean): (x: number) => number {
  switch (mode) {
    case 'round_prefer_floor': return (x) => (x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x));
    case 'round_prefer_ceil': return (x) => Math.round(x);
    case 'floor': return Math.floor;
    case 'ceil': return Math.ceil;
    // Upsample and Resize-10: truncation when enlarging, ceiling when shrinking (onnxruntime).
    case 'legacy': return downsample ? Math.ceil : Math.floor;
    default: throw bad(ctx, `nearest_mode ${mode} is not supported`);
  }
}

/** Per output position along one axis: input indices and their weights. */
interface Taps { readonly idx: Int32Array; readonly w: Float32Array; readonly k: number }

function taps(ctx: KernelCtx, kind: string, n: number, out: number, scale: number, coord: Coord, nearest: string, cubicA: number, excludeOutside: boolean): Taps {
  const k = kind === 'nearest' ? 1 : kind === 'linear' ? 2 : 4;
  const idx = new Int32Array(out * k), w = new Float32Array(out * k);
  const round = kind === 'nearest' ? nearestMode(ctx, nearest, scale < 1) : undefined;
  for (let o = 0; o < out; o++) {
    const x = coord(o, scale, n, out);
    if (round) {
      idx[o] = Math.min(Math.max(round(x), 0), n - 1);
      w[o] = 1;
    } else if (kind === 'linear') {
      const c = Math.min(Math.max(x, 0), n - 1);
      const x0 = Math.floor(c), x1 = Math.min(x0 + 1, n - 1), f = c - x0;
      idx[2 * o] = x0; idx[2 * o + 1] = x1;
      w[2 * o] = 1 - f; w[2 * o + 1] = f;
    } else {
      const x0 = Math.floor(x), f = x - x0;
      const a = cubicA;
      const cub = (t: number) => {
        const u = Math.abs(t);
        return u <= 1 ? ((a + 2) * u - (a + 3)) * u * u + 1 : u < 2 ? ((a * u - 5 * a) * u + 8 * a) * u - 4 * a : 0;
      };
      let sum = 0;
      for (let j = 0; j < 4; j++) {
        const xi = x0 - 1 + j;
        let wj = cub(f + 1 - j);
        if (excludeOutside && (xi < 0 || xi >= n)) wj = 0;
        idx[4 * o + j] = Math.min(Math.max(xi, 0), n - 1);
        w[4 * o + j] = wj;
        sum += wj;
      }
      if (excludeOutside && sum) for (let j = 0; j < 4; j++) w[4 * o + j] /= sum;
    }
  }
  return { idx, w, k };
}

function resampleAxis(x: FloatTensor, axis: number, out: number, t: Taps): FloatTensor {
  const n = x.shape[axis];
  const outer = size(x.shape.slice(0, axis)), inner = size(x.shape.slice(axis + 1));
  const data = new Float32Array(outer * out * inner);
  const { idx, w, k } = t;
  for (let p = 0; p < outer; p++) {
    for (let o = 0; o < out; o++) {
      const dst = (p * out + o) * inner;
      for (let j = 0; j < k; j++) {
        const wj = w[o * k + j];
        if (wj === 0) continue;
        const src = (p * n + idx[o * k + j]) * inner;
        for (let i = 0; i < inner; i++) data[dst + i] += wj * x.data[src + i];
      }
    }
  }
  const shape = [...x.shape];
  shape[axis] = out;
  return { shape, data };
}

function resize(ctx: KernelCtx, x: FloatTensor, scales: readonly number[] | undefined, sizes: readonly number[] | undefined, legacy: boolean): FloatTensor {
  const r = x.shape.length;
  const node = ctx.node;
  if (attrInt(node, 'antialias', 0)) throw bad(ctx, 'antialias is not supported');
  if (attr(node, 'axes', 'ints')) throw bad(ctx, 'the axes attribute is not supported');
  let kind = attr(node, 'mode', 'string') ?? 'nearest';
  if (kind === 'bilinear' || kind === 'trilinear') kind = 'linear';
  if (kind !== 'nearest' && kind !== 'linear' && kind !== 'cubic') throw bad(ctx, `mode ${kind} is not supported`);
  const coordName = legacy ? 'asymmetric' : attr(node, 'coordinate_transformation_mode', 'string') ?? 'half_pixel';
  if (coordName === 'tf_crop_and_resize') throw bad(ctx, 'tf_crop_and_resize is not supported');
  const coord = coordinateMode(ctx, coordName);
  const nearest = legacy ? 'legacy' : attr(node, 'nearest_mode', 'string') ?? 'round_prefer_floor';
  const cubicA = attr(node, 'cubic_coeff_a', 'float') ?? -0.75;
  const exclude = attrInt(node, 'exclude_outside', 0) === 1;
  let outShape: number[], sc: number[];
  if (sizes) {
    if (sizes.length !== r) throw bad(ctx, `sizes [${sizes}] do not match rank ${r}`);
    outShape = [...sizes];
    sc = sizes.map((s, i) => r32(s / x.shape[i]));
  } else if (scales) {
    if (scales.length !== r) throw bad(ctx, `scales [${scales}] do not match rank ${r}`);
    sc = scales.map(r32);
    // The product is a float32 one in onnxruntime: 5 × 1.4f is exactly 7 there, 6.9999999 in doubles.
    outShape = x.shape.map((d, i) => Math.floor(Math.fround(d * scales[i])));
  } else throw bad(ctx, 'needs scales or sizes');
  let t = x;
  for (let a = 0; a < r; a++) {
    if (outShape[a] === x.shape[a] && sc[a] === 1) continue;
    t = resampleAxis(t, a, outShape[a], taps(ctx, kind, x.shape[a], outShape[a], sc[a], coord, nearest, cubicA, exclude));
  }
  return t === x ? { shape: x.shape, data: x.data.slice() } : t;
}

const nonEmpty = (t: FloatTensor | undefined) => (t && t.data.length ? Array.from(t.data) : undefined);

export const resizeKernels: Record<string, Kernel> = {
  Resize: (inp, ctx) => {
    const x = need(inp, 0, ctx);
    // Opset 10: (X, scales); from 11: (X, roi, scales, sizes).
    if (ctx.opset < 11) return [resize(ctx, x, nonEmpty(inp[1]), undefined, true)];
    return [resize(ctx, x, nonEmpty(inp[2]), nonEmpty(inp[3])?.map(Math.trunc), false)];
  },
  Upsample: (inp, ctx) => {
    const x = need(inp, 0, ctx);
    const scales = nonEmpty(inp[1]) ?? attr(ctx.node, 'scales', 'floats');
    return [resize(ctx, x, scales, undefined, true)];
  },
};
