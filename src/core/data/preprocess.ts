// Turning images and arrays into model inputs. Every step is deterministic integer-free float math in
// a fixed order, so browser and CLI calibrate on identical tensors.
import { z } from '../zod';
import { InputError } from '../errors';

/**
 * The preprocess JSON file (all fields optional):
 * {
 *   "layout": "NCHW" | "NHWC",          model input layout; default guessed from the input shape
 *   "color": "rgb" | "bgr" | "grayscale", channel order fed to the model; default rgb (grayscale if 1 channel)
 *   "size": [H, W],                      default: the model input's spatial size
 *   "resize": "stretch" | "letterbox",   default stretch (bilinear, half-pixel centres)
 *   "pad_value": 114,                    letterbox border, in pixel units (0..255), default 0
 *   "scale": 0.00392156862745098,        x · scale, default 1 (raw pixel values)
 *   "mean": [0.485, 0.456, 0.406],       per channel (or one number), subtracted after scaling, default 0
 *   "std": [0.229, 0.224, 0.225],        per channel (or one number), divided after the mean, default 1
 *   "raw": true                          raw pixel values: forces scale 1, mean 0, std 1
 * }
 * Each pixel becomes ((x · scale) − mean[c]) / std[c].
 */
const schema = z.strictObject({
  layout: z.enum(['NCHW', 'NHWC']).optional(),
  color: z.enum(['rgb', 'bgr', 'grayscale']).optional(),
  // A side beyond 16384 would make each sample gigabytes: refused here rather than at allocation.
  size: z.tuple([z.number().int().positive().max(16384), z.number().int().positive().max(16384)]).optional(),
  resize: z.enum(['stretch', 'letterbox']).optional(),
  pad_value: z.number().optional(),
  scale: z.number().optional(),
  mean: z.union([z.number(), z.array(z.number())]).optional(),
  std: z.union([z.number(), z.array(z.number())]).optional(),
  raw: z.boolean().optional(),
  // samples.json spells layouts/colors this way too
  description: z.string().optional(),
});

export type PreprocessSpec = z.infer<typeof schema>;

/**
 * Whether a spec asks for anything: an empty one (the browser form with nothing chosen, `{}` from a
 * file) must behave like no spec at all, so an array that already fits is fed as it is in both places.
 */
export function hasPreprocess(pre: PreprocessSpec | undefined): pre is PreprocessSpec {
  return !!pre && Object.entries(pre).some(([k, v]) => k !== 'description' && v !== undefined);
}

export function parsePreprocess(source: string | unknown): PreprocessSpec {
  let json = source;
  if (typeof source === 'string') {
    try {
      json = JSON.parse(source);
    } catch (e) {
      throw new InputError(`preprocess file is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (json && typeof json === 'object' && typeof (json as { color?: unknown }).color === 'string')
    json = { ...(json as object), color: (json as { color: string }).color.toLowerCase() };
  const r = schema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    const what = i.code === 'invalid_value' ? `expected one of ${i.values.map(String).join(', ')}`
      : i.code === 'unrecognized_keys' ? `unknown field ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message;
    throw new InputError(`preprocess: ${i.path.join('.') || '(top level)'}: ${what}`);
  }
  return r.data;
}

/** The model input a sample must match: per-sample shape in the model's layout (no batch axis). */
export interface InputSpec {
  readonly name: string;
  readonly layout: 'NCHW' | 'NHWC' | 'flat';
  /** Per-sample shape, e.g. [1, 28, 28] for NCHW. */
  readonly sampleShape: readonly number[];
  /** The batch size the model fixes, or undefined when the batch axis is symbolic. */
  readonly fixedBatch?: number;
}

/** Guess the layout from a model input shape (batch axis included; symbolic dims as strings). */
export function inputSpecFromShape(name: string, shape: readonly (number | string)[], layout?: 'NCHW' | 'NHWC'): InputSpec {
  const fixedBatch = typeof shape[0] === 'number' && shape[0] > 0 ? shape[0] : undefined;
  const sample = shape.slice(1).map((d) => (typeof d === 'number' && d > 0 ? d : -1));
  if (sample.length !== 3) return { name, layout: 'flat', sampleShape: sample, fixedBatch };
  const chFirst = sample[0] === 1 || sample[0] === 3;
  const chLast = sample[2] === 1 || sample[2] === 3;
  const guess = layout ?? (chFirst ? 'NCHW' : chLast ? 'NHWC' : 'NCHW');
  return { name, layout: guess, sampleShape: sample, fixedBatch };
}

export function channelsOf(spec: InputSpec): number {
  return spec.layout === 'NHWC' ? spec.sampleShape[2] : spec.sampleShape[0];
}

/** A float image, interleaved HWC. */
export interface FloatImage {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Float32Array;
}

/** Bilinear resize with half-pixel centres and edge clamping (OpenCV INTER_LINEAR without antialiasing). */
export function resizeBilinear(img: FloatImage, outH: number, outW: number): FloatImage {
  const { width: w, height: h, channels: c, data } = img;
  if (w === outW && h === outH) return img;
  const out = new Float32Array(outH * outW * c);
  const sy = h / outH;
  const sx = w / outW;
  for (let y = 0; y < outH; y++) {
    let fy = (y + 0.5) * sy - 0.5;
    if (fy < 0) fy = 0;
    const y0 = Math.min(Math.floor(fy), h - 1);
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = fy - y0;
    for (let x = 0; x < outW; x++) {
      let fx = (x + 0.5) * sx - 0.5;
      if (fx < 0) fx = 0;
      const x0 = Math.min(Math.floor(fx), w - 1);
      const x1 = Math.min(x0 + 1, w - 1);
      const wx = fx - x0;
      for (let k = 0; k < c; k++) {
        const a = data[(y0 * w + x0) * c + k];
        const b = data[(y0 * w + x1) * c + k];
        const d = data[(y1 * w + x0) * c + k];
        const e = data[(y1 * w + x1) * c + k];
        const top = a + (b - a) * wx;
        const bot = d + (e - d) * wx;
        out[(y * outW + x) * c + k] = top + (bot - top) * wy;
      }
    }
  }
  return { width: outW, height: outH, channels: c, data: out };
}

/** Scale to fit inside outH×outW keeping the aspect ratio, centred on a `pad` border. */
export function letterbox(img: FloatImage, outH: number, outW: number, pad = 0): FloatImage {
  const r = Math.min(outH / img.height, outW / img.width);
  const nh = Math.max(1, Math.round(img.height * r));
  const nw = Math.max(1, Math.round(img.width * r));
  const inner = resizeBilinear(img, nh, nw);
  const c = img.channels;
  const out = new Float32Array(outH * outW * c).fill(pad);
  const top = Math.floor((outH - nh) / 2);
  const left = Math.floor((outW - nw) / 2);
  for (let y = 0; y < nh; y++) out.set(inner.data.subarray(y * nw * c, (y + 1) * nw * c), ((top + y) * outW + left) * c);
  return { width: outW, height: outH, channels: c, data: out };
}

/** Convert channel count: RGB→gray (ITU-R 601 luma), gray→RGB (replicate). */
export function toChannels(img: FloatImage, channels: number): FloatImage {
  if (img.channels === channels) return img;
  const n = img.width * img.height;
  const out = new Float32Array(n * channels);
  if (channels === 1 && img.channels >= 3) {
    for (let i = 0; i < n; i++) {
      const p = i * img.channels;
      out[i] = 0.299 * img.data[p] + 0.587 * img.data[p + 1] + 0.114 * img.data[p + 2];
    }
  } else if (img.channels === 1) {
    for (let i = 0; i < n; i++) for (let k = 0; k < channels; k++) out[i * channels + k] = img.data[i];
  } else {
    throw new InputError(`cannot convert a ${img.channels}-channel image to ${channels} channels`);
  }
  return { ...img, channels, data: out };
}

function perChannel(v: number | number[] | undefined, c: number, fallback: number, what: string): number[] {
  if (v === undefined) return new Array(c).fill(fallback);
  if (typeof v === 'number') return new Array(c).fill(v);
  if (v.length === 1) return new Array(c).fill(v[0]);
  if (v.length !== c) throw new InputError(`preprocess: ${what} has ${v.length} values, the model input has ${c} channels`);
  return v;
}

/** Image → one model sample (flat Float32Array in the model's layout). */
export function imageToSample(img: FloatImage, spec: InputSpec, pre: PreprocessSpec = {}): Float32Array {
  if (spec.layout === 'flat') throw new InputError(`model input "${spec.name}" is not an image (shape ${spec.sampleShape.join('×')})`);
  const layout = pre.layout ?? spec.layout;
  const s = spec.sampleShape;
  const c = layout === 'NHWC' ? s[2] : s[0];
  let [h, w] = layout === 'NHWC' ? [s[0], s[1]] : [s[1], s[2]];
  if (pre.size) [h, w] = pre.size;
  if (h < 0) h = img.height;
  if (w < 0) w = img.width;
  let x = toChannels(img, c);
  if (pre.color === 'bgr' && c === 3) {
    const d = Float32Array.from(x.data);
    for (let i = 0; i < d.length; i += 3) { d[i] = x.data[i + 2]; d[i + 2] = x.data[i]; }
    x = { ...x, data: d };
  }
  x = pre.resize === 'letterbox' ? letterbox(x, h, w, pre.pad_value ?? 0) : resizeBilinear(x, h, w);
  const scale = pre.raw ? 1 : pre.scale ?? 1;
  const mean = pre.raw ? new Array(c).fill(0) : perChannel(pre.mean, c, 0, 'mean');
  const std = pre.raw ? new Array(c).fill(1) : perChannel(pre.std, c, 1, 'std');
  const out = new Float32Array(h * w * c);
  for (let i = 0; i < h * w; i++)
    for (let k = 0; k < c; k++) {
      const v = (x.data[i * c + k] * scale - mean[k]) / std[k];
      out[layout === 'NHWC' ? i * c + k : k * h * w + i] = v;
    }
  return out;
}
