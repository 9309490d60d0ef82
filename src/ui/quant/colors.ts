// The SQNR colour scale, apart from the actions so pure code (the simulation's painting) can use it.

/** Colour of a layer by SQNR: red below 10 dB, green above 40 dB. */
export function sqnrColor(db: number | undefined): string {
  if (db === undefined) return '#cfd3d8';
  if (!Number.isFinite(db)) return '#1f8a4c';
  const t = Math.max(0, Math.min(1, (db - 10) / 30));
  const hue = Math.round(t * 130);
  return `hsl(${hue}, 65%, 45%)`;
}
