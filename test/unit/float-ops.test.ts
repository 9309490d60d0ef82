// Per-op checks of the float interpreter against values worked out by hand on tiny inputs.
import { describe, expect, it } from 'vitest';
import { buildModel, float, floats, tensor, type AttrInput } from '../../src/core/onnx/build';
import { isInputError } from '../../src/core/errors';
import type { DType, FloatTensor } from '../../src/core/ir';
import { runFloat } from '../../src/core/sim/float/interpreter';

const ft = (shape: number[], data: ArrayLike<number>): FloatTensor => ({ shape, data: Float32Array.from(data) });
const iota = (n: number, from = 1) => Array.from({ length: n }, (_, i) => i + from);

interface OneOp {
  op: string;
  inputs: Record<string, FloatTensor>;
  consts?: Record<string, [DType, number[], number[]]>;
  attrs?: Record<string, AttrInput>;
  opset?: number;
  /** Input names in node order; '' for omitted optionals. Defaults to inputs then consts. */
  order?: string[];
  outputs?: number;
}

/** Runs a single-node model and returns its outputs. */
function one(spec: OneOp): FloatTensor[] {
  const ins = Object.fromEntries(Object.entries(spec.inputs).map(([k, t]) => [k, ['float32', t.shape] as const]));
  const initializers = Object.fromEntries(Object.entries(spec.consts ?? {}).map(([k, [dt, shape, data]]) => [k, tensor(dt, shape, data, k)]));
  const outs = Array.from({ length: spec.outputs ?? 1 }, (_, i) => `y${i}`);
  const model = buildModel({
    opset: spec.opset ?? 13,
    inputs: ins,
    outputs: outs,
    initializers,
    nodes: [{ op: spec.op, name: 'n', inputs: spec.order ?? [...Object.keys(spec.inputs), ...Object.keys(spec.consts ?? {})], outputs: outs, attrs: spec.attrs }],
  });
  const r = runFloat(model, spec.inputs);
  return outs.map((o) => r[o]);
}

function expectTensor(t: FloatTensor, shape: number[], data: number[], digits = 5): void {
  expect([...t.shape]).toEqual(shape);
  expect(t.data.length).toBe(data.length);
  data.forEach((v, i) => expect(t.data[i], `element ${i}`).toBeCloseTo(v, digits));
}

describe('Conv', () => {
  const x = ft([1, 1, 3, 3], iota(9));
  it('3×3 all-ones kernel with pads 1 sums each neighbourhood', () => {
    const [y] = one({ op: 'Conv', inputs: { x }, consts: { w: ['float32', [1, 1, 3, 3], Array(9).fill(1)] }, attrs: { pads: [1, 1, 1, 1] } });
    expectTensor(y, [1, 1, 3, 3], [12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });
  it('stride 2 with bias', () => {
    const [y] = one({ op: 'Conv', inputs: { x }, consts: { w: ['float32', [1, 1, 3, 3], Array(9).fill(1)], b: ['float32', [1], [0.5]] }, attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } });
    expectTensor(y, [1, 1, 2, 2], [12.5, 16.5, 24.5, 28.5]);
  });
  it('dilation 2 reads the corners', () => {
    const [y] = one({ op: 'Conv', inputs: { x }, consts: { w: ['float32', [1, 1, 2, 2], [1, 10, 100, 1000]] }, attrs: { dilations: [2, 2] } });
    expectTensor(y, [1, 1, 1, 1], [1 + 30 + 700 + 9000]);
  });
  it('auto_pad SAME_UPPER puts the odd pad at the end', () => {
    const x4 = ft([1, 1, 4, 4], iota(16));
    const [y] = one({ op: 'Conv', inputs: { x: x4 }, consts: { w: ['float32', [1, 1, 2, 2], [1, 1, 1, 1]] }, attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] } });
    // ceil(4/2) = 2 outputs, total pad 0: windows at rows/cols 0 and 2.
    expectTensor(y, [1, 1, 2, 2], [1 + 2 + 5 + 6, 3 + 4 + 7 + 8, 9 + 10 + 13 + 14, 11 + 12 + 15 + 16]);
    const [z] = one({ op: 'Conv', inputs: { x }, consts: { w: ['float32', [1, 1, 2, 2], [1, 1, 1, 1]] }, attrs: { auto_pad: 'SAME_UPPER' } });
    // 3×3 input, 2×2 kernel: pad 1 at the bottom/right only.
    expectTensor(z, [1, 1, 3, 3], [12, 16, 9, 24, 28, 15, 15, 17, 9]);
  });
  it('groups: depthwise and two-group convolutions', () => {
    const x2 = ft([1, 2, 2, 2], [1, 2, 3, 4, 10, 20, 30, 40]);
    const [dw] = one({ op: 'Conv', inputs: { x: x2 }, consts: { w: ['float32', [2, 1, 2, 2], [1, 0, 0, 1, 0, 1, 1, 0]] }, attrs: { group: 2 } });
    expectTensor(dw, [1, 2, 1, 1], [1 + 4, 20 + 30]);
    const x4 = ft([1, 4, 1, 1], [1, 2, 3, 4]);
    const [g2] = one({ op: 'Conv', inputs: { x: x4 }, consts: { w: ['float32', [2, 2, 1, 1], [1, 10, 100, 1000]] }, attrs: { group: 2 } });
    expectTensor(g2, [1, 2, 1, 1], [1 + 20, 300 + 4000]);
  });
  it('a general conv (2 in, 3 out channels, 2×2 kernel, pads) agrees with direct summation', () => {
    const xs = ft([1, 2, 4, 5], iota(40).map((v) => Math.sin(v)));
    const w = iota(24).map((v) => Math.cos(v));
    const [y] = one({ op: 'Conv', inputs: { x: xs }, consts: { w: ['float32', [3, 2, 2, 2], w] }, attrs: { pads: [1, 0, 0, 1], strides: [1, 2] } });
    const want: number[] = [];
    for (let m = 0; m < 3; m++) for (let oy = 0; oy < 4; oy++) for (let ox = 0; ox < 3; ox++) {
      let s = 0;
      for (let c = 0; c < 2; c++) for (let ky = 0; ky < 2; ky++) for (let kx = 0; kx < 2; kx++) {
        const iy = oy - 1 + ky, ix = ox * 2 + kx;
        if (iy >= 0 && iy < 4 && ix >= 0 && ix < 5) s += xs.data[c * 20 + iy * 5 + ix] * w[((m * 2 + c) * 2 + ky) * 2 + kx];
      }
      want.push(s);
    }
    expectTensor(y, [1, 3, 4, 3], want);
  });
  it('ConvTranspose stride 2 scatters each input over a kernel footprint', () => {
    const [y] = one({ op: 'ConvTranspose', inputs: { x: ft([1, 1, 2, 2], [1, 2, 3, 4]) }, consts: { w: ['float32', [1, 1, 2, 2], [1, 1, 1, 1]] }, attrs: { strides: [2, 2] } });
    expectTensor(y, [1, 1, 4, 4], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    const [z] = one({ op: 'ConvTranspose', inputs: { x: ft([1, 1, 1, 3], [1, 2, 3]) }, consts: { w: ['float32', [1, 1, 1, 3], [1, 1, 1]] }, attrs: { pads: [0, 1, 0, 1] } });
    expectTensor(z, [1, 1, 1, 3], [3, 6, 5]);
  });
});

describe('pooling', () => {
  const x = ft([1, 1, 5, 5], iota(25));
  it('MaxPool ceil_mode adds the partial window, floor mode drops it', () => {
    const [c] = one({ op: 'MaxPool', inputs: { x }, attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 } });
    expectTensor(c, [1, 1, 3, 3], [7, 9, 10, 17, 19, 20, 22, 24, 25]);
    const [f] = one({ op: 'MaxPool', inputs: { x }, attrs: { kernel_shape: [2, 2], strides: [2, 2] } });
    expectTensor(f, [1, 1, 2, 2], [7, 9, 17, 19]);
  });
  it('AveragePool with pads: count_include_pad 0 divides by real cells, 1 by the window', () => {
    const x3 = ft([1, 1, 2, 2], [1, 2, 3, 4]);
    const [ex] = one({ op: 'AveragePool', inputs: { x: x3 }, attrs: { kernel_shape: [2, 2], pads: [1, 1, 0, 0] } });
    expectTensor(ex, [1, 1, 2, 2], [1, 1.5, 2, 2.5]);
    const [inc] = one({ op: 'AveragePool', inputs: { x: x3 }, attrs: { kernel_shape: [2, 2], pads: [1, 1, 0, 0], count_include_pad: 1 } });
    expectTensor(inc, [1, 1, 2, 2], [0.25, 0.75, 1, 2.5]);
  });
  it('global pools', () => {
    const x2 = ft([1, 2, 2, 2], [1, 2, 3, 6, -1, -2, -3, -4]);
    expectTensor(one({ op: 'GlobalAveragePool', inputs: { x: x2 } })[0], [1, 2, 1, 1], [3, -2.5]);
    expectTensor(one({ op: 'GlobalMaxPool', inputs: { x: x2 } })[0], [1, 2, 1, 1], [6, -1]);
  });
});

describe('element-wise and broadcasting', () => {
  it('broadcasts [2,3] with [3], [2,1] with [1,3], and a scalar', () => {
    expectTensor(one({ op: 'Add', inputs: { a: ft([2, 3], iota(6)), b: ft([3], [10, 20, 30]) } })[0], [2, 3], [11, 22, 33, 14, 25, 36]);
    expectTensor(one({ op: 'Mul', inputs: { a: ft([2, 1], [2, 3]), b: ft([1, 3], [1, 10, 100]) } })[0], [2, 3], [2, 20, 200, 3, 30, 300]);
    expectTensor(one({ op: 'Sub', inputs: { a: ft([], [1]), b: ft([2], [5, 7]) } })[0], [2], [-4, -6]);
    expectTensor(one({ op: 'Div', inputs: { a: ft([1, 2, 1, 2], [1, 2, 3, 4]), b: ft([2, 1, 1], [1, 2]) } })[0], [1, 2, 1, 2], [1, 2, 1.5, 2]);
    expectTensor(one({ op: 'Add', inputs: { a: ft([2, 2, 1], [1, 2, 3, 4]), b: ft([1, 2, 3], [0, 10, 20, 30, 40, 50]) } })[0], [2, 2, 3],
      [1, 11, 21, 32, 42, 52, 3, 13, 23, 34, 44, 54]);
  });
  it('Pow, Max, Min (variadic), Sum, Equal, Where', () => {
    expectTensor(one({ op: 'Pow', inputs: { a: ft([3], [2, 3, 4]), b: ft([], [2]) } })[0], [3], [4, 9, 16]);
    expectTensor(one({ op: 'Max', inputs: { a: ft([3], [1, 5, 3]), b: ft([1], [2]), c: ft([3], [0, 0, 4]) } })[0], [3], [2, 5, 4]);
    expectTensor(one({ op: 'Min', inputs: { a: ft([3], [1, 5, 3]), b: ft([1], [2]) } })[0], [3], [1, 2, 2]);
    expectTensor(one({ op: 'Sum', inputs: { a: ft([2], [1, 2]), b: ft([2], [3, 4]), c: ft([1], [10]) } })[0], [2], [14, 16]);
    expectTensor(one({ op: 'Equal', inputs: { a: ft([3], [1, 2, 3]), b: ft([3], [1, 0, 3]) } })[0], [3], [1, 0, 1]);
    expectTensor(one({ op: 'Where', inputs: { c: ft([2, 1], [1, 0]), a: ft([3], [1, 2, 3]), b: ft([], [-1]) } })[0], [2, 3], [1, 2, 3, -1, -1, -1]);
  });
  it('activations', () => {
    const x = ft([6], [-3, -1, -0.5, 0, 1, 4]);
    expectTensor(one({ op: 'Relu', inputs: { x } })[0], [6], [0, 0, 0, 0, 1, 4]);
    expectTensor(one({ op: 'LeakyRelu', inputs: { x }, attrs: { alpha: 0.1 } })[0], [6], [-0.3, -0.1, -0.05, 0, 1, 4]);
    expectTensor(one({ op: 'HardSigmoid', inputs: { x }, attrs: { alpha: float(0.2), beta: 0.5 } })[0], [6], [0, 0.3, 0.4, 0.5, 0.7, 1]);
    expectTensor(one({ op: 'HardSwish', inputs: { x } })[0], [6], [0, -1 / 3, -0.5 * (2.5 / 6), 0, 4 / 6, 4]);
    expectTensor(one({ op: 'Sigmoid', inputs: { x } })[0], [6], [-3, -1, -0.5, 0, 1, 4].map((v) => 1 / (1 + Math.exp(-v))));
    expectTensor(one({ op: 'Tanh', inputs: { x } })[0], [6], [-3, -1, -0.5, 0, 1, 4].map(Math.tanh));
    expectTensor(one({ op: 'Elu', inputs: { x }, attrs: { alpha: float(2) } })[0], [6], [-3, -1, -0.5, 0, 1, 4].map((v) => (v < 0 ? 2 * (Math.exp(v) - 1) : v)));
    expectTensor(one({ op: 'PRelu', inputs: { x: ft([1, 2, 2], [-1, 1, -1, 1]), s: ft([2, 1], [0.5, 0.25]) } })[0], [1, 2, 2], [-0.5, 1, -0.25, 1]);
    expectTensor(one({ op: 'Abs', inputs: { x } })[0], [6], [3, 1, 0.5, 0, 1, 4]);
    expectTensor(one({ op: 'Floor', inputs: { x } })[0], [6], [-3, -1, -1, 0, 1, 4]);
    expectTensor(one({ op: 'Ceil', inputs: { x } })[0], [6], [-3, -1, -0, 0, 1, 4]);
    expectTensor(one({ op: 'Neg', inputs: { x } })[0], [6], [3, 1, 0.5, 0, -1, -4]);
  });
  it('Clip in attribute form (opset 6) and input form (opset 13, omitted min)', () => {
    const x = ft([4], [-8, 1, 5, 9]);
    expectTensor(one({ op: 'Clip', opset: 6, inputs: { x }, attrs: { min: float(0), max: float(6) } })[0], [4], [0, 1, 5, 6]);
    expectTensor(one({ op: 'Clip', inputs: { x }, consts: { hi: ['float32', [], [6]] }, order: ['x', '', 'hi'] })[0], [4], [-8, 1, 5, 6]);
  });
});

describe('matrix ops and normalisation', () => {
  it('Gemm with transB, alpha, beta and a broadcast C', () => {
    const [y] = one({ op: 'Gemm', inputs: { a: ft([2, 2], [1, 2, 3, 4]) }, consts: { b: ['float32', [3, 2], [1, 0, 0, 1, 1, 1]], c: ['float32', [3], [1, 2, 3]] }, attrs: { transB: 1, alpha: float(2), beta: float(10) } });
    expectTensor(y, [2, 3], [12, 24, 36, 16, 28, 44]);
  });
  it('MatMul batches broadcast and 1-D operands', () => {
    const a = ft([2, 1, 2], [1, 2, 3, 4]);
    const [y] = one({ op: 'MatMul', inputs: { a }, consts: { b: ['float32', [2, 2], [1, 1, 0, 1]] } });
    expectTensor(y, [2, 1, 2], [1, 3, 3, 7]);
    const [v] = one({ op: 'MatMul', inputs: { a: ft([2], [1, 2]) }, consts: { b: ['float32', [2, 3], iota(6)] } });
    expectTensor(v, [3], [9, 12, 15]);
  });
  it('Softmax on a negative axis (opset 13) and on a flattened tail (opset 11)', () => {
    const x = ft([2, 2], [0, Math.log(3), 1, 1]);
    expectTensor(one({ op: 'Softmax', inputs: { x }, attrs: { axis: -1 } })[0], [2, 2], [0.25, 0.75, 0.5, 0.5]);
    const x3 = ft([1, 2, 2], [0, 0, 0, Math.log(5)]);
    expectTensor(one({ op: 'Softmax', opset: 11, inputs: { x: x3 } })[0], [1, 2, 2], [1 / 8, 1 / 8, 1 / 8, 5 / 8]);
  });
  it('BatchNormalization per channel', () => {
    const [y] = one({
      op: 'BatchNormalization', inputs: { x: ft([1, 2, 1, 2], [1, 2, 3, 4]) },
      consts: { s: ['float32', [2], [2, 1]], b: ['float32', [2], [0, 1]], m: ['float32', [2], [1, 3]], v: ['float32', [2], [4, 1]] },
      attrs: { epsilon: float(0) },
    });
    expectTensor(y, [1, 2, 1, 2], [0, 1, 1, 2]);
  });
  it('ReduceMean/ReduceMax/ReduceSum with keepdims and negative axes', () => {
    const x = ft([2, 3], iota(6));
    expectTensor(one({ op: 'ReduceMean', opset: 13, inputs: { x }, attrs: { axes: [-1] } })[0], [2, 1], [2, 5]);
    expectTensor(one({ op: 'ReduceMax', opset: 13, inputs: { x }, attrs: { axes: [0], keepdims: 0 } })[0], [3], [4, 5, 6]);
    expectTensor(one({ op: 'ReduceSum', inputs: { x }, consts: { axes: ['int64', [1], [0]] } })[0], [1, 3], [5, 7, 9]);
    expectTensor(one({ op: 'ReduceSum', inputs: { x }, attrs: { keepdims: 0 } })[0], [], [21]);
  });
});

describe('data movement', () => {
  it('Slice with negative starts, steps and clamped ends', () => {
    const x = ft([2, 5], iota(10));
    const [y] = one({ op: 'Slice', inputs: { x }, consts: { s: ['int64', [1], [-1]], e: ['int64', [1], [-1e18]], a: ['int64', [1], [-1]], st: ['int64', [1], [-2]] } });
    expectTensor(y, [2, 3], [5, 3, 1, 10, 8, 6]);
    const [z] = one({ op: 'Slice', inputs: { x }, consts: { s: ['int64', [2], [1, 1]], e: ['int64', [2], [99, 3]] } });
    expectTensor(z, [1, 2], [7, 8]);
  });
  it('Gather with negative indices, Concat on a negative axis, Split with sizes', () => {
    const x = ft([2, 3], iota(6));
    expectTensor(one({ op: 'Gather', inputs: { x }, consts: { i: ['int64', [2], [-1, 0]] }, attrs: { axis: 1 } })[0], [2, 2], [3, 1, 6, 4]);
    expectTensor(one({ op: 'Gather', inputs: { x }, consts: { i: ['int64', [], [1]] } })[0], [3], [4, 5, 6]);
    expectTensor(one({ op: 'Concat', inputs: { a: x, b: ft([2, 1], [0, 0]) }, attrs: { axis: -1 } })[0], [2, 4], [1, 2, 3, 0, 4, 5, 6, 0]);
    const [p, q] = one({ op: 'Split', inputs: { x }, consts: { s: ['int64', [2], [1, 2]] }, attrs: { axis: -1 }, outputs: 2 });
    expectTensor(p, [2, 1], [1, 4]);
    expectTensor(q, [2, 2], [2, 3, 5, 6]);
  });
  it('Transpose, Flatten, Squeeze/Unsqueeze in attribute (opset 11) and input (opset 13) forms', () => {
    const x = ft([2, 3], iota(6));
    expectTensor(one({ op: 'Transpose', inputs: { x } })[0], [3, 2], [1, 4, 2, 5, 3, 6]);
    expectTensor(one({ op: 'Transpose', inputs: { x: ft([1, 2, 3], iota(6)) }, attrs: { perm: [2, 0, 1] } })[0], [3, 1, 2], [1, 4, 2, 5, 3, 6]);
    expect(one({ op: 'Flatten', inputs: { x: ft([2, 3, 4], iota(24)) }, attrs: { axis: -1 } })[0].shape).toEqual([6, 4]);
    expect(one({ op: 'Unsqueeze', opset: 11, inputs: { x }, attrs: { axes: [0, -1] } })[0].shape).toEqual([1, 2, 3, 1]);
    expect(one({ op: 'Unsqueeze', inputs: { x }, consts: { a: ['int64', [1], [1]] } })[0].shape).toEqual([2, 1, 3]);
    expect(one({ op: 'Squeeze', opset: 11, inputs: { x: ft([1, 3, 1], [1, 2, 3]) }, attrs: { axes: [-1] } })[0].shape).toEqual([1, 3]);
    expect(one({ op: 'Squeeze', inputs: { x: ft([1, 3, 1], [1, 2, 3]) } })[0].shape).toEqual([3]);
  });
  it('Pad constant, reflect and edge', () => {
    const x = ft([1, 3], [1, 2, 3]);
    expectTensor(one({ op: 'Pad', inputs: { x }, consts: { p: ['int64', [4], [0, 2, 0, 1]], v: ['float32', [], [9]] } })[0], [1, 6], [9, 9, 1, 2, 3, 9]);
    expectTensor(one({ op: 'Pad', inputs: { x }, consts: { p: ['int64', [4], [0, 2, 0, 2]] }, attrs: { mode: 'reflect' } })[0], [1, 7], [3, 2, 1, 2, 3, 2, 1]);
    expectTensor(one({ op: 'Pad', opset: 2, inputs: { x }, attrs: { pads: [0, 1, 0, 1], mode: 'edge' } })[0], [1, 5], [1, 1, 2, 3, 3]);
  });
  it('Expand, Tile, Cast to int truncates', () => {
    expectTensor(one({ op: 'Expand', inputs: { x: ft([2, 1], [1, 2]) }, consts: { s: ['int64', [3], [2, 1, 3]] } })[0], [2, 2, 3], [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]);
    expectTensor(one({ op: 'Tile', inputs: { x: ft([1, 2], [1, 2]) }, consts: { r: ['int64', [2], [2, 2]] } })[0], [2, 4], [1, 2, 1, 2, 1, 2, 1, 2]);
    expectTensor(one({ op: 'Cast', inputs: { x: ft([3], [1.7, -1.7, 2.5]) }, attrs: { to: 7 } })[0], [3], [1, -1, 2]);
  });
  it('a PyTorch-style computed Reshape: Shape → Gather → integer Div → Unsqueeze → Concat', () => {
    const model = buildModel({
      inputs: { x: ['float32', [2, 3, 4]] },
      outputs: ['y'],
      initializers: { i0: tensor('int64', [], [0], 'i0'), two: tensor('int64', [], [2], 'two'), ax: tensor('int64', [1], [0], 'ax'), neg: tensor('int64', [1], [-1], 'neg') },
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'] },
        { op: 'Div', inputs: ['n', 'two'], outputs: ['h'] },
        { op: 'Mul', inputs: ['h', 'two'], outputs: ['hh'] },
        { op: 'Add', inputs: ['hh', 'two'], outputs: ['k'] },
        { op: 'Unsqueeze', inputs: ['k', 'ax'], outputs: ['ku'] },
        { op: 'Concat', inputs: ['ku', 'neg'], outputs: ['shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
      ],
    });
    const y = runFloat(model, { x: ft([2, 3, 4], iota(24)) }).y;
    expect([...y.shape]).toEqual([4, 6]);
    const odd = buildModel({
      inputs: { x: ['float32', [3, 2]] }, outputs: ['h'],
      initializers: { i0: tensor('int64', [], [0], 'i0'), two: tensor('int64', [], [2], 'two') },
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'] },
        { op: 'Div', inputs: ['n', 'two'], outputs: ['h'] },
      ],
    });
    expect(runFloat(odd, { x: ft([3, 2], iota(6)) }).h.data[0]).toBe(1);
  });
});

describe('Resize', () => {
  const x = ft([1, 1, 2, 2], [1, 2, 3, 4]);
  const scales = { roi: ['float32', [0], []] as [DType, number[], number[]], sc: ['float32', [4], [1, 1, 2, 2]] as [DType, number[], number[]] };
  it('nearest, asymmetric + floor (the YOLO upsample)', () => {
    const [y] = one({ op: 'Resize', inputs: { x }, consts: scales, attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } });
    expectTensor(y, [1, 1, 4, 4], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
  it('nearest, half_pixel + round_prefer_floor on a 1×3 → 1×5 resize', () => {
    const [y] = one({ op: 'Resize', inputs: { x: ft([1, 1, 1, 3], [1, 2, 3]) }, consts: { roi: ['float32', [0], []], sc: ['float32', [0], []], sz: ['int64', [4], [1, 1, 1, 5]] } });
    // x_in = (o + 0.5)·3/5 - 0.5 = -0.2, 0.4, 1.0, 1.6, 2.2 → 0, 0, 1, 2, 2
    expectTensor(y, [1, 1, 1, 5], [1, 1, 2, 3, 3]);
  });
  it('linear, half_pixel and align_corners', () => {
    const [h] = one({ op: 'Resize', inputs: { x }, consts: scales, attrs: { mode: 'linear' } });
    expectTensor(h, [1, 1, 4, 4], [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
    const [a] = one({ op: 'Resize', inputs: { x: ft([1, 1, 1, 2], [0, 3]) }, consts: { roi: ['float32', [0], []], sc: ['float32', [4], [1, 1, 1, 2]] }, attrs: { mode: 'linear', coordinate_transformation_mode: 'align_corners' } });
    expectTensor(a, [1, 1, 1, 4], [0, 1, 2, 3]);
  });
  it('Upsample (opset 9) nearest', () => {
    const [y] = one({ op: 'Upsample', opset: 9, inputs: { x: ft([1, 1, 1, 2], [5, 6]) }, consts: { sc: ['float32', [4], [1, 1, 1, 2]] } });
    expectTensor(y, [1, 1, 1, 4], [5, 5, 6, 6]);
  });
});

describe('QuantizeLinear / DequantizeLinear', () => {
  it('rounds half to even and saturates to int8', () => {
    const [q] = one({ op: 'QuantizeLinear', inputs: { x: ft([7], [0.5, 1.5, 2.5, -0.5, -1.5, 1000, -1000]) }, consts: { s: ['float32', [], [1]], z: ['int8', [], [0]] } });
    expectTensor(q, [7], [0, 2, 2, -0, -2, 127, -128]);
  });
  it('uses the uint8 zero point and per-axis scales', () => {
    const [q] = one({ op: 'QuantizeLinear', inputs: { x: ft([1, 2, 2], [0.25, -1, 3, 100]) }, consts: { s: ['float32', [2], [0.5, 2]], z: ['uint8', [2], [10, 128]] }, attrs: { axis: 1 } });
    expectTensor(q, [1, 2, 2], [10, 8, 130, 178]);
    const [u] = one({ op: 'QuantizeLinear', inputs: { x: ft([2], [-5, 300]) }, consts: { s: ['float32', [], [1]] } });
    expectTensor(u, [2], [0, 255]);
  });
  it('dequantizes (x - zp)·scale', () => {
    const [d] = one({ op: 'DequantizeLinear', inputs: {}, consts: { q: ['int8', [3], [-128, 0, 127]], s: ['float32', [], [0.25]], z: ['int8', [], [-1]] } });
    expectTensor(d, [3], [-31.75, 0.25, 32]);
  });
});

describe('errors', () => {
  it('names an unsupported op and its node', () => {
    const model = buildModel({ inputs: { x: ['float32', [1, 2]] }, outputs: ['y'], nodes: [{ op: 'GridSample', name: 'gs', inputs: ['x', 'x'], outputs: ['y'] }] });
    let err: unknown;
    try { runFloat(model, { x: ft([1, 2], [1, 2]) }); } catch (e) { err = e; }
    expect(isInputError(err)).toBe(true);
    expect((err as Error).message).toBe('float interpreter: op GridSample (node gs) is not supported');
  });
  it('rejects a feed of the wrong shape and a missing feed', () => {
    const model = buildModel({ inputs: { x: ['float32', [1, 2]] }, outputs: ['y'], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] });
    expect(() => runFloat(model, { x: ft([1, 3], [1, 2, 3]) })).toThrow(/expects shape \[1,2\], got \[1,3\]/);
    expect(() => runFloat(model, {})).toThrow(/no value fed for input "x"/);
  });
  void floats;
});
