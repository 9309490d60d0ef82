// The one internal form the compiler works on: ONNX graphs (Conv, Relu, QDQ pairs…) and XIR quantizer
// outputs (conv2d, relu, fix, const…) are both normalised into layers before any rule is checked.

export type LayerKind =
  | 'input' // a graph input (USER device)
  | 'conv' | 'depthwise' | 'deconv' | 'dense'
  | 'pool' | 'eltwise' | 'concat' | 'upsample' | 'reshape' | 'pad'
  | 'activation' // a nonlinearity that did not fuse into its producer
  | 'output' // int8 → float of a graph output (the real compiler's fix2float, always on the CPU)
  | 'other'; // anything else: a shape op, a custom op, softmax…

export type ActivationType =
  | 'relu' | 'relu6' | 'leaky_relu' | 'prelu' | 'hard_sigmoid' | 'hard_swish'
  | 'sigmoid' | 'silu' | 'tanh' | 'gelu' | 'exp' | 'softmax' | 'clip';

export interface Activation {
  readonly type: ActivationType;
  /** LeakyReLU slope; HardSigmoid's alpha (y = clip(alpha·x + beta, 0, 1)). */
  readonly alpha?: number;
  readonly beta?: number;
  /** PRelu's slope tensor, as ONNX broadcasts it against the NCHW input. */
  readonly slope?: { readonly shape: readonly number[]; readonly values: readonly number[] };
  /** GELU's tanh approximation (ONNX `approximate="tanh"`). */
  readonly approximate?: 'tanh';
  /** Clip bounds (a Clip that is neither ReLU nor ReLU6). */
  readonly min?: number;
  readonly max?: number;
}

export interface Layer {
  readonly id: number;
  /** Name shown to the user: the main source op's name. */
  readonly name: string;
  readonly kind: LayerKind;
  /** The source op type (Conv, conv2d, Sigmoid+Mul…), for messages. */
  readonly op: string;
  /** Every source op name this layer stands for (fused activations, fix/QDQ annotations, folded consts). */
  readonly sourceOps: string[];
  /** Producer layer ids, in argument order (constants are not layers). */
  readonly inputs: number[];
  /** Output shape, NHWC for 4-D feature maps ([] when unknown). */
  readonly shape: readonly number[];
  /** Input feature-map shapes, NHWC, in argument order. */
  readonly inputShapes: readonly (readonly number[])[];
  /** The output tensor's name in the source model. */
  readonly tensor: string;
  /** Fix point of the output when the model is quantized. */
  fixPoint?: number;
  /** The fix point was taken from a neighbour (concat reader, shape op's input), not from a fix/QDQ op. */
  readonly fixInferred?: boolean;
  /** Kernel, stride, dilation as [h, w]; pad as [top, left, bottom, right]. */
  readonly kernel?: readonly [number, number];
  readonly stride?: readonly [number, number];
  readonly dilation?: readonly [number, number];
  readonly pad?: readonly [number, number, number, number];
  readonly group?: number;
  readonly inChannels?: number;
  readonly outChannels?: number;
  readonly poolType?: 'max' | 'avg';
  readonly eltwise?: 'add' | 'sub' | 'mul' | 'div';
  /** An element-wise op whose second operand is a constant (a multiply becomes a 1×1 depthwise conv). */
  readonly constOperand?: boolean;
  readonly upsample?: {
    readonly scaleH: number; readonly scaleW: number; readonly mode: 'nearest' | 'bilinear'; readonly alignCorners: boolean;
    /** ONNX coordinate_transformation_mode (bilinear on the CPU): half_pixel, pytorch_half_pixel, align_corners, asymmetric. */
    readonly coordinate?: string;
  };
  /** For kind 'activation' the op itself; for conv/eltwise the fused nonlinearity. */
  activation?: Activation;
  /** Bytes of constant weights and biases (int8 on the DPU: one byte per element). */
  readonly weightElements: number;
  /** Weights then bias in XIR layout ([OC, KH, KW, IC]) as real values, computed when an xmodel is written. */
  readonly weights?: () => readonly WeightTensor[];
  /** What a CPU op needs to be computed (axes as the layer's own layout: NHWC for 4-D maps): a Concat or
   * Softmax axis, a Transpose order, a Slice as begin/end/strides over every axis. */
  readonly axis?: number;
  readonly order?: readonly number[];
  readonly slice?: { readonly begin: readonly number[]; readonly end: readonly number[]; readonly strides: readonly number[] };
  /** True when a graph output is produced here. */
  readonly graphOutput: boolean;
  /** When one layer stands for a chain of computing source ops (SiLU = Sigmoid then Mul(x, ·)): those ops in
   * order, so an exported graph names each op rather than an invented fused type. */
  readonly chain?: readonly { readonly name: string; readonly op: string }[];
}

export interface WeightTensor {
  /** The constant's name in the source model. */
  readonly name: string;
  readonly role: 'weights' | 'bias';
  readonly shape: readonly number[];
  readonly values: Float32Array;
  readonly fixPoint?: number;
}

/** Conversions a quantizer can apply; the what-if treats them as relaxations of the support rules. */
export interface Conversions {
  readonly siluToHardSwish: boolean;
  readonly sigmoidToHardSigmoid: boolean;
  /** LeakyReLU slopes become 26/256 (the quantizer retrains or accepts the change). */
  readonly leakyReluToDpuSlope: boolean;
  readonly relu6ToRelu: boolean;
}

export const NO_CONVERSIONS: Conversions = {
  siluToHardSwish: false, sigmoidToHardSigmoid: false, leakyReluToDpuSlope: false, relu6ToRelu: false,
};

/** A layer's nonlinearity as it will be after the enabled conversions. */
export function convertedActivation(a: Activation | undefined, c: Conversions): Activation | undefined {
  if (!a) return a;
  if (a.type === 'silu' && c.siluToHardSwish) return { type: 'hard_swish' };
  if (a.type === 'sigmoid' && c.sigmoidToHardSigmoid) return { type: 'hard_sigmoid' };
  if (a.type === 'relu6' && c.relu6ToRelu) return { type: 'relu' };
  if (a.type === 'leaky_relu' && c.leakyReluToDpuSlope) return { type: 'leaky_relu', alpha: 26 / 256 };
  return a;
}
