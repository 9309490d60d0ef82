import type { ConstTensor, TensorInfo } from './tensor';

/** What each attribute kind holds. */
export interface AttrKinds {
  float: number;
  int: number;
  string: string;
  tensor: ConstTensor;
  graph: Graph;
  floats: readonly number[];
  ints: readonly number[];
  strings: readonly string[];
  tensors: readonly ConstTensor[];
  graphs: readonly Graph[];
}

/** An attribute value, tagged by kind so a reader never guesses what a number means. */
export type AttrValue = { [K in keyof AttrKinds]: { readonly kind: K; readonly value: AttrKinds[K] } }[keyof AttrKinds];

/** One operator. Inputs and outputs are tensor names; '' marks an omitted optional input. */
export interface Node {
  /** Unique within its graph (readers name unnamed nodes `<OpType>_<index>`). */
  readonly name: string;
  readonly opType: string;
  /** '' for the default ONNX domain. */
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

export interface Graph {
  readonly name: string;
  /** In file order; the reader checks they can be ordered topologically. */
  readonly nodes: readonly Node[];
  /** Real inputs only: initializers listed as inputs (old opsets) are not here. */
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly initializers: ReadonlyMap<string, ConstTensor>;
  /** Every tensor whose dtype or shape is known: declared value_info plus what shape inference found. */
  readonly valueInfo: ReadonlyMap<string, TensorInfo>;
}

export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

/** The source file's format; every format but xmodel is imported as an ONNX-equivalent graph. */
export type ModelFormat = 'onnx' | 'xmodel' | 'tflite' | 'keras-h5' | 'keras';

export interface Model {
  readonly format: ModelFormat;
  readonly graph: Graph;
  /** Version of the default ('' / 'ai.onnx') domain; 0 when the format has none. */
  readonly opset: number;
  readonly opsetImports: readonly OpsetImport[];
  readonly producer: string;
  readonly producerVersion: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** An .xmodel's fix points by tensor: each fixed op's output, and the tensor a `fix` op quantizes. */
  readonly fixPoints?: ReadonlyMap<string, number>;
}

export function attr<K extends keyof AttrKinds>(node: Node, name: string, kind: K): AttrKinds[K] | undefined {
  const a = node.attrs[name];
  return a && a.kind === kind ? (a.value as AttrKinds[K]) : undefined;
}

export function attrInt(node: Node, name: string, fallback: number): number {
  return attr(node, name, 'int') ?? fallback;
}

export function attrInts(node: Node, name: string): readonly number[] | undefined {
  return attr(node, name, 'ints');
}

/** Producer of each tensor name. */
export function producers(graph: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

/** Consumers of each tensor name, in node order. */
export function consumers(graph: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of graph.nodes)
    for (const i of n.inputs) {
      if (!i) continue;
      const list = m.get(i);
      if (list) list.push(n);
      else m.set(i, [n]);
    }
  return m;
}

/**
 * Nodes in an order where every producer precedes its consumers (Kahn's algorithm, stable w.r.t.
 * file order). Throws naming a node on the cycle when there is none.
 */
export function topoSort(graph: Graph): Node[] {
  const prod = producers(graph);
  const index = new Map(graph.nodes.map((n, i) => [n, i]));
  const indeg = new Int32Array(graph.nodes.length);
  const next: number[][] = graph.nodes.map(() => []);
  graph.nodes.forEach((n, i) => {
    const seen = new Set<Node>();
    for (const t of n.inputs) {
      const p = t ? prod.get(t) : undefined;
      if (p && p !== n && !seen.has(p)) {
        seen.add(p);
        indeg[i]++;
        next[index.get(p)!].push(i);
      } else if (p === n) {
        throw new Error(`the graph has a cycle: node "${n.name}" consumes its own output`);
      }
    }
  });
  // A min-heap would keep exact file order; a queue seeded in file order is stable enough and O(n).
  const queue: number[] = [];
  indeg.forEach((d, i) => { if (d === 0) queue.push(i); });
  const out: Node[] = [];
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q];
    out.push(graph.nodes[i]);
    for (const j of next[i]) if (--indeg[j] === 0) queue.push(j);
  }
  if (out.length !== graph.nodes.length) {
    const stuck = graph.nodes.find((_, i) => indeg[i] > 0)!;
    throw new Error(`the graph has a cycle through node "${stuck.name}" (${stuck.opType})`);
  }
  return out;
}
