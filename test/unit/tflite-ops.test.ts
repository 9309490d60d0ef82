// The TFLite ops the shared files do not cover, on a generated .tflite, against a plain NHWC reference:
// CONV_2D SAME + fused RELU, PAD, MAX_POOL_2D SAME, ADD of a broadcast constant + RELU6, HARD_SWISH,
// RESIZE_NEAREST_NEIGHBOR, MUL, CONCATENATION on channels, MEAN over H·W, RESHAPE → FULLY_CONNECTED
// (channels-last flatten), dynamic-range int8 weights, LOGISTIC.
import { describe, expect, it } from 'vitest';
import { runFloat } from '../../src/core/sim/float/interpreter';
import {
  ActivationFunctionType, AddOptions, BuiltinOperator as B, BuiltinOptions as O, ConcatenationOptions, Conv2DOptions, DepthwiseConv2DOptions,
  FullyConnectedOptions, FullyConnectedOptionsWeightsFormat, Padding, Pool2DOptions, ReducerOptions, ReshapeOptions,
  ResizeNearestNeighborOptions, TensorType, TransposeConvOptions,
} from '../../src/core/tflite/schema/schema_generated';
import { readTflite } from '../../src/core/tflite/to-model';
import { buildTflite } from './tflite-build';

let seed = 3;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const floats = (n: number) => Float32Array.from({ length: n }, rnd);

/** NHWC tensors for the reference. */
interface T { h: number; w: number; c: number; d: Float64Array }
const at = (x: T, i: number, j: number, k: number) => x.d[(i * x.w + j) * x.c + k];
const make = (h: number, w: number, c: number, f: (i: number, j: number, k: number) => number): T => {
  const d = new Float64Array(h * w * c);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) d[(i * w + j) * c + k] = f(i, j, k);
  return { h, w, c, d };
};

describe('TFLite ops on a generated model', () => {
  const x = floats(4 * 4 * 2);
  const W = floats(3 * 3 * 3 * 2); // OHWI [3, 3, 3, 2]
  const bias = floats(3);
  const k = floats(3);
  const fcq = Int8Array.from({ length: 2 * 6 }, () => Math.round(rnd() * 127)); // [2, 6], dynamic range
  const fcScale = 0.02;
  const fc2 = floats(2 * 216); // [2, 216]
  const bytes = buildTflite({
    tensors: [
      { name: 'x', shape: [1, 4, 4, 2] }, // 0
      { name: 'W', shape: [3, 3, 3, 2], data: W }, // 1
      { name: 'b', shape: [3], data: bias }, // 2
      { name: 'conv', shape: [1, 4, 4, 3] }, // 3
      { name: 'paddings', shape: [4, 2], type: TensorType.INT32, data: Int32Array.of(0, 0, 1, 0, 0, 1, 0, 0) }, // 4
      { name: 'pad', shape: [1, 5, 5, 3] }, // 5
      { name: 'pool', shape: [1, 3, 3, 3] }, // 6
      { name: 'k', shape: [3], data: k }, // 7
      { name: 'add', shape: [1, 3, 3, 3] }, // 8
      { name: 'hswish', shape: [1, 3, 3, 3] }, // 9
      { name: 'size', shape: [2], type: TensorType.INT32, data: Int32Array.of(6, 6) }, // 10
      { name: 'resize', shape: [1, 6, 6, 3] }, // 11
      { name: 'mul', shape: [1, 6, 6, 3] }, // 12
      { name: 'concat', shape: [1, 6, 6, 6] }, // 13
      { name: 'axes', shape: [2], type: TensorType.INT32, data: Int32Array.of(1, 2) }, // 14
      { name: 'mean', shape: [1, 6] }, // 15
      { name: 'fc_w', shape: [2, 6], type: TensorType.INT8, data: fcq, scale: [fcScale] }, // 16
      { name: 'fc', shape: [1, 2] }, // 17
      { name: 'y', shape: [1, 2] }, // 18
      { name: 'flat_shape', shape: [2], type: TensorType.INT32, data: Int32Array.of(1, 216) }, // 19
      { name: 'flat', shape: [1, 216] }, // 20
      { name: 'fc2_w', shape: [2, 216], data: fc2 }, // 21
      { name: 'y2', shape: [1, 2] }, // 22
    ],
    ops: [
      { op: B.CONV_2D, inputs: [0, 1, 2], outputs: [3], options: [O.Conv2DOptions, (b) => Conv2DOptions.createConv2DOptions(b, Padding.SAME, 1, 1, ActivationFunctionType.RELU, 1, 1, TensorType.FLOAT32)] },
      { op: B.PAD, inputs: [3, 4], outputs: [5] },
      { op: B.MAX_POOL_2D, inputs: [5], outputs: [6], options: [O.Pool2DOptions, (b) => Pool2DOptions.createPool2DOptions(b, Padding.SAME, 2, 2, 2, 2, ActivationFunctionType.NONE)] },
      { op: B.ADD, inputs: [6, 7], outputs: [8], options: [O.AddOptions, (b) => AddOptions.createAddOptions(b, ActivationFunctionType.RELU6, false)] },
      { op: B.HARD_SWISH, inputs: [8], outputs: [9] },
      { op: B.RESIZE_NEAREST_NEIGHBOR, inputs: [9, 10], outputs: [11], options: [O.ResizeNearestNeighborOptions, (b) => ResizeNearestNeighborOptions.createResizeNearestNeighborOptions(b, false, false)] },
      { op: B.MUL, inputs: [11, 11], outputs: [12] },
      { op: B.CONCATENATION, inputs: [11, 12], outputs: [13], options: [O.ConcatenationOptions, (b) => ConcatenationOptions.createConcatenationOptions(b, -1, ActivationFunctionType.NONE)] },
      { op: B.MEAN, inputs: [13, 14], outputs: [15], options: [O.ReducerOptions, (b) => ReducerOptions.createReducerOptions(b, false)] },
      { op: B.FULLY_CONNECTED, inputs: [15, 16, -1], outputs: [17], options: [O.FullyConnectedOptions, (b) => FullyConnectedOptions.createFullyConnectedOptions(b, ActivationFunctionType.NONE, FullyConnectedOptionsWeightsFormat.DEFAULT, false, false, TensorType.FLOAT32)] },
      { op: B.LOGISTIC, inputs: [17], outputs: [18] },
      { op: B.RESHAPE, inputs: [13, 19], outputs: [20], options: [O.ReshapeOptions, (b) => ReshapeOptions.createReshapeOptions(b, ReshapeOptions.createNewShapeVector(b, [1, 216]))] },
      { op: B.FULLY_CONNECTED, inputs: [20, 21, -1], outputs: [22] },
    ],
    inputs: [0],
    outputs: [18, 22],
  });

  function reference(): { y: number[]; y2: number[] } {
    const xi = make(4, 4, 2, (i, j, c) => x[(i * 4 + j) * 2 + c]);
    // SAME 3×3 stride 1: one pixel each side.
    const conv = make(4, 4, 3, (i, j, o) => {
      let s = bias[o];
      for (let a = 0; a < 3; a++) for (let e = 0; e < 3; e++) {
        const r = i + a - 1, q = j + e - 1;
        if (r < 0 || q < 0 || r >= 4 || q >= 4) continue;
        for (let c = 0; c < 2; c++) s += at(xi, r, q, c) * W[((o * 3 + a) * 3 + e) * 2 + c];
      }
      return Math.max(0, s);
    });
    // paddings: H (1 before, 0 after), W (0 before, 1 after).
    const pad = make(5, 5, 3, (i, j, c) => (i >= 1 && j < 4 ? at(conv, i - 1, j, c) : 0));
    // 2×2 stride 2 SAME on 5: 0 before, 1 after (padding never wins a max).
    const pool = make(3, 3, 3, (i, j, c) => {
      let m = -Infinity;
      for (let a = 0; a < 2; a++) for (let e = 0; e < 2; e++) if (2 * i + a < 5 && 2 * j + e < 5) m = Math.max(m, at(pad, 2 * i + a, 2 * j + e, c));
      return m;
    });
    const add = make(3, 3, 3, (i, j, c) => Math.min(6, Math.max(0, at(pool, i, j, c) + k[c])));
    const hs = make(3, 3, 3, (i, j, c) => { const v = at(add, i, j, c); return (v * Math.min(6, Math.max(0, v + 3))) / 6; });
    const rs = make(6, 6, 3, (i, j, c) => at(hs, Math.floor(i / 2), Math.floor(j / 2), c));
    const cc = make(6, 6, 6, (i, j, c) => (c < 3 ? at(rs, i, j, c) : at(rs, i, j, c - 3) ** 2));
    const mean = Array.from({ length: 6 }, (_, c) => { let s = 0; for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) s += at(cc, i, j, c); return s / 36; });
    const y = [0, 1].map((o) => { let s = 0; for (let c = 0; c < 6; c++) s += mean[c] * fcq[o * 6 + c] * fcScale; return 1 / (1 + Math.exp(-s)); });
    // RESHAPE reads the NHWC order: flat[(i·6 + j)·6 + c].
    const y2 = [0, 1].map((o) => { let s = 0; for (let n = 0; n < 216; n++) s += cc.d[n] * fc2[o * 216 + n]; return s; });
    return { y, y2 };
  }

  it('computes what the NHWC reference computes', () => {
    const m = readTflite(bytes);
    expect(m.graph.inputs[0].shape).toEqual([1, 2, 4, 4]);
    const out = runFloat(m, { x: { shape: [1, 2, 4, 4], data: Float32Array.from({ length: 32 }, (_, n) => { const c = Math.floor(n / 16), i = Math.floor((n % 16) / 4), j = n % 4; return x[(i * 4 + j) * 2 + c]; }) } });
    const want = reference();
    const got = m.graph.outputs.map((o) => Array.from(out[o.name].data));
    expect(got[0]).toHaveLength(2);
    got[0].forEach((v, i) => expect(v).toBeCloseTo(want.y[i], 5));
    got[1].forEach((v, i) => expect(v).toBeCloseTo(want.y2[i], 4));
  });

  it('TRANSPOSE_CONV (SAME, stride 2) and DEPTHWISE_CONV_2D with a depth multiplier match the NHWC reference', () => {
    const xt = floats(3 * 3 * 2);
    const wt = floats(4 * 3 * 3 * 2); // [O, H, W, I]
    const bt = floats(4);
    const wd = floats(3 * 3 * 8); // [1, 3, 3, 4·2]: depth multiplier 2 over the 4 channels
    const m = readTflite(buildTflite({
      tensors: [
        { name: 'x', shape: [1, 3, 3, 2] },
        { name: 'out_shape', shape: [4], type: TensorType.INT32, data: Int32Array.of(1, 6, 6, 4) },
        { name: 'w', shape: [4, 3, 3, 2], data: wt },
        { name: 'b', shape: [4], data: bt },
        { name: 'up', shape: [1, 6, 6, 4] },
        { name: 'wd', shape: [1, 3, 3, 8], data: wd },
        { name: 'bd', shape: [8], data: new Float32Array(8) },
        { name: 'dw', shape: [1, 2, 2, 8] },
      ],
      ops: [
        { op: B.TRANSPOSE_CONV, inputs: [1, 2, 0, 3], outputs: [4], options: [O.TransposeConvOptions, (b) => TransposeConvOptions.createTransposeConvOptions(b, Padding.SAME, 2, 2, ActivationFunctionType.NONE, TensorType.FLOAT32)] },
        { op: B.DEPTHWISE_CONV_2D, inputs: [4, 5, 6], outputs: [7], options: [O.DepthwiseConv2DOptions, (b) => DepthwiseConv2DOptions.createDepthwiseConv2DOptions(b, Padding.VALID, 2, 2, 2, ActivationFunctionType.NONE, 1, 1)] },
      ],
      inputs: [0], outputs: [7],
    }));
    // Transposed conv: full output (3−1)·2 + 3 = 7, SAME crops max(3 − 2, 0) = 1, the smaller half (0) first.
    const up = make(6, 6, 4, (i, j, o) => {
      let s = bt[o];
      for (let a = 0; a < 3; a++) for (let e = 0; e < 3; e++) {
        const r = i - a, q = j - e;
        if (r % 2 || q % 2 || r < 0 || q < 0 || r / 2 >= 3 || q / 2 >= 3) continue;
        for (let c = 0; c < 2; c++) s += xt[((r / 2) * 3 + q / 2) * 2 + c] * wt[((o * 3 + a) * 3 + e) * 2 + c];
      }
      return s;
    });
    // Depthwise 3×3 stride 2 VALID on 6 → 2; output channel k reads input channel ⌊k / 2⌋.
    const dw = make(2, 2, 8, (i, j, k) => {
      let s = 0;
      for (let a = 0; a < 3; a++) for (let e = 0; e < 3; e++) s += at(up, 2 * i + a, 2 * j + e, Math.floor(k / 2)) * wd[(a * 3 + e) * 8 + k];
      return s;
    });
    const xn = new Float32Array(18);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let c = 0; c < 2; c++) xn[(c * 3 + i) * 3 + j] = xt[(i * 3 + j) * 2 + c];
    const y = Object.values(runFloat(m, { x: { shape: [1, 2, 3, 3], data: xn } }))[0];
    expect(y.shape).toEqual([1, 8, 2, 2]);
    for (let k = 0; k < 8; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(y.data[(k * 2 + i) * 2 + j]).toBeCloseTo(at(dw, i, j, k), 5);
  });

  it('draws an op it does not convert (tflite domain) instead of refusing the model', () => {
    const m = readTflite(buildTflite({
      tensors: [{ name: 'x', shape: [1, 4] }, { name: 'y', shape: [1, 4] }, { name: 'z', shape: [1, 4] }],
      ops: [{ op: B.FLOOR, inputs: [0], outputs: [1] }, { op: B.LOGISTIC, inputs: [1], outputs: [2] }],
      inputs: [0], outputs: [2],
    }));
    expect(m.graph.nodes.map((n) => [n.opType, n.domain])).toEqual([['FLOOR', 'tflite'], ['Sigmoid', '']]);
    expect(m.opsetImports).toContainEqual({ domain: 'tflite', version: 1 });
  });

  it('maps the ops to ONNX ones, with no Transpose left before the fully-connected head', () => {
    const m = readTflite(bytes);
    const ops = m.graph.nodes.map((n) => n.opType);
    expect(ops).toEqual(expect.arrayContaining(['Conv', 'Relu', 'Pad', 'MaxPool', 'Add', 'Clip', 'HardSwish', 'Resize', 'Mul', 'Concat', 'GlobalAveragePool', 'Gemm', 'Sigmoid', 'Reshape']));
    expect(ops).not.toContain('Transpose');
    // Dynamic-range weights (int8, float activations) open as float weights.
    expect(m.graph.initializers.get('fc_w')!.dtype).toBe('float32');
  });
});
