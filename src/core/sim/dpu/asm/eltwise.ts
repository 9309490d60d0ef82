// Element-wise kernels over flat int8 runs, and the float ↔ int8 boundary of a DPU subgraph.
import { epi, epiV, fitsI32, rnd64, sat8, store4 } from './epilogue';
import { transpose8 } from './transpose';

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

/**
 * add with no nonlinearity or a ReLU on sixteen int16 lanes, exact while upA, upB ≤ 7 and 0 ≤ shift ≤ 14:
 * one of upA, upB is 0 (F is the larger fix point), so |z| ≤ 128·2^7 + 128 = 16512 and z + 2^(shift−1) ≤ 24704
 * stay inside int16. y = sat(round(relu?(z), shift)).
 */
export function add16(a: usize, b: usize, out: usize, len: i32, upA: i32, upB: i32, shift: i32, relu: bool): void {
  const hv: i32 = shift > 0 ? 1 << (shift - 1) : 0;
  const h = i16x8.splat(<i16>hv);
  const zero = i16x8.splat(0);
  let i = 0;
  for (; i + 16 <= len; i += 16) {
    const o = <usize>i;
    const va = v128.load(a + o), vb = v128.load(b + o);
    let lo = i16x8.add(i16x8.shl(i16x8.extend_low_i8x16_s(va), upA), i16x8.shl(i16x8.extend_low_i8x16_s(vb), upB));
    let hi = i16x8.add(i16x8.shl(i16x8.extend_high_i8x16_s(va), upA), i16x8.shl(i16x8.extend_high_i8x16_s(vb), upB));
    if (relu) { lo = i16x8.max_s(lo, zero); hi = i16x8.max_s(hi, zero); }
    lo = i16x8.shr_s(i16x8.add(lo, h), shift);
    hi = i16x8.shr_s(i16x8.add(hi, h), shift);
    v128.store(out + o, i8x16.narrow_i16x8_s(lo, hi));
  }
  for (; i < len; i++) {
    const o = <usize>i;
    let z = (<i64>load<i8>(a + o) << <i64>upA) + (<i64>load<i8>(b + o) << <i64>upB);
    if (relu && z < 0) z = 0;
    store<i8>(out + o, <i8>sat8(rnd64(z, shift)));
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

/**
 * round(q, shift) saturated on sixteen int8 lanes, exact in int16: q + 2^(s-1) ≤ 191 for s ≤ 7; for s ≥ 8
 * every |q| ≤ 128 rounds to 0; a left shift beyond 8 saturates any q ≠ 0 as a shift by 8 does.
 */
@inline export function requant16(v: v128, shift: i32): v128 {
  const lo = i16x8.extend_low_i8x16_s(v), hi = i16x8.extend_high_i8x16_s(v);
  if (shift > 0) {
    if (shift >= 8) return i8x16.splat(0);
    const half: i32 = 1 << (shift - 1);
    const h = i16x8.splat(<i16>half);
    return i8x16.narrow_i16x8_s(i16x8.shr_s(i16x8.add(lo, h), shift), i16x8.shr_s(i16x8.add(hi, h), shift));
  }
  const k = -shift > 8 ? 8 : -shift;
  return i8x16.narrow_i16x8_s(i16x8.shl(lo, k), i16x8.shl(hi, k));
}

/**
 * out = sat(round(in, shift)) for n bytes (in place allowed): the short per-pixel runs of concat and
 * upsampling, where a memory.copy call costs more than the bytes it moves.
 */
@inline export function moveRun(inp: usize, out: usize, n: i32, shift: i32): void {
  let i = 0;
  if (shift == 0) {
    for (; i + 16 <= n; i += 16) v128.store(out + <usize>i, v128.load(inp + <usize>i));
    if (i + 8 <= n) { store<u64>(out + <usize>i, load<u64>(inp + <usize>i)); i += 8; }
    if (i + 4 <= n) { store<u32>(out + <usize>i, load<u32>(inp + <usize>i)); i += 4; }
    for (; i < n; i++) store<u8>(out + <usize>i, load<u8>(inp + <usize>i));
    return;
  }
  for (; i + 16 <= n; i += 16) v128.store(out + <usize>i, requant16(v128.load(inp + <usize>i), shift));
  for (; i < n; i++) store<i8>(out + <usize>i, <i8>sat8(rnd64(<i64>load<i8>(inp + <usize>i), shift)));
}

/** out = sat(round(in, shift)). */
export function requantize(inp: usize, out: usize, len: i32, shift: i32): void {
  if (shift == 0) {
    memory.copy(out, inp, <usize>len);
    return;
  }
  moveRun(inp, out, len, shift);
}

// The float ↔ int8 boundary. float2fix must equal floor(x·2^fp + 0.5) computed exactly (the JS reference
// does it in float64). In float32 lanes: v = x·2^fp is exact (a power-of-two scale; overflow goes to ±inf and
// saturates as it should), and floor(v) + (v − floor(v) ≥ 0.5) is exact too: v − floor(v) is exact by
// Sterbenz for |v| ≥ 1 and for 0 ≤ v < 1; for −1 < v < 0 it is 1 − |v|, which is representable whenever it
// is ≤ 0.5 (|v| ≥ 0.5 has an ulp ≥ 2^-24), so rounding never moves it across 0.5. (Adding 0.5 first would
// not be: 0.5 − 2^-25 + 0.5 rounds up to 1 in float32.)

/**
 * Four int32 codes, saturated later by the narrowing: floor(v) + (frac ≥ 0.5). NaN → 0 (trunc_sat); where
 * |v| ≥ 2^23 or v = ±inf the fraction is 0 or NaN, so the +1 never meets trunc_sat's saturated INT_MAX.
 */
@inline function fix4(x: v128, scale: v128): v128 {
  const v = f32x4.mul(x, scale);
  const f = f32x4.floor(v);
  const up = f32x4.ge(f32x4.sub(v, f), f32x4.splat(0.5)); // all ones (−1) where rounding goes up
  return i32x4.sub(i32x4.trunc_sat_f32x4_s(f), up);
}

@inline function fix1(x: f32, scale: f32): i32 {
  let v = x * scale;
  if (v != v) return 0;
  if (v > 1024) v = 1024;
  if (v < -1024) v = -1024;
  const f = Mathf.floor(v);
  let q = <i32>f + (v - f >= 0.5 ? 1 : 0);
  return q > 127 ? 127 : q < -128 ? -128 : q;
}

/** q = sat(floor(x·2^fp + 0.5)) from float32, sixteen values a step; NaN → 0. */
export function quantize(x: usize, out: usize, len: i32, fp: i32): void {
  const s = <f32>Math.pow(2, fp);
  const scale = f32x4.splat(s);
  let i = 0;
  for (; i + 16 <= len; i += 16) {
    const p = x + (<usize>i << 2);
    const a = i16x8.narrow_i32x4_s(fix4(v128.load(p), scale), fix4(v128.load(p, 16), scale));
    const b = i16x8.narrow_i32x4_s(fix4(v128.load(p, 32), scale), fix4(v128.load(p, 48), scale));
    v128.store(out + <usize>i, i8x16.narrow_i16x8_s(a, b));
  }
  for (; i < len; i++) store<i8>(out + <usize>i, <i8>fix1(load<f32>(x + (<usize>i << 2)), s));
}

/** quantize from a [C][P] float map (NCHW) into [P][C] int8 (NHWC); `tmp` holds C·P bytes. */
export function quantizeToNhwc(x: usize, out: usize, P: i32, C: i32, fp: i32, tmp: usize): void {
  quantize(x, tmp, P * C, fp);
  transpose8(tmp, out, C, P);
}

/** x = q·2^-fp (exact in float32), sixteen values a step. */
export function dequantize(q: usize, x: usize, len: i32, fp: i32): void {
  const s = <f32>Math.pow(2, -fp);
  const scale = f32x4.splat(s);
  let i = 0;
  for (; i + 16 <= len; i += 16) {
    const v = v128.load(q + <usize>i);
    const lo = i16x8.extend_low_i8x16_s(v), hi = i16x8.extend_high_i8x16_s(v);
    const p = x + (<usize>i << 2);
    v128.store(p, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), scale));
    v128.store(p, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), scale), 16);
    v128.store(p, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), scale), 32);
    v128.store(p, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), scale), 48);
  }
  for (; i < len; i++) store<f32>(x + (<usize>i << 2), <f32>load<i8>(q + <usize>i) * s);
}

/** dequantize a [P][C] int8 map (NHWC) into [C][P] float32 (NCHW); `tmp` holds C·P bytes. */
export function dequantizeToNchw(q: usize, x: usize, P: i32, C: i32, fp: i32, tmp: usize): void {
  transpose8(q, tmp, P, C);
  dequantize(tmp, x, P * C, fp);
}
