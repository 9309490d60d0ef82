// The per-value pass of the diffs cells and the histogram (stats.ts's cellErrors) in WebAssembly
// (./asm, SIMD128, embedded in stats-wasm.gen.ts). Instantiated synchronously on first use — the module is 2 KB,
// under every browser's limit for synchronous compiles — and absent (callers keep their JavaScript loop)
// where WebAssembly is unavailable.
import { STATS_WASM_BASE64 } from './stats-wasm.gen';
import { HIST_BINS, type Histogram } from './histogram';
import { instantiateEmbedded } from '../../wasm';

interface Exports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  cellsHist(x: number, n: number, c: number, jlo: number, jhi: number, acc: number, hist: number, bins: number, range: number, scale: number, sq: number): number;
  minMax(x: number, n: number, out: number): void;
  cellsOnly(x: number, n: number, c: number, jlo: number, jhi: number, acc: number, tiny: number, out: number, sq: number): void;
  cellErrors(
    acc: number, jlo: number, jhi: number, c: number, fs0: number, lo: number, hi: number, out: number,
    jfirst: number, jlast: number, hist: number, range: number, scale: number, copies: number, s2: number,
  ): void;
}

/** Values copied into wasm memory per call: small enough to stay in cache, large enough to amortise the call. */
const CHUNK = 1 << 14;
/** Cells of the widest grid (8-bit: 32·(127 + 128) + 32), each {count, Σx} in f64. */
const MAX_CELLS = 32 * 256;
/** Copies of the cells and histogram the kernel spreads its adds over (asm/index.ts COPIES). */
const COPIES = 4;

let state: {
  e: Exports; acc: Float64Array; hist: Int32Array; x: Float32Array; out: Float64Array; bins: Float64Array; counts: Int32Array; sq: Float64Array;
  accAt: number; histAt: number; xAt: number; outAt: number; binsAt: number; countsAt: number; sqAt: number;
} | null | undefined;
let enabled = true;

/** Turns the wasm path off (tests and benches compare it with the JavaScript loop). */
export function setStatsWasm(on: boolean): void {
  enabled = on;
}

function load(): typeof state {
  if (state !== undefined) return state;
  try {
    const e = instantiateEmbedded<Exports>(STATS_WASM_BASE64);
    const accAt = (e.heapBase() + 7) & ~7;
    const histAt = accAt + COPIES * MAX_CELLS * 16;
    const xAt = histAt + COPIES * HIST_BINS * 4;
    const outAt = xAt + CHUNK * 4;
    const binsAt = outAt + 10 * 8;
    const countsAt = binsAt + HIST_BINS * 8;
    const sqAt = countsAt + 8;
    const end = sqAt + 8;
    const have = e.memory.buffer.byteLength;
    if (end > have) e.memory.grow(Math.ceil((end - have) / 65536));
    const buf = e.memory.buffer;
    // Fresh pages are zero: the cells start cleared, and cellErrors clears them after each use.
    state = {
      e, accAt, histAt, xAt, outAt, binsAt, countsAt, sqAt,
      sq: new Float64Array(buf, sqAt, 1),
      bins: new Float64Array(buf, binsAt, HIST_BINS),
      counts: new Int32Array(buf, countsAt, 2),
      acc: new Float64Array(buf, accAt, MAX_CELLS * 2),
      hist: new Int32Array(buf, histAt, COPIES * HIST_BINS),
      x: new Float32Array(buf, xAt, CHUNK),
      out: new Float64Array(buf, outAt, 10),
    };
  } catch {
    state = null;
  }
  return state;
}

/** Whether cellErrorsInWasm takes these parts. */
export function statsWasmUsable(parts: readonly ArrayLike<number>[]): boolean {
  return enabled && parts.every((p) => p instanceof Float32Array) && !!load();
}

/**
 * The least and greatest value of `parts` (NaNs passed over, as observeParts's own loop does; a zero
 * extreme as +0, as there), or undefined
 * when the wasm path is off or a part is not a Float32Array. One SIMD pass: the range calibration needs
 * before its cell pass, at a fraction of a JavaScript loop or of onnxruntime reducing in the graph.
 */
export function rangeInWasm(parts: readonly ArrayLike<number>[]): { min: number; max: number } | undefined {
  if (!statsWasmUsable(parts)) return undefined;
  const st = load()!;
  const { e, x } = st;
  const r = new Float32Array(st.e.memory.buffer, st.outAt, 2);
  let min = Infinity;
  let max = -Infinity;
  for (const p of parts as readonly Float32Array[]) {
    const whole = p.length & ~3;
    for (let o = 0; o < whole; o += CHUNK) {
      const m = Math.min(CHUNK, whole - o);
      x.set(p.subarray(o, o + m));
      e.minMax(st.xAt, m, st.outAt);
      if (r[0] < min) min = r[0];
      if (r[1] > max) max = r[1];
    }
    for (let i = whole; i < p.length; i++) {
      const v = p[i];
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  // Which zero a lane keeps depends on the order it saw −0 and +0 in: both are reported as +0.
  return { min: min === 0 ? 0 : min, max: max === 0 ? 0 : max };
}

/**
 * diffs' candidate errors from the grid of cells (stats.ts's cellErrors, which documents the method): adds
 * every value of `parts` into cells j = clamp(floor(v·c), jlo, jhi) − jlo and, when given, into `hist`
 * (whose range must already cover the values), then writes Σ(x − fq(x))² at fp0 … fp0+errors.length−1 to
 * `errors` and returns the bound on their rounding. Undefined, doing nothing, when the wasm path is off or
 * a part is not a Float32Array. `range`, the parts' exact min and max when the caller has them, limits the
 * closing pass to the cells the values can reach and, when every histogram bin edge is a cell edge, lets
 * the histogram come from the cells' counts instead of a second scatter per value.
 */
export function cellErrorsInWasm(
  parts: readonly ArrayLike<number>[], fp0: number, c: number, jlo: number, jhi: number, lo: number, hi: number,
  errors: Float64Array, hist?: Histogram, range?: { readonly min: number; readonly max: number },
): number | undefined {
  const cells = jhi - jlo + 1;
  if (errors.length > 5 || cells > MAX_CELLS || !statsWasmUsable(parts)) return undefined;
  const st = load()!;
  const { e, x } = st;
  const cellOf = (v: number) => { const j = Math.floor(v * c); return j < jlo ? 0 : j > jhi ? cells - 1 : j - jlo; };
  // c up to 2^100 keeps the kernel's f32 product v·c equal to the f64 one used here (past that f32 c overflows).
  const known = range !== undefined && range.min <= range.max && c <= 2 ** 100;
  const jfirst = known ? cellOf(range.min) : 0;
  const jlast = known ? cellOf(range.max) : cells - 1;
  const R = hist?.range ?? 0;
  // Bins from cells: bin width 2R/HIST_BINS a multiple of the cell width 1/c (both powers of two), no value
  // in a saturating edge cell, and start + R exact in f64 for every cell.
  const fromCells = known && hist !== undefined && R > 0 && R * c >= HIST_BINS / 2 && R * c <= 2 ** 40 &&
    Math.floor(range.min * c) >= jlo && Math.floor(range.max * c) <= jhi && -range.min < R && range.max < R;
  const bins = hist && R > 0 && !fromCells ? HIST_BINS : 0;
  const scale = R > 0 ? HIST_BINS / (2 * R) : 0;
  // binValues computes floor((v + R)·scale) in f64: a negative v with |v| ≤ R·2^-54 rounds v + R up to R and
  // lands in zero's bin, not in the bin below as its cell does.
  const tiny = -R * 2 ** -54;
  if (bins) st.hist.fill(0);
  // Σx² of the batch: the kernel adds each chunk's, the tail its own.
  st.sq[0] = 0;
  let zeros = 0;
  let tinies = 0;
  let tail: number[] | undefined;
  for (const p of parts as readonly Float32Array[]) {
    if (hist && R === 0) hist.zeros += p.length;
    const whole = p.length & ~3;
    for (let o = 0; o < whole; o += CHUNK) {
      const m = Math.min(CHUNK, whole - o);
      x.set(p.subarray(o, o + m));
      if (fromCells) {
        e.cellsOnly(st.xAt, m, c, jlo, jhi, st.accAt, tiny, st.countsAt, st.sqAt);
        zeros += st.counts[0];
        tinies += st.counts[1];
      } else zeros += e.cellsHist(st.xAt, m, c, jlo, jhi, st.accAt, st.histAt, bins, R, scale, st.sqAt);
    }
    for (let i = whole; i < p.length; i++) (tail ??= []).push(p[i]);
  }
  // The kernel takes groups of four: the parts' last few values go into the first copy here.
  let s2 = st.sq[0];
  for (const v of tail ?? []) {
    const j = cellOf(v);
    st.acc[2 * j]++;
    st.acc[2 * j + 1] += v;
    s2 += v * v;
    if (fromCells) {
      if (v === 0) zeros++;
      else if (v < 0 && v >= tiny) tinies++;
      continue;
    }
    if (!bins) continue;
    if (v === 0) { zeros++; continue; }
    let b = Math.floor((v + R) * scale);
    if (b >= HIST_BINS) b = HIST_BINS - 1;
    else if (b < 0) b = 0;
    st.hist[b]++;
  }
  if (bins) {
    const counts = hist!.counts;
    const h = st.hist;
    for (let b = 0; b < HIST_BINS; b++) counts[b] += h[b] + h[HIST_BINS + b] + h[2 * HIST_BINS + b] + h[3 * HIST_BINS + b];
    hist!.zeros += zeros;
  }
  e.cellErrors(st.accAt, jlo, jhi, c, 2 ** fp0, lo, hi, st.outAt, jfirst, jlast, fromCells ? st.binsAt : 0, R, scale, fromCells ? 2 : COPIES, s2);
  if (fromCells) {
    // Zeros sit in the cell starting at 0 (zero's bin, HIST_BINS/2) but are counted apart; the tiny
    // negatives' cell maps to the bin below, where binValues does not put them.
    const half = HIST_BINS / 2;
    st.bins[half] -= zeros - tinies;
    st.bins[half - 1] -= tinies;
    const first = Math.floor((Math.floor(range!.min * c) / c + R) * scale);
    const last = Math.floor((Math.floor(range!.max * c) / c + R) * scale);
    const counts = hist!.counts;
    for (let b = Math.min(first, half - 1); b <= Math.max(last, half); b++) {
      counts[b] += st.bins[b];
      st.bins[b] = 0;
    }
    hist!.zeros += zeros;
  }
  let mag = 0;
  for (let k = 0; k < errors.length; k++) {
    errors[k] = st.out[k];
    mag = Math.max(mag, st.out[5 + k]);
  }
  return 1e-8 * mag;
}
