/**
 * Compact model construction for tests and examples:
 *
 *   const model = buildModel({
 *     inputs: { x: ['float32', [1, 3, 8, 8]] },
 *     outputs: ['y'],
 *     initializers: { w: tensor('float32', [4, 3, 3, 3], new Float32Array(108).fill(0.1)) },
 *     nodes: [
 *       { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
 *       { op: 'LeakyRelu', inputs: ['c'], outputs: ['y'], attrs: { alpha: float(0.1) } },
 *     ],
 *   });
 *
 * `buildModel` goes through writeOnnx → readOnnx, so the result is exactly what loading the file gives
 * (shape inference included); `buildOnnx` returns the file bytes. Attribute shorthand: an integer is an
 * `int`, a non-integer number a `float` (use `float(1)` for a whole-number float), number[] `ints` or
 * `floats` likewise, string `string`, a ConstTensor `tensor`, a Graph `graph`; or pass an AttrValue.
 */
import type { AttrValue, ConstTensor, Dim, DType, Graph, Model, Node, TensorInfo, TensorValues } from '../ir';
import { readOnnx } from './reader';
import { markUntyped } from './untyped';
import { writeOnnx } from './writer';

export type AttrInput = number | string | readonly number[] | readonly string[] | ConstTensor | Graph | AttrValue;

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attrs?: Readonly<Record<string, AttrInput>>;
}

/** A value may be named alone (written without a type, left to inference) or given a dtype and shape. */
export type ValueSpec = Readonly<Record<string, readonly [DType, readonly Dim[] | undefined]>> | readonly string[];

export interface ModelSpec {
  /** Default-domain opset (default 13). */
  readonly opset?: number;
  /** Extra domains, e.g. [{ domain: 'com.example', version: 1 }]. */
  readonly extraOpsets?: readonly { domain: string; version: number }[];
  readonly inputs: ValueSpec;
  readonly outputs: ValueSpec;
  readonly initializers?: Readonly<Record<string, ConstTensor>>;
  readonly nodes: readonly NodeSpec[];
  readonly producer?: string;
  readonly name?: string;
}

export function float(value: number): AttrValue {
  return { kind: 'float', value };
}
export function floats(value: readonly number[]): AttrValue {
  return { kind: 'floats', value };
}

const h32 = new Float32Array(1);
const h32u = new Uint32Array(h32.buffer);

/** float32 → IEEE half bits, round to nearest even. */
export function floatToHalf(x: number): number {
  h32[0] = x;
  const b = h32u[0];
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff;
  let m = b & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  const exp = e - 127 + 15;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    m |= 0x800000;
    const shift = 14 - exp;
    let half = m >> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  // A carry out of the mantissa rounds correctly into the exponent.
  let half = (exp << 10) | (m >> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/**
 * A constant tensor from plain numbers. float16/bfloat16 numbers are encoded to their bits;
 * int4/uint4 packed two per byte; bool as 0/1 bytes; int64/uint64 as BigInt arrays.
 */
export function tensor(dtype: DType, shape: readonly number[], data: ArrayLike<number> | readonly string[], name = ''): ConstTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n && !(dtype.startsWith('complex') && data.length === 2 * n))
    throw new Error(`tensor(): ${data.length} values for shape [${shape.join(', ')}]`);
  let values: TensorValues;
  const nums = data as ArrayLike<number>;
  switch (dtype) {
    case 'float32': case 'complex64': values = Float32Array.from(nums); break;
    case 'float64': case 'complex128': values = Float64Array.from(nums); break;
    case 'int8': values = Int8Array.from(nums); break;
    case 'uint8': values = Uint8Array.from(nums); break;
    case 'int16': values = Int16Array.from(nums); break;
    case 'uint16': values = Uint16Array.from(nums); break;
    case 'int32': values = Int32Array.from(nums); break;
    case 'uint32': values = Uint32Array.from(nums); break;
    case 'int64': values = BigInt64Array.from(Array.from(nums), (v) => BigInt(v)); break;
    case 'uint64': values = BigUint64Array.from(Array.from(nums), (v) => BigInt(v)); break;
    case 'bool': values = Uint8Array.from(nums, (v) => (v ? 1 : 0)); break;
    case 'float16': values = new Uint8Array(Uint16Array.from(nums, floatToHalf).buffer); break;
    case 'bfloat16': {
      const f = Float32Array.from(nums);
      const u = new Uint32Array(f.buffer);
      values = new Uint8Array(Uint16Array.from(u, (v) => v >>> 16).buffer);
      break;
    }
    case 'int4': case 'uint4': {
      const b = new Uint8Array(Math.ceil(n / 2));
      for (let i = 0; i < n; i++) b[i >> 1] |= (nums[i] & 0xf) << ((i & 1) * 4);
      values = b;
      break;
    }
    case 'string': values = Array.from(data as readonly string[]); break;
    default: values = Uint8Array.from(nums); // float8 / float4: the caller passes the encoded bytes
  }
  return { name, dtype, shape: [...shape], values };
}

function toAttr(v: AttrInput): AttrValue {
  if (typeof v === 'number') return Number.isInteger(v) ? { kind: 'int', value: v } : { kind: 'float', value: v };
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (Array.isArray(v)) {
    if (v.length && typeof v[0] === 'string') return { kind: 'strings', value: v as string[] };
    const ns = v as number[];
    return ns.every(Number.isInteger) ? { kind: 'ints', value: ns } : { kind: 'floats', value: ns };
  }
  const o = v as object;
  if ('kind' in o && 'value' in o) return o as AttrValue;
  if ('nodes' in o) return { kind: 'graph', value: o as Graph };
  return { kind: 'tensor', value: o as ConstTensor };
}

function values(spec: ValueSpec): TensorInfo[] {
  if (Array.isArray(spec)) return (spec as string[]).map((name) => markUntyped({ name, dtype: 'float32' }));
  return Object.entries(spec as Record<string, readonly [DType, readonly Dim[] | undefined]>).map(([name, [dtype, shape]]) =>
    shape ? { name, dtype, shape: [...shape] } : { name, dtype },
  );
}

/** A Graph (for If/Loop bodies or direct use) without running inference. */
export function buildGraph(spec: Omit<ModelSpec, 'opset' | 'extraOpsets' | 'producer'>): Graph {
  const initializers = new Map<string, ConstTensor>();
  for (const [name, t] of Object.entries(spec.initializers ?? {})) initializers.set(name, { ...t, name });
  const nodes: Node[] = spec.nodes.map((n, i) => ({
    name: n.name ?? `${n.op}_${i}`,
    opType: n.op,
    domain: n.domain ?? '',
    inputs: [...n.inputs],
    outputs: [...n.outputs],
    attrs: Object.fromEntries(Object.entries(n.attrs ?? {}).map(([k, v]) => [k, toAttr(v)])),
  }));
  return { name: spec.name ?? 'graph', nodes, inputs: values(spec.inputs), outputs: values(spec.outputs), initializers, valueInfo: new Map() };
}

/** The ONNX file bytes for a spec (no value_info: readers infer shapes themselves). */
export function buildOnnx(spec: ModelSpec): Uint8Array {
  const opset = spec.opset ?? 13;
  const model: Model = {
    format: 'onnx',
    graph: buildGraph(spec),
    opset,
    opsetImports: [{ domain: '', version: opset }, ...(spec.extraOpsets ?? [])],
    producer: spec.producer ?? 'fixpoint-test',
    producerVersion: '',
    metadata: {},
  };
  return writeOnnx(model, { valueInfo: false });
}

/** The model a reader gets from `buildOnnx(spec)`, shape inference included. */
export function buildModel(spec: ModelSpec): Model {
  return readOnnx(buildOnnx(spec));
}
