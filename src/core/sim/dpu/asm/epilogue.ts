// The epilogue of docs/simulator.md: z = acc·2^accUp + bias·2^biasUp, the fused nonlinearity, one
// DPU_ROUND (floor(x + 0.5)) and saturation to int8. `epi` is the exact int64 form; `epiV` computes the
// same on four int32 lanes and is used only when `fitsI32` proves no intermediate can leave int32.

export const ACT_NONE = 0;
export const ACT_RELU = 1;
export const ACT_RELU6 = 2;
export const ACT_LEAKY = 3;
export const ACT_HSIGMOID = 4;
export const ACT_HSWISH = 5;

let eAccUp: i32 = 0;
let eBiasUp: i32 = 0;
let eShift: i32 = 0;
let eAct: i32 = 0;
let eRelu6Max: i32 = 0;
let ePreShift: i32 = 0;
let eFpPre: i32 = 0;
let eFpOut: i32 = 0;

// Lane constants of epiV, splatted once per kernel call rather than per vector.
let vHalf: v128 = i32x4.splat(0);
let vHalfLeaky: v128 = i32x4.splat(0);
let vHalfPre: v128 = i32x4.splat(0);
let vHalfH: v128 = i32x4.splat(0);
let vHalfOut: v128 = i32x4.splat(0);
let vRelu6: v128 = i32x4.splat(0);
let vThree: v128 = i32x4.splat(0);
let vSix: v128 = i32x4.splat(0);

// Hard-swish on int16 lanes (epiV8): valid when fp_pre ≤ 8 and 0 ≤ fp_pre + 7 − fp_out ≤ 15.
let hswish16 = false;
let vThree16: v128 = i16x8.splat(0);
let vSix16: v128 = i16x8.splat(0);
let vPow16: v128 = i16x8.splat(0);
let outShift16: i32 = 0;

@inline function half(s: i32): i32 {
  return s > 0 && s < 32 ? 1 << (s - 1) : 0;
}

export function setEpilogue(accUp: i32, biasUp: i32, shift: i32, act: i32, relu6Max: i32,
  preShift: i32, fpPre: i32, fpOut: i32): void {
  eAccUp = accUp; eBiasUp = biasUp; eShift = shift; eAct = act; eRelu6Max = relu6Max;
  ePreShift = preShift; eFpPre = fpPre; eFpOut = fpOut;
  vHalf = i32x4.splat(half(shift));
  vHalfLeaky = i32x4.splat(half(shift + 8));
  vHalfPre = i32x4.splat(half(preShift));
  vHalfH = i32x4.splat(half(act == ACT_HSIGMOID ? 14 + fpPre - fpOut : 14 + fpPre - 7));
  vHalfOut = i32x4.splat(half(fpPre + 7 - fpOut));
  vRelu6 = i32x4.splat(relu6Max);
  vThree = i32x4.splat(fpPre >= 0 && fpPre < 24 ? 3 << fpPre : 0);
  vSix = i32x4.splat(fpPre >= 0 && fpPre < 24 ? 6 << fpPre : 0);
  outShift16 = fpPre + 7 - fpOut;
  hswish16 = act == ACT_HSWISH && fpPre >= 0 && fpPre <= 8 && outShift16 >= 0 && outShift16 <= 15;
  if (hswish16) {
    const three: i32 = 3 << fpPre, six: i32 = 6 << fpPre;
    const pow: i32 = outShift16 > 0 ? 1 << (15 - outShift16) : 0;
    vThree16 = i16x8.splat(<i16>three);
    vSix16 = i16x8.splat(<i16>six);
    vPow16 = i16x8.splat(<i16>pow);
  }
}

/** round(x, s) of docs/simulator.md on int64: s > 0 → (x + 2^(s-1)) >> s, s < 0 → x·2^-s (saturating). */
@inline export function rnd64(x: i64, s: i32): i64 {
  if (s > 0) {
    if (s > 62) return 0; // |x| < 2^61 here, so the rounded value is 0
    return (x + (<i64>1 << <i64>(s - 1))) >> <i64>s;
  }
  if (s == 0) return x;
  // Left shift: any |x| ≥ 256 saturates anyway, so clamping first keeps the shift exact and in range.
  let k = -s;
  if (k > 16) k = 16;
  if (x > 256) x = 256;
  if (x < -256) x = -256;
  return x << <i64>k;
}

@inline export function sat8(x: i64): i32 {
  return x > 127 ? 127 : x < -128 ? -128 : <i32>x;
}

/** Nonlinearity, rounding and saturation of one exact pre-activation z (units 2^-(S+L)). */
export function epi(z: i64): i32 {
  const act = eAct;
  if (act == ACT_NONE) return sat8(rnd64(z, eShift));
  if (act == ACT_RELU) return sat8(rnd64(z > 0 ? z : 0, eShift));
  if (act == ACT_RELU6) {
    let r = rnd64(z > 0 ? z : 0, eShift);
    if (r > <i64>eRelu6Max) r = <i64>eRelu6Max;
    return sat8(r);
  }
  if (act == ACT_LEAKY) return z < 0 ? sat8(rnd64(z * 26, eShift + 8)) : sat8(rnd64(z, eShift));
  // hard-sigmoid / hard-swish: the pre-activation is first quantized at fp_pre (XIR hsigmoid_in).
  const p = <i64>sat8(rnd64(z, ePreShift));
  let t = p + (<i64>3 << <i64>eFpPre);
  const six = <i64>6 << <i64>eFpPre;
  if (t < 0) t = 0;
  if (t > six) t = six;
  if (act == ACT_HSIGMOID) return sat8(rnd64(t * 2731, 14 + eFpPre - eFpOut));
  const h = <i64>sat8(rnd64(t * 2731, 14 + eFpPre - 7));
  return sat8(rnd64(p * h, eFpPre + 7 - eFpOut));
}

/** z for one accumulator and a precomputed bias term (bias·2^biasUp). */
@inline export function zOf(acc: i32, biasTerm: i64): i64 {
  return (<i64>acc << <i64>eAccUp) + biasTerm;
}

export function biasUp(): i32 {
  return eBiasUp;
}

function shiftOk(s: i32, x: f64): bool {
  // int32 lanes: a right shift must stay < 32 and x + 2^(s-1) must not overflow.
  if (s > 31) return false;
  if (s > 0) return x + Math.pow(2, s - 1) < 2147483647.0;
  return x < 2147483647.0;
}

/**
 * Whether every intermediate of `epiV` stays inside int32 when |acc| ≤ maxAcc and |bias term| ≤ maxBias.
 * Otherwise the caller uses the int64 `epi`.
 */
export function fitsI32(maxAcc: f64, maxBias: f64): bool {
  if (eAccUp < 0 || eAccUp > 30) return false;
  const z = maxAcc * Math.pow(2, eAccUp) + maxBias;
  const act = eAct;
  if (act == ACT_LEAKY) return shiftOk(eShift, z) && shiftOk(eShift + 8, z * 26);
  if (act == ACT_HSIGMOID || act == ACT_HSWISH) {
    if (eFpPre < 0 || eFpPre > 12) return false; // t = clamp(p + 3·2^fp_pre, 0, 6·2^fp_pre) < 2^15
    const t = 6 * Math.pow(2, eFpPre) * 2731;
    if (!shiftOk(ePreShift, z) || !shiftOk(14 + eFpPre - 7, t)) return false;
    return act == ACT_HSIGMOID ? shiftOk(14 + eFpPre - eFpOut, t) : shiftOk(eFpPre + 7 - eFpOut, 128 * 127);
  }
  return shiftOk(eShift, z);
}

/** round(z, s) on int32 lanes (only under `fitsI32`); h = splat(2^(s-1)) for s > 0. */
@inline export function rndV(z: v128, s: i32, h: v128): v128 {
  if (s > 0) return i32x4.shr_s(i32x4.add(z, h), s);
  if (s == 0) return z;
  let k = -s;
  if (k > 16) k = 16;
  return i32x4.shl(i32x4.min_s(i32x4.max_s(z, i32x4.splat(-256)), i32x4.splat(256)), k);
}

/** `epi` on four lanes of z (already acc·2^accUp + bias term); the result still needs saturation. */
@inline export function epiV(z: v128): v128 {
  const act = eAct;
  const zero = i32x4.splat(0);
  if (act == ACT_NONE) return rndV(z, eShift, vHalf);
  if (act == ACT_RELU) return rndV(i32x4.max_s(z, zero), eShift, vHalf);
  if (act == ACT_RELU6) return i32x4.min_s(rndV(i32x4.max_s(z, zero), eShift, vHalf), vRelu6);
  if (act == ACT_LEAKY) {
    const pos = rndV(z, eShift, vHalf);
    const neg = rndV(i32x4.mul(z, i32x4.splat(26)), eShift + 8, vHalfLeaky);
    return v128.bitselect(neg, pos, i32x4.lt_s(z, zero));
  }
  const p = i32x4.min_s(i32x4.max_s(rndV(z, ePreShift, vHalfPre), i32x4.splat(-128)), i32x4.splat(127));
  const t = i32x4.min_s(i32x4.max_s(i32x4.add(p, vThree), zero), vSix);
  // t < 2^15 (fp_pre ≤ 12, checked by fitsI32 for this form): t·2731 is one dot with (2731, 0) pairs.
  const t2731 = i32x4.dot_i16x8_s(t, i32x4.splat(2731));
  if (act == ACT_HSIGMOID) return rndV(t2731, 14 + eFpPre - eFpOut, vHalfH);
  const h = i32x4.min_s(rndV(t2731, 14 + eFpPre - 7, vHalfH), i32x4.splat(127));
  // |p|·h ≤ 128·127: the product fits int16 lanes, and p, h fit int16 — one dot again.
  return rndV(i32x4.dot_i16x8_s(p, h), eFpPre + 7 - eFpOut, vHalfOut);
}

/**
 * `epi` on eight lanes (z0: lanes 0–3, z1: lanes 4–7) as int16 values still to be narrowed to int8.
 * Hard-swish runs on int16 lanes: i16x8.q15mulr_sat_s computes (a·b + 2^14) >> 15, i.e. DPU_ROUND of
 * a·b/2^15, exactly (the lone saturating case, −2^15·−2^15, cannot occur here), so
 * h = round(t·2731 / 2^(7+fp_pre)) = q15mulr(t·2^(8−fp_pre), 2731) and y = round(p·h / 2^s) = q15mulr(p·h, 2^(15−s)).
 */
@inline export function epiV8(z0: v128, z1: v128): v128 {
  if (hswish16) {
    const p = i16x8.min_s(i16x8.max_s(
      i16x8.narrow_i32x4_s(rndV(z0, ePreShift, vHalfPre), rndV(z1, ePreShift, vHalfPre)), i16x8.splat(-128)), i16x8.splat(127));
    const t = i16x8.min_s(i16x8.max_s(i16x8.add(p, vThree16), i16x8.splat(0)), vSix16);
    const h = i16x8.min_s(i16x8.q15mulr_sat_s(i16x8.shl(t, 8 - eFpPre), i16x8.splat(2731)), i16x8.splat(127));
    const ph = i16x8.mul(p, h);
    return outShift16 == 0 ? ph : i16x8.q15mulr_sat_s(ph, vPow16);
  }
  return i16x8.narrow_i32x4_s(epiV(z0), epiV(z1));
}

/** Saturating narrow of four int32 lanes to int8, stored as 4 bytes. */
@inline export function store4(ptr: usize, r: v128): void {
  const n16 = i16x8.narrow_i32x4_s(r, r);
  v128.store32_lane(ptr, i8x16.narrow_i16x8_s(n16, n16), 0);
}

/**
 * Bias terms per channel: int64 bias·2^biasUp at bt, and the same as int32 at bt + 8·C (valid when the
 * caller's fitsI32 check passed). Returns max |bias term| (0 without bias).
 */
export function prepareBias(bias: usize, C: i32, bt: usize): f64 {
  let m: f64 = 0;
  const up = <i64>eBiasUp;
  for (let c = 0; c < C; c++) {
    const v: i64 = bias == 0 ? 0 : <i64>load<i32>(bias + (<usize>c << 2)) << up;
    store<i64>(bt + (<usize>c << 3), v);
    store<i32>(bt + (<usize>C << 3) + (<usize>c << 2), <i32>v);
    const a = Math.abs(<f64>v);
    if (a > m) m = a;
  }
  return m;
}

/** max |acc[p][c]| over P rows of C values, accStride apart. */
function maxAbs(acc: usize, accStride: i32, P: i32, C: i32): f64 {
  let m = i32x4.splat(0);
  let s: i64 = 0;
  for (let p = 0; p < P; p++) {
    const a = acc + (<usize>(p * accStride) << 2);
    let c = 0;
    // |−2^31| wraps to −2^31 in i32x4.abs: compare as unsigned.
    for (; c + 4 <= C; c += 4) m = i32x4.max_u(m, i32x4.abs(v128.load(a + (<usize>c << 2))));
    for (; c < C; c++) {
      const v = abs<i64>(<i64>load<i32>(a + (<usize>c << 2)));
      if (v > s) s = v;
    }
  }
  m = i32x4.max_u(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
  m = i32x4.max_u(m, i32x4.shuffle(m, m, 1, 0, 3, 2));
  const v = <i64><u32>i32x4.extract_lane(m, 0);
  return <f64>(v > s ? v : s);
}

/**
 * out[p][c] = epilogue(acc[p][c], bias term[c]) for P pixels of C channels; acc rows are accStride int32
 * apart, out rows C bytes apart. fast: the int32 path (see fitsI32). When the worst-case bound refused
 * it, the accumulators' actual range (maxBias: max |bias term|) may still allow it.
 */
export function epilogueRows(acc: usize, accStride: i32, out: usize, P: i32, C: i32, bt: usize, fast: bool, maxBias: f64): void {
  if (!fast) fast = fitsI32(maxAbs(acc, accStride, P, C), maxBias);
  const bt32 = bt + (<usize>C << 3);
  const up = eAccUp;
  for (let p = 0; p < P; p++) {
    const a = acc + (<usize>(p * accStride) << 2);
    const o = out + <usize>(p * C);
    let c = 0;
    if (fast) {
      for (; c + 16 <= C; c += 16) {
        const ap = a + (<usize>c << 2);
        const bp = bt32 + (<usize>c << 2);
        v128.store(o + c, i8x16.narrow_i16x8_s(
          epiV8(i32x4.add(i32x4.shl(v128.load(ap), up), v128.load(bp)), i32x4.add(i32x4.shl(v128.load(ap, 16), up), v128.load(bp, 16))),
          epiV8(i32x4.add(i32x4.shl(v128.load(ap, 32), up), v128.load(bp, 32)), i32x4.add(i32x4.shl(v128.load(ap, 48), up), v128.load(bp, 48)))));
      }
      for (; c + 4 <= C; c += 4) {
        store4(o + c, epiV(i32x4.add(i32x4.shl(v128.load(a + (<usize>c << 2)), up), v128.load(bt32 + (<usize>c << 2)))));
      }
    }
    for (; c < C; c++) {
      store<i8>(o + c, <i8>epi(zOf(load<i32>(a + (<usize>c << 2)), load<i64>(bt + (<usize>c << 3)))));
    }
  }
}
