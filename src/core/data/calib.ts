// Calibration samples from arrays (.npy/.npz) or encoded images, batched as model feeds.
import { InputError } from '../errors';
import type { FloatTensor } from '../ir/tensor';
import { decodeImage, isJpeg, isPng, type Image8 } from './image';
import { isNpy, isZip, memorySource, openNpy, parseNpz, type ByteSource, type NdArray, type NpyData, type NpyReader } from './npy';
import { hasPreprocess, imageToSample, type FloatImage, type InputSpec, type PreprocessSpec } from './preprocess';

/** A finite, indexable set of samples, each a flat Float32Array of the model's per-sample shape. */
export interface SampleSet {
  readonly count: number;
  readonly sampleShape: readonly number[];
  /** The values go to the model unchanged (at most their axes reordered): no preprocessing applied. */
  readonly asIs: boolean;
  sample(i: number): Float32Array;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => b[i] < 0 || d === b[i]);
}

const fmt = (s: readonly number[]) => `(${s.map((d) => (d < 0 ? '?' : d)).join(', ')})`;

/** How each item of an array is laid out when it is read as an image. */
function imageView(per: readonly number[]): { h: number; w: number; c: number; chw: boolean } | undefined {
  if (per.length === 2) return { h: per[0], w: per[1], c: 1, chw: false };
  if (per.length !== 3) return undefined;
  // RGBA (4) last is checked after channels-first so a 4-pixel-wide CHW image is not read as RGBA.
  if ([1, 3].includes(per[2])) return { h: per[0], w: per[1], c: per[2], chw: false };
  if ([1, 3].includes(per[0])) return { h: per[1], w: per[2], c: per[0], chw: true };
  if (per[2] === 4) return { h: per[0], w: per[1], c: 4, chw: false };
  return undefined;
}

/**
 * Samples from an array whose first axis counts samples. An array whose per-sample shape already is the
 * model's is fed as is, unless a preprocess spec asks for something; other layouts (N,H,W), (N,H,W,C),
 * (N,C,H,W) are read as images. Reordering axes is lossless and always done, but resizing or changing
 * the channel count of an array happens only when the spec asks for it (resize/size, color): a
 * calibration set silently squeezed into the wrong shape calibrates the wrong distribution.
 */
export function samplesFromArray(a: NdArray | NpyReader, spec: InputSpec, pre?: PreprocessSpec, name = 'array'): SampleSet {
  if (a.shape.length < 1) throw new InputError(`${name}: a scalar cannot be calibration data`);
  const count = a.shape[0];
  const per = a.shape.slice(1);
  const perN = per.reduce((x, y) => x * y, 1);
  const raw = 'data' in a ? (i: number) => a.data.subarray(i * perN, (i + 1) * perN) : windowed(a, count, perN);
  // Each sample is converted to float32 when it is read, never the whole array: a uint8 image set as
  // float32 would take 4× its bytes however few samples a calibration count keeps.
  const values = (i: number): Float32Array => {
    const d = raw(i);
    return d instanceof BigInt64Array ? Float32Array.from(d, (v) => Number(v)) : Float32Array.from(d as ArrayLike<number>);
  };
  const want = spec.sampleShape;
  const wantN = want.every((d) => d > 0) ? want.reduce((x, y) => x * y, 1) : -1;
  const given = hasPreprocess(pre) ? pre : undefined;
  const matches = sameShape(per, want);
  if (!given && matches) {
    return { count, sampleShape: per, asIs: true, sample: values };
  }
  const view = spec.layout === 'flat' ? undefined : imageView(per);
  if (!view) {
    if (spec.layout === 'flat' && perN === wantN)
      return { count, sampleShape: want, asIs: true, sample: values };
    if (matches)
      throw new InputError(`${name}: samples of shape ${fmt(per)} already fit model input "${spec.name}" but are not images, so the preprocessing cannot apply; clear it to feed them as they are`);
    throw new InputError(`${name}: samples of shape ${fmt(per)} do not fit model input "${spec.name}" of shape ${fmt(want)}`);
  }
  const missing = conversionsNeeded(view, spec, given);
  if (missing.length > 0) {
    const model = [spec.fixedBatch ?? 'N', ...want.map((d) => (d < 0 ? '?' : d))].join('×');
    throw new InputError(`${name}: samples are ${fmt(per)} but the model input "${spec.name}" is ${model}; set ${missing.join(' and ')} in the preprocessing to convert them`);
  }
  const toImage = (i: number): FloatImage => {
    const src = values(i);
    if (!view.chw) return { width: view.w, height: view.h, channels: view.c, data: src };
    const hw = view.h * view.w;
    const d = new Float32Array(perN);
    for (let k = 0; k < view.c; k++) for (let p = 0; p < hw; p++) d[p * view.c + k] = src[k * hw + p];
    return { width: view.w, height: view.h, channels: view.c, data: d };
  };
  const dropAlpha = (img: FloatImage): FloatImage => {
    if (img.channels !== 4) return img;
    const n = img.width * img.height;
    const d = new Float32Array(n * 3);
    for (let p = 0; p < n; p++) for (let k = 0; k < 3; k++) d[p * 3 + k] = img.data[p * 4 + k];
    return { ...img, channels: 3, data: d };
  };
  const first = imageToSample(dropAlpha(toImage(0)), spec, given);
  // Without a spec nothing but the axis order changed (conversionsNeeded refused the rest).
  return { count, sampleShape: shapeOfSample(spec, first.length), asIs: !given, sample: (i) => (i === 0 ? first : imageToSample(dropAlpha(toImage(i)), spec, given)) };
}

/** Samples read per trip to the source: one default batch, at most about 8 MB. */
const WINDOW_SAMPLES = 16;
const WINDOW_BYTES = 8 << 20;

/**
 * Sample i of an array read from its source a window of consecutive samples at a time: passes walk the
 * samples in order, so one read serves a batch, and only the window is held, whatever the file's size.
 */
function windowed(a: NpyReader, count: number, perN: number): (i: number) => NpyData {
  const itemBytes = Math.max(1, perN * a.bytesPerElement);
  const span = Math.max(1, Math.min(WINDOW_SAMPLES, Math.floor(WINDOW_BYTES / itemBytes)));
  let from = -1;
  let block: NpyData | undefined;
  return (i) => {
    if (!block || i < from || i >= from + block.length / Math.max(1, perN)) {
      from = i;
      block = a.read(i * perN, Math.min(span, count - i) * perN);
    }
    return block.subarray((i - from) * perN, (i - from + 1) * perN);
  };
}

/** The lossy steps an array read as images would need to reach the model's shape, which the spec does not ask for. */
function conversionsNeeded(view: { h: number; w: number; c: number }, spec: InputSpec, pre: PreprocessSpec | undefined): string[] {
  const layout = pre?.layout ?? spec.layout;
  const s = spec.sampleShape;
  const c = layout === 'NHWC' ? s[2] : s[0];
  let [h, w] = layout === 'NHWC' ? [s[0], s[1]] : [s[1], s[2]];
  if (pre?.size) [h, w] = pre.size;
  const out: string[] = [];
  if (((h > 0 && h !== view.h) || (w > 0 && w !== view.w)) && pre?.resize === undefined && pre?.size === undefined) out.push('a resize');
  if (c > 0 && c !== view.c && pre?.color === undefined) out.push('a colour conversion');
  return out;
}

function shapeOfSample(spec: InputSpec, n: number): number[] {
  const known = spec.sampleShape.filter((d) => d > 0).reduce((a, b) => a * b, 1);
  const missing = spec.sampleShape.filter((d) => d < 0).length;
  if (missing === 0) return [...spec.sampleShape];
  // Symbolic spatial dims take the preprocessed size: split the remainder evenly is impossible in
  // general, so only the common square case is resolved.
  const rest = n / known;
  const side = missing === 2 ? Math.round(Math.sqrt(rest)) : rest;
  return spec.sampleShape.map((d) => (d > 0 ? d : side));
}

function toFloatImage(img: Image8): FloatImage {
  return { width: img.width, height: img.height, channels: img.channels, data: Float32Array.from(img.data) };
}

/** Samples from encoded PNG/JPEG files (decoded lazily, one at a time). */
export function samplesFromImages(files: readonly { name: string; bytes: Uint8Array }[], spec: InputSpec, pre?: PreprocessSpec): SampleSet {
  if (files.length === 0) throw new InputError('no calibration images');
  const get = (i: number) => imageToSample(toFloatImage(decodeImage(files[i].bytes, files[i].name)), spec, pre);
  const first = get(0);
  return { count: files.length, sampleShape: shapeOfSample(spec, first.length), asIs: false, sample: (i) => (i === 0 ? first : get(i)) };
}

export function limitSamples(s: SampleSet, n: number | undefined): SampleSet {
  return n === undefined || n >= s.count ? s : { ...s, count: Math.max(0, n) };
}

/** Feeds of `batchSize` samples (the model's fixed batch when it has one; the last batch may be short). */
export function* batches(s: SampleSet, spec: InputSpec, batchSize = 16): Generator<Record<string, FloatTensor>> {
  const b = spec.fixedBatch ?? batchSize;
  const per = s.sampleShape.reduce((x, y) => x * y, 1);
  for (let start = 0; start < s.count; start += b) {
    const n = spec.fixedBatch ?? Math.min(b, s.count - start);
    if (start + n > s.count) break; // a fixed batch cannot be padded without skewing statistics
    const data = new Float32Array(n * per);
    for (let i = 0; i < n; i++) data.set(s.sample(start + i), i * per);
    yield { [spec.name]: { shape: [n, ...s.sampleShape], data } };
  }
}

/** A calibration file: its bytes (the browser), or a source read on demand (the CLI, for large arrays). */
export type DataFile = { readonly name: string; readonly bytes: Uint8Array } | { readonly name: string; readonly source: ByteSource };

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/**
 * Calibration samples from user files, as the app and the CLI both receive them: one .npy, one .npz
 * (the array named like the model input, else its only/first array), or any number of PNG/JPEG images.
 */
export function samplesFromFiles(given: readonly DataFile[], spec: InputSpec, pre?: PreprocessSpec): SampleSet {
  if (given.length === 0) throw new InputError('no calibration files (expected a .npy, a .npz or PNG/JPEG images)');
  // A file on disk is read whole unless it is an .npy, whose samples are read as they are used.
  const lazy = given.map((f) => ('bytes' in f ? undefined : f.source.size >= 10 && isNpy(f.source.read(0, 6)) ? f.source : undefined));
  const files = given.map((f, i) => ('bytes' in f ? f : { name: f.name, bytes: lazy[i] ? f.source.read(0, 6) : f.source.read(0, f.source.size) }));
  const arrays = files.filter((f) => isNpy(f.bytes) || (isZip(f.bytes) && /\.npz$/i.test(f.name)));
  if (arrays.length > 0) {
    if (files.length > 1) throw new InputError(`give one .npy/.npz file or a folder of images, not ${files.length} files`);
    const f = arrays[0];
    if (isNpy(f.bytes)) return samplesFromArray(openNpy(lazy[0] ?? memorySource(f.bytes), f.name), spec, pre, f.name);
    const z = parseNpz(f.bytes, f.name);
    const key = z.has(spec.name) ? spec.name : [...z.keys()][0];
    return samplesFromArray(z.get(key)!, spec, pre, `${f.name}/${key}`);
  }
  const images = files.filter((f) => IMAGE_EXT.test(f.name) || isPng(f.bytes) || isJpeg(f.bytes));
  if (images.length === 0) throw new InputError(`no calibration data among ${files.length} file(s): expected .npy, .npz, PNG or JPEG`);
  return samplesFromImages(images, spec, pre);
}
