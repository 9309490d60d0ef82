// Pooling on int8 NHWC maps, sixteen channels per step.
import { rnd64, sat8 } from './epilogue';

/** y = sat(round(max(window), shift)); padding never wins (only in-bounds taps are visited). */
export function maxPool(inp: usize, out: usize, inH: i32, inW: i32, C: i32, outH: i32, outW: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, padT: i32, padL: i32, shift: i32): void {
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      const o = out + <usize>((oh * outW + ow) * C);
      const y0 = oh * sH - padT;
      const x0 = ow * sW - padL;
      let c = 0;
      for (; c + 16 <= C; c += 16) {
        let m = i8x16.splat(-128);
        let seen = false;
        for (let kh = 0; kh < kH; kh++) {
          const y = y0 + kh * dH;
          if (y < 0 || y >= inH) continue;
          for (let kw = 0; kw < kW; kw++) {
            const x = x0 + kw * dW;
            if (x < 0 || x >= inW) continue;
            m = i8x16.max_s(m, v128.load(inp + <usize>((y * inW + x) * C + c)));
            seen = true;
          }
        }
        if (!seen) m = i8x16.splat(0); // a window entirely in the padding: the DPU reads zeros
        v128.store(o + <usize>c, m);
        if (shift != 0) requantRun(o + <usize>c, o + <usize>c, 16, shift);
      }
      // Eight channels at once (an 8-channel map, or what sixteen left): the low half of a vector.
      for (; c + 8 <= C; c += 8) {
        let m = i8x16.splat(-128);
        let seen = false;
        for (let kh = 0; kh < kH; kh++) {
          const y = y0 + kh * dH;
          if (y < 0 || y >= inH) continue;
          for (let kw = 0; kw < kW; kw++) {
            const x = x0 + kw * dW;
            if (x < 0 || x >= inW) continue;
            m = i8x16.max_s(m, v128.load64_zero(inp + <usize>((y * inW + x) * C + c)));
            seen = true;
          }
        }
        if (!seen) m = i8x16.splat(0);
        v128.store64_lane(o + <usize>c, m, 0);
        if (shift != 0) requantRun(o + <usize>c, o + <usize>c, 8, shift);
      }
      for (; c < C; c++) {
        let m: i32 = -128;
        let seen = false;
        for (let kh = 0; kh < kH; kh++) {
          const y = y0 + kh * dH;
          if (y < 0 || y >= inH) continue;
          for (let kw = 0; kw < kW; kw++) {
            const x = x0 + kw * dW;
            if (x < 0 || x >= inW) continue;
            const v = <i32>load<i8>(inp + <usize>((y * inW + x) * C + c));
            if (v > m) m = v;
            seen = true;
          }
        }
        if (!seen) m = 0;
        store<i8>(o + <usize>c, <i8>sat8(rnd64(<i64>m, shift)));
      }
    }
  }
}

/** out[i] = sat(round(in[i], shift)) for n values (in place allowed). */
export function requantRun(inp: usize, out: usize, n: i32, shift: i32): void {
  for (let i = 0; i < n; i++) store<i8>(out + <usize>i, <i8>sat8(rnd64(<i64>load<i8>(inp + <usize>i), shift)));
}

/**
 * y = sat(round(Σ window · N, shift)): padding counts as 0 and the divisor is the kernel size, folded
 * into N/2^M by the caller (shift = M + fp_in − fp_out). Sums in int32 lanes, eight channels per step.
 */
export function avgPool(inp: usize, out: usize, inH: i32, inW: i32, C: i32, outH: i32, outW: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, padT: i32, padL: i32, n: i32, shift: i32, sums: usize): void {
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      const o = out + <usize>((oh * outW + ow) * C);
      const y0 = oh * sH - padT;
      const x0 = ow * sW - padL;
      let c = 0;
      for (; c + 8 <= C; c += 8) {
        let s0 = i32x4.splat(0), s1 = i32x4.splat(0);
        for (let kh = 0; kh < kH; kh++) {
          const y = y0 + kh * dH;
          if (y < 0 || y >= inH) continue;
          for (let kw = 0; kw < kW; kw++) {
            const x = x0 + kw * dW;
            if (x < 0 || x >= inW) continue;
            const v = v128.load8x8_s(inp + <usize>((y * inW + x) * C + c));
            s0 = i32x4.add(s0, i32x4.extend_low_i16x8_s(v));
            s1 = i32x4.add(s1, i32x4.extend_high_i16x8_s(v));
          }
        }
        v128.store(sums + (<usize>c << 2), s0);
        v128.store(sums + (<usize>c << 2), s1, 16);
      }
      for (; c < C; c++) {
        let s: i32 = 0;
        for (let kh = 0; kh < kH; kh++) {
          const y = y0 + kh * dH;
          if (y < 0 || y >= inH) continue;
          for (let kw = 0; kw < kW; kw++) {
            const x = x0 + kw * dW;
            if (x < 0 || x >= inW) continue;
            s += <i32>load<i8>(inp + <usize>((y * inW + x) * C + c));
          }
        }
        store<i32>(sums + (<usize>c << 2), s);
      }
      for (let k = 0; k < C; k++) {
        const s = <i64>load<i32>(sums + (<usize>k << 2));
        store<i8>(o + <usize>k, <i8>sat8(rnd64(s * <i64>n, shift)));
      }
    }
  }
}
