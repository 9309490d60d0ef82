// Quantizer settings (a form over the quant-config JSON, which stays editable), run with progress and
// cancel, then the results: worst layers, exports.
import { useMemo, useRef, useState } from 'react';
import type { DisplayNode } from '../../core/view/types';
import { select, set, useStore } from '../store';
import { cancelQuantize, checkConfig, download, formatDb, runQuantize, sqnrColor } from './actions';

const METHODS = ['diffs', 'maxmin', 'percentile', 'mse', 'entropy'] as const;
const STATISTICS = ['modal', 'max', 'mean', 'median'] as const;
const SWITCHES: readonly [key: string, label: string, dflt: boolean][] = [
  ['convert_relu6_to_relu', 'ReLU6 → ReLU', false],
  ['convert_silu_to_hswish', 'SiLU → hard-swish', false],
  ['convert_sigmoid_to_hsigmoid', 'Sigmoid → hard-sigmoid', false],
  ['convert_leaky_relu_slope', 'LeakyReLU slope → 26/256', false],
  ['include_cle', 'Cross-layer equalization', true],
  ['include_adaround', 'Data-aware weight rounding', false],
  ['include_bias_corr', 'Bias correction', true],
];

type Json = Record<string, unknown>;
function parse(text: string): Json | null {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
  } catch {
    return null;
  }
}

function ConfigForm() {
  const text = useStore((s) => s.quantConfig);
  const error = useStore((s) => s.quantConfigError);
  const json = useMemo(() => parse(text), [text]);
  const overall = (json?.overall_quantize_config ?? {}) as Json;
  const picker = useRef<HTMLInputElement>(null);
  const edit = (f: (j: Json) => Json) => {
    if (!json) return;
    const next = JSON.stringify(f(json), null, 2);
    set({ quantConfig: next });
    void checkConfig(next);
  };
  const setOverall = (k: string, v: unknown) => edit((j) => ({ ...j, overall_quantize_config: { ...((j.overall_quantize_config as Json) ?? {}), [k]: v } }));
  return (
    <>
      <fieldset className="pre-form" disabled={!json}>
        <legend>Method</legend>
        <label>Calibration <select data-testid="quant-method" value={String(overall.method ?? 'diffs')} onChange={(e) => setOverall('method', e.target.value)}>
          {METHODS.map((m) => <option key={m} value={m}>{m}{m === 'diffs' ? ' (default)' : ''}</option>)}
        </select></label>
        <label>Statistic across batches <select value={String(overall.calib_statistic_method ?? 'modal')} onChange={(e) => setOverall('calib_statistic_method', e.target.value)}>
          {STATISTICS.map((m) => <option key={m}>{m}</option>)}
        </select></label>
        {SWITCHES.map(([k, label, d]) => (
          <label key={k} className="check"><input type="checkbox" checked={(json?.[k] as boolean | undefined) ?? d} onChange={(e) => edit((j) => ({ ...j, [k]: e.target.checked }))} /> {label}</label>
        ))}
      </fieldset>
      <details className="config-json">
        <summary>Quant config JSON</summary>
        <textarea
          className="mono" data-testid="quant-config" spellCheck={false} rows={10} value={text}
          onChange={(e) => set({ quantConfig: e.target.value })}
          onBlur={(e) => void checkConfig(e.target.value)}
        />
        <div className="row">
          <button onClick={() => picker.current?.click()} data-testid="import-config">Import…</button>
          <input
            ref={picker} type="file" accept=".json" hidden data-testid="config-input"
            onChange={async (e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (!f) return;
              const t = await f.text();
              set({ quantConfig: t });
              void checkConfig(t);
            }}
          />
        </div>
      </details>
      {error && <div className="panel-error" role="alert" data-testid="config-error">{error}</div>}
    </>
  );
}

function WorstLayers() {
  const layers = useStore((s) => s.quant?.layers ?? []);
  const nodes = useStore((s) => s.model?.graph.nodes);
  const [key, setKey] = useState<'sqnrDb' | 'cosine' | 'layer'>('sqnrDb');
  const [asc, setAsc] = useState(true);
  const rows = useMemo(() => {
    const r = [...layers].sort((a, b) => (key === 'layer' ? a.layer.localeCompare(b.layer) : a[key] - b[key]));
    return asc ? r : r.reverse();
  }, [layers, key, asc]);
  if (layers.length === 0) return null;
  const sortBy = (k: typeof key) => { if (k === key) setAsc(!asc); else { setKey(k); setAsc(true); } };
  const jump = (layer: string, output: string) => {
    const n = nodes?.find((x) => x.kind === 'op' && (x.name === layer || x.outputs.some((o) => o.tensor === output)));
    if (n) select(n.id, true);
  };
  const arrow = (k: typeof key) => (k === key ? (asc ? ' ▲' : ' ▼') : '');
  return (
    <section>
      <h4>Layers by quantization error</h4>
      <div className="worst-wrap">
        <table className="worst" data-testid="worst-layers">
          <thead><tr>
            <th onClick={() => sortBy('layer')}>Layer{arrow('layer')}</th>
            <th onClick={() => sortBy('sqnrDb')}>SQNR{arrow('sqnrDb')}</th>
            <th onClick={() => sortBy('cosine')}>cosine{arrow('cosine')}</th>
          </tr></thead>
          <tbody>
            {rows.map((l) => (
              <tr key={l.layer + l.output} onClick={() => jump(l.layer, l.output)} data-testid="worst-row" title="Show in graph">
                <td className="mono"><span className="swatch" style={{ background: sqnrColor(l.sqnrDb) }} /> {l.layer} <span className="muted">{l.opType}</span></td>
                <td>{formatDb(l.sqnrDb)}</td>
                <td>{l.cosine.toFixed(5)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The node showing a tensor: its producer, the op holding it as a weight, a graph input, or its layer. */
function nodeOfTensor(nodes: readonly DisplayNode[], tensor: string, layer: string | undefined): DisplayNode | undefined {
  return nodes.find((n) => n.outputs.some((o) => o.tensor === tensor) && n.kind !== 'output')
    ?? nodes.find((n) => n.weights.some((w) => w.tensor === tensor))
    ?? (layer ? nodes.find((n) => n.kind === 'op' && n.name === layer) : undefined);
}

/** What the §3 rules moved and why; a row selects the tensor's node. */
function Adjustments() {
  const quant = useStore((s) => s.quant);
  const nodes = useStore((s) => s.model?.graph.nodes);
  if (!quant || quant.adjustments.length === 0) return null;
  const show = (tensor: string) => {
    const n = nodes && nodeOfTensor(nodes, tensor, quant.tensors[tensor]?.layer);
    if (!n) return;
    set({ quantTensor: tensor });
    select(n.id, true);
  };
  return (
    <details className="adjustments" data-testid="adjustments">
      <summary>{quant.adjustments.length} rule adjustment(s)</summary>
      <table className="worst">
        <thead><tr><th>tensor</th><th>fp</th><th>reason</th></tr></thead>
        <tbody>
          {quant.adjustments.map((a, i) => (
            <tr key={i} onClick={() => show(a.tensor)} onKeyDown={(e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); show(a.tensor); } }} tabIndex={0} data-testid="adjustment-row" title={`${a.rule}: show in graph`}>
              <td className="mono">{a.tensor}</td>
              <td className="mono">{a.from}→{a.to}</td>
              <td className="reason">{a.reason} <span className="muted">({a.rule})</span></td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function Results() {
  const quant = useStore((s) => s.quant);
  const colorMode = useStore((s) => s.colorMode);
  const overrides = useStore((s) => Object.keys(s.overrides).length);
  const remeasuring = useStore((s) => s.remeasuring);
  const isXModel = useStore((s) => s.model?.info.fileName.toLowerCase().endsWith('.xmodel') ?? false);
  if (!quant) return null;
  const n = Object.keys(quant.tensors).length;
  return (
    <div data-testid="quant-results">
      <div className="small">
        {quant.source === 'imported' ? `${n} fix points read from the model's ${isXModel ? 'fix ops' : 'QDQ scales'}` : `${n} tensors quantized, ${quant.adjustments.length} rule adjustment(s)`}
        {overrides > 0 && `, ${overrides} override(s)`}
      </div>
      {remeasuring && <div className="small muted" role="status" data-testid="remeasuring">re-measuring SQNR after the change…</div>}
      <Adjustments />
      {quant.prepareLog.map((l, i) => <div key={i} className="small muted">prepare {l.pass}: {l.detail}</div>)}
      {quant.warnings.map((w, i) => <div key={i} className="small warn">{w}</div>)}
      {quant.layers.length > 0 && (
        <label className="check"><input type="checkbox" data-testid="sqnr-mode" checked={colorMode === 'sqnr'} onChange={(e) => set({ colorMode: e.target.checked ? 'sqnr' : 'category' })} /> Colour nodes by SQNR</label>
      )}
      <WorstLayers />
      {quant.source === 'calibration' && (
        <div className="row">
          <button onClick={() => void download('qdq')} data-testid="export-qdq">QDQ ONNX</button>
          <button onClick={() => void download('int')} data-testid="export-int-xmodel" title="The quantizer's output vai_c_xir compiles">_int.xmodel</button>
          <button onClick={() => void download('info')} data-testid="export-info">quant_info.json</button>
          <button onClick={() => void download('config')} data-testid="export-config">config JSON</button>
        </div>
      )}
    </div>
  );
}

export function QuantizePanel() {
  const calib = useStore((s) => s.calib);
  const run = useStore((s) => s.quantRun);
  const error = useStore((s) => s.quantError);
  return (
    <div className="step-panel-body" data-testid="quantize-panel">
      <ConfigForm />
      {!calib && <div className="small muted">Load calibration data in the Calibrate step first.</div>}
      {run.state === 'running' ? (
        <div className="quant-progress" data-testid="quant-progress" role="status">
          <div className="spinner" />
          <span>{run.phase === 'evaluate' ? 'Measuring error' : 'Calibrating'}: batch {run.batch}{run.total ? ` of ${run.total}` : ''}</span>
          <button onClick={cancelQuantize} data-testid="quant-cancel">Cancel</button>
        </div>
      ) : (
        <button className="primary" disabled={!calib} onClick={() => void runQuantize()} data-testid="run-quantize">Quantize</button>
      )}
      {error && <div className="panel-error" role="alert" data-testid="quant-error">{error}</div>}
      <Results />
    </div>
  );
}
