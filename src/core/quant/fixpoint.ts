// Power-of-two fixed point: real = q × 2^-fixPoint. Every rounding and saturation in the quantizer
// goes through this module so the calibrators, the fake-quant run and the QDQ export agree bit for bit.

/** Rounding modes under their quantizer-config names (XIR: DPU_ROUND, STD_ROUND, PY3_ROUND). */
export type RoundMode = 'half_up' | 'std_round' | 'half_even' | 'half_down';

export const ROUND_MODES: readonly RoundMode[] = ['half_up', 'std_round', 'half_even', 'half_down'];

/** XIR `fix` op names of the same modes. */
export const XIR_ROUND_NAME: Readonly<Record<RoundMode, string>> = {
  half_up: 'DPU_ROUND', std_round: 'STD_ROUND', half_even: 'PY3_ROUND', half_down: 'HALF_DOWN',
};

/** floor(x + 0.5): ties toward +∞, what the DPU does on activations (2.5→3, -2.5→-2). */
export function roundHalfUp(x: number): number {
  return Math.floor(x + 0.5);
}

/** Ties away from zero (2.5→3, -2.5→-3): the PyTorch quantizer on weights and bias. */
export function roundStd(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/** Ties to even (2.5→2, 3.5→4): TF2 weights and ONNX QuantizeLinear. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** ceil(x − 0.5): ties toward −∞ (2.5→2, -2.5→-3). */
export function roundHalfDown(x: number): number {
  return Math.ceil(x - 0.5);
}

export const ROUNDERS: Readonly<Record<RoundMode, (x: number) => number>> = {
  half_up: roundHalfUp, std_round: roundStd, half_even: roundHalfEven, half_down: roundHalfDown,
};

export function round(x: number, mode: RoundMode): number {
  return ROUNDERS[mode](x);
}

/** Signed range of a bit width: 8 → [-128, 127]. */
export function intRange(bitWidth: number): { lo: number; hi: number } {
  return { lo: -(2 ** (bitWidth - 1)), hi: 2 ** (bitWidth - 1) - 1 };
}

/** Largest fix point the quantizer hands out for a bit width (12 for 8 bits, as vai_q does). */
export function maxFixPoint(bitWidth: number): number {
  return bitWidth + 4;
}

/**
 * Fix point given to an all-zero tensor: any fp represents it exactly, so the quantizer uses its
 * maximum (the same sentinel vai_q uses) to keep the §3 rules satisfiable downstream.
 */
export function zeroTensorFixPoint(bitWidth: number): number {
  return maxFixPoint(bitWidth);
}

/** q = clamp(round(x·2^fp), lo, hi). */
export function quantizeValue(x: number, fixPoint: number, bitWidth = 8, mode: RoundMode = 'half_up'): number {
  const { lo, hi } = intRange(bitWidth);
  const q = ROUNDERS[mode](x * 2 ** fixPoint);
  return q < lo ? lo : q > hi ? hi : q;
}

/** Fake quantization: quantize then dequantize. */
export function fakeQuantValue(x: number, fixPoint: number, bitWidth = 8, mode: RoundMode = 'half_up'): number {
  return quantizeValue(x, fixPoint, bitWidth, mode) * 2 ** -fixPoint;
}

/** A quantized tensor: the integers never travel without the fix point that gives them meaning. */
export interface QTensor {
  readonly q: Int8Array | Int16Array | Int32Array;
  readonly shape: readonly number[];
  readonly fixPoint: number;
  readonly bitWidth: number;
}

export function quantize(
  x: ArrayLike<number>, shape: readonly number[], fixPoint: number, bitWidth = 8, mode: RoundMode = 'half_up',
): QTensor {
  const q = bitWidth <= 8 ? new Int8Array(x.length) : bitWidth <= 16 ? new Int16Array(x.length) : new Int32Array(x.length);
  const { lo, hi } = intRange(bitWidth);
  const s = 2 ** fixPoint;
  const r = ROUNDERS[mode];
  for (let i = 0; i < x.length; i++) {
    const v = r(x[i] * s);
    q[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return { q, shape: [...shape], fixPoint, bitWidth };
}

export function dequantize(t: QTensor): Float32Array {
  const out = new Float32Array(t.q.length);
  const s = 2 ** -t.fixPoint;
  for (let i = 0; i < out.length; i++) out[i] = t.q[i] * s;
  return out;
}

/** Fake-quantized copy of x (float in, float out). */
export function fakeQuant(x: ArrayLike<number>, fixPoint: number, bitWidth = 8, mode: RoundMode = 'half_up'): Float32Array {
  const out = new Float32Array(x.length);
  const { lo, hi } = intRange(bitWidth);
  const s = 2 ** fixPoint;
  const inv = 2 ** -fixPoint;
  // The fake-quant run calls this on every activation of every sample: the common modes get their
  // rounding written into the loop (the same expressions as roundHalfUp/roundHalfDown), which runs
  // several times faster than a call through ROUNDERS per value.
  if (mode === 'half_up') {
    for (let i = 0; i < x.length; i++) {
      const v = Math.floor(x[i] * s + 0.5);
      out[i] = (v < lo ? lo : v > hi ? hi : v) * inv;
    }
    return out;
  }
  if (mode === 'half_down') {
    for (let i = 0; i < x.length; i++) {
      const v = Math.ceil(x[i] * s - 0.5);
      out[i] = (v < lo ? lo : v > hi ? hi : v) * inv;
    }
    return out;
  }
  const r = ROUNDERS[mode];
  for (let i = 0; i < x.length; i++) {
    const v = r(x[i] * s);
    out[i] = (v < lo ? lo : v > hi ? hi : v) * inv;
  }
  return out;
}

/** Σ(x − fq(x))² for one fix point. */
export function quantError(x: ArrayLike<number>, fixPoint: number, bitWidth = 8, mode: RoundMode = 'half_up'): number {
  const { lo, hi } = intRange(bitWidth);
  const s = 2 ** fixPoint;
  const inv = 2 ** -fixPoint;
  const r = ROUNDERS[mode];
  let e = 0;
  for (let i = 0; i < x.length; i++) {
    const v = r(x[i] * s);
    const d = x[i] - (v < lo ? lo : v > hi ? hi : v) * inv;
    e += d * d;
  }
  return e;
}

/** Fraction of values that saturate at fixPoint. */
export function clippedFraction(x: ArrayLike<number>, fixPoint: number, bitWidth = 8): number {
  if (x.length === 0) return 0;
  const { lo, hi } = intRange(bitWidth);
  const s = 2 ** fixPoint;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] * s;
    if (v < lo - 0.5 || v >= hi + 0.5) n++;
  }
  return n / x.length;
}

/** The fix point whose scale 2^-fp equals `scale` exactly, or undefined when scale is no power of two. */
export function fixPointOfScale(scale: number): number | undefined {
  if (!(scale > 0) || !Number.isFinite(scale)) return undefined;
  const fp = -Math.log2(scale);
  const r = Math.round(fp);
  // + 0 turns −0 (scale 1) into 0
  return 2 ** -r === scale || Math.abs(fp - r) < 1e-6 ? r + 0 : undefined;
}

/**
 * Fake quantization with an arbitrary float scale (non-DPU targets): q = clamp(round(x / scale)).
 * Power-of-two scales give exactly `fakeQuant` with fp = −log2(scale).
 */
export function fakeQuantScale(x: ArrayLike<number>, scale: number, bitWidth = 8, mode: RoundMode = 'half_up'): Float32Array {
  const out = new Float32Array(x.length);
  const { lo, hi } = intRange(bitWidth);
  const r = ROUNDERS[mode];
  for (let i = 0; i < x.length; i++) {
    const v = r(x[i] / scale);
    out[i] = (v < lo ? lo : v > hi ? hi : v) * scale;
  }
  return out;
}
