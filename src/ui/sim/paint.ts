// Painting the graph by a simulation run's per-tensor error: which tensor report belongs to a node or an
// edge, and each metric's colour scale. Pure functions (no React), shared by the nodes, the edges, the
// overview and the legend so they all show the same colours.
import type { SimReport, TensorReport } from '../../core/sim/report';
import type { DisplayGraph, DisplayNode } from '../../core/view/types';
import { sqnrColor } from '../quant/colors';

/** What the graph is painted by after a run: SQNR or cosine vs float, or the agreement with fake-quant. */
export type SimMetric = 'sqnr' | 'cosine' | 'maxLsb' | 'identical';

export const SIM_METRICS: readonly { id: SimMetric; label: string }[] = [
  { id: 'sqnr', label: 'SQNR vs float (this sample)' },
  { id: 'cosine', label: 'cosine vs float (this sample)' },
  { id: 'maxLsb', label: 'max LSB difference, DPU vs fake-quant' },
  { id: 'identical', label: 'identical fraction, DPU vs fake-quant' },
];

export const NOT_SIMULATED = '#cfd3d8';
const GREEN = '#1f8a4c';

export function metricValue(t: TensorReport, m: SimMetric): number {
  switch (m) {
    case 'sqnr': return t.sqnrDb;
    // A report saved by an older version has no cosine.
    case 'cosine': return t.cosine ?? Number.NaN;
    case 'maxLsb': return t.maxLsb;
    case 'identical': return t.identicalFraction;
  }
}

const LSB_COLORS = [GREEN, '#d4a106', '#e8711a', '#c0261a'];

/** A metric's colour: green is good (as the Quantize step's SQNR scale); grey where nothing was measured. */
export function metricColor(m: SimMetric, v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return NOT_SIMULATED;
  switch (m) {
    case 'sqnr': return sqnrColor(v);
    // 0.9 (or less) red … 1 green, on the hue scale SQNR uses.
    case 'cosine': return v >= 1 ? GREEN : `hsl(${Math.round(Math.max(0, Math.min(1, (v - 0.9) / 0.1)) * 130)}, 65%, 45%)`;
    case 'maxLsb': return LSB_COLORS[v <= 0 ? 0 : v <= 1 ? 1 : v <= 3 ? 2 : 3];
    case 'identical': return v >= 1 ? GREEN : v >= 0.999 ? LSB_COLORS[1] : v >= 0.99 ? LSB_COLORS[2] : LSB_COLORS[3];
  }
}

/** The legend's stops: a colour and what it means, in the order drawn. */
export function metricStops(m: SimMetric): { color: string; text: string }[] {
  switch (m) {
    case 'sqnr': return [{ color: sqnrColor(5), text: '< 10 dB' }, ...[20, 30, 40].map((d) => ({ color: sqnrColor(d), text: `${d} dB` })), { color: sqnrColor(Infinity), text: 'exact' }];
    case 'cosine': return [0.9, 0.95, 0.99, 1].map((c) => ({ color: metricColor('cosine', c), text: c === 0.9 ? '≤ 0.9' : String(c) }));
    case 'maxLsb': return [{ color: LSB_COLORS[0], text: '0 LSB' }, { color: LSB_COLORS[1], text: '1' }, { color: LSB_COLORS[2], text: '2–3' }, { color: LSB_COLORS[3], text: '≥ 4' }];
    case 'identical': return [{ color: GREEN, text: '100 %' }, { color: LSB_COLORS[1], text: '≥ 99.9 %' }, { color: LSB_COLORS[2], text: '≥ 99 %' }, { color: LSB_COLORS[3], text: '< 99 %' }];
  }
}

/** Activations (and a BN) that fuse into the conv before them: the conv shows the layer's output tensor. */
const FUSED_AFTER = new Set(['Relu', 'LeakyRelu', 'Clip', 'HardSigmoid', 'HardSwish', 'BatchNormalization', 'PRelu']);

interface Index {
  readonly byTensor: Map<string, TensorReport>;
  readonly byNode: Map<string, TensorReport>;
}
const indexes = new WeakMap<SimReport, WeakMap<DisplayGraph, Index>>();

/**
 * The report of each tensor by every name it has (the simulator's and its Q/DQ copies), and of each node:
 * the tensor it produces, else the one its fused activation produces, else the tensor named like the node.
 * Built once per report and graph, in one pass over each.
 */
function index(report: SimReport, graph: DisplayGraph): Index {
  let perGraph = indexes.get(report);
  if (!perGraph) indexes.set(report, (perGraph = new WeakMap()));
  const cached = perGraph.get(graph);
  if (cached) return cached;
  const byTensor = new Map<string, TensorReport>();
  for (const t of report.tensors) for (const n of [t.name, ...t.aliases]) if (!byTensor.has(n)) byTensor.set(n, t);
  const consumers = new Map<string, DisplayNode[]>();
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const e of graph.edges) {
    const to = byId.get(e.target);
    if (!to) continue;
    const list = consumers.get(e.source) ?? [];
    if (!list.includes(to)) list.push(to);
    consumers.set(e.source, list);
  }
  const own = (n: DisplayNode) => n.outputs.map((o) => byTensor.get(o.tensor)).find((t) => t !== undefined);
  const byNode = new Map<string, TensorReport>();
  for (const n of graph.nodes) {
    if (n.kind !== 'op') continue;
    let t = own(n);
    // Conv → (BN →) ReLU: the DPU layer's output is the last op's; follow single consumers a few steps.
    for (let cur = n, hops = 0; !t && hops < 3; hops++) {
      const next = consumers.get(cur.id);
      if (next?.length !== 1 || !FUSED_AFTER.has(next[0].label)) break;
      cur = next[0];
      t = own(cur);
    }
    t ??= byTensor.get(n.name);
    if (t) byNode.set(n.id, t);
  }
  const ix = { byTensor, byNode };
  perGraph.set(graph, ix);
  return ix;
}

export function reportOfNode(report: SimReport, graph: DisplayGraph, nodeId: string): TensorReport | undefined {
  return index(report, graph).byNode.get(nodeId);
}

export function reportOfTensor(report: SimReport, graph: DisplayGraph, tensor: string): TensorReport | undefined {
  return index(report, graph).byTensor.get(tensor);
}

export function simNodeColor(report: SimReport, graph: DisplayGraph, m: SimMetric, n: DisplayNode): string {
  if (n.kind !== 'op') return NOT_SIMULATED;
  const t = reportOfNode(report, graph, n.id);
  return metricColor(m, t ? metricValue(t, m) : undefined);
}
