// Small immutable graph edits shared by the preparation passes.
import type { ConstTensor, Graph, Model, Node } from '../../ir';
import { consumers } from '../../ir';
import { toFloat64, typedValues } from '../../onnx/values';

export function withGraph(model: Model, graph: Partial<Graph>): Model {
  return { ...model, graph: { ...model.graph, ...graph } };
}

/** Float values of a constant (a copy). */
export function constValues(t: ConstTensor): Float32Array {
  // A misaligned float32 decodes straight into a fresh array (one memcpy), not through float64.
  const v = typedValues(t);
  if (v instanceof Float32Array) return v === t.values ? Float32Array.from(v) : v;
  return Float32Array.from(toFloat64(t));
}

export function floatConst(name: string, shape: readonly number[], data: Float32Array): ConstTensor {
  return { name, dtype: 'float32', shape: [...shape], values: data };
}

/** The single consumer of a tensor, when exactly one node reads it and it is no graph output. */
export function soleConsumer(graph: Graph, tensor: string, cons = consumers(graph)): Node | undefined {
  const c = cons.get(tensor);
  if (!c || c.length !== 1) return undefined;
  if (graph.outputs.some((o) => o.name === tensor)) return undefined;
  return c[0];
}

/** How many nodes read each initializer (so a shared weight is copied rather than edited in place). */
export function initializerUses(graph: Graph): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) if (i && graph.initializers.has(i)) m.set(i, (m.get(i) ?? 0) + 1);
  return m;
}

/** A name not yet used by any tensor of the graph. */
export function freshName(graph: Graph, base: string, taken: Set<string>): string {
  let name = base;
  for (let k = 1; graph.initializers.has(name) || graph.valueInfo.has(name) || taken.has(name); k++) name = `${base}_${k}`;
  taken.add(name);
  return name;
}

export function replaceInput(n: Node, from: string, to: string): Node {
  return { ...n, inputs: n.inputs.map((i) => (i === from ? to : i)) };
}

export function float32Attr(n: Node, name: string, fallback: number): number {
  const a = n.attrs[name];
  return a && a.kind === 'float' ? a.value : a && a.kind === 'int' ? a.value : fallback;
}
