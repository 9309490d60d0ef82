// Op type → drawing category, following the grouping Netron uses for its node colours.
import type { OpCategory } from './types';

const BY_OP: Record<string, OpCategory> = {};
function put(category: OpCategory, ops: string): void {
  for (const op of ops.split(/\s+/)) if (op) BY_OP[op] = category;
}

put('conv', 'Conv ConvTranspose ConvInteger QLinearConv DeformConv Gemm MatMul MatMulInteger QLinearMatMul Einsum');
put('activation', `Relu LeakyRelu PRelu Sigmoid HardSigmoid Tanh Elu Selu Celu Gelu Softplus Softsign Swish HardSwish
  Mish ThresholdedRelu Softmax LogSoftmax Hardmax Clip Erf Exp Log`);
put('pool', 'MaxPool AveragePool GlobalMaxPool GlobalAveragePool LpPool GlobalLpPool MaxRoiPool RoiAlign MaxUnpool');
put('norm', `BatchNormalization InstanceNormalization LayerNormalization GroupNormalization LpNormalization LRN
  MeanVarianceNormalization RMSNormalization Dropout`);
put('shape', `Reshape Flatten Squeeze Unsqueeze Transpose Concat Split Slice Gather GatherElements GatherND Scatter
  ScatterElements ScatterND Tile Expand Pad Shape Size Resize Upsample DepthToSpace SpaceToDepth Identity Cast
  CastLike ConstantOfShape Range Where NonZero TopK Compress OneHot Trilu`);
put('quant', 'QuantizeLinear DequantizeLinear DynamicQuantizeLinear FixNeuron');
put('control', 'If Loop Scan SequenceMap');

export function opCategory(opType: string): OpCategory {
  return BY_OP[opType] ?? 'other';
}

/**
 * XIR op types (the built-in op definitions, see src/core/xmodel/xir-op-defs.json) → category, the float op
 * and its `-fix` form alike. Types in the table but not listed here (add, mul, eltwise-fix…) are 'other'.
 */
const XIR_BY_OP: Record<string, OpCategory> = {};
function putXir(category: OpCategory, ops: string): void {
  for (const op of ops.split(/\s+/)) if (op) { XIR_BY_OP[op] = category; XIR_BY_OP[`${op}-fix`] = category; }
}
putXir('conv', `conv1d conv2d conv3d depthwise-conv2d depthwise-conv3d transposed-conv2d transposed-conv3d
  transposed-depthwise-conv2d transposed-depthwise-conv3d inner-product matmul dense`);
putXir('activation', `relu relu6 leaky-relu prelu elu celu selu gelu mish sigmoid swish tanh hard-sigmoid hard-swish
  hard-tanh softmax exp log clamp`);
putXir('pool', 'maxpool1d maxpool2d avgpool2d pool reduction_max reduction_mean reduction_sum reduction_product');
putXir('norm', 'batchnorm instancenorm layernorm groupnorm l2_normalize');
putXir('shape', `reshape flatten squeeze transpose concat strided_slice resize upsample downsample pad identity shape
  tile space_to_batch_nd batch_to_space_nd pixel-shuffle gather split`);
putXir('quant', 'fix fix2float float2fix threshold quantize-linear dequantize-linear');
// Weights, graph inputs and the moves between host and DPU memory.
putXir('io', 'const data upload download');

/** Category of an XIR op; undefined for a type outside the catalogue. */
export function xirOpCategory(opType: string): OpCategory | undefined {
  return XIR_BY_OP[opType];
}

/**
 * Names of the inputs of common ops as the ONNX operator schemas give them, so a weight reads "W" or
 * "scale" the way Netron labels it.
 */
export const INPUT_NAMES: Readonly<Record<string, readonly string[]>> = {
  Conv: ['X', 'W', 'B'],
  ConvTranspose: ['X', 'W', 'B'],
  ConvInteger: ['x', 'w', 'x_zero_point', 'w_zero_point'],
  QLinearConv: ['x', 'x_scale', 'x_zero_point', 'w', 'w_scale', 'w_zero_point', 'y_scale', 'y_zero_point', 'B'],
  Gemm: ['A', 'B', 'C'],
  MatMul: ['A', 'B'],
  Add: ['A', 'B'], Sub: ['A', 'B'], Mul: ['A', 'B'], Div: ['A', 'B'], Pow: ['X', 'Y'],
  BatchNormalization: ['X', 'scale', 'B', 'mean', 'var'],
  InstanceNormalization: ['input', 'scale', 'B'],
  LayerNormalization: ['X', 'Scale', 'B'],
  PRelu: ['X', 'slope'],
  Clip: ['input', 'min', 'max'],
  QuantizeLinear: ['x', 'y_scale', 'y_zero_point'],
  DequantizeLinear: ['x', 'x_scale', 'x_zero_point'],
  Reshape: ['data', 'shape'],
  Expand: ['input', 'shape'],
  Tile: ['input', 'repeats'],
  Slice: ['data', 'starts', 'ends', 'axes', 'steps'],
  Pad: ['data', 'pads', 'constant_value', 'axes'],
  Resize: ['X', 'roi', 'scales', 'sizes'],
  Upsample: ['X', 'scales'],
  Gather: ['data', 'indices'],
  Unsqueeze: ['data', 'axes'],
  Squeeze: ['data', 'axes'],
  Split: ['input', 'split'],
  ReduceMean: ['data', 'axes'], ReduceSum: ['data', 'axes'], ReduceMax: ['data', 'axes'],
  ConstantOfShape: ['input'],
  Where: ['condition', 'X', 'Y'],
  LSTM: ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h', 'initial_c', 'P'],
  GRU: ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h'],
  RNN: ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h'],
};
