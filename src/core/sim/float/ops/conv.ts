// Conv (im2col + GEMM, with pointwise and depthwise fast paths) and ConvTranspose (GEMM + col2im).
import { attr, attrInt, attrInts, type FloatTensor } from '../../../ir';
import { bad, need, type Kernel, type KernelCtx } from '../kernel';
import { gemmAcc, transpose2d } from './gemm';
import { validRange, windowOf, type Window } from './window';

/** Input as [N, C, H, W] whether it is 1-D ([N, C, W]) or 2-D. */
function as4d(x: FloatTensor, ctx: KernelCtx): [number, number, number, number] {
  if (x.shape.length === 4) return x.shape as [number, number, number, number];
  if (x.shape.length === 3) return [x.shape[0], x.shape[1], 1, x.shape[2]];
  throw bad(ctx, `input must be 3-D or 4-D (N, C, spatial…), got [${x.shape}]`);
}

function outShape(x: FloatTensor, n: number, c: number, oh: number, ow: number): number[] {
  return x.shape.length === 3 ? [n, c, ow] : [n, c, oh, ow];
}

/** Lays the receptive fields of channels [c0, c0+cg) out as rows (c, ky, kx) × columns (oy, ox). */
function im2col(x: Float32Array, xOff: number, cg: number, H: number, W: number, w: Window, col: Float32Array): void {
  const { kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = w;
  const N = oh * ow;
  let row = 0;
  for (let c = 0; c < cg; c++) {
    const plane = xOff + c * H * W;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, row++) {
        const base = row * N;
        const [x0, x1] = validRange(ow, W, sw, pl, kx * dw);
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - pt + ky * dh;
          const o = base + oy * ow;
          if (iy < 0 || iy >= H) { col.fill(0, o, o + ow); continue; }
          if (x0 > 0) col.fill(0, o, o + x0);
          const src = plane + iy * W - pl + kx * dw;
          for (let ox = x0; ox < x1; ox++) col[o + ox] = x[src + ox * sw];
          if (x1 < ow) col.fill(0, o + x1, o + ow);
        }
      }
    }
  }
}

/** One output channel of a depthwise conv: direct loops, no column buffer. */
function depthwise(x: Float32Array, xOff: number, H: number, W: number, wt: Float32Array, wOff: number, w: Window, out: Float32Array, oOff: number): void {
  const { kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = w;
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const k = wt[wOff + ky * kw + kx];
      if (k === 0) continue;
      const [x0, x1] = validRange(ow, W, sw, pl, kx * dw);
      for (let oy = 0; oy < oh; oy++) {
        const iy = oy * sh - pt + ky * dh;
        if (iy < 0 || iy >= H) continue;
        const src = xOff + iy * W - pl + kx * dw;
        const o = oOff + oy * ow;
        if (sw === 1) for (let ox = x0; ox < x1; ox++) out[o + ox] += k * x[src + ox];
        else for (let ox = x0; ox < x1; ox++) out[o + ox] += k * x[src + ox * sw];
      }
    }
  }
}

export const conv: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx), wt = need(inp, 1, ctx), b = inp[2];
  const [N, C, H, W] = as4d(x, ctx);
  const group = attrInt(ctx.node, 'group', 1);
  const M = wt.shape[0];
  const kernel = attrInts(ctx.node, 'kernel_shape') ?? wt.shape.slice(2);
  if (wt.shape.length !== x.shape.length || C % group || M % group || wt.shape[1] * group !== C)
    throw bad(ctx, `weight [${wt.shape}] does not fit input [${x.shape}] with group ${group}`);
  const spatial = x.shape.length === 3 ? [W] : [H, W];
  const win = windowOf(ctx, spatial, kernel);
  const { kh, kw, oh, ow } = win;
  const cg = C / group, mg = M / group, P = oh * ow, K = cg * kh * kw;
  const out = new Float32Array(N * M * P);
  if (b) {
    if (b.data.length !== M) throw bad(ctx, `bias has ${b.data.length} values for ${M} output channels`);
    for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) out.fill(b.data[m], (n * M + m) * P, (n * M + m + 1) * P);
  }
  const pointwise = kh === 1 && kw === 1 && win.sh === 1 && win.sw === 1 && win.pt + win.pl + win.pb + win.pr === 0;
  const col = pointwise || cg === 1 ? undefined : ctx.scratch(K * P);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      const xOff = (n * C + g * cg) * H * W;
      const oOff = (n * M + g * mg) * P;
      if (pointwise) {
        gemmAcc(mg, P, K, wt.data, g * mg * K, x.data, xOff, out, oOff);
      } else if (cg === 1) {
        for (let m = 0; m < mg; m++) depthwise(x.data, xOff, H, W, wt.data, (g * mg + m) * K, win, out, oOff + m * P);
      } else {
        im2col(x.data, xOff, cg, H, W, win, col!);
        gemmAcc(mg, P, K, wt.data, g * mg * K, col!, 0, out, oOff);
      }
    }
  }
  return [{ shape: outShape(x, N, M, oh, ow), data: out }];
};

export const convTranspose: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx), wt = need(inp, 1, ctx), b = inp[2];
  const [N, C, H, W] = as4d(x, ctx);
  const node = ctx.node;
  const group = attrInt(node, 'group', 1);
  if (wt.shape.length !== x.shape.length || wt.shape[0] !== C || C % group)
    throw bad(ctx, `weight [${wt.shape}] does not fit input [${x.shape}] with group ${group}`);
  const r = x.shape.length - 2;
  const kernel = attrInts(node, 'kernel_shape') ?? wt.shape.slice(2);
  const strides = attrInts(node, 'strides') ?? new Array(r).fill(1);
  const dil = attrInts(node, 'dilations') ?? new Array(r).fill(1);
  const opad = attrInts(node, 'output_padding') ?? new Array(r).fill(0);
  let pads = [...(attrInts(node, 'pads') ?? new Array(2 * r).fill(0))];
  const outSpec = attrInts(node, 'output_shape');
  const autoPad = attr(node, 'auto_pad', 'string') ?? 'NOTSET';
  const inSp = r === 1 ? [W] : [H, W];
  const outSp: number[] = [];
  for (let i = 0; i < r; i++) {
    const full = strides[i] * (inSp[i] - 1) + opad[i] + (kernel[i] - 1) * dil[i] + 1;
    const target = outSpec ? outSpec[outSpec.length - r + i] : autoPad.startsWith('SAME') ? inSp[i] * strides[i] : undefined;
    if (target !== undefined) {
      // onnxruntime puts the odd pixel at the end for SAME_UPPER and at the start otherwise.
      const total = full - target;
      const half = Math.floor(total / 2);
      const [p0, p1] = autoPad === 'SAME_UPPER' ? [half, total - half] : [total - half, half];
      pads[i] = p0; pads[i + r] = p1;
    }
    outSp.push(full - pads[i] - pads[i + r]);
  }
  if (r === 1) pads = [0, pads[0], 0, pads[1]];
  const [kh, kw] = r === 1 ? [1, kernel[0]] : kernel;
  const [sh, sw] = r === 1 ? [1, strides[0]] : strides;
  const [dh, dw] = r === 1 ? [1, dil[0]] : dil;
  const [OH, OW] = r === 1 ? [1, outSp[0]] : outSp;
  const [pt, pl] = [pads[0], pads[1]];
  const cg = C / group, mg = wt.shape[1], M = mg * group, HW = H * W, KK = kh * kw;
  const out = new Float32Array(N * M * OH * OW);
  if (b) for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) out.fill(b.data[m], (n * M + m) * OH * OW, (n * M + m + 1) * OH * OW);
  const rows = mg * KK;
  const col = ctx.scratch(rows * HW);
  for (let g = 0; g < group; g++) {
    // Weight slice [cg, mg·kh·kw] transposed so the GEMM produces one column row per (m, ky, kx).
    const wT = transpose2d(wt.data, cg, rows, g * cg * rows);
    for (let n = 0; n < N; n++) {
      col.fill(0, 0, rows * HW);
      gemmAcc(rows, HW, cg, wT, 0, x.data, (n * C + g * cg) * HW, col, 0);
      for (let m = 0; m < mg; m++) {
        const plane = (n * M + g * mg + m) * OH * OW;
        for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
          const src = ((m * kh + ky) * kw + kx) * HW;
          for (let iy = 0; iy < H; iy++) {
            const oy = iy * sh - pt + ky * dh;
            if (oy < 0 || oy >= OH) continue;
            for (let ix = 0; ix < W; ix++) {
              const ox = ix * sw - pl + kx * dw;
              if (ox >= 0 && ox < OW) out[plane + oy * OW + ox] += col[src + iy * W + ix];
            }
          }
        }
      }
    }
  }
  return [{ shape: x.shape.length === 3 ? [N, M, OW] : [N, M, OH, OW], data: out }];
};
