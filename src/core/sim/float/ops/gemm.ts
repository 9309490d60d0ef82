// Matrix products: the GEMM inner loop Conv also runs on, and the Gemm and MatMul ops.
import { attr, attrInt } from '../../../ir';
import { bad, need, type Kernel } from '../kernel';
import { broadcastShapes, broadcastStrides, size } from '../tensor';
import { gemmAccBtWasm, gemmAccWasm } from '../gemm-wasm';

/**
 * C[M×N] += A[M×K] · B[K×N], all row-major at the given offsets. The core computes 4×4 tiles of C in
 * sixteen local accumulators (registers, once optimised), so each pass over K loads 8 values for
 * 16 multiply-adds and C is written once per tile; A is repacked K-major so its four values are adjacent.
 */
export function gemmAcc(
  M: number, N: number, K: number,
  A: Float32Array, aOff: number,
  B: Float32Array, bOff: number,
  C: Float32Array, cOff: number,
): void {
  if (gemmAccWasm(M, N, K, A, aOff, B, bOff, C, cOff)) return;
  gemmAccJs(M, N, K, A, aOff, B, bOff, C, cOff);
}

/** gemmAcc in JavaScript: the reference the wasm kernel (../asm) reproduces bit for bit, and its fallback. */
export function gemmAccJs(
  M: number, N: number, K: number,
  A: Float32Array, aOff: number,
  B: Float32Array, bOff: number,
  C: Float32Array, cOff: number,
): void {
  const M4 = M - (M % 4), N4 = N - (N % 4);
  if (M4 && N4) {
    // A as M/4 panels of K×4, so the micro-kernel reads both operands sequentially. The panels are
    // float64: loads then need no float32 → double conversion (exact either way).
    const Ap = new Float64Array(K * M4);
    for (let i = 0; i < M4; i++) for (let k = 0; k < K; k++) Ap[(i >> 2) * 4 * K + k * 4 + (i & 3)] = A[aOff + i * K + k];
    tiles(M4, N4, N, K, Ap, B, bOff, C, cOff);
  }
  // Leftover columns of the tiled rows, then leftover rows in full.
  if (N4 < N)
    for (let i = 0; i < M4; i++) for (let j = N4; j < N; j++) {
      let acc = 0;
      for (let k = 0, pa = aOff + i * K, pb = bOff + j; k < K; k++, pb += N) acc += A[pa + k] * B[pb];
      C[cOff + i * N + j] += acc;
    }
  for (let i = M4; i < M; i++) {
    const a0 = aOff + i * K, c0 = cOff + i * N;
    for (let k = 0; k < K; k++) {
      const w = A[a0 + k];
      if (w === 0) continue;
      const b = bOff + k * N;
      for (let j = 0; j < N; j++) C[c0 + j] += w * B[b + j];
    }
  }
}

function tiles(M4: number, N4: number, N: number, K: number, Ap: Float64Array, B: Float32Array, bOff: number, C: Float32Array, cOff: number): void {
  const Bp = new Float64Array(K * 4);
  for (let j = 0; j < N4; j += 4) {
    for (let k = 0, pb = bOff + j; k < K; k++, pb += N) {
      Bp[4 * k] = B[pb]; Bp[4 * k + 1] = B[pb + 1]; Bp[4 * k + 2] = B[pb + 2]; Bp[4 * k + 3] = B[pb + 3];
    }
    for (let i = 0; i < M4; i += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      const end = (i + 4) * K;
      for (let pa = i * K, pb = 0; pa < end; pa += 4, pb += 4) {
        const a0 = Ap[pa], a1 = Ap[pa + 1], a2 = Ap[pa + 2], a3 = Ap[pa + 3];
        const b0 = Bp[pb], b1 = Bp[pb + 1], b2 = Bp[pb + 2], b3 = Bp[pb + 3];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let o = cOff + i * N + j;
      C[o] += c00; C[o + 1] += c01; C[o + 2] += c02; C[o + 3] += c03; o += N;
      C[o] += c10; C[o + 1] += c11; C[o + 2] += c12; C[o + 3] += c13; o += N;
      C[o] += c20; C[o + 1] += c21; C[o + 2] += c22; C[o + 3] += c23; o += N;
      C[o] += c30; C[o + 1] += c31; C[o + 2] += c32; C[o + 3] += c33;
    }
  }
}

/** C[M×N] += A[M×K] · Bᵀ where B is stored N×K: dot products of contiguous rows (fully connected layers). */
export function gemmAccBt(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array): void {
  if (!gemmAccBtWasm(M, N, K, A, B, C)) gemmAccBtJs(M, N, K, A, B, C);
}

/** gemmAccBt in JavaScript: the wasm kernel's reference and fallback. */
export function gemmAccBtJs(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array): void {
  for (let i = 0; i < M; i++) {
    const a = i * K;
    for (let j = 0; j < N; j++) {
      const b = j * K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, k = 0;
      for (; k + 4 <= K; k += 4) {
        s0 += A[a + k] * B[b + k]; s1 += A[a + k + 1] * B[b + k + 1];
        s2 += A[a + k + 2] * B[b + k + 2]; s3 += A[a + k + 3] * B[b + k + 3];
      }
      for (; k < K; k++) s0 += A[a + k] * B[b + k];
      C[i * N + j] += s0 + s1 + s2 + s3;
    }
  }
}

/** The transpose of a rows×cols row-major matrix. */
export function transpose2d(a: Float32Array, rows: number, cols: number, off = 0): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[off + r * cols + c];
  return out;
}

export const gemm: Kernel = (inp, ctx) => {
  const a = need(inp, 0, ctx), b = need(inp, 1, ctx), c = inp[2];
  if (a.shape.length !== 2 || b.shape.length !== 2) throw bad(ctx, `A and B must be 2-D, got [${a.shape}] and [${b.shape}]`);
  const transA = attrInt(ctx.node, 'transA', 0), transB = attrInt(ctx.node, 'transB', 0);
  const alpha = attr(ctx.node, 'alpha', 'float') ?? 1, beta = attr(ctx.node, 'beta', 'float') ?? 1;
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [Kb, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (K !== Kb) throw bad(ctx, `inner dimensions differ: A [${a.shape}] and B [${b.shape}]`);
  let A = transA ? transpose2d(a.data, a.shape[0], a.shape[1]) : a.data;
  if (alpha !== 1) A = A.map((v) => v * alpha);

  const out = new Float32Array(M * N);
  if (c && beta !== 0) {
    const st = broadcastStrides(c.shape, [M, N]);
    if (c.shape.length > 2 || broadcastShapes([c.shape, [M, N]], 'Gemm C').some((d, i) => d !== [M, N][i]))
      throw bad(ctx, `C of shape [${c.shape}] does not broadcast to [${M},${N}]`);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) out[i * N + j] = beta * c.data[i * st[0] + j * st[1]];
  }
  if (transB) gemmAccBt(M, N, K, A, b.data, out);
  else gemmAcc(M, N, K, A, 0, b.data, 0, out, 0);
  return [{ shape: [M, N], data: out }];
};

export const matmul: Kernel = (inp, ctx) => {
  const a = need(inp, 0, ctx), b = need(inp, 1, ctx);
  if (!a.shape.length || !b.shape.length) throw bad(ctx, 'inputs must not be scalars');
  // 1-D operands are promoted to matrices and the promoted axis dropped from the result (numpy).
  const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const M = as[as.length - 2], K = as[as.length - 1], N = bs[bs.length - 1];
  if (bs[bs.length - 2] !== K) throw bad(ctx, `inner dimensions differ: [${a.shape}] · [${b.shape}]`);
  const batch = broadcastShapes([as.slice(0, -2), bs.slice(0, -2)], `MatMul (node ${ctx.node.name})`);
  const nb = size(batch);
  const sa = broadcastStrides(as.slice(0, -2), batch), sb = broadcastStrides(bs.slice(0, -2), batch);
  const out = new Float32Array(nb * M * N);
  const idx = new Array<number>(batch.length).fill(0);
  for (let t = 0; t < nb; t++) {
    let oa = 0, ob = 0;
    for (let d = 0; d < batch.length; d++) { oa += idx[d] * sa[d]; ob += idx[d] * sb[d]; }
    gemmAcc(M, N, K, a.data, oa * M * K, b.data, ob * K * N, out, t * M * N);
    for (let d = batch.length - 1; d >= 0; d--) { if (++idx[d] < batch[d]) break; idx[d] = 0; }
  }
  const shape = [...batch];
  if (a.shape.length > 1) shape.push(M);
  if (b.shape.length > 1) shape.push(N);
  return [{ shape, data: out }];
};
