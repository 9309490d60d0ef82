// Calibration statistics in WebAssembly SIMD128 (compiled to ../stats-wasm.gen.ts by
// scripts/build-wasm.ts): the per-value pass of stats.ts's cellErrors. No allocator: the JS side
// (stats-wasm.ts) lays out memory above heapBase().

export function heapBase(): usize {
  return __heap_base;
}

/** Copies of the cells and of the histogram: lane k of every group of four values goes to copy k. */
export const COPIES = 4;

/**
 * Folds n float32 values at x (n a multiple of 4) into a grid of cells j = clamp(floor(v·c), jlo, jhi) − jlo,
 * each a record {count, Σv} of f64, adds their Σv² (one total: every candidate's error has the same Σv²
 * term, so no cell needs its own) to the f64 at sq, and, when bins > 0, into a histogram of bins i32 counts over
 * [−range, range) (bin floor((v + range)·scale) clamped; exact zeros are not binned but counted and
 * returned). Four copies of the cells (cells·16 bytes apart) and of the histogram (bins·4 apart), which the
 * caller adds up: consecutive values usually land in the same cell, and one copy would chain every add
 * through memory.
 *
 * floor(v·c) in f32 is floor of the f64 product: c is a power of two, so the product is exact (or
 * overflows to ±Infinity, which saturates like the f64 value). v + range is not exact in f32: bins use f64.
 */
export function cellsHist(x: usize, n: i32, c: f64, jlo: i32, jhi: i32, acc: usize, hist: usize, bins: i32, range: f64, scale: f64, sq: usize): i32 {
  const stride = <usize>(jhi - jlo + 1) * 16;
  const hstride = <usize>bins << 2;
  const cv = f32x4.splat(<f32>c);
  const lo = i32x4.splat(jlo);
  const hi = i32x4.splat(jhi);
  const rv = f64x2.splat(range);
  const sv = f64x2.splat(scale);
  const one = i32x4.splat(1);
  const top = i32x4.splat(bins - 1);
  const zero = i32x4.splat(0);
  let zeros = i32x4.splat(0);
  let zeroGroups = 0;
  let sqLo = f64x2.splat(0), sqHi = f64x2.splat(0);
  for (let i = 0; i < n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    if (!v128.any_true(v)) { zeroGroups++; continue; }
    const j = i32x4.sub(i32x4.min_s(i32x4.max_s(i32x4.trunc_sat_f32x4_s(f32x4.floor(f32x4.mul(v, cv))), lo), hi), lo);
    const off = i32x4.shl(j, 4);
    const dlo = f64x2.promote_low_f32x4(v);
    const dhi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    sqLo = f64x2.add(sqLo, f64x2.mul(dlo, dlo));
    sqHi = f64x2.add(sqHi, f64x2.mul(dhi, dhi));
    cell(acc + <usize>i32x4.extract_lane(off, 0), f64x2.extract_lane(dlo, 0));
    cell(acc + stride + <usize>i32x4.extract_lane(off, 1), f64x2.extract_lane(dlo, 1));
    cell(acc + 2 * stride + <usize>i32x4.extract_lane(off, 2), f64x2.extract_lane(dhi, 0));
    cell(acc + 3 * stride + <usize>i32x4.extract_lane(off, 3), f64x2.extract_lane(dhi, 1));
    if (bins > 0) {
      const isZero = f32x4.eq(v, f32x4.splat(0));
      zeros = i32x4.sub(zeros, isZero);
      const inc = i32x4.add(one, isZero);
      const blo = i32x4.trunc_sat_f64x2_s_zero(f64x2.floor(f64x2.mul(f64x2.add(dlo, rv), sv)));
      const bhi = i32x4.trunc_sat_f64x2_s_zero(f64x2.floor(f64x2.mul(f64x2.add(dhi, rv), sv)));
      const b = i32x4.shl(i32x4.min_s(i32x4.max_s(i32x4.shuffle(blo, bhi, 0, 1, 4, 5), zero), top), 2);
      bump(hist + <usize>i32x4.extract_lane(b, 0), i32x4.extract_lane(inc, 0));
      bump(hist + hstride + <usize>i32x4.extract_lane(b, 1), i32x4.extract_lane(inc, 1));
      bump(hist + 2 * hstride + <usize>i32x4.extract_lane(b, 2), i32x4.extract_lane(inc, 2));
      bump(hist + 3 * hstride + <usize>i32x4.extract_lane(b, 3), i32x4.extract_lane(inc, 3));
    }
  }
  addZeroGroups(acc, jlo, zeroGroups);
  addSquares(sq, sqLo, sqHi);
  return i32x4.extract_lane(zeros, 0) + i32x4.extract_lane(zeros, 1) + i32x4.extract_lane(zeros, 2) + i32x4.extract_lane(zeros, 3) + 4 * zeroGroups;
}

/**
 * Four +0s in a row (ReLU maps: long runs) skip the scatter, whose adds to zero's one cell would chain
 * through memory; their count joins that cell here. Bit for bit the same cells: the count is an integer,
 * and adding +0 to Σv and Σv² leaves them as they are (they start at +0 and never become −0).
 */
@inline function addZeroGroups(acc: usize, jlo: i32, groups: i32): void {
  if (groups == 0) return;
  const r = acc + <usize>(0 - jlo) * 16;
  store<f64>(r, load<f64>(r) + <f64>(4 * groups));
}

/**
 * cellsHist's cell pass without the histogram, for a batch whose histogram the caller derives from the
 * cells (every bin edge a cell edge), over two copies of the cells (even lanes, odd lanes): half the
 * memory of four, which on real feature maps (many cells hit) costs more in cache misses than the
 * occasional back-to-back add to one cell saves: stores at out the count of exact zeros and at out+4 the count of
 * negative values at or above `tiny` (−R·2^-54), which the histogram's f64 rule v + R rounds up to R and
 * bins at zero's side.
 */
export function cellsOnly(x: usize, n: i32, c: f64, jlo: i32, jhi: i32, acc: usize, tiny: f32, out: usize, sq: usize): void {
  const stride = <usize>(jhi - jlo + 1) * 16;
  const cv = f32x4.splat(<f32>c);
  const lo = i32x4.splat(jlo);
  const hi = i32x4.splat(jhi);
  const zv = f32x4.splat(0);
  const tv = f32x4.splat(tiny);
  let zeros = i32x4.splat(0);
  let tinies = i32x4.splat(0);
  let zeroGroups = 0;
  let sqLo = f64x2.splat(0), sqHi = f64x2.splat(0);
  for (let i = 0; i < n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    if (!v128.any_true(v)) { zeroGroups++; continue; }
    const j = i32x4.sub(i32x4.min_s(i32x4.max_s(i32x4.trunc_sat_f32x4_s(f32x4.floor(f32x4.mul(v, cv))), lo), hi), lo);
    const off = i32x4.shl(j, 4);
    zeros = i32x4.sub(zeros, f32x4.eq(v, zv));
    tinies = i32x4.sub(tinies, v128.and(f32x4.lt(v, zv), f32x4.ge(v, tv)));
    const dlo = f64x2.promote_low_f32x4(v);
    const dhi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    sqLo = f64x2.add(sqLo, f64x2.mul(dlo, dlo));
    sqHi = f64x2.add(sqHi, f64x2.mul(dhi, dhi));
    cell(acc + <usize>i32x4.extract_lane(off, 0), f64x2.extract_lane(dlo, 0));
    cell(acc + stride + <usize>i32x4.extract_lane(off, 1), f64x2.extract_lane(dlo, 1));
    cell(acc + <usize>i32x4.extract_lane(off, 2), f64x2.extract_lane(dhi, 0));
    cell(acc + stride + <usize>i32x4.extract_lane(off, 3), f64x2.extract_lane(dhi, 1));
  }
  addZeroGroups(acc, jlo, zeroGroups);
  addSquares(sq, sqLo, sqHi);
  store<i32>(out, i32x4.extract_lane(zeros, 0) + i32x4.extract_lane(zeros, 1) + i32x4.extract_lane(zeros, 2) + i32x4.extract_lane(zeros, 3) + 4 * zeroGroups);
  store<i32>(out, i32x4.extract_lane(tinies, 0) + i32x4.extract_lane(tinies, 1) + i32x4.extract_lane(tinies, 2) + i32x4.extract_lane(tinies, 3), 4);
}

/**
 * The least and greatest of n float32 values at x (n a multiple of 4), stored at out and out+4 (f32). NaNs
 * are passed over, as a JavaScript `v < min` loop passes over them: pmin keeps its first operand unless the
 * second is smaller. An empty or all-NaN input leaves +Infinity and −Infinity.
 */
export function minMax(x: usize, n: i32, out: usize): void {
  let mn = f32x4.splat(Infinity);
  let mx = f32x4.splat(-Infinity);
  let mn2 = mn, mx2 = mx;
  let i = 0;
  // Two accumulators each: min/max latency, not load bandwidth, bounds one chain.
  for (; i + 8 <= n; i += 8) {
    const a = v128.load(x + (<usize>i << 2));
    const b = v128.load(x + (<usize>i << 2), 16);
    mn = f32x4.pmin(mn, a); mx = f32x4.pmax(mx, a);
    mn2 = f32x4.pmin(mn2, b); mx2 = f32x4.pmax(mx2, b);
  }
  for (; i < n; i += 4) {
    const a = v128.load(x + (<usize>i << 2));
    mn = f32x4.pmin(mn, a); mx = f32x4.pmax(mx, a);
  }
  mn = f32x4.pmin(mn, mn2); mx = f32x4.pmax(mx, mx2);
  store<f32>(out, min(min(f32x4.extract_lane(mn, 0), f32x4.extract_lane(mn, 1)), min(f32x4.extract_lane(mn, 2), f32x4.extract_lane(mn, 3))));
  store<f32>(out, max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3))), 4);
}

@inline function cell(r: usize, v: f64): void {
  store<f64>(r, load<f64>(r) + 1);
  store<f64>(r, load<f64>(r, 8) + v, 8);
}

/** Adds the two lanes' sums of squares to the total at sq. */
@inline function addSquares(sq: usize, a: v128, b: v128): void {
  store<f64>(sq, load<f64>(sq) + ((f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1))));
}

@inline function bump(r: usize, inc: i32): void {
  store<i32>(r, load<i32>(r) + inc);
}

/**
 * Adds up the `copies` copies of cells jfirst … jlast (the only ones the batch touched; zeroing them for the
 * next batch) and writes Σ(x − q)² = s2 − Σ(2q·Σx − n·q²) and its magnitude s2 + Σ(2|q·Σx| + n·q²) over them
 * (s2 the values' Σx²) for the candidates fp0 … fp0+4 (fs0 = 2^fp0) to out[0..4] and out[5..9] (f64): cell j
 * starts at (j + jlo)/c, and all its values share q = clamp(floor(start·2^fp + 0.5), lo, hi)·2^−fp. With
 * hist ≠ 0 each cell's count is also added to f64 bin floor((start + range)·scale) at hist (a cell lies
 * inside one bin when every bin edge is a cell edge).
 */
export function cellErrors(acc: usize, jlo: i32, jhi: i32, c: f64, fs0: f64, lo: i32, hi: i32, out: usize, jfirst: i32, jlast: i32, hist: usize, range: f64, scale: f64, copies: i32, s2: f64): void {
  const cells = jhi - jlo + 1;
  const stride = <usize>cells * 16;
  const i0 = 1 / fs0;
  // Candidates in lanes: (fp0, fp0+1), (fp0+2, fp0+3), (fp0+4, unused). Each lane does the scalar
  // arithmetic it replaces in the same order (e += m·q·q − 2q·Σx; g += 2|q·Σx| + m·q·q), so the sums are
  // bit for bit those of one loop per candidate.
  const s01 = f64x2.replace_lane(f64x2.splat(i0), 1, i0 / 2);
  const s23 = f64x2.replace_lane(f64x2.splat(i0 / 4), 1, i0 / 8);
  const s4 = f64x2.splat(i0 / 16);
  let e01 = f64x2.splat(0), e23 = f64x2.splat(0), e4 = f64x2.splat(0);
  let g01 = f64x2.splat(0), g23 = f64x2.splat(0), g4 = f64x2.splat(0);
  for (let j = jfirst; j <= jlast; j++) {
    const r = acc + <usize>j * 16;
    let m = 0.0, a = 0.0;
    for (let k = 0; k < copies; k++) {
      const p = r + <usize>k * stride;
      m += load<f64>(p); a += load<f64>(p, 8);
      v128.store(p, f64x2.splat(0));
    }
    if (m == 0) continue;
    const J = j + jlo;
    if (hist) {
      const x0 = <f64>J / c;
      const b = hist + (<usize><i32>Math.floor((x0 + range) * scale) << 3);
      store<f64>(b, load<f64>(b) + m);
    }
    // The cell starts at J/32 steps of fp0: at fp0 + k it rounds half up to floor((J + 2^(4−k)) / 2^(5−k)),
    // in integers (the f64 floor(J·2^(k−5) + 0.5) it equals costs more, with its clamps, than the cell's sums).
    const mv = f64x2.splat(m);
    const av = f64x2.splat(a);
    let q = f64x2.mul(f64x2.replace_lane(f64x2.splat(<f64>clampI((J + 16) >> 5, lo, hi)), 1, <f64>clampI((J + 8) >> 4, lo, hi)), s01);
    let mqq = f64x2.mul(f64x2.mul(mv, q), q);
    let t = f64x2.mul(q, av);
    e01 = f64x2.add(e01, f64x2.sub(mqq, f64x2.mul(f64x2.add(q, q), av)));
    g01 = f64x2.add(g01, f64x2.add(f64x2.add(f64x2.abs(t), f64x2.abs(t)), mqq));
    q = f64x2.mul(f64x2.replace_lane(f64x2.splat(<f64>clampI((J + 4) >> 3, lo, hi)), 1, <f64>clampI((J + 2) >> 2, lo, hi)), s23);
    mqq = f64x2.mul(f64x2.mul(mv, q), q);
    t = f64x2.mul(q, av);
    e23 = f64x2.add(e23, f64x2.sub(mqq, f64x2.mul(f64x2.add(q, q), av)));
    g23 = f64x2.add(g23, f64x2.add(f64x2.add(f64x2.abs(t), f64x2.abs(t)), mqq));
    q = f64x2.mul(f64x2.splat(<f64>clampI((J + 1) >> 1, lo, hi)), s4);
    mqq = f64x2.mul(f64x2.mul(mv, q), q);
    t = f64x2.mul(q, av);
    e4 = f64x2.add(e4, f64x2.sub(mqq, f64x2.mul(f64x2.add(q, q), av)));
    g4 = f64x2.add(g4, f64x2.add(f64x2.add(f64x2.abs(t), f64x2.abs(t)), mqq));
  }
  const sv = f64x2.splat(s2);
  v128.store(out, f64x2.add(sv, e01));
  v128.store(out, f64x2.add(sv, e23), 16);
  store<f64>(out, s2 + f64x2.extract_lane(e4, 0), 32);
  v128.store(out, f64x2.add(sv, g01), 40);
  v128.store(out, f64x2.add(sv, g23), 56);
  store<f64>(out, s2 + f64x2.extract_lane(g4, 0), 72);
}

@inline function clampI(v: i32, lo: i32, hi: i32): i32 {
  return v < lo ? lo : v > hi ? hi : v;
}
