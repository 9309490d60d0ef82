// Data movement on int8 NHWC maps: channel concat with per-input alignment, nearest upsampling by
// integer factors.
import { moveRun } from './eltwise';

/** out[p][off + c] = sat(round(in[p][c], shift)) for P pixels of Ci channels into rows of Cout. */
export function concatInto(inp: usize, out: usize, P: i32, Ci: i32, Cout: i32, off: i32, shift: i32): void {
  if (Ci == Cout) {
    moveRun(inp, out, P * Ci, shift);
    return;
  }
  // Narrow inputs (YOLOX's Focus: four 3-channel slices; its heads' 1- and 4-channel maps): one or two
  // plain stores a pixel instead of the general run's tests.
  const d = out + <usize>off;
  if (shift == 0 && Ci <= 4) {
    if (Ci == 1) for (let p = 0; p < P; p++) store<u8>(d + <usize>(p * Cout), load<u8>(inp + <usize>p));
    else if (Ci == 2) for (let p = 0; p < P; p++) store<u16>(d + <usize>(p * Cout), load<u16>(inp + <usize>(p * 2)));
    else if (Ci == 3) {
      for (let p = 0; p < P; p++) {
        const s = inp + <usize>(p * 3), o = d + <usize>(p * Cout);
        store<u16>(o, load<u16>(s));
        store<u8>(o, load<u8>(s, 2), 2);
      }
    } else for (let p = 0; p < P; p++) store<u32>(d + <usize>(p * Cout), load<u32>(inp + <usize>(p * 4)));
    return;
  }
  for (let p = 0; p < P; p++) {
    moveRun(inp + <usize>(p * Ci), d + <usize>(p * Cout), Ci, shift);
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
