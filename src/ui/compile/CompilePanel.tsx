// The Compile step's panel: target, what-if conversions, the partition, the clicked subgraph, deployment.
// For an already compiled .xmodel it shows the file's own subgraph tree instead.
import type { CompileView } from '../../../workers/protocol';
import type { Conversions } from '../../core/compile/layer';
import { select, useStore } from '../store';
import { setConversion } from './actions';
import { nodeSubgraph, subgraphColors } from './colors';
import { Deploy } from './Deploy';
import { FileTree } from './FileTree';
import { human, millis } from './format';
import { CONVERSION_LABELS, countsChange, settingsChange } from './history';
import { SubgraphDetail } from './SubgraphDetail';
import { TargetPicker } from './TargetPicker';
import './compile.css';
import { LegendFold } from '../legendToggle';

const CONVERSIONS = (Object.keys(CONVERSION_LABELS) as (keyof Conversions)[]).map((key) => ({ key, label: CONVERSION_LABELS[key] }));

/** Before → after against the previous compile of this model: what the last target switch or toggle did. */
function Change() {
  const h = useStore((s) => s.compileHistory);
  if (!h.previous || !h.current) return null;
  return (
    <div className="cp-change" data-testid="compile-change">
      <span className="muted">{settingsChange(h.previous, h.current)}:</span> <b>{countsChange(h.previous, h.current)}</b>
    </div>
  );
}

function WhatIf({ view }: { view: CompileView | null }) {
  const conv = useStore((s) => s.conversions);
  const any = CONVERSIONS.some((c) => conv[c.key]);
  return (
    <section>
      <h4>What if the quantizer converted…</h4>
      {CONVERSIONS.map((c) => (
        <label key={c.key} className="cp-check">
          <input type="checkbox" checked={conv[c.key]} onChange={(e) => setConversion(c.key, e.target.checked)} data-testid={`conv-${c.key}`} />
          {c.label}
        </label>
      ))}
      {view && any && (
        <div className="small" data-testid="whatif-counts">
          vs. no conversions, device / DPU subgraphs: <b>{view.baseline.deviceSubgraphNumber} / {view.baseline.dpuSubgraphNumber}</b> →{' '}
          <b>{view.deviceSubgraphNumber} / {view.dpuSubgraphNumber}</b>
        </div>
      )}
    </section>
  );
}

function SubgraphList({ view }: { view: CompileView }) {
  const graph = useStore((s) => s.model?.graph);
  const colors = subgraphColors(view.subgraphs.map((s) => s.device));
  const goTo = (i: number) => {
    const n = graph?.nodes.find((x) => nodeSubgraph(x, view.opSubgraph) === i);
    if (n) select(n.id, true);
  };
  return (
    <details>
      <summary><h4 className="cp-inline">All {view.subgraphs.length} subgraphs</h4></summary>
      <table className="cp-list small" data-testid="subgraph-list">
        <thead><tr><th>#</th><th>device</th><th>ops</th><th>workload</th><th>time</th></tr></thead>
        <tbody>
          {view.subgraphs.map((s, i) => (
            <tr key={i} onClick={() => goTo(i)} title={s.name}>
              <td><span className="swatch" style={{ background: colors[i] }} /> {i}</td>
              <td>{s.device}</td><td>{s.ops.length}</td>
              <td>{s.device === 'DPU' ? `${human(s.cost.workload)}op` : ''}</td>
              <td>{s.device === 'DPU' ? millis(s.cost.seconds) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** The Compile step's panel body (the pipeline's StepPanel gives it its frame and close button). */
export function CompilePanel() {
  const run = useStore((s) => s.compileRun);
  const file = useStore((s) => s.compiledFile);
  const view = run.state === 'done' ? run.view : null;
  if (file) {
    return (
      <div className="step-panel-body cp-panel" data-testid="compile-panel">
        <div className="cp-summary" data-testid="compile-summary">{file.summary}</div>
        <div className="muted small">This file is already compiled: its own subgraphs, devices and fix points.</div>
        <FileTree />
      </div>
    );
  }
  return (
    <div className="step-panel-body cp-panel" data-testid="compile-panel">
      <TargetPicker />
      {run.state === 'running' && <div className="muted small">compiling…</div>}
      {run.state === 'error' && <div className="cp-error" data-testid="compile-error">{run.message}</div>}
      {view && (
        <>
          <div className="cp-summary" data-testid="compile-summary">{view.summary}</div>
          <Change />
          <div className="muted small" data-testid="compile-totals">
            {view.target} · DPU workload {human(view.totals.workload)}op · ideal {millis(view.totals.seconds)} · weights {human(view.totals.weightBytes)}B · partitioned in {view.millis.toFixed(1)} ms
          </div>
          <div className="muted small" data-testid="compile-source">
            {view.fromQuantize ? 'Compiled from the Quantize step’s result: fix points as quantized.'
              : view.quantized ? 'Fix points from the model’s own QDQ nodes.'
              : 'Float model: partition and cost are exact; fix points appear after Quantize.'}
          </div>
        </>
      )}
      <WhatIf view={view} />
      {view && (
        <>
          <section><h4>Selected</h4><SubgraphDetail view={view} /></section>
          <SubgraphList view={view} />
          <Deploy />
        </>
      )}
    </div>
  );
}

const LEGEND_SWATCHES = 9;

/** Bottom-left legend in device mode; carries the compiler's summary line so it is always in view. */
export function DeviceLegend() {
  const run = useStore((s) => s.compileRun);
  const file = useStore((s) => s.compiledFile);
  const devices = file ? file.devices : run.state === 'done' ? run.view.subgraphs.map((s) => s.device) : [];
  const summary = file ? file.summary : run.state === 'done' ? run.view.summary : run.state === 'running' ? 'compiling…' : '';
  const colors = subgraphColors(devices);
  // A CPU subgraph with no op (the fix2float of a DPU output) has no node to colour: it is named apart.
  const opCounts = file ? (file.tree.children ?? []).map((g) => g.opCount) : run.state === 'done' ? run.view.subgraphs.map((g) => g.ops.length) : [];
  const empty = devices.filter((d, i) => d.toUpperCase() === 'CPU' && opCounts[i] === 0).length;
  const of = (d: string) => colors.filter((_, i) => devices[i]?.toUpperCase() === d && !(d === 'CPU' && opCounts[i] === 0));
  // A sample of the shades: the swatches of every subgraph would not fit; the count says how many there are.
  const sample = (cs: string[]) => cs.slice(0, LEGEND_SWATCHES);
  const text: Record<'DPU' | 'CPU' | 'USER', (n: number) => string> = {
    DPU: (n) => n === 0 ? 'no DPU subgraphs' : `${n} DPU subgraph${n === 1 ? '' : 's'}, ${n === 1 ? 'blue' : `${n} shades of blue, one each`}`,
    CPU: (n) => n === 0 ? 'no CPU subgraphs' : `${n} CPU subgraph${n === 1 ? '' : 's'}, ${n === 1 ? 'orange' : `${n} shades of orange, one each`}`,
    USER: () => 'USER (graph inputs)',
  };
  return (
    <div className="legend cp-legend" data-testid="device-legend">
      <LegendFold />
      <div className="cp-legend-summary" data-testid="legend-summary">{summary}</div>
      {(['DPU', 'CPU', 'USER'] as const).map((d) => (
        <div key={d} className="legend-item" data-testid={`legend-${d.toLowerCase()}`}>
          {of(d).length ? sample(of(d)).map((c, i) => <span key={i} className="swatch" style={{ background: c }} />) : <span className="swatch" style={{ background: '#eee' }} />}
          {of(d).length > LEGEND_SWATCHES && <span className="muted">…</span>}
          {text[d](of(d).length)}
        </div>
      ))}
      <div className="legend-item"><span className="swatch" style={{ background: '#b8bcc2' }} />not a layer (folded)</div>
      {empty > 0 && <div className="legend-item muted" data-testid="legend-fix2float">+ {empty} fix2float step{empty === 1 ? '' : 's'} (CPU, no op)</div>}
    </div>
  );
}
