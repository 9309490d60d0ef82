// Element-wise kernels over flat int8 runs, and the float ↔ int8 boundary of a DPU subgraph.
import { epi, epiV, fitsI32, rnd64, sat8, store4 } from './epilogue';

@inline function load4(p: usize): v128 {
  return i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(p)));
}

/** z = a·2^upA + b·2^upB through the epilogue (act and shift set by setEpilogue; accUp/biasUp unused). */
export function add(a: usize, b: usize, out: usize, len: i32, upA: i32, upB: i32): void {
  let i = 0;
  if (upA <= 23 && upB <= 23 && fitsI32(128 * Math.pow(2, upA) + 128 * Math.pow(2, upB), 0)) {
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i;
      store4(out + o, epiV(i32x4.add(i32x4.shl(load4(a + o), upA), i32x4.shl(load4(b + o), upB))));
    }
  }
  const ua = <i64>upA, ub = <i64>upB;
  for (; i < len; i++) {
    const o = <usize>i;
    store<i8>(out + o, <i8>epi((<i64>load<i8>(a + o) << ua) + (<i64>load<i8>(b + o) << ub)));
  }
}

/** z = a·b through the epilogue (act none, shift = fp_a + fp_b − fp_out). */
export function mul(a: usize, b: usize, out: usize, len: i32): void {
  let i = 0;
  if (fitsI32(16384, 0)) {
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i;
      store4(out + o, epiV(i32x4.mul(load4(a + o), load4(b + o))));
    }
  }
  for (; i < len; i++) {
    const o = <usize>i;
    store<i8>(out + o, <i8>epi(<i64>load<i8>(a + o) * <i64>load<i8>(b + o)));
  }
}

/** out = sat(round(in, shift)). */
export function requantize(inp: usize, out: usize, len: i32, shift: i32): void {
  if (shift == 0) {
    memory.copy(out, inp, <usize>len);
    return;
  }
  for (let i = 0; i < len; i++) {
    const o = <usize>i;
    store<i8>(out + o, <i8>sat8(rnd64(<i64>load<i8>(inp + o), shift)));
  }
}

/** q = sat(floor(x·2^fp + 0.5)) in float64 (exact: x·2^fp is exact and |x·2^fp| is clamped first); NaN → 0. */
export function quantize(x: usize, out: usize, len: i32, fp: i32): void {
  const scale = Math.pow(2, fp);
  for (let i = 0; i < len; i++) {
    let v = <f64>load<f32>(x + (<usize>i << 2)) * scale;
    let q: i32;
    if (v != v) q = 0;
    else {
      if (v > 1024) v = 1024;
      if (v < -1024) v = -1024;
      q = <i32>Math.floor(v + 0.5);
      if (q > 127) q = 127;
      if (q < -128) q = -128;
    }
    store<i8>(out + <usize>i, <i8>q);
  }
}

/** x = q·2^-fp. */
export function dequantize(q: usize, x: usize, len: i32, fp: i32): void {
  const scale = <f32>Math.pow(2, -fp);
  for (let i = 0; i < len; i++) store<f32>(x + (<usize>i << 2), <f32>load<i8>(q + <usize>i) * scale);
}
