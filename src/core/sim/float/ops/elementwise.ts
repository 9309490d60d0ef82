// Element-wise ops: unary maps and n-ary numpy-broadcast ops.
import { attr, type FloatTensor } from '../../../ir';
import { bad, isIntType, need, type Kernel, type KernelCtx } from '../kernel';
import { broadcastShapes, broadcastStrides, size } from '../tensor';

type F1 = (x: number) => number;
type F2 = (x: number, y: number) => number;

function map(x: FloatTensor, f: F1): FloatTensor {
  const a = x.data;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f(a[i]);
  return { shape: x.shape, data: out };
}

const unary = (f: F1): Kernel => (inp, ctx) => [map(need(inp, 0, ctx), f)];

function fattr(ctx: KernelCtx, name: string, fallback: number): number {
  return attr(ctx.node, name, 'float') ?? fallback;
}

/** Round half to even, as ONNX Round and QuantizeLinear do. */
export function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// Abramowitz–Stegun 7.1.26 is only 1e-7 absolute; Gelu needs erf to float32 precision, so use the
// series for small |x| and the continued fraction's complement for large.
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax, sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * sum * 2 / Math.sqrt(Math.PI);
  }
  // erfc by Lentz's continued fraction.
  const x2 = ax * ax;
  let f = ax, c = ax, d = 0;
  for (let n = 1; n < 100; n++) {
    const an = n / 2;
    d = ax + an * d; d = 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-x2) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

const relu: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const a = x.data;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) { const v = a[i]; out[i] = v > 0 ? v : 0; }
  return [{ shape: x.shape, data: out }];
};

// exp for the sigmoid: V8 calls out of optimised code for Math.exp, and YOLO-style SiLU runs a sigmoid
// on every activation. 2^k from a table times a degree-10 Taylor polynomial on |t| ≤ ln2/2 is within
// 1e-13 relative of Math.exp — far below float32 resolution.
const POW2_MIN = -130;
const POW2 = Float64Array.from({ length: 261 }, (_, i) => 2 ** (i + POW2_MIN));
const LN2_HI = 0.693145751953125, LN2_LO = 1.4286068203094173e-6;

export function expForSigmoid(x: number): number {
  // Beyond ±88 the float32 sigmoid is 0 or 1 whatever exp returns.
  const v = x < -88 ? -88 : x > 88 ? 88 : x;
  const k = Math.round(v * Math.LOG2E);
  const t = v - k * LN2_HI - k * LN2_LO;
  const p = 1 + t * (1 + t * (1 / 2 + t * (1 / 6 + t * (1 / 24 + t * (1 / 120 + t * (1 / 720 + t * (1 / 5040 + t * (1 / 40320 + t * (1 / 362880 + t / 3628800)))))))));
  return p * POW2[k - POW2_MIN];
}

const sigmoid: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const a = x.data;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = 1 / (1 + expForSigmoid(-a[i]));
  return [{ shape: x.shape, data: out }];
};

const leakyRelu: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const alpha = Math.fround(fattr(ctx, 'alpha', 0.01));
  const a = x.data;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) { const v = a[i]; out[i] = v >= 0 ? v : v * alpha; }
  return [{ shape: x.shape, data: out }];
};

const clip: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  // Opset < 11 holds the bounds in attributes, later opsets in optional inputs.
  let lo = fattr(ctx, 'min', -Infinity), hi = fattr(ctx, 'max', Infinity);
  if (inp[1]) lo = inp[1].data[0];
  if (inp[2]) hi = inp[2].data[0];
  const a = x.data;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) { const v = a[i]; out[i] = v < lo ? lo : v > hi ? hi : v; }
  return [{ shape: x.shape, data: out }];
};

const hardSigmoid: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const alpha = Math.fround(fattr(ctx, 'alpha', 0.2)), beta = Math.fround(fattr(ctx, 'beta', 0.5));
  const a = x.data;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) { const v = alpha * a[i] + beta; out[i] = v < 0 ? 0 : v > 1 ? 1 : v; }
  return [{ shape: x.shape, data: out }];
};

const hardSwish: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const a = x.data;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    const g = v / 6 + 0.5;
    out[i] = v * (g < 0 ? 0 : g > 1 ? 1 : g);
  }
  return [{ shape: x.shape, data: out }];
};

const elu: Kernel = (inp, ctx) => {
  const alpha = fattr(ctx, 'alpha', 1);
  return [map(need(inp, 0, ctx), (v) => (v >= 0 ? v : alpha * (Math.exp(v) - 1)))];
};

const selu: Kernel = (inp, ctx) => {
  const alpha = fattr(ctx, 'alpha', 1.67326319217681884765625), gamma = fattr(ctx, 'gamma', 1.05070102214813232421875);
  return [map(need(inp, 0, ctx), (v) => gamma * (v > 0 ? v : alpha * (Math.exp(v) - 1)))];
};

const gelu: Kernel = (inp, ctx) => {
  const approx = attr(ctx.node, 'approximate', 'string') ?? 'none';
  const k = Math.sqrt(2 / Math.PI);
  return [map(need(inp, 0, ctx), approx === 'tanh'
    ? (v) => 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v * v * v)))
    : (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)))];
};

export const unaryKernels: Record<string, Kernel> = {
  Relu: relu,
  Sigmoid: sigmoid,
  LeakyRelu: leakyRelu,
  Clip: clip,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Elu: elu,
  Selu: selu,
  Gelu: gelu,
  Tanh: unary(Math.tanh),
  Exp: unary(Math.exp),
  Log: unary(Math.log),
  Sqrt: unary(Math.sqrt),
  Neg: unary((v) => -v),
  Abs: unary(Math.abs),
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Round: unary(roundEven),
  Sign: unary(Math.sign),
  Reciprocal: unary((v) => 1 / v),
  Sin: unary(Math.sin),
  Cos: unary(Math.cos),
  Erf: unary(erf),
  Softplus: unary((v) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)))),
  Softsign: unary((v) => v / (1 + Math.abs(v))),
  Mish: unary((v) => v * Math.tanh(v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)))),
  Not: unary((v) => (v ? 0 : 1)),
  IsNaN: unary((v) => (Number.isNaN(v) ? 1 : 0)),
  Identity: (inp, ctx) => [need(inp, 0, ctx)],
};

/**
 * Elementwise `f` over numpy-broadcast inputs. Dimensions that broadcast alike are merged first, so
 * a [N,C,H,W] ⊕ [1,C,1,1] bias add runs as C inner loops of H·W rather than N·C·H loops of W.
 */
export function broadcastMap(ts: readonly FloatTensor[], f: (args: number[]) => number, what: string): FloatTensor {
  const shape = broadcastShapes(ts.map((t) => t.shape), what);
  const n = size(shape);
  const out = new Float32Array(n);
  const k = ts.length;
  const { dims, strides } = coalesce(shape, ts.map((t) => broadcastStrides(t.shape, shape)));
  const rank = dims.length;
  const offs = new Array<number>(k).fill(0);
  const idx = new Array<number>(rank).fill(0);
  const args = new Array<number>(k);
  const inner = rank ? dims[rank - 1] : 1;
  const datas = ts.map((t) => t.data);
  for (let o = 0; o < n; ) {
    for (let j = 0; j < inner; j++) {
      for (let q = 0; q < k; q++) args[q] = datas[q][offs[q] + j * (rank ? strides[q][rank - 1] : 0)];
      out[o++] = f(args);
    }
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      for (let q = 0; q < k; q++) offs[q] += strides[q][d];
      if (idx[d] < dims[d]) break;
      for (let q = 0; q < k; q++) offs[q] -= strides[q][d] * dims[d];
      idx[d] = 0;
    }
  }
  return { shape, data: out };
}

/** Merges adjacent dimensions that are contiguous for every input. */
function coalesce(shape: readonly number[], strides: number[][]): { dims: number[]; strides: number[][] } {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, q) => st[q][last] === s[d] * shape[d])) {
      dims[last] *= shape[d];
      strides.forEach((s, q) => { st[q][last] = s[d]; });
    } else {
      dims.push(shape[d]);
      strides.forEach((s, q) => st[q].push(s[d]));
    }
  }
  return { dims, strides: st };
}

/** A binary op with loops specialised for same-shape, scalar and channel-broadcast cases. */
function binaryOp(a: FloatTensor, b: FloatTensor, f: F2, what: string): FloatTensor {
  const x = a.data, y = b.data;
  if (x.length === y.length && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])) {
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = f(x[i], y[i]);
    return { shape: a.shape, data: out };
  }
  if (y.length === 1 && a.shape.length >= b.shape.length) {
    const out = new Float32Array(x.length);
    const v = y[0];
    for (let i = 0; i < x.length; i++) out[i] = f(x[i], v);
    return { shape: a.shape, data: out };
  }
  if (x.length === 1 && b.shape.length >= a.shape.length) {
    const out = new Float32Array(y.length);
    const v = x[0];
    for (let i = 0; i < y.length; i++) out[i] = f(v, y[i]);
    return { shape: b.shape, data: out };
  }
  return broadcast2(a, b, f, what);
}

/** Two-input broadcast over merged dimensions: one odometer step per inner run, no per-element arrays. */
function broadcast2(a: FloatTensor, b: FloatTensor, f: F2, what: string): FloatTensor {
  const shape = broadcastShapes([a.shape, b.shape], what);
  const n = size(shape);
  const out = new Float32Array(n);
  const { dims, strides } = coalesce(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)]);
  const rank = dims.length;
  if (rank === 0) { if (n) out[0] = f(a.data[0], b.data[0]); return { shape, data: out }; }
  const [sa, sb] = strides;
  const inner = dims[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1];
  const x = a.data, y = b.data;
  const idx = new Array<number>(rank).fill(0);
  let oa = 0, ob = 0;
  for (let o = 0; o < n; ) {
    if (ib === 0) { const v = y[ob]; for (let j = 0, p = oa; j < inner; j++, p += ia) out[o++] = f(x[p], v); }
    else if (ia === 0) { const v = x[oa]; for (let j = 0, q = ob; j < inner; j++, q += ib) out[o++] = f(v, y[q]); }
    else for (let j = 0, p = oa, q = ob; j < inner; j++, p += ia, q += ib) out[o++] = f(x[p], y[q]);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      oa += sa[d]; ob += sb[d];
      if (idx[d] < dims[d]) break;
      oa -= sa[d] * dims[d]; ob -= sb[d] * dims[d];
      idx[d] = 0;
    }
  }
  return { shape, data: out };
}

/**
 * Same-shape arithmetic with the operator written in the loop: the generic loops call `f` through a
 * call site shared by every op, which V8 cannot inline, and SiLU's Mul runs on every activation.
 */
function sameShapeArith(op: string, a: FloatTensor, b: FloatTensor): FloatTensor | undefined {
  const x = a.data, y = b.data, n = x.length;
  if (n !== y.length || a.shape.length !== b.shape.length || !a.shape.every((d, i) => d === b.shape[i])) return undefined;
  const out = new Float32Array(n);
  switch (op) {
    case 'Add': for (let i = 0; i < n; i++) out[i] = x[i] + y[i]; break;
    case 'Sub': for (let i = 0; i < n; i++) out[i] = x[i] - y[i]; break;
    case 'Mul': for (let i = 0; i < n; i++) out[i] = x[i] * y[i]; break;
    case 'Div': for (let i = 0; i < n; i++) out[i] = x[i] / y[i]; break;
    default: return undefined;
  }
  return { shape: a.shape, data: out };
}

function binaryKernel(f: F2, intF?: F2): Kernel {
  return (inp, ctx) => {
    if (!intF || !isIntType(ctx.dtype(ctx.node.outputs[0]))) {
      const fast = sameShapeArith(ctx.node.opType, need(inp, 0, ctx), need(inp, 1, ctx));
      if (fast) return [fast];
    }
    const isInt = intF && isIntType(ctx.dtype(ctx.node.outputs[0]));
    return [binaryOp(need(inp, 0, ctx), need(inp, 1, ctx), isInt ? intF : f, `${ctx.node.opType} (node ${ctx.node.name})`)];
  };
}

/** Max, Min, Sum, Mean take any number of inputs. */
function variadic(f: F2, finish?: (v: number, n: number) => number): Kernel {
  return (inp, ctx) => {
    const ts = inp.filter((t): t is FloatTensor => !!t);
    if (!ts.length) throw bad(ctx, 'needs at least one input');
    let acc = ts[0];
    const what = `${ctx.node.opType} (node ${ctx.node.name})`;
    for (let i = 1; i < ts.length; i++) acc = binaryOp(acc, ts[i], f, what);
    if (finish) {
      const n = ts.length;
      const out = new Float32Array(acc.data.length);
      for (let i = 0; i < out.length; i++) out[i] = finish(acc.data[i], n);
      acc = { shape: acc.shape, data: out };
    } else if (ts.length === 1) {
      acc = { shape: acc.shape, data: acc.data.slice() };
    }
    return [acc];
  };
}

const pow: F2 = (x, y) => Math.pow(x, y);
const max: F2 = (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : x > y ? x : y);
const min: F2 = (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : x < y ? x : y);

export const binaryKernels: Record<string, Kernel> = {
  Add: binaryKernel((x, y) => x + y),
  Sub: binaryKernel((x, y) => x - y),
  Mul: binaryKernel((x, y) => x * y),
  // Integer division truncates (C semantics, as onnxruntime does); PyTorch exports divide shape values.
  Div: binaryKernel((x, y) => x / y, (x, y) => Math.trunc(x / y)),
  Pow: binaryKernel(pow),
  Mod: (inp, ctx) => {
    const fmod = (attr(ctx.node, 'fmod', 'int') ?? 0) === 1;
    return [binaryOp(need(inp, 0, ctx), need(inp, 1, ctx),
      fmod ? (x, y) => x % y : (x, y) => { const r = x % y; return r !== 0 && (r < 0) !== (y < 0) ? r + y : r; },
      `Mod (node ${ctx.node.name})`)];
  },
  PRelu: binaryKernel((x, s) => (x < 0 ? x * s : x)),
  Equal: binaryKernel((x, y) => (x === y ? 1 : 0)),
  Less: binaryKernel((x, y) => (x < y ? 1 : 0)),
  LessOrEqual: binaryKernel((x, y) => (x <= y ? 1 : 0)),
  Greater: binaryKernel((x, y) => (x > y ? 1 : 0)),
  GreaterOrEqual: binaryKernel((x, y) => (x >= y ? 1 : 0)),
  And: binaryKernel((x, y) => (x && y ? 1 : 0)),
  Or: binaryKernel((x, y) => (x || y ? 1 : 0)),
  Xor: binaryKernel((x, y) => (!x !== !y ? 1 : 0)),
  Max: variadic(max),
  Min: variadic(min),
  Sum: variadic((x, y) => x + y),
  Mean: variadic((x, y) => x + y, (v, n) => v / n),
  Where: (inp, ctx) => [broadcastMap([need(inp, 0, ctx), need(inp, 1, ctx), need(inp, 2, ctx)],
    (a) => (a[0] ? a[1] : a[2]), `Where (node ${ctx.node.name})`)],
};
