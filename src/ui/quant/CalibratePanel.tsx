// Calibration data: files or the sample's data, a preprocessing form, and a preview of the first inputs.
import { useEffect, useRef, useState } from 'react';
import type { CalibPreview } from '../../../workers/protocol';
import { set, useStore } from '../store';
import { fetchFile, filesOf, loadCalibration } from './actions';

const base = import.meta.env.BASE_URL;

/** Sample models that ship calibration data in public/calib. */
const SAMPLE_CALIB: Readonly<Record<string, string>> = { 'fmnist_seed000.onnx': 'fmnist_calib200.npy' };

interface Form {
  resize: 'stretch' | 'letterbox';
  color: 'rgb' | 'bgr' | 'grayscale';
  layout: 'NCHW' | 'NHWC';
  scale: string;
  mean: string;
  std: string;
  raw: boolean;
}

const numbers = (s: string) => s.split(/[\s,]+/).filter(Boolean).map(Number);

/** The preprocess JSON (src/core/data/preprocess.ts) the form describes. */
function toSpec(f: Form): Record<string, unknown> {
  const mean = numbers(f.mean);
  const std = numbers(f.std);
  return {
    resize: f.resize, color: f.color, layout: f.layout, raw: f.raw || undefined,
    scale: f.raw ? undefined : Number(f.scale),
    mean: f.raw || mean.length === 0 ? undefined : mean.length === 1 ? mean[0] : mean,
    std: f.raw || std.length === 0 ? undefined : std.length === 1 ? std[0] : std,
  };
}

function defaultForm(pre: Record<string, unknown> | undefined, shape: readonly (number | string)[] | undefined): Form {
  const chLast = shape?.length === 4 && (shape[3] === 3 || shape[3] === 1) && !(shape[1] === 3 || shape[1] === 1);
  const channels = shape?.length === 4 ? (chLast ? shape[3] : shape[1]) : 3;
  const arr = (v: unknown) => (Array.isArray(v) ? v.join(', ') : v === undefined ? '' : String(v));
  return {
    resize: (pre?.resize as Form['resize']) ?? 'stretch',
    color: ((pre?.color as string | undefined)?.toLowerCase() as Form['color']) ?? (channels === 1 ? 'grayscale' : 'rgb'),
    layout: (pre?.layout as Form['layout']) ?? (chLast ? 'NHWC' : 'NCHW'),
    scale: String(pre?.scale ?? 1 / 255),
    mean: arr(pre?.mean ?? 0),
    std: arr(pre?.std ?? 1),
    raw: pre?.raw === true,
  };
}

function PreviewCanvas({ p }: { p: CalibPreview }) {
  const el = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = el.current?.getContext('2d');
    if (!ctx) return;
    ctx.putImageData(new ImageData(new Uint8ClampedArray(p.rgba), p.width, p.height), 0, 0);
  }, [p]);
  return (
    <figure className="calib-thumb">
      <canvas ref={el} width={p.width} height={p.height} />
      <figcaption className="small muted">{p.min.toPrecision(3)}…{p.max.toPrecision(3)}</figcaption>
    </figure>
  );
}

export function CalibratePanel() {
  const model = useStore((s) => s.model);
  const calib = useStore((s) => s.calib);
  const error = useStore((s) => s.calibError);
  const [samplePre, setSamplePre] = useState<Record<string, unknown> | undefined>();
  const [form, setForm] = useState<Form>(() => defaultForm(undefined, undefined));
  const [files, setFiles] = useState<{ name: string; bytes: Uint8Array }[]>([]);
  const [preview, setPreview] = useState<CalibPreview[]>([]);
  const [loading, setLoading] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);
  const fileName = model?.info.fileName ?? '';
  const inputShape = model?.graph.nodes.find((n) => n.kind === 'input')?.outputs[0]?.shape;

  useEffect(() => {
    let live = true;
    fetch(`${base}models/samples.json`).then((r) => r.json()).then((list: { file: string; preprocess?: Record<string, unknown> }[]) => {
      const pre = list.find((s) => s.file === fileName)?.preprocess;
      if (!live) return;
      setSamplePre(pre);
      setForm(defaultForm(pre, inputShape as (number | string)[] | undefined));
    }, () => setForm(defaultForm(undefined, inputShape as (number | string)[] | undefined)));
    return () => { live = false; };
  }, [fileName]); // eslint-disable-line react-hooks/exhaustive-deps

  const load = async (fs: { name: string; bytes: Uint8Array }[], f: Form) => {
    if (fs.length === 0) return;
    setLoading(true);
    setPreview(await loadCalibration(fs, toSpec(f)));
    setLoading(false);
  };
  const pick = async (list: FileList | null) => {
    if (!list?.length) return;
    const fs = (await filesOf(Array.from(list))).filter((f) => /\.(npy|npz|png|jpe?g)$/i.test(f.name));
    setFiles(fs);
    await load(fs, form);
  };
  const useSample = async () => {
    const name = SAMPLE_CALIB[fileName];
    try {
      const f = await fetchFile(`${base}calib/${name}`, name);
      setFiles([f]);
      await load([f], form);
    } catch (e) {
      set({ calibError: e instanceof Error ? e.message : String(e) });
    }
  };
  const change = (patch: Partial<Form>) => {
    const next = { ...form, ...patch };
    setForm(next);
    void load(files, next);
  };

  return (
    <div className="step-panel-body" data-testid="calibrate-panel">
      <div
        className="calib-drop"
        data-testid="calib-drop"
        onDragOver={(e) => { e.preventDefault(); e.stopPropagation(); }}
        onDrop={(e) => { e.preventDefault(); e.stopPropagation(); void pick(e.dataTransfer.files); }}
      >
        Drop images, a folder's images, or a <code>.npy</code>/<code>.npz</code> here
        <div className="row">
          <button onClick={() => picker.current?.click()}>Files…</button>
          <button onClick={() => folder.current?.click()}>Folder…</button>
          {SAMPLE_CALIB[fileName] && <button onClick={() => void useSample()} data-testid="use-sample-calib">Use sample data</button>}
        </div>
        <input ref={picker} type="file" multiple accept=".npy,.npz,.png,.jpg,.jpeg" hidden data-testid="calib-input" onChange={(e) => { void pick(e.target.files); e.target.value = ''; }} />
        <input ref={folder} type="file" hidden {...{ webkitdirectory: '' }} onChange={(e) => { void pick(e.target.files); e.target.value = ''; }} />
      </div>
      <fieldset className="pre-form" data-testid="preprocess-form">
        <legend>Preprocessing {samplePre && <span className="muted small">(from the sample's description)</span>}</legend>
        <label>Resize <select value={form.resize} onChange={(e) => change({ resize: e.target.value as Form['resize'] })}><option value="stretch">stretch</option><option value="letterbox">letterbox</option></select></label>
        <label>Colour <select value={form.color} onChange={(e) => change({ color: e.target.value as Form['color'] })}><option value="rgb">RGB</option><option value="bgr">BGR</option><option value="grayscale">grayscale</option></select></label>
        <label>Layout <select value={form.layout} onChange={(e) => change({ layout: e.target.value as Form['layout'] })}><option>NCHW</option><option>NHWC</option></select></label>
        <label><input type="checkbox" checked={form.raw} onChange={(e) => change({ raw: e.target.checked })} /> raw pixels (0..255)</label>
        <label>Scale <input className="mono" value={form.scale} disabled={form.raw} onChange={(e) => setForm({ ...form, scale: e.target.value })} onBlur={() => change({})} /></label>
        <label>Mean <input className="mono" value={form.mean} disabled={form.raw} onChange={(e) => setForm({ ...form, mean: e.target.value })} onBlur={() => change({})} /></label>
        <label>Std <input className="mono" value={form.std} disabled={form.raw} onChange={(e) => setForm({ ...form, std: e.target.value })} onBlur={() => change({})} /></label>
      </fieldset>
      {loading && <div className="muted small">reading calibration data…</div>}
      {error && <div className="panel-error" role="alert" data-testid="calib-error">{error}</div>}
      {calib && (
        <div data-testid="calib-info" className="small">
          {calib.count} samples of ⟨{calib.sampleShape.join('×')}⟩ for input <span className="mono">{calib.input}</span> ({calib.layout})
        </div>
      )}
      {preview.length > 0 && <div className="calib-previews" data-testid="calib-preview">{preview.map((p, i) => <PreviewCanvas key={i} p={p} />)}</div>}
      {calib && <button className="primary" onClick={() => set({ activeStep: 'quantize' })} data-testid="to-quantize">Next: Quantize →</button>}
    </div>
  );
}
