import { describe, expect, it } from 'vitest';
import { tensorStats, toFloat64 } from '../../src/core/analysis/stats';
import { tensor } from '../../src/core/onnx/build';

describe('toFloat64', () => {
  it('decodes half, bfloat16 (incl. subnormal, inf, NaN) from their bit patterns', () => {
    const half = { name: '', dtype: 'float16' as const, shape: [5], values: new Uint8Array(Uint16Array.of(0x3c00, 0x0001, 0x7c00, 0xfe00, 0xc500).buffer) };
    expect(Array.from(toFloat64(half))).toEqual([1, 2 ** -24, Infinity, NaN, -5]);
    const bf = { name: '', dtype: 'bfloat16' as const, shape: [3], values: new Uint8Array(Uint16Array.of(0x3f80, 0xc0a0, 0x0001).buffer) };
    expect(Array.from(toFloat64(bf))).toEqual([1, -5, 2 ** -133]);
  });
  it('round-trips the builder\'s float16 encoding (round to nearest even)', () => {
    const t = tensor('float16', [4], [0.1, 1 / 3, 65504, 6e-8]);
    const got = Array.from(toFloat64(t));
    expect(got[0]).toBeCloseTo(0.0999755859375, 12);
    expect(got[1]).toBeCloseTo(0.333251953125, 12);
    expect(got[2]).toBe(65504);
    expect(got[3]).toBe(2 ** -24);
  });
  it('decodes packed int4/uint4, bool and int64 beyond 32 bits', () => {
    expect(Array.from(toFloat64(tensor('int4', [5], [-8, 7, -1, 0, 5])))).toEqual([-8, 7, -1, 0, 5]);
    expect(Array.from(toFloat64(tensor('uint4', [3], [15, 0, 9])))).toEqual([15, 0, 9]);
    expect(Array.from(toFloat64(tensor('bool', [3], [1, 0, 1])))).toEqual([1, 0, 1]);
    expect(Array.from(toFloat64(tensor('int64', [2], [-(2 ** 40), 2 ** 45])))).toEqual([-(2 ** 40), 2 ** 45]);
  });
});

describe('tensorStats', () => {
  it('gives count, extremes, mean, population std and a histogram whose last bin holds the max', () => {
    const s = tensorStats(tensor('float32', [4], [1, 2, 3, 4]), 3);
    expect(s.count).toBe(4);
    expect([s.min, s.max, s.mean]).toEqual([1, 4, 2.5]);
    expect(s.std).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(s.histogram.edges).toEqual([1, 2, 3, 4]);
    expect(s.histogram.counts).toEqual([1, 1, 2]);
  });
  it('defaults to 64 bins whose counts add up to the finite elements, skipping NaN and inf', () => {
    const data = Array.from({ length: 1000 }, (_, i) => Math.sin(i));
    const s = tensorStats(tensor('float32', [1002], [...data, NaN, Infinity]));
    expect(s.histogram.edges).toHaveLength(65);
    expect(s.histogram.counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(s.count).toBe(1002);
    expect(s.mean).toBeCloseTo(data.reduce((a, b) => a + Math.fround(b), 0) / 1000, 9);
  });
  it('handles constant and empty tensors and int8 weights', () => {
    const c = tensorStats(tensor('int8', [3], [5, 5, 5]), 4);
    expect([c.min, c.max, c.mean, c.std]).toEqual([5, 5, 5, 0]);
    expect(c.histogram.counts).toEqual([3, 0, 0, 0]);
    const e = tensorStats(tensor('float32', [0], []), 2);
    expect(e.count).toBe(0);
    expect(Number.isNaN(e.mean)).toBe(true);
    expect(e.histogram.counts).toEqual([0, 0]);
  });
  it('is structured-clone friendly (plain arrays)', () => {
    const s = tensorStats(tensor('float16', [3], [1, 2, 3]), 2);
    expect(structuredClone(s)).toEqual(s);
    expect(Array.isArray(s.histogram.counts)).toBe(true);
  });
  it('rejects a non-positive bin count', () => {
    expect(() => tensorStats(tensor('float32', [1], [1]), 0)).toThrow(RangeError);
  });
});
