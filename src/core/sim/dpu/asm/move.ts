// Data movement on int8 NHWC maps: channel concat with per-input alignment, nearest upsampling by
// integer factors.
import { moveRun } from './eltwise';

/** out[p][off + c] = sat(round(in[p][c], shift)) for P pixels of Ci channels into rows of Cout. */
export function concatInto(inp: usize, out: usize, P: i32, Ci: i32, Cout: i32, off: i32, shift: i32): void {
  if (Ci == Cout) {
    moveRun(inp, out, P * Ci, shift);
    return;
  }
  for (let p = 0; p < P; p++) {
    moveRun(inp + <usize>(p * Ci), out + <usize>(p * Cout + off), Ci, shift);
  }
}

/** out[oh][ow] = sat(round(in[oh / sh][ow / sw], shift)) (integer division): nearest upsampling by sh × sw. */
export function upsampleNearest(inp: usize, out: usize, inH: i32, inW: i32, C: i32, sh: i32, sw: i32, shift: i32): void {
  const outW = inW * sw;
  const rowBytes = <usize>(outW * C);
  for (let ih = 0; ih < inH; ih++) {
    const first = out + <usize>(ih * sh) * rowBytes;
    for (let iw = 0; iw < inW; iw++) {
      const s = inp + <usize>((ih * inW + iw) * C);
      const d = first + <usize>(iw * sw * C);
      moveRun(s, d, C, shift);
      for (let k = 1; k < sw; k++) moveRun(d, d + <usize>(k * C), C, 0);
    }
    for (let k = 1; k < sh; k++) memory.copy(first + <usize>k * rowBytes, first, rowBytes);
  }
}
