// Networks for the simulator tests, built in code with seeded random weights.
import type { Model } from '../../src/core/ir';
import { buildModel, float, tensor } from '../../src/core/onnx/build';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An all-DPU residual network with BatchNormalization: conv+BN+ReLU, a residual block whose Add feeds a
 * ReLU, a LeakyReLU (26/256) conv, max pool, 3×3 average pool (factor 7/64), a nearest ×2 resize, a
 * concat, global average pool (8×8: the searched factor), flatten and dense.
 */
export function residualNet(seed = 7): Model {
  const r = rng(seed);
  const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
  const conv = (name: string, oc: number, ic: number, k: number) => ({
    [`${name}_w`]: tensor('float32', [oc, ic, k, k], rand(oc * ic * k * k, Math.sqrt(3 / (ic * k * k)))),
    [`${name}_b`]: tensor('float32', [oc], rand(oc, 0.1)),
  });
  const bn = (name: string, c: number) => ({
    [`${name}_s`]: tensor('float32', [c], Float32Array.from({ length: c }, () => 0.6 + r() * 0.8)),
    [`${name}_o`]: tensor('float32', [c], rand(c, 0.2)),
    [`${name}_m`]: tensor('float32', [c], rand(c, 0.1)),
    [`${name}_v`]: tensor('float32', [c], Float32Array.from({ length: c }, () => 0.5 + r())),
  });
  const C = 8;
  return buildModel({
    name: 'residual_bn',
    inputs: { x: ['float32', [1, 3, 16, 16]] },
    outputs: ['y'],
    initializers: {
      ...conv('c1', C, 3, 3), ...bn('bn1', C),
      ...conv('c2', C, C, 3), ...bn('bn2', C),
      ...conv('c3', C, C, 3), ...bn('bn3', C),
      ...conv('c4', C, C, 1),
      ...conv('c5', C, 2 * C, 3),
      fc_w: tensor('float32', [10, C], rand(10 * C, 0.5)),
      fc_b: tensor('float32', [10], rand(10, 0.1)),
      up_scales: tensor('float32', [4], [1, 1, 2, 2]),
    },
    nodes: [
      { op: 'Conv', name: 'conv1', inputs: ['x', 'c1_w', 'c1_b'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'BatchNormalization', name: 'bn1', inputs: ['c1', 'bn1_s', 'bn1_o', 'bn1_m', 'bn1_v'], outputs: ['b1'] },
      { op: 'Relu', name: 'relu1', inputs: ['b1'], outputs: ['r1'] },
      { op: 'Conv', name: 'conv2', inputs: ['r1', 'c2_w', 'c2_b'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'BatchNormalization', name: 'bn2', inputs: ['c2', 'bn2_s', 'bn2_o', 'bn2_m', 'bn2_v'], outputs: ['b2'] },
      { op: 'Relu', name: 'relu2', inputs: ['b2'], outputs: ['r2'] },
      { op: 'Conv', name: 'conv3', inputs: ['r2', 'c3_w', 'c3_b'], outputs: ['c3'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'BatchNormalization', name: 'bn3', inputs: ['c3', 'bn3_s', 'bn3_o', 'bn3_m', 'bn3_v'], outputs: ['b3'] },
      { op: 'Add', name: 'add', inputs: ['b3', 'r1'], outputs: ['a'] },
      { op: 'Relu', name: 'relu3', inputs: ['a'], outputs: ['r3'] },
      { op: 'Conv', name: 'conv4', inputs: ['r3', 'c4_w', 'c4_b'], outputs: ['c4'] },
      { op: 'LeakyRelu', name: 'leaky', inputs: ['c4'], outputs: ['l4'], attrs: { alpha: float(26 / 256) } },
      { op: 'MaxPool', name: 'maxpool', inputs: ['l4'], outputs: ['p1'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'AveragePool', name: 'avgpool', inputs: ['p1'], outputs: ['p2'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 } },
      { op: 'Resize', name: 'up', inputs: ['p2', '', 'up_scales'], outputs: ['u'], attrs: { mode: 'nearest' } },
      { op: 'MaxPool', name: 'down', inputs: ['u'], outputs: ['d'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Concat', name: 'cat', inputs: ['d', 'p1'], outputs: ['cat'], attrs: { axis: 1 } },
      { op: 'Conv', name: 'conv5', inputs: ['cat', 'c5_w', 'c5_b'], outputs: ['c5'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', name: 'relu5', inputs: ['c5'], outputs: ['r5'] },
      { op: 'GlobalAveragePool', name: 'gap', inputs: ['r5'], outputs: ['g'] },
      { op: 'Flatten', name: 'flatten', inputs: ['g'], outputs: ['f'] },
      { op: 'Gemm', name: 'fc', inputs: ['f', 'fc_w', 'fc_b'], outputs: ['y'], attrs: { transB: 1 } },
    ],
  });
}

/** Seeded inputs in [0, 1) for a [1, 3, 16, 16] network. */
export function randomInputs(count: number, seed = 11): Float32Array[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: 3 * 16 * 16 }, () => r()));
}

/**
 * Convs with each fused DPU nonlinearity the residual net lacks (hard-swish, hard-sigmoid, ReLU6), then a
 * 2×2 stride-2 transposed conv added to a bilinear ×2 resize of the same map.
 */
export function hardActsNet(seed = 3): Model {
  const r = rng(seed);
  const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
  const C = 8;
  const conv = (name: string, oc: number, ic: number) => ({
    [`${name}_w`]: tensor('float32', [oc, ic, 3, 3], rand(oc * ic * 9, Math.sqrt(6 / (ic * 9)))),
    [`${name}_b`]: tensor('float32', [oc], rand(oc, 0.5)),
  });
  return buildModel({
    name: 'hard_acts',
    opset: 14, // HardSwish
    inputs: { x: ['float32', [1, 3, 16, 16]] },
    outputs: ['y'],
    initializers: {
      ...conv('c1', C, 3), ...conv('c2', C, C), ...conv('c3', C, C), ...conv('c4', C, C),
      lo: tensor('float32', [], [0]), hi: tensor('float32', [], [6]),
      dw: tensor('float32', [C, C, 2, 2], rand(C * C * 4, 0.5)), db: tensor('float32', [C], rand(C, 0.2)),
      up_scales: tensor('float32', [4], [1, 1, 2, 2]),
    },
    nodes: [
      { op: 'Conv', name: 'conv1', inputs: ['x', 'c1_w', 'c1_b'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'HardSwish', name: 'hswish', inputs: ['c1'], outputs: ['h1'] },
      { op: 'Conv', name: 'conv2', inputs: ['h1', 'c2_w', 'c2_b'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'HardSigmoid', name: 'hsig', inputs: ['c2'], outputs: ['h2'], attrs: { alpha: float(1 / 6) } },
      { op: 'Conv', name: 'conv3', inputs: ['h2', 'c3_w', 'c3_b'], outputs: ['c3'], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } },
      { op: 'Clip', name: 'relu6', inputs: ['c3', 'lo', 'hi'], outputs: ['h3'] },
      { op: 'ConvTranspose', name: 'deconv', inputs: ['h3', 'dw', 'db'], outputs: ['d'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Resize', name: 'bilinear', inputs: ['h3', '', 'up_scales'], outputs: ['u'], attrs: { mode: 'linear' } },
      { op: 'Add', name: 'add', inputs: ['d', 'u'], outputs: ['a'] },
      { op: 'Conv', name: 'conv4', inputs: ['a', 'c4_w', 'c4_b'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } },
    ],
  });
}

/**
 * conv → SiLU as Sigmoid·Mul (CPU; the sigmoid's output is quantized too) → conv → conv, concatenated with a
 * second CPU sigmoid: two CPU subgraphs feed a DPU subgraph, one of them only at its last layer.
 */
export function cpuBetweenNet(seed = 5): Model {
  const r = rng(seed);
  const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
  return buildModel({
    name: 'cpu_between',
    inputs: { x: ['float32', [1, 3, 16, 16]] },
    outputs: ['y'],
    initializers: {
      w1: tensor('float32', [8, 3, 3, 3], rand(216, 0.6)), b1: tensor('float32', [8], rand(8, 0.3)),
      w1b: tensor('float32', [8, 3, 3, 3], rand(216, 0.6)), b1b: tensor('float32', [8], rand(8, 0.3)),
      w2: tensor('float32', [8, 8, 3, 3], rand(576, 0.3)), b2: tensor('float32', [8], rand(8, 0.3)),
      w3: tensor('float32', [8, 8, 3, 3], rand(576, 0.3)), b3: tensor('float32', [8], rand(8, 0.3)),
    },
    nodes: [
      { op: 'Conv', name: 'conv1', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Sigmoid', name: 'sigmoid', inputs: ['c1'], outputs: ['s'] },
      { op: 'Mul', name: 'silu', inputs: ['c1', 's'], outputs: ['m'] },
      { op: 'Conv', name: 'conv1b', inputs: ['x', 'w1b', 'b1b'], outputs: ['c1b'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Sigmoid', name: 'sigmoid_b', inputs: ['c1b'], outputs: ['s2'] },
      { op: 'Conv', name: 'conv2', inputs: ['m', 'w2', 'b2'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', name: 'relu', inputs: ['c2'], outputs: ['r2'] },
      { op: 'Conv', name: 'conv3', inputs: ['r2', 'w3', 'b3'], outputs: ['c3'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Concat', name: 'cat', inputs: ['c3', 's2'], outputs: ['y'], attrs: { axis: 1 } },
    ],
  });
}
