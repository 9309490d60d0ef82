// Element decoding for every dtype a ConstTensor can hold. float16/bfloat16/float8/4-bit types are
// stored as raw little-endian bytes, and so is any numeric tensor whose bytes sit misaligned in the file
// (see ir/tensor.ts); these functions turn any of them into numbers.
import type { ConstTensor, DType, TensorValues } from '../ir';

type Numeric = Exclude<TensorValues, readonly string[]>;
export type TypedCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): Numeric; BYTES_PER_ELEMENT: number };

/** The typed array class holding each dtype's elements; raw-byte dtypes use Uint8Array. */
export function ctorFor(dtype: DType): TypedCtor {
  switch (dtype) {
    case 'float32': case 'complex64': return Float32Array as unknown as TypedCtor;
    case 'float64': case 'complex128': return Float64Array as unknown as TypedCtor;
    case 'int8': return Int8Array as unknown as TypedCtor;
    case 'int16': return Int16Array as unknown as TypedCtor;
    case 'uint16': return Uint16Array as unknown as TypedCtor;
    case 'int32': return Int32Array as unknown as TypedCtor;
    case 'uint32': return Uint32Array as unknown as TypedCtor;
    case 'int64': return BigInt64Array as unknown as TypedCtor;
    case 'uint64': return BigUint64Array as unknown as TypedCtor;
    default: return Uint8Array as unknown as TypedCtor;
  }
}

/**
 * The elements in their dtype's own typed array (Float32Array for float32, BigInt64Array for int64…):
 * the stored array itself when it is one, otherwise a decoded copy that belongs to the caller and is
 * not kept in the model. Raw-byte dtypes (float16, float8, 4-bit, bool) come back as their bytes.
 */
export function typedValues(t: ConstTensor): TensorValues {
  const v = t.values;
  if (Array.isArray(v)) return v;
  const C = ctorFor(t.dtype);
  if (v instanceof C) return v;
  const bytes = v as Uint8Array;
  // One memcpy into a fresh (hence aligned) buffer; bytes the shape does not cover were rejected on read.
  return new C(bytes.slice().buffer, 0, Math.floor(bytes.byteLength / C.BYTES_PER_ELEMENT));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function bfloat16ToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}

/** Decodes one 8-bit float of the given OCP/ONNX flavour (onnx docs/Operators FP8 table). */
export function float8ToFloat(v: number, dtype: DType): number {
  const sign = v & 0x80 ? -1 : 1;
  switch (dtype) {
    case 'float8e4m3fn': {
      const e = (v >> 3) & 0xf, m = v & 7;
      if (e === 15 && m === 7) return NaN;
      return sign * (e === 0 ? m * 2 ** -9 : (1 + m / 8) * 2 ** (e - 7));
    }
    case 'float8e4m3fnuz': {
      if (v === 0x80) return NaN;
      const e = (v >> 3) & 0xf, m = v & 7;
      return sign * (e === 0 ? m * 2 ** -10 : (1 + m / 8) * 2 ** (e - 8));
    }
    case 'float8e5m2': {
      const e = (v >> 2) & 0x1f, m = v & 3;
      if (e === 31) return m ? NaN : sign * Infinity;
      return sign * (e === 0 ? m * 2 ** -16 : (1 + m / 4) * 2 ** (e - 15));
    }
    case 'float8e5m2fnuz': {
      if (v === 0x80) return NaN;
      const e = (v >> 2) & 0x1f, m = v & 3;
      return sign * (e === 0 ? m * 2 ** -17 : (1 + m / 4) * 2 ** (e - 16));
    }
    default: throw new Error(`not a float8 type: ${dtype}`);
  }
}

const FP4: readonly number[] = [0, 0.5, 1, 1.5, 2, 3, 4, 6];

/** Number of elements a tensor holds. */
export function elementCount(t: ConstTensor): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

/** Every element as a float64 (complex tensors: interleaved real, imaginary; strings: parsed or NaN). */
export function toFloat64(t: ConstTensor): Float64Array {
  const n = elementCount(t);
  const v = t.values;
  switch (t.dtype) {
    case 'string': return Float64Array.from(v as readonly string[], (s) => Number(s));
    case 'int64': case 'uint64': return Float64Array.from(typedValues(t) as BigInt64Array, (x) => Number(x));
    case 'float16': case 'bfloat16': {
      const b = v as Uint8Array;
      const out = new Float64Array(n);
      const dec = t.dtype === 'float16' ? halfToFloat : bfloat16ToFloat;
      for (let i = 0; i < n; i++) out[i] = dec(b[2 * i] | (b[2 * i + 1] << 8));
      return out;
    }
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz': {
      const b = v as Uint8Array;
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = float8ToFloat(b[i], t.dtype);
      return out;
    }
    case 'int4': case 'uint4': case 'float4e2m1': {
      // Two per byte, first element in the low nibble.
      const b = v as Uint8Array;
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const nib = (b[i >> 1] >> ((i & 1) * 4)) & 0xf;
        out[i] = t.dtype === 'uint4' ? nib : t.dtype === 'int4' ? (nib << 28) >> 28 : (nib & 8 ? -1 : 1) * FP4[nib & 7];
      }
      return out;
    }
    case 'bool': return Float64Array.from(v as Uint8Array, (x) => (x ? 1 : 0));
    default: return Float64Array.from(typedValues(t) as ArrayLike<number>);
  }
}
