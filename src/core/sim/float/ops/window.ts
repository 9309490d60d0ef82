// Sliding-window geometry shared by Conv and the pools: strides, dilations, pads, auto_pad, ceil_mode.
import { attr, attrInt, attrInts } from '../../../ir';
import { bad, type KernelCtx } from '../kernel';

/** A 2-D window; 1-D ops are run as H = 1. */
export interface Window {
  readonly kh: number; readonly kw: number;
  readonly sh: number; readonly sw: number;
  readonly dh: number; readonly dw: number;
  /** Padding at the top, left, bottom, right. */
  readonly pt: number; readonly pl: number; readonly pb: number; readonly pr: number;
  readonly oh: number; readonly ow: number;
}

function axisGeometry(
  ctx: KernelCtx, autoPad: string, ceil: boolean,
  n: number, k: number, s: number, d: number, p0: number, p1: number,
): [out: number, begin: number, end: number] {
  const ek = (k - 1) * d + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const out = Math.ceil(n / s);
    const total = Math.max(0, (out - 1) * s + ek - n);
    const small = Math.floor(total / 2);
    return autoPad === 'SAME_UPPER' ? [out, small, total - small] : [out, total - small, small];
  }
  if (autoPad === 'VALID') { p0 = 0; p1 = 0; }
  else if (autoPad !== 'NOTSET' && autoPad !== '') throw bad(ctx, `auto_pad ${autoPad} is not an ONNX value`);
  const span = n + p0 + p1 - ek;
  if (span < 0) throw bad(ctx, `the window (${ek}) is larger than the padded input (${n + p0 + p1})`);
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // A window may not start inside the end padding (ONNX and onnxruntime drop it).
  if (ceil && (out - 1) * s >= n + p0) out--;
  return [out, p0, p1];
}

/** The geometry of a window of `kernel` over an input of spatial size `spatial` ([W] or [H, W]). */
export function windowOf(ctx: KernelCtx, spatial: readonly number[], kernel: readonly number[]): Window {
  const r = spatial.length;
  if (r !== 1 && r !== 2) throw bad(ctx, `only 1-D and 2-D windows are supported, this one is ${r}-D`);
  if (kernel.length !== r) throw bad(ctx, `kernel has ${kernel.length} dimensions, the input ${r} spatial ones`);
  const node = ctx.node;
  const strides = attrInts(node, 'strides') ?? new Array(r).fill(1);
  const dil = attrInts(node, 'dilations') ?? new Array(r).fill(1);
  const pads = attrInts(node, 'pads') ?? new Array(2 * r).fill(0);
  if (strides.length !== r || dil.length !== r || pads.length !== 2 * r) throw bad(ctx, 'strides, dilations or pads do not match the kernel rank');
  const autoPad = attr(node, 'auto_pad', 'string') ?? 'NOTSET';
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const geo = spatial.map((n, i) => axisGeometry(ctx, autoPad, ceil, n, kernel[i], strides[i], dil[i], pads[i], pads[i + r]));
  if (r === 1) {
    const [ow, pl, pr] = geo[0];
    return { kh: 1, kw: kernel[0], sh: 1, sw: strides[0], dh: 1, dw: dil[0], pt: 0, pl, pb: 0, pr, oh: 1, ow };
  }
  const [[oh, pt, pb], [ow, pl, pr]] = geo;
  return { kh: kernel[0], kw: kernel[1], sh: strides[0], sw: strides[1], dh: dil[0], dw: dil[1], pt, pl, pb, pr, oh, ow };
}

/** The first and one-past-last output x whose input coordinate x·s - p + off falls inside [0, n). */
export function validRange(outN: number, n: number, s: number, p: number, off: number): [number, number] {
  const lo = Math.max(0, Math.ceil((p - off) / s));
  const hi = Math.min(outN, Math.floor((n - 1 + p - off) / s) + 1);
  return [lo, Math.max(lo, hi)];
}
