// Convolution building blocks. The JS side (kernels.ts) plans scratch memory and calls them in order:
// buildV / buildV16 (int8 NHWC → zero-padded map, channels padded per group; buildV is skipped when the
// input already has that form), optionally im2col / im2col16, then a core into int32 accumulators or,
// when the int32 epilogue applies and every store is in bounds, straight to int8 through the epilogue:
// - convWide: 16 output channels × 2 pixels, lanes = output channels (int16 input, channel pairs splatted);
// - convCore: 4 output channels × 2 pixels over 8-channel chunks read with v128.load8x8_s, summed
//   horizontally at the end (any channel count);
// - dw3x3 / dwCore: depthwise, two taps of 8 channels per i32x4.dot_i16x8_s.
import { epiV, epiV8, store4 } from './epilogue';

@inline function copyBytes(d: usize, s: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) store<u64>(d + <usize>i, load<u64>(s + <usize>i));
  for (; i < n; i++) store<u8>(d + <usize>i, load<u8>(s + <usize>i));
}

/**
 * V[y][x][g·Cp + c] = in[ih][iw][g·Cg + c] at y = ih·uh + offT, x = iw·uw + offL (uh, uw > 1 insert zeros
 * for a transposed conv); everything else 0. Positions outside Hp × Wp are dropped (never read).
 */
export function buildV(inp: usize, inH: i32, inW: i32, C: i32, group: i32, Cg: i32, Cp: i32,
  uh: i32, uw: i32, offT: i32, offL: i32, V: usize, Hp: i32, Wp: i32): void {
  const Cs = group * Cp;
  memory.fill(V, 0, <usize>Hp * <usize>Wp * <usize>Cs);
  // Input columns that land inside V.
  let iw0 = 0;
  while (iw0 < inW && iw0 * uw + offL < 0) iw0++;
  let iw1 = inW;
  while (iw1 > iw0 && (iw1 - 1) * uw + offL >= Wp) iw1--;
  if (iw1 <= iw0) return;
  const contiguous = Cs == C && uw == 1;
  for (let ih = 0; ih < inH; ih++) {
    const y = ih * uh + offT;
    if (y < 0 || y >= Hp) continue;
    const src = inp + <usize>((ih * inW + iw0) * C);
    const dst = V + <usize>((y * Wp + iw0 * uw + offL) * Cs);
    if (contiguous) {
      memory.copy(dst, src, <usize>((iw1 - iw0) * C));
      continue;
    }
    for (let iw = iw0; iw < iw1; iw++) {
      const s = src + <usize>((iw - iw0) * C);
      const d = dst + <usize>((iw - iw0) * uw * Cs);
      for (let g = 0; g < group; g++) copyBytes(d + <usize>(g * Cp), s + <usize>(g * Cg), Cg);
    }
  }
}

/**
 * Receptive fields as rows: dst[p][(kh·kW + kw)·IC + c] = V[base(p) + kh·dH·rowStride + kw·dW·IC + c],
 * zero-padded to Kp. For layers with few input channels, where padding IC to 8 per tap would waste
 * most multiply-adds. With dW = 1 a kernel row is one contiguous run of V, copied 16 bytes at a time;
 * the overshoot lands where the next run (or the next row) is written afterwards; the call's last run is
 * copied exactly, so rows [oh0, oh1) can be built by one thread while another builds the next ones.
 */
export function im2col(V: usize, rowStride: i32, sH: i32, sW: i32, kH: i32, kW: i32, dH: i32, dW: i32,
  IC: i32, outH: i32, outW: i32, Kp: i32, dst: usize): void {
  const seg = kW * IC;
  const K = kH * seg;
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      const base = V + <usize>(oh * sH * rowStride + ow * sW * IC);
      const d0 = dst + <usize>((oh * outW + ow) * Kp);
      for (let kh = 0; kh < kH; kh++) {
        const s = base + <usize>(kh * dH * rowStride);
        const d = d0 + <usize>(kh * seg);
        if (dW == 1 && !(kh == kH - 1 && oh == outH - 1 && ow == outW - 1)) {
          for (let i = 0; i < seg; i += 16) v128.store(d + <usize>i, v128.load(s + <usize>i));
        } else if (dW == 1) {
          copyBytes(d, s, seg); // the call's last run: no overshoot past its rows (a thread may own the next)
        } else {
          for (let kw = 0; kw < kW; kw++) copyBytes(d + <usize>(kw * IC), s + <usize>(kw * dW * IC), IC);
        }
      }
      for (let k = K; k < Kp; k++) store<u8>(d0 + <usize>k, 0);
    }
  }
}

@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

let accUp: i32 = 0;
/** Four accumulators of output channels col..col+3 of one pixel: to int32 scratch, or through the epilogue. */
@inline function emit(r: v128, acc: usize, out: usize, p: i32, accStride: i32, outStride: i32, col: i32, bt32: usize): void {
  if (out == 0) {
    v128.store(acc + (<usize>(p * accStride + col) << 2), r);
  } else {
    const z = i32x4.add(i32x4.shl(r, accUp), v128.load(bt32 + (<usize>col << 2)));
    store4(out + <usize>(p * outStride + col), epiV(z));
  }
}

/**
 * Σ_t Σ_c V[base(p) + tapOff[t] + c] · W[b][t][c][j] for output channel col0 + 4b + j, output rows
 * [oh0, oh1). W: [ocBlocks][taps][chunks][4 oc][8 ch] int8. Four output channels × two pixels per step,
 * so each weight vector serves two pixels and each input vector four channels.
 * out = 0: int32 sums to acc (all four lanes of a block: lanes past the group's channels land in columns a
 * later group overwrites, or in the row's slack). out ≠ 0: int8 through the epilogue (every block full).
 */
export function convCore(V: usize, rowStride: i32, pixStride: i32, sH: i32, sW: i32, taps: i32, tapOff: usize,
  chunks: i32, W: usize, ocBlocks: i32, outW: i32, oh0: i32, oh1: i32, acc: usize, accStride: i32, col0: i32,
  out: usize, outStride: i32, bt32: usize, up: i32): void {
  accUp = up;
  const blockBytes = <usize>(taps * chunks) << 5;
  const step = <usize>(sW * pixStride);
  for (let b = 0; b < ocBlocks; b++) {
    const Wb = W + <usize>b * blockBytes;
    const col = col0 + (b << 2);
    for (let oh = oh0; oh < oh1; oh++) {
      const row = V + <usize>(oh * sH * rowStride);
      const p0 = oh * outW;
      let ow = 0;
      for (; ow + 2 <= outW; ow += 2) {
        const x0b = row + <usize>ow * step;
        let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
        let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
        let wp = Wb;
        for (let t = 0; t < taps; t++) {
          let x0p = x0b + <usize>load<i32>(tapOff + (<usize>t << 2));
          let x1p = x0p + step;
          for (let c = 0; c < chunks; c++) {
            const x0 = v128.load8x8_s(x0p);
            const x1 = v128.load8x8_s(x1p);
            let w = v128.load8x8_s(wp);
            a00 = i32x4.add(a00, i32x4.dot_i16x8_s(x0, w));
            a10 = i32x4.add(a10, i32x4.dot_i16x8_s(x1, w));
            w = v128.load8x8_s(wp, 8);
            a01 = i32x4.add(a01, i32x4.dot_i16x8_s(x0, w));
            a11 = i32x4.add(a11, i32x4.dot_i16x8_s(x1, w));
            w = v128.load8x8_s(wp, 16);
            a02 = i32x4.add(a02, i32x4.dot_i16x8_s(x0, w));
            a12 = i32x4.add(a12, i32x4.dot_i16x8_s(x1, w));
            w = v128.load8x8_s(wp, 24);
            a03 = i32x4.add(a03, i32x4.dot_i16x8_s(x0, w));
            a13 = i32x4.add(a13, i32x4.dot_i16x8_s(x1, w));
            wp += 32; x0p += 8; x1p += 8;
          }
        }
        emit(hsum4(a00, a01, a02, a03), acc, out, p0 + ow, accStride, outStride, col, bt32);
        emit(hsum4(a10, a11, a12, a13), acc, out, p0 + ow + 1, accStride, outStride, col, bt32);
      }
      for (; ow < outW; ow++) {
        const xb = row + <usize>ow * step;
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
        let wp = Wb;
        for (let t = 0; t < taps; t++) {
          let xp = xb + <usize>load<i32>(tapOff + (<usize>t << 2));
          for (let c = 0; c < chunks; c++) {
            const x = v128.load8x8_s(xp);
            a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x, v128.load8x8_s(wp)));
            a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x, v128.load8x8_s(wp, 8)));
            a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x, v128.load8x8_s(wp, 16)));
            a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x, v128.load8x8_s(wp, 24)));
            wp += 32; xp += 8;
          }
        }
        emit(hsum4(a0, a1, a2, a3), acc, out, p0 + ow, accStride, outStride, col, bt32);
      }
    }
  }
}

/** Eight channels of one pixel: to int32 scratch (stride Cp), or through the epilogue to int8 (stride C). */
@inline function emit8(a0: v128, a1: v128, acc: usize, out: usize, p: i32, Cp: i32, C: i32, c: i32, bt32: usize): void {
  if (out == 0) {
    const o = acc + (<usize>(p * Cp + c) << 2);
    v128.store(o, a0);
    v128.store(o, a1, 16);
  } else {
    const b = bt32 + (<usize>c << 2);
    const n = epiV8(i32x4.add(i32x4.shl(a0, accUp), v128.load(b)), i32x4.add(i32x4.shl(a1, accUp), v128.load(b, 16)));
    v128.store64_lane(out + <usize>(p * C + c), i8x16.narrow_i16x8_s(n, n), 0);
  }
}

// Depthwise weights: per 8-channel slice, per pair of taps (a, b), two int16 vectors interleaving the
// pair — [wa·c0, wb·c0, wa·c1, wb·c1, wa·c2, wb·c2, wa·c3, wb·c3] and the same for c4..c7 — so one
// i32x4.dot_i16x8_s gives two taps of four channels. An odd last tap is paired with zero weights.

/**
 * Depthwise: Σ_t V[base(p) + tapOff[t] + c] · W[t][c], eight channels per step. tapOff has an entry past
 * the last tap (any in-bounds offset: its weights are zero). out ≠ 0 (C a multiple of 8): int8 through
 * the epilogue.
 */
export function dwCore(V: usize, rowStride: i32, pixStride: i32, sH: i32, sW: i32, taps: i32, tapOff: usize,
  W: usize, Cp: i32, outW: i32, oh0: i32, oh1: i32, acc: usize, out: usize, C: i32, bt32: usize, up: i32): void {
  accUp = up;
  const pairs = (taps + 1) >> 1;
  const sliceBytes = <usize>pairs << 5;
  for (let oh = oh0; oh < oh1; oh++) {
    const row = V + <usize>(oh * sH * rowStride);
    for (let ow = 0; ow < outW; ow++) {
      const base = row + <usize>(ow * sW * pixStride);
      for (let c = 0; c < Cp; c += 8) {
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
        let wp = W + <usize>(c >> 3) * sliceBytes;
        const xc = base + <usize>c;
        for (let q = 0; q < pairs; q++) {
          const xa = xc + <usize>load<i32>(tapOff + (<usize>q << 3));
          const xb = xc + <usize>load<i32>(tapOff + (<usize>q << 3), 4);
          const va = v128.load8x8_s(xa), vb = v128.load8x8_s(xb);
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.shuffle(va, vb, 0, 8, 1, 9, 2, 10, 3, 11), v128.load(wp)));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.shuffle(va, vb, 4, 12, 5, 13, 6, 14, 7, 15), v128.load(wp, 16)));
          wp += 32;
        }
        emit8(a0, a1, acc, out, oh * outW + ow, Cp, C, c, bt32);
      }
    }
  }
}

@inline function lo(va: v128, vb: v128): v128 {
  return i16x8.shuffle(va, vb, 0, 8, 1, 9, 2, 10, 3, 11);
}
@inline function hi(va: v128, vb: v128): v128 {
  return i16x8.shuffle(va, vb, 4, 12, 5, 13, 6, 14, 7, 15);
}

/**
 * Depthwise 3×3: the tap offsets are locals (no table) and the ten weight vectors of an 8-channel slice
 * are loaded once per output row. Same contract as dwCore.
 */
export function dw3x3(V: usize, rowStride: i32, pixStride: i32, sH: i32, sW: i32, dH: i32, dW: i32,
  W: usize, Cp: i32, outW: i32, oh0: i32, oh1: i32, acc: usize, out: usize, C: i32, bt32: usize, up: i32): void {
  accUp = up;
  const r1 = <usize>(dH * rowStride), r2 = r1 << 1;
  const k1 = <usize>(dW * pixStride), k2 = k1 << 1;
  const step = <usize>(sW * pixStride);
  for (let oh = oh0; oh < oh1; oh++) {
    const row = V + <usize>(oh * sH * rowStride);
    for (let c = 0; c < Cp; c += 8) {
      const wc = W + <usize>(c >> 3) * 160;
      let xb = row + <usize>c;
      for (let ow = 0; ow < outW; ow++) {
        const x0 = v128.load8x8_s(xb), x1 = v128.load8x8_s(xb + k1);
        let a0 = i32x4.dot_i16x8_s(lo(x0, x1), v128.load(wc));
        let a1 = i32x4.dot_i16x8_s(hi(x0, x1), v128.load(wc, 16));
        const x2 = v128.load8x8_s(xb + k2), x3 = v128.load8x8_s(xb + r1);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(lo(x2, x3), v128.load(wc, 32)));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(hi(x2, x3), v128.load(wc, 48)));
        const x4 = v128.load8x8_s(xb + r1 + k1), x5 = v128.load8x8_s(xb + r1 + k2);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(lo(x4, x5), v128.load(wc, 64)));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(hi(x4, x5), v128.load(wc, 80)));
        const x6 = v128.load8x8_s(xb + r2), x7 = v128.load8x8_s(xb + r2 + k1);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(lo(x6, x7), v128.load(wc, 96)));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(hi(x6, x7), v128.load(wc, 112)));
        const x8 = v128.load8x8_s(xb + r2 + k2);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(lo(x8, x8), v128.load(wc, 128)));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(hi(x8, x8), v128.load(wc, 144)));
        emit8(a0, a1, acc, out, oh * outW + ow, Cp, C, c, bt32);
        xb += step;
      }
    }
  }
}

/** im2col through a tap-offset table (transposed convs flip the taps; dilated rows are not contiguous). */
export function im2colTaps(V: usize, rowStride: i32, pixStride: i32, sH: i32, sW: i32, taps: i32, tapOff: usize,
  IC: i32, outH: i32, outW: i32, Kp: i32, dst: usize): void {
  const K = taps * IC;
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      const base = V + <usize>(oh * sH * rowStride + ow * sW * pixStride);
      const d = dst + <usize>((oh * outW + ow) * Kp);
      for (let t = 0; t < taps; t++) copyBytes(d + <usize>(t * IC), base + <usize>load<i32>(tapOff + (<usize>t << 2)), IC);
      for (let k = K; k < Kp; k++) store<u8>(d + <usize>k, 0);
    }
  }
}

/**
 * V16[y][x][g·Cp + c] = in[ih][iw][g·Cg + c] as int16 (Cp = Cg rounded up to 2), the input of convWide;
 * same placement rules as buildV.
 */
export function buildV16(inp: usize, inH: i32, inW: i32, C: i32, group: i32, Cg: i32, Cp: i32,
  uh: i32, uw: i32, offT: i32, offL: i32, V: usize, Hp: i32, Wp: i32): void {
  const Cs = group * Cp;
  if (Cs == C && uh == 1 && uw == 1 && offT == 0 && offL == 0 && Hp <= inH && Wp <= inW) {
    // Every element of V comes from the input, rows of Wp·C contiguous values: one widening pass.
    const n = Wp * C;
    for (let y = 0; y < Hp; y++) {
      const s = inp + <usize>(y * inW * C);
      const d = V + (<usize>(y * n) << 1);
      let i = 0;
      for (; i + 8 <= n; i += 8) v128.store(d + (<usize>i << 1), v128.load8x8_s(s + <usize>i));
      for (; i < n; i++) store<i16>(d + (<usize>i << 1), <i16>load<i8>(s + <usize>i));
    }
    return;
  }
  memory.fill(V, 0, <usize>Hp * <usize>Wp * <usize>Cs * 2);
  for (let ih = 0; ih < inH; ih++) {
    const y = ih * uh + offT;
    if (y < 0 || y >= Hp) continue;
    for (let iw = 0; iw < inW; iw++) {
      const x = iw * uw + offL;
      if (x < 0 || x >= Wp) continue;
      const s0 = inp + <usize>((ih * inW + iw) * C);
      const d0 = V + (<usize>((y * Wp + x) * Cs) << 1);
      for (let g = 0; g < group; g++) {
        const s = s0 + <usize>(g * Cg);
        const d = d0 + (<usize>(g * Cp) << 1);
        let c = 0;
        for (; c + 8 <= Cg; c += 8) v128.store(d + (<usize>c << 1), v128.load8x8_s(s + <usize>c));
        for (; c < Cg; c++) store<i16>(d + (<usize>c << 1), <i16>load<i8>(s + <usize>c));
      }
    }
  }
}

/** Sixteen output channels of one pixel: to int32 scratch, or through the epilogue as one 16-byte store. */
@inline function emit16(r0: v128, r1: v128, r2: v128, r3: v128, acc: usize, out: usize, p: i32, accStride: i32,
  outStride: i32, col: i32, bt32: usize): void {
  if (out == 0) {
    const o = acc + (<usize>(p * accStride + col) << 2);
    v128.store(o, r0); v128.store(o, r1, 16); v128.store(o, r2, 32); v128.store(o, r3, 48);
  } else {
    const b = bt32 + (<usize>col << 2);
    v128.store(out + <usize>(p * outStride + col), i8x16.narrow_i16x8_s(
      epiV8(i32x4.add(i32x4.shl(r0, accUp), v128.load(b)), i32x4.add(i32x4.shl(r1, accUp), v128.load(b, 16))),
      epiV8(i32x4.add(i32x4.shl(r2, accUp), v128.load(b, 32)), i32x4.add(i32x4.shl(r3, accUp), v128.load(b, 48)))));
  }
}

/**
 * Sixteen output channels × two pixels per step with the lanes holding output channels (no horizontal
 * sums): a pair of int16 input channels is splatted to all lanes and dotted with the pair's weights for
 * four channels at a time. V: int16 (buildV16). W: [blocks][taps][pairs][16 oc][2 ch] int16.
 */
export function convWide(V: usize, rowStride: i32, pixStride: i32, sH: i32, sW: i32, taps: i32, tapOff: usize,
  pairs: i32, W: usize, blocks: i32, outW: i32, oh0: i32, oh1: i32, acc: usize, accStride: i32, col0: i32,
  out: usize, outStride: i32, bt32: usize, up: i32): void {
  accUp = up;
  const blockBytes = <usize>(taps * pairs) << 6;
  const step = <usize>(sW * pixStride);
  for (let b = 0; b < blocks; b++) {
    const Wb = W + <usize>b * blockBytes;
    const col = col0 + (b << 4);
    for (let oh = oh0; oh < oh1; oh++) {
      const row = V + <usize>(oh * sH * rowStride);
      const p0 = oh * outW;
      let ow = 0;
      for (; ow + 2 <= outW; ow += 2) {
        const x0b = row + <usize>ow * step;
        let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
        let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
        let wp = Wb;
        for (let t = 0; t < taps; t++) {
          let x0p = x0b + <usize>load<i32>(tapOff + (<usize>t << 2));
          let x1p = x0p + step;
          for (let q = 0; q < pairs; q++) {
            const x0 = v128.load32_splat(x0p);
            const x1 = v128.load32_splat(x1p);
            let w = v128.load(wp);
            a00 = i32x4.add(a00, i32x4.dot_i16x8_s(x0, w));
            a10 = i32x4.add(a10, i32x4.dot_i16x8_s(x1, w));
            w = v128.load(wp, 16);
            a01 = i32x4.add(a01, i32x4.dot_i16x8_s(x0, w));
            a11 = i32x4.add(a11, i32x4.dot_i16x8_s(x1, w));
            w = v128.load(wp, 32);
            a02 = i32x4.add(a02, i32x4.dot_i16x8_s(x0, w));
            a12 = i32x4.add(a12, i32x4.dot_i16x8_s(x1, w));
            w = v128.load(wp, 48);
            a03 = i32x4.add(a03, i32x4.dot_i16x8_s(x0, w));
            a13 = i32x4.add(a13, i32x4.dot_i16x8_s(x1, w));
            wp += 64; x0p += 4; x1p += 4;
          }
        }
        emit16(a00, a01, a02, a03, acc, out, p0 + ow, accStride, outStride, col, bt32);
        emit16(a10, a11, a12, a13, acc, out, p0 + ow + 1, accStride, outStride, col, bt32);
      }
      for (; ow < outW; ow++) {
        const xb = row + <usize>ow * step;
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
        let wp = Wb;
        for (let t = 0; t < taps; t++) {
          let xp = xb + <usize>load<i32>(tapOff + (<usize>t << 2));
          for (let q = 0; q < pairs; q++) {
            const x = v128.load32_splat(xp);
            a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x, v128.load(wp)));
            a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x, v128.load(wp, 16)));
            a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x, v128.load(wp, 32)));
            a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x, v128.load(wp, 48)));
            wp += 64; xp += 4;
          }
        }
        emit16(a0, a1, a2, a3, acc, out, p0 + ow, accStride, outStride, col, bt32);
      }
    }
  }
}

/** im2col into int16 rows (the input of convWide); same contract as im2col. */
export function im2col16(V: usize, rowStride: i32, sH: i32, sW: i32, kH: i32, kW: i32, dH: i32, dW: i32,
  IC: i32, outH: i32, outW: i32, Kp: i32, dst: usize): void {
  const seg = kW * IC;
  const K = kH * seg;
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      const base = V + <usize>(oh * sH * rowStride + ow * sW * IC);
      const d0 = dst + (<usize>((oh * outW + ow) * Kp) << 1);
      for (let kh = 0; kh < kH; kh++) {
        const s = base + <usize>(kh * dH * rowStride);
        const d = d0 + (<usize>(kh * seg) << 1);
        if (dW == 1 && !(kh == kH - 1 && oh == outH - 1 && ow == outW - 1)) {
          for (let i = 0; i < seg; i += 8) v128.store(d + (<usize>i << 1), v128.load8x8_s(s + <usize>i));
        } else if (dW == 1) {
          for (let i = 0; i < seg; i++) store<i16>(d + (<usize>i << 1), <i16>load<i8>(s + <usize>i));
        } else {
          for (let kw = 0; kw < kW; kw++) {
            for (let c = 0; c < IC; c++) {
              store<i16>(d + (<usize>(kw * IC + c) << 1), <i16>load<i8>(s + <usize>(kw * dW * IC + c)));
            }
          }
        }
      }
      for (let k = K; k < Kp; k++) store<i16>(d0 + (<usize>k << 1), 0);
    }
  }
}

/** im2colTaps into int16 rows. */
export function im2colTaps16(V: usize, rowStride: i32, pixStride: i32, sH: i32, sW: i32, taps: i32, tapOff: usize,
  IC: i32, outH: i32, outW: i32, Kp: i32, dst: usize): void {
  const K = taps * IC;
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      const base = V + <usize>(oh * sH * rowStride + ow * sW * pixStride);
      const d = dst + (<usize>((oh * outW + ow) * Kp) << 1);
      for (let t = 0; t < taps; t++) {
        const s = base + <usize>load<i32>(tapOff + (<usize>t << 2));
        for (let c = 0; c < IC; c++) store<i16>(d + (<usize>(t * IC + c) << 1), <i16>load<i8>(s + <usize>c));
      }
      for (let k = K; k < Kp; k++) store<i16>(d + (<usize>k << 1), 0);
    }
  }
}
