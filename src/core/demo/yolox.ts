// YOLOX decode and non-maximum suppression: the rule the Demo view, `fixpoint simulate --task detect-yolox`
// and the board's Python deployment script (issue 12) must all apply identically, so it is spelled out here.
//
// Output: [1, A, 5 + C] with A = Σ over strides s of (H/s)·(W/s) anchors, stride 8 first, each grid
// row-major (y outer, x inner). Row p of anchor (gx, gy) at stride s:
//   cx = (p[0] + gx)·s   cy = (p[1] + gy)·s   w = exp(p[2])·s   h = exp(p[3])·s      (input pixels)
//   score(c) = obj · cls[c] with obj = p[4], cls = p[5..]; the shipped yolox_nano.onnx already applies the
//   sigmoid to both (values in [0, 1]); an export with raw logits is recognised and σ applied here.
// Each anchor keeps its best class only (YOLOX's demo postprocess), if its score ≥ the threshold; then
// greedy NMS per class: by descending score (ties: lower anchor index first), drop a box whose IoU with a
// kept box of the same class exceeds the NMS threshold (0.45). Finally boxes go back to the image's pixels
// through the preprocessing's resize (letterbox: centred, src/core/data/preprocess.ts) and are clipped.
import { InputError } from '../errors';

export type Box = [x1: number, y1: number, x2: number, y2: number];

export interface Detection {
  readonly classId: number;
  readonly score: number;
  /** x1, y1, x2, y2. */
  readonly box: Box;
  /** Face landmarks (x, y) of a RetinaFace detection (retinaface.ts), mapped with the box. */
  readonly landmarks?: readonly (readonly [number, number])[];
}

export interface YoloxOptions {
  /** Model input height and width in pixels. */
  readonly inputH: number;
  readonly inputW: number;
  readonly strides?: readonly number[];
  readonly scoreThreshold?: number;
  readonly nmsThreshold?: number;
  /** Force (true) or forbid (false) a sigmoid on objectness and class scores; default: detect logits. */
  readonly sigmoid?: boolean;
}

export const YOLOX_STRIDES = [8, 16, 32] as const;
export const YOLOX_NMS = 0.45;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Logits, not probabilities: some objectness or class value lies outside [0, 1]. */
export function scoresAreLogits(out: Float32Array, rowLen: number): boolean {
  for (let i = 0; i < out.length; i += rowLen)
    for (let k = 4; k < rowLen; k++) if (out[i + k] < 0 || out[i + k] > 1) return true;
  return false;
}

export function iou(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy per-class NMS; the input order breaks score ties. */
export function nmsPerClass(dets: readonly Detection[], threshold = YOLOX_NMS): Detection[] {
  const order = dets.map((d, i) => i).sort((i, j) => dets[j].score - dets[i].score || i - j);
  const kept: Detection[] = [];
  for (const i of order) {
    const d = dets[i];
    if (kept.every((k) => k.classId !== d.classId || iou(k.box, d.box) <= threshold)) kept.push(d);
  }
  return kept;
}

/** Boxes in the model input's pixels, after NMS, best first. */
export function decodeYolox(out: Float32Array, shape: readonly number[], o: YoloxOptions): Detection[] {
  const strides = o.strides ?? YOLOX_STRIDES;
  const rowLen = shape[shape.length - 1];
  const anchors = shape.length >= 2 ? shape[shape.length - 2] : 0;
  const grids = strides.map((s) => [Math.floor(o.inputH / s), Math.floor(o.inputW / s)] as const);
  const expected = grids.reduce((n, [h, w]) => n + h * w, 0);
  if (shape.length !== 3 || shape[0] !== 1 || rowLen < 6 || anchors !== expected || out.length !== anchors * rowLen)
    throw new InputError(`YOLOX output has shape [${shape.join(', ')}]; a ${o.inputH}×${o.inputW} input with strides ${strides.join('/')} gives [1, ${expected}, 5 + classes]`);
  const act = (o.sigmoid ?? scoresAreLogits(out, rowLen)) ? sigmoid : (x: number) => x;
  const threshold = o.scoreThreshold ?? 0.3;
  const found: Detection[] = [];
  let a = 0;
  strides.forEach((s, k) => {
    const [gh, gw] = grids[k];
    for (let gy = 0; gy < gh; gy++)
      for (let gx = 0; gx < gw; gx++, a++) {
        const p = a * rowLen;
        const obj = act(out[p + 4]);
        let best = -1;
        let cls = 0;
        for (let c = 5; c < rowLen; c++) {
          const v = act(out[p + c]);
          if (v > best) { best = v; cls = c - 5; }
        }
        const score = obj * best;
        if (score < threshold) continue;
        const cx = (out[p] + gx) * s;
        const cy = (out[p + 1] + gy) * s;
        const w = Math.exp(out[p + 2]) * s;
        const h = Math.exp(out[p + 3]) * s;
        found.push({ classId: cls, score, box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2] });
      }
  });
  return nmsPerClass(found, o.nmsThreshold ?? YOLOX_NMS);
}

/** How the preprocessing placed the image in the model input: the inverse maps boxes back. */
export interface InputPlacement {
  readonly imageW: number;
  readonly imageH: number;
  readonly inputW: number;
  readonly inputH: number;
  readonly resize: 'stretch' | 'letterbox';
}

/** Input-pixel boxes → image-pixel boxes, clipped to the image. Mirrors `letterbox` in preprocess.ts. */
export function toImageBoxes(dets: readonly Detection[], p: InputPlacement): Detection[] {
  let sx: number, sy: number, left = 0, top = 0;
  if (p.resize === 'letterbox') {
    const r = Math.min(p.inputH / p.imageH, p.inputW / p.imageW);
    const nh = Math.max(1, Math.round(p.imageH * r));
    const nw = Math.max(1, Math.round(p.imageW * r));
    top = Math.floor((p.inputH - nh) / 2);
    left = Math.floor((p.inputW - nw) / 2);
    sx = p.imageW / nw;
    sy = p.imageH / nh;
  } else {
    sx = p.imageW / p.inputW;
    sy = p.imageH / p.inputH;
  }
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  return dets.map((d) => ({
    ...d,
    box: [clip((d.box[0] - left) * sx, p.imageW), clip((d.box[1] - top) * sy, p.imageH), clip((d.box[2] - left) * sx, p.imageW), clip((d.box[3] - top) * sy, p.imageH)],
    ...(d.landmarks ? { landmarks: d.landmarks.map(([x, y]) => [(x - left) * sx, (y - top) * sy] as const) } : {}),
  }));
}

/**
 * YOLOX's own input rule (Megvii's `preproc`, no normalisation since v0.1.1): BGR, raw 0..255, letterboxed
 * on grey 114. Ours centres the image (preprocess.ts `letterbox`); YOLOX pads bottom/right only, which
 * shifts boxes by the border but not their sizes, and toImageBoxes undoes whichever placement was used.
 */
export const YOLOX_PREPROCESS = { color: 'bgr', resize: 'letterbox', pad_value: 114, raw: true } as const;
