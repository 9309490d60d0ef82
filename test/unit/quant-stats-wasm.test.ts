// The wasm statistics pass (stats-wasm.ts) against the JavaScript loop it replaces: the same histogram and
// zero count, cell sums equal up to summation order, and the same fix points from observeParts.
import { afterEach, describe, expect, it } from 'vitest';
import { growHistogram, newHistogram } from '../../src/core/quant/calibrate/histogram';
import { maxminFixPoint } from '../../src/core/quant/calibrate/methods';
import { cellErrors, newTensorStats, observeParts, usesCells } from '../../src/core/quant/calibrate/stats';
import { rangeInWasm, setStatsWasm } from '../../src/core/quant/calibrate/stats-wasm';

afterEach(() => setStatsWasm(true));

/** SiLU-like values with exact zeros, a saturating outlier per part and values on cell edges. */
function values(n: number, seed: number, spread = 8): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const g = (u() - 0.5) * spread;
    x[i] = i % 11 === 0 ? 0 : i % 13 === 0 ? Math.round(g * 64) / 64 : g / (1 + Math.exp(-g));
  }
  return x;
}

function run(parts: Float32Array[], wasm: boolean) {
  setStatsWasm(wasm);
  let min = Infinity, max = -Infinity;
  for (const p of parts) for (const v of p) { min = Math.min(min, v); max = Math.max(max, v); }
  const fp0 = maxminFixPoint(Math.min(min, 0), Math.max(max, 0), 8)!;
  const hist = newHistogram();
  growHistogram(hist, Math.max(-min, max));
  const errors = new Float64Array(5);
  const margin = cellErrors(parts, fp0, errors, 8, hist);
  return { errors, margin, hist };
}

describe('statistics pass in wasm', () => {
  it('gives the JavaScript loop\'s histogram and zeros exactly and its cell errors within the bound', () => {
    // Odd part lengths leave a tail of 1–3 values after the groups of four; one part crosses chunks.
    const parts = [values(70_001, 1), values(3, 2), values(40_000, 3, 2), values(1, 4)];
    parts[0][5] = 1e30; // beyond every candidate's range: saturates
    const js = run(parts, false);
    const wasm = run(parts, true);
    expect(wasm.hist.zeros).toBe(js.hist.zeros);
    expect(wasm.hist.zeros).toBeGreaterThan(0);
    expect(wasm.hist.counts).toEqual(js.hist.counts);
    expect(Math.abs(wasm.margin - js.margin)).toBeLessThanOrEqual(js.margin * 1e-12); // Σx² summed in another order
    for (let k = 0; k < 5; k++) expect(Math.abs(wasm.errors[k] - js.errors[k])).toBeLessThanOrEqual(js.margin);
  });

  it('derives the histogram from the cells, given the range, exactly as the per-value bins', () => {
    // Tiny negatives (|v| ≤ R·2^-54) land in zero's bin by binValues' f64 rule, not in their cell's bin.
    const parts = [values(70_001, 11), values(40_002, 12)];
    for (const [i, v] of [[3, -1e-18], [7, -1e-30], [9, -0], [20, 1e-30], [33, -(2 ** -60)]] as const) parts[0][i] = v;
    let min = Infinity, max = -Infinity;
    for (const p of parts) for (const v of p) { min = Math.min(min, v); max = Math.max(max, v); }
    const js = run(parts, false);
    setStatsWasm(true);
    const fp0 = maxminFixPoint(Math.min(min, 0), Math.max(max, 0), 8)!;
    const hist = newHistogram();
    growHistogram(hist, Math.max(-min, max));
    const errors = new Float64Array(5);
    const margin = cellErrors(parts, fp0, errors, 8, hist, { min, max });
    expect(hist.zeros).toBe(js.hist.zeros);
    expect(hist.counts).toEqual(js.hist.counts);
    expect(Math.abs(margin - js.margin)).toBeLessThanOrEqual(js.margin * 1e-12);
    for (let k = 0; k < 5; k++) expect(Math.abs(errors[k] - js.errors[k])).toBeLessThanOrEqual(js.margin);
    // The cells are cleared for the next batch: a second batch gives the same answer again.
    const again = cellErrors(parts, fp0, new Float64Array(5), 8, newHistogram(), { min, max });
    expect(again).toBe(margin);
  });

  it('gives observeParts the same statistics and fix points', () => {
    for (const [seed, spread] of [[5, 8], [6, 0.01], [7, 600]]) {
      const parts = [values(90_001, seed, spread), values(50_002, seed + 100, spread)];
      setStatsWasm(false);
      const js = newTensorStats();
      observeParts(js, parts);
      observeParts(js, [values(65_539, seed + 200, spread * 3)]);
      setStatsWasm(true);
      const wasm = newTensorStats();
      observeParts(wasm, parts);
      observeParts(wasm, [values(65_539, seed + 200, spread * 3)]);
      expect(wasm).toEqual(js);
    }
  });

  it('skips runs of exact zeros four at a time and still gives the JavaScript loop\'s statistics', () => {
    // ReLU-like: runs of +0 of every length and phase against the groups of four, −0 inside and beside
    // them, and a part that is zeros only; with and without the range (histogram from cells or per value).
    const relu = (n: number, seed: number) => {
      const x = values(n, seed, 6);
      for (let i = 0; i < n; i++) if (x[i] < 0.3 || (i >> 5) % 3 === 0) x[i] = (i * 7) % 97 === 0 ? -0 : 0;
      return x;
    };
    const parts = [relu(70_003, 21), new Float32Array(4096), relu(40_001, 22)];
    expect(parts[0].filter((v) => v === 0).length).toBeGreaterThan(35_000);
    const js = run(parts, false);
    const wasm = run(parts, true);
    expect(wasm.hist.zeros).toBe(js.hist.zeros);
    expect(wasm.hist.counts).toEqual(js.hist.counts);
    expect(Math.abs(wasm.margin - js.margin)).toBeLessThanOrEqual(js.margin * 1e-12); // Σx² summed in another order
    for (let k = 0; k < 5; k++) expect(Math.abs(wasm.errors[k] - js.errors[k])).toBeLessThanOrEqual(js.margin);
    for (const spread of [1, 50]) {
      const batch = () => [relu(65_540, 23 + spread), relu(33_333, 24 + spread).map((v) => v * spread)];
      setStatsWasm(false);
      const a = newTensorStats();
      observeParts(a, batch());
      observeParts(a, [new Float32Array(20_000)]);
      setStatsWasm(true);
      const b = newTensorStats();
      observeParts(b, batch());
      observeParts(b, [new Float32Array(20_000)]);
      expect(b).toEqual(a);
    }
  });

  it('gives std_round on a batch without negatives (images) the per-candidate sums\' fix points from the cells', () => {
    // Raw 0..255 pixels (every odd value a tie at fp −1) and pixels / 255; a batch with a negative value
    // keeps the per-candidate pass (std_round and half_up part there).
    const pixels = (n: number, seed: number, scale: number) => {
      const r = values(n, seed, 8);
      return Float32Array.from(r, (v, i) => (Math.floor(Math.abs(v) * 1000 + i) % 256) / scale);
    };
    for (const scale of [1, 255]) {
      const batches = [[pixels(20_000, 31, scale), pixels(9_999, 32, scale)], [pixels(6_000, 33, scale)], [Float32Array.from(pixels(8_000, 34, scale), (v, i) => (i === 5 ? -0.5 : v))]];
      setStatsWasm(false);
      const js = newTensorStats();
      for (const b of batches) observeParts(js, b, 8, 'std_round');
      setStatsWasm(true);
      const wasm = newTensorStats();
      for (const b of batches) observeParts(wasm, b, 8, 'std_round');
      expect(wasm).toEqual(js);
      expect(js.batchFps.diffs.length).toBe(3);
      expect(batches.map((b) => usesCells(b.reduce((n, p) => n + p.length, 0), 8, 'std_round', b, Math.min(...b.map((p) => Math.min(...p)))))).toEqual([true, true, false]);
      expect(usesCells(6_000, 8, 'half_even', batches[1], 0)).toBe(false);
    }
  });

  it('finds the range the JavaScript loop finds: NaNs passed over, tails, chunk edges, empty parts', () => {
    const loop = (parts: Float32Array[]) => {
      let min = Infinity, max = -Infinity;
      for (const p of parts) for (const v of p) { if (v < min) min = v; if (v > max) max = v; }
      return { min: min === 0 ? 0 : min, max: max === 0 ? 0 : max };
    };
    const a = values(70_003, 11, 50);
    a[0] = NaN; a[16_384] = -1e30; a[70_002] = 7e29; // a chunk's first value, the last value (a tail)
    const b = values(5, 12);
    b[4] = NaN;
    const cases: Float32Array[][] = [
      [a, b], [new Float32Array(0)], [new Float32Array([NaN, NaN, NaN, NaN, NaN])],
      [new Float32Array([-0, 0, -0, 0])], [new Float32Array([-Infinity, 3, 2, 1]), new Float32Array([Infinity])],
      [values(16_384 * 3 + 8, 13)],
    ];
    for (const parts of cases) expect(rangeInWasm(parts)).toEqual(loop(parts));
    setStatsWasm(false);
    expect(rangeInWasm([a])).toBeUndefined();
  });

  it('leaves arrays that are not Float32Array to the JavaScript loop', () => {
    const x = Array.from(values(70_000, 9));
    const a = newTensorStats();
    observeParts(a, [x]);
    setStatsWasm(false);
    const b = newTensorStats();
    observeParts(b, [x]);
    expect(a).toEqual(b);
  });
});
