// RetinaFace decode + NMS against a plain reference written the way Pytorch_Retinaface's PriorBox,
// decode, decode_landm and py_cpu_nms read (itertools-style prior list, whole-array formulas, O(n²)
// suppression), on a known synthetic output; and the shipped Vitis model through the CLI on the
// astronaut photo: one face, float and int8.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { FloatTensor } from '../../src/core/ir';
import { decodeRetinaFace, findRetinaFaceOutputs, retinaFacePriors } from '../../src/core/demo/retinaface';
import { toImageBoxes } from '../../src/core/demo/yolox';
import { readout } from '../../src/core/demo/readout';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** PriorBox.forward: product over feature-map cells, then min sizes. */
function refPriors(h: number, w: number): number[][] {
  const minSizes = [[16, 32], [64, 128], [256, 512]];
  const steps = [8, 16, 32];
  const anchors: number[][] = [];
  steps.forEach((step, k) => {
    const fm = [Math.ceil(h / step), Math.ceil(w / step)];
    for (let i = 0; i < fm[0]; i++)
      for (let j = 0; j < fm[1]; j++)
        for (const ms of minSizes[k]) anchors.push([(j + 0.5) * step / w, (i + 0.5) * step / h, ms / w, ms / h]);
  });
  return anchors;
}

interface Ref { score: number; box: number[]; lm: number[]; idx: number }

function reference(loc: Float32Array, conf: Float32Array, lms: Float32Array, h: number, w: number, thr: number, nmsThr: number): Ref[] {
  const pr = refPriors(h, w);
  const v = [0.1, 0.2];
  const cands: Ref[] = [];
  pr.forEach((p, i) => {
    const score = conf[2 * i + 1];
    if (score < thr) return;
    const l = Array.from(loc.subarray(4 * i, 4 * i + 4));
    const c = [p[0] + l[0] * v[0] * p[2], p[1] + l[1] * v[0] * p[3]];
    const s = [p[2] * Math.exp(l[2] * v[1]), p[3] * Math.exp(l[3] * v[1])];
    const x1 = c[0] - s[0] / 2, y1 = c[1] - s[1] / 2;
    const box = [x1 * w, y1 * h, (x1 + s[0]) * w, (y1 + s[1]) * h];
    const m = Array.from(lms.subarray(10 * i, 10 * i + 10));
    const lm = m.map((d, k) => (k % 2 === 0 ? (p[0] + d * v[0] * p[2]) * w : (p[1] + d * v[0] * p[3]) * h));
    cands.push({ score, box, lm, idx: i });
  });
  cands.sort((a, b) => b.score - a.score || a.idx - b.idx);
  const area = (b: number[]) => (b[2] - b[0]) * (b[3] - b[1]);
  const keep: Ref[] = [];
  for (const c of cands) {
    const clash = keep.some((k) => {
      const iw = Math.max(0, Math.min(k.box[2], c.box[2]) - Math.max(k.box[0], c.box[0]));
      const ih = Math.max(0, Math.min(k.box[3], c.box[3]) - Math.max(k.box[1], c.box[1]));
      return (iw * ih) / (area(k.box) + area(c.box) - iw * ih) > nmsThr;
    });
    if (!clash) keep.push(c);
  }
  return keep;
}

/** A softmaxed output of A anchors: background mostly, a cluster of faces around a few anchors. */
function synthetic(h: number, w: number, seed: number) {
  const r = rng(seed);
  const a = refPriors(h, w).length;
  const loc = new Float32Array(a * 4).map(() => (r() - 0.5) * 2);
  const lms = new Float32Array(a * 10).map(() => (r() - 0.5) * 4);
  const conf = new Float32Array(a * 2);
  for (let i = 0; i < a; i++) {
    // Neighbouring anchors share high scores so NMS has overlaps to suppress.
    const face = i % 97 < 6 ? 0.3 + 0.7 * r() : 0.05 * r();
    conf[2 * i] = 1 - face;
    conf[2 * i + 1] = face;
  }
  const t = (data: Float32Array, n: number): FloatTensor => ({ shape: [1, a, n], data });
  return { a, loc: t(loc, 4), conf: t(conf, 2), landmarks: t(lms, 10) };
}

describe('RetinaFace priors and decode', () => {
  it('priors: 4200 for the shipped 320×320 input, the reference list exactly', () => {
    const p = retinaFacePriors(320, 320);
    expect(p.length / 4).toBe(4200);
    expect(Array.from(p)).toEqual(refPriors(320, 320).flat().map(Math.fround));
    // ⌈H/s⌉ on a size that is no multiple of 32: 300×200 → (38·25 + 19·13 + 10·7)·2.
    expect(retinaFacePriors(300, 200).length / 4).toBe((38 * 25 + 19 * 13 + 10 * 7) * 2);
  });

  for (const [h, w, seed] of [[320, 320, 1], [240, 320, 7]] as const) {
    it(`boxes, scores and landmarks match the reference after NMS (${h}×${w})`, () => {
      const o = synthetic(h, w, seed);
      const got = decodeRetinaFace(o, { inputH: h, inputW: w, scoreThreshold: 0.2 });
      const want = reference(o.loc.data, o.conf.data, o.landmarks.data, h, w, 0.2, 0.4);
      expect(want.length).toBeGreaterThan(5);
      // Suppression did something: fewer kept than candidates above the threshold.
      expect(want.length).toBeLessThan(Array.from({ length: o.a }, (_, i) => o.conf.data[2 * i + 1]).filter((s) => s >= 0.2).length);
      expect(got).toHaveLength(want.length);
      got.forEach((d, i) => {
        expect(d.classId).toBe(0);
        expect(d.score).toBeCloseTo(want[i].score, 6);
        d.box.forEach((v, k) => expect(v).toBeCloseTo(want[i].box[k], 3));
        expect(d.landmarks).toHaveLength(5);
        d.landmarks!.flat().forEach((v, k) => expect(v).toBeCloseTo(want[i].lm[k], 3));
      });
    });
  }

  it('raw logits are softmaxed: the same faces as the probabilities they stand for', () => {
    const o = synthetic(320, 320, 3);
    const logits = new Float32Array(o.conf.data.length);
    for (let i = 0; i < o.a; i++) { logits[2 * i] = 0; logits[2 * i + 1] = Math.log(o.conf.data[2 * i + 1] / o.conf.data[2 * i]); }
    const a = decodeRetinaFace(o, { inputH: 320, inputW: 320, scoreThreshold: 0.5 });
    const b = decodeRetinaFace({ ...o, conf: { shape: o.conf.shape, data: logits } }, { inputH: 320, inputW: 320, scoreThreshold: 0.5 });
    expect(b.map((d) => d.box)).toEqual(a.map((d) => d.box));
    b.forEach((d, i) => expect(d.score).toBeCloseTo(a[i].score, 5));
  });

  it('finds the outputs by shape whatever their order, refuses a wrong anchor count by name', () => {
    const o = synthetic(320, 320, 2);
    const f = findRetinaFaceOutputs({ lm: o.landmarks, c: o.conf, l: o.loc, other: { shape: [1, 5], data: new Float32Array(5) } });
    expect(f?.names).toEqual(['l', 'c', 'lm']);
    expect(findRetinaFaceOutputs({ l: o.loc, c: o.conf })).toBeUndefined();
    expect(() => decodeRetinaFace(o, { inputH: 640, inputW: 640 })).toThrow(/a 640×640 input gives \[1, 16800, 4\]/);
    expect(() => readout('detect-retinaface', { x: { shape: [1, 10], data: new Float32Array(10) } }, { inputH: 320, inputW: 320 })).toThrow(/RetinaFace's form/);
  });

  it('landmarks go back to the image with the box (stretch)', () => {
    const [d] = toImageBoxes([{ classId: 0, score: 1, box: [10, 20, 30, 40], landmarks: [[15, 25], [20, 30], [0, 0], [1, 1], [2, 2]] }], { imageW: 640, imageH: 480, inputW: 320, inputH: 320, resize: 'stretch' });
    expect(d.box).toEqual([20, 30, 60, 60]);
    expect(d.landmarks![0]).toEqual([30, 37.5]);
    expect(d.landmarks![1]).toEqual([40, 45]);
  });
});

describe('fixpoint simulate --task detect-retinaface', () => {
  it('the shipped Vitis model finds the astronaut\'s face in float and int8, with five landmarks inside the box', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/cli/main.ts', 'simulate', 'public/models/retinaface_vitis_qdq.onnx', '--input', 'public/demo/astronaut.png', '--task', 'detect-retinaface', '--json'], { timeout: 180_000 });
    const j = JSON.parse(stdout);
    expect(j.task).toBe('detect-retinaface');
    for (const side of [j.float, j.int8]) {
      expect(side).toHaveLength(1);
      const [f] = side;
      expect(Object.keys(f).sort()).toEqual(['box', 'label', 'landmarks', 'score']);
      expect(f.label).toBe('face');
      expect(f.score).toBeGreaterThan(0.9);
      // The face in skimage's astronaut photo (512×512) lies about x 180…275, y 60…180.
      const [x1, y1, x2, y2] = f.box;
      expect(x1).toBeGreaterThan(160); expect(x2).toBeLessThan(295);
      expect(y1).toBeGreaterThan(40); expect(y2).toBeLessThan(200);
      expect(f.landmarks).toHaveLength(5);
      for (const [x, y] of f.landmarks) { expect(x).toBeGreaterThan(x1); expect(x).toBeLessThan(x2); expect(y).toBeGreaterThan(y1); expect(y).toBeLessThan(y2); }
      // Left eye left of the right eye, nose below the eyes, mouth below the nose.
      const [le, re, nose, ml, mr] = f.landmarks;
      expect(le[0]).toBeLessThan(re[0]);
      expect(nose[1]).toBeGreaterThan(Math.max(le[1], re[1]));
      expect(Math.min(ml[1], mr[1])).toBeGreaterThan(nose[1]);
    }
  }, 200_000);
});
