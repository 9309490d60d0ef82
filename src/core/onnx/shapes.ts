// Shape and dtype inference for the ops CNN exports use, with a small constant-folding pass so that
// shape arithmetic (Shape→Gather→Unsqueeze→Concat→Reshape, as PyTorch writes it) resolves to
// concrete Reshape targets. Unknown ops leave their outputs unknown. The one thing that throws (an
// InputError naming the node) is a size no tensor can have: a rank beyond MAX_RANK, or an output of a
// size-setting op beyond MAX_ELEMENTS, refused before anything is allocated for it.
import { InputError, isInputError } from '../errors';
import { ONNX_DTYPE, attr, topoSort, type ConstTensor, type Dim, type DType, type Graph, type Node, type Shape, type TensorInfo } from '../ir';
import { isUntyped } from './untyped';
import { elementCount, toFloat64 } from './values';

/** A small known tensor value (shape arithmetic). Strings are symbolic dimensions from `Shape`. */
interface Val {
  readonly shape: readonly number[];
  readonly data: readonly Dim[];
}

type Out = { dtype: DType; shape?: Dim[] } | undefined;

/** Most dimensions a tensor can have here (numpy's limit). */
export const MAX_RANK = 64;
/** Most elements an op output may have: no typed array holds more (2^32 bytes). */
export const MAX_ELEMENTS = 2 ** 32;
/** Ops whose output size comes from attributes or input values rather than from their inputs' sizes. */
const SIZE_SETTING = new Set(['Split', 'Slice', 'Concat', 'Pad', 'Resize', 'Upsample', 'ConstantOfShape', 'Expand', 'Tile', 'Reshape', 'Range']);

/** Largest tensor the folder evaluates: shape subgraphs are tiny, real data is not. */
const FOLD_LIMIT = 4096;

const INT_TYPES = new Set<DType>(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'int4', 'uint4']);

const SAME_SHAPE = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Celu', 'Softmax',
  'LogSoftmax', 'Hardmax', 'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos',
  'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Erf', 'Sign', 'Softplus', 'Softsign',
  'ThresholdedRelu', 'Mish', 'Gelu', 'Identity', 'LRN', 'InstanceNormalization', 'LpNormalization',
  'MeanVarianceNormalization', 'Shrink', 'CumSum', 'Trilu', 'ReverseSequence', 'BitwiseNot', 'PRelu',
  'GroupNormalization', 'Swish', 'FastGelu', 'QuickGelu', 'Relu6', 'ScatterElements', 'ScatterND', 'Scatter',
  'Dropout', 'LayerNormalization', 'BatchNormalization', 'Affine', 'ScaledTanh', 'ImageScaler',
]);
const BOOL_SAME_SHAPE = new Set(['IsNaN', 'IsInf', 'Not']);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'BitShift',
  'BitwiseAnd', 'BitwiseOr', 'BitwiseXor']);
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);
const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2',
  'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']);

let fresh = 0;
/** A new symbolic dimension for a size inference cannot know. */
function unknownDim(): string {
  return `unk__${++fresh}`;
}

function isNum(d: Dim | undefined): d is number {
  return typeof d === 'number';
}

function prod(dims: readonly Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') n *= d;
    else syms.push(d);
  }
  if (!syms.length) return n;
  if (n === 0) return 0;
  return symMul([...syms, ...(n === 1 ? [] : [n])]);
}

function symMul(parts: Dim[]): Dim {
  return parts.length === 1 ? parts[0] : parts.map(String).join('*');
}

export function broadcastShapes(shapes: readonly (Shape | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const rank = Math.max(0, ...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = s!.length - rank + i;
      if (k < 0) continue;
      const e = s![k];
      if (e === 1) continue;
      if (d === 1) d = e;
      else if (!isNum(d) && isNum(e)) d = e;
    }
    out.push(d);
  }
  return out;
}

/**
 * `a` counted from the end when negative. An axis outside [0, rank] throws (inference of that node gives
 * up): indexing a shape array with it would stretch the array to the axis' size.
 */
function normAxis(a: number, rank: number): number {
  const n = a < 0 ? a + rank : a;
  if (!(Number.isInteger(n) && n >= 0 && n <= rank)) throw new Error(`axis ${a} is outside rank ${rank}`);
  return n;
}

/** `n` unknown dimensions, `n` read from the model (a shape tensor's length): refused by name beyond MAX_RANK. */
function unknownDims(n: number, node: Node): string[] {
  if (!(Number.isInteger(n) && n >= 0 && n <= MAX_RANK))
    throw new InputError(`node "${node.name}" (${node.opType}) would make a tensor of rank ${n}; at most ${MAX_RANK} dimensions are supported`);
  return Array.from({ length: n }, unknownDim);
}

/** out = floor or ceil((in + pads − effective kernel) / stride) + 1, symbolic when `in` is. */
function convDim(inp: Dim, k: number, s: number, d: number, pb: number, pe: number, ceil = false): Dim {
  if (!isNum(inp)) return s === 1 && k === 1 && pb === 0 && pe === 0 ? inp : unknownDim();
  const eff = (k - 1) * d + 1;
  const num = inp + pb + pe - eff;
  let out = (ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1;
  // A window that would start in the end padding is dropped (PyTorch and onnxruntime agree).
  if (ceil && (out - 1) * s >= inp + pb) out--;
  return out;
}

interface ConvGeom { kernel: number[]; strides: number[]; dil: number[]; pads: number[] }

/** Kernel/stride/dilation/padding per spatial axis, resolving auto_pad against the input size. */
function convGeom(node: Node, spatialIn: readonly Dim[], kernel: number[] | undefined, transposed = false): ConvGeom | undefined {
  const n = spatialIn.length;
  const k = (attr(node, 'kernel_shape', 'ints') as number[] | undefined) ?? kernel;
  if (!k || k.length !== n) return undefined;
  const strides = (attr(node, 'strides', 'ints') as number[] | undefined) ?? new Array(n).fill(1);
  const dil = (attr(node, 'dilations', 'ints') as number[] | undefined) ?? new Array(n).fill(1);
  let pads = (attr(node, 'pads', 'ints') as number[] | undefined)?.slice() ?? new Array(2 * n).fill(0);
  const autoPad = attr(node, 'auto_pad', 'string') ?? 'NOTSET';
  if (autoPad === 'VALID') pads = new Array(2 * n).fill(0);
  else if ((autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') && !transposed) {
    for (let i = 0; i < n; i++) {
      const inp = spatialIn[i];
      if (!isNum(inp)) return { kernel: k, strides, dil, pads: [] };
      const out = Math.ceil(inp / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + (k[i] - 1) * dil[i] + 1 - inp);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + n] = total - pads[i];
    }
  }
  return { kernel: k, strides, dil, pads };
}

function spatialOut(node: Node, x: readonly Dim[], kernel: number[] | undefined, ceil: boolean): Dim[] | undefined {
  const sp = x.slice(2);
  const g = convGeom(node, sp, kernel);
  if (!g) return undefined;
  const n = sp.length;
  if (!g.pads.length) return sp.map((d, i) => (isNum(d) ? Math.ceil(d / g.strides[i]) : unknownDim()));
  return sp.map((d, i) => convDim(d, g.kernel[i], g.strides[i], g.dil[i], g.pads[i], g.pads[i + n], ceil));
}

function matmulShape(a: readonly Dim[], b: readonly Dim[]): Dim[] | undefined {
  if (!a.length || !b.length) return undefined;
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)])!;
  const out = [...batch, a2[a2.length - 2], b2[b2.length - 1]];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.pop();
  return out;
}

/** Numeric view of a folded value, or undefined when any element is symbolic. */
function nums(v: Val | undefined): number[] | undefined {
  if (!v || v.data.some((d) => typeof d !== 'number')) return undefined;
  return v.data as number[];
}

function castValue(x: number, to: DType): number {
  if (to === 'bool') return x ? 1 : 0;
  if (INT_TYPES.has(to)) return Math.trunc(x);
  if (to === 'float32') return Math.fround(x);
  return x;
}

/** Elementwise binary op over two folded values with numpy broadcasting. */
function foldBinary(op: string, a: Val, b: Val, dtype: DType): Val | undefined {
  const shape = broadcastShapes([a.shape, b.shape]) as number[] | undefined;
  if (!shape || shape.some((d) => !isNum(d))) return undefined;
  const n = shape.reduce((x, y) => x * y, 1);
  if (n > FOLD_LIMIT) return undefined;
  const idx = (src: Val, flat: number): Dim => {
    // Map an output index to the (possibly broadcast) source index.
    let off = 0;
    let stride = 1;
    let rem = flat;
    const coords: number[] = [];
    for (let i = shape.length - 1; i >= 0; i--) { coords[i] = rem % shape[i]; rem = Math.floor(rem / shape[i]); }
    for (let i = src.shape.length - 1, j = shape.length - 1; i >= 0; i--, j--) {
      off += (src.shape[i] === 1 ? 0 : coords[j]) * stride;
      stride *= src.shape[i];
    }
    return src.data[off];
  };
  const intOut = INT_TYPES.has(dtype);
  const data: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = idx(a, i);
    const y = idx(b, i);
    const r = binaryScalar(op, x, y, intOut);
    if (r === undefined) return undefined;
    data.push(r);
  }
  return { shape, data };
}

function binaryScalar(op: string, x: Dim, y: Dim, intOut: boolean): Dim | undefined {
  if (isNum(x) && isNum(y)) {
    switch (op) {
      case 'Add': return x + y;
      case 'Sub': return x - y;
      case 'Mul': return x * y;
      case 'Div': return intOut ? Math.trunc(x / y) : x / y;
      case 'Mod': return x - Math.floor(x / y) * y;
      case 'Pow': return x ** y;
      case 'Max': return Math.max(x, y);
      case 'Min': return Math.min(x, y);
      case 'Equal': return x === y ? 1 : 0;
      case 'Less': return x < y ? 1 : 0;
      case 'Greater': return x > y ? 1 : 0;
      case 'LessOrEqual': return x <= y ? 1 : 0;
      case 'GreaterOrEqual': return x >= y ? 1 : 0;
      case 'And': return x && y ? 1 : 0;
      case 'Or': return x || y ? 1 : 0;
      default: return undefined;
    }
  }
  // Symbolic arithmetic: keep names where the result is exact, otherwise give up on this value.
  switch (op) {
    case 'Mul': return x === 1 ? y : y === 1 ? x : x === 0 || y === 0 ? 0 : `${x}*${y}`;
    case 'Add': return y === 0 ? x : x === 0 ? y : `${x}+${y}`;
    case 'Sub': return y === 0 ? x : `${x}-${y}`;
    case 'Div': return y === 1 ? x : x === y ? 1 : `${x}/${y}`;
    case 'Equal': return x === y ? 1 : undefined;
    case 'Max': case 'Min': return x === y ? x : undefined;
    default: return undefined;
  }
}

function valFromTensor(t: ConstTensor): Val | undefined {
  if (elementCount(t) > FOLD_LIMIT || t.dtype === 'string' || t.dtype.startsWith('complex')) return undefined;
  return { shape: t.shape, data: Array.from(toFloat64(t)) };
}

/** What each tensor name is known to be while walking one graph. */
class Env {
  readonly info = new Map<string, TensorInfo>();
  private readonly vals = new Map<string, Val>();
  /**
   * @param outer the enclosing graph's names, visible inside control-flow bodies
   * @param subgraphs what inference found inside each body, shared down the whole model
   */
  constructor(
    private readonly graph: Graph,
    private readonly outer: Env | undefined,
    readonly subgraphs: Map<Graph, Map<string, TensorInfo>>,
  ) {}

  get(name: string): TensorInfo | undefined {
    if (!name) return undefined;
    // Out through the enclosing scopes with a loop: bodies nest as deep as the file says.
    for (let e: Env | undefined = this; e; e = e.outer) {
      const v = e.info.get(name);
      if (v) return v;
    }
    return undefined;
  }
  shape(name: string): Dim[] | undefined {
    return this.get(name)?.shape as Dim[] | undefined;
  }
  dtype(name: string): DType | undefined {
    return this.get(name)?.dtype;
  }
  value(name: string): Val | undefined {
    if (!name) return undefined;
    for (let e: Env | undefined = this; e; e = e.outer) {
      const v = e.vals.get(name);
      if (v) return v;
      const init = e.graph.initializers.get(name);
      if (init) {
        const fv = valFromTensor(init);
        if (fv) e.vals.set(name, fv);
        return fv;
      }
      // A local name shadows the outer scope even when its value is unknown.
      if (e.info.has(name)) return undefined;
    }
    return undefined;
  }
  ints(name: string): number[] | undefined {
    return nums(this.value(name));
  }
  setVal(name: string, v: Val | undefined): void {
    if (v && name && v.data.length <= FOLD_LIMIT) this.vals.set(name, v);
  }
}

/** `axes` from the attribute (older opsets) or from input `inputIndex` (newer ones). */
function axesOf(node: Node, env: Env, inputIndex: number): number[] | undefined {
  return (attr(node, 'axes', 'ints') as number[] | undefined) ?? (node.inputs[inputIndex] ? env.ints(node.inputs[inputIndex]) : undefined);
}

function infer(node: Node, env: Env, opset: number): Out[] {
  const i0 = node.inputs[0] ?? '';
  const x = env.shape(i0);
  const xt = env.dtype(i0);
  const same = (dtype = xt): Out => (dtype ? { dtype, shape: x } : undefined);
  const op = node.domain === '' || node.domain === 'ai.onnx' || node.domain === 'com.microsoft' ? node.opType : '';

  if (SAME_SHAPE.has(op)) {
    if (op === 'Dropout') return [same(), x ? { dtype: 'bool', shape: x } : undefined];
    if (op === 'BatchNormalization' && node.outputs.length > 1) {
      const c = x?.[1];
      const vec: Out = xt ? { dtype: xt, shape: c === undefined ? undefined : [c] } : undefined;
      return [same(), vec, vec, vec, vec];
    }
    if (op === 'LayerNormalization') {
      const axis = normAxis(attrIntOr(node, 'axis', -1), x?.length ?? 0);
      const stat: Out = { dtype: 'float32', shape: x ? x.map((d, i) => (i < axis ? d : 1)) : undefined };
      return [same(), stat, stat];
    }
    return [same()];
  }
  if (BOOL_SAME_SHAPE.has(op)) return [same('bool')];
  if (BROADCAST.has(op) || COMPARE.has(op)) {
    const shapes = node.inputs.filter(Boolean).map((n) => env.shape(n));
    const dtype = COMPARE.has(op) ? 'bool' : xt;
    return dtype ? [{ dtype, shape: broadcastShapes(shapes) }] : [];
  }
  switch (op) {
    case 'Cast': {
      const to = ONNX_DTYPE[attrIntOr(node, 'to', 0)];
      return to ? [{ dtype: to, shape: x }] : [];
    }
    case 'CastLike': {
      const to = env.dtype(node.inputs[1]);
      return to ? [{ dtype: to, shape: x }] : [];
    }
    case 'Where': {
      const dt = env.dtype(node.inputs[1]);
      return dt ? [{ dtype: dt, shape: broadcastShapes(node.inputs.map((n) => env.shape(n))) }] : [];
    }
    case 'QuantizeLinear': {
      const out = ONNX_DTYPE[attrIntOr(node, 'output_dtype', 0)] ?? env.dtype(node.inputs[2] ?? '') ?? 'uint8';
      return [{ dtype: out, shape: x }];
    }
    case 'DequantizeLinear': {
      const dt = env.dtype(node.inputs[1]) ?? 'float32';
      return [{ dtype: dt, shape: x }];
    }
    case 'DynamicQuantizeLinear':
      return [{ dtype: 'uint8', shape: x }, { dtype: 'float32', shape: [] }, { dtype: 'uint8', shape: [] }];
    case 'QLinearAdd': case 'QLinearMul': {
      const dt = env.dtype(node.inputs[0]);
      return dt ? [{ dtype: dt, shape: broadcastShapes([x, env.shape(node.inputs[3] ?? '')]) }] : [];
    }
    case 'QLinearLeakyRelu': case 'QLinearSigmoid': case 'QLinearSoftmax':
      return [same()];
    case 'QLinearGlobalAveragePool': {
      if (!xt) return [];
      if (!x) return [{ dtype: xt }];
      const last = attrIntOr(node, 'channels_last', 0) === 1;
      return [{ dtype: xt, shape: x.map((d, i) => (i === 0 || (last ? i === x.length - 1 : i === 1) ? d : 1)) }];
    }
    case 'QLinearConcat': {
      // Inputs: Y_scale, Y_zero_point, then (X, scale, zero point) per part.
      const parts = node.inputs.slice(2).filter((_, k) => k % 3 === 0);
      return infer({ ...node, opType: 'Concat', inputs: parts }, env, opset);
    }
    case 'QLinearAveragePool':
      return infer({ ...node, opType: 'AveragePool', domain: '' }, env, opset).slice(0, 1);
    case 'QGemm': {
      // Inputs: A, a_scale, a_zp, B, b_scale, b_zp, C, y_scale, y_zp; float output without y_scale.
      const dt = env.dtype(node.inputs[8] ?? '') ?? (node.inputs[7] ? 'uint8' : 'float32');
      const inner = infer({ ...node, opType: 'Gemm', domain: '', inputs: [node.inputs[0], node.inputs[3]] }, env, opset)[0];
      return [inner ? { dtype: dt, shape: inner.shape } : undefined];
    }
    case 'FusedConv':
      return infer({ ...node, opType: 'Conv', domain: '' }, env, opset);
    case 'Conv': case 'ConvInteger': case 'QLinearConv': {
      const [xi, wi] = op === 'QLinearConv' ? [0, 3] : [0, 1];
      const xs = env.shape(node.inputs[xi]);
      const w = env.shape(node.inputs[wi]);
      const dtype: DType | undefined = op === 'ConvInteger' ? 'int32' : op === 'QLinearConv' ? env.dtype(node.inputs[7] ?? '') ?? 'uint8' : xt;
      if (!dtype) return [];
      if (!xs || xs.length < 3) return [{ dtype }];
      const kernel = w && w.length === xs.length && w.slice(2).every(isNum) ? (w.slice(2) as number[]) : undefined;
      const sp = spatialOut(node, xs, kernel, false);
      const m = w?.[0] ?? unknownDim();
      return [{ dtype, shape: sp ? [xs[0], m, ...sp] : undefined }];
    }
    case 'ConvTranspose': {
      const w = env.shape(node.inputs[1]);
      if (!xt) return [];
      if (!x || x.length < 3) return [{ dtype: xt }];
      const n = x.length - 2;
      const group = attrIntOr(node, 'group', 1);
      const m: Dim = w && isNum(w[1]) ? w[1] * group : unknownDim();
      const explicit = attr(node, 'output_shape', 'ints');
      if (explicit) return [{ dtype: xt, shape: [x[0], m, ...explicit.slice(-n)] }];
      const kernel = w && w.length === x.length && w.slice(2).every(isNum) ? (w.slice(2) as number[]) : undefined;
      const g = convGeom(node, x.slice(2), kernel, true);
      if (!g) return [{ dtype: xt }];
      const outPad = (attr(node, 'output_padding', 'ints') as number[] | undefined) ?? new Array(n).fill(0);
      const autoPad = attr(node, 'auto_pad', 'string') ?? 'NOTSET';
      const sp = x.slice(2).map((d, i) => {
        if (!isNum(d)) return unknownDim();
        if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return d * g.strides[i];
        return g.strides[i] * (d - 1) + outPad[i] + (g.kernel[i] - 1) * g.dil[i] + 1 - g.pads[i] - g.pads[i + n];
      });
      return [{ dtype: xt, shape: [x[0], m, ...sp] }];
    }
    case 'MaxPool': case 'AveragePool': case 'LpPool': {
      if (!xt) return [];
      if (!x || x.length < 3) return [{ dtype: xt }, { dtype: 'int64' }];
      const sp = spatialOut(node, x, undefined, attrIntOr(node, 'ceil_mode', 0) === 1);
      const shape = sp ? [x[0], x[1], ...sp] : undefined;
      return [{ dtype: xt, shape }, { dtype: 'int64', shape }];
    }
    case 'GlobalAveragePool': case 'GlobalMaxPool': case 'GlobalLpPool':
      return xt ? [{ dtype: xt, shape: x ? [...x.slice(0, 2), ...x.slice(2).map(() => 1)] : undefined }] : [];
    case 'Gemm': {
      const a = x;
      const b = env.shape(node.inputs[1]);
      if (!xt) return [];
      if (!a || !b || a.length !== 2 || b.length !== 2) return [{ dtype: xt }];
      const m = attrIntOr(node, 'transA', 0) ? a[1] : a[0];
      const nn = attrIntOr(node, 'transB', 0) ? b[0] : b[1];
      return [{ dtype: xt, shape: [m, nn] }];
    }
    case 'MatMul': case 'MatMulInteger': case 'QLinearMatMul': {
      const [ai, bi] = op === 'QLinearMatMul' ? [0, 3] : [0, 1];
      const a = env.shape(node.inputs[ai]);
      const b = env.shape(node.inputs[bi]);
      const dtype = op === 'MatMulInteger' ? 'int32' : op === 'QLinearMatMul' ? env.dtype(node.inputs[7] ?? '') ?? 'uint8' : xt;
      if (!dtype) return [];
      return [{ dtype, shape: a && b ? matmulShape(a, b) : undefined }];
    }
    case 'Flatten': {
      if (!xt) return [];
      if (!x) return [{ dtype: xt, shape: [unknownDim(), unknownDim()] }];
      const axis = normAxis(attrIntOr(node, 'axis', 1), x.length);
      return [{ dtype: xt, shape: [prod(x.slice(0, axis)), prod(x.slice(axis))] }];
    }
    case 'Reshape': {
      if (!xt) return [];
      const target = opset >= 5 || node.inputs.length > 1 ? env.value(node.inputs[1]) : undefined;
      const dims: Dim[] | undefined = target ? [...target.data] : (attr(node, 'shape', 'ints') as number[] | undefined)?.slice();
      if (!dims) {
        const ts = env.shape(node.inputs[1]);
        return [{ dtype: xt, shape: ts && ts.length === 1 && isNum(ts[0]) ? unknownDims(ts[0], node) : undefined }];
      }
      return [{ dtype: xt, shape: reshape(x, dims, attrIntOr(node, 'allowzero', 0) === 1) }];
    }
    case 'Transpose': {
      if (!xt) return [];
      if (!x) return [{ dtype: xt }];
      const perm = (attr(node, 'perm', 'ints') as number[] | undefined) ?? x.map((_, i) => x.length - 1 - i);
      return [{ dtype: xt, shape: perm.map((p) => x[p]) }];
    }
    case 'Squeeze': {
      if (!xt) return [];
      if (!x) return [{ dtype: xt }];
      const axes = axesOf(node, env, 1);
      if (!axes) {
        if (node.inputs[1]) {
          // Axes computed at run time: their count gives the rank, and when exactly that many dims are 1
          // (squeezing anything else is an error) they are the ones removed.
          const k = env.shape(node.inputs[1])?.[0];
          if (!isNum(k) || k > x.length) return [{ dtype: xt }];
          const ones = x.filter((d) => d === 1).length;
          if (ones === k && x.every(isNum)) return [{ dtype: xt, shape: x.filter((d) => d !== 1) }];
          return [{ dtype: xt, shape: unknownDims(x.length - k, node) }];
        }
        if (!x.every(isNum)) return [{ dtype: xt }];
        return [{ dtype: xt, shape: x.filter((d) => d !== 1) }];
      }
      const drop = new Set(axes.map((a) => normAxis(a, x.length)));
      return [{ dtype: xt, shape: x.filter((_, i) => !drop.has(i)) }];
    }
    case 'Unsqueeze': {
      if (!xt) return [];
      const axes = axesOf(node, env, 1);
      if (!x) return [{ dtype: xt }];
      if (!axes) {
        const n = env.shape(node.inputs[1] ?? '')?.[0];
        return [{ dtype: xt, shape: isNum(n) ? unknownDims(x.length + n, node) : undefined }];
      }
      const rank = x.length + axes.length;
      const add = new Set(axes.map((a) => normAxis(a, rank)));
      const out: Dim[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) out.push(add.has(i) ? 1 : x[k++]);
      return [{ dtype: xt, shape: out }];
    }
    case 'Concat': {
      const shapes = node.inputs.filter(Boolean).map((n) => env.shape(n));
      const dtype = node.inputs.map((n) => env.dtype(n)).find(Boolean);
      if (!dtype) return [];
      const known = shapes.filter((s): s is Dim[] => !!s);
      if (!known.length) return [{ dtype }];
      const rank = known[0].length;
      const axis = normAxis(attrIntOr(node, 'axis', 0), rank);
      // With one part unknown, only the concatenated axis is: the others must agree.
      if (known.length !== shapes.length) return [{ dtype, shape: known[0].map((d, i) => (i === axis ? unknownDim() : d)) }];
      const out = known[0].slice();
      const parts = known.map((s) => s[axis]);
      out[axis] = parts.every(isNum) ? parts.reduce((p, q) => p + q, 0) : parts.filter((d) => d !== 0).map(String).join('+');
      for (let i = 0; i < rank; i++) if (i !== axis && !isNum(out[i])) out[i] = known.map((s) => s[i]).find(isNum) ?? out[i];
      return [{ dtype, shape: out }];
    }
    case 'Split': {
      if (!xt) return [];
      const n = node.outputs.length;
      if (!x) return node.outputs.map(() => ({ dtype: xt }));
      const axis = normAxis(attrIntOr(node, 'axis', 0), x.length);
      let parts = (attr(node, 'split', 'ints') as number[] | undefined) ?? (node.inputs[1] ? env.ints(node.inputs[1]) : undefined);
      const d = x[axis];
      // A split given as a runtime input leaves the sizes unknown; only an absent one means equal parts.
      const splitInput = !attr(node, 'split', 'ints') && !!node.inputs[1];
      if (!parts && !splitInput && isNum(d)) {
        const chunk = Math.ceil(d / n);
        parts = node.outputs.map((_, i) => Math.max(0, Math.min(chunk, d - i * chunk)));
      }
      return node.outputs.map((_, i) => {
        const s = x.slice();
        s[axis] = parts ? parts[i] : unknownDim();
        return { dtype: xt, shape: s };
      });
    }
    case 'Slice': {
      if (!xt) return [];
      if (!x) return [{ dtype: xt }];
      let starts: number[] | undefined, ends: number[] | undefined, axes: number[] | undefined, steps: number[] | undefined;
      if (opset < 10 && !node.inputs[1]) {
        starts = attr(node, 'starts', 'ints') as number[] | undefined;
        ends = attr(node, 'ends', 'ints') as number[] | undefined;
        axes = attr(node, 'axes', 'ints') as number[] | undefined;
      } else {
        starts = env.ints(node.inputs[1]);
        ends = env.ints(node.inputs[2]);
        axes = node.inputs[3] ? env.ints(node.inputs[3]) : undefined;
        steps = node.inputs[4] ? env.ints(node.inputs[4]) : undefined;
        if (node.inputs[3] && !axes) return [{ dtype: xt, shape: x.map(unknownDim) }];
        if (node.inputs[4] && !steps) return [{ dtype: xt, shape: x.map(unknownDim) }];
      }
      if (!starts || !ends) {
        // Without the bounds only the sliced axes are unknown, and without axes that is all of them.
        const ax = axes?.map((a) => normAxis(a, x.length));
        return [{ dtype: xt, shape: x.map((d, i) => (!ax || ax.includes(i) ? unknownDim() : d)) }];
      }
      const out = x.slice();
      const ax = axes ?? starts.map((_, i) => i);
      ax.forEach((a0, j) => {
        const a = normAxis(a0, x.length);
        const d = x[a];
        if (!isNum(d)) { out[a] = unknownDim(); return; }
        out[a] = sliceLen(d, starts![j], ends![j], steps?.[j] ?? 1);
      });
      return [{ dtype: xt, shape: out }];
    }
    case 'Gather': {
      const idx = env.shape(node.inputs[1]);
      if (!xt) return [];
      if (!x || !idx) return [{ dtype: xt }];
      const axis = normAxis(attrIntOr(node, 'axis', 0), x.length);
      return [{ dtype: xt, shape: [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)] }];
    }
    case 'GatherElements':
      return xt ? [{ dtype: xt, shape: env.shape(node.inputs[1]) }] : [];
    case 'GatherND': {
      const idx = env.shape(node.inputs[1]);
      if (!xt) return [];
      const last = idx?.[idx.length - 1];
      if (!x || !idx || !isNum(last)) return [{ dtype: xt }];
      const b = attrIntOr(node, 'batch_dims', 0);
      return [{ dtype: xt, shape: [...idx.slice(0, -1), ...x.slice(b + last)] }];
    }
    case 'Resize': case 'Upsample': {
      if (!xt) return [];
      if (!x) return [{ dtype: xt }];
      const axesAttr = attr(node, 'axes', 'ints') as number[] | undefined;
      const axes = axesAttr ? axesAttr.map((a) => normAxis(a, x.length)) : x.map((_, i) => i);
      let sizes: number[] | undefined;
      let scales: number[] | undefined;
      if (op === 'Upsample') scales = (attr(node, 'scales', 'floats') as number[] | undefined) ?? env.ints(node.inputs[1]);
      else if (opset < 11 && node.inputs.length === 2) scales = env.ints(node.inputs[1]);
      else {
        const sz = node.inputs[3] ? env.value(node.inputs[3]) : undefined;
        if (sz && sz.data.length) sizes = nums(sz);
        const sc = node.inputs[2] ? env.value(node.inputs[2]) : undefined;
        if (sc && sc.data.length) scales = nums(sc);
        if ((node.inputs[3] && !sz) || (!sizes && !scales)) return [{ dtype: xt, shape: x.map(unknownDim) }];
      }
      if (!sizes && !scales) return [{ dtype: xt, shape: x.map(unknownDim) }];
      const policy = attr(node, 'keep_aspect_ratio_policy', 'string') ?? 'stretch';
      if (sizes && policy !== 'stretch' && opset >= 18) {
        // One scale for all resized axes (the smallest or largest sizes[j]/x), then round(scale·x) per axis.
        const sz = sizes;
        if (!axes.every((a) => isNum(x[a]))) return [{ dtype: xt, shape: x.map((d, i) => (axes.includes(i) ? unknownDim() : d)) }];
        const ratios = axes.map((a, j) => sz[j] / (x[a] as number));
        const scale = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
        const out = x.slice();
        for (const a of axes) out[a] = Math.round(scale * (x[a] as number));
        return [{ dtype: xt, shape: out }];
      }
      const out = x.slice();
      axes.forEach((a, j) => {
        if (sizes) out[a] = sizes[j];
        else if (scales) out[a] = isNum(x[a]) ? Math.floor(Math.fround(x[a] * scales[j])) : scales[j] === 1 ? x[a] : unknownDim();
      });
      return [{ dtype: xt, shape: out }];
    }
    case 'Pad': {
      if (!xt) return [];
      if (!x) return [{ dtype: xt }];
      const pads = (attr(node, 'pads', 'ints') as number[] | undefined) ?? (attr(node, 'paddings', 'ints') as number[] | undefined) ?? (node.inputs[1] ? env.ints(node.inputs[1]) : undefined);
      if (!pads) return [{ dtype: xt, shape: x.map(unknownDim) }];
      const axes = node.inputs[3] ? env.ints(node.inputs[3])?.map((a) => normAxis(a, x.length)) : x.map((_, i) => i);
      if (!axes) return [{ dtype: xt, shape: x.map(unknownDim) }];
      const out = x.slice();
      axes.forEach((a, j) => {
        const d = x[a];
        out[a] = isNum(d) ? d + pads[j] + pads[j + axes.length] : pads[j] + pads[j + axes.length] === 0 ? d : unknownDim();
      });
      return [{ dtype: xt, shape: out }];
    }
    case 'ArgMax': case 'ArgMin': {
      if (!x) return [{ dtype: 'int64' }];
      const axis = normAxis(attrIntOr(node, 'axis', 0), x.length);
      const keep = attrIntOr(node, 'keepdims', 1) === 1;
      return [{ dtype: 'int64', shape: keep ? x.map((d, i) => (i === axis ? 1 : d)) : x.filter((_, i) => i !== axis) }];
    }
    case 'Shape': {
      if (!x) return [{ dtype: 'int64', shape: [unknownDim()] }];
      const [s, e] = shapeRange(node, x.length);
      return [{ dtype: 'int64', shape: [Math.max(0, e - s)] }];
    }
    case 'Size': return [{ dtype: 'int64', shape: [] }];
    case 'ConstantOfShape': {
      const t = attr(node, 'value', 'tensor');
      const dtype = t?.dtype ?? 'float32';
      const v = env.value(i0);
      if (v) return [{ dtype, shape: [...v.data] }];
      const s = env.shape(i0);
      return [{ dtype, shape: s && isNum(s[0]) ? unknownDims(s[0], node) : undefined }];
    }
    case 'Constant': {
      const t = constantTensor(node);
      return t ? [{ dtype: t.dtype, shape: [...t.shape] }] : [];
    }
    case 'Expand': {
      if (!xt) return [];
      const v = env.value(node.inputs[1]);
      if (v) return [{ dtype: xt, shape: broadcastShapes([x, v.data]) }];
      const len = env.shape(node.inputs[1])?.[0];
      return [{ dtype: xt, shape: x && isNum(len) ? unknownDims(Math.max(len, x.length), node) : undefined }];
    }
    case 'Tile': {
      if (!xt) return [];
      const reps = env.ints(node.inputs[1]);
      if (!x) return [{ dtype: xt }];
      return [{ dtype: xt, shape: x.map((d, i) => (reps ? (isNum(d) ? d * reps[i] : reps[i] === 1 ? d : unknownDim()) : unknownDim())) }];
    }
    case 'Range': {
      const dtype = xt ?? 'float32';
      const [s, l, d] = [0, 1, 2].map((k) => env.ints(node.inputs[k])?.[0]);
      if (s === undefined || l === undefined || d === undefined || d === 0) return [{ dtype, shape: [unknownDim()] }];
      return [{ dtype, shape: [Math.max(0, Math.ceil((l - s) / d))] }];
    }
    case 'TopK': {
      if (!xt) return [];
      if (!x) return [{ dtype: xt }, { dtype: 'int64' }];
      const axis = normAxis(attrIntOr(node, 'axis', -1), x.length);
      const k = (attr(node, 'k', 'int') as number | undefined) ?? env.ints(node.inputs[1])?.[0];
      const s = x.map((d, i) => (i === axis ? k ?? unknownDim() : d));
      return [{ dtype: xt, shape: s }, { dtype: 'int64', shape: s }];
    }
    case 'DepthToSpace': case 'SpaceToDepth': {
      if (!xt) return [];
      if (!x || x.length !== 4) return [{ dtype: xt }];
      const b = attrIntOr(node, 'blocksize', 1);
      const [n, c, h, w] = x;
      const f = (d: Dim, k: number, mul: boolean) => (isNum(d) ? (mul ? d * k : d / k) : unknownDim());
      return op === 'DepthToSpace'
        ? [{ dtype: xt, shape: [n, f(c, b * b, false), f(h, b, true), f(w, b, true)] }]
        : [{ dtype: xt, shape: [n, f(c, b * b, true), f(h, b, false), f(w, b, false)] }];
    }
    case 'NonZero':
      return [{ dtype: 'int64', shape: [x ? x.length : unknownDim(), unknownDim()] }];
    case 'NonMaxSuppression':
      return [{ dtype: 'int64', shape: [unknownDim(), 3] }];
    case 'OneHot': {
      const depth = env.ints(node.inputs[1])?.[0];
      const dt = env.dtype(node.inputs[2]);
      if (!dt) return [];
      if (!x) return [{ dtype: dt }];
      const axis = normAxis(attrIntOr(node, 'axis', -1), x.length + 1);
      const s = x.slice();
      s.splice(axis, 0, depth ?? unknownDim());
      return [{ dtype: dt, shape: s }];
    }
    case 'Einsum': return einsum(node, env);
    case 'EyeLike': case 'Bernoulli': {
      const to = ONNX_DTYPE[attrIntOr(node, 'dtype', 0)] ?? xt;
      return to ? [{ dtype: to, shape: x }] : [];
    }
    case 'RNN': case 'GRU': case 'LSTM': {
      if (!xt) return [];
      const hidden = attr(node, 'hidden_size', 'int') ?? unknownDim();
      const dirs = attr(node, 'direction', 'string') === 'bidirectional' ? 2 : 1;
      if (!x || x.length !== 3) return node.outputs.map(() => ({ dtype: xt }));
      const batchFirst = attrIntOr(node, 'layout', 0) === 1;
      const [seq, batch] = batchFirst ? [x[1], x[0]] : [x[0], x[1]];
      const y = batchFirst ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden];
      const yh = batchFirst ? [batch, dirs, hidden] : [dirs, batch, hidden];
      return [{ dtype: xt, shape: y }, { dtype: xt, shape: yh }, { dtype: xt, shape: yh }];
    }
    case 'AffineGrid': {
      // theta [N, 2, 3] or [N, 3, 4]; size = (N, C, H, W) or (N, C, D, H, W) → grid [N, (D,) H, W, 2 or 3].
      const dt = env.dtype(i0);
      if (!dt) return [];
      const size = node.inputs[1] ? env.ints(node.inputs[1]) : undefined;
      if (!size || size.length < 4) return [{ dtype: dt }];
      return [{ dtype: dt, shape: [size[0], ...size.slice(2), size.length - 2] }];
    }
    case 'GridSample': {
      const grid = env.shape(node.inputs[1]);
      if (!xt) return [];
      return [{ dtype: xt, shape: x && grid ? [x[0], x[1], ...grid.slice(1, -1)] : undefined }];
    }
    case 'RoiAlign': {
      const rois = env.shape(node.inputs[1]);
      if (!xt) return [];
      return [{ dtype: xt, shape: [rois?.[0] ?? unknownDim(), x?.[1] ?? unknownDim(), attrIntOr(node, 'output_height', 1), attrIntOr(node, 'output_width', 1)] }];
    }
    case 'Det':
      return xt ? [{ dtype: xt, shape: x?.slice(0, -2) }] : [];
    case 'Compress': {
      if (!xt) return [];
      const axis = attr(node, 'axis', 'int');
      if (axis === undefined || !x) return [{ dtype: xt, shape: axis === undefined ? [unknownDim()] : undefined }];
      const a = normAxis(axis, x.length);
      return [{ dtype: xt, shape: x.map((d, i) => (i === a ? unknownDim() : d)) }];
    }
    case 'If': return ifOutputs(node, env);
    case 'Loop': return loopOutputs(node, env);
    case 'Scan': return scanOutputs(node, env, opset);
  }
  if (REDUCE.has(op)) {
    if (!xt) return [];
    if (!x) return [{ dtype: xt }];
    const useInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18;
    const axes = useInput ? (node.inputs[1] ? env.ints(node.inputs[1]) : []) : ((attr(node, 'axes', 'ints') as number[] | undefined) ?? []);
    const keep = attrIntOr(node, 'keepdims', 1) === 1;
    if (!axes) return [{ dtype: xt, shape: keep ? x.map(unknownDim) : undefined }];
    let set: Set<number>;
    if (axes.length === 0) {
      if (attrIntOr(node, 'noop_with_empty_axes', 0) === 1) return [{ dtype: xt, shape: x }];
      set = new Set(x.map((_, i) => i));
    } else set = new Set(axes.map((a) => normAxis(a, x.length)));
    return [{ dtype: xt, shape: keep ? x.map((d, i) => (set.has(i) ? 1 : d)) : x.filter((_, i) => !set.has(i)) }];
  }
  return [];
}

/** Einsum with an explicit `->` output and no ellipsis: each output letter takes its input's size. */
function einsum(node: Node, env: Env): Out[] {
  const eq = (attr(node, 'equation', 'string') ?? '').replace(/\s/g, '');
  const dtype = env.dtype(node.inputs[0] ?? '');
  if (!dtype) return [];
  const [lhs, rhs] = eq.split('->');
  if (rhs === undefined || eq.includes('...')) return [{ dtype }];
  const size = new Map<string, Dim>();
  const terms = lhs.split(',');
  for (let i = 0; i < terms.length; i++) {
    const s = env.shape(node.inputs[i] ?? '');
    if (!s || s.length !== terms[i].length) return [{ dtype }];
    [...terms[i]].forEach((c, k) => {
      const prev = size.get(c);
      if (prev === undefined || prev === 1 || (!isNum(prev) && isNum(s[k]))) size.set(c, s[k]);
    });
  }
  return [{ dtype, shape: [...rhs].map((c) => size.get(c) ?? unknownDim()) }];
}

/** What is known of a body graph's output: inferred inside the body, else as declared. */
function bodyOutput(g: Graph, i: number, env: Env): TensorInfo | undefined {
  const o = g.outputs[i];
  if (!o) return undefined;
  const found = env.subgraphs.get(g)?.get(o.name) ?? g.valueInfo.get(o.name) ?? o;
  return isUntyped(found) ? undefined : found;
}

function ifOutputs(node: Node, env: Env): Out[] {
  const thenG = attr(node, 'then_branch', 'graph');
  const elseG = attr(node, 'else_branch', 'graph');
  if (!thenG || !elseG) return [];
  return thenG.outputs.map((_, i) => {
    const t = bodyOutput(thenG, i, env);
    const e = bodyOutput(elseG, i, env);
    if (!t) return undefined;
    const ts = t.shape;
    const es = e?.shape;
    const shape = ts && es && ts.length === es.length ? ts.map((d, k) => (d === es[k] ? d : unknownDim())) : undefined;
    return { dtype: t.dtype, shape };
  });
}

/** Loop: carried values keep the body's shapes where they agree with the initial ones; scan outputs gain a leading trip dimension. */
function loopOutputs(node: Node, env: Env): Out[] {
  const body = attr(node, 'body', 'graph');
  if (!body) return [];
  const carried = node.inputs.length - 2;
  return node.outputs.map((_, k) => {
    const b = bodyOutput(body, k + 1, env);
    if (!b) return undefined;
    if (k < carried) {
      const init = env.shape(node.inputs[k + 2]);
      const shape = b.shape && init && b.shape.length === init.length ? b.shape.map((d, i) => (d === init[i] ? d : unknownDim())) : undefined;
      return { dtype: b.dtype, shape };
    }
    return { dtype: b.dtype, shape: b.shape ? [unknownDim(), ...b.shape] : undefined };
  });
}

/**
 * How a Scan lays out its operands. Opset 8: inputs are (sequence_lens, states…, scan inputs…), every
 * operand has a leading batch axis and scans along axis 1. Opset 9+: no batch and no sequence_lens; scan
 * inputs and outputs scan along scan_input_axes / scan_output_axes (default 0; negative from 11).
 */
interface ScanLayout {
  readonly states: number;
  readonly scans: number;
  /** Index in node.inputs of the first state. */
  readonly first: number;
  readonly batch?: Dim;
  readonly seq: Dim;
  /** The axis each scan input scans along, normalised to its rank. */
  readonly inAxes: readonly number[];
}

function scanLayout(node: Node, body: Graph, env: Env, opset: number): ScanLayout | undefined {
  const scans = attr(node, 'num_scan_inputs', 'int');
  if (scans === undefined || scans < 1) return undefined;
  const states = body.inputs.length - scans;
  if (states < 0) return undefined;
  const first = opset < 9 ? 1 : 0;
  const inAxesAttr = (attr(node, 'scan_input_axes', 'ints') as number[] | undefined) ?? [];
  const inAxes: number[] = [];
  for (let j = 0; j < scans; j++) {
    const rank = env.shape(node.inputs[first + states + j] ?? '')?.length ?? 0;
    inAxes.push(opset < 9 ? 1 : normAxis(inAxesAttr[j] ?? 0, rank));
  }
  const s0 = env.shape(node.inputs[first + states] ?? '');
  const seq = s0?.[inAxes[0]] ?? unknownDim();
  const batch = opset < 9 ? (s0?.[0] ?? env.shape(node.inputs[first] ?? '')?.[0] ?? unknownDim()) : undefined;
  return { states, scans, first, batch, seq, inAxes };
}

/** Scan bodies see the states as they are and one slice of each scan input (its scan axis, and opset 8's batch, removed). */
function scanBodySeeds(node: Node, body: Graph, env: Env, opset: number): Map<string, TensorInfo> {
  const seeds = new Map<string, TensorInfo>();
  const l = scanLayout(node, body, env, opset);
  if (!l) return seeds;
  body.inputs.forEach((b, k) => {
    if (!isUntyped(b)) return;
    const outer = node.inputs[l.first + k] ?? '';
    const dtype = env.dtype(outer);
    const s = env.shape(outer);
    if (!dtype) return;
    let shape: Dim[] | undefined;
    if (s) {
      const drop = k < l.states ? (opset < 9 ? [0] : []) : opset < 9 ? [0, 1] : [l.inAxes[k - l.states]];
      shape = s.filter((_, i) => !drop.includes(i));
    }
    seeds.set(b.name, shape ? { name: b.name, dtype, shape } : { name: b.name, dtype });
  });
  return seeds;
}

/** Scan: final states take the body's state outputs; scan outputs stack the body's per-step outputs along their scan axis. */
function scanOutputs(node: Node, env: Env, opset: number): Out[] {
  const body = attr(node, 'body', 'graph');
  if (!body) return [];
  const l = scanLayout(node, body, env, opset);
  if (!l) return [];
  const outAxes = (attr(node, 'scan_output_axes', 'ints') as number[] | undefined) ?? [];
  return node.outputs.map((_, k) => {
    const b = bodyOutput(body, k, env);
    if (!b) return undefined;
    if (!b.shape) return { dtype: b.dtype };
    if (k < l.states) return { dtype: b.dtype, shape: opset < 9 ? [l.batch!, ...b.shape] : [...b.shape] };
    if (opset < 9) return { dtype: b.dtype, shape: [l.batch!, l.seq, ...b.shape] };
    const axis = normAxis(outAxes[k - l.states] ?? 0, b.shape.length + 1);
    if (!(axis >= 0 && axis <= b.shape.length)) return { dtype: b.dtype };
    return { dtype: b.dtype, shape: [...b.shape.slice(0, axis), l.seq, ...b.shape.slice(axis)] };
  });
}

function attrIntOr(node: Node, name: string, fallback: number): number {
  return attr(node, name, 'int') ?? fallback;
}

function shapeRange(node: Node, rank: number): [number, number] {
  const clamp = (v: number) => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
  return [clamp(attrIntOr(node, 'start', 0)), clamp(attrIntOr(node, 'end', rank))];
}

function sliceLen(d: number, start: number, end: number, step: number): number {
  const clampIdx = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v < 0 ? v + d : v));
  if (step > 0) {
    const s = clampIdx(start, 0, d);
    const e = clampIdx(end, 0, d);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  const s = clampIdx(start, -1, d - 1);
  const e = clampIdx(end, -1, d - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

/** Reshape target resolution: 0 copies the input dim (unless allowzero), -1 takes what is left. */
export function reshape(input: readonly Dim[] | undefined, target: readonly Dim[], allowZero: boolean): Dim[] {
  const out = target.map((d, i) => (d === 0 && !allowZero ? input?.[i] ?? unknownDim() : d));
  const minus = out.indexOf(-1);
  if (minus >= 0) {
    if (!input) out[minus] = unknownDim();
    else {
      const rest = out.filter((_, i) => i !== minus);
      const total = prod(input);
      const known = prod(rest);
      if (isNum(total) && isNum(known)) out[minus] = known === 0 ? 0 : total / known;
      else if (isNum(known) && known === 1) out[minus] = total;
      else out[minus] = cancel(total, rest) ?? unknownDim();
    }
  }
  return out;
}

/** total / product(rest) when every factor of rest appears in the symbolic total. */
function cancel(total: Dim, rest: Dim[]): Dim | undefined {
  if (typeof total !== 'string') return undefined;
  const factors = total.split('*').map((f) => (/^\d+$/.test(f) ? Number(f) : f));
  let num = 1;
  const syms: string[] = [];
  for (const f of factors) typeof f === 'number' ? (num *= f) : syms.push(f);
  for (const r of rest) {
    if (typeof r === 'number') {
      if (num % r !== 0) return undefined;
      num /= r;
    } else {
      const k = syms.indexOf(r);
      if (k < 0) return undefined;
      syms.splice(k, 1);
    }
  }
  return syms.length ? symMul([...syms, ...(num === 1 ? [] : [num])]) : num;
}

/** The tensor a Constant node produces, from whichever value attribute it uses. */
export function constantTensor(node: Node): ConstTensor | undefined {
  const name = node.outputs[0] ?? '';
  const t = attr(node, 'value', 'tensor') ?? attr(node, 'sparse_value', 'tensor');
  if (t) return { ...t, name };
  const f = attr(node, 'value_float', 'float');
  if (f !== undefined) return { name, dtype: 'float32', shape: [], values: Float32Array.of(f) };
  const fs = attr(node, 'value_floats', 'floats');
  if (fs) return { name, dtype: 'float32', shape: [fs.length], values: Float32Array.from(fs) };
  const i = attr(node, 'value_int', 'int');
  if (i !== undefined) return { name, dtype: 'int64', shape: [], values: BigInt64Array.of(BigInt(i)) };
  const is = attr(node, 'value_ints', 'ints');
  if (is) return { name, dtype: 'int64', shape: [is.length], values: BigInt64Array.from(is, (v) => BigInt(v)) };
  const s = attr(node, 'value_string', 'string');
  if (s !== undefined) return { name, dtype: 'string', shape: [], values: [s] };
  const ss = attr(node, 'value_strings', 'strings');
  if (ss) return { name, dtype: 'string', shape: [ss.length], values: ss };
  return undefined;
}

/** Folds a node whose inputs are all known small values; returns its first output's value. */
function fold(node: Node, env: Env, opset: number, outDtype: DType | undefined): Val | undefined {
  const op = node.domain === '' ? node.opType : '';
  const v = (k: number) => (node.inputs[k] ? env.value(node.inputs[k]) : undefined);
  switch (op) {
    case 'Constant': {
      const t = constantTensor(node);
      return t ? valFromTensor(t) : undefined;
    }
    case 'Shape': {
      const s = env.shape(node.inputs[0]);
      if (!s) return undefined;
      const [a, b] = shapeRange(node, s.length);
      const data = s.slice(a, b);
      return { shape: [data.length], data };
    }
    case 'Size': {
      const s = env.shape(node.inputs[0]);
      return s ? { shape: [], data: [prod(s)] } : undefined;
    }
    case 'Identity': case 'Cast': case 'Unsqueeze': case 'Squeeze': case 'Reshape': case 'Flatten': {
      const a = v(0);
      const shape = env.get(node.outputs[0])?.shape;
      if (!a || !shape || !shape.every(isNum)) return undefined;
      const to = op === 'Cast' ? ONNX_DTYPE[attrIntOr(node, 'to', 0)] : undefined;
      return { shape: shape as number[], data: to ? a.data.map((d) => (isNum(d) ? castValue(d, to) : d)) : a.data };
    }
    case 'Gather': {
      const a = v(0);
      const idx = nums(v(1));
      if (!a || !idx) return undefined;
      const axis = normAxis(attrIntOr(node, 'axis', 0), a.shape.length);
      const outer = a.shape.slice(0, axis).reduce((p, q) => p * q, 1);
      const inner = a.shape.slice(axis + 1).reduce((p, q) => p * q, 1);
      const dim = a.shape[axis];
      if (outer * idx.length * inner > FOLD_LIMIT) return undefined;
      const data: Dim[] = [];
      for (let o = 0; o < outer; o++)
        for (const i0 of idx) {
          const i = i0 < 0 ? i0 + dim : i0;
          if (!(i >= 0 && i < dim)) return undefined;
          for (let k = 0; k < inner; k++) data.push(a.data[(o * dim + i) * inner + k]);
        }
      const shape = [...a.shape.slice(0, axis), ...(v(1)!.shape), ...a.shape.slice(axis + 1)];
      return { shape, data };
    }
    case 'Concat': {
      const vals = node.inputs.filter(Boolean).map((n) => env.value(n));
      if (vals.some((x) => !x) || vals.some((x) => x!.shape.length !== 1)) return undefined;
      const data = vals.flatMap((x) => x!.data);
      return { shape: [data.length], data };
    }
    case 'Slice': {
      const a = v(0);
      if (!a || a.shape.length !== 1) return undefined;
      const starts = opset < 10 && !node.inputs[1] ? (attr(node, 'starts', 'ints') as number[] | undefined) : nums(v(1));
      const ends = opset < 10 && !node.inputs[2] ? (attr(node, 'ends', 'ints') as number[] | undefined) : nums(v(2));
      const steps = node.inputs[4] ? nums(v(4)) : [1];
      if (!starts || !ends || !steps) return undefined;
      const d = a.shape[0];
      const step = steps[0];
      const len = sliceLen(d, starts[0], ends[0], step);
      let s = starts[0] < 0 ? starts[0] + d : starts[0];
      s = step > 0 ? Math.min(d, Math.max(0, s)) : Math.min(d - 1, Math.max(-1, s));
      const data: Dim[] = [];
      for (let i = 0; i < len; i++) data.push(a.data[s + i * step]);
      return { shape: [len], data };
    }
    case 'ConstantOfShape': {
      const s = nums(v(0));
      if (!s) return undefined;
      const n = s.reduce((p, q) => p * q, 1);
      if (n > FOLD_LIMIT) return undefined;
      const t = attr(node, 'value', 'tensor');
      const fill = t ? toFloat64(t)[0] : 0;
      return { shape: s, data: new Array(n).fill(fill) };
    }
    case 'Range': {
      const [s, l, d] = [0, 1, 2].map((k) => nums(v(k))?.[0]);
      if (s === undefined || l === undefined || !d) return undefined;
      const n = Math.max(0, Math.ceil((l - s) / d));
      if (n > FOLD_LIMIT) return undefined;
      return { shape: [n], data: Array.from({ length: n }, (_, i) => s + i * d) };
    }
    case 'Neg': case 'Abs': case 'Floor': case 'Ceil': case 'Sqrt': case 'Not': case 'Reciprocal': {
      const a = nums(v(0));
      if (!a) return undefined;
      const f = { Neg: (x: number) => -x, Abs: Math.abs, Floor: Math.floor, Ceil: Math.ceil, Sqrt: Math.sqrt,
        Not: (x: number) => (x ? 0 : 1), Reciprocal: (x: number) => 1 / x }[op];
      return { shape: v(0)!.shape, data: a.map(f) };
    }
    case 'Where': {
      const [c, a, b] = [v(0), v(1), v(2)];
      if (!c || !a || !b) return undefined;
      const shape = broadcastShapes([c.shape, a.shape, b.shape]) as number[];
      const n = shape.reduce((p, q) => p * q, 1);
      if (!(n <= FOLD_LIMIT)) return undefined;
      const pick = (x: Val, i: number) => x.data[x.data.length === 1 ? 0 : i];
      if ([c, a, b].some((x) => x.data.length !== 1 && x.data.length !== n)) return undefined;
      return { shape, data: Array.from({ length: n }, (_, i) => (pick(c, i) ? pick(a, i) : pick(b, i))) };
    }
    case 'ReduceProd': case 'ReduceSum': case 'ReduceMax': case 'ReduceMin': {
      const a = v(0);
      if (!a || a.shape.length !== 1) return undefined;
      const keep = attrIntOr(node, 'keepdims', 1) === 1;
      let acc: Dim | undefined = a.data[0];
      for (let i = 1; i < a.data.length && acc !== undefined; i++) {
        const bop = op === 'ReduceProd' ? 'Mul' : op === 'ReduceSum' ? 'Add' : op === 'ReduceMax' ? 'Max' : 'Min';
        acc = binaryScalar(bop, acc, a.data[i], false);
      }
      if (acc === undefined) return undefined;
      return { shape: keep ? [1] : [], data: [acc] };
    }
  }
  if (BROADCAST.has(op) || COMPARE.has(op)) {
    const vals = node.inputs.filter(Boolean).map((n) => env.value(n));
    if (vals.some((x) => !x) || vals.length < 2) return undefined;
    let acc = vals[0]!;
    const bop = op === 'Sum' ? 'Add' : op;
    for (let i = 1; i < vals.length; i++) {
      const r = foldBinary(bop, acc, vals[i]!, outDtype ?? 'float32');
      if (!r) return undefined;
      acc = r;
    }
    return acc;
  }
  return undefined;
}

/**
 * Infers dtype and shape of every tensor in `graph` it can, starting from the graph's inputs,
 * initializers and declared value_info. Never throws on a well-formed graph; unknown ops simply leave
 * their outputs out of the map (or with unknown shape when only the dtype is certain).
 */
export function inferShapes(graph: Graph, opset: number): Map<string, TensorInfo> {
  return inferShapesDeep(graph, opset).get(graph)!;
}

/**
 * Like inferShapes, also inferring inside If/Loop/Scan bodies with the enclosing scopes visible;
 * returns a map per graph (the top-level one included).
 */
export function inferShapesDeep(graph: Graph, opset: number): Map<Graph, Map<string, TensorInfo>> {
  // Unknown-dimension names count from 1 in each model, so a model always gets the same names.
  const savedFresh = fresh;
  fresh = 0;
  try {
    const all = new Map<Graph, Map<string, TensorInfo>>();
    inferAll(graph, opset, all);
    return all;
  } finally {
    fresh = savedFresh;
  }
}

function subgraphsOf(node: Node): Graph[] {
  const out: Graph[] = [];
  for (const a of Object.values(node.attrs)) {
    if (a.kind === 'graph') out.push(a.value);
    else if (a.kind === 'graphs') out.push(...a.value);
  }
  return out;
}

/** Loop bodies take (iteration, condition, carried values…): untyped ones get their types from the Loop's inputs. */
function loopBodySeeds(node: Node, body: Graph, env: Env): Map<string, TensorInfo> {
  const seeds = new Map<string, TensorInfo>();
  body.inputs.forEach((b, k) => {
    if (!isUntyped(b)) return;
    // Carried values start with the initial value's shape, as onnx's own Loop inference assumes;
    // loopOutputs marks any dimension the body changes as unknown.
    const dtype: DType | undefined = k === 0 ? 'int64' : k === 1 ? 'bool' : env.dtype(node.inputs[k] ?? '');
    const shape = k < 2 ? [] : env.shape(node.inputs[k] ?? '');
    if (dtype) seeds.set(b.name, shape ? { name: b.name, dtype, shape } : { name: b.name, dtype });
  });
  return seeds;
}

/** One graph being inferred: where its walk stands, and the body of the current node being entered. */
interface Frame {
  readonly graph: Graph;
  readonly env: Env;
  readonly order: readonly Node[];
  /** Index in order of the node at hand. */
  i: number;
  /** Bodies of that node and how many were inferred: a node's outputs come after its bodies'. */
  subs?: Graph[];
  s: number;
}

function enter(graph: Graph, outer: Env | undefined, all: Map<Graph, Map<string, TensorInfo>>, seeds?: ReadonlyMap<string, TensorInfo>): Frame {
  const env = new Env(graph, outer, all);
  // Guessed dtypes (see untyped.ts) are not facts to build on.
  for (const [name, vi] of graph.valueInfo) if (!isUntyped(vi)) env.info.set(name, vi);
  for (const i of graph.inputs) {
    const seeded = seeds?.get(i.name);
    if (seeded) env.info.set(i.name, seeded);
    else if (!isUntyped(i)) env.info.set(i.name, i);
  }
  for (const [name, t] of graph.initializers) env.info.set(name, { name, dtype: t.dtype, shape: t.shape });
  let order: readonly Node[];
  try {
    order = topoSort(graph);
  } catch {
    order = graph.nodes;
  }
  return { graph, env, order, i: 0, s: 0 };
}

/**
 * Infers `graph` and every body in it, each body when its node is reached (it sees the scopes around it
 * as they are then), with an explicit stack of frames instead of recursion: bodies nest as deep as the
 * file says.
 */
function inferAll(graph: Graph, opset: number, all: Map<Graph, Map<string, TensorInfo>>): void {
  const stack: Frame[] = [enter(graph, undefined, all)];
  while (stack.length) {
    const f = stack[stack.length - 1];
    if (f.i >= f.order.length) {
      stack.pop();
      all.set(f.graph, f.env.info);
      continue;
    }
    const node = f.order[f.i];
    f.subs ??= subgraphsOf(node);
    if (f.s < f.subs.length) {
      const sub = f.subs[f.s++];
      try {
        const seeds = node.domain !== '' ? undefined
          : node.opType === 'Loop' ? loopBodySeeds(node, sub, f.env)
          : node.opType === 'Scan' ? scanBodySeeds(node, sub, f.env, opset) : undefined;
        stack.push(enter(sub, f.env, all, seeds));
      } catch (e) {
        if (isInputError(e)) throw e;
        /* a body we cannot follow keeps its declared types */
      }
      continue;
    }
    try {
      inferNode(node, f.graph, f.env, opset);
    } catch (e) {
      if (isInputError(e) || stack.length === 1) throw e;
      // Inside a body: that body keeps its declared types, and the graph around it goes on.
      stack.pop();
      continue;
    }
    f.i++;
    f.subs = undefined;
    f.s = 0;
  }
}

/** Outputs of one node from its inputs (and its bodies, inferred before). */
function inferNode(node: Node, graph: Graph, env: Env, opset: number): void {
  let outs: Out[];
  try {
    outs = infer(node, env, opset);
  } catch (e) {
    if (isInputError(e)) throw e;
    outs = [];
  }
  if (SIZE_SETTING.has(node.opType)) checkSizes(node, outs);
  node.outputs.forEach((name, k) => {
    const o = outs[k];
    if (!name || !o) return;
    const declared = graph.valueInfo.get(name);
    env.info.set(name, merge(name, o, declared));
  });
  if (node.outputs[0]) {
    try {
      env.setVal(node.outputs[0], fold(node, env, opset, outs[0]?.dtype));
    } catch {
      /* a value we cannot fold stays unknown */
    }
  }
}

/** A size-setting op's outputs beyond MAX_ELEMENTS are refused, naming the node, before anything holds them. */
function checkSizes(node: Node, outs: readonly Out[]): void {
  outs.forEach((o, k) => {
    if (!o?.shape) return;
    let n = 1;
    for (const d of o.shape) if (isNum(d)) n *= d;
    if (n > MAX_ELEMENTS) {
      throw new InputError(
        `node "${node.name}" (${node.opType}) would make output "${node.outputs[k] ?? k}" of shape [${o.shape.join(', ')}], more than ${MAX_ELEMENTS} elements; check its sizes`,
      );
    }
  });
}

/**
 * A dimension inference computed that is no size (negative, fractional, NaN, or missing where a malformed
 * node lists fewer sizes than outputs) is unknown.
 */
const validDim = (d: Dim | undefined): Dim => (typeof d === 'string' ? d : Number.isSafeInteger(d) && d! >= 0 ? d! : unknownDim());

/** Inferred info, with declared dims filling in where inference only has a symbol. */
function merge(name: string, o: NonNullable<Out>, declared: TensorInfo | undefined): TensorInfo {
  // Array.from, not map: a hole in the array is a missing size too.
  let shape = o.shape ? Array.from(o.shape, validDim) : undefined;
  if (declared?.shape) {
    if (!shape) shape = [...declared.shape];
    else if (shape.length === declared.shape.length)
      shape = shape.map((d, i) => (typeof d === 'string' && typeof declared.shape![i] === 'number' ? declared.shape![i] : d));
  }
  return shape ? { name, dtype: o.dtype, shape } : { name, dtype: o.dtype };
}
