// Image decoding with one pure-JS decoder for browser and Node, so the calibration data the app and
// the CLI see are identical to the bit.
import jpeg from 'jpeg-js';
import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import { InputError } from '../errors';

/** 8-bit pixels, interleaved HWC, `channels` 1 (gray) or 3 (RGB). Alpha is dropped on decode. */
export interface Image8 {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

export function isPng(b: Uint8Array): boolean {
  return b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}

export function isJpeg(b: Uint8Array): boolean {
  return b[0] === 0xff && b[1] === 0xd8;
}

function dropAlpha(src: ArrayLike<number>, w: number, h: number, ch: number, shift: number): Image8 {
  const color = ch >= 3;
  const out = new Uint8Array(w * h * (color ? 3 : 1));
  const oc = color ? 3 : 1;
  for (let i = 0; i < w * h; i++) for (let c = 0; c < oc; c++) out[i * oc + c] = src[i * ch + c] >> shift;
  return { width: w, height: h, channels: color ? 3 : 1, data: out };
}

/** Most pixels decoded: 2^28 (a 16k × 16k image) is far beyond any calibration image. */
const MAX_PIXELS = 2 ** 28;

/**
 * Refuses a PNG whose IHDR claims more pixels than its bytes could hold (deflate expands at most 1032:1,
 * 8 one-bit pixels a byte) or than MAX_PIXELS, before the decoder allocates for the claim.
 */
function checkPngSize(bytes: Uint8Array, name: string): void {
  if (bytes.length < 24) throw new InputError(`${name}: PNG is truncated (no image header)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = dv.getUint32(16);
  const h = dv.getUint32(20);
  const pixels = w * h;
  if (!(pixels <= MAX_PIXELS && pixels <= bytes.length * 1032 * 8))
    throw new InputError(`${name}: PNG claims ${w}×${h} pixels, more than ${pixels > MAX_PIXELS ? `${MAX_PIXELS} (supported)` : 'its bytes can hold'}`);
}

/**
 * Refuses a JPEG whose frame header claims more pixels than its bytes could code: a Huffman-coded 8×8
 * block costs at least one bit (its DC code), so no JPEG the decoder reads holds more than 512 pixels a
 * byte (1024 allowed here); the decoder would otherwise allocate and walk the claimed frame for seconds
 * before finding the data missing.
 */
function checkJpegSize(bytes: Uint8Array, name: string): void {
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return; // not at a marker: leave the judgement to the decoder
    const marker = bytes[p + 1];
    if (marker === 0xff) { p++; continue; } // fill byte
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { p += 2; continue; }
    if (marker === 0xd9 || marker === 0xda) return; // end of image / start of scan: no frame header before it
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof && p + 9 <= bytes.length) {
      const h = (bytes[p + 5] << 8) | bytes[p + 6];
      const w = (bytes[p + 7] << 8) | bytes[p + 8];
      const pixels = w * h;
      if (pixels > MAX_PIXELS || pixels > bytes.length * 1024)
        throw new InputError(`${name}: JPEG claims ${w}×${h} pixels, more than ${pixels > MAX_PIXELS ? `${MAX_PIXELS} (supported)` : 'its bytes can hold'}`);
      return;
    }
    p += 2 + len;
  }
}

export function decodeImage(bytes: Uint8Array, name = 'image'): Image8 {
  if (isPng(bytes)) {
    checkPngSize(bytes, name);
    let png;
    try {
      png = decodePng(bytes);
    } catch (e) {
      throw new InputError(`${name}: cannot decode PNG: ${(e as Error).message}`);
    }
    if (png.palette) {
      const rgb = convertIndexedToRgb(png);
      const ch = rgb.length / (png.width * png.height);
      return dropAlpha(rgb, png.width, png.height, ch, 0);
    }
    if (png.depth === 1 || png.depth === 2 || png.depth === 4) {
      // Low-bit grayscale comes unpacked to one sample per pixel in 0..2^depth-1: stretch to 0..255.
      const k = 255 / (2 ** png.depth - 1);
      const d = Uint8Array.from(png.data as ArrayLike<number>, (v) => Math.round(v * k));
      return dropAlpha(d, png.width, png.height, png.channels, 0);
    }
    return dropAlpha(png.data as ArrayLike<number>, png.width, png.height, png.channels, png.depth === 16 ? 8 : 0);
  }
  if (isJpeg(bytes)) {
    checkJpegSize(bytes, name);
    let img;
    // The same bound again inside the decoder, at the frame header it actually reads: its parser recovers
    // from damaged segment lengths that the walk above stops at.
    const maxPixels = Math.min(MAX_PIXELS, bytes.length * 1024);
    try {
      img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024, maxResolutionInMP: maxPixels / 1e6 });
    } catch (e) {
      const why = (e as Error).message;
      if (/maxResolutionInMP/.test(why)) throw new InputError(`${name}: JPEG claims more than ${maxPixels} pixels, more than its bytes can hold`);
      throw new InputError(`${name}: cannot decode JPEG: ${why}`);
    }
    return dropAlpha(img.data, img.width, img.height, 4, 0);
  }
  throw new InputError(`${name}: not a PNG or JPEG image`);
}
