// YOLOX decode + NMS against a plain reference written the way YOLOX's Python postprocess reads (grids
// built as lists, boxes as objects, O(n²) suppression), and the classification read-out / label mapping.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accuracy, confusion, topK } from '../../src/core/demo/classify';
import { probabilities } from '../../src/core/sim/report';
import { labelFor, parseLabels, shippedLabelFile } from '../../src/core/demo/labels';
import { decodeYolox, toImageBoxes, type Detection } from '../../src/core/demo/yolox';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

interface RefBox { cls: number; score: number; x1: number; y1: number; x2: number; y2: number; idx: number }

function reference(out: Float32Array, size: number, classes: number, thr: number, nmsThr: number, logits: boolean): RefBox[] {
  const grids: { x: number; y: number; s: number }[] = [];
  for (const s of [8, 16, 32]) for (let y = 0; y < size / s; y++) for (let x = 0; x < size / s; x++) grids.push({ x, y, s });
  const row = 5 + classes;
  const f = (v: number) => (logits ? 1 / (1 + Math.exp(-v)) : v);
  const cands: RefBox[] = [];
  grids.forEach((g, i) => {
    const r = Array.from(out.subarray(i * row, (i + 1) * row));
    const cls = r.slice(5).map(f);
    const best = cls.indexOf(Math.max(...cls));
    const score = f(r[4]) * cls[best];
    if (score < thr) return;
    const cx = (r[0] + g.x) * g.s, cy = (r[1] + g.y) * g.s, w = Math.exp(r[2]) * g.s, h = Math.exp(r[3]) * g.s;
    cands.push({ cls: best, score, x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, idx: i });
  });
  cands.sort((a, b) => b.score - a.score || a.idx - b.idx);
  const area = (b: RefBox) => (b.x2 - b.x1) * (b.y2 - b.y1);
  const kept: RefBox[] = [];
  for (const c of cands) {
    const clash = kept.some((k) => {
      if (k.cls !== c.cls) return false;
      const iw = Math.max(0, Math.min(k.x2, c.x2) - Math.max(k.x1, c.x1));
      const ih = Math.max(0, Math.min(k.y2, c.y2) - Math.max(k.y1, c.y1));
      return (iw * ih) / (area(k) + area(c) - iw * ih) > nmsThr;
    });
    if (!clash) kept.push(c);
  }
  return kept;
}

/** A 64×64 input (84 anchors), 3 classes: random rows plus a cluster of overlapping boxes. */
function knownOutput(logits: boolean): Float32Array {
  const r = rng(7);
  const classes = 3, row = 8, anchors = 64 + 16 + 4;
  const out = new Float32Array(anchors * row);
  for (let a = 0; a < anchors; a++) {
    out[a * row] = r(); out[a * row + 1] = r();
    out[a * row + 2] = r() * 2 - 0.5; out[a * row + 3] = r() * 2 - 0.5;
    for (let k = 4; k < 5 + classes; k++) out[a * row + k] = logits ? r() * 8 - 4 : r();
    // Random objects score below 0.6 (sigmoid form), so the cluster below is the only confident one.
    if (!logits) out[a * row + 4] *= 0.6;
  }
  // Neighbouring stride-8 anchors (3,3), (4,3) and the stride-16 anchor (1,1) predicting the same object.
  for (const [a, obj, size] of [[3 * 8 + 3, 0.95, 3], [3 * 8 + 4, 0.9, 3], [64 + 1 * 4 + 1, 0.85, 1.5]] as const) {
    const p = a * row;
    out.set([0.5, 0.5, Math.log(size), Math.log(size), obj, 0.05, 0.97, 0.1], p);
    if (logits) for (let k = 4; k < 8; k++) out[p + k] = Math.log(out[p + k] / (1 - out[p + k]));
  }
  return out;
}

const asRef = (d: Detection[]) => d.map((x) => [x.classId, x.score, ...x.box]);

describe('YOLOX decode', () => {
  for (const logits of [false, true])
    it(`matches the plain reference (${logits ? 'raw logits' : 'sigmoid applied'})`, () => {
      const out = knownOutput(logits);
      const got = decodeYolox(out, [1, 84, 8], { inputH: 64, inputW: 64, scoreThreshold: 0.3 });
      const want = reference(out, 64, 3, 0.3, 0.45, logits);
      expect(want.length).toBeGreaterThan(3);
      expect(got.length).toBe(want.length);
      const w = want.map((b) => [b.cls, b.score, b.x1, b.y1, b.x2, b.y2]);
      asRef(got).forEach((g, i) => g.forEach((v, k) => expect(v).toBeCloseTo(w[i][k], 4)));
    });

  it('keeps one box of the overlapping cluster, at the grid position of the best anchor', () => {
    const got = decodeYolox(knownOutput(false), [1, 84, 8], { inputH: 64, inputW: 64, scoreThreshold: 0.8 });
    const cls1 = got.filter((d) => d.classId === 1 && d.score > 0.85);
    expect(cls1).toHaveLength(1);
    // anchor (3,3) at stride 8: centre (3.5·8, 3.5·8) = 28, size 3·8 = 24
    expect(cls1[0].box.map((v) => +v.toFixed(3))).toEqual([16, 16, 40, 40]);
    expect(cls1[0].score).toBeCloseTo(0.95 * 0.97, 6);
  });

  it('refuses an output that does not fit the input size', () => {
    expect(() => decodeYolox(new Float32Array(85 * 10), [1, 10, 85], { inputH: 416, inputW: 416 })).toThrow(/\[1, 3549, 5 \+ classes\]/);
  });

  it('maps letterboxed boxes back to the image and clips them', () => {
    // 200×100 image into 64×64: scale 0.32, 64×32 inner, 16 px border top and bottom.
    const d: Detection[] = [{ classId: 0, score: 1, box: [0, 16, 32, 48] }, { classId: 0, score: 1, box: [-10, 0, 70, 70] }];
    const img = toImageBoxes(d, { imageW: 200, imageH: 100, inputW: 64, inputH: 64, resize: 'letterbox' });
    expect(img[0].box).toEqual([0, 0, 100, 100]);
    expect(img[1].box).toEqual([0, 0, 200, 100]);
    const st = toImageBoxes([d[0]], { imageW: 200, imageH: 100, inputW: 64, inputH: 64, resize: 'stretch' });
    expect(st[0].box).toEqual([0, 25, 100, 75]);
  });
});

describe('classification read-out and labels', () => {
  it('names classes from a label file, `class N` beyond it', () => {
    const labels = parseLabels('a\nb\r\nc\n\n');
    expect(labels).toEqual(['a', 'b', 'c']);
    expect(labelFor(2, labels)).toBe('c');
    expect(labelFor(3, labels)).toBe('class 3');
    expect(labelFor(0)).toBe('class 0');
    expect(parseLabels('["x", "y"]')).toEqual(['x', 'y']);
    expect(() => parseLabels('[1, 2]', 'l.json')).toThrow(/l\.json: a JSON label file must be an array of strings/);
  });

  it('ships label files for the sample models', () => {
    const file = (m: string) => readFileSync(`public/labels/${shippedLabelFile(m)}`, 'utf8');
    expect(parseLabels(file('yolox_nano.onnx'))).toHaveLength(80);
    expect(parseLabels(file('yolox_nano_qdq.onnx'))[0]).toBe('person');
    expect(parseLabels(file('fmnist_seed000.onnx'))[9]).toBe('Ankle boot');
    expect(parseLabels(file('mnist-8.onnx'))[7]).toBe('7');
    expect(shippedLabelFile('light_resnet50.onnx')).toBeUndefined();
  });

  it('top-5: softmax of logits, a distribution as it is, ties by class', () => {
    const t = topK([1, 3, 2, 3, 0, -1], 5, ['a', 'b', 'c']);
    expect(t.map((r) => r.class)).toEqual([1, 3, 2, 0, 4]);
    expect(t.map((r) => r.label)).toEqual(['b', 'class 3', 'c', 'a', 'class 4']);
    const z = [1, 3, 2, 3, 0, -1].reduce((s, v) => s + Math.exp(v), 0);
    expect(t[0].score).toBeCloseTo(Math.exp(3) / z, 12);
    expect(Array.from(probabilities([0.1, 0.7, 0.2]))).toEqual([0.1, 0.7, 0.2]);
  });

  it('confusion matrix and accuracy', () => {
    const m = confusion([0, 1, 1, 2], [0, 1, 2, 2], 3);
    expect(m).toEqual([[1, 0, 0], [0, 1, 1], [0, 0, 1]]);
    expect(accuracy(m)).toBe(0.75);
    expect(() => confusion([5], [0], 3)).toThrow(/label 5 of sample 0/);
  });
});

describe('tensor view', () => {
  it('tiles channels with a 1-pixel gap, shares the grey scale, heat-maps the difference', async () => {
    const { tensorView, histogram } = await import('../../src/core/demo/tensorview');
    // [1, 2, 2, 3] at fix point 2 (step 0.25): channel 0 codes 0..5, channel 1 codes -6..-1
    const q = Int8Array.from([0, 1, 2, 3, 4, 5, -6, -5, -4, -3, -2, -1]);
    const float = Float32Array.from(q, (v, i) => v / 4 + (i === 4 ? 0.5 : 0));
    const v = tensorView('t', [1, 2, 2, 3], 2, q, float);
    expect([v.channels, v.cols, v.tileW, v.tileH, v.width, v.height]).toEqual([2, 2, 3, 2, 7, 2]);
    expect(v.clip).toEqual([-32, 31.75]);
    expect(v.maxDiff).toBeCloseTo(0.5, 6);
    const px = (img: Uint8ClampedArray, x: number, y: number) => Array.from(img.subarray((y * 7 + x) * 4, (y * 7 + x) * 4 + 4));
    // r = max |value| = 1.5 (code −6, and float 1.5 at i = 4): code 0 is mid grey, code −6 black.
    expect(px(v.int8, 0, 0)).toEqual([128, 128, 128, 255]);
    expect(px(v.int8, 4, 0)).toEqual([0, 0, 0, 255]);
    // the gap column between the tiles stays black
    expect(px(v.int8, 3, 0)).toEqual([0, 0, 0, 255]);
    // only value 4 (channel 0, y 1, x 1) differs: full red there, white elsewhere
    expect(px(v.diff!, 1, 1)).toEqual([255, 0, 0, 255]);
    expect(px(v.diff!, 0, 0)).toEqual([255, 255, 255, 255]);
    expect(v.hist.int8.reduce((a, b) => a + b, 0)).toBe(12);
    expect(histogram([0, 0.5, 1, 2, -1], 0, 1, 2)).toEqual([2, 3]);
  });
});

describe('layer table CSV', () => {
  it('one row per tensor, quoted where needed, formulas defused, NaN as empty', async () => {
    const { layerTableCsv } = await import('../../src/core/demo/csv');
    const csv = layerTableCsv([
      { name: 'conv,1', aliases: [], subgraph: 'sg"0', shape: [1, 16, 26, 26], fixPoint: 3, identicalFraction: 1, maxLsb: 0, sqnrDb: 31.5, cosine: 0.999, clippedFraction: 0.25, floatClippedFraction: 0.125 },
      { name: '=y', aliases: [], subgraph: 'sg1', shape: [1, 10], fixPoint: 2, identicalFraction: 0.9, maxLsb: 1, sqnrDb: NaN, cosine: NaN, clippedFraction: 0, floatClippedFraction: NaN },
    ]);
    expect(csv.split('\n')).toEqual([
      'tensor,subgraph,shape,fix_point,identical_fraction_vs_fake_quant,max_lsb_vs_fake_quant,sqnr_db_vs_float,cosine_vs_float,clipped_fraction_int8,clipped_fraction_float',
      '"conv,1","sg""0",1x16x26x26,3,1,0,31.5,0.999,0.25,0.125',
      "'=y,sg1,1x10,2,0.9,1,,,0,",
      '',
    ]);
  });
});
