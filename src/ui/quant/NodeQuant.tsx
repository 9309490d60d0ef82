// The side panel's quantization section: a tensor's histogram with the chosen range, clipping,
// alternatives, and per-layer overrides.
import { useEffect, useRef, useState } from 'react';
import type { DisplayNode } from '../../core/view/types';
import type { TensorDetail } from '../../../workers/protocol';
import { loadStats } from '../session';
import { set, useStore } from '../store';
import { formatDb, runQuantize, setOverride, tensorDetail } from './actions';
import { tensorFixLabel } from './badges';
import { Histogram } from '../panels/Histogram';

/** The float distribution with the representable range of the chosen fix point shaded. */
function RangeHistogram({ d }: { d: TensorDetail }) {
  const el = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = el.current;
    const ctx = c?.getContext('2d');
    const h = d.histogram;
    if (!c || !ctx || !h) return;
    const W = c.width;
    const H = c.height;
    const step = 2 ** -d.fixPoint;
    const rlo = -(2 ** (d.bitWidth - 1)) * step;
    const rhi = (2 ** (d.bitWidth - 1) - 1) * step;
    const lo = Math.min(h.lo, rlo);
    const hi = Math.max(h.hi, rhi);
    const x = (v: number) => ((v - lo) / (hi - lo || 1)) * W;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = 'rgba(47,111,221,0.12)';
    ctx.fillRect(x(rlo), 0, x(rhi) - x(rlo), H);
    // Log counts: the tails that clipping cuts are what matter, and they are orders of magnitude smaller.
    const max = Math.log1p(Math.max(...h.counts));
    const bw = (h.hi - h.lo) / h.counts.length;
    h.counts.forEach((n, i) => {
      if (!n) return;
      const v0 = h.lo + i * bw;
      const clipped = v0 + bw < rlo || v0 > rhi;
      ctx.fillStyle = clipped ? '#c2410c' : '#5b7fb8';
      const bh = (Math.log1p(n) / max) * (H - 4);
      ctx.fillRect(x(v0), H - bh, Math.max(1, x(v0 + bw) - x(v0)), bh);
    });
    ctx.strokeStyle = '#2f6fdd';
    ctx.lineWidth = 1.5;
    for (const v of [rlo, rhi]) { ctx.beginPath(); ctx.moveTo(x(v), 0); ctx.lineTo(x(v), H); ctx.stroke(); }
  }, [d]);
  if (!d.histogram) return null;
  return (
    <div>
      <canvas ref={el} width={300} height={90} className="range-hist" data-testid="range-histogram" />
      <div className="small muted">float values {d.histogram.lo.toPrecision(3)} … {d.histogram.hi.toPrecision(3)}; shaded: fp={d.fixPoint} range (log counts)</div>
    </div>
  );
}

function Detail({ name }: { name: string }) {
  const fix = useStore((s) => s.quant?.tensors[name]);
  const [d, setD] = useState<TensorDetail | null>(null);
  useEffect(() => {
    let live = true;
    void tensorDetail(name).then((x) => { if (live) setD(x); }, () => undefined);
    return () => { live = false; };
  }, [name, fix]);
  // Weights have no calibration histogram: their value histogram (the Weights section's) stands in.
  const stats = useStore((s) => s.stats[name]);
  useEffect(() => { if (fix?.dataType === 'weights' || fix?.dataType === 'bias') void loadStats(name); }, [name, fix?.dataType]);
  const shown = d && !d.histogram && stats?.state === 'done' && stats.stats
    ? { ...d, histogram: { lo: stats.stats.min, hi: stats.stats.max, counts: [...stats.stats.counts] } }
    : d;
  if (!fix) return <div className="small muted" data-testid="tensor-float">{name}: no fix point of its own (inside a fused layer, derived from its input, or computed in float)</div>;
  return (
    <div className="tensor-detail" data-testid="tensor-detail">
      <div className="small"><span className="mono">{name}</span></div>
      <div className="small">
        fp=<b>{fix.fixPoint}</b> · {fix.bitWidth}-bit · {fix.method}
        {fix.calibratedFixPoint !== fix.fixPoint && <> (calibrated {fix.calibratedFixPoint}, moved by a DPU rule)</>}
        {Number.isFinite(fix.clippedFraction) && <> · clipped <span data-testid="clipped">{(fix.clippedFraction * 100).toPrecision(3)}%</span></>}
      </div>
      {d?.weightHistograms ? <WeightHistograms h={d.weightHistograms} fp={fix.fixPoint} /> : shown && <RangeHistogram d={shown} />}
      {d && d.alternatives.length > 0 && (
        <table className="props small" data-testid="alternatives">
          <thead><tr><td>fp</td><td>error (MSE)</td></tr></thead>
          <tbody>
            {d.alternatives.map((a) => (
              <tr key={a.fp} className={a.fp === fix.fixPoint ? 'chosen' : ''}><td>{a.fp}{a.fp === fix.fixPoint ? ' ✓' : ''}</td><td>{a.mse.toExponential(3)}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** A weight's float values above its quantized values, on one x range, so the rounding grid shows. */
function WeightHistograms({ h, fp }: { h: NonNullable<TensorDetail['weightHistograms']>; fp: number }) {
  return (
    <div data-testid="weight-histograms">
      <div className="small muted">float</div>
      <Histogram counts={h.float} min={h.lo} max={h.hi} height={90} />
      <div className="small muted">quantized (fp={fp}, step 2^{-fp})</div>
      <Histogram counts={h.quantized} min={h.lo} max={h.hi} height={90} />
    </div>
  );
}

const METHODS = ['diffs', 'maxmin', 'percentile', 'mse', 'entropy'];

function Overrides({ tensor }: { tensor: string }) {
  const o = useStore((s) => s.overrides[tensor]);
  const fix = useStore((s) => s.quant?.tensors[tensor]);
  const [pin, setPin] = useState('');
  if (!fix) return null;
  return (
    <div className="overrides" data-testid="overrides">
      <label>Method <select data-testid="override-method" value={o?.method ?? ''} onChange={(e) => void setOverride(tensor, { ...o, method: e.target.value || undefined })}>
        <option value="">as configured</option>
        {METHODS.map((m) => <option key={m}>{m}</option>)}
      </select></label>
      <label>Pin fp <input className="mono" size={4} value={pin} placeholder={String(o?.fixPoint ?? '')} onChange={(e) => setPin(e.target.value)} /></label>
      <button
        onClick={() => { const v = Number(pin); if (pin !== '' && Number.isInteger(v)) void setOverride(tensor, { ...o, fixPoint: v }); setPin(''); }}
        data-testid="pin-fp"
      >Pin</button>
      {o && <button onClick={() => void setOverride(tensor, undefined)}>Clear</button>}
    </div>
  );
}

type Json = Record<string, unknown>;
/** Layer-level changes that need calibration again: written into the config's layer_quantize_config. */
function LayerConfig({ layer, node }: { layer: string; node: string }) {
  const text = useStore((s) => s.quantConfig);
  const [bits, setBits] = useState('8');
  const apply = (entry: Json | null) => {
    let cfg: Json;
    try { cfg = JSON.parse(text) as Json; } catch { set({ quantConfigError: 'fix the quant config JSON first' }); return; }
    const list = ((cfg.layer_quantize_config as Json[] | undefined) ?? []).filter((l) => l.layer_name !== layer);
    if (entry) list.push({ layer_name: layer, ...entry });
    set({ quantConfig: JSON.stringify({ ...cfg, layer_quantize_config: list }, null, 2) });
    void runQuantize();
  };
  return (
    <div className="overrides">
      <button onClick={() => apply({ quantizable_data_type: [] })} data-testid="keep-float">Keep layer in float</button>
      <label>bits <input className="mono" size={3} value={bits} onChange={(e) => setBits(e.target.value)} /></label>
      <button onClick={() => apply({ quantizable_data_type: ['weights', 'bias', 'activation'], overall_quantize_config: { bit_width: Number(bits) } })} data-testid="set-bits">Set bit width</button>
      <button onClick={() => apply(null)}>Reset</button>
      {layer !== node && <div className="small" data-testid="layer-of">Applies to layer <span className="mono">{layer}</span>: this node is fused into it.</div>}
      <div className="small muted">These re-run calibration (the float pass); method and pinned fp re-solve instantly.</div>
    </div>
  );
}

export function NodeQuant({ node }: { node: DisplayNode }) {
  const quant = useStore((s) => s.quant);
  const picked = useStore((s) => s.quantTensor);
  const graph = useStore((s) => s.model?.graph);
  if (!quant || !graph) return null;
  const tensors = [...node.outputs.map((o) => o.tensor), ...node.weights.map((w) => w.tensor)];
  const current = picked && tensors.includes(picked) ? picked : tensors.find((t) => quant.tensors[t]) ?? tensors[0];
  const sqnr = quant.layers.find((l) => l.layer === node.name || node.outputs.some((o) => o.tensor === l.output));
  return (
    <section data-testid="node-quant">
      <h4>Quantization</h4>
      {sqnr && <div className="small">SQNR {formatDb(sqnr.sqnrDb)} · cosine {sqnr.cosine.toFixed(5)}</div>}
      <div className="fp-chips">
        {tensors.map((t) => {
          const label = tensorFixLabel(quant, graph, t);
          return (
            <button key={t} className={`fp-chip${t === current ? ' on' : ''}${label === 'float' ? ' float' : ''}`} title={t} onClick={() => set({ quantTensor: t })}>
              {t.length > 18 ? `…${t.slice(-16)}` : t}: {label}
            </button>
          );
        })}
      </div>
      {current && <Detail name={current} />}
      {current && quant.source === 'calibration' && <Overrides tensor={current} />}
      {node.kind === 'op' && quant.source === 'calibration' && <LayerConfig layer={quant.layerOf[node.name] ?? node.name} node={node.name} />}
    </section>
  );
}
