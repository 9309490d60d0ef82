// Model summary: counts, parameters and multiply-accumulates, per layer and in total.
import { dimValue, type Model, type Node, type Shape, type TensorInfo, attr } from '../ir';

export interface LayerRow {
  readonly name: string;
  readonly opType: string;
  readonly outputShape: Shape | undefined;
  /** Elements of the initializers this node reads. */
  readonly params: number;
  readonly macs: number;
}

export interface ModelSummary {
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  readonly opset: number;
  readonly producer: string;
  /** NodeProtos of the top-level graph, Constant included. */
  readonly nodes: number;
  readonly ops: Record<string, number>;
  /** Total elements of the top-level initializers. */
  readonly params: number;
  readonly macs: number;
  readonly layers: LayerRow[];
}

function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function prodDims(shape: Shape): number {
  return shape.reduce<number>((a, d) => a * dimValue(d), 1);
}

/**
 * The model's fixed batch size: the leading dimension shared by every graph input of rank ≥ 2, when it is
 * a number; 1 when the inputs disagree, are symbolic, or have lower rank (the batch is then unknown or 1).
 */
export function modelBatch(model: Model): number {
  let batch: number | undefined;
  for (const i of model.graph.inputs) {
    const d = i.shape && i.shape.length >= 2 ? i.shape[0] : undefined;
    if (d === undefined) continue;
    if (typeof d !== 'number' || (batch !== undefined && d !== batch)) return 1;
    batch = d;
  }
  return batch && batch > 0 ? batch : 1;
}

/**
 * Multiply-accumulates of one node at batch 1 (symbolic dims count as 1): Conv and ConvTranspose
 * N·Co·Ho·Wo·(Ci/group)·Kh·Kw with N = 1 (ConvTranspose over its input positions), Gemm M·N·K and MatMul
 * batch·M·N·K with the leading dimension counted as 1 when it is the model's batch (`batch`, from
 * modelBatch): a fixed batch of 8 would otherwise count every layer 8 times.
 */
export function nodeMacs(model: Model, node: Node, batch = modelBatch(model)): number {
  const vi = model.graph.valueInfo;
  const shapeOf = (name: string | undefined) => (name ? vi.get(name)?.shape : undefined);
  // Elements of an activation at batch 1: without the leading N of an NCHW tensor.
  const perSample = (shape: Shape) => prodDims(shape.slice(1));
  // Rows of a Gemm/MatMul output, with a leading dimension that is the batch counted once.
  const rowsAtBatch1 = (shape: Shape) => (shape.length && shape[0] === batch ? prodDims(shape.slice(1)) : prodDims(shape));
  switch (node.opType) {
    case 'Conv': case 'ConvInteger': case 'QLinearConv': case 'FusedConv': {
      const wIdx = node.opType === 'QLinearConv' ? 3 : 1;
      const w = shapeOf(node.inputs[wIdx]);
      const y = shapeOf(node.outputs[0]);
      if (!w || !y || w.length < 3 || y.length < 2) return 0;
      // W is [Co, Ci/group, k...]: its element count already carries Ci/group·K.
      return perSample(y) * prodDims(w.slice(1));
    }
    case 'ConvTranspose': {
      const w = shapeOf(node.inputs[1]);
      const x = shapeOf(node.inputs[0]);
      if (!w || !x || w.length < 3 || x.length < 2) return 0;
      // W is [Ci, Co/group, k...]: every input element meets Co/group·K weights.
      return perSample(x) * prodDims(w.slice(1));
    }
    case 'Gemm': case 'QGemm': {
      const a = shapeOf(node.inputs[0]);
      const y = shapeOf(node.outputs[0]);
      if (!a || !y || a.length !== 2 || y.length !== 2) return 0;
      const k = attr(node, 'transA', 'int') ? a[0] : a[1];
      return rowsAtBatch1(y) * dimValue(k);
    }
    case 'MatMul': case 'MatMulInteger': case 'QLinearMatMul': {
      const a = shapeOf(node.inputs[0]);
      const y = shapeOf(node.outputs[0]);
      if (!a || !y || !a.length) return 0;
      const k = dimValue(a[a.length - 1]);
      // A 1-D A makes y lose M: y's elements are then N (or batch·N) and there is no batch row to drop.
      return (a.length === 1 ? prodDims(y) : rowsAtBatch1(y)) * k;
    }
    default: return 0;
  }
}

export function summarize(model: Model): ModelSummary {
  const g = model.graph;
  const ops: Record<string, number> = {};
  for (const n of g.nodes) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
  let params = 0;
  for (const t of g.initializers.values()) params += numelOf(t.shape);
  let macs = 0;
  const batch = modelBatch(model);
  const layers = g.nodes.map((n): LayerRow => {
    const m = nodeMacs(model, n, batch);
    macs += m;
    let p = 0;
    for (const i of n.inputs) {
      const t = i ? g.initializers.get(i) : undefined;
      if (t) p += numelOf(t.shape);
    }
    return { name: n.name, opType: n.opType, outputShape: n.outputs[0] ? g.valueInfo.get(n.outputs[0])?.shape : undefined, params: p, macs: m };
  });
  const withInferred = (t: TensorInfo) => {
    const v = g.valueInfo.get(t.name);
    return { name: t.name, dtype: t.dtype, ...(t.shape ?? v?.shape ? { shape: t.shape ?? v?.shape } : {}) };
  };
  return {
    inputs: g.inputs.map(withInferred), outputs: g.outputs.map(withInferred), opset: model.opset,
    producer: model.producer, nodes: g.nodes.length, ops, params, macs, layers,
  };
}

export interface InspectJson {
  format: string;
  opset: number;
  producer: string;
  nodes: number;
  ops: Record<string, number>;
  params: number;
  macs: number;
  inputs: { name: string; shape: (number | string)[] | null; dtype: string }[];
  outputs: { name: string; shape: (number | string)[] | null; dtype: string }[];
}

/** The object `fixpoint inspect --json` prints. Unknown shapes are null. */
export function inspectJson(model: Model): InspectJson {
  const s = summarize(model);
  const io = (t: TensorInfo) => ({ name: t.name, shape: t.shape ? [...t.shape] : null, dtype: t.dtype });
  return {
    format: model.format, opset: s.opset, producer: s.producer, nodes: s.nodes, ops: s.ops, params: s.params,
    macs: s.macs, inputs: s.inputs.map(io), outputs: s.outputs.map(io),
  };
}
