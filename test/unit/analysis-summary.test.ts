import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inspectJson, modelBatch, summarize } from '../../src/core/analysis/summary';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { readOnnx } from '../../src/core/onnx/reader';
import { SHARED_ONNX } from '../shared';

const ones = (dims: number[]) => tensor('float32', dims, new Array(dims.reduce((a, b) => a * b, 1)).fill(1));

/**
 * Conv (grouped) → Relu → ConvTranspose → Reshape → Gemm → MatMul at a given batch (a name is symbolic);
 * `sequence` adds an input [batch, 6, 10] through its own MatMul (6 rows per sample).
 */
function net(batch: number | string, sequence = false) {
  return buildModel({
    inputs: { x: ['float32', [batch, 4, 16, 16]], ...(sequence ? { s: ['float32', [batch, 6, 10]] as const } : {}) },
    outputs: sequence ? ['y', 'z'] : ['y'],
    initializers: {
      w1: ones([8, 2, 3, 3]), b1: ones([8]), // grouped conv, group 2
      wt: ones([8, 4, 2, 2]), // ConvTranspose 8→4, stride 2
      wg: ones([4 * 32 * 32, 10]),
      wm: ones([10, 5]),
      shape: tensor('int64', [2], [typeof batch === 'number' ? batch : 0, -1]),
    },
    nodes: [
      { op: 'Conv', inputs: ['x', 'w1', 'b1'], outputs: ['c'], attrs: { group: 2, pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'ConvTranspose', inputs: ['r', 'wt'], outputs: ['t'], attrs: { strides: [2, 2] } },
      { op: 'Reshape', inputs: ['t', 'shape'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'wg'], outputs: ['g'] },
      { op: 'MatMul', inputs: ['g', 'wm'], outputs: ['y'] },
      ...(sequence ? [{ op: 'MatMul', inputs: ['s', 'wm'], outputs: ['z'] }] : []),
    ],
  });
}

describe('summarize', () => {
  const model = net('batch');
  const s = summarize(model);

  it('counts nodes, ops and initializer elements', () => {
    expect(s.nodes).toBe(6);
    expect(s.ops).toEqual({ Conv: 1, Relu: 1, ConvTranspose: 1, Reshape: 1, Gemm: 1, MatMul: 1 });
    expect(s.params).toBe(8 * 2 * 9 + 8 + 8 * 4 * 4 + 4096 * 10 + 50 + 2);
    expect(s.opset).toBe(13);
  });
  it('computes MACs per layer at batch 1 (symbolic batch = 1)', () => {
    const macs = Object.fromEntries(s.layers.map((l) => [l.opType, l.macs]));
    expect(macs.Conv).toBe(8 * 16 * 16 * (4 / 2) * 3 * 3); // N·Co·Ho·Wo·Ci/g·Kh·Kw
    expect(macs.ConvTranspose).toBe(8 * 16 * 16 * 4 * 2 * 2); // every input element × Co·Kh·Kw
    expect(macs.Gemm).toBe(4096 * 10);
    expect(macs.MatMul).toBe(10 * 5);
    expect(macs.Relu).toBe(0);
    expect(s.macs).toBe(macs.Conv + macs.ConvTranspose + macs.Gemm + macs.MatMul);
  });
  it('counts MACs at batch 1 when the batch is fixed at 8 (the same as with a symbolic batch)', () => {
    const fixed = net(8, true);
    const f = summarize(fixed);
    expect(f.layers[0].outputShape).toEqual([8, 8, 16, 16]);
    expect(f.layers.map((l) => l.macs)).toEqual([
      8 * 16 * 16 * (4 / 2) * 3 * 3, 0, 8 * 16 * 16 * 4 * 2 * 2, 0, 4096 * 10, 10 * 5, 6 * 10 * 5,
    ]);
    expect(f.macs - 6 * 10 * 5).toBe(s.macs);
    expect(modelBatch(fixed)).toBe(8);
  });
  it('keeps a Gemm\'s M when it is not the batch, and takes batch 1 when the inputs disagree', () => {
    const m = buildModel({
      inputs: { x: ['float32', [8, 3]], y: ['float32', [2, 3]] },
      outputs: ['a', 'b'],
      initializers: { w: ones([3, 7]), k: ones([5, 3]) },
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w'], outputs: ['a'] },
        { op: 'Gemm', inputs: ['k', 'w'], outputs: ['b'] },
      ],
    });
    expect(modelBatch(m)).toBe(1);
    expect(summarize(m).layers.map((l) => l.macs)).toEqual([8 * 3 * 7, 5 * 3 * 7]);
    const one = buildModel({
      inputs: { x: ['float32', [8, 3]] },
      outputs: ['a', 'b'],
      initializers: { w: ones([3, 7]), k: ones([5, 3]) },
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w'], outputs: ['a'] },
        { op: 'Gemm', inputs: ['k', 'w'], outputs: ['b'] },
      ],
    });
    expect(summarize(one).layers.map((l) => l.macs)).toEqual([3 * 7, 5 * 3 * 7]);
  });
  it('lists layers with their output shapes and own parameter counts', () => {
    expect(s.layers.map((l) => [l.name, l.outputShape, l.params])).toEqual([
      ['Conv_0', ['batch', 8, 16, 16], 152],
      ['Relu_1', ['batch', 8, 16, 16], 0],
      ['ConvTranspose_2', ['batch', 4, 32, 32], 128],
      ['Reshape_3', ['batch', 4096], 2],
      ['Gemm_4', ['batch', 10], 40960],
      ['MatMul_5', ['batch', 5], 50],
    ]);
  });
});

describe('inspectJson', () => {
  it('mnist-8 matches an independent decode of the file (nodes, op histogram, params) and hand-computed MACs', () => {
    const m = readOnnx(new Uint8Array(readFileSync('public/models/mnist-8.onnx')));
    expect(inspectJson(m)).toEqual({
      format: 'onnx',
      opset: 8,
      producer: 'CNTK',
      nodes: 12,
      ops: { Reshape: 2, Conv: 2, Add: 3, Relu: 2, MaxPool: 2, MatMul: 1 },
      params: 5998,
      // conv 1→8 5×5 at 28×28 + conv 8→16 5×5 at 14×14 + matmul 256×10
      macs: 28 * 28 * 8 * 25 + 14 * 14 * 16 * 8 * 25 + 256 * 10,
      inputs: [{ name: 'Input3', shape: [1, 1, 28, 28], dtype: 'float32' }],
      outputs: [{ name: 'Plus214_Output_0', shape: [1, 10], dtype: 'float32' }],
    });
  });
  it('counts Constant nodes and reports unknown shapes as null', () => {
    const m = buildModel({
      inputs: { x: ['float32', [2]] },
      outputs: ['y'],
      nodes: [
        { op: 'Constant', inputs: [], outputs: ['c'], attrs: { value: tensor('float32', [2], [1, 2]) } },
        { op: 'Add', inputs: ['x', 'c'], outputs: ['a'] },
        { op: 'Custom', domain: 'x.y', inputs: ['a'], outputs: ['y'] },
      ],
    });
    const j = inspectJson(m);
    expect(j.nodes).toBe(3);
    expect(j.ops).toEqual({ Constant: 1, Add: 1, Custom: 1 });
    expect(j.params).toBe(0);
    expect(j.outputs).toEqual([{ name: 'y', shape: null, dtype: 'float32' }]);
  });
});

const SHARED = SHARED_ONNX;
describe.skipIf(!existsSync(SHARED))('MACs of published architectures (shared models)', () => {
  const macsOf = (f: string) => summarize(readOnnx(new Uint8Array(readFileSync(`${SHARED}/${f}`)))).macs;
  // The papers' multiply-add counts at 224×224: MobileNetV2 300 M, EfficientNet-B0 390 M.
  it('MobileNetV2 ≈ 300 M', () => {
    expect(Math.abs(macsOf('mobilenet_v2_bn_random.onnx') / 300e6 - 1)).toBeLessThan(0.01);
  });
  it('EfficientNet-B0 ≈ 390 M', () => {
    expect(Math.abs(macsOf('efficientnet_b0_random.onnx') / 390e6 - 1)).toBeLessThan(0.02);
  });
});
