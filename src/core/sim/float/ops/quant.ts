// QuantizeLinear / DequantizeLinear with ONNX semantics: round half to even, saturate to the zero
// point's integer type, per-tensor or per-axis scales.
import { attrInt, ONNX_DTYPE, type DType, type FloatTensor } from '../../../ir';
import { bad, need, type Kernel, type KernelCtx } from '../kernel';
import { normAxis, size } from '../tensor';
import { roundEven } from './elementwise';

const RANGES: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int4: [-8, 7], uint4: [0, 15], int32: [-2147483648, 2147483647],
};

/** Calls f(i, channel) for every element, where channel indexes the per-axis parameters. */
function perAxis(ctx: KernelCtx, x: FloatTensor, params: FloatTensor, f: (i: number, c: number) => void): void {
  const n = x.data.length;
  if (params.data.length === 1) { for (let i = 0; i < n; i++) f(i, 0); return; }
  if (attrInt(ctx.node, 'block_size', 0) !== 0) throw bad(ctx, 'blocked quantization is not supported');
  const axis = normAxis(attrInt(ctx.node, 'axis', 1), x.shape.length, `${ctx.node.opType} (node ${ctx.node.name})`);
  const C = x.shape[axis];
  if (params.data.length !== C) throw bad(ctx, `${params.data.length} scales for axis ${axis} of size ${C}`);
  const inner = size(x.shape.slice(axis + 1));
  for (let i = 0; i < n; i++) f(i, Math.floor(i / inner) % C);
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
  const out = new Float32Array(x.data.length);
  const s = scale.data, z = zp?.data;
  perAxis(ctx, x, scale, (i, c) => {
    // x / scale rounded to float32 first, as onnxruntime divides in float32.
    const v = roundEven(Math.fround(x.data[i] / s[c])) + (z ? z[c] : 0);
    out[i] = v < lo ? lo : v > hi ? hi : v;
  });
  return [{ shape: x.shape, data: out }];
};

const dequantize: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx), scale = need(inp, 1, ctx), zp = inp[2];
  const out = new Float32Array(x.data.length);
  const s = scale.data, z = zp?.data;
  perAxis(ctx, x, scale, (i, c) => { out[i] = (x.data[i] - (z ? z[c] : 0)) * s[c]; });
  return [{ shape: x.shape, data: out }];
};

export const quantKernels: Record<string, Kernel> = {
  QuantizeLinear: quantize,
  DequantizeLinear: dequantize,
};
