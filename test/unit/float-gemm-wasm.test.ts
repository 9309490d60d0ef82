// The wasm matrix products (src/core/sim/float/asm) against ops/gemm.ts's JavaScript loops, bit for bit,
// and the committed wasm against its source.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { compileModule, genSource, MODULES } from '../../scripts/build-wasm';
import { gemmAccBtWasm, gemmAccWasm, setGemmWasm } from '../../src/core/sim/float/gemm-wasm';
import { gemmAcc, gemmAccBt, gemmAccBtJs, gemmAccJs } from '../../src/core/sim/float/ops/gemm';

/** Deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1e-45, -1e-45, 1.1754942e-38, -5.9e-39, 3.4028235e38, -3.4028235e38, 1, -1];

/** n values: mostly normal-range randoms with a spread of exponents, some exact zeros and, when asked, specials. */
function values(n: number, r: () => number, special = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < special) out[i] = SPECIAL[Math.floor(r() * SPECIAL.length)];
    else if (u < special + 0.05) out[i] = 0;
    else out[i] = (r() * 2 - 1) * 2 ** Math.floor(r() * 16 - 8);
  }
  return out;
}

/** Exact bits, except that any NaN equals any NaN: JavaScript does not define NaN payloads or signs. */
function sameBits(a: Float32Array, b: Float32Array): string | undefined {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ua[i] === ub[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue;
    return `element ${i}: wasm ${a[i]} (0x${ua[i].toString(16)}), js ${b[i]} (0x${ub[i].toString(16)})`;
  }
  return undefined;
}

afterEach(() => setGemmWasm(true));

describe('gemmAcc in wasm equals the JavaScript loops bit for bit', () => {
  const shapes: [number, number, number][] = [
    [4, 4, 128], [5, 7, 64], [3, 50, 33], [64, 64, 1], [17, 19, 23], [8, 300, 9], [33, 6, 200],
    [1, 1000, 16], [2, 3, 2048], [16, 1, 300], [6, 2, 4096], [24, 129, 4608],
  ];
  for (const [M, N, K] of shapes) for (const special of [0, 0.05]) {
    it(`M=${M} N=${N} K=${K}${special ? ' with NaN/Inf/−0/denormals' : ''}`, () => {
      const r = rng(M * 131 + N * 7 + K + (special ? 1 : 0));
      // Offsets inside larger arrays, as Conv and batched MatMul pass them.
      const aOff = 3, bOff = 5, cOff = 2;
      const A = values(aOff + M * K, r, special), B = values(bOff + K * N + 1, r, special);
      const C0 = values(cOff + M * N + 3, r, special);
      const js = C0.slice(), wasm = C0.slice();
      gemmAccJs(M, N, K, A, aOff, B, bOff, js, cOff);
      expect(gemmAccWasm(M, N, K, A, aOff, B, bOff, wasm, cOff), 'wasm path taken').toBe(true);
      expect(sameBits(wasm, js)).toBeUndefined();
    });
  }

  it('denormal operands whose products and sums stay denormal or underflow in float32', () => {
    const r = rng(9);
    const M = 9, N = 13, K = 40;
    const tiny = (n: number) => Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * 2 ** -(126 + Math.floor(r() * 23)) * (1 + r()));
    const A = Float32Array.from({ length: M * K }, () => (r() * 2 - 1) * 4), B = tiny(K * N), C0 = tiny(M * N);
    const js = C0.slice(), wasm = C0.slice();
    gemmAccJs(M, N, K, A, 0, B, 0, js, 0);
    expect(gemmAccWasm(M, N, K, A, 0, B, 0, wasm, 0)).toBe(true);
    expect(sameBits(wasm, js)).toBeUndefined();
    expect(js.some((v) => v !== 0 && Math.abs(v) < 2 ** -126), 'some results denormal').toBe(true);
  });

  it('sums whose order matters (huge terms cancelling around small ones) come out the same', () => {
    // Every tenth k a term +2^60 that the fifth k after cancels: the small terms between them vanish into it,
    // so a float64 sum in any other k order keeps other terms and gives other values (checked below).
    const r = rng(11);
    const M = 11, N = 10, K = 300;
    const A = Float32Array.from({ length: M * K }, (_, x) => {
      const k = x % K, s = Math.floor(x / K) % 2 ? -1 : 1;
      return k % 10 === 0 ? s * 2 ** 60 : k % 10 === 5 ? -s * 2 ** 60 : r() * 3 - 1;
    });
    const B = Float32Array.from({ length: K * N }, (_, x) => (Math.floor(x / N) % 5 === 0 ? 1 : 1 + Math.floor(r() * 8) * 2 ** -3));
    const js = new Float32Array(M * N), wasm = new Float32Array(M * N);
    gemmAccJs(M, N, K, A, 0, B, 0, js, 0);
    expect(gemmAccWasm(M, N, K, A, 0, B, 0, wasm, 0)).toBe(true);
    expect(sameBits(wasm, js)).toBeUndefined();
    let reordered = 0;
    for (let i = 0; i < 8; i++) for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = K - 1; k >= 0; k--) acc += A[i * K + k] * B[k * N + j];
      if (Math.fround(acc) !== js[i * N + j]) reordered++;
    }
    expect(reordered, 'the data is order-sensitive').toBeGreaterThan(10);
  });

  it('gemmAcc falls back to JavaScript when the wasm path is off, with the same values', () => {
    const r = rng(4);
    const A = values(12 * 70, r), B = values(70 * 30, r);
    const on = new Float32Array(12 * 30), off = new Float32Array(12 * 30);
    gemmAcc(12, 30, 70, A, 0, B, 0, on, 0);
    setGemmWasm(false);
    expect(gemmAccWasm(12, 30, 70, A, 0, B, 0, off, 0)).toBe(false);
    gemmAcc(12, 30, 70, A, 0, B, 0, off, 0);
    expect(sameBits(on, off)).toBeUndefined();
    expect(on.some((v) => v !== 0)).toBe(true);
  });
});

describe('gemmAccBt in wasm equals the JavaScript loops bit for bit', () => {
  const shapes: [number, number, number][] = [[1, 10, 784], [3, 7, 5], [2, 1000, 2048], [5, 9, 1], [7, 13, 63], [64, 3, 4096]];
  for (const [M, N, K] of shapes) for (const special of [0, 0.05]) {
    it(`M=${M} N=${N} K=${K}${special ? ' with NaN/Inf/−0/denormals' : ''}`, () => {
      const r = rng(M + N * 17 + K * 3 + (special ? 1 : 0));
      const A = values(M * K, r, special), B = values(N * K, r, special), C0 = values(M * N, r, special);
      const js = C0.slice(), wasm = C0.slice();
      gemmAccBtJs(M, N, K, A, B, js);
      // Below the size the wasm path starts at, gemmAccBt itself must still agree.
      if (!gemmAccBtWasm(M, N, K, A, B, wasm)) gemmAccBt(M, N, K, A, B, wasm);
      expect(sameBits(wasm, js)).toBeUndefined();
    });
  }

  it('the four partial sums are added in the same order', () => {
    // s0 = 2^60, s1 = 1, s2 = −2^60, s3 = 3 (plus leftovers into s0): any other order changes the result.
    const M = 3, N = 700, K = 10;
    const A = new Float32Array(M * K), B = new Float32Array(N * K).fill(1);
    for (let i = 0; i < M; i++) A.set([2 ** 60, 1, -(2 ** 60), 3, 0, 0, 0, 0, 0.5, i], i * K);
    const js = new Float32Array(M * N), wasm = new Float32Array(M * N);
    gemmAccBtJs(M, N, K, A, B, js);
    expect(gemmAccBtWasm(M, N, K, A, B, wasm)).toBe(true);
    expect(sameBits(wasm, js)).toBeUndefined();
    expect(Array.from(js.subarray(0, 1))).toEqual([3]);
  });
});

it('gemm-wasm.gen.ts is up to date with src/core/sim/float/asm (else run `npm run build:wasm`)', async () => {
  const m = MODULES.find((x) => x.entry.startsWith('src/core/sim/float/'))!;
  const fresh = genSource(await compileModule(m.entry), m);
  expect(readFileSync(m.gen, 'utf8') === fresh, `${m.gen} is stale: run \`npm run build:wasm\``).toBe(true);
});
