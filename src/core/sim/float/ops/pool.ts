// Max/average pooling over windows, and their global forms.
import { attrInt, attrInts, type FloatTensor } from '../../../ir';
import { bad, need, type Kernel, type KernelCtx } from '../kernel';
import { windowOf, type Window } from './window';

function pool(ctx: KernelCtx, x: FloatTensor, kind: 'max' | 'avg'): FloatTensor {
  const r = x.shape.length - 2;
  if (r !== 1 && r !== 2) throw bad(ctx, `only 1-D and 2-D pooling is supported, input is [${x.shape}]`);
  const kernel = attrInts(ctx.node, 'kernel_shape');
  if (!kernel) throw bad(ctx, 'kernel_shape is required');
  const [N, C] = x.shape;
  const H = r === 1 ? 1 : x.shape[2], W = x.shape[x.shape.length - 1];
  const win = windowOf(ctx, r === 1 ? [W] : [H, W], kernel);
  const { kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow } = win;
  if (kind === 'max') return { shape: r === 1 ? [N, C, ow] : [N, C, oh, ow], data: separableMax(x, win, N * C, H, W) };
  const includePad = attrInt(ctx.node, 'count_include_pad', 0) === 1;
  const out = new Float32Array(N * C * oh * ow);
  const xs = x.data;
  for (let p = 0; p < N * C; p++) {
    const src = p * H * W, dst = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - pt;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pl;
        let acc = 0, count = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = y0 + ky * dh;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = x0 + kx * dw;
            if (ix < 0 || ix >= W) continue;
            acc += xs[src + iy * W + ix];
            count++;
          }
        }
        if (includePad) {
          // Pads count, but window parts that ceil_mode pushed past the padding do not.
          const hEnd = Math.min(y0 + (kh - 1) * dh + 1, H + pb), wEnd = Math.min(x0 + (kw - 1) * dw + 1, W + pr);
          count = Math.ceil((hEnd - y0) / dh) * Math.ceil((wEnd - x0) / dw);
        }
        out[dst + oy * ow + ox] = count ? acc / count : 0;
      }
    }
  }
  return { shape: r === 1 ? [N, C, ow] : [N, C, oh, ow], data: out };
}

/**
 * Max pooling as two 1-D passes (rows, then columns): a k×k maximum is the maximum of k row maxima,
 * so each output costs 2k comparisons instead of k² (the 13×13 SPP pools of YOLO).
 */
function separableMax(x: FloatTensor, win: Window, planes: number, H: number, W: number): Float32Array {
  const { kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = win;
  const rows = new Float32Array(H * ow);
  const out = new Float32Array(planes * oh * ow);
  const xs = x.data;
  for (let p = 0; p < planes; p++) {
    const src = p * H * W;
    for (let y = 0; y < H; y++) {
      const r = src + y * W;
      for (let ox = 0; ox < ow; ox++) {
        let m = -Infinity;
        for (let kx = 0, ix = ox * sw - pl; kx < kw; kx++, ix += dw) {
          if (ix < 0 || ix >= W) continue;
          const v = xs[r + ix];
          if (v > m || v !== v) m = v;
        }
        rows[y * ow + ox] = m;
      }
    }
    const dst = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let m = -Infinity;
        for (let ky = 0, iy = oy * sh - pt; ky < kh; ky++, iy += dh) {
          if (iy < 0 || iy >= H) continue;
          const v = rows[iy * ow + ox];
          if (v > m || v !== v) m = v;
        }
        out[dst + oy * ow + ox] = m;
      }
    }
  }
  return out;
}

function globalPool(x: FloatTensor, kind: 'max' | 'avg', ctx: KernelCtx): FloatTensor {
  if (x.shape.length < 3) throw bad(ctx, `input must be N×C×spatial, got [${x.shape}]`);
  const [N, C] = x.shape;
  const S = x.data.length / (N * C);
  const out = new Float32Array(N * C);
  for (let p = 0; p < N * C; p++) {
    let acc = kind === 'max' ? -Infinity : 0;
    const o = p * S;
    if (kind === 'max') for (let i = 0; i < S; i++) { const v = x.data[o + i]; if (v > acc) acc = v; }
    else { for (let i = 0; i < S; i++) acc += x.data[o + i]; acc /= S; }
    out[p] = acc;
  }
  return { shape: [N, C, ...x.shape.slice(2).map(() => 1)], data: out };
}

export const poolKernels: Record<string, Kernel> = {
  MaxPool: (inp, ctx) => {
    if (ctx.node.outputs[1]) throw bad(ctx, 'the Indices output is not supported');
    if (attrInt(ctx.node, 'storage_order', 0) !== 0) throw bad(ctx, 'storage_order 1 is not supported');
    return [pool(ctx, need(inp, 0, ctx), 'max')];
  },
  AveragePool: (inp, ctx) => [pool(ctx, need(inp, 0, ctx), 'avg')],
  GlobalAveragePool: (inp, ctx) => [globalPool(need(inp, 0, ctx), 'avg', ctx)],
  GlobalMaxPool: (inp, ctx) => [globalPool(need(inp, 0, ctx), 'max', ctx)],
};
