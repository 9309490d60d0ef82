// Shared by the TFLite and Keras importers. Both formats describe channels-last (NHWC) graphs; they become
// ONNX-equivalent NCHW graphs here, so the graph view, quantizer, compiler and float run see one kind of
// model. Every rank-4 activation is held as NCHW; the importers transpose weights once, at import.
import type { ConstTensor, Dim, DType, Graph, Model, ModelFormat, Node } from '../ir';
import { attr, consumers, producers } from '../ir';
import { buildModel, tensor, type AttrInput, type NodeSpec } from '../onnx/build';
import { toFloat64 } from '../onnx/values';

/** ONNX opset of every imported graph (14: HardSwish). */
export const IMPORT_OPSET = 14;

/** NHWC axis → NCHW axis for rank-4 tensors. */
export const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1] as const;

/** An NHWC shape's dims in NCHW order. */
export function nchwShape<T>(nhwc: readonly T[]): T[] {
  return [nhwc[0], nhwc[3], nhwc[1], nhwc[2]];
}

export class NchwGraph {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: Record<string, ConstTensor> = {};
  readonly inputs: Record<string, readonly [DType, readonly Dim[]]> = {};
  readonly outputs: string[] = [];
  private readonly used = new Set<string>();
  private readonly nodeNames = new Set<string>();

  /** A tensor name not used yet, derived from `base`. */
  fresh(base: string): string {
    let name = base || 't';
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node named `name` (made unique); returns its first output (fresh from `name` unless given). */
  node(op: string, name: string, inputs: readonly string[], attrs: Record<string, AttrInput> = {}, outputs?: readonly string[], domain?: string): string {
    let n = name || op;
    for (let i = 1; this.nodeNames.has(n); i++) n = `${name}_${i}`;
    this.nodeNames.add(n);
    const outs = outputs ?? [this.fresh(n)];
    this.nodes.push({ op, name: n, inputs, outputs: outs, attrs, ...(domain ? { domain } : {}) });
    return outs[0];
  }

  constant(base: string, dtype: DType, shape: readonly number[], data: ArrayLike<number>): string {
    const name = this.fresh(base);
    this.initializers[name] = tensor(dtype, shape, data, name);
    return name;
  }

  input(name: string, dtype: DType, shape: readonly Dim[]): string {
    const n = this.fresh(name);
    this.inputs[n] = [dtype, shape];
    return n;
  }

  /** x (a rank-4 NCHW tensor) in NHWC order, as the source framework lays it out for Flatten/Reshape. */
  toNhwc(x: string, name: string): string {
    return this.node('Transpose', `${name}/to_nhwc`, [x], { perm: [0, 2, 3, 1] });
  }

  toNchw(x: string, name: string): string {
    return this.node('Transpose', `${name}/to_nchw`, [x], { perm: [0, 3, 1, 2] });
  }

  clip(x: string, name: string, lo: number, hi: number): string {
    return this.node('Clip', name, [x, this.constant(`${name}/min`, 'float32', [], [lo]), this.constant(`${name}/max`, 'float32', [], [hi])]);
  }

  /**
   * A named activation after x. `rank` decides the channel axis of softmax (1 for NCHW and for
   * [N, features]). Unknown names become a node of the 'keras' domain, drawn as unknown.
   */
  activation(kind: string, x: string, name: string, rank: number, opts: { hardSigmoidAlpha?: number } = {}): string {
    switch (kind) {
      case 'linear': case 'NONE': case '': return x;
      case 'relu': case 'RELU': return this.node('Relu', name, [x]);
      case 'relu6': case 'RELU6': return this.clip(x, name, 0, 6);
      case 'RELU_N1_TO_1': return this.clip(x, name, -1, 1);
      case 'sigmoid': return this.node('Sigmoid', name, [x]);
      case 'tanh': case 'TANH': return this.node('Tanh', name, [x]);
      case 'elu': return this.node('Elu', name, [x]);
      case 'softplus': return this.node('Softplus', name, [x]);
      case 'hard_sigmoid': return this.node('HardSigmoid', name, [x], { alpha: opts.hardSigmoidAlpha ?? 0.2, beta: 0.5 });
      case 'hard_swish': case 'hard_silu': return this.node('HardSwish', name, [x]);
      case 'leaky_relu': return this.node('LeakyRelu', name, [x], { alpha: 0.2 });
      case 'softmax': return this.node('Softmax', name, [x], { axis: rank === 4 ? 1 : -1 });
      case 'swish': case 'silu': {
        const s = this.node('Sigmoid', `${name}/sigmoid`, [x]);
        return this.node('Mul', name, [x, s]);
      }
      default: return this.node(kind, name, [x], {}, undefined, 'keras');
    }
  }

  /** The model, shape-inferred, with TensorFlow's SAME padding resolved into explicit pads. */
  finish(format: ModelFormat, producer: string, producerVersion: string, graphName: string, metadata: Record<string, string> = {}): Model {
    const m = buildModel({
      opset: IMPORT_OPSET, inputs: this.inputs, outputs: this.outputs, initializers: this.initializers, nodes: this.nodes,
      producer, name: graphName,
      // Unknown layers/ops live in a domain of the source format's name, declared like any custom domain.
      extraOpsets: [...new Set(this.nodes.map((n) => n.domain).filter((d): d is string => !!d))].map((domain) => ({ domain, version: 1 })),
    });
    const nodes = m.graph.nodes.map((n) => resolveSamePads(n, m.graph.valueInfo.get(n.inputs[0])?.shape));
    const graph = foldFlattenTranspose({ ...m.graph, nodes });
    return { ...m, format, producer, producerVersion, metadata, graph };
  }
}

/**
 * Transpose(NCHW→NHWC) → Flatten/Reshape → Gemm is how a channels-last classifier head reads its features;
 * the DPU runs no Transpose, so the head flattens in NCHW order instead and the Gemm's weight rows are
 * permuted from (H, W, C) to (C, H, W) order — the same numbers, one CPU subgraph fewer. Only when the
 * transposed tensor feeds nothing else and the weight is a constant used by this Gemm alone.
 */
function foldFlattenTranspose(g: Graph): Graph {
  const readers = consumers(g);
  const prod = producers(g);
  const inits = new Map(g.initializers);
  const drop = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const t of g.nodes) {
    const perm = attr(t, 'perm', 'ints');
    if (t.opType !== 'Transpose' || !perm || perm.join() !== '0,2,3,1') continue;
    const shape = g.valueInfo.get(t.inputs[0])?.shape;
    if (!shape || shape.length !== 4 || shape.slice(1).some((d) => typeof d !== 'number')) continue;
    const [, c, h, w] = shape as number[];
    const r1 = readers.get(t.outputs[0]) ?? [];
    if (r1.length !== 1 || g.outputs.some((o) => o.name === t.outputs[0])) continue;
    const flat = r1[0];
    const flatShape = g.valueInfo.get(flat.outputs[0])?.shape;
    const isFlatten = flat.opType === 'Flatten' && (attr(flat, 'axis', 'int') ?? 1) === 1;
    const isReshape2d = flat.opType === 'Reshape' && flatShape?.length === 2 && flatShape[1] === c * h * w;
    if (!isFlatten && !isReshape2d) continue;
    const r2 = readers.get(flat.outputs[0]) ?? [];
    if (r2.length !== 1 || r2[0].opType !== 'Gemm' || r2[0].inputs[0] !== flat.outputs[0] || g.outputs.some((o) => o.name === flat.outputs[0])) continue;
    const gemm = r2[0];
    // The weight: an initializer, possibly behind a Q → DQ pair (per-tensor, so rows can move).
    let wName = gemm.inputs[1];
    const chain: string[] = [wName];
    for (let p = prod.get(wName); p && (p.opType === 'DequantizeLinear' || p.opType === 'QuantizeLinear'); p = prod.get(wName)) {
      wName = p.inputs[0];
      chain.push(wName);
    }
    const wt = inits.get(wName);
    if (!wt || wt.dtype !== 'float32' || wt.shape.length !== 2 || chain.some((n) => (readers.get(n)?.length ?? 0) > 1)) continue;
    const transB = (attr(gemm, 'transB', 'int') ?? 0) === 1;
    const rows = transB ? wt.shape[1] : wt.shape[0];
    if (rows !== c * h * w) continue;
    const src = toFloat64(wt);
    const out = new Float32Array(src.length);
    const cols = transB ? wt.shape[0] : wt.shape[1];
    for (let ci = 0; ci < c; ci++)
      for (let hi = 0; hi < h; hi++)
        for (let wi = 0; wi < w; wi++) {
          const from = (hi * w + wi) * c + ci;
          const to = (ci * h + hi) * w + wi;
          for (let k = 0; k < cols; k++) {
            if (transB) out[k * rows + to] = src[k * rows + from];
            else out[to * cols + k] = src[from * cols + k];
          }
        }
    inits.set(wName, { ...wt, values: out });
    drop.add(t);
    replaced.set(flat, { ...flat, inputs: [t.inputs[0], ...flat.inputs.slice(1)] });
  }
  if (!drop.size) return g;
  const nodes = g.nodes.filter((n) => !drop.has(n)).map((n) => replaced.get(n) ?? n);
  const valueInfo = new Map(g.valueInfo);
  for (const t of drop) valueInfo.delete(t.outputs[0]);
  return { ...g, nodes, initializers: inits, valueInfo };
}

/**
 * TensorFlow's SAME (extra padding after) as explicit pads, which the compiler needs; the same numbers
 * ONNX's SAME_UPPER gives, computed from the inferred input size. Left as is when the size is unknown.
 */
function resolveSamePads(n: Node, shape: readonly Dim[] | undefined): Node {
  if (attr(n, 'auto_pad', 'string') !== 'SAME_UPPER' || !shape) return n;
  const k = attr(n, 'kernel_shape', 'ints');
  const spatial = shape.slice(2);
  if (!k || k.length !== spatial.length || spatial.some((d) => typeof d !== 'number')) return n;
  const s = attr(n, 'strides', 'ints') ?? k.map(() => 1);
  const d = attr(n, 'dilations', 'ints') ?? k.map(() => 1);
  const pads = samePads(spatial as number[], k, s, d);
  const { auto_pad: _drop, ...rest } = n.attrs;
  return { ...n, attrs: { ...rest, pads: { kind: 'ints', value: pads } } };
}

/** [begin…, end…] pads of TensorFlow's SAME for these input sizes. */
export function samePads(size: readonly number[], k: readonly number[], s: readonly number[], d: readonly number[]): number[] {
  const begin: number[] = [];
  const end: number[] = [];
  size.forEach((x, i) => {
    const out = Math.ceil(x / s[i]);
    const total = Math.max(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - x);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  });
  return [...begin, ...end];
}

/** Reorders a row-major tensor's elements: out[permuted index] = in[index]; `perm` as numpy.transpose. */
export function transposeData<T extends { length: number; [i: number]: number }>(src: ArrayLike<number>, shape: readonly number[], perm: readonly number[], out: T): T {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  let acc = 1;
  for (let i = rank - 1; i >= 0; i--) { inStrides[i] = acc; acc *= shape[i]; }
  const strideOfOut = perm.map((p) => inStrides[p]);
  const idx = new Array<number>(rank).fill(0);
  const n = acc;
  let off = 0;
  for (let o = 0; o < n; o++) {
    out[o] = src[off];
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]++;
      off += strideOfOut[a];
      if (idx[a] < outShape[a]) break;
      off -= strideOfOut[a] * outShape[a];
      idx[a] = 0;
    }
  }
  return out;
}

/** Distance of a scale from the nearest power of two, for the panel: "2^-6.41, nearest 2^-6 (×0.75)". */
export function pow2Distance(scale: number): string {
  if (!(scale > 0)) return `scale ${scale} is not positive`;
  const l = Math.log2(scale);
  const e = Math.round(l);
  return `2^${l.toFixed(2)}, nearest 2^${e} (×${(scale / 2 ** e).toFixed(3)})`;
}
