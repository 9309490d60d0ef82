// QuantizeLinear / DequantizeLinear with ONNX semantics: round half to even, saturate to the zero
// point's integer type, per-tensor or per-axis scales.
import { attrInt, ONNX_DTYPE, type DType, type FloatTensor } from '../../../ir';
import { bad, need, type Kernel, type KernelCtx } from '../kernel';
import { normAxis, size } from '../tensor';

const RANGES: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int4: [-8, 7], uint4: [0, 15], int32: [-2147483648, 2147483647],
};

/**
 * The parameter layout over x: `outer` blocks of C channels of `inner` elements (C = 1, inner = all
 * for per-tensor parameters).
 */
function layout(ctx: KernelCtx, x: FloatTensor, params: FloatTensor): { C: number; inner: number } {
  const n = x.data.length;
  if (params.data.length === 1) return { C: 1, inner: n };
  if (attrInt(ctx.node, 'block_size', 0) !== 0) throw bad(ctx, 'blocked quantization is not supported');
  const axis = normAxis(attrInt(ctx.node, 'axis', 1), x.shape.length, `${ctx.node.opType} (node ${ctx.node.name})`);
  const C = x.shape[axis];
  if (params.data.length !== C) throw bad(ctx, `${params.data.length} scales for axis ${axis} of size ${C}`);
  return { C, inner: size(x.shape.slice(axis + 1)) };
}

/** The integer type QuantizeLinear produces: the zero point's, else output_dtype, else uint8. */
export function quantizedType(ctx: KernelCtx): DType {
  const zp = ctx.node.inputs[2];
  if (zp) return ctx.dtype(zp);
  const code = attrInt(ctx.node, 'output_dtype', 0);
  return code ? ONNX_DTYPE[code] ?? 'uint8' : 'uint8';
}

const quantize: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx), scale = need(inp, 1, ctx), zp = inp[2];
  const type = quantizedType(ctx);
  const range = RANGES[type];
  if (!range) throw bad(ctx, `quantizing to ${type} is not supported`);
  const [lo, hi] = range;
  const { C, inner } = layout(ctx, x, scale);
  const out = new Float32Array(x.data.length);
  const xs = x.data;
  for (let base = 0, c = 0; base < xs.length; base += inner, c = (c + 1) % C) {
    const s = scale.data[c], z = zp ? zp.data[c] : 0;
    for (let i = base; i < base + inner; i++) {
      // x / scale is rounded to float32 first, as onnxruntime divides in float32; then half to even.
      const q = Math.fround(xs[i] / s);
      let r = Math.round(q);
      if (r - q === 0.5 && r % 2 !== 0) r -= 1;
      const v = r + z;
      out[i] = v < lo ? lo : v > hi ? hi : v;
    }
  }
  return [{ shape: x.shape, data: out }];
};

const dequantize: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx), scale = need(inp, 1, ctx), zp = inp[2];
  const { C, inner } = layout(ctx, x, scale);
  const out = new Float32Array(x.data.length);
  const xs = x.data;
  for (let base = 0, c = 0; base < xs.length; base += inner, c = (c + 1) % C) {
    const s = scale.data[c], z = zp ? zp.data[c] : 0;
    for (let i = base; i < base + inner; i++) out[i] = (xs[i] - z) * s;
  }
  return [{ shape: x.shape, data: out }];
};

export const quantKernels: Record<string, Kernel> = {
  QuantizeLinear: quantize,
  DequantizeLinear: dequantize,
};
