// Float ops that compute what the DPU computes (dpu-reference §2, docs/simulator.md), for the fake-quant
// run: the average pool's N/2^M factor over the whole kernel, LeakyReLU at exactly 26/256, hard-sigmoid as
// relu6(x + 3)·2731/2^14 and hard-swish with h at fix point 7. Each is exact in float64 and, when its output
// is quantized, rounds once (DPU_ROUND, saturate) inside the op: storing the unrounded float64 value in
// float32 first could move it onto a rounding tie.
import { attr, attrInts, type FloatTensor, type Node } from '../ir';
import { need, type Kernel, type KernelCtx } from '../sim/float/kernel';
import { KERNELS } from '../sim/float/ops';
import { windowOf } from '../sim/float/ops/window';

export const DPU_LEAKY_ALPHA = 26 / 256;
const HSIG_MUL = 2731;
const HSIG_SHIFT = 14;

/** The average pool factor N/2^M the DPU multiplies a window sum by (dpu-reference §2). */
export function avgPoolFactor(kh: number, kw: number): { n: number; m: number } {
  const key = `${Math.min(kh, kw)}x${Math.max(kh, kw)}`;
  const table: Record<string, { n: number; m: number }> = {
    '3x3': { n: 7, m: 6 }, '5x5': { n: 10, m: 8 }, '6x6': { n: 7, m: 8 }, '7x7': { n: 21, m: 10 },
    '14x14': { n: 21, m: 12 }, '3x6': { n: 7, m: 8 },
  };
  if (table[key]) return table[key];
  const count = kh * kw;
  let best = { n: 1, m: 0 };
  let err = Infinity;
  for (let m = 0; m < Math.ceil(Math.log2(count * 128)); m++) {
    const n = Math.round(2 ** m / count);
    const e = Math.abs(n / 2 ** m - 1 / count);
    if (e < err) { err = e; best = { n, m }; }
  }
  return best;
}

/** DPU_ROUND to fix point fp with int8 saturation, on a float64 value. */
function fix(v: number, fp: number): number {
  const q = Math.floor(v * 2 ** fp + 0.5);
  return (q < -128 ? -128 : q > 127 ? 127 : q) * 2 ** -fp;
}

/** Output values through the fix point of the op's output tensor, when it is quantized. */
function emit(ctx: KernelCtx, shape: readonly number[], v: Float64Array, fixPoint: (t: string) => number | undefined): FloatTensor {
  const fp = fixPoint(ctx.node.outputs[0]);
  const out = new Float32Array(v.length);
  if (fp === undefined) out.set(v);
  else for (let i = 0; i < v.length; i++) out[i] = fix(v[i], fp);
  return { shape, data: out };
}

function avgPool(x: FloatTensor, ctx: KernelCtx, kernel: readonly number[], fixPoint: (t: string) => number | undefined): FloatTensor {
  const [N, C, H, W] = x.shape;
  const win = windowOf(ctx, [H, W], kernel);
  const { kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = win;
  const { n, m } = avgPoolFactor(kh, kw);
  const scale = n / 2 ** m;
  const out = new Float64Array(N * C * oh * ow);
  for (let p = 0; p < N * C; p++) {
    const src = p * H * W;
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        let acc = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dw;
            if (ix >= 0 && ix < W) acc += x.data[src + iy * W + ix];
          }
        }
        out[(p * oh + oy) * ow + ox] = acc * scale;
      }
  }
  return emit(ctx, [N, C, oh, ow], out, fixPoint);
}

/** Whether a HardSigmoid node is the DPU's relu6(x + 3)/6 (alpha 1/6, beta 1/2; ONNX's default alpha is 0.2). */
export function isDpuHardSigmoid(n: Node): boolean {
  const alpha = attr(n, 'alpha', 'float') ?? 0.2;
  const beta = attr(n, 'beta', 'float') ?? 0.5;
  return Math.abs(alpha - 1 / 6) < 1e-6 && Math.abs(beta - 0.5) < 1e-6;
}

/**
 * Kernel overrides for the float interpreter that make a fake-quant run compute the DPU's arithmetic.
 * `fixPoint` gives a tensor's fix point when it is quantized.
 */
export function dpuKernels(fixPoint: (tensor: string) => number | undefined): Record<string, Kernel> {
  const hsig = (v: number) => (v + 3 < 0 ? 0 : v + 3 > 6 ? 6 : v + 3) * HSIG_MUL / 2 ** HSIG_SHIFT;
  return {
    AveragePool: (inp, ctx) => {
      const x = need(inp, 0, ctx);
      if (x.shape.length !== 4) return KERNELS.AveragePool(inp, ctx);
      return [avgPool(x, ctx, attrInts(ctx.node, 'kernel_shape') ?? [1, 1], fixPoint)];
    },
    GlobalAveragePool: (inp, ctx) => {
      const x = need(inp, 0, ctx);
      if (x.shape.length !== 4) return KERNELS.GlobalAveragePool(inp, ctx);
      return [avgPool(x, ctx, [x.shape[2], x.shape[3]], fixPoint)];
    },
    LeakyRelu: (inp, ctx) => {
      const alpha = attr(ctx.node, 'alpha', 'float') ?? 0.01;
      if (Math.abs(alpha - DPU_LEAKY_ALPHA) > 1e-6) return KERNELS.LeakyRelu(inp, ctx);
      const x = need(inp, 0, ctx);
      return [emit(ctx, x.shape, Float64Array.from(x.data, (v) => (v < 0 ? v * 26 / 256 : v)), fixPoint)];
    },
    HardSigmoid: (inp, ctx) => {
      if (!isDpuHardSigmoid(ctx.node)) return KERNELS.HardSigmoid(inp, ctx);
      const x = need(inp, 0, ctx);
      return [emit(ctx, x.shape, Float64Array.from(x.data, hsig), fixPoint)];
    },
    HardSwish: (inp, ctx) => {
      const x = need(inp, 0, ctx);
      // h is hard-sigmoid quantized at fix point 7 (half up), as the DPU's hard-swish computes it.
      return [emit(ctx, x.shape, Float64Array.from(x.data, (v) => v * fix(hsig(v), 7)), fixPoint)];
    },
  };
}
