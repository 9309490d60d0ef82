import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readOnnx, readValueInfo } from '../../src/core/onnx/reader';
import { inferShapes } from '../../src/core/onnx/shapes';
import { ProtoReader } from '../../src/core/onnx/wire';
import { attr, type Dim, type DType } from '../../src/core/ir';
import { buildGraph, buildModel, float, floats, tensor, type NodeSpec } from '../../src/core/onnx/build';
import type { ConstTensor } from '../../src/core/ir';

interface Case {
  inputs: Record<string, readonly [DType, readonly Dim[]]>;
  nodes: NodeSpec[];
  initializers?: Record<string, ConstTensor>;
  opset?: number;
}

/** Builds the model through the file format and returns what inference found for `names`. */
function infer(c: Case, ...names: string[]) {
  const m = buildModel({ opset: c.opset ?? 13, inputs: c.inputs, outputs: [names[0]], initializers: c.initializers, nodes: c.nodes });
  return names.map((n) => m.graph.valueInfo.get(n));
}
function shape(c: Case, name = 'y'): readonly Dim[] | undefined {
  return infer(c, name)[0]?.shape;
}
const f32 = (shapeDims: readonly Dim[]) => ['float32', shapeDims] as const;
const ones = (dims: number[]) => tensor('float32', dims, new Array(dims.reduce((a, b) => a * b, 1)).fill(1));
const i64 = (data: number[]) => tensor('int64', [data.length], data);

describe('convolution and pooling', () => {
  const conv = (attrs: NodeSpec['attrs'], x: Dim[] = [1, 3, 32, 32], w = [8, 3, 3, 3]) =>
    shape({ inputs: { x: f32(x) }, initializers: { w: ones(w) }, nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs }] });

  it('Conv with pads, strides, dilations and groups', () => {
    expect(conv({ pads: [1, 1, 1, 1] })).toEqual([1, 8, 32, 32]);
    expect(conv({})).toEqual([1, 8, 30, 30]);
    expect(conv({ strides: [2, 2], pads: [1, 1, 1, 1] })).toEqual([1, 8, 16, 16]);
    expect(conv({ dilations: [2, 2] })).toEqual([1, 8, 28, 28]);
    expect(conv({ group: 3 }, [1, 3, 10, 12], [6, 1, 3, 5])).toEqual([1, 6, 8, 8]);
    expect(conv({ pads: [0, 1, 2, 3], strides: [1, 2] }, [1, 3, 10, 10])).toEqual([1, 8, 10, 6]);
  });
  it('Conv auto_pad SAME_UPPER/SAME_LOWER keep ceil(in/stride); VALID pads nothing', () => {
    expect(conv({ auto_pad: 'SAME_UPPER', strides: [2, 2] }, [1, 3, 15, 16])).toEqual([1, 8, 8, 8]);
    expect(conv({ auto_pad: 'SAME_LOWER' }, [1, 3, 15, 16])).toEqual([1, 8, 15, 16]);
    expect(conv({ auto_pad: 'VALID', strides: [2, 2] }, [1, 3, 15, 16])).toEqual([1, 8, 7, 7]);
  });
  it('Conv with kernel_shape attribute, 1-D, and a symbolic batch', () => {
    expect(conv({ kernel_shape: [3, 3] }, ['N', 3, 9, 9])).toEqual(['N', 8, 7, 7]);
    expect(shape({ inputs: { x: f32([2, 4, 20]) }, initializers: { w: ones([5, 4, 3]) }, nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { strides: [2] } }] })).toEqual([2, 5, 9]);
  });
  it('ConvTranspose: stride, padding, output_padding, groups, explicit output_shape', () => {
    const ct = (attrs: NodeSpec['attrs'], w = [4, 2, 3, 3]) =>
      shape({ inputs: { x: f32([1, 4, 8, 8]) }, initializers: { w: ones(w) }, nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attrs }] });
    expect(ct({ strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] })).toEqual([1, 2, 16, 16]);
    expect(ct({})).toEqual([1, 2, 10, 10]);
    expect(ct({ group: 2 })).toEqual([1, 4, 10, 10]);
    expect(ct({ strides: [2, 2], output_shape: [17, 17] })).toEqual([1, 2, 17, 17]);
    expect(ct({ strides: [2, 2], auto_pad: 'SAME_UPPER' })).toEqual([1, 2, 16, 16]);
  });
  it('MaxPool/AveragePool: floor and ceil_mode (dropping a window that starts in the padding), dilations, SAME', () => {
    const pool = (op: string, attrs: NodeSpec['attrs'], x: Dim[] = [1, 8, 112, 112]) =>
      shape({ inputs: { x: f32(x) }, nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs }] });
    expect(pool('MaxPool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })).toEqual([1, 8, 56, 56]);
    expect(pool('MaxPool', { kernel_shape: [2, 2], strides: [2, 2] }, [1, 8, 5, 5])).toEqual([1, 8, 2, 2]);
    expect(pool('MaxPool', { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, [1, 8, 5, 5])).toEqual([1, 8, 3, 3]);
    // PyTorch MaxPool2d(2, 2, padding=1, ceil_mode=True) on 5×5 gives 3×3, not 4×4.
    expect(pool('MaxPool', { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }, [1, 8, 5, 5])).toEqual([1, 8, 3, 3]);
    expect(pool('MaxPool', { kernel_shape: [3, 3], dilations: [2, 2] }, [1, 8, 10, 10])).toEqual([1, 8, 6, 6]);
    expect(pool('AveragePool', { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }, [1, 8, 15, 15])).toEqual([1, 8, 8, 8]);
    expect(pool('AveragePool', { kernel_shape: [2, 2], strides: [2, 2], auto_pad: 'VALID' }, [1, 8, 15, 15])).toEqual([1, 8, 7, 7]);
    expect(pool('GlobalAveragePool', {}, [1, 8, 7, 9])).toEqual([1, 8, 1, 1]);
    expect(pool('GlobalMaxPool', {}, ['N', 8, 7, 9])).toEqual(['N', 8, 1, 1]);
  });
  it('MaxPool Indices output is int64 with the same shape', () => {
    const [, idx] = infer({ inputs: { x: f32([1, 2, 4, 4]) }, nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y', 'i'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }] }, 'y', 'i');
    expect(idx).toEqual({ name: 'i', dtype: 'int64', shape: [1, 2, 2, 2] });
  });
});

describe('elementwise', () => {
  it('unary ops keep shape and dtype', () => {
    for (const op of ['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'HardSwish', 'Elu', 'Softmax', 'Abs', 'Exp', 'Sqrt', 'Erf', 'Identity', 'Neg', 'Floor']) {
      expect(infer({ inputs: { x: f32([2, 'n', 5]) }, nodes: [{ op, inputs: ['x'], outputs: ['y'] }] }, 'y')[0], op).toEqual({ name: 'y', dtype: 'float32', shape: [2, 'n', 5] });
    }
  });
  it('BatchNormalization and Dropout (with its bool mask)', () => {
    const c = { C: ones([4]) };
    expect(shape({ inputs: { x: f32([1, 4, 6, 6]) }, initializers: { s: c.C, b: c.C, m: c.C, v: c.C }, nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'] }] })).toEqual([1, 4, 6, 6]);
    const [y, mask] = infer({ inputs: { x: f32([3, 7]) }, nodes: [{ op: 'Dropout', inputs: ['x'], outputs: ['y', 'mask'] }] }, 'y', 'mask');
    expect(y?.shape).toEqual([3, 7]);
    expect(mask).toEqual({ name: 'mask', dtype: 'bool', shape: [3, 7] });
  });
  it('numpy broadcasting for binary and variadic ops; comparisons give bool', () => {
    const bin = (op: string, a: Dim[], b: Dim[]) => infer({ inputs: { a: f32(a), b: f32(b) }, nodes: [{ op, inputs: ['a', 'b'], outputs: ['y'] }] }, 'y')[0];
    expect(bin('Add', [2, 1, 4], [3, 1])?.shape).toEqual([2, 3, 4]);
    expect(bin('Mul', [5], [2, 3, 5])?.shape).toEqual([2, 3, 5]);
    expect(bin('Div', ['N', 1], [1, 8])?.shape).toEqual(['N', 8]);
    expect(bin('Pow', [], [4])?.shape).toEqual([4]);
    expect(bin('Sub', [1, 'N'], [7, 1])?.shape).toEqual([7, 'N']);
    expect(bin('Equal', [3, 1], [1, 2])).toEqual({ name: 'y', dtype: 'bool', shape: [3, 2] });
    expect(bin('Greater', [3], [3])?.dtype).toBe('bool');
    expect(shape({ inputs: { a: f32([1, 3]), b: f32([2, 1]), c: f32([4, 1, 1]) }, nodes: [{ op: 'Max', inputs: ['a', 'b', 'c'], outputs: ['y'] }] })).toEqual([4, 2, 3]);
  });
  it('Where broadcasts three shapes and takes the dtype of X', () => {
    expect(infer({ inputs: { c: ['bool', [2, 1]], a: ['int32', [1, 3]], b: ['int32', [3]] }, nodes: [{ op: 'Where', inputs: ['c', 'a', 'b'], outputs: ['y'] }] }, 'y')[0]).toEqual({ name: 'y', dtype: 'int32', shape: [2, 3] });
  });
  it('Cast, QuantizeLinear (zero-point dtype) and DequantizeLinear', () => {
    expect(infer({ inputs: { x: f32([2, 3]) }, nodes: [{ op: 'Cast', inputs: ['x'], outputs: ['y'], attrs: { to: 7 } }] }, 'y')[0]?.dtype).toBe('int64');
    const q = infer({
      inputs: { x: f32([1, 4]) },
      initializers: { s: tensor('float32', [], [0.5]), z: tensor('int8', [], [0]) },
      nodes: [
        { op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'] },
        { op: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'] },
        { op: 'QuantizeLinear', inputs: ['x', 's'], outputs: ['u'] },
      ],
    }, 'y', 'q', 'u');
    expect(q.map((t) => [t?.dtype, t?.shape])).toEqual([['float32', [1, 4]], ['int8', [1, 4]], ['uint8', [1, 4]]]);
  });
});

describe('shape manipulation', () => {
  it('Concat sums the axis (negative axis, symbolic parts)', () => {
    expect(shape({ inputs: { a: f32([1, 3, 8]), b: f32([1, 5, 8]) }, nodes: [{ op: 'Concat', inputs: ['a', 'b'], outputs: ['y'], attrs: { axis: -2 } }] })).toEqual([1, 8, 8]);
    expect(shape({ inputs: { a: f32(['N', 3]), b: f32(['N', 5]) }, nodes: [{ op: 'Concat', inputs: ['a', 'b'], outputs: ['y'], attrs: { axis: 1 } }] })).toEqual(['N', 8]);
  });
  it('Flatten at an axis, with a symbolic batch', () => {
    expect(shape({ inputs: { x: f32([2, 3, 4, 5]) }, nodes: [{ op: 'Flatten', inputs: ['x'], outputs: ['y'], attrs: { axis: 2 } }] })).toEqual([6, 20]);
    expect(shape({ inputs: { x: f32(['N', 3, 4]) }, nodes: [{ op: 'Flatten', inputs: ['x'], outputs: ['y'] }] })).toEqual(['N', 12]);
    expect(shape({ inputs: { x: f32([2, 3]) }, nodes: [{ op: 'Flatten', inputs: ['x'], outputs: ['y'], attrs: { axis: 0 } }] })).toEqual([1, 6]);
  });
  it('Reshape with 0 (copy) and -1 (infer), and allowzero', () => {
    const rs = (x: Dim[], target: number[], attrs?: NodeSpec['attrs']) =>
      shape({ inputs: { x: f32(x) }, initializers: { s: i64(target) }, nodes: [{ op: 'Reshape', inputs: ['x', 's'], outputs: ['y'], attrs }], opset: 14 });
    expect(rs([2, 3, 4], [0, -1])).toEqual([2, 12]);
    expect(rs([2, 3, 4], [-1, 2, 2])).toEqual([6, 2, 2]);
    expect(rs(['N', 3, 4], [0, -1])).toEqual(['N', 12]);
    expect(rs(['N', 3, 4], [-1, 4])).toEqual(['N*3', 4]);
    expect(rs([0, 3], [3, 0], { allowzero: 1 })).toEqual([3, 0]);
  });
  it('Reshape in opset 1–4 reads the shape attribute', () => {
    expect(shape({ opset: 4, inputs: { x: f32([2, 6]) }, nodes: [{ op: 'Reshape', inputs: ['x'], outputs: ['y'], attrs: { shape: [3, -1] } }] })).toEqual([3, 4]);
  });
  it('Transpose with perm and by default reversed', () => {
    expect(shape({ inputs: { x: f32([1, 2, 3, 4]) }, nodes: [{ op: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm: [0, 2, 3, 1] } }] })).toEqual([1, 3, 4, 2]);
    expect(shape({ inputs: { x: f32([1, 2, 3]) }, nodes: [{ op: 'Transpose', inputs: ['x'], outputs: ['y'] }] })).toEqual([3, 2, 1]);
  });
  it('Squeeze/Unsqueeze: axes attribute before opset 13, input from 13', () => {
    const sq11 = { opset: 11, inputs: { x: f32([1, 3, 1, 5]) }, nodes: [{ op: 'Squeeze', inputs: ['x'], outputs: ['y'], attrs: { axes: [0, -2] } }] };
    expect(shape(sq11)).toEqual([3, 5]);
    const sq13 = { opset: 13, inputs: { x: f32([1, 3, 1, 5]) }, initializers: { a: i64([2]) }, nodes: [{ op: 'Squeeze', inputs: ['x', 'a'], outputs: ['y'] }] };
    expect(shape(sq13)).toEqual([1, 3, 5]);
    expect(shape({ inputs: { x: f32([1, 3, 1, 5]) }, nodes: [{ op: 'Squeeze', inputs: ['x'], outputs: ['y'] }] })).toEqual([3, 5]);
    const un11 = { opset: 11, inputs: { x: f32([3, 5]) }, nodes: [{ op: 'Unsqueeze', inputs: ['x'], outputs: ['y'], attrs: { axes: [0, 3] } }] };
    expect(shape(un11)).toEqual([1, 3, 5, 1]);
    const un13 = { opset: 13, inputs: { x: f32([3, 5]) }, initializers: { a: i64([-1, 1]) }, nodes: [{ op: 'Unsqueeze', inputs: ['x', 'a'], outputs: ['y'] }] };
    expect(shape(un13)).toEqual([3, 1, 5, 1]);
  });
  it('Gather along an axis with scalar and tensor indices', () => {
    const g = (idx: ConstTensor, axis: number) => shape({ inputs: { x: f32([5, 6, 7]) }, initializers: { i: idx }, nodes: [{ op: 'Gather', inputs: ['x', 'i'], outputs: ['y'], attrs: { axis } }] });
    expect(g(tensor('int64', [], [2]), 1)).toEqual([5, 7]);
    expect(g(tensor('int64', [2, 3], [0, 1, 2, 0, 1, 2]), 0)).toEqual([2, 3, 6, 7]);
  });
  it('Slice: attributes (opset 9) and constant inputs with negative indices, clamping and steps', () => {
    expect(shape({ opset: 9, inputs: { x: f32([10, 20]) }, nodes: [{ op: 'Slice', inputs: ['x'], outputs: ['y'], attrs: { starts: [1, 0], ends: [-1, 1000], axes: [0, 1] } }] })).toEqual([8, 20]);
    const sl = (starts: number[], ends: number[], axes: number[], steps: number[]) => shape({
      inputs: { x: f32([10, 20, 30]) },
      initializers: { s: i64(starts), e: i64(ends), a: i64(axes), t: i64(steps) },
      nodes: [{ op: 'Slice', inputs: ['x', 's', 'e', 'a', 't'], outputs: ['y'] }],
    });
    expect(sl([0, 1], [10, 1000], [1, 2], [1, 2])).toEqual([10, 10, 15]);
    expect(sl([-1], [-1000], [0], [-1])).toEqual([10, 20, 30]);
    expect(sl([5], [2], [2], [1])).toEqual([10, 20, 0]);
    expect(sl([-4], [-1], [-1], [1])).toEqual([10, 20, 3]);
  });
  it('Split: equal parts, split attribute (opset 11), split input (opset 13), num_outputs (opset 18)', () => {
    const outs = ['a', 'b', 'c'];
    const m = (c: Case) => infer(c, ...outs).map((t) => t?.shape);
    expect(m({ inputs: { x: f32([2, 9]) }, nodes: [{ op: 'Split', inputs: ['x'], outputs: outs, attrs: { axis: 1 } }] })).toEqual([[2, 3], [2, 3], [2, 3]]);
    expect(m({ opset: 11, inputs: { x: f32([6, 2]) }, nodes: [{ op: 'Split', inputs: ['x'], outputs: outs, attrs: { split: [1, 2, 3] } }] })).toEqual([[1, 2], [2, 2], [3, 2]]);
    expect(m({ inputs: { x: f32([6, 2]) }, initializers: { s: i64([4, 1, 1]) }, nodes: [{ op: 'Split', inputs: ['x', 's'], outputs: outs }] })).toEqual([[4, 2], [1, 2], [1, 2]]);
    expect(m({ opset: 18, inputs: { x: f32([7]) }, nodes: [{ op: 'Split', inputs: ['x'], outputs: outs, attrs: { num_outputs: 3 } }] })).toEqual([[3], [3], [1]]);
  });
  it('Pad: pads attribute (opset 2) and pads input (opset 11+)', () => {
    expect(shape({ opset: 2, inputs: { x: f32([1, 3, 4, 4]) }, nodes: [{ op: 'Pad', inputs: ['x'], outputs: ['y'], attrs: { pads: [0, 0, 1, 2, 0, 0, 3, 4] } }] })).toEqual([1, 3, 8, 10]);
    expect(shape({ inputs: { x: f32([1, 3, 4, 4]) }, initializers: { p: i64([0, 0, 1, 1, 0, 0, 1, 1]) }, nodes: [{ op: 'Pad', inputs: ['x', 'p'], outputs: ['y'] }] })).toEqual([1, 3, 6, 6]);
  });
  it('Resize by scales and by sizes; Upsample by attribute (opset 7) and input (opset 9)', () => {
    expect(shape({ inputs: { x: f32([1, 3, 10, 10]) }, initializers: { r: tensor('float32', [0], []), s: tensor('float32', [4], [1, 1, 2, 2.5]) }, nodes: [{ op: 'Resize', inputs: ['x', 'r', 's'], outputs: ['y'] }] })).toEqual([1, 3, 20, 25]);
    expect(shape({ inputs: { x: f32([1, 3, 10, 10]) }, initializers: { z: i64([1, 3, 7, 9]) }, nodes: [{ op: 'Resize', inputs: ['x', '', '', 'z'], outputs: ['y'] }] })).toEqual([1, 3, 7, 9]);
    // onnxruntime multiplies in float32: 5 × float32(1.4) rounds to exactly 7, where float64 gives 6.99…
    expect(shape({ inputs: { x: f32([1, 3, 5, 5]) }, initializers: { r: tensor('float32', [0], []), s: tensor('float32', [4], [1, 1, 1.4, 1]) }, nodes: [{ op: 'Resize', inputs: ['x', 'r', 's'], outputs: ['y'] }] })).toEqual([1, 3, 7, 5]);
    expect(shape({ opset: 10, inputs: { x: f32([1, 3, 5, 5]) }, initializers: { s: tensor('float32', [4], [1, 1, 2, 2]) }, nodes: [{ op: 'Resize', inputs: ['x', 's'], outputs: ['y'] }] })).toEqual([1, 3, 10, 10]);
    expect(shape({ opset: 7, inputs: { x: f32([1, 3, 5, 5]) }, nodes: [{ op: 'Upsample', inputs: ['x'], outputs: ['y'], attrs: { scales: floats([1, 1, 2, 3]) } }] })).toEqual([1, 3, 10, 15]);
    expect(shape({ opset: 9, inputs: { x: f32([1, 3, 5, 5]) }, initializers: { s: tensor('float32', [4], [1, 1, 2, 2]) }, nodes: [{ op: 'Upsample', inputs: ['x', 's'], outputs: ['y'] }] })).toEqual([1, 3, 10, 10]);
  });
  it('Reduce ops: axes attribute, keepdims, ReduceSum axes input (opset 13), all axes by default', () => {
    expect(shape({ inputs: { x: f32([2, 3, 4]) }, nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: { axes: [-1], keepdims: 1 } }] })).toEqual([2, 3, 1]);
    expect(shape({ inputs: { x: f32([2, 3, 4]) }, nodes: [{ op: 'ReduceMax', inputs: ['x'], outputs: ['y'], attrs: { axes: [0, 2], keepdims: 0 } }] })).toEqual([3]);
    expect(shape({ inputs: { x: f32([2, 3, 4]) }, initializers: { a: i64([1]) }, nodes: [{ op: 'ReduceSum', inputs: ['x', 'a'], outputs: ['y'], attrs: { keepdims: 0 } }] })).toEqual([2, 4]);
    expect(shape({ inputs: { x: f32([2, 3, 4]) }, nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'] }] })).toEqual([1, 1, 1]);
    expect(infer({ inputs: { x: f32([2, 3]) }, nodes: [{ op: 'ArgMax', inputs: ['x'], outputs: ['y'], attrs: { axis: 1, keepdims: 0 } }] }, 'y')[0]).toEqual({ name: 'y', dtype: 'int64', shape: [2] });
  });
  it('Expand, Tile, Shape, ConstantOfShape', () => {
    expect(shape({ inputs: { x: f32([3, 1]) }, initializers: { s: i64([2, 1, 4]) }, nodes: [{ op: 'Expand', inputs: ['x', 's'], outputs: ['y'] }] })).toEqual([2, 3, 4]);
    expect(shape({ inputs: { x: f32([2, 3]) }, initializers: { r: i64([2, 2]) }, nodes: [{ op: 'Tile', inputs: ['x', 'r'], outputs: ['y'] }] })).toEqual([4, 6]);
    expect(infer({ inputs: { x: f32([2, 3, 4]) }, nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['y'] }] }, 'y')[0]).toEqual({ name: 'y', dtype: 'int64', shape: [3] });
    expect(infer({ inputs: { x: f32([2, 3]) }, nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'ConstantOfShape', inputs: ['s'], outputs: ['y'], attrs: { value: tensor('int32', [1], [7]) } },
    ] }, 'y')[0]).toEqual({ name: 'y', dtype: 'int32', shape: [2, 3] });
  });
});

describe('matrix ops', () => {
  it('Gemm with transA/transB', () => {
    const g = (a: number[], b: number[], attrs: NodeSpec['attrs']) => shape({ inputs: { a: f32(a) }, initializers: { b: ones(b) }, nodes: [{ op: 'Gemm', inputs: ['a', 'b'], outputs: ['y'], attrs }] });
    expect(g([4, 8], [8, 16], {})).toEqual([4, 16]);
    expect(g([8, 4], [16, 8], { transA: 1, transB: 1 })).toEqual([4, 16]);
  });
  it('MatMul: 2-D, batched with broadcast, 1-D operands', () => {
    const mm = (a: Dim[], b: Dim[]) => shape({ inputs: { a: f32(a), b: f32(b) }, nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }] });
    expect(mm([3, 4], [4, 5])).toEqual([3, 5]);
    expect(mm([2, 1, 3, 4], [6, 4, 5])).toEqual([2, 6, 3, 5]);
    expect(mm([4], [4, 5])).toEqual([5]);
    expect(mm([2, 3, 4], [4])).toEqual([2, 3]);
    expect(mm(['B', 3, 4], [4, 5])).toEqual(['B', 3, 5]);
  });
});

describe('constant folding of shape subgraphs', () => {
  // x → Shape → Gather(0) → Unsqueeze → Concat([-1]) → Reshape(x): what torch.flatten(x, 1) exports to.
  const pytorchFlatten = (x: Dim[], opset: number): Case => ({
    opset,
    inputs: { x: f32(x) },
    initializers: { zero: tensor('int64', [], [0]), minus1: i64([-1]), ...(opset >= 13 ? { ax: i64([0]) } : {}) },
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: { axis: 0 } },
      opset >= 13
        ? { op: 'Unsqueeze', inputs: ['n', 'ax'], outputs: ['n1'] }
        : { op: 'Unsqueeze', inputs: ['n'], outputs: ['n1'], attrs: { axes: [0] } },
      { op: 'Concat', inputs: ['n1', 'minus1'], outputs: ['target'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'target'], outputs: ['y'] },
    ],
  });
  it('resolves a static batch (Unsqueeze with attribute and with input)', () => {
    expect(shape(pytorchFlatten([1, 64, 7, 7], 11))).toEqual([1, 3136]);
    expect(shape(pytorchFlatten([2, 64, 7, 7], 13))).toEqual([2, 3136]);
  });
  it('carries a symbolic batch through the arithmetic by name', () => {
    expect(shape(pytorchFlatten(['batch', 64, 7, 7], 13))).toEqual(['batch', 3136]);
  });
  it('folds arithmetic on shapes (Mul/Div/Cast/Slice) and Constant nodes', () => {
    // target = [H*W, C] computed from Shape with Slice, Mul, Cast and a Constant.
    const c: Case = {
      inputs: { x: f32([1, 8, 6, 5]) },
      initializers: { st: i64([2]), en: i64([4]), i0: i64([0]), i1: i64([1]) },
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Slice', inputs: ['s', 'st', 'en'], outputs: ['hw'] },
        { op: 'Gather', inputs: ['hw', 'i0'], outputs: ['h'] },
        { op: 'Gather', inputs: ['hw', 'i1'], outputs: ['w'] },
        { op: 'Mul', inputs: ['h', 'w'], outputs: ['hxw'] },
        { op: 'Cast', inputs: ['hxw'], outputs: ['hxwf'], attrs: { to: 1 } },
        { op: 'Constant', inputs: [], outputs: ['two'], attrs: { value: tensor('float32', [1], [2]) } },
        { op: 'Div', inputs: ['hxwf', 'two'], outputs: ['half'] },
        { op: 'Cast', inputs: ['half'], outputs: ['halfi'], attrs: { to: 7 } },
        { op: 'Constant', inputs: [], outputs: ['m1'], attrs: { value: tensor('int64', [1], [-1]) } },
        { op: 'Concat', inputs: ['halfi', 'm1'], outputs: ['target'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['x', 'target'], outputs: ['y'] },
      ],
    };
    expect(shape(c)).toEqual([15, 16]);
  });
  it('leaves outputs of unknown ops unknown without throwing, and downstream shapes follow', () => {
    const [y, z, u] = infer({
      inputs: { x: f32([1, 3]) },
      nodes: [
        { op: 'FancyOp', domain: 'com.acme', inputs: ['x'], outputs: ['u'] },
        { op: 'Relu', inputs: ['u'], outputs: ['y'] },
        { op: 'Relu', inputs: ['x'], outputs: ['z'] },
      ],
    }, 'y', 'z', 'u');
    // y is a graph output, so it keeps its declared dtype, but nothing can say its shape.
    expect(y).toEqual({ name: 'y', dtype: 'float32' });
    expect(z?.shape).toEqual([1, 3]);
    expect(u).toBeUndefined();
  });
  it('uses LeakyRelu alpha as a float attribute (attribute types survive the file)', () => {
    const m = buildModel({ inputs: { x: f32([2]) }, outputs: ['y'], nodes: [{ op: 'LeakyRelu', inputs: ['x'], outputs: ['y'], attrs: { alpha: float(0.125) } }] });
    expect(m.graph.nodes[0].attrs.alpha).toEqual({ kind: 'float', value: 0.125 });
  });
});

describe('agreement with a real exporter', () => {
  it('yolox_nano: inference alone reproduces all 368 value_info shapes PyTorch wrote into the file', () => {
    const bytes = new Uint8Array(readFileSync('public/models/yolox_nano.onnx'));
    const m = readOnnx(bytes);
    const inferred = inferShapes({ ...m.graph, valueInfo: new Map() }, m.opset);
    const declared: { name: string; shape?: readonly Dim[] }[] = [];
    const r = new ProtoReader(bytes);
    while (!r.done) {
      const [f, wt] = r.tag();
      if (f !== 7) { r.skip(wt); continue; }
      const g = r.message();
      while (!g.done) {
        const [gf, gwt] = g.tag();
        if (gf === 13) declared.push(readValueInfo(g.message()));
        else g.skip(gwt);
      }
    }
    expect(declared).toHaveLength(368);
    for (const d of declared) expect(inferred.get(d.name)?.shape, d.name).toEqual(d.shape);
  });
});

describe('onnxruntime contrib ops (com.microsoft) of QOperator models', () => {
  const u8 = (dims: Dim[]) => ['uint8', dims] as const;
  const q = { s: tensor('float32', [], [0.1]), z: tensor('uint8', [], [128]) };
  const ms = { domain: 'com.microsoft' };
  const run = (c: Omit<Case, 'opset'>, ...names: string[]) =>
    buildModel({ opset: 13, extraOpsets: [{ domain: 'com.microsoft', version: 1 }], inputs: c.inputs, outputs: [names[0]], initializers: c.initializers, nodes: c.nodes })
      .graph.valueInfo.get(names[0]);
  it('QLinearAdd broadcasts, QLinearConcat concatenates the X inputs, QLinearGlobalAveragePool keeps N and C', () => {
    expect(run({ inputs: { a: u8([1, 8, 4, 4]), b: u8([1, 8, 1, 1]) }, initializers: q, nodes: [{ op: 'QLinearAdd', ...ms, inputs: ['a', 's', 'z', 'b', 's', 'z', 's', 'z'], outputs: ['y'] }] }, 'y'))
      .toEqual({ name: 'y', dtype: 'uint8', shape: [1, 8, 4, 4] });
    expect(run({ inputs: { a: u8([1, 8, 4, 4]), b: u8([1, 3, 4, 4]) }, initializers: q, nodes: [{ op: 'QLinearConcat', ...ms, inputs: ['s', 'z', 'a', 's', 'z', 'b', 's', 'z'], outputs: ['y'], attrs: { axis: 1 } }] }, 'y')?.shape)
      .toEqual([1, 11, 4, 4]);
    expect(run({ inputs: { a: u8([2, 8, 5, 5]) }, initializers: q, nodes: [{ op: 'QLinearGlobalAveragePool', ...ms, inputs: ['a', 's', 'z', 's', 'z'], outputs: ['y'] }] }, 'y')?.shape)
      .toEqual([2, 8, 1, 1]);
  });
  it('QGemm takes B from input 3 and its output type from y_zero_point', () => {
    const c = { inputs: { a: u8([4, 16]) }, initializers: { ...q, w: tensor('uint8', [10, 16], new Array(160).fill(1)) } };
    expect(run({ ...c, nodes: [{ op: 'QGemm', ...ms, inputs: ['a', 's', 'z', 'w', 's', 'z', '', 's', 'z'], outputs: ['y'], attrs: { transB: 1 } }] }, 'y'))
      .toEqual({ name: 'y', dtype: 'uint8', shape: [4, 10] });
    expect(run({ ...c, nodes: [{ op: 'QGemm', ...ms, inputs: ['a', 's', 'z', 'w', 's', 'z'], outputs: ['y'], attrs: { transB: 1 } }] }, 'y')?.dtype)
      .toBe('float32');
  });
});

describe('Scan', () => {
  // A running sum: state s += slice; the scan output is the state after each step.
  const body = (typed?: { s: readonly Dim[]; xi: readonly Dim[] }) => buildGraph({
    inputs: typed ? { s: ['float32', typed.s], xi: ['float32', typed.xi] } : ['s', 'xi'],
    outputs: ['s_out', 'y_out'],
    nodes: [
      { op: 'Add', inputs: ['s', 'xi'], outputs: ['s_out'] },
      { op: 'Identity', inputs: ['s_out'], outputs: ['y_out'] },
    ],
  });
  const run = (opset: number, x: readonly Dim[], s0: readonly Dim[], attrs: NodeSpec['attrs'], g = body()) => {
    const m = buildModel({
      opset, inputs: { s0: ['float32', s0], x: ['float32', x] }, outputs: ['sf', 'ys'],
      nodes: [{ op: 'Scan', inputs: opset < 9 ? ['', 's0', 'x'] : ['s0', 'x'], outputs: ['sf', 'ys'], attrs: { body: g, num_scan_inputs: 1, ...attrs } }],
    });
    const inner = attr(m.graph.nodes[0], 'body', 'graph')!;
    return { sf: m.graph.valueInfo.get('sf')?.shape, ys: m.graph.valueInfo.get('ys')?.shape, sOut: inner.valueInfo.get('s_out')?.shape, m };
  };

  it('opset 9+: states keep the body shape; scan outputs gain the sequence axis at scan_output_axes', () => {
    const r = run(11, [5, 4], [4], {});
    expect(r.sOut).toEqual([4]); // the body saw one [4] slice of x
    expect(r.sf).toEqual([4]);
    expect(r.ys).toEqual([5, 4]);
    expect(r.m.graph.valueInfo.get('ys')?.dtype).toBe('float32');
    expect(run(11, [5, 4], [4], { scan_output_axes: [1] }).ys).toEqual([4, 5]);
    expect(run(11, [5, 4], [4], { scan_output_axes: [-1] }).ys).toEqual([4, 5]);
  });

  it('opset 9+: scan_input_axes picks the axis the input is sliced along and the sequence length', () => {
    const r = run(9, [3, 7, 2], [3, 2], { scan_input_axes: [1] });
    expect(r.sOut).toEqual([3, 2]);
    expect(r.ys).toEqual([7, 3, 2]);
    expect(run(11, [3, 2, 7], [3, 2], { scan_input_axes: [-1], scan_output_axes: [2] }).ys).toEqual([3, 2, 7]);
    // A symbolic sequence length carries through.
    expect(run(11, ['T', 4], [4], {}).ys).toEqual(['T', 4]);
  });

  it('opset 8: a leading batch axis on every operand, scanning along axis 1', () => {
    const r = run(8, [2, 5, 4], [2, 4], {});
    expect(r.sOut).toEqual([4]);
    expect(r.sf).toEqual([2, 4]);
    expect(r.ys).toEqual([2, 5, 4]);
  });

  it('uses the body\'s declared input shapes when it has them', () => {
    const r = run(11, [6, 3], [3], {}, body({ s: [3], xi: [3] }));
    expect([r.sf, r.ys]).toEqual([[3], [6, 3]]);
  });
});

describe('opset 19–21 specifics', () => {
  it('Pad 19: every mode (wrap is new) gives the padded shape; axes select the padded dims', () => {
    for (const mode of ['constant', 'reflect', 'edge', 'wrap']) {
      expect(shape({
        opset: 19, inputs: { x: f32([1, 3, 4, 5]) }, initializers: { p: i64([0, 0, 1, 2, 0, 0, 3, 4]) },
        nodes: [{ op: 'Pad', inputs: ['x', 'p'], outputs: ['y'], attrs: { mode } }],
      }), mode).toEqual([1, 3, 8, 11]);
    }
    // pads for axes (-2, -1) only, with an empty constant_value slot.
    expect(shape({
      opset: 19, inputs: { x: f32([2, 3, 4, 5]) }, initializers: { p: i64([1, 0, 2, 3]), a: i64([-2, -1]) },
      nodes: [{ op: 'Pad', inputs: ['x', 'p', '', 'a'], outputs: ['y'], attrs: { mode: 'wrap' } }],
    })).toEqual([2, 3, 7, 8]);
  });

  it('DequantizeLinear 21 blocked: the output has the input\'s shape and the scale\'s dtype', () => {
    const [y] = infer({
      opset: 21, inputs: { x: ['int4', [4, 6]] },
      initializers: { s: tensor('float16', [4, 2], new Array(8).fill(0.5)), z: tensor('int4', [4, 2], new Array(8).fill(0)) },
      nodes: [{ op: 'DequantizeLinear', inputs: ['x', 's', 'z'], outputs: ['y'], attrs: { axis: 1, block_size: 3 } }],
    }, 'y');
    expect(y).toEqual({ name: 'y', dtype: 'float16', shape: [4, 6] });
    const [q] = infer({
      opset: 21, inputs: { x: f32([4, 6]) }, initializers: { s: ones([4, 2]) },
      nodes: [{ op: 'QuantizeLinear', inputs: ['x', 's'], outputs: ['q'], attrs: { axis: 1, block_size: 3, output_dtype: 22 } }],
    }, 'q');
    expect(q).toEqual({ name: 'q', dtype: 'int4', shape: [4, 6] });
  });

  it('Reshape allowzero: a 0 is a real zero-sized dim with allowzero=1 and copies the input dim without', () => {
    const r = (x: Dim[], target: number[], allowzero: number) => shape({
      opset: 21, inputs: { x: f32(x) }, initializers: { s: i64(target) },
      nodes: [{ op: 'Reshape', inputs: ['x', 's'], outputs: ['y'], attrs: { allowzero } }],
    });
    expect(r([0, 3, 4], [3, 0, 4], 1)).toEqual([3, 0, 4]);
    expect(r([2, 3, 4], [0, -1], 0)).toEqual([2, 12]);
    expect(r([2, 3, 4], [0, 4, 3], 0)).toEqual([2, 4, 3]);
  });

  it('AveragePool 19 dilations widen the window', () => {
    const ap = (attrs: NodeSpec['attrs']) => shape({
      opset: 19, inputs: { x: f32([1, 2, 10, 10]) }, nodes: [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs }],
    });
    expect(ap({ kernel_shape: [3, 3], dilations: [2, 2] })).toEqual([1, 2, 6, 6]);
    // H: (10 + 2 − 5) / 2 + 1 = 4 with the 5-wide dilated window; W: (10 + 2 − 7) / 2 + 1 = 3.
    expect(ap({ kernel_shape: [3, 3], dilations: [2, 3], strides: [2, 2], pads: [1, 1, 1, 1] })).toEqual([1, 2, 4, 3]);
    expect(ap({ kernel_shape: [3, 3], dilations: [2, 2], strides: [2, 2], ceil_mode: 1 })).toEqual([1, 2, 4, 4]);
  });

  it('Resize 18+ keep_aspect_ratio_policy scales every resized axis by one factor', () => {
    const rs = (policy: string) => shape({
      opset: 19, inputs: { x: f32([1, 3, 20, 40]) }, initializers: { sz: i64([10, 10]) },
      nodes: [{ op: 'Resize', inputs: ['x', '', '', 'sz'], outputs: ['y'], attrs: { axes: [2, 3], keep_aspect_ratio_policy: policy } }],
    });
    expect(rs('stretch')).toEqual([1, 3, 10, 10]);
    expect(rs('not_larger')).toEqual([1, 3, 5, 10]);
    expect(rs('not_smaller')).toEqual([1, 3, 10, 20]);
  });

  it('GridSample 20 on a 5-D input and AffineGrid 20', () => {
    expect(shape({
      opset: 20, inputs: { x: f32([1, 3, 4, 5, 6]), g: f32([1, 2, 3, 4, 3]) },
      nodes: [{ op: 'GridSample', inputs: ['x', 'g'], outputs: ['y'] }],
    })).toEqual([1, 3, 2, 3, 4]);
    expect(shape({
      opset: 20, inputs: { t: f32([2, 2, 3]) }, initializers: { s: i64([2, 3, 7, 9]) },
      nodes: [{ op: 'AffineGrid', inputs: ['t', 's'], outputs: ['y'] }],
    })).toEqual([2, 7, 9, 2]);
  });
});
