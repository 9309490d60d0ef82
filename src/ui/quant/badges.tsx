// Fix-point badges on edges and inside nodes, and the SQNR colouring of nodes.
import type { DisplayNode } from '../../core/view/types';
import type { QuantSummary } from '../../../workers/protocol';
import { select, set, useStore } from '../store';
import { sqnrColor } from './actions';

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

/** The node's colour in the SQNR mode (grey when the layer was not measured), undefined otherwise. */
export function useQuantColor(n: DisplayNode): string | undefined {
  return useStore((s) => (s.colorMode === 'sqnr' && s.quant ? sqnrColor(sqnrOf(s.quant, n)) : undefined));
}

/** "W fp=7 · B fp=9" for a node's quantized weights. */
export function WeightFixes({ node }: { node: DisplayNode }) {
  const text = useStore((s) => {
    if (!s.quant) return '';
    return node.weights.flatMap((w) => {
      const f = s.quant!.tensors[w.tensor];
      return f ? [`${w.label} fp=${f.fixPoint}${f.bitWidth !== 8 ? `/${f.bitWidth}b` : ''}`] : [];
    }).join(' · ');
  });
  if (!text) return null;
  return <div className="op-row fp-row" data-testid="weight-fp">{text}</div>;
}

/** The fix point of an edge's tensor: `fp=N`, or `float` once the model is quantized and this one is not. */
export function useEdgeFix(tensor: string | undefined): { text: string; float: boolean } | null {
  const fp = useStore((s) => (s.quant && tensor ? (s.quant.tensors[tensor]?.fixPoint ?? null) : undefined));
  if (fp === undefined) return null;
  return fp === null ? { text: 'float', float: true } : { text: `fp=${fp}`, float: false };
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
      <div className="legend-item"><b>SQNR</b></div>
      <div className="legend-item"><span className="swatch" style={{ background: sqnrColor(5) }} />&lt; 10 dB</div>
      {stops.slice(1).map((d) => <div key={d} className="legend-item"><span className="swatch" style={{ background: sqnrColor(d) }} />{d} dB</div>)}
      <div className="legend-item"><span className="swatch" style={{ background: sqnrColor(undefined) }} />not measured</div>
    </div>
  );
}
