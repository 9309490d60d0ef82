// The float interpreter's matrix products in WebAssembly (./asm, SIMD128, embedded in gemm-wasm.gen.ts),
// bit-identical to ops/gemm.ts's JavaScript loops. Instantiated synchronously on first use (the module is
// 2 KB, under every browser's limit for synchronous compiles) and absent — callers keep their JavaScript
// loops — where WebAssembly or its SIMD is unavailable. The operands are copied into the module's memory
// for each call; that memory grows to the largest product seen and is reused.
import { GEMM_WASM_BASE64 } from './gemm-wasm.gen';
import { instantiateEmbedded } from '../../wasm';

interface Exports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  gemm(M: number, N: number, K: number, a: number, b: number, c: number, ap: number, bp: number): void;
  gemmBt(M: number, N: number, K: number, a: number, b: number, c: number): void;
}

/**
 * Below this many multiply-adds the copies and the call cost more than the loops save (measured: a 4×4×64
 * product already runs faster in wasm, copies included, but tiny products dominate nothing).
 */
const MIN_WORK = 2048;

let mod: { e: Exports; base: number } | null | undefined;
let enabled = true;

/** Turns the wasm path off or on (tests and benches compare it with the JavaScript loops). */
export function setGemmWasm(on: boolean): void {
  enabled = on;
}

function load(): typeof mod {
  if (mod !== undefined) return mod;
  try {
    const e = instantiateEmbedded<Exports>(GEMM_WASM_BASE64);
    mod = { e, base: (e.heapBase() + 15) & ~15 };
  } catch {
    mod = null;
  }
  return mod;
}

/** The module with at least `bytes` above its heap base, or undefined when wasm is off or unavailable. */
function withRoom(bytes: number): { e: Exports; base: number } | undefined {
  if (!enabled) return undefined;
  const m = load();
  if (!m) return undefined;
  const need = m.base + bytes, have = m.e.memory.buffer.byteLength;
  if (need > have) {
    try {
      m.e.memory.grow(Math.ceil((need - have) / 65536));
    } catch {
      return undefined; // over the engine's memory limit: the JavaScript loops need no copy
    }
  }
  return m;
}

const up16 = (n: number) => (n + 15) & ~15;

/** gemmAcc (ops/gemm.ts) in wasm: C[M×N] += A[M×K]·B[K×N] at the offsets; false, doing nothing, when not taken. */
export function gemmAccWasm(
  M: number, N: number, K: number,
  A: Float32Array, aOff: number, B: Float32Array, bOff: number, C: Float32Array, cOff: number,
): boolean {
  if (M * N * K < MIN_WORK) return false;
  const aB = up16(M * K * 4), bB = up16(K * N * 4), cB = up16(M * N * 4), apB = K * (M & ~3) * 8, bpB = K * 32;
  const m = withRoom(aB + bB + cB + apB + bpB);
  if (!m) return false;
  const a = m.base, b = a + aB, c = b + bB, ap = c + cB, bp = ap + apB;
  const buf = m.e.memory.buffer;
  new Float32Array(buf, a, M * K).set(A.subarray(aOff, aOff + M * K));
  new Float32Array(buf, b, K * N).set(B.subarray(bOff, bOff + K * N));
  const cv = new Float32Array(buf, c, M * N);
  cv.set(C.subarray(cOff, cOff + M * N));
  m.e.gemm(M, N, K, a, b, c, ap, bp);
  C.set(cv, cOff);
  return true;
}

/** gemmAccBt (ops/gemm.ts) in wasm: C[M×N] += A[M×K]·Bᵀ, B stored N×K; false, doing nothing, when not taken. */
export function gemmAccBtWasm(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array): boolean {
  if (M * N * K < MIN_WORK) return false;
  const aB = up16(M * K * 4), bB = up16(N * K * 4), cB = up16(M * N * 4);
  const m = withRoom(aB + bB + cB);
  if (!m) return false;
  const a = m.base, b = a + aB, c = b + bB;
  const buf = m.e.memory.buffer;
  new Float32Array(buf, a, M * K).set(A.subarray(0, M * K));
  new Float32Array(buf, b, N * K).set(B.subarray(0, N * K));
  const cv = new Float32Array(buf, c, M * N);
  cv.set(C.subarray(0, M * N));
  m.e.gemmBt(M, N, K, a, b, c);
  C.set(cv, 0);
  return true;
}
