import { describe, expect, it } from 'vitest';
import {
  dequantize, fakeQuant, fixPointOfScale, quantize, quantizeValue, round, type RoundMode,
} from '../../src/core/quant/fixpoint';

describe('rounding modes', () => {
  const cases: [number, Record<RoundMode, number>][] = [
    [2.5, { half_up: 3, std_round: 3, half_even: 2, half_down: 2 }],
    [-2.5, { half_up: -2, std_round: -3, half_even: -2, half_down: -3 }],
    [3.5, { half_up: 4, std_round: 4, half_even: 4, half_down: 3 }],
    [-3.5, { half_up: -3, std_round: -4, half_even: -4, half_down: -4 }],
    [0.5, { half_up: 1, std_round: 1, half_even: 0, half_down: 0 }],
    [-0.5, { half_up: 0, std_round: -1, half_even: 0, half_down: -1 }],
    [1.2, { half_up: 1, std_round: 1, half_even: 1, half_down: 1 }],
    [-1.7, { half_up: -2, std_round: -2, half_even: -2, half_down: -2 }],
  ];
  for (const [x, want] of cases)
    for (const mode of Object.keys(want) as RoundMode[])
      it(`${mode}(${x}) = ${want[mode]}`, () => expect(round(x, mode) + 0).toBe(want[mode]));
});

describe('quantize', () => {
  it('scales by 2^fp and saturates to the bit width', () => {
    expect(quantizeValue(1.0, 6)).toBe(64);
    expect(quantizeValue(3.0, 6)).toBe(127);
    expect(quantizeValue(-3.0, 6)).toBe(-128);
    expect(quantizeValue(255, -1)).toBe(127); // 127.5 rounds half up to 128 → saturates
    expect(quantizeValue(200, -1)).toBe(100);
    expect(quantizeValue(1000, 0, 16)).toBe(1000);
  });
  it('keeps the fix point with the integers and round-trips exactly representable values', () => {
    const t = quantize([0.25, -0.5, 0.125, 1.984375], [2, 2], 6);
    expect(t.fixPoint).toBe(6);
    expect(Array.from(t.q)).toEqual([16, -32, 8, 127]);
    expect(Array.from(dequantize(t))).toEqual([0.25, -0.5, 0.125, 1.984375]);
    expect(Array.from(fakeQuant([0.26, 9], 4))).toEqual([0.25, 127 / 16]);
  });
  it('recognises power-of-two scales only', () => {
    expect(fixPointOfScale(0.0078125)).toBe(7);
    expect(fixPointOfScale(2)).toBe(-1);
    expect(fixPointOfScale(Math.fround(2 ** -13))).toBe(13);
    expect(fixPointOfScale(0.01)).toBeUndefined();
    expect(fixPointOfScale(0)).toBeUndefined();
  });
});
