// The per-value pass of the diffs cells and the histogram (stats.ts's cellErrors) in WebAssembly
// (./asm, SIMD128, embedded in stats-wasm.gen.ts). Instantiated synchronously on first use — the module is 1 KB,
// under every browser's limit for synchronous compiles — and absent (callers keep their JavaScript loop)
// where WebAssembly is unavailable.
import { STATS_WASM_BASE64 } from './stats-wasm.gen';
import { HIST_BINS, type Histogram } from './histogram';

interface Exports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  cellsHist(x: number, n: number, c: number, jlo: number, jhi: number, acc: number, hist: number, bins: number, range: number, scale: number): number;
}

/** Values copied into wasm memory per call: small enough to stay in cache, large enough to amortise the call. */
const CHUNK = 1 << 14;
/** Cells of the widest grid (8-bit: 32·(127 + 128) + 32). */
const MAX_CELLS = 32 * 256;
/** Copies of the cells and histogram the kernel spreads its adds over (asm/index.ts COPIES). */
const COPIES = 4;

let state: { e: Exports; acc: Float64Array; hist: Int32Array; x: Float32Array; accAt: number; histAt: number; xAt: number } | null | undefined;
let enabled = true;

/** Turns the wasm path off (tests and benches compare it with the JavaScript loop). */
export function setStatsWasm(on: boolean): void {
  enabled = on;
}

function load(): typeof state {
  if (state !== undefined) return state;
  try {
    const s = atob(STATS_WASM_BASE64);
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    const e = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as Exports;
    const accAt = (e.heapBase() + 7) & ~7;
    const histAt = accAt + COPIES * MAX_CELLS * 24;
    const xAt = histAt + COPIES * HIST_BINS * 4;
    const end = xAt + CHUNK * 4;
    const have = e.memory.buffer.byteLength;
    if (end > have) e.memory.grow(Math.ceil((end - have) / 65536));
    const buf = e.memory.buffer;
    state = {
      e, accAt, histAt, xAt,
      acc: new Float64Array(buf, accAt, COPIES * MAX_CELLS * 3),
      hist: new Int32Array(buf, histAt, COPIES * HIST_BINS),
      x: new Float32Array(buf, xAt, CHUNK),
    };
  } catch {
    state = null;
  }
  return state;
}

/**
 * Adds every value of `parts` into cells j = clamp(floor(v·c), jlo, jhi) − jlo (`cnt`, `s1` = Σv,
 * `s2` = Σv²) and, when given, into `hist` (whose range must already cover the values). Returns false,
 * doing nothing, when the wasm path is off or a part is not a Float32Array.
 */
export function cellsInWasm(
  parts: readonly ArrayLike<number>[], c: number, jlo: number, jhi: number,
  cnt: Float64Array, s1: Float64Array, s2: Float64Array, hist?: Histogram,
): boolean {
  if (!enabled || !parts.every((p) => p instanceof Float32Array)) return false;
  const st = load();
  const cells = jhi - jlo + 1;
  if (!st || cells > MAX_CELLS) return false;
  const { e, acc, x } = st;
  acc.fill(0, 0, COPIES * cells * 3);
  const bins = hist && hist.range > 0 ? HIST_BINS : 0;
  const range = hist?.range ?? 0;
  const scale = bins ? HIST_BINS / (2 * range) : 0;
  if (bins) st.hist.fill(0);
  let zeros = 0;
  for (const p of parts as readonly Float32Array[]) {
    if (hist && !bins) hist.zeros += p.length;
    const whole = p.length & ~3;
    for (let o = 0; o < whole; o += CHUNK) {
      const m = Math.min(CHUNK, whole - o);
      x.set(p.subarray(o, o + m));
      zeros += e.cellsHist(st.xAt, m, c, jlo, jhi, st.accAt, st.histAt, bins, range, scale);
    }
    // The kernel takes groups of four; the last few values are added here, as the JavaScript loop would.
    for (let i = whole; i < p.length; i++) {
      const v = p[i];
      let j = Math.floor(v * c);
      j = j < jlo ? 0 : j > jhi ? cells - 1 : j - jlo;
      acc[3 * j]++;
      acc[3 * j + 1] += v;
      acc[3 * j + 2] += v * v;
      if (!bins) continue;
      if (v === 0) { zeros++; continue; }
      let b = Math.floor((v + range) * scale);
      if (b >= HIST_BINS) b = HIST_BINS - 1;
      else if (b < 0) b = 0;
      st.hist[b]++;
    }
  }
  for (let j = 0; j < cells; j++) {
    let n = 0, a = 0, q = 0;
    for (let k = 0, r = 3 * j; k < COPIES; k++, r += 3 * cells) { n += acc[r]; a += acc[r + 1]; q += acc[r + 2]; }
    cnt[j] += n;
    s1[j] += a;
    s2[j] += q;
  }
  if (bins) {
    const counts = hist!.counts;
    const h = st.hist;
    for (let b = 0; b < HIST_BINS; b++) counts[b] += h[b] + h[HIST_BINS + b] + h[2 * HIST_BINS + b] + h[3 * HIST_BINS + b];
    hist!.zeros += zeros;
  }
  return true;
}
