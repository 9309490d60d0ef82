// Model → the graph the viewer draws: one node per operator, constants folded into their consumers,
// graph inputs and outputs as nodes of their own, edges labelled with tensor shapes.
import { formatShape, numel, topoSort, type ConstTensor, type Dim, type DType, type Graph, type Model, type Node, type TensorInfo } from '../ir';
import { typedValues } from '../onnx/values';
import { allAttrs, formatNumber, summaryAttrs } from './attrs';
import { isKnownOp } from '../onnx/ops';
import { XIR_OP_DEFS } from '../xmodel/opdef-check';
import { XIR_CUSTOM_DOMAIN } from '../xmodel/to-model';
import { INPUT_NAMES, opCategory, xirOpCategory } from './categories';
import type { DisplayEdge, DisplayGraph, DisplayNode, DisplayPort, DisplaySubgraph, DisplayWeight } from './types';

/** Ops never folded even when their inputs are constant: their value is not a function of the inputs. */
/** The domain xmodelToModel gives XIR ops. */
const XIR = 'xir';

const NEVER_FOLD = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli', 'If', 'Loop', 'Scan']);
const PREVIEW_LIMIT = 4;
/** dtypes whose values sit in a typed array of their own (the rest are raw bytes decoded on demand). */
const DIRECT = new Set<DType>(['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

export const inputId = (tensor: string): string => `in:${tensor}`;
export const outputId = (tensor: string): string => `out:${tensor}`;
export const opId = (index: number): string => `op:${index}`;

interface ConstInfo {
  readonly dtype?: DType;
  readonly shape?: readonly Dim[];
  readonly tensor?: ConstTensor;
  readonly stored: boolean;
  /** Nodes whose only job was to produce this constant. */
  readonly producedBy: readonly string[];
  /** For the XIR fix of a const: the const's tensor, whose values and statistics the weight shows. */
  readonly source?: string;
}

function preview(t: ConstTensor): string | undefined {
  if (numel(t.shape) > PREVIEW_LIMIT || !DIRECT.has(t.dtype)) return undefined;
  const vs = Array.from(typedValues(t) as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? String(v) : formatNumber(v)));
  return t.shape.length === 0 ? vs[0] : `[${vs.join(', ')}]`;
}

function constantValue(node: Node): ConstTensor | undefined {
  const a = node.attrs.value;
  return a?.kind === 'tensor' ? a.value : undefined;
}

/** dtype/shape of a Constant's output for the value_* forms that carry no tensor. */
function constantInfo(node: Node): { dtype?: DType; shape?: Dim[] } {
  const a = Object.values(node.attrs)[0];
  if (!a) return {};
  switch (a.kind) {
    case 'float': return { dtype: 'float32', shape: [] };
    case 'int': return { dtype: 'int64', shape: [] };
    case 'floats': return { dtype: 'float32', shape: [a.value.length] };
    case 'ints': return { dtype: 'int64', shape: [a.value.length] };
    case 'string': return { dtype: 'string', shape: [] };
    case 'strings': return { dtype: 'string', shape: [a.value.length] };
    default: return {};
  }
}

function subgraphsOf(node: Node): DisplaySubgraph[] {
  const out: DisplaySubgraph[] = [];
  const ops = (g: Graph) => g.nodes.map((n) => ({ opType: n.opType, name: n.name }));
  for (const [name, a] of Object.entries(node.attrs)) {
    if (a.kind === 'graph') out.push({ attr: name, ops: ops(a.value) });
    else if (a.kind === 'graphs') a.value.forEach((g, i) => out.push({ attr: `${name}[${i}]`, ops: ops(g) }));
  }
  return out;
}

/**
 * Tensors a subgraph reads from the scopes around it: used by its nodes (or nested subgraphs) but not
 * defined inside it as an input, initializer or node output. ONNX lets If/Loop/Scan bodies do this, and
 * without these the viewer would draw no edge into the control-flow node for them.
 */
export function outerScopeInputs(g: Graph): string[] {
  // Bodies before the graphs holding them (reverse pre-order), from a stack: nesting can be deep.
  const preorder: Graph[] = [];
  const stack: Graph[] = [g];
  while (stack.length) {
    const x = stack.pop()!;
    preorder.push(x);
    for (const n of x.nodes) for (const sg of bodiesOf(n)) stack.push(sg);
  }
  const found = new Map<Graph, string[]>();
  for (let i = preorder.length - 1; i >= 0; i--) {
    const x = preorder[i];
    const defined = new Set<string>([...x.inputs.map((t) => t.name), ...x.initializers.keys()]);
    for (const n of x.nodes) for (const o of n.outputs) if (o) defined.add(o);
    const out: string[] = [];
    const seen = new Set<string>();
    const add = (t: string) => { if (t && !defined.has(t) && !seen.has(t)) { seen.add(t); out.push(t); } };
    for (const n of x.nodes) {
      n.inputs.forEach(add);
      for (const sg of bodiesOf(n)) found.get(sg)!.forEach(add);
    }
    found.set(x, out);
  }
  return found.get(g)!;
}

function bodiesOf(n: Node): readonly Graph[] {
  const out: Graph[] = [];
  for (const a of Object.values(n.attrs)) {
    if (a.kind === 'graph') out.push(a.value);
    else if (a.kind === 'graphs') out.push(...a.value);
  }
  return out;
}

/** A node's inputs as drawn: its own, then what its subgraphs read from outside. */
function drawnInputs(n: Node): string[] {
  const own = [...n.inputs];
  const has = new Set(own);
  for (const a of Object.values(n.attrs)) {
    const graphs = a.kind === 'graph' ? [a.value] : a.kind === 'graphs' ? a.value : [];
    for (const sg of graphs) for (const t of outerScopeInputs(sg)) if (!has.has(t)) { has.add(t); own.push(t); }
  }
  return own;
}

export interface DisplayOptions {
  /** Draw XIR `fix` ops of feature maps as nodes; by default each is folded into the edge it quantizes
   *  (the edge then carries its `fp=N`, as the Q/DQ pair of an ONNX model does). */
  readonly showFix?: boolean;
}

export function toDisplayGraph(model: Model, o: DisplayOptions = {}): DisplayGraph {
  const g = model.graph;
  const info = new Map<string, TensorInfo>();
  for (const t of g.inputs) info.set(t.name, t);
  for (const t of g.outputs) info.set(t.name, t);
  for (const [k, t] of g.valueInfo) info.set(k, t);
  const graphOutputs = new Set(g.outputs.map((t) => t.name));
  const graphInputs = new Set(g.inputs.map((t) => t.name));

  // Constants, in topological order so a constant subgraph folds from its sources down.
  const consts = new Map<string, ConstInfo>();
  for (const [name, t] of g.initializers) {
    if (!graphInputs.has(name)) consts.set(name, { dtype: t.dtype, shape: t.shape, tensor: t, stored: true, producedBy: [] });
  }
  const folded = new Set<Node>();
  const order = topoSort(g);
  for (const n of order) {
    if (n.outputs.some((o) => graphOutputs.has(o)) || NEVER_FOLD.has(n.opType)) continue;
    if (n.domain === XIR && (n.opType === 'const' || n.opType === 'const-fix') && n.inputs.length === 0) {
      // An XIR weight whose data the file keeps elsewhere (a compiled DPU subgraph's parameter blob).
      const vi = info.get(n.outputs[0]);
      consts.set(n.outputs[0], { dtype: vi?.dtype, shape: vi?.shape, stored: false, producedBy: [n.name] });
      folded.add(n);
      continue;
    }
    if (n.opType === 'Constant' && n.inputs.length === 0) {
      const t = constantValue(n);
      const o = n.outputs[0];
      const vi = info.get(o);
      const fallback = constantInfo(n);
      consts.set(o, {
        dtype: t?.dtype ?? vi?.dtype ?? fallback.dtype,
        shape: t?.shape ?? vi?.shape ?? fallback.shape,
        tensor: t, stored: false, producedBy: [n.name],
      });
      folded.add(n);
      continue;
    }
    const ins = n.inputs.filter((i) => i !== '');
    if (ins.length === 0 || !ins.every((i) => consts.has(i))) continue;
    if (Object.values(n.attrs).some((a) => a.kind === 'graph' || a.kind === 'graphs')) continue;
    const producedBy = [...new Set(ins.flatMap((i) => consts.get(i)!.producedBy)), n.name];
    for (const o of n.outputs) {
      if (!o) continue;
      const vi = info.get(o);
      const src = consts.get(ins[0])!;
      // An XIR fix of a weight keeps the weight's values (and so its statistics), with its fix point.
      consts.set(o, n.domain === XIR && n.opType === 'fix'
        ? { ...src, producedBy, source: src.source ?? ins[0] }
        : { dtype: vi?.dtype, shape: vi?.shape, stored: false, producedBy });
    }
    folded.add(n);
  }

  // XIR fix ops of feature maps (a weight's fix folded into the weight above): each reads its input's
  // producer through an alias unless they are drawn.
  const fixAlias = new Map<string, string>();
  let fixOps = 0;
  for (const n of g.nodes) {
    if (folded.has(n) || n.domain !== XIR || n.opType !== 'fix' || n.inputs.length !== 1 || !n.outputs[0]) continue;
    fixOps++;
    if (!o.showFix) { fixAlias.set(n.outputs[0], n.inputs[0]); folded.add(n); }
  }
  const producerOf = (t: string): string | undefined => {
    let x = t;
    for (let i = 0; i < 10_000 && fixAlias.has(x); i++) x = fixAlias.get(x)!;
    return producerId.get(x);
  };

  const port = (t: string): DisplayPort => {
    const vi = info.get(t);
    return { tensor: t, dtype: vi?.dtype, shape: vi?.shape };
  };

  const nodes: DisplayNode[] = [];
  const edges: DisplayEdge[] = [];
  const producerId = new Map<string, string>();

  for (const t of g.inputs) {
    const id = inputId(t.name);
    producerId.set(t.name, id);
    nodes.push({
      id, kind: 'input', label: t.name, name: t.name, domain: '', category: 'io', unknown: false,
      weights: [], summary: [{ name: t.dtype, text: `⟨${formatShape(t.shape)}⟩` }], attrs: [],
      inputs: [], outputs: [port(t.name)], folded: [], subgraphs: [],
    });
  }

  const edgeSeen = new Set<string>();
  const addEdge = (source: string, target: string, tensor: string) => {
    const id = `${source}>${target}>${tensor}`;
    if (edgeSeen.has(id)) return;
    edgeSeen.add(id);
    const shape = info.get(tensor)?.shape;
    edges.push({ id, source, target, tensor, label: shape ? formatShape(shape) : '' });
  };

  g.nodes.forEach((n, index) => {
    if (folded.has(n)) return;
    const id = opId(index);
    // XIR ops name their arguments (input, weights, bias); each written here as one op in definition order.
    const names = n.domain === XIR ? XIR_OP_DEFS[n.opType]?.args.map((a) => a.name) : INPUT_NAMES[n.opType];
    const weights: DisplayWeight[] = [];
    const inputs: DisplayPort[] = [];
    const foldedNames: string[] = [];
    drawnInputs(n).forEach((t, i) => {
      if (!t) return;
      const c = consts.get(t);
      if (c) {
        const p = c.tensor ? preview(c.tensor) : undefined;
        weights.push({ label: i >= n.inputs.length ? 'outer' : names?.[i] ?? String(i), tensor: c.source ?? t, dtype: c.dtype, shape: c.shape, stored: c.stored, preview: p });
        for (const f of c.producedBy) if (!foldedNames.includes(f)) foldedNames.push(f);
      } else {
        inputs.push(port(t));
      }
    });
    nodes.push({
      id, kind: 'op', label: n.opType, name: n.name, domain: n.domain,
      category: n.domain === XIR ? xirOpCategory(n.opType) ?? 'other' : opCategory(n.opType),
      unknown: n.domain === XIR ? !XIR_OP_DEFS[n.opType] : n.domain !== XIR_CUSTOM_DOMAIN && !isKnownOp(n.domain, n.opType), weights, summary: summaryAttrs(n, n.inputs[1] ? consts.get(n.inputs[1])?.shape ?? info.get(n.inputs[1])?.shape : undefined), attrs: allAttrs(n),
      inputs, outputs: n.outputs.filter((o) => o !== '').map(port), folded: foldedNames, subgraphs: subgraphsOf(n),
    });
    for (const o of n.outputs) if (o) producerId.set(o, id);
  });

  // Edges once every producer is known (file order need not be topological).
  g.nodes.forEach((n, index) => {
    if (folded.has(n)) return;
    for (const t of drawnInputs(n)) {
      const src = t && !consts.has(t) ? producerOf(t) : undefined;
      if (src) addEdge(src, opId(index), t);
    }
  });

  for (const t of g.outputs) {
    const id = outputId(t.name);
    nodes.push({
      id, kind: 'output', label: t.name, name: t.name, domain: '', category: 'io', unknown: false,
      weights: [], summary: [{ name: t.dtype, text: `⟨${formatShape(t.shape)}⟩` }], attrs: [],
      inputs: [port(t.name)], outputs: [], folded: [], subgraphs: [],
    });
    const src = producerOf(t.name);
    if (src) addEdge(src, id, t.name);
  }

  return { name: g.name, nodes, edges, ...(fixOps ? { fixOps } : {}) };
}
