// The float interpreter's matrix products in WebAssembly SIMD128 (compiled to ../gemm-wasm.gen.ts by
// scripts/build-wasm.ts). Every value is the one ops/gemm.ts computes in JavaScript, bit for bit: each
// element of C is a float64 sum in k order of exact float32·float32 products (f64x2 lanes hold different
// elements, never two terms of one sum; no FMA, no relaxed SIMD), added to C once with one rounding to
// float32, except rows past the last multiple of four, which gemm.ts accumulates into C term by term.
// No allocator: the JS side (gemm-wasm.ts) lays out memory above heapBase().

export function heapBase(): usize {
  return __heap_base;
}

/**
 * C[M×N] += A[M×K]·B[K×N], float32 row-major at byte addresses a, b, c. `ap` is scratch for K·(M & ~3)
 * float64 (A repacked as K-major panels of four rows), `bp` for 4·K float64 (one panel of four columns of B).
 */
export function gemm(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize, ap: usize, bp: usize): void {
  const M4 = M & ~3, N4 = N & ~3;
  const rowA = <usize>K << 2, rowC = <usize>N << 2;
  if (M4) {
    for (let i = 0; i < M4; i++) {
      const dst = ap + (<usize>(i >> 2) * <usize>K << 5) + (<usize>(i & 3) << 3);
      const src = a + <usize>i * rowA;
      for (let k = 0; k < K; k++) store<f64>(dst + (<usize>k << 5), <f64>load<f32>(src + (<usize>k << 2)));
    }
    if (N4) tiles(M4, N4, N, K, ap, b, c, bp);
    for (let j = N4; j < N; j++) column(M4, N, K, ap, b + (<usize>j << 2), c + (<usize>j << 2));
  }
  for (let i = M4; i < M; i++) rowByTerms(N, K, a + <usize>i * rowA, b, c + <usize>i * rowC);
}

/** The 4×4 tiles of the first M4 rows and N4 columns: eight f64x2 accumulators, lanes across columns. */
function tiles(M4: i32, N4: i32, N: i32, K: i32, ap: usize, b: usize, c: usize, bp: usize): void {
  const rowB = <usize>N << 2;
  const panel = <usize>K << 5;
  for (let j = 0; j < N4; j += 4) {
    let src = b + (<usize>j << 2);
    for (let k = 0; k < K; k++, src += rowB) {
      const v = v128.load(src);
      const at = bp + (<usize>k << 5);
      v128.store(at, f64x2.promote_low_f32x4(v));
      v128.store(at, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), 16);
    }
    for (let i = 0; i < M4; i += 4) {
      let c0l = f64x2.splat(0), c0h = f64x2.splat(0), c1l = f64x2.splat(0), c1h = f64x2.splat(0);
      let c2l = f64x2.splat(0), c2h = f64x2.splat(0), c3l = f64x2.splat(0), c3h = f64x2.splat(0);
      let pa = ap + <usize>(i >> 2) * panel;
      const end = pa + panel;
      for (let pb = bp; pa < end; pa += 32, pb += 32) {
        const bl = v128.load(pb), bh = v128.load(pb, 16);
        let x = v128.load64_splat(pa);
        c0l = f64x2.add(c0l, f64x2.mul(x, bl)); c0h = f64x2.add(c0h, f64x2.mul(x, bh));
        x = v128.load64_splat(pa, 8);
        c1l = f64x2.add(c1l, f64x2.mul(x, bl)); c1h = f64x2.add(c1h, f64x2.mul(x, bh));
        x = v128.load64_splat(pa, 16);
        c2l = f64x2.add(c2l, f64x2.mul(x, bl)); c2h = f64x2.add(c2h, f64x2.mul(x, bh));
        x = v128.load64_splat(pa, 24);
        c3l = f64x2.add(c3l, f64x2.mul(x, bl)); c3h = f64x2.add(c3h, f64x2.mul(x, bh));
      }
      let o = c + (<usize>i * <usize>N + <usize>j << 2);
      addTo(o, c0l, c0h); o += rowB;
      addTo(o, c1l, c1h); o += rowB;
      addTo(o, c2l, c2h); o += rowB;
      addTo(o, c3l, c3h);
    }
  }
}

/** Four float32 of C at o plus four float64 sums, each rounded once to float32. */
// @ts-ignore: decorator
@inline function addTo(o: usize, lo: v128, hi: v128): void {
  const v = v128.load(o);
  const l = f64x2.add(f64x2.promote_low_f32x4(v), lo);
  const h = f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), hi);
  v128.store(o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(l), f32x4.demote_f64x2_zero(h), 0, 1, 4, 5));
}

/** One column of C (stride N) over the first M4 rows, from the A panels: lanes across rows. */
function column(M4: i32, N: i32, K: i32, ap: usize, b: usize, c: usize): void {
  const rowB = <usize>N << 2;
  for (let i = 0; i < M4; i += 4) {
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    let pa = ap + (<usize>(i >> 2) * <usize>K << 5);
    const end = pa + (<usize>K << 5);
    for (let pb = b; pa < end; pa += 32, pb += rowB) {
      const x = f64x2.splat(<f64>load<f32>(pb));
      lo = f64x2.add(lo, f64x2.mul(v128.load(pa), x));
      hi = f64x2.add(hi, f64x2.mul(v128.load(pa, 16), x));
    }
    const o = c + <usize>i * rowB;
    store<f32>(o, <f32>(<f64>load<f32>(o) + f64x2.extract_lane(lo, 0)));
    store<f32>(o + rowB, <f32>(<f64>load<f32>(o + rowB) + f64x2.extract_lane(lo, 1)));
    store<f32>(o + 2 * rowB, <f32>(<f64>load<f32>(o + 2 * rowB) + f64x2.extract_lane(hi, 0)));
    store<f32>(o + 3 * rowB, <f32>(<f64>load<f32>(o + 3 * rowB) + f64x2.extract_lane(hi, 1)));
  }
}

/** One row of C accumulated term by term (C[j] = f32(C[j] + a_k·B[k][j]) for each k with a_k ≠ 0), as gemm.ts does. */
function rowByTerms(N: i32, K: i32, a: usize, b: usize, c: usize): void {
  const rowB = <usize>N << 2;
  const N4 = N & ~3;
  for (let k = 0; k < K; k++, b += rowB) {
    const w = <f64>load<f32>(a + (<usize>k << 2));
    if (w == 0) continue;
    const ws = f64x2.splat(w);
    let j = 0;
    for (; j < N4; j += 4) {
      const o = c + (<usize>j << 2);
      const v = v128.load(o), x = v128.load(b + (<usize>j << 2));
      const l = f64x2.add(f64x2.promote_low_f32x4(v), f64x2.mul(ws, f64x2.promote_low_f32x4(x)));
      const h = f64x2.add(
        f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)),
        f64x2.mul(ws, f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1))),
      );
      v128.store(o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(l), f32x4.demote_f64x2_zero(h), 0, 1, 4, 5));
    }
    for (; j < N; j++) {
      const o = c + (<usize>j << 2);
      store<f32>(o, <f32>(<f64>load<f32>(o) + w * <f64>load<f32>(b + (<usize>j << 2))));
    }
  }
}

/**
 * C[M×N] += A[M×K]·Bᵀ with B stored N×K (gemm.ts's gemmAccBt): each element the sum of four float64
 * partial sums over k ≡ 0,1,2,3 (mod 4), the leftover terms in the first, added as ((s0 + s1) + s2) + s3.
 */
export function gemmBt(M: i32, N: i32, K: i32, a: usize, b: usize, c: usize): void {
  const K4 = K & ~3;
  const rowA = <usize>K << 2;
  for (let i = 0; i < M; i++) {
    const pa = a + <usize>i * rowA;
    for (let j = 0; j < N; j++) {
      const pb = b + <usize>j * rowA;
      let s01 = f64x2.splat(0), s23 = f64x2.splat(0);
      let k = 0;
      for (; k < K4; k += 4) {
        const off = <usize>k << 2;
        const x = v128.load(pa + off), y = v128.load(pb + off);
        s01 = f64x2.add(s01, f64x2.mul(f64x2.promote_low_f32x4(x), f64x2.promote_low_f32x4(y)));
        s23 = f64x2.add(s23, f64x2.mul(
          f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1)),
          f64x2.promote_low_f32x4(v128.shuffle<f32>(y, y, 2, 3, 0, 1)),
        ));
      }
      let s0 = f64x2.extract_lane(s01, 0);
      for (; k < K; k++) s0 += <f64>load<f32>(pa + (<usize>k << 2)) * <f64>load<f32>(pb + (<usize>k << 2));
      const o = c + (<usize>i * <usize>N + <usize>j << 2);
      store<f32>(o, <f32>(<f64>load<f32>(o) + (((s0 + f64x2.extract_lane(s01, 1)) + f64x2.extract_lane(s23, 0)) + f64x2.extract_lane(s23, 1))));
    }
  }
}
