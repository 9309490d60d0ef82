// The interpreter's hooks: observe sees every computed tensor, transform replaces what flows on,
// weights override constants (folded ones recomputed), outputs exposes intermediates.
import { describe, expect, it } from 'vitest';
import { buildModel, tensor } from '../../src/core/onnx/build';
import type { FloatTensor } from '../../src/core/ir';
import { planFloat, runFloat } from '../../src/core/sim/float/interpreter';

const ft = (shape: number[], data: ArrayLike<number>): FloatTensor => ({ shape, data: Float32Array.from(data) });

// x → Conv(w, b) → c → Relu → r → Add(bias') → y, with w built by ConstantOfShape·scale (a folded constant).
const model = buildModel({
  inputs: { x: ['float32', [1, 1, 2, 2]] },
  outputs: ['y'],
  initializers: {
    wshape: tensor('int64', [4], [1, 1, 1, 1], 'wshape'),
    k: tensor('float32', [], [2], 'k'),
    b: tensor('float32', [1], [-3], 'b'),
    off: tensor('float32', [], [0.5], 'off'),
  },
  nodes: [
    { op: 'ConstantOfShape', name: 'ones', inputs: ['wshape'], outputs: ['w1'], attrs: { value: tensor('float32', [1], [1]) } },
    { op: 'Mul', name: 'scale', inputs: ['w1', 'k'], outputs: ['w'] },
    { op: 'Conv', name: 'conv', inputs: ['x', 'w', 'b'], outputs: ['c'] },
    { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['r'] },
    { op: 'Add', name: 'add', inputs: ['r', 'off'], outputs: ['y'] },
  ],
});
const x = ft([1, 1, 2, 2], [1, 2, 3, 4]);

describe('float interpreter hooks', () => {
  it('computes the plain forward pass', () => {
    // 2x - 3 → relu → + 0.5
    expect([...runFloat(model, { x }).y.data]).toEqual([0.5, 1.5, 3.5, 5.5]);
  });

  it('observe sees the input and every computed tensor once, in order, and not the folded weights', () => {
    const seen: [string, number[]][] = [];
    runFloat(model, { x }, { observe: (name, t) => seen.push([name, [...t.data]]) });
    expect(seen.map(([n]) => n)).toEqual(['x', 'c', 'r', 'y']);
    expect(seen[1][1]).toEqual([-1, 1, 3, 5]);
    const plan = planFloat(model);
    expect([...plan.constants.get('w')!.data]).toEqual([2]);
    expect(plan.activations).toEqual(['x', 'c', 'r', 'y']);
    expect(plan.isFloat('c')).toBe(true);
    expect(plan.isFloat('wshape')).toBe(false);
  });

  it('transform output is what flows on: zeroing a tensor zeroes everything downstream', () => {
    const r = runFloat(model, { x }, {
      transform: (name, t) => (name === 'c' ? { shape: t.shape, data: new Float32Array(t.data.length) } : t),
      outputs: ['c', 'r', 'y'],
    });
    expect([...r.c.data]).toEqual([0, 0, 0, 0]);
    expect([...r.r.data]).toEqual([0, 0, 0, 0]);
    expect([...r.y.data]).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it('transform of a graph input replaces the input', () => {
    const r = runFloat(model, { x }, { transform: (name, t) => (name === 'x' ? { shape: t.shape, data: t.data.map((v) => v * 10) } : t) });
    expect([...r.y.data]).toEqual([17.5, 37.5, 57.5, 77.5]);
  });

  it('weights override an initializer and a folded constant; dependants are recomputed', () => {
    const viaK = runFloat(model, { x }, { weights: new Map([['k', ft([], [1])]]) });
    expect([...viaK.y.data]).toEqual([0.5, 0.5, 0.5, 1.5]);
    const viaW = runFloat(model, { x }, { weights: new Map([['w', ft([1, 1, 1, 1], [3])]]) });
    expect([...viaW.y.data]).toEqual([0.5, 3.5, 6.5, 9.5]);
    // The override applies to that run only.
    expect([...runFloat(model, { x }).y.data]).toEqual([0.5, 1.5, 3.5, 5.5]);
    expect(() => runFloat(model, { x }, { weights: new Map([['nope', ft([], [1])]]) })).toThrow(/names no initializer/);
    expect(() => runFloat(model, { x }, { weights: new Map([['w', ft([2], [1, 1])]]) })).toThrow(/has shape \[2\]/);
  });

  it('outputs may name intermediates and constants; unknown names are an error', () => {
    const r = runFloat(model, { x }, { outputs: ['r', 'w'] });
    expect(Object.keys(r).sort()).toEqual(['r', 'w']);
    expect([...r.r.data]).toEqual([0, 1, 3, 5]);
    expect(() => runFloat(model, { x }, { outputs: ['zz'] })).toThrow(/no tensor "zz"/);
  });

  it('tensors are released after their last consumer', () => {
    // A chain of 50 Relu-Add pairs: at most a few activations may be alive at once.
    const n = 50;
    const nodes = [];
    let prev = 'x';
    for (let i = 0; i < n; i++) {
      nodes.push({ op: 'Relu', inputs: [prev], outputs: [`r${i}`] }, { op: 'Add', inputs: [`r${i}`, prev], outputs: [`a${i}`] });
      prev = `a${i}`;
    }
    const chain = buildModel({ inputs: { x: ['float32', [1, 4]] }, outputs: [prev], nodes });
    const plan = planFloat(chain);
    const y = plan.run({ x: ft([1, 4], [1, -1, 2, -2]) }).a49;
    expect([...y.data]).toEqual([2 ** 50, -1, 2 ** 51, -2]);
    // Alive after a node: its input chain value, the Relu output and the new sum at most.
    expect(plan.lastRunPeak.tensors).toBeLessThanOrEqual(3);
    expect(plan.lastRunPeak.tensors).toBeGreaterThanOrEqual(2);
    // Asking for every intermediate keeps them all.
    plan.run({ x: ft([1, 4], [1, -1, 2, -2]) }, { outputs: plan.activations });
    expect(plan.lastRunPeak.tensors).toBe(2 * n + 1);
  });
});
