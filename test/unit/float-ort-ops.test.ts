// Single-op models with edge-case attributes, run by the float interpreter and by onnxruntime-web on
// the same pseudo-random inputs: covers semantics the sample models do not reach.
import { describe, expect, it } from 'vitest';
import { buildOnnx, float, tensor, type AttrInput, type NodeSpec } from '../../src/core/onnx/build';
import { readOnnx } from '../../src/core/onnx/reader';
import type { ConstTensor, FloatTensor } from '../../src/core/ir';
import { runFloat } from '../../src/core/sim/float/interpreter';
import { compare, pseudoRandom, runOrt } from './float-ort';

interface Case {
  name: string;
  op: string;
  x: number[];
  consts?: Record<string, ConstTensor>;
  /** Node inputs after x ('' for omitted); default the const names. */
  more?: string[];
  attrs?: Record<string, AttrInput>;
  opset?: number;
  outputs?: number;
  range?: [number, number];
}

const f32 = (shape: number[], seed: number, lo = -1, hi = 1) => tensor('float32', shape, pseudoRandom(shape.reduce((a, b) => a * b, 1), seed, lo, hi));
const i64 = (values: number[]) => tensor('int64', [values.length], values);
const empty = tensor('float32', [0], []);

const CASES: Case[] = [
  { name: 'Conv SAME_LOWER stride 2 groups 2', op: 'Conv', x: [1, 4, 9, 8], consts: { w: f32([6, 2, 4, 3], 1), b: f32([6], 2) }, attrs: { auto_pad: 'SAME_LOWER', strides: [2, 2], group: 2 } },
  { name: 'Conv dilation 2 with pads', op: 'Conv', x: [1, 3, 9, 8], consts: { w: f32([5, 3, 3, 3], 17) }, attrs: { pads: [2, 1, 2, 0], dilations: [2, 3] } },
  { name: 'Conv asymmetric pads, 1-D', op: 'Conv', x: [2, 3, 11], consts: { w: f32([4, 3, 4], 3) }, attrs: { pads: [3, 1], strides: [2] } },
  { name: 'Conv depthwise multiplier 2', op: 'Conv', x: [1, 3, 7, 7], consts: { w: f32([6, 1, 3, 3], 4) }, attrs: { group: 3, pads: [1, 0, 0, 1] } },
  { name: 'Conv 1×1 with odd channel counts', op: 'Conv', x: [1, 5, 3, 7], consts: { w: f32([7, 5, 1, 1], 5), b: f32([7], 6) } },
  { name: 'ConvTranspose stride 2, pads, output_padding, groups', op: 'ConvTranspose', x: [1, 4, 5, 4], consts: { w: f32([4, 3, 3, 3], 7), b: f32([6], 8) }, attrs: { strides: [2, 2], pads: [1, 0, 1, 1], output_padding: [1, 1], group: 2 } },
  { name: 'ConvTranspose output_shape', op: 'ConvTranspose', x: [1, 2, 4, 4], consts: { w: f32([2, 2, 3, 3], 9) }, attrs: { strides: [2, 2], output_shape: [8, 8] } },
  { name: 'MaxPool ceil_mode pads dilations', op: 'MaxPool', x: [1, 2, 10, 9], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 2], ceil_mode: 1 } },
  { name: 'AveragePool ceil_mode count_include_pad', op: 'AveragePool', x: [1, 2, 7, 6], attrs: { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 1 } },
  { name: 'AveragePool exclude pad SAME_UPPER', op: 'AveragePool', x: [1, 2, 7, 6], attrs: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' } },
  { name: 'Gemm transA alpha beta', op: 'Gemm', x: [5, 3], consts: { b: f32([5, 4], 10), c: f32([1, 4], 11) }, attrs: { transA: 1, alpha: 0.7, beta: 1.3 } },
  { name: 'MatMul batched broadcast', op: 'MatMul', x: [2, 1, 3, 5], consts: { b: f32([3, 5, 6], 12) } },
  { name: 'Softmax opset 11 axis 2', op: 'Softmax', x: [2, 3, 4, 2], attrs: { axis: 2 }, opset: 11 },
  { name: 'LogSoftmax axis 1', op: 'LogSoftmax', x: [2, 5, 3], attrs: { axis: 1 } },
  { name: 'LayerNormalization', op: 'LayerNormalization', x: [2, 3, 8], consts: { s: f32([8], 13), b: f32([8], 14) }, attrs: { axis: -1, epsilon: float(1e-5) }, opset: 17 },
  { name: 'InstanceNormalization', op: 'InstanceNormalization', x: [2, 3, 4, 5], consts: { s: f32([3], 15), b: f32([3], 16) } },
  { name: 'Resize cubic half_pixel', op: 'Resize', x: [1, 2, 5, 4], consts: { roi: empty, sc: tensor('float32', [4], [1, 1, 1.6, 2.5]) }, attrs: { mode: 'cubic' } },
  { name: 'Resize cubic align_corners exclude_outside', op: 'Resize', x: [1, 1, 4, 5], consts: { roi: empty, sc: empty, sz: i64([1, 1, 7, 3]) }, attrs: { mode: 'cubic', coordinate_transformation_mode: 'align_corners', exclude_outside: 1, cubic_coeff_a: -0.5 } },
  { name: 'Resize linear pytorch_half_pixel downsample', op: 'Resize', x: [1, 2, 9, 7], consts: { roi: empty, sc: empty, sz: i64([1, 2, 4, 3]) }, attrs: { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' } },
  { name: 'Resize nearest round_prefer_ceil asymmetric', op: 'Resize', x: [1, 1, 4, 4], consts: { roi: empty, sc: tensor('float32', [4], [1, 1, 1.5, 0.75]) }, attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'round_prefer_ceil' } },
  { name: 'Resize nearest ceil half_pixel', op: 'Resize', x: [1, 1, 3, 5], consts: { roi: empty, sc: tensor('float32', [4], [1, 1, 2.5, 1.4]) }, attrs: { mode: 'nearest', nearest_mode: 'ceil' } },
  { name: 'Pad reflect 4-D', op: 'Pad', x: [1, 2, 4, 5], consts: { p: i64([0, 0, 2, 3, 0, 0, 1, 2]) }, attrs: { mode: 'reflect' } },
  { name: 'Pad negative (crop) constant', op: 'Pad', x: [1, 2, 4, 5], consts: { p: i64([0, 0, -1, 2, 0, 0, 1, -2]), v: tensor('float32', [], [0.5]) } },
  { name: 'Slice negative steps', op: 'Slice', x: [3, 6, 5], consts: { s: i64([-1, 4]), e: i64([-100, 0]), a: i64([2, 1]), st: i64([-2, -3]) } },
  { name: 'ReduceMean axes attr keepdims 0', op: 'ReduceMean', x: [2, 3, 4], attrs: { axes: [0, -1], keepdims: 0 } },
  { name: 'ReduceMax all', op: 'ReduceMax', x: [2, 3, 4] },
  { name: 'ReduceL2', op: 'ReduceL2', x: [2, 3, 4], attrs: { axes: [1] } },
  { name: 'ArgMax keepdims 0', op: 'ArgMax', x: [3, 4, 5], attrs: { axis: 1, keepdims: 0 } },
  { name: 'Split equal 3 ways', op: 'Split', x: [2, 9], attrs: { axis: 1 }, outputs: 3 },
  { name: 'Transpose perm', op: 'Transpose', x: [2, 3, 4, 5], attrs: { perm: [0, 3, 1, 2] } },
  { name: 'Tile', op: 'Tile', x: [2, 3], consts: { r: i64([3, 2]) } },
  { name: 'Expand', op: 'Expand', x: [3, 1], consts: { s: i64([2, 1, 4]) } },
  { name: 'Mod fmod', op: 'Mod', x: [2, 5], consts: { d: tensor('float32', [5], [0.3, -0.7, 1.1, -2, 0.9]) }, attrs: { fmod: 1 }, range: [-3, 3] },
  { name: 'HardSigmoid defaults', op: 'HardSigmoid', x: [4, 5], range: [-5, 5] },
  { name: 'Selu', op: 'Selu', x: [4, 5], range: [-3, 3] },
  { name: 'Softplus', op: 'Softplus', x: [4, 5], range: [-10, 10] },
  { name: 'Erf', op: 'Erf', x: [4, 5], range: [-4, 4] },
  { name: 'Round (half to even)', op: 'Round', x: [4, 5], range: [-4, 4] },
  { name: 'Clip opset 6 attrs', op: 'Clip', x: [4, 5], attrs: { min: float(-0.3), max: float(0.4) }, opset: 6 },
  { name: 'QuantizeLinear per-axis int8', op: 'QuantizeLinear', x: [1, 3, 2, 2], consts: { s: tensor('float32', [3], [0.01, 0.02, 0.05]), z: tensor('int8', [3], [-3, 0, 7]) }, range: [-3, 3] },
  { name: 'QuantizeLinear uint8 per-tensor', op: 'QuantizeLinear', x: [2, 8], consts: { s: tensor('float32', [], [0.0078125]), z: tensor('uint8', [], [128]) }, range: [-1.2, 1.2] },
  { name: 'Upsample opset 9 nearest', op: 'Upsample', x: [1, 2, 3, 4], consts: { sc: tensor('float32', [4], [1, 1, 2, 3]) }, opset: 9 },
  { name: 'Resize opset 10 nearest downsample', op: 'Resize', x: [1, 1, 6, 7], consts: { sc: tensor('float32', [4], [1, 1, 0.5, 0.6]) }, opset: 10 },
  { name: 'Resize opset 10 linear', op: 'Resize', x: [1, 1, 3, 4], consts: { sc: tensor('float32', [4], [1, 1, 2, 1.5]) }, attrs: { mode: 'linear' }, opset: 10 },
  { name: 'LeakyRelu', op: 'LeakyRelu', x: [3, 4], attrs: { alpha: 0.1015625 } },
  { name: 'PRelu channel slopes', op: 'PRelu', x: [1, 3, 2, 2], consts: { s: f32([3, 1, 1], 18) } },
  { name: 'Elu', op: 'Elu', x: [3, 4], attrs: { alpha: 0.5 } },
  { name: 'HardSwish', op: 'HardSwish', x: [4, 6], opset: 14, range: [-5, 5] },
  { name: 'Sum broadcasting three inputs', op: 'Sum', x: [2, 3, 4], consts: { b: f32([3, 1], 19), c: f32([4], 20) } },
  { name: 'Mean', op: 'Mean', x: [2, 3], consts: { b: f32([2, 3], 21) } },
  { name: 'Max broadcasting', op: 'Max', x: [2, 3, 4], consts: { b: f32([1, 4], 22) } },
  { name: 'Div broadcasting', op: 'Div', x: [2, 3, 4], consts: { b: f32([3, 1], 23, 0.5, 2) } },
  { name: 'Pow', op: 'Pow', x: [2, 3], consts: { e: tensor('float32', [3], [2, 0.5, 3]) }, range: [0, 3] },
  { name: 'Cast to int32 truncates', op: 'Cast', x: [2, 5], attrs: { to: 6 }, range: [-5, 5] },
  { name: 'Gather axis 1 negative indices', op: 'Gather', x: [3, 5, 2], consts: { i: tensor('int64', [2, 2], [-1, 0, 3, -2]) }, attrs: { axis: 1 } },
  { name: 'Concat axis -2', op: 'Concat', x: [2, 3, 2], consts: { b: f32([2, 1, 2], 24) }, attrs: { axis: -2 } },
  { name: 'Flatten axis 2', op: 'Flatten', x: [2, 3, 4, 5], attrs: { axis: 2 } },
  { name: 'BatchNormalization', op: 'BatchNormalization', x: [2, 3, 4], consts: { s: f32([3], 25), b: f32([3], 26), m: f32([3], 27), v: f32([3], 28, 0.1, 2) }, attrs: { epsilon: float(1e-3) } },
  { name: 'GlobalAveragePool', op: 'GlobalAveragePool', x: [2, 3, 5, 7] },
];

describe('single ops agree with onnxruntime-web', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const outputs = Array.from({ length: c.outputs ?? 1 }, (_, i) => `y${i}`);
      const spec: NodeSpec = { op: c.op, inputs: ['x', ...(c.more ?? Object.keys(c.consts ?? {}))], outputs, attrs: c.attrs };
      const bytes = buildOnnx({
        opset: c.opset ?? 13,
        inputs: { x: ['float32', c.x] },
        outputs,
        initializers: Object.fromEntries(Object.entries(c.consts ?? {}).map(([k, t]) => [k, { ...t, name: k }])),
        nodes: [spec],
      });
      const x: FloatTensor = { shape: c.x, data: pseudoRandom(c.x.reduce((a, b) => a * b, 1), 99, ...(c.range ?? [-2, 2])) };
      const mine = runFloat(readOnnx(bytes), { x });
      const ref = await runOrt(bytes, { x });
      for (const o of outputs) {
        expect([...mine[o].shape], o).toEqual(ref[o].shape);
        const { maxDiff, scale } = compare(mine[o], ref[o]);
        expect(maxDiff, `${o}: ${maxDiff} at scale ${scale}`).toBeLessThanOrEqual(2e-6 * Math.max(scale, 1));
      }
    });
  }
});
