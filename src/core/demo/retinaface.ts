// RetinaFace decode (the MobileNet-0.25 RetinaFace of biubug6/Pytorch_Retinaface, which the shipped
// Vitis AI QDQ model is): priors, box and landmark regression, NMS. Spelled out so the Demo view,
// `fixpoint simulate --task detect-retinaface` and a Python port apply the same rule.
//
// Outputs: loc [1, A, 4], conf [1, A, 2] (background, face; the shipped model ends in a Softmax, raw
// logits are detected and softmaxed here), landmarks [1, A, 10]. A = Σ over steps s = 8, 16, 32 of
// ⌈H/s⌉·⌈W/s⌉·2: per step, rows (y) outer, columns (x) inner, then the two min sizes of that step
// ([16, 32], [64, 128], [256, 512]). Prior (normalised to the input): cx = (x + ½)·s/W, cy = (y + ½)·s/H,
// pw = min/W, ph = min/H. With variances v0 = 0.1, v1 = 0.2:
//   cx' = cx + l0·v0·pw   cy' = cy + l1·v0·ph   w = pw·exp(l2·v1)   h = ph·exp(l3·v1)
//   box = [cx' − w/2, cy' − h/2, cx' + w/2, cy' + h/2]·[W, H, W, H]         (input pixels)
//   landmark k = (cx + m[2k]·v0·pw, cy + m[2k+1]·v0·ph)·[W, H]
// score = conf[1]; keep score ≥ threshold; greedy NMS at IoU 0.4 (one class), best first.
// Upstream applies NMS after scaling to pixels, as here; its display threshold is 0.6.
import { InputError } from '../errors';
import type { FloatTensor } from '../ir';
import { nmsPerClass, type Detection } from './yolox';

export const RETINAFACE_MIN_SIZES: readonly (readonly number[])[] = [[16, 32], [64, 128], [256, 512]];
export const RETINAFACE_STEPS: readonly number[] = [8, 16, 32];
export const RETINAFACE_VARIANCE = [0.1, 0.2] as const;
export const RETINAFACE_NMS = 0.4;

/**
 * The shipped model's input rule (AMD's RyzenAI-SW retinaface demo: cv2.imread, resize to the input,
 * subtract the BGR means 104, 117, 123, no scaling, NCHW).
 */
export const RETINAFACE_PREPROCESS = { layout: 'NCHW', color: 'bgr', resize: 'stretch', scale: 1, mean: [104, 117, 123] } as const;

/** Priors as [cx, cy, w, h] rows, normalised to the input size. */
export function retinaFacePriors(inputH: number, inputW: number): Float32Array {
  const rows: number[] = [];
  RETINAFACE_STEPS.forEach((s, k) => {
    const fh = Math.ceil(inputH / s);
    const fw = Math.ceil(inputW / s);
    for (let y = 0; y < fh; y++)
      for (let x = 0; x < fw; x++)
        for (const m of RETINAFACE_MIN_SIZES[k]) rows.push(((x + 0.5) * s) / inputW, ((y + 0.5) * s) / inputH, m / inputW, m / inputH);
  });
  return Float32Array.from(rows);
}

export interface RetinaFaceOutputs {
  readonly loc: FloatTensor;
  readonly conf: FloatTensor;
  readonly landmarks: FloatTensor;
}

/** The three outputs by their last axis (4, 2, 10) and a shared anchor count; undefined if not this form. */
export function findRetinaFaceOutputs(outputs: Readonly<Record<string, FloatTensor>>): { names: [string, string, string]; outputs: RetinaFaceOutputs } | undefined {
  const by = (n: number) => Object.entries(outputs).filter(([, t]) => t.shape.length === 3 && t.shape[0] === 1 && t.shape[2] === n);
  for (const [ln, loc] of by(4))
    for (const [cn, conf] of by(2))
      for (const [mn, landmarks] of by(10))
        if (loc.shape[1] === conf.shape[1] && conf.shape[1] === landmarks.shape[1]) return { names: [ln, cn, mn], outputs: { loc, conf, landmarks } };
  return undefined;
}

export interface RetinaFaceOptions {
  readonly inputH: number;
  readonly inputW: number;
  readonly scoreThreshold?: number;
  readonly nmsThreshold?: number;
}

/** Face boxes (class 0) with five landmarks each, in the model input's pixels, after NMS, best first. */
export function decodeRetinaFace(o: RetinaFaceOutputs, opt: RetinaFaceOptions): Detection[] {
  const { inputH: H, inputW: W } = opt;
  const priors = retinaFacePriors(H, W);
  const a = priors.length / 4;
  const ok = (t: FloatTensor, n: number) => t.shape.length === 3 && t.shape[0] === 1 && t.shape[1] === a && t.shape[2] === n && t.data.length === a * n;
  if (!ok(o.loc, 4) || !ok(o.conf, 2) || !ok(o.landmarks, 10))
    throw new InputError(`RetinaFace outputs have shapes [${o.loc.shape.join(', ')}], [${o.conf.shape.join(', ')}], [${o.landmarks.shape.join(', ')}]; a ${H}×${W} input gives [1, ${a}, 4], [1, ${a}, 2], [1, ${a}, 10]`);
  const c = o.conf.data;
  // A Softmax output lies in [0, 1] with rows summing to 1; anything else is logits.
  let logits = false;
  for (let i = 0; i < a && !logits; i++) logits = c[2 * i] < 0 || c[2 * i + 1] < 0 || Math.abs(c[2 * i] + c[2 * i + 1] - 1) > 1e-3;
  const threshold = opt.scoreThreshold ?? 0.02;
  const [v0, v1] = RETINAFACE_VARIANCE;
  const found: Detection[] = [];
  for (let i = 0; i < a; i++) {
    const score = logits ? 1 / (1 + Math.exp(c[2 * i] - c[2 * i + 1])) : c[2 * i + 1];
    if (!(score >= threshold)) continue;
    const [pcx, pcy, pw, ph] = priors.subarray(4 * i, 4 * i + 4);
    const l = o.loc.data.subarray(4 * i, 4 * i + 4);
    const cx = pcx + l[0] * v0 * pw;
    const cy = pcy + l[1] * v0 * ph;
    const w = pw * Math.exp(l[2] * v1);
    const h = ph * Math.exp(l[3] * v1);
    const m = o.landmarks.data.subarray(10 * i, 10 * i + 10);
    const landmarks: [number, number][] = [];
    for (let k = 0; k < 5; k++) landmarks.push([(pcx + m[2 * k] * v0 * pw) * W, (pcy + m[2 * k + 1] * v0 * ph) * H]);
    found.push({ classId: 0, score, box: [(cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H], landmarks });
  }
  return nmsPerClass(found, opt.nmsThreshold ?? RETINAFACE_NMS);
}
