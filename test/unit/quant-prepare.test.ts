import { describe, expect, it } from 'vitest';
import { buildModel, float, tensor } from '../../src/core/onnx/build';
import { runFloat } from '../../src/core/sim/float/interpreter';
import type { FloatTensor, Model } from '../../src/core/ir';
import {
  crossLayerEqualize, dropNoOps, foldBatchNorm, foldConstants, foldConvAddBias, foldMatMulAdd, leakySlopeToDpu,
  relu6ToRelu, sigmoidToHardSigmoid, siluToHardSwish,
} from '../../src/core/quant/prepare';
import { constValues } from '../../src/core/quant/prepare/edit';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
const rand = (n: number, seed: number, scale = 1) => { const r = rng(seed); return Float32Array.from({ length: n }, () => r() * scale); };

function close(a: FloatTensor, b: FloatTensor, tol = 1e-4) {
  expect(a.shape).toEqual(b.shape);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]) / (1 + Math.abs(b.data[i])));
  expect(worst).toBeLessThan(tol);
}

const x: FloatTensor = { shape: [2, 3, 6, 6], data: rand(2 * 3 * 36, 5) };
const out = (m: Model) => Object.values(runFloat(m, { x }))[0];

function convBnModel(): Model {
  return buildModel({
    inputs: { x: ['float32', ['N', 3, 6, 6]] },
    outputs: ['y'],
    initializers: {
      w0: tensor('float32', [4, 3, 3, 3], rand(108, 1)), b0: tensor('float32', [4], rand(4, 2)),
      g: tensor('float32', [4], [0.5, 2, 1.5, 0.1]), be: tensor('float32', [4], [0.1, -0.2, 0.3, 0]),
      mu: tensor('float32', [4], [0.2, -1, 0.5, 0]), va: tensor('float32', [4], [1, 0.25, 4, 2]),
      w1: tensor('float32', [5, 4, 1, 1], rand(20, 3, 10)), b1: tensor('float32', [5], rand(5, 4)),
    },
    nodes: [
      { op: 'Conv', inputs: ['x', 'w0', 'b0'], outputs: ['c0'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'BatchNormalization', inputs: ['c0', 'g', 'be', 'mu', 'va'], outputs: ['bn'], attrs: { epsilon: float(1e-3) } },
      { op: 'Relu', inputs: ['bn'], outputs: ['r'] },
      { op: 'Identity', inputs: ['r'], outputs: ['r2'] },
      { op: 'Conv', inputs: ['r2', 'w1', 'b1'], outputs: ['y'] },
    ],
  });
}

describe('graph preparation', () => {
  it('folds BatchNormalization into the conv without changing the float output', () => {
    const m = convBnModel();
    const f = foldBatchNorm(m);
    expect(f.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Identity', 'Conv']);
    close(out(f), out(m));
  });
  it('folds BN into a Gemm (transB) too', () => {
    const m = buildModel({
      inputs: { v: ['float32', [2, 3]] }, outputs: ['y'],
      initializers: { w: tensor('float32', [2, 3], [1, 2, 3, -1, 0.5, 2]), b: tensor('float32', [2], [0.5, -0.5]),
        g: tensor('float32', [2], [2, 0.5]), be: tensor('float32', [2], [1, 0]), mu: tensor('float32', [2], [0.3, 0]), va: tensor('float32', [2], [1, 9]) },
      nodes: [
        { op: 'Gemm', inputs: ['v', 'w', 'b'], outputs: ['h'], attrs: { transB: 1 } },
        { op: 'BatchNormalization', inputs: ['h', 'g', 'be', 'mu', 'va'], outputs: ['y'] },
      ],
    });
    const f = foldBatchNorm(m);
    expect(f.graph.nodes.map((n) => n.opType)).toEqual(['Gemm']);
    const v = { shape: [2, 3], data: rand(6, 9) };
    close(runFloat(f, { v }).y, runFloat(m, { v }).y);
  });
  it('drops Identity and equalizes conv pairs (CLE) leaving outputs unchanged and ranges balanced', () => {
    const m = dropNoOps(foldBatchNorm(convBnModel()));
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Conv']);
    const e = crossLayerEqualize(m);
    close(out(e), out(m));
    const w0 = constValues(e.graph.initializers.get(m.graph.nodes[0].inputs[1])!);
    const w1 = constValues(e.graph.initializers.get('w1')!);
    for (let c = 0; c < 4; c++) {
      let r0 = 0; let r1 = 0;
      for (let i = 0; i < 27; i++) r0 = Math.max(r0, Math.abs(w0[c * 27 + i]));
      for (let o = 0; o < 5; o++) r1 = Math.max(r1, Math.abs(w1[o * 4 + c]));
      expect(r0 / r1).toBeCloseTo(1, 4);
    }
  });
  it('CLE through ReLU and MaxPool', () => {
    const m = buildModel({
      inputs: { x: ['float32', ['N', 3, 6, 6]] }, outputs: ['y'],
      initializers: { w0: tensor('float32', [4, 3, 3, 3], rand(108, 31, 4)), w1: tensor('float32', [2, 4, 1, 1], rand(8, 32, 0.05)) },
      nodes: [
        { op: 'Conv', inputs: ['x', 'w0'], outputs: ['a'] },
        { op: 'Relu', inputs: ['a'], outputs: ['r'] },
        { op: 'MaxPool', inputs: ['r'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
        { op: 'Conv', inputs: ['p', 'w1'], outputs: ['y'] },
      ],
    });
    const e = crossLayerEqualize(m);
    expect(e).not.toBe(m);
    close(out(e), out(m));
  });
  it('CLE into a depthwise conv', () => {
    const m = buildModel({
      inputs: { x: ['float32', ['N', 3, 6, 6]] }, outputs: ['y'],
      initializers: { w0: tensor('float32', [4, 3, 1, 1], rand(12, 11, 5)), w1: tensor('float32', [4, 1, 3, 3], rand(36, 12, 0.1)) },
      nodes: [
        { op: 'Conv', inputs: ['x', 'w0'], outputs: ['a'] },
        { op: 'LeakyRelu', inputs: ['a'], outputs: ['r'], attrs: { alpha: float(0.1) } },
        { op: 'Conv', inputs: ['r', 'w1'], outputs: ['y'], attrs: { group: 4 } },
      ],
    });
    const e = crossLayerEqualize(m);
    expect(e).not.toBe(m);
    close(out(e), out(m));
  });
  it('folds constants, Conv+Add bias and MatMul+Add (mnist-8 style)', () => {
    const m = buildModel({
      inputs: { x: ['float32', [1, 3, 6, 6]] }, outputs: ['y'],
      initializers: {
        w: tensor('float32', [2, 3, 3, 3], rand(54, 21)), cb: tensor('float32', [2, 1, 1], [0.5, -0.25]),
        fw: tensor('float32', [32, 5], rand(160, 22)), shp: tensor('int64', [2], [32, 5]), fb: tensor('float32', [1, 5], rand(5, 23)),
        flat: tensor('int64', [2], [1, 32]),
      },
      nodes: [
        { op: 'Reshape', inputs: ['fw', 'shp'], outputs: ['fw2'] },
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] },
        { op: 'Add', inputs: ['c', 'cb'], outputs: ['cp'] },
        { op: 'Reshape', inputs: ['cp', 'flat'], outputs: ['f'] },
        { op: 'MatMul', inputs: ['f', 'fw2'], outputs: ['mm'] },
        { op: 'Add', inputs: ['mm', 'fb'], outputs: ['y'] },
      ],
    });
    const log: { pass: string; detail: string }[] = [];
    const f = foldMatMulAdd(foldConvAddBias(foldConstants(m, log), log), log);
    expect(f.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Reshape', 'Gemm']);
    expect(log.map((l) => l.pass)).toEqual(['fold_constants', 'fold_conv_add', 'fold_matmul_add']);
    const xin = { shape: [1, 3, 6, 6], data: rand(108, 24) };
    close(runFloat(f, { x: xin }).y, runFloat(m, { x: xin }).y);
  });
  it('optional conversions', () => {
    const m = buildModel({
      opset: 14,
      inputs: { x: ['float32', [1, 4]] }, outputs: ['y'],
      initializers: { lo: tensor('float32', [], [0]), hi: tensor('float32', [], [6]) },
      nodes: [
        { op: 'Clip', inputs: ['x', 'lo', 'hi'], outputs: ['a'] },
        { op: 'Sigmoid', inputs: ['a'], outputs: ['s'] },
        { op: 'Mul', inputs: ['a', 's'], outputs: ['b'] },
        { op: 'LeakyRelu', inputs: ['b'], outputs: ['c'], attrs: { alpha: float(0.01) } },
        { op: 'Sigmoid', inputs: ['c'], outputs: ['y'] },
      ],
    });
    const c = sigmoidToHardSigmoid(leakySlopeToDpu(siluToHardSwish(relu6ToRelu(m))));
    expect(c.graph.nodes.map((n) => n.opType)).toEqual(['Relu', 'HardSwish', 'LeakyRelu', 'HardSigmoid']);
    expect(c.graph.nodes[2].attrs.alpha).toEqual({ kind: 'float', value: 26 / 256 });
    const y = runFloat(c, { x: { shape: [1, 4], data: new Float32Array([-1, 0, 1, 9]) } }).y.data;
    // relu → hswish → leaky → hsigmoid: x=1 → hswish(1) = 1·4/6 → hsigmoid(2/3) = 2/3/6 + 0.5
    expect(y[2]).toBeCloseTo((2 / 3) / 6 + 0.5, 5);
  });
});
