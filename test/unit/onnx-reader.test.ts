import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isInputError } from '../../src/core/errors';
import { attr, type ConstTensor, type DType } from '../../src/core/ir';
import { buildGraph, buildModel, buildOnnx, float, tensor } from '../../src/core/onnx/build';
import { readOnnx } from '../../src/core/onnx/reader';
import { toFloat64, typedValues } from '../../src/core/onnx/values';
import { tensorStats } from '../../src/core/analysis/stats';
import { constToFloat } from '../../src/core/sim/float/tensor';
import { ProtoReader, ProtoWriter } from '../../src/core/onnx/wire';
import { writeOnnx } from '../../src/core/onnx/writer';

/** A ModelProto whose graph is `y = Identity(w)` with `w` given as hand-encoded TensorProto bytes. */
function modelWithTensor(t: ProtoWriter, opts: { extraGraph?: (g: ProtoWriter) => void } = {}): Uint8Array {
  const node = new ProtoWriter().string(1, 'w').string(2, 'y').string(4, 'Identity');
  const typeProto = new ProtoWriter().message(1, new ProtoWriter().varint(1, 1));
  const out = new ProtoWriter().string(1, 'y').message(2, typeProto);
  const g = new ProtoWriter().message(1, node).string(2, 'g').message(5, t).message(12, out);
  opts.extraGraph?.(g);
  return new ProtoWriter().varint(1, 7).message(7, g).message(8, new ProtoWriter().varint(2, 13)).finish();
}

function tensorProto(dtypeCode: number, dims: number[], fill: (w: ProtoWriter) => void): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of dims) w.varint(1, d);
  w.varint(2, dtypeCode).string(8, 'w');
  fill(w);
  return w;
}

function readW(bytes: Uint8Array): ConstTensor {
  return readOnnx(bytes).graph.initializers.get('w')!;
}

function expectInputError(f: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(isInputError(err), `expected an InputError, got ${String(err)}`).toBe(true);
  expect((err as Error).message).toMatch(pattern);
  expect((err as Error).message).not.toContain('\n');
}

describe('protobuf wire codec', () => {
  it('round-trips varints across the 32-bit boundary and negative int64', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 52 + 3, -1, -2, -300, -(2 ** 40)];
    const w = new ProtoWriter();
    for (const v of values) w.varint(1, v);
    const r = new ProtoReader(w.finish());
    const got: number[] = [];
    while (!r.done) {
      r.tag();
      got.push(r.int64());
    }
    expect(got).toEqual(values);
  });
  it('writes INT64_MAX read as the double 2^63 back as INT64_MAX, not wrapped to INT64_MIN', () => {
    const w = new ProtoWriter().varint(1, 2 ** 63).varint(1, -(2 ** 63)).finish();
    expect(Array.from(w.subarray(0, 10))).toEqual([8, 255, 255, 255, 255, 255, 255, 255, 255, 127]);
    const r = new ProtoReader(w);
    r.tag();
    expect(r.int64()).toBe(2 ** 63);
    r.tag();
    expect(r.int64()).toBe(-(2 ** 63));
  });
  it('writes negative numbers as 10-byte two\'s complement', () => {
    const w = new ProtoWriter().varint(1, -1).finish();
    expect(Array.from(w)).toEqual([8, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1]);
  });
});

describe('initializer storage forms and dtypes', () => {
  const rawCases: [DType, number, number[]][] = [
    ['float32', 1, [1.5, -2, 0, 3.25]],
    ['float64', 11, [1e-300, -2.5, 7, 8]],
    ['int8', 3, [-128, 127, 0, -1]],
    ['uint8', 2, [0, 255, 1, 2]],
    ['int16', 5, [-32768, 32767, 0, 5]],
    ['uint16', 4, [65535, 1, 2, 3]],
    ['int32', 6, [-(2 ** 31), 2 ** 31 - 1, 0, 9]],
    ['uint32', 12, [2 ** 32 - 1, 0, 1, 2]],
    ['int64', 7, [-(2 ** 40), 2 ** 40, -1, 0]],
    ['uint64', 13, [2 ** 50, 0, 1, 7]],
    ['bool', 9, [1, 0, 0, 1]],
    ['float16', 10, [1, -2, 0.5, 65504]],
    ['bfloat16', 16, [1, -2, 0.5, 256]],
    ['int4', 22, [-8, 7, -1, 3]],
    ['uint4', 21, [15, 0, 1, 9]],
  ];
  for (const [dtype, code, data] of rawCases) {
    it(`${dtype} as raw_data (code ${code}) decodes exactly`, () => {
      const t = tensor(dtype, [2, 2], data, 'w');
      const v = t.values as Uint8Array;
      const bytes = modelWithTensor(tensorProto(code, [2, 2], (w) => w.bytes(9, new Uint8Array(v.buffer, v.byteOffset, v.byteLength))));
      const got = readW(bytes);
      expect(got.dtype).toBe(dtype);
      expect(got.shape).toEqual([2, 2]);
      expect(Array.from(toFloat64(got))).toEqual(data);
    });
  }

  it('float8 bytes decode to the values of the ONNX float8 tables', () => {
    // e4m3fn: 0x38 = 1.0, 0xC0 = -2, 0x7E = 448 (max), 0x7F = NaN. e5m2: 0x3C = 1.0, 0x7C = inf.
    const bytes = modelWithTensor(tensorProto(17, [4], (w) => w.bytes(9, Uint8Array.of(0x38, 0xc0, 0x7e, 0x7f))));
    expect(Array.from(toFloat64(readW(bytes)))).toEqual([1, -2, 448, NaN]);
    const b2 = modelWithTensor(tensorProto(19, [3], (w) => w.bytes(9, Uint8Array.of(0x3c, 0x7c, 0xbc))));
    expect(Array.from(toFloat64(readW(b2)))).toEqual([1, Infinity, -1]);
  });

  it('float8e4m3fnuz and float8e5m2fnuz (no infinities, NaN is 0x80, -0 does not exist) as raw_data and int32_data', () => {
    // e4m3fnuz: bias 8, 0x40 = 1, 0xC4 = -1.5, 0x7F = 240 (max), 0x01 = 2^-10 (smallest subnormal), 0x80 = NaN.
    const e4 = [0x40, 0xc4, 0x7f, 0x01, 0x80, 0x00];
    const e4want = [1, -1.5, 240, 2 ** -10, NaN, 0];
    // e5m2fnuz: bias 16, 0x40 = 1, 0xC2 = -1.5, 0x7F = 57344 (max), 0x01 = 2^-17, 0x80 = NaN.
    const e5 = [0x40, 0xc2, 0x7f, 0x01, 0x80, 0x00];
    const e5want = [1, -1.5, 57344, 2 ** -17, NaN, 0];
    for (const [code, dtype, bytes, want] of [[18, 'float8e4m3fnuz', e4, e4want], [20, 'float8e5m2fnuz', e5, e5want]] as const) {
      const raw = readW(modelWithTensor(tensorProto(code, [2, 3], (w) => w.bytes(9, Uint8Array.from(bytes)))));
      expect(raw.dtype).toBe(dtype);
      expect(raw.shape).toEqual([2, 3]);
      expect(Array.from(toFloat64(raw))).toEqual(want);
      const viaInt32 = readW(modelWithTensor(tensorProto(code, [2, 3], (w) => w.packedVarints(5, bytes))));
      expect(Array.from(toFloat64(viaInt32))).toEqual(want);
      // The writer keeps the bytes: reading its output gives the same values.
      const again = readOnnx(writeOnnx(readOnnx(modelWithTensor(tensorProto(code, [2, 3], (w) => w.bytes(9, Uint8Array.from(bytes))))))).graph.initializers.get('w')!;
      expect([again.dtype, Array.from(toFloat64(again))]).toEqual([dtype, want]);
    }
  });

  it('float4e2m1 packs two per byte, low nibble first, an odd count padding the last byte', () => {
    // 1 → 0x2, −6 → 0xF, 0.5 → 0x1, 3 → 0x5, −1.5 → 0xB.
    const packed = [0xf2, 0x51, 0x0b];
    const want = [1, -6, 0.5, 3, -1.5];
    const raw = readW(modelWithTensor(tensorProto(23, [5], (w) => w.bytes(9, Uint8Array.from(packed)))));
    expect(raw.dtype).toBe('float4e2m1');
    expect(Array.from(toFloat64(raw))).toEqual(want);
    const viaInt32 = readW(modelWithTensor(tensorProto(23, [5], (w) => w.packedVarints(5, packed))));
    expect(Array.from(toFloat64(viaInt32))).toEqual(want);
    // Five elements need three bytes, not two or five.
    expect(() => readW(modelWithTensor(tensorProto(23, [5], (w) => w.bytes(9, Uint8Array.of(0xf2, 0x51)))))).toThrow(
      'tensor "w" holds 2 bytes but its shape [5] of float4e2m1 needs 3',
    );
    expect(() => readW(modelWithTensor(tensorProto(23, [5], (w) => w.packedVarints(5, [1, 2, 3, 4, 5]))))).toThrow(/holds 5 values/);
  });

  it('complex64 and complex128 as raw_data and as float_data/double_data keep interleaved (re, im) pairs', () => {
    const pairs = [1.5, -2, 0, 3.25]; // (1.5 − 2i), (0 + 3.25i)
    const c64raw = readW(modelWithTensor(tensorProto(14, [2], (w) => w.bytes(9, new Uint8Array(Float32Array.from(pairs).buffer)))));
    expect([c64raw.dtype, c64raw.shape]).toEqual(['complex64', [2]]);
    expect(Array.from(toFloat64(c64raw))).toEqual(pairs);
    expect(typedValues(c64raw)).toBeInstanceOf(Float32Array);
    const c64floats = readW(modelWithTensor(tensorProto(14, [2], (w) => { for (const v of pairs) w.float(4, v); })));
    expect(Array.from(toFloat64(c64floats))).toEqual(pairs);
    const big = [Math.PI, -1e200, 2 ** -1074, 7];
    const c128raw = readW(modelWithTensor(tensorProto(15, [2], (w) => w.bytes(9, new Uint8Array(Float64Array.from(big).buffer)))));
    expect([c128raw.dtype, c128raw.shape]).toEqual(['complex128', [2]]);
    expect(Array.from(toFloat64(c128raw))).toEqual(big);
    expect(typedValues(c128raw)).toBeInstanceOf(Float64Array);
    const c128doubles = readW(modelWithTensor(tensorProto(15, [2], (w) => w.packedDoubles(10, big))));
    expect(Array.from(toFloat64(c128doubles))).toEqual(big);
    // Two complex64 elements are 16 bytes / 4 floats: half of that is an error naming both counts.
    expect(() => readW(modelWithTensor(tensorProto(14, [2], (w) => w.bytes(9, new Uint8Array(8)))))).toThrow(
      'tensor "w" holds 8 bytes but its shape [2] of complex64 needs 16',
    );
    expect(() => readW(modelWithTensor(tensorProto(14, [2], (w) => w.packedFloats(4, [1, 2]))))).toThrow(/holds 2 floats/);
    expect(() => readW(modelWithTensor(tensorProto(15, [2], (w) => w.packedFloats(4, [1, 2, 3, 4]))))).toThrow('tensor "w" stores complex128 data in float_data');
    // Round trip through the writer.
    const again = readOnnx(writeOnnx(readOnnx(modelWithTensor(tensorProto(15, [2], (w) => w.packedDoubles(10, big)))))).graph.initializers.get('w')!;
    expect([again.dtype, Array.from(toFloat64(again))]).toEqual(['complex128', big]);
  });

  it('float_data, packed and unpacked', () => {
    const packed = modelWithTensor(tensorProto(1, [3], (w) => w.packedFloats(4, [1.5, -2, 4])));
    expect(Array.from(typedValues(readW(packed)) as Float32Array)).toEqual([1.5, -2, 4]);
    const unpacked = modelWithTensor(tensorProto(1, [2], (w) => w.float(4, 0.25).float(4, 8)));
    expect(Array.from(typedValues(readW(unpacked)) as Float32Array)).toEqual([0.25, 8]);
  });

  it('int32_data carries int8/uint8/int16/uint16/bool/float16/bfloat16/int4 as the proto says', () => {
    const cases: [number, DType, number[], number[]][] = [
      [6, 'int32', [-5, 70000], [-5, 70000]],
      [3, 'int8', [-5, 100], [-5, 100]],
      [2, 'uint8', [200, 3], [200, 3]],
      [5, 'int16', [-300, 300], [-300, 300]],
      [4, 'uint16', [60000, 1], [60000, 1]],
      [9, 'bool', [1, 0], [1, 0]],
      [10, 'float16', [0x3c00, 0xc000], [1, -2]], // bit patterns
      [16, 'bfloat16', [0x3f80, 0x4040], [1, 3]],
    ];
    for (const [code, dtype, stored, expected] of cases) {
      const got = readW(modelWithTensor(tensorProto(code, [2], (w) => w.packedVarints(5, stored))));
      expect(got.dtype).toBe(dtype);
      expect(Array.from(toFloat64(got))).toEqual(expected);
    }
    // int4: one int32 per packed byte, first element in the low nibble.
    const i4 = readW(modelWithTensor(tensorProto(22, [3], (w) => w.packedVarints(5, [0xf7, 0x02]))));
    expect(Array.from(toFloat64(i4))).toEqual([7, -1, 2]);
  });

  it('int64_data, uint64_data, double_data and string_data', () => {
    const i64 = readW(modelWithTensor(tensorProto(7, [3], (w) => w.packedVarints(7, [-1, 2 ** 40, 3]))));
    expect(i64.values).toBeInstanceOf(BigInt64Array);
    expect(Array.from(i64.values as BigInt64Array)).toEqual([-1n, 2n ** 40n, 3n]);
    const u64 = readW(modelWithTensor(tensorProto(13, [2], (w) => w.packedVarints(11, [2 ** 53 - 1, 4]))));
    expect(Array.from(u64.values as BigUint64Array)).toEqual([2n ** 53n - 1n, 4n]);
    const u32 = readW(modelWithTensor(tensorProto(12, [2], (w) => w.packedVarints(11, [2 ** 32 - 1, 4]))));
    expect(Array.from(u32.values as Uint32Array)).toEqual([2 ** 32 - 1, 4]);
    const f64 = readW(modelWithTensor(tensorProto(11, [2], (w) => w.packedDoubles(10, [Math.PI, -1e200]))));
    expect(Array.from(typedValues(f64) as Float64Array)).toEqual([Math.PI, -1e200]);
    const str = readW(modelWithTensor(tensorProto(8, [2], (w) => w.string(6, 'héllo').string(6, ''))));
    expect(str.values).toEqual(['héllo', '']);
  });

  it('complex64 keeps interleaved real/imaginary parts', () => {
    const c = readW(modelWithTensor(tensorProto(14, [2], (w) => w.packedFloats(4, [1, 2, 3, 4]))));
    expect(c.dtype).toBe('complex64');
    expect(Array.from(typedValues(c) as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it('keeps raw_data as a view over the file bytes, aligned or not (no copy)', () => {
    // Big enough weights: ProtoWriter output starts at offset 0 of its buffer; pick a prefix length so the
    // raw data lands 4-byte aligned, then shift by one byte to misalign it.
    const weights = new Float32Array(1000).map((_, i) => i * 0.5 - 7);
    const raw = new Uint8Array(weights.buffer);
    const bytes = modelWithTensor(tensorProto(1, [1000], (w) => w.bytes(9, raw)));
    const start = findSubarray(bytes, raw);
    const padded = new Uint8Array(bytes.length + 8);
    // Place the file so that its raw data is aligned, then misaligned.
    const alignedOff = (4 - (start % 4)) % 4;
    padded.set(bytes, alignedOff);
    const aligned = readW(padded.subarray(alignedOff, alignedOff + bytes.length));
    expect(aligned.values).toBeInstanceOf(Float32Array);
    expect((aligned.values as Float32Array).buffer).toBe(padded.buffer);
    expect(typedValues(aligned)).toBe(aligned.values);
    expect(Array.from(aligned.values as Float32Array)).toEqual(Array.from(weights));
    for (const shift of [1, 2, 3]) {
      const misOff = alignedOff + shift;
      const padded2 = new Uint8Array(bytes.length + 8);
      padded2.set(bytes, misOff);
      const mis = readW(padded2.subarray(misOff, misOff + bytes.length));
      expect(mis.dtype).toBe('float32');
      // The stored data is the file's own bytes: same ArrayBuffer, at the raw_data offset, not a copy.
      const v = mis.values as Uint8Array;
      expect(v).toBeInstanceOf(Uint8Array);
      expect(v.buffer).toBe(padded2.buffer);
      expect(v.byteOffset).toBe(misOff + start);
      expect(v.byteLength).toBe(4000);
      const decoded = typedValues(mis);
      expect(decoded).toBeInstanceOf(Float32Array);
      expect(Array.from(decoded as Float32Array)).toEqual(Array.from(weights));
      expect(Array.from(toFloat64(mis))).toEqual(Array.from(weights));
      expect(constToFloat(mis).data).toEqual(weights);
      const s = tensorStats(mis, 4);
      expect([s.count, s.min, s.max]).toEqual([1000, -7, 492.5]);
      // Decoding does not replace the view: the model keeps costing only the file.
      expect(mis.values).toBe(v);
    }
  });

  it('decodes misaligned float64, int64 and int32 raw_data in place of a copy', () => {
    const cases: [number, DType, ArrayBufferView, number[]][] = [
      [11, 'float64', Float64Array.of(Math.PI, -1e200, 0.5), [Math.PI, -1e200, 0.5]],
      [7, 'int64', BigInt64Array.of(-1n, 2n ** 40n, 3n), [-1, 2 ** 40, 3]],
      [6, 'int32', Int32Array.of(-5, 70000, 2), [-5, 70000, 2]],
    ];
    for (const [code, dtype, arr, want] of cases) {
      const raw = new Uint8Array(arr.buffer);
      const bytes = modelWithTensor(tensorProto(code, [3], (w) => w.bytes(9, raw)));
      const start = findSubarray(bytes, raw);
      // An offset that is odd relative to every element size.
      const off = (9 - (start % 8)) % 8 || 8;
      const buf = new Uint8Array(bytes.length + 16);
      buf.set(bytes, off);
      const t = readW(buf.subarray(off, off + bytes.length));
      expect((off + start) % 2, dtype).toBe(1);
      expect(t.values, dtype).toBeInstanceOf(Uint8Array);
      expect((t.values as Uint8Array).buffer, dtype).toBe(buf.buffer);
      expect(typedValues(t), dtype).toBeInstanceOf(arr.constructor);
      expect(Array.from(toFloat64(t)), dtype).toEqual(want);
    }
  });

  it('expands sparse initializers to dense tensors', () => {
    const values = tensorProto(1, [2], (w) => w.packedFloats(4, [5, 7]));
    const indices = tensorProto(7, [2], (w) => w.packedVarints(7, [1, 4]));
    const sparse = new ProtoWriter().message(1, values).message(2, indices).varint(3, 2).varint(3, 3);
    const dense = tensorProto(1, [1], (w) => w.packedFloats(4, [0]));
    const bytes = modelWithTensor(dense, { extraGraph: (g) => g.message(15, sparse) });
    const got = readOnnx(bytes).graph.initializers.get('w')!;
    // The sparse initializer is named by its values tensor ('w') and replaces the dense one read before it.
    expect(got.shape).toEqual([2, 3]);
    expect(Array.from(typedValues(got) as Float32Array)).toEqual([0, 5, 0, 0, 7, 0]);
  });
});

describe('graph structure', () => {
  it('drops initializers that old opsets also list as graph inputs', () => {
    const g = buildGraph({
      inputs: { x: ['float32', [1, 4]], w: ['float32', [4, 2]] },
      outputs: ['y'],
      initializers: { w: tensor('float32', [4, 2], new Array(8).fill(1)) },
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    });
    const m = readOnnx(writeOnnx({ format: 'onnx', graph: g, opset: 8, opsetImports: [{ domain: '', version: 8 }], producer: '', producerVersion: '', metadata: {} }));
    expect(m.graph.inputs.map((i) => i.name)).toEqual(['x']);
    expect(m.graph.valueInfo.get('y')?.shape).toEqual([1, 2]);
  });

  it('names unnamed nodes <OpType>_<index> and keeps names unique', () => {
    const node = (name: string, i: string, o: string) => {
      const w = new ProtoWriter().string(1, i).string(2, o).string(4, 'Relu');
      if (name) w.string(3, name);
      return w;
    };
    const vi = (name: string) => new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, new ProtoWriter().varint(1, 1)));
    const g = new ProtoWriter().message(1, node('', 'x', 'a')).message(1, node('dup', 'a', 'b')).message(1, node('dup', 'b', 'c'))
      .message(1, node('', 'c', 'y')).message(11, vi('x')).message(12, vi('y'));
    const m = readOnnx(new ProtoWriter().varint(1, 8).message(7, g).message(8, new ProtoWriter().varint(2, 17)).finish());
    expect(m.graph.nodes.map((n) => n.name)).toEqual(['Relu_0', 'dup', 'dup_2', 'Relu_3']);
  });

  it('keeps Constant nodes and reads every value attribute form', () => {
    const m = buildModel({
      inputs: { x: ['float32', [2]] },
      outputs: ['o1', 'o2', 'o3', 'o4', 'o5'],
      nodes: [
        { op: 'Constant', inputs: [], outputs: ['c1'], attrs: { value: tensor('float32', [2], [1, 2]) } },
        { op: 'Constant', inputs: [], outputs: ['c2'], attrs: { value_float: float(2) } },
        { op: 'Constant', inputs: [], outputs: ['c3'], attrs: { value_floats: [0.5, 1.5, 2.5] } },
        { op: 'Constant', inputs: [], outputs: ['c4'], attrs: { value_int: 7 } },
        { op: 'Constant', inputs: [], outputs: ['c5'], attrs: { value_ints: [3, 4] } },
        { op: 'Add', inputs: ['x', 'c1'], outputs: ['o1'] },
        { op: 'Mul', inputs: ['x', 'c2'], outputs: ['o2'] },
        { op: 'Identity', inputs: ['c3'], outputs: ['o3'] },
        { op: 'Identity', inputs: ['c4'], outputs: ['o4'] },
        { op: 'Identity', inputs: ['c5'], outputs: ['o5'] },
      ],
    });
    expect(m.graph.nodes.filter((n) => n.opType === 'Constant')).toHaveLength(5);
    const vi = m.graph.valueInfo;
    expect([vi.get('c1')?.shape, vi.get('c2')?.shape, vi.get('c3')?.shape, vi.get('c4')?.shape, vi.get('c5')?.shape]).toEqual([[2], [], [3], [], [2]]);
    expect([vi.get('c3')?.dtype, vi.get('c4')?.dtype]).toEqual(['float32', 'int64']);
    expect(vi.get('o2')?.shape).toEqual([2]);
  });

  it('densifies a Constant\'s sparse_value', () => {
    const values = tensorProto(1, [2], (w) => w.packedFloats(4, [5, 7]));
    const indices = tensorProto(7, [2, 2], (w) => w.packedVarints(7, [0, 1, 1, 0]));
    const sparse = new ProtoWriter().message(1, values).message(2, indices).varint(3, 2).varint(3, 2);
    const attrW = new ProtoWriter().string(1, 'sparse_value').varint(20, 11).message(22, sparse);
    const node = new ProtoWriter().string(2, 'y').string(4, 'Constant').message(5, attrW);
    const vi = new ProtoWriter().string(1, 'y').message(2, new ProtoWriter().message(1, new ProtoWriter().varint(1, 1)));
    const g = new ProtoWriter().message(1, node).message(12, vi);
    const m = readOnnx(new ProtoWriter().varint(1, 7).message(7, g).message(8, new ProtoWriter().varint(2, 13)).finish());
    const t = attr(m.graph.nodes[0], 'sparse_value', 'tensor')!;
    expect(t.shape).toEqual([2, 2]);
    expect(Array.from(typedValues(t) as Float32Array)).toEqual([0, 5, 7, 0]);
    expect(m.graph.nodes[0].opType).toBe('Constant');
    expect(m.graph.valueInfo.get('y')?.shape).toEqual([2, 2]);
  });

  it('parses If/Loop bodies recursively into graph attributes without executing them', () => {
    const branch = (k: number) => buildGraph({
      name: `b${k}`,
      inputs: {},
      outputs: { r: ['float32', [3]] },
      initializers: { k: tensor('float32', [3], [k, k, k]) },
      nodes: [{ op: 'Identity', inputs: ['k'], outputs: ['r'] }],
    });
    const m = buildModel({
      inputs: { cond: ['bool', []] },
      outputs: ['y'],
      nodes: [{ op: 'If', inputs: ['cond'], outputs: ['y'], attrs: { then_branch: branch(1), else_branch: branch(2) } }],
    });
    const thenG = attr(m.graph.nodes[0], 'then_branch', 'graph')!;
    expect(thenG.name).toBe('b1');
    expect(Array.from(typedValues(thenG.initializers.get('k')!) as Float32Array)).toEqual([1, 1, 1]);
    expect(thenG.valueInfo.get('r')?.shape).toEqual([3]);
    expect(m.graph.valueInfo.get('y')?.shape).toEqual([3]);
  });

  it('infers inside bodies with the enclosing scope visible (If reads an outer tensor; Loop carries untyped values)', () => {
    const branch = (op: string) => buildGraph({
      inputs: {}, outputs: ['r'], nodes: [{ op, inputs: ['x'], outputs: ['r'] }],
    });
    const body = buildGraph({
      // Untyped body inputs, as ONNX function expansions write them: types come from the Loop's inputs.
      inputs: ['i', 'c', 'acc'],
      outputs: ['c_out', 'acc_out', 'scan'],
      nodes: [
        { op: 'Identity', inputs: ['c'], outputs: ['c_out'] },
        { op: 'Add', inputs: ['acc', 'x'], outputs: ['acc_out'] },
        { op: 'Identity', inputs: ['acc_out'], outputs: ['scan'] },
      ],
    });
    const m = buildModel({
      inputs: { x: ['int32', [2, 3]], cond: ['bool', []], n: ['int64', []], a0: ['int32', [2, 3]] },
      outputs: ['y', 'acc', 'scans'],
      nodes: [
        { op: 'If', inputs: ['cond'], outputs: ['y'], attrs: { then_branch: branch('Relu'), else_branch: branch('Neg') } },
        { op: 'Loop', inputs: ['n', 'cond', 'a0'], outputs: ['acc', 'scans'], attrs: { body } },
      ],
    });
    const thenG = attr(m.graph.nodes[0], 'then_branch', 'graph')!;
    expect(thenG.valueInfo.get('r')).toEqual({ name: 'r', dtype: 'int32', shape: [2, 3] });
    expect(m.graph.valueInfo.get('y')).toEqual({ name: 'y', dtype: 'int32', shape: [2, 3] });
    const loopBody = attr(m.graph.nodes[1], 'body', 'graph')!;
    expect(loopBody.valueInfo.get('acc_out')?.dtype).toBe('int32');
    expect(m.graph.valueInfo.get('acc')?.dtype).toBe('int32');
    expect(m.graph.outputs.map((o) => o.dtype)).toEqual(['int32', 'int32', 'int32']);
    expect(m.graph.valueInfo.get('acc')?.shape).toEqual([2, 3]);
    // Scan outputs stack one slice per iteration: a leading dimension nothing static can know.
    expect(m.graph.valueInfo.get('scans')?.shape?.slice(1)).toEqual([2, 3]);
  });

  it('keeps custom-domain ops with their domain and leaves their outputs without a shape', () => {
    const m = buildModel({
      extraOpsets: [{ domain: 'com.example', version: 1 }],
      inputs: { x: ['float32', [1, 3]] },
      outputs: ['z'],
      nodes: [
        { op: 'Mystery', domain: 'com.example', inputs: ['x'], outputs: ['y'], attrs: { gain: float(2) } },
        { op: 'Relu', inputs: ['y'], outputs: ['z'] },
      ],
    });
    expect(m.graph.nodes[0].domain).toBe('com.example');
    expect(m.opsetImports).toContainEqual({ domain: 'com.example', version: 1 });
    expect(m.graph.valueInfo.get('y')).toBeUndefined();
    expect(m.graph.valueInfo.get('z')?.shape).toBeUndefined();
  });

  it('keeps symbolic dimensions by name', () => {
    const m = buildModel({
      inputs: { x: ['float32', ['batch', 3, 'h', 'w']] },
      outputs: ['y'],
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    });
    expect(m.graph.inputs[0].shape).toEqual(['batch', 3, 'h', 'w']);
    expect(m.graph.valueInfo.get('y')?.shape).toEqual(['batch', 3, 'h', 'w']);
  });

  it('round-trips model metadata, producer and opset imports through writeOnnx', () => {
    const m = buildModel({ opset: 17, inputs: { x: ['float32', [1]] }, outputs: ['y'], nodes: [{ op: 'Neg', inputs: ['x'], outputs: ['y'] }], producer: 'me' });
    const again = readOnnx(writeOnnx({ ...m, metadata: { author: 'a', note: 'b' } }));
    expect(again.opset).toBe(17);
    expect(again.producer).toBe('me');
    expect(again.metadata).toEqual({ author: 'a', note: 'b' });
    expect(again.graph.nodes).toEqual(m.graph.nodes);
  });
});

describe('bad input', () => {
  const good = buildOnnx({
    inputs: { x: ['float32', [1, 4]] },
    outputs: ['y'],
    initializers: { w: tensor('float32', [4, 4], new Array(16).fill(0.5)) },
    nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
  });

  it('rejects an empty file', () => {
    expectInputError(() => readOnnx(new Uint8Array(0)), /empty/);
  });
  it('rejects every truncation of a valid model', () => {
    for (const cut of [1, 2, 5, 20, Math.floor(good.length / 2), good.length - 1]) {
      expectInputError(() => readOnnx(good.subarray(0, cut)), /truncated|not an ONNX model/);
    }
  });
  it('rejects a PNG and random bytes', () => {
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13);
    expectInputError(() => readOnnx(png), /not an ONNX model/);
    let seed = 12345;
    for (let trial = 0; trial < 20; trial++) {
      const noise = new Uint8Array(4096).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
      expectInputError(() => readOnnx(noise), /not an ONNX model|truncated|unknown data type/);
    }
  });
  it('names the external data file a tensor needs', () => {
    const ext = tensorProto(1, [1000], (w) => {
      w.message(13, new ProtoWriter().string(1, 'location').string(2, 'weights.bin'));
      w.varint(14, 1);
    });
    expectInputError(() => readOnnx(modelWithTensor(ext)), /uses external data file "weights\.bin".*cannot be opened here; save with all tensors inside the file/);
  });
  it('rejects cyclic graphs naming a node', () => {
    const g = buildGraph({
      inputs: { x: ['float32', [1]] },
      outputs: ['b'],
      nodes: [
        { op: 'Add', name: 'first', inputs: ['x', 'b'], outputs: ['a'] },
        { op: 'Relu', name: 'second', inputs: ['a'], outputs: ['b'] },
      ],
    });
    const bytes = writeOnnx({ format: 'onnx', graph: g, opset: 13, opsetImports: [], producer: '', producerVersion: '', metadata: {} });
    expectInputError(() => readOnnx(bytes), /cycle through node "first"/);
  });
  it('rejects unknown dtypes and data that does not fit the shape', () => {
    expectInputError(() => readOnnx(modelWithTensor(tensorProto(99, [1], (w) => w.bytes(9, new Uint8Array(4))))), /unknown data type 99/);
    expectInputError(() => readOnnx(modelWithTensor(tensorProto(1, [3], (w) => w.bytes(9, new Uint8Array(8))))), /holds 8 bytes.*needs 12/);
    expectInputError(() => readOnnx(modelWithTensor(tensorProto(1, [3], () => {}))), /holds no data/);
  });
  it('rejects a model cut between its graph and its opset_import', () => {
    // buildOnnx writes ir_version, producer, graph, then opset_import: drop the tail after the graph.
    const r = new ProtoReader(good);
    let graphEnd = 0;
    while (!r.done) {
      const [f, wt] = r.tag();
      r.skip(wt);
      if (f === 7) graphEnd = r.pos;
    }
    expect(graphEnd).toBeLessThan(good.length);
    expectInputError(() => readOnnx(good.subarray(0, graphEnd)), /truncated or malformed: the model has no opset_import/);
  });
  it('rejects a protobuf that has no graph', () => {
    expectInputError(() => readOnnx(new ProtoWriter().varint(1, 7).string(2, 'x').finish()), /no graph/);
  });
});

describe('committed real models', () => {
  const load = (name: string) => readOnnx(new Uint8Array(readFileSync(`public/models/${name}`)));

  it('mnist-8: 12 nodes, the ops a hand decode of the protobuf finds, shapes on every edge', () => {
    const m = load('mnist-8.onnx');
    expect(m.opset).toBe(8);
    expect(m.producer).toBe('CNTK');
    expect(m.graph.nodes).toHaveLength(12);
    expect(m.graph.inputs).toEqual([{ name: 'Input3', dtype: 'float32', shape: [1, 1, 28, 28] }]);
    for (const n of m.graph.nodes) for (const o of n.outputs) expect(m.graph.valueInfo.get(o)?.shape, o).toBeDefined();
    const conv = m.graph.nodes.find((n) => n.name === 'Convolution110')!;
    expect(m.graph.valueInfo.get(conv.outputs[0])?.shape).toEqual([1, 16, 14, 14]);
  });

  it('yolox_nano: every Conv output has a fully static shape and the detector output is [1,3549,85]', () => {
    const m = load('yolox_nano.onnx');
    const convs = m.graph.nodes.filter((n) => n.opType === 'Conv');
    expect(convs).toHaveLength(113);
    for (const c of convs) {
      const s = m.graph.valueInfo.get(c.outputs[0])?.shape;
      expect(s && s.every((d) => typeof d === 'number'), c.name).toBe(true);
    }
    expect(m.graph.valueInfo.get('output')?.shape).toEqual([1, 3549, 85]);
  });

  it('light_densenet121 reads with 1746 nodes, its ConstantOfShape weights resolved to shapes', () => {
    const m = load('light_densenet121.onnx');
    expect(m.graph.nodes).toHaveLength(1746);
    expect(m.graph.valueInfo.get('fc6_1')?.shape).toEqual([1, 1000, 1, 1]);
    for (const n of m.graph.nodes) for (const o of n.outputs) expect(m.graph.valueInfo.get(o)?.shape, o).toBeDefined();
  });

  it('retinaface QDQ: the Shape→Gather→Unsqueeze→Concat→Reshape chains fold to static shapes', () => {
    const m = load('retinaface_vitis_qdq.onnx');
    const reshapes = m.graph.nodes.filter((n) => n.opType === 'Reshape');
    expect(reshapes.length).toBeGreaterThan(0);
    for (const r of reshapes) {
      const s = m.graph.valueInfo.get(r.outputs[0])?.shape;
      expect(s?.every((d) => typeof d === 'number'), r.name).toBe(true);
    }
    expect(m.graph.outputs.map((o) => m.graph.valueInfo.get(o.name)?.shape)).toEqual([[1, 4200, 4], [1, 4200, 2], [1, 4200, 10]]);
  });

  it('re-reads its own writeOnnx output identically (weights, nodes, shapes)', () => {
    const m = load('mnist-8.onnx');
    const again = readOnnx(writeOnnx(m));
    expect(again.graph.nodes).toEqual(m.graph.nodes);
    for (const [name, t] of m.graph.initializers) {
      expect(Array.from(toFloat64(again.graph.initializers.get(name)!))).toEqual(Array.from(toFloat64(t)));
    }
    const sorted = (x: typeof m) => [...x.graph.valueInfo.entries()].sort((a, b) => a[0].localeCompare(b[0]));
    expect(sorted(again)).toEqual(sorted(m));
  });
});

function findSubarray(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}
