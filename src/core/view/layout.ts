// Layered top-to-bottom layout of a display graph (layered.ts). Node sizes are computed here from the
// text each node shows (no DOM in workers), and the node components draw at exactly these sizes.
import { layoutLayered } from './layered';
import type { DisplayGraph, DisplayNode, Layout } from './types';

/** A layout's input, in the shape ELK took (the app used elkjs until the layered layout replaced it). */
export interface ElkGraph {
  id: string;
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  layoutOptions?: Record<string, string>;
  children?: ElkGraph[];
  edges?: { id: string; sources: string[]; targets: string[] }[];
}

// Metrics shared with the node components (src/ui/graph/nodeMetrics) — one source of truth.
export const METRICS = {
  headerHeight: 22,
  rowHeight: 15,
  padding: 4,
  headerCharWidth: 7.8,
  rowCharWidth: 6.9,
  minWidth: 64,
  maxWidth: 260,
  ioHeight: 32,
} as const;

/** The text rows a node shows under its header. */
export function nodeRows(n: DisplayNode): string[] {
  if (n.kind !== 'op') return n.summary.map((a) => `${a.name} ${a.text}`);
  const rows: string[] = [];
  for (const w of n.weights) rows.push(weightText(w.label, w.shape, w.preview));
  for (const a of n.summary) rows.push(`${a.name} ${a.text}`);
  for (const s of n.subgraphs) rows.push(`${s.attr}: ${s.ops.length} ops`);
  return rows;
}

export function weightText(label: string, shape: readonly (number | string)[] | undefined, preview?: string): string {
  if (preview !== undefined) return `${label} = ${preview}`;
  return `${label} ⟨${shape ? shape.join('×') : '?'}⟩`;
}

/**
 * Characters an `fp=N` tag takes on a weight row once the model is quantized (the tag floats right of
 * the shape, so the row must be this much wider or the shape is cut).
 */
export const FIX_TAG_CHARS = 6;

/** A body longer than this lists its first ops and how many more there are, so one Loop cannot make a node miles tall. */
export const BODY_OP_LIMIT = 40;

/**
 * The rows of an expanded control-flow node's body: per graph attribute a title, then its ops (indented).
 * `kind` tells the node component how to draw each row; every row is one rowHeight tall.
 */
export function bodyRows(n: DisplayNode): { kind: 'title' | 'op' | 'more'; text: string; name?: string }[] {
  const rows: { kind: 'title' | 'op' | 'more'; text: string; name?: string }[] = [];
  for (const s of n.subgraphs) {
    rows.push({ kind: 'title', text: s.attr });
    for (const o of s.ops.slice(0, BODY_OP_LIMIT)) rows.push({ kind: 'op', text: o.opType, name: o.name });
    if (s.ops.length > BODY_OP_LIMIT) rows.push({ kind: 'more', text: `… ${s.ops.length - BODY_OP_LIMIT} more` });
  }
  return rows;
}

/**
 * The box a node is drawn in. A control-flow node has one more row for its "show body" toggle, and when
 * `expanded` its body rows too, so the layout makes room for exactly what the component draws.
 */
export function nodeSize(n: DisplayNode, expanded = false, fixTags = false): { width: number; height: number } {
  const rows = nodeRows(n);
  if (fixTags && n.kind === 'op') for (let i = 0; i < n.weights.length; i++) rows[i] += ' '.repeat(FIX_TAG_CHARS);
  const header = n.kind === 'op' ? n.label + (n.unknown ? ' ?' : '') : n.label;
  const toggle = n.kind === 'op' && n.subgraphs.length > 0;
  const body = toggle && expanded ? bodyRows(n) : [];
  // Body ops are indented by two characters' width.
  const texts = [...rows, ...(toggle ? ['▾ hide body'] : []), ...body.map((r) => (r.kind === 'title' ? r.text : `  ${r.text}`))];
  const textW = Math.max(header.length * METRICS.headerCharWidth, ...texts.map((r) => r.length * METRICS.rowCharWidth));
  const width = Math.min(METRICS.maxWidth, Math.max(METRICS.minWidth, Math.ceil(textW + 2 * METRICS.padding + 18)));
  if (n.kind !== 'op') return { width, height: METRICS.ioHeight + (rows.length ? METRICS.rowHeight : 0) };
  const count = texts.length;
  const height = METRICS.headerHeight + (count ? count * METRICS.rowHeight + METRICS.padding * 2 : 0);
  return { width, height };
}

/**
 * What the layered layout needs of a display graph: node ids with their sizes, and one edge per connected pair (parallel
 * tensors between the same two nodes add nothing to the layout). Much smaller than the display graph, so
 * this is what crosses to the layout worker. `expanded`: control-flow nodes whose body is shown.
 */
export function layoutInput(dg: DisplayGraph, expanded: ReadonlySet<string> = new Set(), quantized = false): ElkGraph {
  const children: ElkGraph[] = dg.nodes.map((n) => ({ id: n.id, ...nodeSize(n, expanded.has(n.id), quantized) }));
  const seen = new Set<string>();
  const edges: NonNullable<ElkGraph['edges']> = [];
  for (const e of dg.edges) {
    const k = `${e.source}>${e.target}`;
    if (seen.has(k)) continue;
    seen.add(k);
    edges.push({ id: e.id, sources: [e.source], targets: [e.target] });
  }
  // A quantized edge carries two labels (shape, then fp=N), 21 px tall centred between the layers: the
  // gap between layers grows so that neither reaches into the next node.
  return quantized ? { id: 'root', children, edges, layoutOptions: QUANT_OPTIONS } : { id: 'root', children, edges };
}

const QUANT_OPTIONS: Record<string, string> = { 'elk.layered.spacing.nodeNodeBetweenLayers': '36' };

/** `expanded`: ids of control-flow nodes whose body is shown, laid out at their expanded size. */
export function layoutGraph(dg: DisplayGraph, expanded: ReadonlySet<string> = new Set(), quantized = false): Layout {
  return layoutLayered(layoutInput(dg, expanded, quantized));
}
