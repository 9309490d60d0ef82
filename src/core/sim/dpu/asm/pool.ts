// Pooling on int8 NHWC maps, sixteen channels per step.
import { rnd64, sat8 } from './epilogue';
import { moveRun } from './eltwise';

/**
 * y = sat(round(max(window), shift)); padding never wins (only in-bounds taps are visited). Max is
 * separable: each input row's maxima over the kW columns of every output column go to `rows`
 * (inH × outW × C bytes), then each output takes the max of kH of them — kH + kW reads instead of kH·kW
 * (YOLOX's SPP pools are 5×5 to 13×13). A window with no in-bounds tap reads the DPU's zeros.
 */
export function maxPool(inp: usize, out: usize, inH: i32, inW: i32, C: i32, outH: i32, outW: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, dH: i32, dW: i32, padT: i32, padL: i32, shift: i32, rows: usize): void {
  const rowBytes = <usize>(outW * C);
  for (let y = 0; y < inH; y++) {
    for (let ow = 0; ow < outW; ow++) {
      const o = rows + <usize>y * rowBytes + <usize>(ow * C);
      const x0 = ow * sW - padL;
      let first = true;
      for (let kw = 0; kw < kW; kw++) {
        const x = x0 + kw * dW;
        if (x < 0 || x >= inW) continue;
        const s = inp + <usize>((y * inW + x) * C);
        if (first) { maxInto(o, s, C, true); first = false; } else maxInto(o, s, C, false);
      }
      if (first) memory.fill(o, 0x80, <usize>C); // no column in bounds: caught per output below
    }
  }
  for (let oh = 0; oh < outH; oh++) {
    const y0 = oh * sH - padT;
    for (let ow = 0; ow < outW; ow++) {
      const o = out + <usize>((oh * outW + ow) * C);
      const x0 = ow * sW - padL;
      let colsIn = false;
      for (let kw = 0; kw < kW; kw++) { const x = x0 + kw * dW; if (x >= 0 && x < inW) { colsIn = true; break; } }
      let first = true;
      if (colsIn) {
        for (let kh = 0; kh < kH; kh++) {
          const y = y0 + kh * dH;
          if (y < 0 || y >= inH) continue;
          const s = rows + <usize>y * rowBytes + <usize>(ow * C);
          if (first) { maxInto(o, s, C, true); first = false; } else maxInto(o, s, C, false);
        }
      }
      if (first) memory.fill(o, 0, <usize>C);
      else if (shift != 0) requantRun(o, o, C, shift);
    }
  }
}

/** o = s (first) or max(o, s) over n int8 values, sixteen at a time. */
@inline function maxInto(o: usize, s: usize, n: i32, first: bool): void {
  let c = 0;
  if (first) {
    for (; c + 16 <= n; c += 16) v128.store(o + <usize>c, v128.load(s + <usize>c));
    for (; c < n; c++) store<i8>(o + <usize>c, load<i8>(s + <usize>c));
    return;
  }
  for (; c + 16 <= n; c += 16) v128.store(o + <usize>c, i8x16.max_s(v128.load(o + <usize>c), v128.load(s + <usize>c)));
  for (; c + 8 <= n; c += 8) v128.store64_lane(o + <usize>c, i8x16.max_s(v128.load64_zero(o + <usize>c), v128.load64_zero(s + <usize>c)), 0);
  for (; c < n; c++) {
    const a = load<i8>(o + <usize>c), b = load<i8>(s + <usize>c);
    if (b > a) store<i8>(o + <usize>c, b);
  }
}

/** out[i] = sat(round(in[i], shift)) for n values (in place allowed). */
export function requantRun(inp: usize, out: usize, n: i32, shift: i32): void {
  moveRun(inp, out, n, shift);
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
