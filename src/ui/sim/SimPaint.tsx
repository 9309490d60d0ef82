// The graph painted by the last simulation run: the picker (in the Simulate panel), the legend, the
// per-node and per-edge colour hooks, and a click on the graph opening that tensor's view.
import type { DisplayNode } from '../../core/view/types';
import { LegendFold } from '../legendToggle';
import { get, set, useStore, type AppState } from '../store';
import { showTensor } from './actions';
import { metricColor, metricStops, metricValue, NOT_SIMULATED, reportOfNode, reportOfTensor, SIM_METRICS, simNodeColor, type SimMetric } from './paint';

const painting = (s: AppState) => s.colorMode === 'sim' && !!s.simReport && !!s.model;

/** A node's colour in the `sim` mode, undefined otherwise. */
export function useSimColor(n: DisplayNode): string | undefined {
  return useStore((s) => (painting(s) ? simNodeColor(s.simReport!, s.model!.graph, s.simPaint, n) : undefined));
}

/** An edge's stroke in the `sim` mode: its tensor's colour; undefined for a tensor the DPU did not produce. */
export function useSimEdgeColor(tensor: string | undefined): string | undefined {
  return useStore((s) => {
    if (!painting(s) || !tensor) return undefined;
    const t = reportOfTensor(s.simReport!, s.model!.graph, tensor);
    return t ? metricColor(s.simPaint, metricValue(t, s.simPaint)) : undefined;
  });
}

/** The overview's colour of a node in the `sim` mode (see Overview). */
export function simOverviewColor(s: Pick<AppState, 'colorMode' | 'simReport' | 'model' | 'simPaint'>, n: DisplayNode): string | undefined {
  return s.colorMode === 'sim' && s.simReport && s.model ? simNodeColor(s.simReport, s.model.graph, s.simPaint, n) : undefined;
}

type Choice = SimMetric | 'category' | 'quant' | 'device';

/** "Paint the graph by": the run's metrics, the Quantize step's SQNR, the Compile step's subgraphs, or categories. */
export function PaintPicker() {
  const mode = useStore((s) => s.colorMode);
  const metric = useStore((s) => s.simPaint);
  const hasQuantSqnr = useStore((s) => !!s.quant?.layers.length);
  const hasDevices = useStore((s) => Object.keys(s.deviceColors).length > 0);
  const value: Choice = mode === 'sim' ? metric : mode === 'sqnr' ? 'quant' : mode;
  const pick = (c: Choice) => {
    if (c === 'quant') set({ colorMode: 'sqnr' });
    else if (c === 'category' || c === 'device') set({ colorMode: c });
    else set({ colorMode: 'sim', simPaint: c });
  };
  return (
    <label className="small sim-paint">Paint the graph by{' '}
      <select data-testid="sim-paint" value={value} onChange={(e) => pick(e.target.value as Choice)}>
        {SIM_METRICS.map((m) => <option key={m.id} value={m.id}>{m.label}</option>)}
        {hasQuantSqnr && <option value="quant">SQNR of the Quantize step (calibration samples)</option>}
        {hasDevices && <option value="device">DPU/CPU subgraphs (Compile)</option>}
        <option value="category">op category</option>
      </select>
    </label>
  );
}

export function SimLegend() {
  const on = useStore(painting);
  const metric = useStore((s) => s.simPaint);
  const label = useStore((s) => s.simInputLabel);
  if (!on) return null;
  const name = SIM_METRICS.find((m) => m.id === metric)!.label.replace(/ \(this sample\)$/, '');
  return (
    <div className="legend sim-legend" data-testid="sim-legend" data-metric={metric}>
      <LegendFold />
      <div className="sim-legend-title" title={label ?? undefined}><b>{name}</b>{label ? <span className="muted"> · {label}</span> : null}</div>
      {metricStops(metric).map((s) => <div key={s.text} className="legend-item"><span className="swatch" style={{ background: s.color }} />{s.text}</div>)}
      <div className="legend-item"><span className="swatch" style={{ background: NOT_SIMULATED }} />no DPU tensor</div>
      <div className="legend-item muted">click a tensor for its view</div>
    </div>
  );
}

/**
 * A node or edge clicked on the graph once a run exists, with the Simulate step open or the graph painted
 * by the run: the tensor view of that tensor (an edge), or of the node's output (a fused layer's last op).
 */
export function inspectFromGraph(nodeId: string, tensor?: string): void {
  const s = get();
  if (!s.simReport || !s.model || (s.activeStep !== 'simulate' && s.colorMode !== 'sim')) return;
  const t = (tensor ? reportOfTensor(s.simReport, s.model.graph, tensor) : undefined) ?? reportOfNode(s.simReport, s.model.graph, nodeId);
  if (!t) return;
  if (s.activeStep !== 'simulate') set({ activeStep: 'simulate' });
  void showTensor(t.name);
}
