// Raising a model's default-domain opset for the QDQ export: per-axis DequantizeLinear needs 13, int16
// QuantizeLinear 21. Only the operator forms that changed between a model's opset and the target are
// rewritten (attributes that became inputs); a change with no faithful rewrite is refused by name.
import { InputError } from '../errors';
import type { ConstTensor, Graph, Node } from '../ir';

/** Reduce ops whose `axes` attribute became an input at opset 18 (ReduceSum moved at 13). */
const REDUCE_AXES_18 = new Set([
  'ReduceMax', 'ReduceMin', 'ReduceMean', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare',
]);
/** Attribute → input moves at opset 13. */
const AXES_13 = new Set(['Squeeze', 'Unsqueeze', 'ReduceSum']);

/** Ops whose older form has no rewrite here, with the opset that changed them. */
const REFUSED: Readonly<Record<string, number>> = { Upsample: 10, Resize: 11, Slice: 10, Pad: 11, Clip: 11, TopK: 10 };

export interface Raise {
  readonly from: number;
  readonly to: number;
  /** Initializers of the top-level graph; new constant inputs go here (visible to subgraphs too). */
  readonly inits: Map<string, ConstTensor>;
  readonly fresh: (base: string) => string;
  /** Why the opset is raised, for the refusal message. */
  readonly why: string;
}

const isDefault = (n: Node) => n.domain === '' || n.domain === 'ai.onnx';

function int64Input(r: Raise, base: string, values: readonly number[]): string {
  const name = r.fresh(base);
  r.inits.set(name, { name, dtype: 'int64', shape: [values.length], values: BigInt64Array.from(values.map(BigInt)) });
  return name;
}

/** `attrs.name` (ints) moved to input `index`; the inputs between are padded with ''. */
function attrToInput(r: Raise, n: Node, attr: string, index: number): Node {
  const a = n.attrs[attr];
  if (a?.kind !== 'ints') return n;
  const { [attr]: _moved, ...attrs } = n.attrs;
  const inputs = [...n.inputs];
  while (inputs.length < index) inputs.push('');
  inputs[index] = int64Input(r, `${n.name}_${attr}`, a.value);
  return { ...n, inputs, attrs };
}

function raiseNode(r: Raise, n0: Node): Node {
  let n = withSubgraphs(r, n0);
  if (!isDefault(n)) return n;
  const since = REFUSED[n.opType];
  if (since !== undefined && r.from < since)
    throw new InputError(`QDQ export: ${r.why} needs opset ${r.to}, but ${n.opType} "${n.name}" has an older form at opset ${r.from} (changed at ${since}); re-export the model at opset ${Math.max(13, since)} or later`);
  if (n.opType === 'GridSample' && r.from < 20 && r.to >= 20)
    throw new InputError(`QDQ export: ${r.why} needs opset ${r.to}, but GridSample "${n.name}" renamed its modes at opset 20; quantize to 8 bits or re-export the model at opset ${r.to}`);
  if (r.from < 13 && AXES_13.has(n.opType)) n = attrToInput(r, n, 'axes', 1);
  if (r.from < 13 && n.opType === 'Split') n = attrToInput(r, n, 'split', 1);
  if (r.from < 18 && r.to >= 18 && REDUCE_AXES_18.has(n.opType)) n = attrToInput(r, n, 'axes', 1);
  // Split without sizes must say how many outputs from opset 18 on.
  if (r.to >= 18 && n.opType === 'Split' && !n.inputs[1] && n.attrs.num_outputs === undefined)
    n = { ...n, attrs: { ...n.attrs, num_outputs: { kind: 'int', value: n.outputs.length } } };
  return n;
}

function raiseGraph(r: Raise, g: Graph): Graph {
  return { ...g, nodes: g.nodes.map((n) => raiseNode(r, n)) };
}

/** If/Loop/Scan bodies run at the model's opset too. */
function withSubgraphs(r: Raise, n: Node): Node {
  let attrs: Record<string, Node['attrs'][string]> | undefined;
  for (const [k, a] of Object.entries(n.attrs)) {
    if (a.kind === 'graph') (attrs ??= { ...n.attrs })[k] = { kind: 'graph', value: raiseGraph(r, a.value) };
    else if (a.kind === 'graphs') (attrs ??= { ...n.attrs })[k] = { kind: 'graphs', value: a.value.map((g) => raiseGraph(r, g)) };
  }
  return attrs ? { ...n, attrs } : n;
}

/** The same nodes, valid at opset `r.to`. */
export function raiseOpset(nodes: readonly Node[], r: Raise): Node[] {
  if (r.from >= r.to) return [...nodes];
  return nodes.map((n) => raiseNode(r, n));
}
