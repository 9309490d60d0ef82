// Data-aware weight rounding (src/core/quant/adaround.ts) and the float reference that bias correction
// leaves alone, against plain references written here.
import { describe, expect, it } from 'vitest';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { addPatchMoments, roundFilter } from '../../src/core/quant/adaround';
import { parseQuantConfig } from '../../src/core/quant/config';
import { constValues } from '../../src/core/quant/prepare/edit';
import { quantizeModel, runFakeQuant } from '../../src/core/quant/quantize';
import { runFloat } from '../../src/core/sim/float/interpreter';

function rand(n: number, seed: number, scale = 1) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => (((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1) * scale);
}

const objective = (w: ArrayLike<number>, q: ArrayLike<number>, step: number, c: Float64Array) => {
  const k = w.length;
  let f = 0;
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) f += (q[a] * step - w[a]) * c[a * k + b] * (q[b] * step - w[b]);
  return f;
};

describe('roundFilter', () => {
  it('perfectly correlated inputs: rounds up as many weights as keep the filter sum (its DC gain)', () => {
    const w = Float64Array.from([0.3, 0.3, 0.3, 0.3]);
    const q = new Int32Array(4); // nearest rounding: all zero, the filter vanishes
    roundFilter(w, q, 1, new Float64Array(16).fill(1), -128, 127);
    // Σq·1 − Σw: 0 → −1.2, 1 → −0.2, 2 → 0.8; the optimum is one weight up.
    expect(q.reduce((a, b) => a + b, 0)).toBe(1);
    expect([...q].every((v) => v === 0 || v === 1)).toBe(true);
  });
  it('uncorrelated inputs: nearest rounding is already optimal and stays', () => {
    const w = Float64Array.from([0.3, -0.7, 1.2, 0.49]);
    const q = Int32Array.from(w, (v) => Math.round(v));
    const eye = new Float64Array(16);
    for (let i = 0; i < 4; i++) eye[i * 5] = 1;
    roundFilter(w, q, 1, eye, -128, 127);
    expect([...q]).toEqual([0, -1, 1, 0]);
  });
  it('finds the brute-force optimum over floor/ceil choices on most small random problems, never worse than nearest', () => {
    let optimal = 0;
    let sumGot = 0, sumBest = 0, sumNearest = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const k = 5;
      const w = Float64Array.from(rand(k, seed, 2));
      // C = AᵀA + a strong common component: correlated patches as images give.
      const a = rand(k * 8, seed + 100);
      const c = new Float64Array(k * k);
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        let s = 4;
        for (let r = 0; r < 8; r++) s += a[r * k + i] * a[r * k + j];
        c[i * k + j] = s;
      }
      const step = 0.25;
      const nearest = Int32Array.from(w, (v) => Math.round(v / step));
      const q = Int32Array.from(nearest);
      roundFilter(w, q, step, c, -128, 127);
      for (let i = 0; i < k; i++) expect([Math.floor(w[i] / step), Math.ceil(w[i] / step)]).toContain(q[i]);
      let best = Infinity;
      for (let m = 0; m < 1 << k; m++) {
        const b = Int32Array.from(w, (v, i) => Math.floor(v / step) + ((m >> i) & 1));
        best = Math.min(best, objective(w, b, step, c));
      }
      const got = objective(w, q, step, c);
      expect(got).toBeLessThanOrEqual(objective(w, nearest, step, c) + 1e-12);
      // Single and pair flips stop at a local minimum: on these, the global one.
      if (got <= best + 1e-12) optimal++;
      sumGot += got; sumBest += best; sumNearest += objective(w, nearest, step, c);
    }
    expect(optimal).toBeGreaterThanOrEqual(18);
    expect(sumGot).toBeLessThan(sumBest * 1.02);
    expect(sumNearest).toBeGreaterThan(sumBest * 1.5);
  });
  it('keeps codes inside the integer range', () => {
    const w = Float64Array.from([127.6, 127.6]);
    const q = Int32Array.from([127, 127]);
    roundFilter(w, q, 1, new Float64Array(4).fill(1), -128, 127);
    expect([...q]).toEqual([127, 127]);
  });
});

describe('addPatchMoments', () => {
  it('sums patch outer products per group in the weight order [ci, ky, kx], zero padding included', () => {
    // Two channels, depthwise (group 2), 2×2 kernel, stride 1, pad 1 on top/left: 3×3 outputs on 3×3.
    const h = 3, w = 3, c = 2;
    const x = Float32Array.from({ length: c * h * w }, (_, i) => i + 1);
    const g = { group: 2, kh: 2, kw: 2, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, pb: 0, pr: 0 };
    const grams = [new Float64Array(16), new Float64Array(16)];
    const n = addPatchMoments(x, c, h, w, g, grams, 1000, () => 0);
    expect(n).toBe(9);
    for (let gi = 0; gi < 2; gi++) {
      const ref = new Float64Array(16);
      for (let oy = 0; oy < 3; oy++) for (let ox = 0; ox < 3; ox++) {
        const v: number[] = [];
        for (let ky = 0; ky < 2; ky++) for (let kx = 0; kx < 2; kx++) {
          const iy = oy - 1 + ky, ix = ox - 1 + kx;
          v.push(iy >= 0 && ix >= 0 ? x[gi * 9 + iy * 3 + ix] : 0);
        }
        for (let a = 0; a < 4; a++) for (let b = a; b < 4; b++) ref[a * 4 + b] += v[a] * v[b];
      }
      expect([...grams[gi]]).toEqual([...ref]);
    }
  });
});

describe('quantizeModel with data-aware rounding', () => {
  // A depthwise conv whose channel 1 has every weight below half the step that channel 0's range forces
  // (per-tensor power-of-two: fp 5, step 1/32; channel 1's weights 0.012 round to 0 at the nearest point).
  const dw = () => buildModel({
    inputs: { x: ['float32', ['N', 2, 8, 8]] }, outputs: ['y'],
    initializers: {
      w: tensor('float32', [2, 1, 3, 3], Float32Array.from({ length: 18 }, (_, i) => (i < 9 ? 3.5 + 0.05 * i : 0.012))),
      b: tensor('float32', [2], [0, 0]),
    },
    nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { group: 2, pads: [1, 1, 1, 1] } }],
  });
  // Smooth positive inputs (an image's): neighbouring pixels correlate, so the filter sum is what counts.
  const data = [1, 2, 3, 4].map((k) => ({ x: { shape: [1, 2, 8, 8], data: rand(128, k, 0.1).map((v) => v + 1) } }));
  const channelMean = (t: { data: Float32Array }, c: number) => {
    let s = 0;
    for (let i = 0; i < 64; i++) s += t.data[c * 64 + i];
    return s / 64;
  };
  it('keeps a channel that nearest rounding zeroes, on the same fix point, with the float reference untouched', async () => {
    const cfg = (adaround: boolean) => parseQuantConfig({ include_cle: false, include_bias_corr: false, include_adaround: adaround, quantizable_data_type: ['weights'] });
    const nearest = await quantizeModel(dw(), data, cfg(false), { skipEvaluation: true });
    const rounded = await quantizeModel(dw(), data, cfg(true), { skipEvaluation: true });
    expect(nearest.tensors.get('w')!.fixPoint).toBe(5);
    expect(rounded.tensors.get('w')!.fixPoint).toBe(5);
    expect(rounded.prepareLog.map((l) => l.pass)).toContain('adaround');
    // The quantized model holds codes·2^-5; the float reference keeps the file's weights.
    const wq = constValues(rounded.model.graph.initializers.get('w')!);
    expect([...wq].every((v) => Number.isInteger(v * 32))).toBe(true);
    expect(constValues(rounded.floatModel.graph.initializers.get('w')!)[9]).toBeCloseTo(0.012, 6);
    // Channel 1: float mean ≈ 9 · 0.012 · 1 (minus the border); nearest gives exactly 0, adaround near float.
    let fSum = 0, nSum = 0, aSum = 0;
    for (const d of data) {
      fSum += channelMean(runFloat(dw(), d).y, 1);
      nSum += channelMean(runFakeQuant(nearest.model, nearest.tensors, d).y, 1);
      aSum += channelMean(runFakeQuant(rounded.model, rounded.tensors, d).y, 1);
    }
    expect(nSum).toBe(0);
    expect(Math.abs(aSum - fSum) / fSum).toBeLessThan(0.2);
    // Channel 0 (weights well above the step) stays within a step of each weight.
    const w0 = constValues(dw().graph.initializers.get('w')!);
    for (let i = 0; i < 9; i++) expect(Math.abs(wq[i] - w0[i])).toBeLessThan(1 / 32);
  });
  it('bias correction changes only the quantized model: the float reference keeps the float biases', async () => {
    const r = await quantizeModel(dw(), data, parseQuantConfig({ include_cle: false, include_adaround: false, quantizable_data_type: ['weights', 'bias'] }), { skipEvaluation: true });
    expect(r.prepareLog.map((l) => l.pass)).toContain('bias_correction');
    expect([...constValues(r.floatModel.graph.initializers.get('b')!)]).toEqual([0, 0]);
    // Channel 1 lost its whole response to rounding: its bias takes the float mean back.
    const b = constValues(r.model.graph.initializers.get('b')!);
    let fSum = 0;
    for (const d of data) fSum += channelMean(runFloat(dw(), d).y, 1);
    expect(b[1]).toBeCloseTo(fSum / data.length, 2);
    // The float model runs the file's function.
    const d = data[0];
    expect([...runFloat(r.floatModel, d).y.data]).toEqual([...runFloat(dw(), d).y.data]);
  });
});
