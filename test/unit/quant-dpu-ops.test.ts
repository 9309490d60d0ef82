// The fake-quant run's DPU arithmetic (src/core/quant/dpu-ops.ts) against the integer forms of
// docs/simulator.md, computed here directly.
import { describe, expect, it } from 'vitest';
import type { FloatTensor, Node } from '../../src/core/ir';
import { avgPoolFactor, dpuKernels } from '../../src/core/quant/dpu-ops';
import type { KernelCtx } from '../../src/core/sim/float/kernel';
import { avgPoolFactor as kernelFactor } from '../../src/core/sim/dpu/kernels';

const node = (opType: string, attrs: Node['attrs'] = {}): Node => ({ name: opType, opType, domain: '', inputs: ['x'], outputs: ['y'], attrs });
const ctx = (n: Node): KernelCtx => ({ node: n, opset: 13, dtype: () => 'float32', scratch: (k) => new Float32Array(k) });
const sat = (q: number) => Math.max(-128, Math.min(127, q));
const round = (x: number, s: number) => (s > 0 ? Math.floor((x + 2 ** (s - 1)) / 2 ** s) : x * 2 ** -s);

describe('DPU float ops for fake-quant', () => {
  it('average-pool factors follow the §2 table and agree with the int8 kernels for every kernel up to 16×16', () => {
    expect(avgPoolFactor(3, 3)).toEqual({ n: 7, m: 6 });
    expect(avgPoolFactor(7, 7)).toEqual({ n: 21, m: 10 });
    expect(avgPoolFactor(2, 2)).toEqual({ n: 1, m: 2 });
    for (let h = 1; h <= 16; h++) for (let w = 1; w <= 16; w++) expect(avgPoolFactor(h, w)).toEqual(kernelFactor(h, w));
  });

  it('a 3×3 average pool with padding sums the window (pads 0) and multiplies by 7/64, rounded once', () => {
    const fpIn = 4, fpOut = 4;
    const x: FloatTensor = { shape: [1, 1, 3, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9], (q) => q * 13 * 2 ** -fpIn) };
    const k = dpuKernels((t) => (t === 'y' ? fpOut : undefined)).AveragePool;
    const [y] = k([x], ctx(node('AveragePool', { kernel_shape: { kind: 'ints', value: [3, 3] }, pads: { kind: 'ints', value: [1, 1, 1, 1] } })));
    const q = Array.from(x.data, (v) => v * 2 ** fpIn);
    const at = (r: number, c: number) => (r < 0 || c < 0 || r > 2 || c > 2 ? 0 : q[r * 3 + c]);
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) s += at(r + dr, c + dc);
        expect(y.data[r * 3 + c] * 2 ** fpOut).toBe(sat(round(s * 7, 6 + fpIn - fpOut)));
      }
  });

  it('LeakyReLU multiplies negatives by exactly 26/256 and rounds half up at the output fix point', () => {
    const x: FloatTensor = { shape: [5], data: Float32Array.from([-5, -20, -128, 3, 127], (q) => q * 2 ** -2) };
    const [y] = dpuKernels((t) => (t === 'y' ? 4 : undefined)).LeakyRelu([x], ctx(node('LeakyRelu', { alpha: { kind: 'float', value: 0.1015625 } })));
    // z in units 2^-2, output fp 4: shift 2 − 4 = −2 for positives, 8 − 2 = 6 for negatives·26.
    expect(Array.from(y.data, (v) => v * 16)).toEqual([-5, -20, -128, 3, 127].map((q) => sat(q < 0 ? round(q * 26, 6) : round(q, -2))));
  });

  it('hard-sigmoid is relu6(x + 3)·2731/2^14 and hard-swish uses h at fix point 7', () => {
    const fpIn = 4, fpOut = 7;
    const qs = [-128, -49, -48, -47, -1, 0, 1, 7, 8, 47, 48, 49, 127];
    const x: FloatTensor = { shape: [qs.length], data: Float32Array.from(qs, (q) => q * 2 ** -fpIn) };
    const ks = dpuKernels((t) => (t === 'y' ? fpOut : undefined));
    const t = (p: number) => Math.max(0, Math.min(6 * 2 ** fpIn, p + 3 * 2 ** fpIn));
    const [hs] = ks.HardSigmoid([x], ctx(node('HardSigmoid', { alpha: { kind: 'float', value: 1 / 6 } })));
    expect(Array.from(hs.data, (v) => v * 2 ** fpOut)).toEqual(qs.map((p) => sat(round(t(p) * 2731, 14 + fpIn - fpOut))));
    const fpSw = 3;
    const [sw] = dpuKernels((n) => (n === 'y' ? fpSw : undefined)).HardSwish([x], ctx(node('HardSwish')));
    expect(Array.from(sw.data, (v) => v * 2 ** fpSw)).toEqual(qs.map((p) => sat(round(p * sat(round(t(p) * 2731, 14 + fpIn - 7)), fpIn + 7 - fpSw))));
  });

  it('leaves a HardSigmoid that is not relu6(x + 3)/6 (ONNX default alpha 0.2) and other LeakyReLU slopes to the float ops', () => {
    const x: FloatTensor = { shape: [3], data: Float32Array.of(-1, 0.5, 2) };
    const ks = dpuKernels(() => 7);
    expect(Array.from(ks.HardSigmoid([x], ctx(node('HardSigmoid')))[0].data)).toEqual([0.3, 0.6, 0.9].map(Math.fround));
    expect(Array.from(ks.LeakyRelu([x], ctx(node('LeakyRelu', { alpha: { kind: 'float', value: 0.1 } })))[0].data)).toEqual([-0.1, 0.5, 2].map(Math.fround));
  });
});
