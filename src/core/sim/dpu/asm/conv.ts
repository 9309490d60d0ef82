// Convolution building blocks. The JS side (kernels.ts) plans scratch memory and calls them in order:
// buildV (int8 NHWC → zero-padded int16 map), optionally im2col, then convCore or dwCore into int32
// accumulators, then the epilogue. Weights arrive packed as int16 so the inner loop is one load and one
// i32x4.dot_i16x8_s per 8 input channels and output channel.

/**
 * V[y][x][g·Cp + c] = in[ih][iw][g·Cg + c] at y = ih·uh + offT, x = iw·uw + offL (uh, uw > 1 insert zeros
 * for a transposed conv); everything else 0. Positions outside Hp × Wp are dropped (never read).
 */
export function buildV(inp: usize, inH: i32, inW: i32, C: i32, group: i32, Cg: i32, Cp: i32,
  uh: i32, uw: i32, offT: i32, offL: i32, V: usize, Hp: i32, Wp: i32): void {
  const Cs = group * Cp;
  memory.fill(V, 0, <usize>Hp * <usize>Wp * <usize>Cs * 2);
  for (let ih = 0; ih < inH; ih++) {
    const y = ih * uh + offT;
    if (y < 0 || y >= Hp) continue;
    for (let iw = 0; iw < inW; iw++) {
      const x = iw * uw + offL;
      if (x < 0 || x >= Wp) continue;
      const src = inp + <usize>((ih * inW + iw) * C);
      const dst = V + (<usize>((y * Wp + x) * Cs) << 1);
      for (let g = 0; g < group; g++) {
        const s = src + <usize>(g * Cg);
        const d = dst + (<usize>(g * Cp) << 1);
        let c = 0;
        for (; c + 8 <= Cg; c += 8) v128.store(d + (<usize>c << 1), v128.load8x8_s(s + <usize>c));
        for (; c < Cg; c++) store<i16>(d + (<usize>c << 1), <i16>load<i8>(s + <usize>c));
      }
    }
  }
}

/**
 * Receptive fields as rows: dst[p][t·IC + c] = V[base(p) + tapOff[t] + c], zero-padded to Kp. For layers
 * with few input channels, where padding IC to 8 per tap would waste most of the multiply-adds.
 */
export function im2col(V: usize, rowStride: i32, pixStride: i32, sH: i32, sW: i32, taps: i32, tapOff: usize,
  IC: i32, outH: i32, outW: i32, Kp: i32, dst: usize): void {
  const K = taps * IC;
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      const base = V + <usize>(oh * sH * rowStride + ow * sW * pixStride);
      let d = dst + (<usize>((oh * outW + ow) * Kp) << 1);
      for (let t = 0; t < taps; t++) {
        const s = base + <usize>load<i32>(tapOff + (<usize>t << 2));
        for (let c = 0; c < IC; c++) store<i16>(d + (<usize>c << 1), load<i16>(s + (<usize>c << 1)));
        d += <usize>IC << 1;
      }
      for (let k = K; k < Kp; k++) { store<i16>(d, 0); d += 2; }
    }
  }
}

@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/**
 * acc[p][col0 + 4b + j] = Σ_t Σ_c V[base(p) + tapOff[t] + c] · W[b][t][c][j] for output rows [oh0, oh1).
 * W: [ocBlocks][taps][chunks][4 oc][8 ch] int16. Four output channels × two pixels per step, so each
 * weight vector serves two pixels and each input vector four channels. Stores all four lanes of a block:
 * lanes past the group's channels land in columns a later group overwrites, or in the row's slack.
 */
export function convCore(V: usize, rowStride: i32, pixStride: i32, sH: i32, sW: i32, taps: i32, tapOff: usize,
  chunks: i32, W: usize, ocBlocks: i32, outW: i32, oh0: i32, oh1: i32, acc: usize, accStride: i32, col0: i32): void {
  const blockBytes = <usize>(taps * chunks) << 6;
  const step = <usize>(sW * pixStride);
  for (let b = 0; b < ocBlocks; b++) {
    const Wb = W + <usize>b * blockBytes;
    for (let oh = oh0; oh < oh1; oh++) {
      const row = V + <usize>(oh * sH * rowStride);
      const accRow = acc + (<usize>(oh * outW * accStride + col0 + (b << 2)) << 2);
      let ow = 0;
      for (; ow + 2 <= outW; ow += 2) {
        const p0 = row + <usize>ow * step;
        let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a02 = i32x4.splat(0), a03 = i32x4.splat(0);
        let a10 = i32x4.splat(0), a11 = i32x4.splat(0), a12 = i32x4.splat(0), a13 = i32x4.splat(0);
        let wp = Wb;
        for (let t = 0; t < taps; t++) {
          let x0p = p0 + <usize>load<i32>(tapOff + (<usize>t << 2));
          let x1p = x0p + step;
          for (let c = 0; c < chunks; c++) {
            const x0 = v128.load(x0p);
            const x1 = v128.load(x1p);
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
            wp += 64; x0p += 16; x1p += 16;
          }
        }
        const o = accRow + (<usize>(ow * accStride) << 2);
        v128.store(o, hsum4(a00, a01, a02, a03));
        v128.store(o + (<usize>accStride << 2), hsum4(a10, a11, a12, a13));
      }
      for (; ow < outW; ow++) {
        const p0 = row + <usize>ow * step;
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
        let wp = Wb;
        for (let t = 0; t < taps; t++) {
          let xp = p0 + <usize>load<i32>(tapOff + (<usize>t << 2));
          for (let c = 0; c < chunks; c++) {
            const x = v128.load(xp);
            a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x, v128.load(wp)));
            a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x, v128.load(wp, 16)));
            a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x, v128.load(wp, 32)));
            a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x, v128.load(wp, 48)));
            wp += 64; xp += 16;
          }
        }
        v128.store(accRow + (<usize>(ow * accStride) << 2), hsum4(a0, a1, a2, a3));
      }
    }
  }
}

/**
 * Depthwise: acc[p][c] = Σ_t V[base(p) + tapOff[t] + c] · W[t][c], eight channels per step (the int8
 * products are exact in int16; extmul widens them to int32 before summing). W: [taps][Cp] int16.
 */
export function dwCore(V: usize, rowStride: i32, pixStride: i32, sH: i32, sW: i32, taps: i32, tapOff: usize,
  W: usize, Cp: i32, outW: i32, oh0: i32, oh1: i32, acc: usize): void {
  const wStride = <usize>Cp << 1;
  for (let oh = oh0; oh < oh1; oh++) {
    const row = V + <usize>(oh * sH * rowStride);
    for (let ow = 0; ow < outW; ow++) {
      const base = row + <usize>(ow * sW * pixStride);
      const o = acc + (<usize>((oh * outW + ow) * Cp) << 2);
      for (let c = 0; c < Cp; c += 8) {
        const cb = <usize>c << 1;
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
        let wp = W + cb;
        for (let t = 0; t < taps; t++) {
          const x = v128.load(base + <usize>load<i32>(tapOff + (<usize>t << 2)) + cb);
          const w = v128.load(wp);
          a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x, w));
          a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x, w));
          wp += wStride;
        }
        v128.store(o + (<usize>c << 2), a0);
        v128.store(o + (<usize>c << 2), a1, 16);
      }
    }
  }
}
