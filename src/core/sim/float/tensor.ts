// Dense float32 tensors as the interpreter computes on them, and conversion of constants into that form.
// Integer tensors (shapes, indices, quantized values) ride in float32 too: every integer the supported
// graphs compute on shapes is far below 2^24, where float32 is exact.
import { InputError } from '../../errors';
import type { ConstTensor, DType, FloatTensor } from '../../ir';
import { halfToFloat, typedValues } from '../../onnx/values';

export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensor(shape: readonly number[], data?: Float32Array): FloatTensor {
  const n = size(shape);
  if (data && data.length !== n) throw new Error(`tensor data has ${data.length} elements, shape [${shape}] needs ${n}`);
  return { shape, data: data ?? new Float32Array(n) };
}

export function scalar(v: number): FloatTensor {
  return { shape: [], data: Float32Array.of(v) };
}

/** Row-major strides. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Normalises a possibly negative axis against a rank, rejecting out-of-range ones. */
export function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new InputError(`${what}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** The integers a shape/index tensor holds. */
export function ints(t: FloatTensor): number[] {
  return Array.from(t.data, (v) => Math.trunc(v));
}

/** Multidirectional (numpy) broadcast of shapes. */
export function broadcastShapes(shapes: readonly (readonly number[])[], what: string): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const off = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i];
      const o = out[off + i];
      if (d === o || d === 1) continue;
      if (o === 1) out[off + i] = d;
      else throw new InputError(`${what}: shapes ${shapes.map((x) => `[${x}]`).join(' and ')} do not broadcast`);
    }
  }
  return out;
}

/** Strides to read `shape` as if broadcast to `to` (0 along broadcast axes). */
export function broadcastStrides(shape: readonly number[], to: readonly number[]): number[] {
  const st = stridesOf(shape);
  const off = to.length - shape.length;
  const out = new Array<number>(to.length).fill(0);
  for (let i = 0; i < shape.length; i++) out[off + i] = shape[i] === 1 ? 0 : st[i];
  return out;
}

/** Materialises `t` broadcast to `to`. */
export function expandTo(t: FloatTensor, to: readonly number[]): FloatTensor {
  if (t.shape.length === to.length && t.shape.every((d, i) => d === to[i])) return t;
  const out = new Float32Array(size(to));
  const st = broadcastStrides(t.shape, to);
  forEachIndex(to, st, (o, i) => { out[o] = t.data[i]; });
  return { shape: to, data: out };
}

/**
 * Walks every element of `shape` in row-major order, calling `f(flat, offset)` where offset follows
 * `strides` (so broadcast or permuted reads cost one addition per element).
 */
export function forEachIndex(shape: readonly number[], strides: readonly number[], f: (flat: number, off: number) => void): void {
  const rank = shape.length;
  const n = size(shape);
  if (n === 0) return;
  if (rank === 0) { f(0, 0); return; }
  const idx = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const inner = shape[last];
  const innerStride = strides[last];
  let off = 0;
  for (let flat = 0; flat < n; ) {
    for (let j = 0, o = off; j < inner; j++, o += innerStride) f(flat++, o);
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      off += strides[d];
      if (idx[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/**
 * A constant as float32. Float32 values are shared, not copied, when the file's bytes are aligned
 * (kernels never write their inputs); misaligned ones are decoded once into the interpreter's copy.
 */
export function constToFloat(c: ConstTensor): FloatTensor {
  const v = typedValues(c);
  const shape = c.shape;
  const n = size(shape);
  if (v instanceof Float32Array) return { shape, data: v };
  const out = new Float32Array(n);
  if (Array.isArray(v)) throw new InputError(`float interpreter: tensor "${c.name}" holds strings`);
  const raw = v as Exclude<typeof v, readonly string[]>;
  switch (c.dtype as DType) {
    case 'float16': {
      const b = raw as Uint8Array;
      for (let i = 0; i < n; i++) out[i] = halfToFloat(b[2 * i] | (b[2 * i + 1] << 8));
      return { shape, data: out };
    }
    case 'bfloat16': {
      const b = raw as Uint8Array;
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = (b[2 * i] | (b[2 * i + 1] << 8)) << 16;
      return { shape, data: out };
    }
    case 'bool': {
      const b = raw as Uint8Array;
      for (let i = 0; i < n; i++) out[i] = b[i] ? 1 : 0;
      return { shape, data: out };
    }
    case 'float64': case 'int8': case 'uint8': case 'int16': case 'uint16': case 'int32': case 'uint32':
      for (let i = 0; i < n; i++) out[i] = (raw as Float64Array)[i];
      return { shape, data: out };
    case 'int64': case 'uint64': {
      const b = raw as BigInt64Array;
      for (let i = 0; i < n; i++) out[i] = Number(b[i]);
      return { shape, data: out };
    }
    default:
      throw new InputError(`float interpreter: tensor "${c.name}" has dtype ${c.dtype}, which it cannot read`);
  }
}
