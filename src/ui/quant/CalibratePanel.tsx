// Calibration data: files or the sample's data, a preprocessing form, and a preview of the first inputs.
import { useEffect, useRef, useState } from 'react';
import type { CalibPreview } from '../../../workers/protocol';
import { set, useStore } from '../store';
import { fetchFile, filesOf, loadCalibration } from './actions';
import { CALIB_FILE, droppedFiles, nothingUsable } from './drop';
import { formDefaults, formOfPreset, isEmptyForm, specOfForm, withField, type PreForm } from './preprocessForm';

const base = import.meta.env.BASE_URL;

/** Sample models that ship calibration data in public/calib. */
const SAMPLE_CALIB: Readonly<Record<string, string>> = { 'fmnist_seed000.onnx': 'fmnist_calib200.npy' };

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
  const [form, setForm] = useState<PreForm>({});
  // Text fields are edited here and applied on blur, so a half-typed number is not sent.
  const [draft, setDraft] = useState<Pick<PreForm, 'scale' | 'mean' | 'std' | 'pad' | 'size'>>({});
  const [files, setFiles] = useState<{ name: string; bytes: Uint8Array }[]>([]);
  const [preview, setPreview] = useState<CalibPreview[]>([]);
  const [loading, setLoading] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);
  const fileName = model?.info.fileName ?? '';
  const inputShape = model?.graph.nodes.find((n) => n.kind === 'input')?.outputs[0]?.shape as (number | string)[] | undefined;
  const dflt = formDefaults(inputShape);

  useEffect(() => {
    let live = true;
    fetch(`${base}models/samples.json`).then((r) => r.json()).then((list: { file: string; preprocess?: Record<string, unknown> }[]) => {
      const pre = list.find((s) => s.file === fileName)?.preprocess;
      if (!live) return;
      setSamplePre(pre);
      setForm(formOfPreset(pre));
    }, () => setForm({}));
    return () => { live = false; };
  }, [fileName]); // eslint-disable-line react-hooks/exhaustive-deps

  const load = async (fs: { name: string; bytes: Uint8Array }[], f: PreForm) => {
    if (fs.length === 0) return;
    setLoading(true);
    setPreview(await loadCalibration(fs, specOfForm(f)));
    setLoading(false);
  };
  const pickFiles = async (list: readonly File[]) => {
    const usable = list.filter((f) => CALIB_FILE.test(f.name));
    if (usable.length === 0) {
      set({ calibError: nothingUsable(list.length) });
      return;
    }
    try {
      const fs = await filesOf(usable);
      setFiles(fs);
      await load(fs, form);
    } catch (e) {
      setLoading(false);
      set({ calibError: `cannot read the calibration files: ${e instanceof Error ? e.message : String(e)}` });
    }
  };
  const pick = (list: FileList | null) => (list?.length ? pickFiles(Array.from(list)) : Promise.resolve());
  const drop = (dt: DataTransfer) => {
    // The items are readable only now, inside the event: droppedFiles takes them before awaiting.
    droppedFiles(dt.items, dt.files).then(
      ({ files: fs, skipped }) => (fs.length ? pickFiles(fs) : set({ calibError: nothingUsable(skipped) })),
      (e: unknown) => set({ calibError: `cannot read the dropped files: ${e instanceof Error ? e.message : String(e)}` }),
    );
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
  const apply = (next: PreForm) => {
    setForm(next);
    setDraft({});
    void load(files, next);
  };
  const change = <K extends keyof PreForm>(k: K, v: PreForm[K] | '' | false) => apply(withField(form, k, v));
  const text = (k: 'scale' | 'mean' | 'std' | 'pad' | 'size') => ({
    className: 'mono', value: draft[k] ?? form[k] ?? '', placeholder: dflt[k], 'data-testid': `pre-${k}`,
    disabled: form.raw === true && k !== 'pad' && k !== 'size',
    onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value }),
    onBlur: () => { if (draft[k] !== undefined) change(k, draft[k]); },
  });
  const shape = dflt.sampleShape.length ? `⟨${dflt.sampleShape.join('×')}⟩` : 'model-shaped';
  const chosen = !isEmptyForm(form);

  return (
    <div className="step-panel-body" data-testid="calibrate-panel">
      <div
        className="calib-drop"
        data-testid="calib-drop"
        onDragOver={(e) => { e.preventDefault(); e.stopPropagation(); }}
        onDrop={(e) => { e.preventDefault(); e.stopPropagation(); drop(e.dataTransfer); }}
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
        <div className="small muted pre-note" data-testid="preprocess-note">
          {chosen
            ? <>The settings chosen here apply to every sample, arrays of {shape} included.</>
            : <>An array of {shape} samples is fed as it is. Images are resized and fed as raw pixel values; choose a setting to change that (it then applies to arrays too).</>}
        </div>
        <label>Resize <select data-testid="pre-resize" value={form.resize ?? ''} onChange={(e) => change('resize', e.target.value as PreForm['resize'] | '')}><option value="">default ({dflt.resize})</option><option value="stretch">stretch</option><option value="letterbox">letterbox</option></select></label>
        <label>Colour <select data-testid="pre-color" value={form.color ?? ''} onChange={(e) => change('color', e.target.value as PreForm['color'] | '')}><option value="">default ({dflt.color})</option><option value="rgb">RGB</option><option value="bgr">BGR</option><option value="grayscale">grayscale</option></select></label>
        <label>Layout <select data-testid="pre-layout" value={form.layout ?? ''} onChange={(e) => change('layout', e.target.value as PreForm['layout'] | '')}><option value="">default ({dflt.layout})</option><option>NCHW</option><option>NHWC</option></select></label>
        <label className="check"><input type="checkbox" checked={form.raw === true} onChange={(e) => change('raw', e.target.checked)} /> raw pixels (0..255)</label>
        <label>Scale <input {...text('scale')} /></label>
        <label>Mean <input {...text('mean')} /></label>
        <label>Std <input {...text('std')} /></label>
        <label title="letterbox border, in pixel values 0..255">Pad <input {...text('pad')} /></label>
        <label title="height, width fed to the model">Size <input {...text('size')} /></label>
        <div className="row">
          <button disabled={!chosen} onClick={() => apply({})} data-testid="pre-clear">Defaults</button>
          {samplePre && <button onClick={() => apply(formOfPreset(samplePre))}>Sample's settings</button>}
        </div>
      </fieldset>
      {loading && <div className="muted small">reading calibration data…</div>}
      {error && <div className="panel-error" role="alert" data-testid="calib-error">{error}</div>}
      {calib && (
        <div data-testid="calib-info" className="small" data-first-digest={calib.firstDigest}>
          {calib.count} samples of ⟨{calib.sampleShape.join('×')}⟩ for input <span className="mono">{calib.input}</span> ({calib.layout}), {calib.asIs ? 'fed as is' : 'preprocessed'}
        </div>
      )}
      {preview.length > 0 && <div className="calib-previews" data-testid="calib-preview">{preview.map((p, i) => <PreviewCanvas key={i} p={p} />)}</div>}
      {calib && <button className="primary" onClick={() => set({ activeStep: 'quantize' })} data-testid="to-quantize">Next: Quantize →</button>}
    </div>
  );
}
