// The Simulate step: pick one input, run it through the bit-exact int8 simulator (in its own worker),
// and compare: each output float vs int8, every DPU tensor against fake-quant and float, and the
// per-subgraph counters and times beside the Compile step's estimate.
import { useMemo, useRef, useState } from 'react';
import type { OutputReport, Ranked, TensorReport } from '../../core/sim/report';
import type { DisplayNode } from '../../core/view/types';
import { human, shape } from '../compile/format';
import { formatDb } from '../quant/actions';
import { select, set, useStore } from '../store';
import { cancelSimulation, DEMO_INPUTS, EVAL_SETS, pickDemoInput, runSimulation, setDroppedFile, setSimSource, showTensor } from './actions';
import { DetectionPanes } from './DetectionPanes';
import { EvaluateSection } from './EvaluateSection';
import { layerTableCsv } from '../../core/demo/csv';
import { download } from '../compile/actions';
import { TensorViewPanel } from './TensorView';
import { useShippedLabels } from './labels';
import { PaintPicker } from './SimPaint';
import { SubgraphTable } from './SubgraphTable';

const bytes = (n: number) => human(n).replace(' ', '');
const pct = (x: number) => `${(x * 100).toFixed(x === 1 || x === 0 ? 0 : 2)} %`;
const num = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : x.toFixed(4)) : String(x));

function InputPicker() {
  const fileName = useStore((s) => s.model?.info.fileName ?? '');
  const calib = useStore((s) => s.calib);
  const source = useStore((s) => s.simSource);
  const index = useStore((s) => s.simIndex);
  const file = useStore((s) => s.simFile);
  const picker = useRef<HTMLInputElement>(null);
  const userSet = useStore((s) => (s.simEvalUse === 'user' ? s.simEvalSet : null));
  const evalSet = EVAL_SETS[fileName];
  const count = source === 'calib' ? calib?.count : source === 'eval' ? (userSet?.samples ?? (evalSet ? 1000 : undefined)) : file?.count;
  const drop = (f: File | undefined) => { if (f) void setDroppedFile(f); };
  return (
    <section>
      <h4>Input</h4>
      <div className="sim-row">
        <select data-testid="sim-source" value={source} onChange={(e) => setSimSource(e.target.value as typeof source)}>
          <option value="calib" disabled={!calib}>calibration set{calib ? ` (${calib.count})` : ' (none loaded)'}</option>
          {(evalSet || userSet) && <option value="eval">{userSet ? `${userSet.title} (evaluation)` : 'Fashion-MNIST evaluation set (1000)'}</option>}
          <option value="file" disabled={!file}>{file ? `${file.name} (${file.count})` : 'dropped file'}</option>
        </select>
        <label>#<input
          type="number" min={0} max={count ? count - 1 : undefined} value={index} data-testid="sim-index"
          onChange={(e) => set({ simIndex: Math.max(0, Math.floor(Number(e.target.value) || 0)) })}
        /></label>
      </div>
      <div
        className="sim-drop" data-testid="sim-drop"
        onDragOver={(e) => { e.preventDefault(); e.stopPropagation(); }}
        onDrop={(e) => { e.preventDefault(); e.stopPropagation(); drop(e.dataTransfer.files[0]); }}
      >
        Drop an image or a <code>.npy</code> here (read with the Calibrate step's preprocessing) <button onClick={() => picker.current?.click()}>File…</button>
        <input ref={picker} type="file" accept=".npy,.npz,.png,.jpg,.jpeg" hidden data-testid="sim-file-input" onChange={(e) => { drop(e.target.files?.[0]); e.target.value = ''; }} />
      </div>
      <div className="sim-demo-inputs small">
        Samples: {DEMO_INPUTS.map((d) => <button key={d.file} title={d.title} data-testid={`demo-input-${d.file}`} onClick={() => void pickDemoInput(d.file)}>{d.file}</button>)}
      </div>
    </section>
  );
}

function TopList({ rows, testid, classes, other }: { rows: readonly Ranked[]; testid: string; classes?: readonly string[]; other?: number }) {
  return (
    <table className="sim-table" data-testid={testid}>
      <thead><tr><th>class</th><th className="num">p</th></tr></thead>
      <tbody>{rows.map((r, i) => (
        <tr key={r.index} className={i === 0 && other !== undefined && other !== r.index ? 'sim-disagree' : undefined} title={i === 0 && other !== undefined && other !== r.index ? 'float and int8 disagree on the top class' : undefined}><td title={classes?.[r.index]}>{r.index}{classes?.[r.index] ? <span className="muted"> {classes[r.index]}</span> : null}</td><td className="num">{(r.p * 100).toFixed(1)} %<span className="sim-bar" style={{ width: `${Math.round(r.p * 40)}px` }} /></td></tr>
      ))}</tbody>
    </table>
  );
}

function Output({ o }: { o: OutputReport }) {
  const evalClasses = useStore((s) => EVAL_SETS[s.model?.info.fileName ?? '']?.classes);
  const shipped = useShippedLabels();
  const classes = evalClasses ?? shipped;
  const labelled = classes && o.shape[1] === classes.length ? classes : undefined;
  return (
    <div className="sim-output" data-testid="sim-output">
      <h5 className="mono">{o.name} ⟨{shape(o.shape)}⟩ {o.fixPoint !== undefined ? `fp=${o.fixPoint}` : 'float (CPU)'}</h5>
      {o.top ? (
        <div className="sim-top">
          <div><div className="small muted">float</div><TopList rows={o.top.float} testid="top5-float" classes={labelled} other={o.top.int8[0]?.index} /></div>
          <div><div className="small muted">int8</div><TopList rows={o.top.int8} testid="top5-int8" classes={labelled} other={o.top.float[0]?.index} /></div>
        </div>
      ) : (
        <div className="sim-values mono">
          <div>float: {o.first.float.map(num).join(', ') || '—'}</div>
          <div>int8: {o.first.int8.map(num).join(', ')}</div>
        </div>
      )}
      <div className="small" data-testid="sim-output-diff">max |float − int8| {Number.isNaN(o.maxAbsDiff) ? '—' : num(o.maxAbsDiff)} · SQNR {Number.isNaN(o.sqnrDb) ? '—' : formatDb(o.sqnrDb)}</div>
    </div>
  );
}

/** The display node of a tensor: the producer of any of its names, else the op named like it. */
function nodeOf(nodes: readonly DisplayNode[] | undefined, t: TensorReport): DisplayNode | undefined {
  const names = new Set([t.name, ...t.aliases]);
  return nodes?.find((n) => n.kind === 'op' && n.outputs.some((o) => names.has(o.tensor))) ?? nodes?.find((n) => n.kind === 'op' && n.name === t.name);
}

type TensorKey = 'name' | 'fixPoint' | 'identicalFraction' | 'maxLsb' | 'sqnrDb' | 'cosine' | 'clippedFraction';

const cos = (c: number | undefined) => (c === undefined || Number.isNaN(c) ? '—' : c >= 0.99995 && c < 1 ? '> 0.9999' : c.toFixed(4));

function Agreement({ tensors }: { tensors: readonly TensorReport[] }) {
  const nodes = useStore((s) => s.model?.graph.nodes);
  const current = useStore((s) => s.simTensor?.name);
  const [key, setKey] = useState<TensorKey>('identicalFraction');
  const [asc, setAsc] = useState(true);
  const rows = useMemo(() => {
    // NaN (not measured) and a report saved before a column existed (undefined) sort last.
    const val = (t: TensorReport) => { const v = t[key] as number | undefined; return v === undefined || Number.isNaN(v) ? Infinity : v; };
    const r = [...tensors].sort((a, b) => (key === 'name' ? a.name.localeCompare(b.name) : val(a) - val(b)));
    return asc ? r : r.reverse();
  }, [tensors, key, asc]);
  const sortBy = (k: TensorKey) => { if (k === key) setAsc(!asc); else { setKey(k); setAsc(true); } };
  const th = (k: TensorKey, label: string, n = true) => <th className={`sortable${n ? ' num' : ''}`} onClick={() => sortBy(k)}>{label}{k === key ? (asc ? ' ▲' : ' ▼') : ''}</th>;
  const exact = tensors.filter((t) => t.identicalFraction === 1).length;
  return (
    <section>
      <h4>DPU tensors: int8 vs fake-quant and float</h4>
      <div className="small" data-testid="agreement-summary">{exact} of {tensors.length} tensors identical to the fake-quant run
        {' '}<button className="link" data-testid="layer-csv" onClick={() => download('layers.csv', new Blob([layerTableCsv(rows)], { type: 'text/csv' }))}>CSV</button>
        <span className="muted"> · click a row for its tensor view</span></div>
      <div className="sim-wrap">
        <table className="sim-table" data-testid="agreement-table">
          <thead><tr>{th('name', 'tensor', false)}{th('fixPoint', 'fp')}{th('identicalFraction', 'identical')}{th('maxLsb', 'max LSB')}{th('sqnrDb', 'SQNR vs float')}{th('cosine', 'cosine')}{th('clippedFraction', 'clipped')}</tr></thead>
          <tbody>{rows.map((t) => (
            <tr key={t.name} className={`clickable${t.name === current ? ' sim-current' : ''}`} data-testid="agreement-row" title={`${t.subgraph} ⟨${shape(t.shape)}⟩: show in graph`} onClick={() => { const n = nodeOf(nodes, t); if (n) select(n.id, true); void showTensor(t.name); }}>
              <td className="mono">{t.name.length > 36 ? `…${t.name.slice(-35)}` : t.name}</td>
              <td className="num">{t.fixPoint}</td>
              <td className={`num ${t.identicalFraction === 1 ? 'sim-ok' : 'sim-bad'}`} data-testid="identical">{pct(t.identicalFraction)}</td>
              <td className="num">{t.maxLsb}</td>
              <td className="num">{Number.isNaN(t.sqnrDb) ? '—' : formatDb(t.sqnrDb)}</td>
              <td className="num" data-testid="cosine">{cos(t.cosine)}</td>
              <td className="num" data-testid="clipped" title={t.floatClippedFraction === undefined || Number.isNaN(t.floatClippedFraction) ? 'int8 codes at −128 or 127' : `int8 codes at −128 or 127; float values beyond the edges: ${pct(t.floatClippedFraction)}`}>{t.clippedFraction === undefined || Number.isNaN(t.clippedFraction) ? '—' : pct(t.clippedFraction)}</td>
            </tr>
          ))}</tbody>
        </table>
      </div>
    </section>
  );
}

export function SimulatePanel() {
  const quant = useStore((s) => s.quant);
  const run = useStore((s) => s.simRun);
  const report = useStore((s) => s.simReport);
  const label = useStore((s) => s.simInputLabel);
  const prepared = useStore((s) => s.simPrepared);
  const target = useStore((s) => s.compileTarget);
  const targetName = target.kind === 'arch' ? target.arch : target.kind === 'board' ? target.board : target.fileName;
  const running = run.state === 'running';
  return (
    <div className="step-panel-body sim-panel" data-testid="simulate-panel">
      <div className="small">
        Runs one sample through the bit-exact int8 model {quant?.source === 'calibration' ? 'of the Quantize step' : 'of the open (quantized) file'} for <b>{targetName}</b>
        {' '}(<button className="link" onClick={() => set({ activeStep: 'compile' })}>change in Compile</button>)
        {prepared && (
          <span data-testid="sim-prepared"> · {prepared.subgraphs} subgraphs, {prepared.dpuSubgraphs} on the DPU, feature maps {bytes(prepared.featureMapBytes.planned)}B
            {' '}(one buffer each: {bytes(prepared.featureMapBytes.unshared)}B){prepared.kernelThreads > 1 ? `, DPU kernels on ${prepared.kernelThreads} threads` : ''}, prepared in {prepared.ms.toFixed(0)} ms</span>
        )}
      </div>
      <InputPicker />
      <div className="sim-row">
        <button className="primary" disabled={running} onClick={() => void runSimulation()} data-testid="run-sim">Run</button>
        <button disabled={!running} onClick={cancelSimulation} data-testid="cancel-sim">Cancel</button>
        {running && <span className="small muted sim-progress" data-testid="sim-progress">{run.phase}…</span>}
      </div>
      {run.state === 'error' && <div className="panel-error" role="alert" data-testid="sim-error">{run.message}</div>}
      <EvaluateSection />
      {report && (
        <div data-testid="sim-results">
          <section>
            <h4>Outputs</h4>
            {label && <div className="small muted" data-testid="sim-input-label">{label}</div>}
            {report.outputs.map((o) => <Output key={o.name} o={o} />)}
          </section>
          <DetectionPanes />
          <PaintPicker />
          <Agreement tensors={report.tensors} />
          <TensorViewPanel />
          <SubgraphTable />
        </div>
      )}
    </div>
  );
}
