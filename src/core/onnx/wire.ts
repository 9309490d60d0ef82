// Protocol-buffer wire format, just what onnx.proto needs. Hand-written rather than generated so that
// `bytes` fields come back as views over the file (weights are never copied) and a 100 MB model reads
// in one pass without building intermediate message objects.
import { InputError } from '../errors';

export const enum WireType { Varint = 0, Fixed64 = 1, Bytes = 2, StartGroup = 3, EndGroup = 4, Fixed32 = 5 }

const utf8 = new TextDecoder('utf-8');

function truncated(): never {
  throw new InputError('the file is truncated or is not an ONNX model (protobuf data ends mid-field)');
}

/** A cursor over one message's bytes [pos, end). */
export class ProtoReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  private view: DataView | undefined;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private lo = 0;
  private hi = 0;

  /** Reads one varint into the 32-bit halves lo/hi (enough for any 64-bit value). */
  private varint64(): void {
    const buf = this.buf;
    const end = this.end;
    let p = this.pos;
    let b = 0;
    let lo = 0;
    let hi = 0;
    for (let s = 0; s < 28; s += 7) {
      if (p >= end) truncated();
      b = buf[p++];
      lo |= (b & 0x7f) << s;
      if (b < 0x80) { this.pos = p; this.lo = lo; this.hi = 0; return; }
    }
    if (p >= end) truncated();
    b = buf[p++];
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      for (let s = 3; ; s += 7) {
        if (s > 31) throw new InputError('the file is not an ONNX model (malformed protobuf varint)');
        if (p >= end) truncated();
        b = buf[p++];
        hi |= (b & 0x7f) << s;
        if (b < 0x80) break;
      }
    }
    this.pos = p;
    this.lo = lo;
    this.hi = hi;
  }

  /** An unsigned varint as a JS number (exact up to 2^53). */
  uvarint(): number {
    this.varint64();
    return (this.hi >>> 0) * 4294967296 + (this.lo >>> 0);
  }

  /** A varint read as two's-complement int64 (negative values occupy 10 bytes). */
  int64(): number {
    this.varint64();
    return (this.hi | 0) * 4294967296 + (this.lo >>> 0);
  }

  int32(): number {
    return this.int64() | 0;
  }

  /** A field's length prefix, checked against the enclosing message. */
  length(): number {
    const n = this.uvarint();
    if (n > this.end - this.pos) truncated();
    return n;
  }

  /** Bytes field as a view over the underlying buffer (no copy). */
  bytes(): Uint8Array {
    const n = this.length();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const n = this.length();
    const s = n === 0 ? '' : utf8.decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  /** A sub-reader over an embedded message; advances past it. */
  message(): ProtoReader {
    const n = this.length();
    const r = new ProtoReader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  private dv(): DataView {
    return (this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  float(): number {
    if (this.pos + 4 > this.end) truncated();
    const v = this.dv().getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.end) truncated();
    const v = this.dv().getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Next tag as [fieldNumber, wireType]. */
  tag(): [number, number] {
    const t = this.uvarint();
    const field = Math.floor(t / 8);
    const wt = t & 7;
    if (field === 0 || wt > 5) throw new InputError('the file is not an ONNX model (invalid protobuf field tag)');
    return [field, wt];
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint: this.uvarint(); return;
      case WireType.Fixed64: this.pos += 8; break;
      case WireType.Bytes: { const n = this.length(); this.pos += n; return; }
      case WireType.Fixed32: this.pos += 4; break;
      case WireType.StartGroup: {
        // Groups nest as deep as the bytes say: count levels instead of recursing.
        for (let depth = 1; depth > 0;) {
          const [, wt] = this.tag();
          if (wt === WireType.EndGroup) depth--;
          else if (wt === WireType.StartGroup) depth++;
          else this.skip(wt);
        }
        return;
      }
      default: throw new InputError('the file is not an ONNX model (unexpected protobuf group end)');
    }
    if (this.pos > this.end) truncated();
  }

  /** Repeated scalar that may arrive packed (wire type 2) or one value per tag. */
  repeated(wireType: number, one: () => number, out: number[]): void {
    if (wireType === WireType.Bytes) {
      const n = this.length();
      const end = this.pos + n;
      while (this.pos < end) out.push(one());
      if (this.pos !== end) truncated();
    } else {
      out.push(one());
    }
  }
}

/** Growable output buffer for the writer. Messages are built inside-out: each nested message is encoded to its own bytes first. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;
  private static readonly enc = new TextEncoder();
  private scratch = new DataView(new ArrayBuffer(8));

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private rawVarint(v: number): void {
    this.ensure(10);
    if (v < 0) {
      // Two's complement over 64 bits, as protobuf encodes negative int64/int32.
      const hi = Math.floor(v / 2 ** 32);
      let h = hi >>> 0;
      let l = (v - hi * 2 ** 32) >>> 0;
      for (let i = 0; i < 9; i++) {
        this.buf[this.len++] = (l & 0x7f) | 0x80;
        l = (l >>> 7) | ((h & 0x7f) << 25);
        h >>>= 7;
      }
      this.buf[this.len++] = l & 0x01;
      return;
    }
    if (v >= 2 ** 63) {
      // INT64_MAX read into a double is 2^63, one past any int64: written as it was, not wrapped to INT64_MIN.
      for (let i = 0; i < 8; i++) this.buf[this.len++] = 0xff;
      this.buf[this.len++] = 0x7f;
      return;
    }
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
  }

  private tag(field: number, wt: number): void {
    this.rawVarint(field * 8 + wt);
  }

  varint(field: number, v: number): this {
    this.tag(field, WireType.Varint);
    this.rawVarint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, WireType.Fixed32);
    this.ensure(4);
    this.scratch.setFloat32(0, v, true);
    for (let i = 0; i < 4; i++) this.buf[this.len++] = this.scratch.getUint8(i);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WireType.Bytes);
    this.rawVarint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, ProtoWriter.enc.encode(s));
  }

  message(field: number, w: ProtoWriter): this {
    return this.bytes(field, w.finish());
  }

  packedVarints(field: number, vs: ArrayLike<number>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < vs.length; i++) inner.rawVarint(vs[i]);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, vs: ArrayLike<number>): this {
    const f = Float32Array.from(vs);
    return this.bytes(field, new Uint8Array(f.buffer));
  }

  packedDoubles(field: number, vs: ArrayLike<number>): this {
    const f = Float64Array.from(vs);
    return this.bytes(field, new Uint8Array(f.buffer));
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}
