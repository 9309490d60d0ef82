// Normalisations: BatchNormalization (inference form), Softmax/LogSoftmax, Instance/LayerNormalization.
import { attr, attrInt } from '../../../ir';
import { bad, need, type Kernel } from '../kernel';
import { normAxis, size } from '../tensor';

const batchNorm: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const [scale, bias, mean, vr] = [1, 2, 3, 4].map((i) => need(inp, i, ctx));
  if (attrInt(ctx.node, 'training_mode', 0) === 1) throw bad(ctx, 'training_mode is not supported');
  const eps = attr(ctx.node, 'epsilon', 'float') ?? 1e-5;
  const C = x.shape.length > 1 ? x.shape[1] : 1;
  const N = x.shape[0] ?? 1;
  const S = x.data.length / (N * C);
  if ([scale, bias, mean, vr].some((t) => t.data.length !== C)) throw bad(ctx, `parameters must hold ${C} values each`);
  const out = new Float32Array(x.data.length);
  for (let c = 0; c < C; c++) {
    // Same arithmetic order as onnxruntime: scale/sqrt(var+eps) folded, then applied per element.
    const a = Math.fround(scale.data[c] / Math.sqrt(Math.fround(vr.data[c] + eps)));
    const b = Math.fround(bias.data[c] - mean.data[c] * a);
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * S;
      for (let i = 0; i < S; i++) out[o + i] = x.data[o + i] * a + b;
    }
  }
  return [{ shape: x.shape, data: out }];
};

function softmax(log: boolean): Kernel {
  return (inp, ctx) => {
    const x = need(inp, 0, ctx);
    const r = x.shape.length;
    // Before opset 13 the input is flattened to 2-D at `axis` (default 1); from 13 it is one axis (default -1).
    const legacy = ctx.opset < 13;
    const axis = normAxis(attrInt(ctx.node, 'axis', legacy ? 1 : -1), Math.max(r, 1), `${ctx.node.opType} (node ${ctx.node.name})`);
    const outer = size(x.shape.slice(0, axis));
    const len = legacy ? size(x.shape.slice(axis)) : x.shape[axis] ?? 1;
    const inner = legacy ? 1 : size(x.shape.slice(axis + 1));
    const out = new Float32Array(x.data.length);
    const d = x.data;
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let mx = -Infinity;
      for (let k = 0; k < len; k++) mx = Math.max(mx, d[base + k * inner]);
      let sum = 0;
      for (let k = 0; k < len; k++) sum += Math.exp(d[base + k * inner] - mx);
      if (log) { const ls = Math.log(sum); for (let k = 0; k < len; k++) out[base + k * inner] = d[base + k * inner] - mx - ls; }
      else for (let k = 0; k < len; k++) out[base + k * inner] = Math.exp(d[base + k * inner] - mx) / sum;
    }
    return [{ shape: x.shape, data: out }];
  };
}

/** Normalises each of `outer` groups of `len` contiguous values, then applies per-position scale/bias. */
function normalize(d: Float32Array, outer: number, len: number, eps: number, affine: (k: number, v: number, group: number) => number): Float32Array {
  const out = new Float32Array(d.length);
  for (let o = 0; o < outer; o++) {
    const b = o * len;
    let mean = 0;
    for (let k = 0; k < len; k++) mean += d[b + k];
    mean /= len;
    let v = 0;
    for (let k = 0; k < len; k++) { const e = d[b + k] - mean; v += e * e; }
    const inv = 1 / Math.sqrt(v / len + eps);
    for (let k = 0; k < len; k++) out[b + k] = affine(k, (d[b + k] - mean) * inv, o);
  }
  return out;
}

const instanceNorm: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx), s = need(inp, 1, ctx), b = need(inp, 2, ctx);
  const [N, C] = x.shape;
  const len = x.data.length / (N * C);
  const eps = attr(ctx.node, 'epsilon', 'float') ?? 1e-5;
  return [{ shape: x.shape, data: normalize(x.data, N * C, len, eps, (_, v, g) => v * s.data[g % C] + b.data[g % C]) }];
};

const layerNorm: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx), s = need(inp, 1, ctx), b = inp[2];
  if (ctx.node.outputs.slice(1).some((o) => o)) throw bad(ctx, 'the Mean and InvStdDev outputs are not supported');
  const axis = normAxis(attrInt(ctx.node, 'axis', -1), x.shape.length, `LayerNormalization (node ${ctx.node.name})`);
  const len = size(x.shape.slice(axis));
  if (s.data.length !== len || (b && b.data.length !== len)) throw bad(ctx, `scale and bias must hold ${len} values`);
  const eps = attr(ctx.node, 'epsilon', 'float') ?? 1e-5;
  return [{ shape: x.shape, data: normalize(x.data, x.data.length / len, len, eps, (k, v) => v * s.data[k] + (b ? b.data[k] : 0)) }];
};

export const normKernels: Record<string, Kernel> = {
  BatchNormalization: batchNorm,
  Softmax: softmax(false),
  LogSoftmax: softmax(true),
  InstanceNormalization: instanceNorm,
  LayerNormalization: layerNorm,
};
