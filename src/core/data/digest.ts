// A short fingerprint of a sample's float32 bytes, so the app can show which tensor a file became and a
// test can compare it with the CLI's tensor for the same file without shipping the tensor itself.

/** FNV-1a (32-bit) over the little-endian float32 bytes, as 8 hex digits. */
export function sampleDigest(x: Float32Array): string {
  const bytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
