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

/**
 * A 16×16 byte tile: out row k (at out + k·outStride) = column k of the 16 input rows (at inp + k·inStride).
 * Each round interleaves rows i and i + 8 into rows 2i, 2i + 1, which rotates the 8 bits (row, column)
 * of every byte's position left by one; four rounds swap row and column.
 */
@inline function tile16(inp: usize, inStride: usize, out: usize, outStride: usize): void {
  let r0 = v128.load(inp + 0 * inStride);
  let r1 = v128.load(inp + 1 * inStride);
  let r2 = v128.load(inp + 2 * inStride);
  let r3 = v128.load(inp + 3 * inStride);
  let r4 = v128.load(inp + 4 * inStride);
  let r5 = v128.load(inp + 5 * inStride);
  let r6 = v128.load(inp + 6 * inStride);
  let r7 = v128.load(inp + 7 * inStride);
  let r8 = v128.load(inp + 8 * inStride);
  let r9 = v128.load(inp + 9 * inStride);
  let r10 = v128.load(inp + 10 * inStride);
  let r11 = v128.load(inp + 11 * inStride);
  let r12 = v128.load(inp + 12 * inStride);
  let r13 = v128.load(inp + 13 * inStride);
  let r14 = v128.load(inp + 14 * inStride);
  let r15 = v128.load(inp + 15 * inStride);
  const t0_0 = i8x16.shuffle(r0, r8, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t1_0 = i8x16.shuffle(r0, r8, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t2_0 = i8x16.shuffle(r1, r9, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t3_0 = i8x16.shuffle(r1, r9, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t4_0 = i8x16.shuffle(r2, r10, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t5_0 = i8x16.shuffle(r2, r10, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t6_0 = i8x16.shuffle(r3, r11, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t7_0 = i8x16.shuffle(r3, r11, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t8_0 = i8x16.shuffle(r4, r12, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t9_0 = i8x16.shuffle(r4, r12, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t10_0 = i8x16.shuffle(r5, r13, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t11_0 = i8x16.shuffle(r5, r13, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t12_0 = i8x16.shuffle(r6, r14, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t13_0 = i8x16.shuffle(r6, r14, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t14_0 = i8x16.shuffle(r7, r15, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t15_0 = i8x16.shuffle(r7, r15, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  r0 = t0_0;
  r1 = t1_0;
  r2 = t2_0;
  r3 = t3_0;
  r4 = t4_0;
  r5 = t5_0;
  r6 = t6_0;
  r7 = t7_0;
  r8 = t8_0;
  r9 = t9_0;
  r10 = t10_0;
  r11 = t11_0;
  r12 = t12_0;
  r13 = t13_0;
  r14 = t14_0;
  r15 = t15_0;
  const t0_1 = i8x16.shuffle(r0, r8, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t1_1 = i8x16.shuffle(r0, r8, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t2_1 = i8x16.shuffle(r1, r9, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t3_1 = i8x16.shuffle(r1, r9, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t4_1 = i8x16.shuffle(r2, r10, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t5_1 = i8x16.shuffle(r2, r10, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t6_1 = i8x16.shuffle(r3, r11, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t7_1 = i8x16.shuffle(r3, r11, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t8_1 = i8x16.shuffle(r4, r12, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t9_1 = i8x16.shuffle(r4, r12, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t10_1 = i8x16.shuffle(r5, r13, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t11_1 = i8x16.shuffle(r5, r13, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t12_1 = i8x16.shuffle(r6, r14, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t13_1 = i8x16.shuffle(r6, r14, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t14_1 = i8x16.shuffle(r7, r15, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t15_1 = i8x16.shuffle(r7, r15, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  r0 = t0_1;
  r1 = t1_1;
  r2 = t2_1;
  r3 = t3_1;
  r4 = t4_1;
  r5 = t5_1;
  r6 = t6_1;
  r7 = t7_1;
  r8 = t8_1;
  r9 = t9_1;
  r10 = t10_1;
  r11 = t11_1;
  r12 = t12_1;
  r13 = t13_1;
  r14 = t14_1;
  r15 = t15_1;
  const t0_2 = i8x16.shuffle(r0, r8, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t1_2 = i8x16.shuffle(r0, r8, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t2_2 = i8x16.shuffle(r1, r9, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t3_2 = i8x16.shuffle(r1, r9, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t4_2 = i8x16.shuffle(r2, r10, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t5_2 = i8x16.shuffle(r2, r10, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t6_2 = i8x16.shuffle(r3, r11, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t7_2 = i8x16.shuffle(r3, r11, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t8_2 = i8x16.shuffle(r4, r12, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t9_2 = i8x16.shuffle(r4, r12, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t10_2 = i8x16.shuffle(r5, r13, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t11_2 = i8x16.shuffle(r5, r13, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t12_2 = i8x16.shuffle(r6, r14, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t13_2 = i8x16.shuffle(r6, r14, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t14_2 = i8x16.shuffle(r7, r15, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t15_2 = i8x16.shuffle(r7, r15, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  r0 = t0_2;
  r1 = t1_2;
  r2 = t2_2;
  r3 = t3_2;
  r4 = t4_2;
  r5 = t5_2;
  r6 = t6_2;
  r7 = t7_2;
  r8 = t8_2;
  r9 = t9_2;
  r10 = t10_2;
  r11 = t11_2;
  r12 = t12_2;
  r13 = t13_2;
  r14 = t14_2;
  r15 = t15_2;
  const t0_3 = i8x16.shuffle(r0, r8, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t1_3 = i8x16.shuffle(r0, r8, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t2_3 = i8x16.shuffle(r1, r9, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t3_3 = i8x16.shuffle(r1, r9, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t4_3 = i8x16.shuffle(r2, r10, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t5_3 = i8x16.shuffle(r2, r10, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t6_3 = i8x16.shuffle(r3, r11, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t7_3 = i8x16.shuffle(r3, r11, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t8_3 = i8x16.shuffle(r4, r12, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t9_3 = i8x16.shuffle(r4, r12, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t10_3 = i8x16.shuffle(r5, r13, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t11_3 = i8x16.shuffle(r5, r13, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t12_3 = i8x16.shuffle(r6, r14, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t13_3 = i8x16.shuffle(r6, r14, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const t14_3 = i8x16.shuffle(r7, r15, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t15_3 = i8x16.shuffle(r7, r15, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  r0 = t0_3;
  r1 = t1_3;
  r2 = t2_3;
  r3 = t3_3;
  r4 = t4_3;
  r5 = t5_3;
  r6 = t6_3;
  r7 = t7_3;
  r8 = t8_3;
  r9 = t9_3;
  r10 = t10_3;
  r11 = t11_3;
  r12 = t12_3;
  r13 = t13_3;
  r14 = t14_3;
  r15 = t15_3;
  v128.store(out + 0 * outStride, r0);
  v128.store(out + 1 * outStride, r1);
  v128.store(out + 2 * outStride, r2);
  v128.store(out + 3 * outStride, r3);
  v128.store(out + 4 * outStride, r4);
  v128.store(out + 5 * outStride, r5);
  v128.store(out + 6 * outStride, r6);
  v128.store(out + 7 * outStride, r7);
  v128.store(out + 8 * outStride, r8);
  v128.store(out + 9 * outStride, r9);
  v128.store(out + 10 * outStride, r10);
  v128.store(out + 11 * outStride, r11);
  v128.store(out + 12 * outStride, r12);
  v128.store(out + 13 * outStride, r13);
  v128.store(out + 14 * outStride, r14);
  v128.store(out + 15 * outStride, r15);
}

/** out[c][r] = in[r][c] for an R×C byte matrix: 16×16 tiles in SIMD, the edges byte by byte. */
export function transpose8(inp: usize, out: usize, R: i32, C: i32): void {
  if (R == 3) { interleave3(inp, out, C); return; }
  const R16 = R & ~15, C16 = C & ~15;
  for (let r0 = 0; r0 < R16; r0 += 16) {
    for (let c0 = 0; c0 < C16; c0 += 16) {
      tile16(inp + <usize>r0 * <usize>C + <usize>c0, <usize>C, out + <usize>c0 * <usize>R + <usize>r0, <usize>R);
    }
  }
  // The right edge (columns C16..C) of every row, then the bottom rows (R16..R) of the left part.
  for (let c = C16; c < C; c++) {
    const o = out + <usize>c * <usize>R;
    for (let r = 0; r < R; r++) store<i8>(o + <usize>r, load<i8>(inp + <usize>r * <usize>C + <usize>c));
  }
  for (let c0 = 0; c0 < C16; c0 += 16) {
    for (let c = c0; c < c0 + 16; c++) {
      const o = out + <usize>c * <usize>R;
      for (let r = R16; r < R; r++) store<i8>(o + <usize>r, load<i8>(inp + <usize>r * <usize>C + <usize>c));
    }
  }
}

/**
 * Three rows of P bytes into P triples (an RGB input's planes into NHWC): sixteen pixels, 48 bytes, in five
 * shuffles.
 */
function interleave3(inp: usize, out: usize, P: i32): void {
  let p = 0;
  const b0 = inp, b1 = inp + <usize>P, b2 = inp + <usize>(2 * P);
  for (; p + 16 <= P; p += 16) {
    const a = v128.load(b0 + <usize>p), b = v128.load(b1 + <usize>p), c = v128.load(b2 + <usize>p);
    const abL = i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const abH = i8x16.shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const o = out + <usize>(3 * p);
    v128.store(o, i8x16.shuffle(abL, c, 0, 1, 16, 2, 3, 17, 4, 5, 18, 6, 7, 19, 8, 9, 20, 10));
    const t = i8x16.shuffle(abL, c, 11, 21, 12, 13, 22, 14, 15, 23, 0, 0, 24, 0, 0, 25, 0, 0);
    v128.store(o, i8x16.shuffle(t, abH, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 10, 18, 19, 13, 20, 21), 16);
    v128.store(o, i8x16.shuffle(abH, c, 26, 6, 7, 27, 8, 9, 28, 10, 11, 29, 12, 13, 30, 14, 15, 31), 32);
  }
  for (; p < P; p++) {
    const o = out + <usize>(3 * p);
    store<i8>(o, load<i8>(b0 + <usize>p));
    store<i8>(o, load<i8>(b1 + <usize>p), 1);
    store<i8>(o, load<i8>(b2 + <usize>p), 2);
  }
}
