// NumPy .npy / .npz reading and writing. Own parser (the format is a short text header and raw
// little-endian data) so it works on a Uint8Array the same way in browser and Node.
import { unzipSync, zipSync } from 'fflate';
import { InputError } from '../errors';

export type NpyDType = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'float16' | 'float32' | 'float64' | 'bool';

export type NpyData = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | Float32Array | Float64Array;

/** A C-ordered n-dimensional array. float16 data is held as float32; bool as uint8. */
export interface NdArray {
  readonly dtype: NpyDType;
  readonly shape: readonly number[];
  readonly data: NpyData;
}

const DESCR: Readonly<Record<string, { dtype: NpyDType; bytes: number }>> = {
  '|u1': { dtype: 'uint8', bytes: 1 }, '<u1': { dtype: 'uint8', bytes: 1 }, '|b1': { dtype: 'bool', bytes: 1 },
  '|i1': { dtype: 'int8', bytes: 1 }, '<i1': { dtype: 'int8', bytes: 1 },
  '<i2': { dtype: 'int16', bytes: 2 }, '<u2': { dtype: 'uint16', bytes: 2 },
  '<i4': { dtype: 'int32', bytes: 4 }, '<u4': { dtype: 'uint32', bytes: 4 }, '<i8': { dtype: 'int64', bytes: 8 },
  '<f2': { dtype: 'float16', bytes: 2 }, '<f4': { dtype: 'float32', bytes: 4 }, '<f8': { dtype: 'float64', bytes: 8 },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * Random access to a file's bytes: the browser holds them in memory, the CLI reads a large calibration
 * set from disk as it goes, so memory does not grow with the number of samples in the file.
 */
export interface ByteSource {
  readonly size: number;
  /** `length` bytes from `offset`: a view or a fresh copy, used before the next read. */
  read(offset: number, length: number): Uint8Array;
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/** An .npy array whose elements are read on demand (C order; float16 arrives as float32, bool as uint8). */
export interface NpyReader {
  readonly dtype: NpyDType;
  readonly shape: readonly number[];
  /** Bytes per element as read (float16 arrives as 4-byte float32). */
  readonly bytesPerElement: number;
  /** Elements [start, start + count) in an aligned typed array of their own. */
  read(start: number, count: number): NpyData;
}

/** Parses the header once and checks the data size against the shape; reads nothing else. */
export function openNpy(src: ByteSource, name = 'array'): NpyReader {
  const head = src.read(0, Math.min(src.size, 12));
  if (head.length < 10 || MAGIC.some((m, i) => head[i] !== m)) throw new InputError(`${name} is not a .npy file (no \\x93NUMPY magic)`);
  const major = head[6];
  if (major < 1 || major > 3) throw new InputError(`${name}: unsupported .npy format version ${major}`);
  const start = major === 1 ? 10 : 12;
  if (src.size < start) throw new InputError(`${name}: .npy header is truncated`);
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (start + headerLen > src.size) throw new InputError(`${name}: .npy header is truncated (it claims ${headerLen} bytes)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(src.read(start, headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new InputError(`${name}: unreadable .npy header`);
  const kind = DESCR[descr];
  if (!kind) throw new InputError(`${name}: unsupported .npy dtype ${descr} (use uint8 or float32)`);
  if (fortran === 'True') throw new InputError(`${name}: Fortran-ordered .npy is not supported (save with np.ascontiguousarray)`);
  const parts = shapeText.split(',').map((s) => s.trim());
  // numpy writes "(n,)" for one dimension: only the last part may be empty.
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 1 && parts[0] === '') parts.pop();
  // Python 2 wrote long dims as 2L.
  if (parts.some((p) => !/^\d{1,15}L?$/.test(p))) throw new InputError(`${name}: .npy shape (${shapeText}) is not a list of non-negative integers`);
  const shape = parts.map((p) => Number(p.replace('L', '')));
  const n = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const have = src.size - offset;
  const need = n * kind.bytes;
  if (have !== need) {
    throw new InputError(`${name}: .npy data is ${have < need ? 'truncated' : 'longer than its shape'}: shape (${shape.join(', ')}) of ${descr} needs ${need} bytes, the file holds ${have}`);
  }
  const read = (first: number, count: number): NpyData => {
    if (!(Number.isInteger(first) && Number.isInteger(count) && first >= 0 && count >= 0 && first + count <= n)) throw new RangeError(`${name}: elements [${first}, ${first + count}) outside its ${n}`);
    const b = src.read(offset + first * kind.bytes, count * kind.bytes);
    if (b.length !== count * kind.bytes) throw new InputError(`${name}: the file changed while it was read (${b.length} of ${count * kind.bytes} bytes at element ${first})`);
    // A block of its own is used as is; a view into a larger buffer is copied, so it is aligned
    // (the data offset is only 16-aligned within the file) and does not pin the file's bytes.
    const raw = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? (b.buffer as ArrayBuffer) : b.slice().buffer;
    switch (kind.dtype) {
      case 'uint8': case 'bool': return new Uint8Array(raw);
      case 'int8': return new Int8Array(raw);
      case 'int16': return new Int16Array(raw);
      case 'uint16': return new Uint16Array(raw);
      case 'int32': return new Int32Array(raw);
      case 'uint32': return new Uint32Array(raw);
      case 'int64': return new BigInt64Array(raw);
      case 'float32': return new Float32Array(raw);
      case 'float64': return new Float64Array(raw);
      case 'float16': return Float32Array.from(new Uint16Array(raw), halfToFloat);
    }
  };
  return { dtype: kind.dtype === 'float16' ? 'float32' : kind.dtype, shape, bytesPerElement: kind.dtype === 'float16' ? 4 : kind.bytes, read };
}

export function parseNpy(bytes: Uint8Array, name = 'array'): NdArray {
  const r = openNpy(memorySource(bytes), name);
  return { dtype: r.dtype, shape: r.shape, data: r.read(0, r.shape.reduce((a, b) => a * b, 1)) };
}

const DESCR_OF: Partial<Record<NpyDType, string>> = {
  uint8: '|u1', int8: '|i1', int16: '<i2', uint16: '<u2', int32: '<i4', uint32: '<u4', int64: '<i8', float32: '<f4', float64: '<f8', bool: '|b1',
};

export function writeNpy(a: NdArray): Uint8Array {
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${DESCR_OF[a.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad so the data starts on a 64-byte boundary, header ending in '\n' (format spec v1.0).
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const body = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Uint8Array(total + body.length);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, total);
  return out;
}

/** Arrays of an .npz archive by name (without the .npy suffix), in archive order. */
export function parseNpz(bytes: Uint8Array, name = 'archive'): Map<string, NdArray> {
  let files: Record<string, Uint8Array>;
  try {
    // A zip's directory is a list of claims: an entry count (up to 2^64 with ZIP64) and sizes. Each
    // directory entry takes at least 46 bytes, deflate expands at most 1032:1 and a stored entry not at
    // all; claims beyond that are refused before fflate loops or allocates for them.
    const maxEntries = Math.floor(bytes.length / 46);
    let entries = 0;
    files = unzipSync(bytes, {
      filter: (f) => {
        if (++entries > maxEntries) throw new InputError(`${name}: its zip directory claims more entries than ${bytes.length} bytes can hold`);
        const most = f.compression === 0 ? f.size : f.size * 1032 + 1024;
        if (!(f.originalSize <= most)) throw new InputError(`${name}: entry "${f.name}" claims ${f.originalSize} bytes, more than its ${f.size} stored bytes can hold`);
        return f.name.endsWith('.npy');
      },
    });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${name} is not a valid .npz (zip) file: ${(e as Error).message}`);
  }
  const out = new Map<string, NdArray>();
  for (const [f, b] of Object.entries(files))
    if (f.endsWith('.npy')) out.set(f.slice(0, -4), parseNpy(b, `${name}/${f}`));
  if (out.size === 0) throw new InputError(`${name} holds no .npy arrays`);
  return out;
}

export function writeNpz(arrays: Record<string, NdArray>, compress = true): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const [k, a] of Object.entries(arrays)) files[`${k}.npy`] = writeNpy(a);
  return zipSync(files, { level: compress ? 6 : 0 });
}

export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((m, i) => bytes[i] === m);
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Element i as a number (int64 via Number: calibration data never needs more than 2^53). */
export function toFloat32(a: NdArray): Float32Array {
  return floatsOf(a.data);
}

/** The values as float32 (the same array when they already are). */
export function floatsOf(d: NpyData): Float32Array {
  if (d instanceof Float32Array) return d;
  if (d instanceof BigInt64Array) return Float32Array.from(d, (v) => Number(v));
  return Float32Array.from(d as ArrayLike<number>);
}
