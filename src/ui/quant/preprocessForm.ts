// The Calibrate panel's preprocessing form, as data. Only the fields the user (or the sample's preset)
// chose reach the worker: an unset field means the core's default, exactly as for a CLI run without
// that field in --preprocess, so the same files give the same tensors in both places. Above all, an
// array whose samples already have the model's shape is fed as it is until a field is chosen.
import { inputSpecFromShape } from '../../core/data/preprocess';

export interface PreForm {
  readonly resize?: 'stretch' | 'letterbox';
  readonly color?: 'rgb' | 'bgr' | 'grayscale';
  readonly layout?: 'NCHW' | 'NHWC';
  /** Text as typed; parsed when the spec is built. */
  readonly scale?: string;
  readonly mean?: string;
  readonly std?: string;
  /** The letterbox border (`pad_value`), as typed. */
  readonly pad?: string;
  /** `size` as typed, "H, W". */
  readonly size?: string;
  readonly raw?: boolean;
}

/** What an unset field means for this model input (src/core/data/preprocess.ts defaults). */
export interface FormDefaults {
  readonly resize: 'stretch';
  readonly color: 'rgb' | 'grayscale';
  readonly layout: 'NCHW' | 'NHWC' | 'flat';
  readonly scale: string;
  readonly mean: string;
  readonly std: string;
  readonly pad: string;
  /** The model's spatial size "H, W" ('' when not an image input). */
  readonly size: string;
  /** The model's per-sample shape (no batch axis), '?' for symbolic dims. */
  readonly sampleShape: readonly (number | '?')[];
}

export function formDefaults(shape: readonly (number | string)[] | undefined): FormDefaults {
  const spec = inputSpecFromShape('', shape ?? []);
  const channels = spec.layout === 'NHWC' ? spec.sampleShape[2] : spec.layout === 'NCHW' ? spec.sampleShape[0] : 3;
  return {
    resize: 'stretch', color: channels === 1 ? 'grayscale' : 'rgb', layout: spec.layout,
    scale: '1', mean: '0', std: '1', pad: '0', size: spatialOf(spec), sampleShape: spec.sampleShape.map((d) => (d < 0 ? '?' : d)),
  };
}

function spatialOf(spec: ReturnType<typeof inputSpecFromShape>): string {
  if (spec.layout === 'flat') return '';
  const [h, w] = spec.layout === 'NHWC' ? spec.sampleShape : spec.sampleShape.slice(1);
  return `${h < 0 ? '?' : h}, ${w < 0 ? '?' : w}`;
}

const list = (v: unknown) => (Array.isArray(v) ? v.join(', ') : String(v));

/** A sample's `preprocess` from samples.json: every field it names counts as chosen. */
export function formOfPreset(pre: Readonly<Record<string, unknown>> | undefined): PreForm {
  if (!pre) return {};
  const f: Record<string, unknown> = {};
  if (pre.resize !== undefined) f.resize = pre.resize;
  if (typeof pre.color === 'string') f.color = pre.color.toLowerCase();
  if (pre.layout !== undefined) f.layout = pre.layout;
  if (pre.scale !== undefined) f.scale = String(pre.scale);
  if (pre.mean !== undefined) f.mean = list(pre.mean);
  if (pre.std !== undefined) f.std = list(pre.std);
  if (pre.pad_value !== undefined) f.pad = String(pre.pad_value);
  if (pre.size !== undefined) f.size = list(pre.size);
  if (pre.raw === true) f.raw = true;
  return f as PreForm;
}

/** Set or clear one field ('' / undefined / false clears it back to the default). */
export function withField<K extends keyof PreForm>(f: PreForm, k: K, v: PreForm[K] | '' | false): PreForm {
  const next: Record<string, unknown> = { ...f };
  if (v === undefined || v === '' || v === false || (typeof v === 'string' && v.trim() === '')) delete next[k];
  else next[k] = v;
  return next as PreForm;
}

export const isEmptyForm = (f: PreForm) => Object.keys(f).length === 0;

const numbers = (s: string) => s.split(/[\s,]+/).filter(Boolean).map(Number);
const numOrList = (s: string) => { const v = numbers(s); return v.length === 1 ? v[0] : v; };

/** The preprocess JSON (src/core/data/preprocess.ts) holding the chosen fields only. */
export function specOfForm(f: PreForm): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.resize) out.resize = f.resize;
  if (f.color) out.color = f.color;
  if (f.layout) out.layout = f.layout;
  // A letterbox border or a size left out here would letterbox on 0 or at the model's size, unlike the
  // CLI reading the same preset: the calibration set then differs although the photos are the same.
  if (f.pad !== undefined && numbers(f.pad).length) out.pad_value = numOrList(f.pad);
  if (f.size !== undefined && numbers(f.size).length) out.size = numbers(f.size);
  if (f.raw) out.raw = true;
  else {
    if (f.scale !== undefined) out.scale = Number(f.scale);
    if (f.mean !== undefined && numbers(f.mean).length) out.mean = numOrList(f.mean);
    if (f.std !== undefined && numbers(f.std).length) out.std = numOrList(f.std);
  }
  return out;
}
