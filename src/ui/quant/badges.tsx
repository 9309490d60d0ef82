// Fix-point badges on edges and inside nodes, and the SQNR colouring of nodes.
import type { DisplayGraph, DisplayNode } from '../../core/view/types';
import type { QuantSummary } from '../../../workers/protocol';
import { select, set, useStore } from '../store';
import { sqnrColor } from './actions';
import { LegendFold } from '../legendToggle';

const sqnrIndex = new WeakMap<QuantSummary, Map<string, number>>();
/** SQNR by node name and by output tensor (the prepared model may rename a folded node). */
function sqnrOf(q: QuantSummary, n: DisplayNode): number | undefined {
  let m = sqnrIndex.get(q);
  if (!m) {
    m = new Map();
    for (const l of q.layers) { m.set(`n:${l.layer}`, l.sqnrDb); m.set(`t:${l.output}`, l.sqnrDb); }
    sqnrIndex.set(q, m);
  }
  return m.get(`n:${n.name}`) ?? n.outputs.map((o) => m.get(`t:${o.tensor}`)).find((v) => v !== undefined);
}

/** A node's SQNR colour for a quantization result (grey when its layer was not measured). */
export function sqnrNodeColor(q: QuantSummary, n: DisplayNode): string {
  return sqnrColor(sqnrOf(q, n));
}

/** The node's colour in the SQNR mode (grey when the layer was not measured), undefined otherwise. */
export function useQuantColor(n: DisplayNode): string | undefined {
  return useStore((s) => (s.colorMode === 'sqnr' && s.quant ? sqnrColor(sqnrOf(s.quant, n)) : undefined));
}

/** `fp=N` on a weight's row inside its node (floated right so the shape, not the fix point, is cut). */
export function WeightFix({ tensor }: { tensor: string }) {
  const f = useStore((s) => s.quant?.tensors[tensor]);
  if (!f) return null;
  return <span className="fp-tag" data-testid="weight-fp" title={`${tensor}: fix point ${f.fixPoint}, ${f.bitWidth}-bit`}>fp={f.fixPoint}{f.bitWidth !== 8 ? `/${f.bitWidth}b` : ''}</span>;
}

type EdgeFix = { text: string; float: boolean } | null;
const edgeIndex = new WeakMap<QuantSummary, Map<string, EdgeFix>>();

/**
 * What an edge shows once the model is quantized: its own fix point; the fix point of the input of a
 * value-preserving op (Flatten, Reshape, MaxPool…) it inherits; nothing inside a fused layer (the
 * Conv → ReLU tensor never leaves the DPU); `float` when nothing quantized feeds it.
 */
function edgeFixes(q: QuantSummary, g: DisplayGraph): Map<string, EdgeFix> {
  let m = edgeIndex.get(q);
  if (m) return m;
  const fixes = new Map<string, EdgeFix>();
  const producer = new Map<string, DisplayNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o.tensor, n);
  const resolve = (t: string, depth = 0): EdgeFix => {
    if (fixes.has(t)) return fixes.get(t)!;
    const f = q.tensors[t];
    let r: EdgeFix;
    if (f) r = { text: `fp=${f.fixPoint}`, float: false };
    else {
      const p = producer.get(t);
      if (!p || p.kind !== 'op' || depth > 200) r = { text: 'float', float: true };
      else if (p.weights.some((w) => q.tensors[w.tensor])) r = null;
      else {
        const ins = p.inputs.map((i) => resolve(i.tensor, depth + 1));
        const same = PASS_THROUGH.has(p.label) && ins.length > 0 && ins.every((x) => x && !x.float && x.text === ins[0]!.text);
        r = same ? ins[0] : ins.some((x) => x === null || (x && !x.float)) && q.source === 'imported' ? null : { text: 'float', float: true };
      }
    }
    fixes.set(t, r);
    return r;
  };
  for (const e of g.edges) resolve(e.tensor);
  m = fixes;
  edgeIndex.set(q, m);
  return m;
}

/** Ops whose output holds the input's values (or a subset): the DPU keeps the input's fix point. */
const PASS_THROUGH = new Set(['Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Transpose', 'MaxPool', 'Identity', 'Slice', 'Gather', 'Split', 'Pad', 'Resize', 'Upsample', 'DepthToSpace', 'SpaceToDepth', 'Relu']);

/** A tensor's label in the side panel: `fp=N`, `float`, or `in layer` for a fused layer's inner tensor. */
export function tensorFixLabel(q: QuantSummary, g: DisplayGraph, tensor: string): string {
  if (q.tensors[tensor]) return `fp=${q.tensors[tensor].fixPoint}`;
  if (!edgeFixes(q, g).has(tensor)) return 'float';
  const f = edgeFixes(q, g).get(tensor);
  return f ? f.text : 'in layer';
}

/** The fix point of an edge's tensor (see edgeFixes); null before quantization or inside a fused layer. */
export function useEdgeFix(tensor: string | undefined): EdgeFix {
  const key = useStore((s) => {
    if (!s.quant || !s.model || !tensor) return '';
    const f = edgeFixes(s.quant, s.model.graph).get(tensor);
    return f ? `${f.float ? 'f' : 'q'}${f.text}` : '';
  });
  return key ? { text: key.slice(1), float: key[0] === 'f' } : null;
}

/** An edge click: select its producer and show the tensor's quantization in the side panel. */
export function showTensor(nodeId: string, tensor: string | undefined): void {
  select(nodeId);
  if (tensor) set({ quantTensor: tensor });
}

export function SqnrLegend() {
  const on = useStore((s) => s.colorMode === 'sqnr' && !!s.quant?.layers.length);
  if (!on) return null;
  const stops = [10, 20, 30, 40];
  return (
    <div className="legend sqnr-legend" data-testid="sqnr-legend">
      <LegendFold />
      <div className="legend-item"><b>SQNR</b></div>
      <div className="legend-item"><span className="swatch" style={{ background: sqnrColor(5) }} />&lt; 10 dB</div>
      {stops.slice(1).map((d) => <div key={d} className="legend-item"><span className="swatch" style={{ background: sqnrColor(d) }} />{d} dB</div>)}
      <div className="legend-item"><span className="swatch" style={{ background: sqnrColor(undefined) }} />not measured</div>
    </div>
  );
}
