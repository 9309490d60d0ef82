// What a simulated sample shows a person: each output float vs int8 (top-5 for a classifier), the
// agreement of every DPU tensor with the fake-quant run and its SQNR vs float, and the per-subgraph
// counters beside the Compile step's estimate. Plain data, so it crosses a worker boundary as is.
// The shapes here are the parts of the simulator's SimRun that this module reads (structural types).
import type { FloatTensor } from '../ir';
import { cosineSimilarity, edgeFraction, floatClippedFraction } from './metrics';

export interface RunLike {
  readonly outputs: Readonly<Record<string, { readonly value: FloatTensor; readonly fixPoint?: number }>>;
  readonly tensors: ReadonlyMap<string, { readonly name: string; readonly shape: readonly number[]; readonly fixPoint: number; readonly q: Int8Array; readonly subgraph: string }>;
  readonly subgraphs: readonly { readonly name: string; readonly device: string; readonly macs: number; readonly ops?: number; readonly bytesIn: number; readonly bytesWeights: number; readonly bytesOut: number; readonly ms: number }[];
  /** Per DPU layer, in execution order (the simulator's counters). */
  readonly layers?: readonly { readonly name: string; readonly subgraph: string; readonly macs: number; readonly ops: number; readonly ms: number }[];
  readonly ms: number;
}
/** The Compile step's cost model per subgraph and per layer (by name): what the board would take. */
export interface CostLike { readonly workload: number; readonly seconds: number }
export interface AgreementLike {
  readonly name: string;
  readonly fixPoint: number;
  readonly identicalFraction: number;
  readonly maxLsb: number;
}

export interface Ranked {
  readonly index: number;
  readonly value: number;
  /** Softmax of the output (or the output itself when it already is a distribution). */
  readonly p: number;
}

export interface OutputReport {
  readonly name: string;
  readonly shape: readonly number[];
  /** Undefined when a CPU subgraph computes the output in float. */
  readonly fixPoint?: number;
  /** Top-5 of a [1, N] output (a classifier); absent otherwise. */
  readonly top?: { readonly float: readonly Ranked[]; readonly int8: readonly Ranked[] };
  /** The first values of both, for any output. */
  readonly first: { readonly float: readonly number[]; readonly int8: readonly number[] };
  /** max |float − int8| over the whole output; NaN without a float reference. */
  readonly maxAbsDiff: number;
  readonly sqnrDb: number;
}

export interface TensorReport {
  readonly name: string;
  /** Other names of the tensor in the model (its Q/DQ copies): how the graph may label it. */
  readonly aliases: readonly string[];
  readonly subgraph: string;
  readonly shape: readonly number[];
  readonly fixPoint: number;
  /** vs the tool's fake-quant run of the same sample (1 means bit-exact). */
  readonly identicalFraction: number;
  readonly maxLsb: number;
  /** Of the dequantized int8 values vs the float model's tensor; NaN where the float model lacks it. */
  readonly sqnrDb: number;
  /** Cosine of the dequantized int8 values with the float tensor; NaN where the float model lacks it. */
  readonly cosine: number;
  /** Fraction of int8 codes at −128 or 127 (saturated, or exactly at the edge). */
  readonly clippedFraction: number;
  /** Fraction of the float tensor's values beyond the int8 grid's edges (±half a step); NaN without float. */
  readonly floatClippedFraction: number;
}

export interface SubgraphReport {
  readonly name: string;
  readonly device: string;
  readonly macs: number;
  readonly bytesIn: number;
  readonly bytesWeights: number;
  readonly bytesOut: number;
  /** Measured here (wasm int8 kernels or onnxruntime). */
  readonly ms: number;
  /** The Compile step's cost model for the board; undefined when it has no estimate for the subgraph. */
  readonly estimateMs?: number;
  /** Workload units executed (2·MACs + bias adds, pool reads, …) and the Compile step's `workload`. */
  readonly ops?: number;
  readonly estimateOps?: number;
  /** The subgraph's DPU layers in execution order, each beside the Compile step's estimate. */
  readonly layers?: readonly LayerReport[];
}

export interface LayerReport {
  readonly name: string;
  readonly macs: number;
  readonly ops: number;
  readonly ms: number;
  readonly estimateMs?: number;
  readonly estimateOps?: number;
}

export interface SimReport {
  readonly outputs: readonly OutputReport[];
  readonly tensors: readonly TensorReport[];
  readonly subgraphs: readonly SubgraphReport[];
  /** Wall time of the int8 run, of the fake-quant run and of the float run. */
  readonly ms: { readonly sim: number; readonly fakeQuant: number; readonly float: number };
}

const FIRST = 8;

/** A file name for an output: every character outside [A-Za-z0-9_.-] becomes `_`. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** Probabilities as they are, or the softmax of logits. */
export function probabilities(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  let sum = 0;
  let inUnit = true;
  for (let i = 0; i < n; i++) {
    sum += x[i];
    if (!(x[i] >= 0 && x[i] <= 1)) inUnit = false;
  }
  const out = new Float64Array(n);
  if (inUnit && Math.abs(sum - 1) < 1e-3) {
    for (let i = 0; i < n; i++) out[i] = x[i];
    return out;
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, x[i]);
  let s = 0;
  for (let i = 0; i < n; i++) s += out[i] = Math.exp(x[i] - max);
  for (let i = 0; i < n; i++) out[i] /= s;
  return out;
}

export function topK(x: ArrayLike<number>, k: number): Ranked[] {
  const p = probabilities(x);
  const idx = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[b] - x[a] || a - b);
  return idx.slice(0, k).map((index) => ({ index, value: x[index], p: p[index] }));
}

/** 10·log10(Σref² / Σ(ref − x)²); Infinity when equal. */
export function sqnrDb(ref: ArrayLike<number>, x: ArrayLike<number>, scale = 1): number {
  if (ref.length !== x.length || ref.length === 0) return Number.NaN;
  let sig = 0;
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = ref[i] - x[i] * scale;
    sig += ref[i] * ref[i];
    err += d * d;
  }
  if (err === 0) return Infinity;
  return 10 * Math.log10(sig / err);
}

/** A classifier's output: one row of scores. */
export function isClassifierShape(shape: readonly number[]): boolean {
  return shape.length === 2 && shape[0] === 1 && shape[1] >= 2;
}

function outputReport(name: string, o: { value: FloatTensor; fixPoint?: number }, float: FloatTensor | undefined): OutputReport {
  const q = o.value.data;
  const f = float?.data;
  let maxAbsDiff = f ? 0 : Number.NaN;
  if (f) for (let i = 0; i < Math.min(f.length, q.length); i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(f[i] - q[i]));
  const shape = [...o.value.shape];
  return {
    name, shape, ...(o.fixPoint !== undefined ? { fixPoint: o.fixPoint } : {}),
    ...(isClassifierShape(shape) ? { top: { float: f ? topK(f, 5) : [], int8: topK(q, 5) } } : {}),
    first: { float: f ? Array.from(f.subarray(0, FIRST)) : [], int8: Array.from(q.subarray(0, FIRST)) },
    maxAbsDiff,
    sqnrDb: f ? sqnrDb(f, q) : Number.NaN,
  };
}

/**
 * `agreement` is the simulator's comparison with fake-quant; `float` holds the float model's outputs
 * and DPU tensors by name (a missing tensor gets NaN SQNR); `estimateSeconds` the compile's per-subgraph cost.
 */
export function simReport(
  run: RunLike, agreement: readonly AgreementLike[], float: Readonly<Record<string, FloatTensor>>,
  estimateSeconds: ReadonlyMap<string, number>, ms: SimReport['ms'], aliases: (name: string) => readonly string[] = (n) => [n],
  costs: { readonly subgraphs?: ReadonlyMap<string, CostLike>; readonly layers?: ReadonlyMap<string, CostLike> } = {},
): SimReport {
  const layersOf = new Map<string, LayerReport[]>();
  for (const l of run.layers ?? []) {
    const c = costs.layers?.get(l.name);
    const list = layersOf.get(l.subgraph) ?? [];
    list.push({ name: l.name, macs: l.macs, ops: l.ops, ms: l.ms, ...(c ? { estimateMs: c.seconds * 1e3, estimateOps: c.workload } : {}) });
    layersOf.set(l.subgraph, list);
  }
  const tensors: TensorReport[] = agreement.map((a) => {
    const t = run.tensors.get(a.name);
    const f = float[a.name]?.data;
    const withFloat = !!(t && f && f.length === t.q.length);
    const sq = withFloat ? sqnrDb(f!, t!.q, 2 ** -t!.fixPoint) : Number.NaN;
    return {
      name: a.name, aliases: aliases(a.name).filter((n) => n !== a.name), subgraph: t?.subgraph ?? '', shape: t ? [...t.shape] : [], fixPoint: a.fixPoint,
      identicalFraction: a.identicalFraction, maxLsb: a.maxLsb, sqnrDb: sq,
      cosine: withFloat ? cosineSimilarity(f!, t!.q, 2 ** -t!.fixPoint) : Number.NaN,
      clippedFraction: t ? edgeFraction(t.q) : Number.NaN,
      floatClippedFraction: withFloat ? floatClippedFraction(f!, a.fixPoint) : Number.NaN,
    };
  });
  return {
    outputs: Object.entries(run.outputs).map(([name, o]) => outputReport(name, o, float[name])),
    tensors,
    subgraphs: run.subgraphs.map((s) => {
      const est = estimateSeconds.get(s.name);
      const c = costs.subgraphs?.get(s.name);
      const layers = layersOf.get(s.name);
      return {
        name: s.name, device: s.device, macs: s.macs, bytesIn: s.bytesIn, bytesWeights: s.bytesWeights, bytesOut: s.bytesOut, ms: s.ms,
        ...(est !== undefined ? { estimateMs: est * 1e3 } : {}),
        ...(s.ops !== undefined ? { ops: s.ops } : {}),
        ...(c ? { estimateOps: c.workload } : {}),
        ...(layers ? { layers } : {}),
      };
    }),
    ms,
  };
}

/** The Simulate panel's progress line for a subgraph starting: `int8: subgraph 3 of 12 (DPU) subgraph_conv1`. */
export function subgraphPhase(p: { index: number; count: number; name: string; device: string }): string {
  return `int8: subgraph ${p.index} of ${p.count} (${p.device}) ${p.name}`;
}
