// TensorProto ⇄ ConstTensor. Decoding never copies tensor data: raw_data becomes a typed-array view over
// the file's bytes when its offset suits the element size, and stays a Uint8Array view of the same bytes
// otherwise (decoded on demand by typedValues/toFloat64), so a large model costs its own size.
import { InputError } from '../errors';
import { ONNX_DTYPE, ONNX_DTYPE_CODE, bitsPerElement, type ConstTensor, type DType, type TensorValues } from '../ir';
import { ctorFor } from './values';
import { ProtoReader, ProtoWriter, WireType } from './wire';

/** Bytes of storage for `count` elements of `dtype` (4-bit types pack two per byte). */
export function storageBytes(dtype: DType, count: number): number {
  const bits = bitsPerElement(dtype);
  return bits === 4 ? Math.ceil(count / 2) : (count * bits) / 8;
}

export function dtypeFromCode(code: number, what: string): DType {
  const dt = ONNX_DTYPE[code];
  if (!dt) throw new InputError(`${what} has unknown data type ${code}`);
  return dt;
}

/**
 * Wraps little-endian bytes as `dtype`'s typed array when their offset is a multiple of the element size,
 * else returns the bytes themselves: raw_data offsets in a file are arbitrary (most fall misaligned), and
 * copying them would double a model's memory. Consumers read numbers through typedValues/toFloat64.
 */
export function viewBytes(dtype: DType, bytes: Uint8Array): TensorValues {
  const C = ctorFor(dtype);
  if (bytes.byteOffset % C.BYTES_PER_ELEMENT !== 0) return bytes;
  return new C(bytes.buffer, bytes.byteOffset, bytes.byteLength / C.BYTES_PER_ELEMENT);
}

interface RawTensor {
  name: string;
  dims: number[];
  dataType: number;
  raw?: Uint8Array;
  /** float_data / double_data when packed: the wire bytes are already little-endian IEEE. */
  packedFloat?: Uint8Array;
  packedDouble?: Uint8Array;
  floats: number[];
  doubles: number[];
  int32s: number[];
  int64s: bigint[];
  uint64s: bigint[];
  strings: Uint8Array[];
  external?: Map<string, string>;
  location: number;
}

function readBig(r: ProtoReader, wt: number, out: bigint[], unsigned: boolean): void {
  const one = () => {
    const start = r.pos;
    const v = r.uvarint();
    if (v <= Number.MAX_SAFE_INTEGER) return BigInt(v);
    // Beyond 2^53 (or negative): re-read exactly byte by byte.
    let x = 0n;
    let shift = 0n;
    for (let p = start; p < r.pos; p++, shift += 7n) x |= BigInt(r.buf[p] & 0x7f) << shift;
    return unsigned ? BigInt.asUintN(64, x) : BigInt.asIntN(64, x);
  };
  if (wt === WireType.Bytes) {
    const n = r.length();
    const end = r.pos + n;
    while (r.pos < end) out.push(one());
  } else out.push(one());
}

function readRaw(r: ProtoReader): RawTensor {
  const t: RawTensor = { name: '', dims: [], dataType: 0, floats: [], doubles: [], int32s: [], int64s: [], uint64s: [], strings: [], location: 0 };
  while (!r.done) {
    const [f, wt] = r.tag();
    switch (f) {
      case 1: r.repeated(wt, () => r.int64(), t.dims); break;
      case 2: t.dataType = r.int32(); break;
      case 4:
        if (wt === WireType.Bytes) t.packedFloat = r.bytes();
        else t.floats.push(r.float());
        break;
      case 5: r.repeated(wt, () => r.int32(), t.int32s); break;
      case 6: t.strings.push(r.bytes()); break;
      case 7: readBig(r, wt, t.int64s, false); break;
      case 8: t.name = r.string(); break;
      case 9: t.raw = r.bytes(); break;
      case 10:
        if (wt === WireType.Bytes) t.packedDouble = r.bytes();
        else t.doubles.push(r.double());
        break;
      case 11: readBig(r, wt, t.uint64s, true); break;
      case 13: {
        const e = r.message();
        let key = '';
        let value = '';
        while (!e.done) {
          const [ef, ewt] = e.tag();
          if (ef === 1) key = e.string();
          else if (ef === 2) value = e.string();
          else e.skip(ewt);
        }
        (t.external ??= new Map()).set(key, value);
        break;
      }
      case 14: t.location = r.int32(); break;
      default: r.skip(wt);
    }
  }
  return t;
}

/** Decodes one TensorProto message. `what` names it in errors ("initializer", "attribute value of node X"). */
export function readTensor(r: ProtoReader, what: string): ConstTensor {
  const t = readRaw(r);
  const label = t.name ? `tensor "${t.name}"` : what;
  if (t.location === 1 || t.external) {
    const file = t.external?.get('location') ?? '?';
    throw new InputError(
      `the model uses external data file "${file}" for ${label}, which cannot be opened here; save with all tensors inside the file`,
    );
  }
  const dtype = dtypeFromCode(t.dataType, label);
  for (const d of t.dims) if (!(d >= 0)) throw new InputError(`${label} has a negative dimension in its shape [${t.dims.join(', ')}]`);
  const count = t.dims.reduce((a, b) => a * b, 1);
  const values = decodeValues(t, dtype, count, label);
  return { name: t.name, dtype, shape: t.dims, values };
}

function decodeValues(t: RawTensor, dtype: DType, count: number, label: string): TensorValues {
  const mismatch = (have: number, unit: string): never => {
    throw new InputError(`${label} holds ${have} ${unit} but its shape [${t.dims.join(', ')}] of ${dtype} needs ${unit === 'bytes' ? storageBytes(dtype, count) : count}`);
  };
  if (dtype === 'string') {
    if (t.strings.length !== count) mismatch(t.strings.length, 'strings');
    const dec = new TextDecoder();
    return t.strings.map((s) => dec.decode(s));
  }
  const complex = dtype === 'complex64' || dtype === 'complex128' ? 2 : 1;
  if (t.raw) {
    const need = storageBytes(dtype, count);
    if (t.raw.byteLength !== need) mismatch(t.raw.byteLength, 'bytes');
    return viewBytes(dtype, t.raw);
  }
  if (t.packedFloat || t.floats.length) {
    const bytes = t.packedFloat ?? new Uint8Array(Float32Array.from(t.floats).buffer);
    if (dtype !== 'float32' && dtype !== 'complex64') throw new InputError(`${label} stores ${dtype} data in float_data`);
    if (bytes.byteLength !== 4 * count * complex) mismatch(bytes.byteLength / 4, 'floats');
    return viewBytes(dtype, bytes);
  }
  if (t.packedDouble || t.doubles.length) {
    const bytes = t.packedDouble ?? new Uint8Array(Float64Array.from(t.doubles).buffer);
    if (dtype !== 'float64' && dtype !== 'complex128') throw new InputError(`${label} stores ${dtype} data in double_data`);
    if (bytes.byteLength !== 8 * count * complex) mismatch(bytes.byteLength / 8, 'doubles');
    return viewBytes(dtype, bytes);
  }
  if (t.int64s.length) {
    if (dtype !== 'int64') throw new InputError(`${label} stores ${dtype} data in int64_data`);
    if (t.int64s.length !== count) mismatch(t.int64s.length, 'values');
    return BigInt64Array.from(t.int64s);
  }
  if (t.uint64s.length) {
    if (t.uint64s.length !== count) mismatch(t.uint64s.length, 'values');
    if (dtype === 'uint64') return BigUint64Array.from(t.uint64s);
    if (dtype === 'uint32') return Uint32Array.from(t.uint64s, (v) => Number(v));
    throw new InputError(`${label} stores ${dtype} data in uint64_data`);
  }
  if (t.int32s.length) return fromInt32Data(t.int32s, dtype, count, label, mismatch);
  if (count === 0) return viewBytes(dtype, new Uint8Array(0));
  throw new InputError(`${label} has shape [${t.dims.join(', ')}] but holds no data`);
}

/** int32_data carries every narrow type, one element per int32 (4-bit types: one packed byte per int32). */
function fromInt32Data(v: number[], dtype: DType, count: number, label: string, mismatch: (have: number, unit: string) => never): TensorValues {
  const bits = bitsPerElement(dtype);
  const expected = bits === 4 ? Math.ceil(count / 2) : count;
  if (v.length !== expected) mismatch(v.length, 'values');
  switch (dtype) {
    case 'int32': return Int32Array.from(v);
    case 'int8': return Int8Array.from(v);
    case 'int16': return Int16Array.from(v);
    case 'uint16': return Uint16Array.from(v);
    case 'uint8': case 'bool': case 'int4': case 'uint4': case 'float4e2m1':
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz':
      return Uint8Array.from(v);
    case 'float16': case 'bfloat16': {
      // Bit patterns, stored as raw little-endian bytes like raw_data would hold them.
      return new Uint8Array(Uint16Array.from(v).buffer);
    }
    default: throw new InputError(`${label} stores ${dtype} data in int32_data`);
  }
}

/** Encodes a ConstTensor as raw_data (strings as string_data), the form every ONNX reader accepts. */
export function writeTensor(t: ConstTensor): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.shape) w.varint(1, d);
  w.varint(2, ONNX_DTYPE_CODE[t.dtype]);
  if (t.name) w.string(8, t.name);
  if (t.dtype === 'string') {
    for (const s of t.values as readonly string[]) w.string(6, s);
  } else {
    const v = t.values as Exclude<TensorValues, readonly string[]>;
    w.bytes(9, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return w;
}
