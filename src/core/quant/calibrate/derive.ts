// Observed tensors onnxruntime need not return: their values are other observed tensors' values in order.
// A Concat's output is, for each index before its axis, each input's block in turn; a Reshape, Flatten,
// Squeeze, Unsqueeze or Identity output is its input as it is. The statistics read such a tensor as parts
// of the arrays already fetched (observeParts takes parts as their concatenation, bit for bit), so it gets
// the statistics the fetched tensor gave, without the fetch: onnxruntime-web copies every output out of
// its wasm heap into a fresh array (on YOLOX-nano the fetch of the observed tensors costs most of an
// inference; its 18 Concats are 2.9 M of the 31.6 M values per sample).
import { attr, type FloatTensor, type Graph } from '../../ir';

export interface Derivation {
  /** 'concat': the sources' blocks interleaved along `axis`; 'same': the one source's values. */
  readonly kind: 'concat' | 'same';
  readonly sources: readonly string[];
  readonly axis: number;
}

const SAME_VALUES = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);

/** Runs of a Concat read as parts in place up to this many (else copied into one array: still exact). */
const MAX_PARTS = 64;

let enabled = true;

/** Turns derivation off (tests compare the statistics with every tensor fetched). */
export function setDerivedTensors(on: boolean): void {
  enabled = on;
}

/**
 * The observed tensors computable from other observed tensors that are themselves fetched (or fed), by
 * name. `observed` lists every tensor the statistics need; the rest are asked of the runtime.
 */
export function derivedTensors(graph: Graph, observed: readonly string[]): Map<string, Derivation> {
  const out = new Map<string, Derivation>();
  if (!enabled) return out;
  const want = new Set(observed);
  const isFloat = (n: string) => (graph.valueInfo.get(n)?.dtype ?? 'float32') === 'float32';
  for (const node of graph.nodes) {
    const y = node.outputs[0];
    if (node.domain !== '' || !want.has(y) || !isFloat(y)) continue;
    const fetched = (n: string) => want.has(n) && !out.has(n) && isFloat(n);
    if (node.opType === 'Concat') {
      const axis = attr(node, 'axis', 'int');
      if (axis === undefined || node.inputs.length === 0 || !node.inputs.every(fetched)) continue;
      out.set(y, { kind: 'concat', sources: node.inputs, axis });
    } else if (SAME_VALUES.has(node.opType) && node.inputs[0] && fetched(node.inputs[0])) {
      out.set(y, { kind: 'same', sources: [node.inputs[0]], axis: 0 });
    }
  }
  return out;
}

/**
 * The values of a tensor for one run, as arrays whose concatenation they are: the tensor itself when the
 * run returned it, else its derivation's sources (undefined when a source is missing too).
 */
export function valuesOf(
  name: string, out: Readonly<Record<string, FloatTensor>>, derived: ReadonlyMap<string, Derivation>,
): Float32Array[] | undefined {
  const t = out[name];
  if (t) return [t.data];
  const d = derived.get(name);
  if (!d) return undefined;
  const src = d.sources.map((s) => out[s]);
  if (src.some((s) => !s)) return undefined;
  if (d.kind === 'same') return [src[0].data];
  return concatParts(src, d.axis);
}

/** A Concat's output as parts in order: for each index before the axis, each input's block of it. */
export function concatParts(src: readonly FloatTensor[], axis: number): Float32Array[] {
  const shape = src[0].shape;
  const a = axis < 0 ? axis + shape.length : axis;
  let outer = 1;
  for (let i = 0; i < a; i++) outer *= shape[i];
  if (outer === 1) return src.map((s) => s.data);
  const blocks = src.map((s) => s.data.length / outer);
  if (outer * src.length <= MAX_PARTS) {
    const parts: Float32Array[] = [];
    for (let o = 0; o < outer; o++) src.forEach((s, i) => parts.push(s.data.subarray(o * blocks[i], (o + 1) * blocks[i])));
    return parts;
  }
  const all = new Float32Array(blocks.reduce((x, y) => x + y, 0) * outer);
  let at = 0;
  for (let o = 0; o < outer; o++) {
    src.forEach((s, i) => { all.set(s.data.subarray(o * blocks[i], (o + 1) * blocks[i]), at); at += blocks[i]; });
  }
  return [all];
}
