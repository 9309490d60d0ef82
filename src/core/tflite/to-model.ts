// TensorFlow Lite (.tflite FlatBuffer) → the graph IR as an ONNX-equivalent NCHW graph. Quantized (int8)
// models are dequantized: weights become float, and each tensor's scale/zero point stays on its node as
// attributes, with how far the scale is from a power of two — the DPU needs power-of-two fix points, so
// the model is re-quantized by the Quantize step.
import * as flatbuffers from 'flatbuffers';
import { InputError } from '../errors';
import type { DType, Model } from '../ir';
import { NchwGraph, NHWC_TO_NCHW_AXIS, nchwShape, pow2Distance, transposeData } from '../import/nchw';
import type { AttrInput } from '../onnx/build';
import {
  ActivationFunctionType, AddOptions, BuiltinOperator, DivOptions, MulOptions, SubOptions, ConcatenationOptions, Conv2DOptions, DepthwiseConv2DOptions,
  FullyConnectedOptions, LeakyReluOptions, Model as TflModel, Padding, Pool2DOptions, ReducerOptions,
  ResizeBilinearOptions, ResizeNearestNeighborOptions, SoftmaxOptions, TensorType, TransposeConvOptions,
  type Operator, type SubGraph, type Tensor,
} from './schema/schema_generated';

const IDENT = 'TFL3';

/** A tensor of the file, decoded: float values when constant (dequantized), and its quantization. */
interface TflTensor {
  readonly index: number;
  readonly name: string;
  readonly type: TensorType;
  readonly shape: number[];
  readonly scale: number[];
  readonly zeroPoint: number[];
  readonly qdim: number;
  /** Constant data as float (dequantized when quantized); undefined for activations. */
  readonly data?: Float64Array;
  /** Integer constant data as stored (shapes, axes, paddings). */
  readonly ints?: number[];
}

const DTYPE: Partial<Record<TensorType, DType>> = {
  [TensorType.FLOAT32]: 'float32', [TensorType.FLOAT16]: 'float16', [TensorType.INT32]: 'int32',
  [TensorType.UINT8]: 'uint8', [TensorType.INT64]: 'int64', [TensorType.INT8]: 'int8', [TensorType.INT16]: 'int16',
  [TensorType.FLOAT64]: 'float64', [TensorType.BOOL]: 'bool',
};

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Raw values of constant bytes by element type; undefined for types with no numeric meaning here. */
function decode(type: TensorType, b: Uint8Array, n: number, label: string): number[] | undefined {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const size: Partial<Record<TensorType, number>> = {
    [TensorType.FLOAT32]: 4, [TensorType.FLOAT16]: 2, [TensorType.INT32]: 4, [TensorType.UINT8]: 1, [TensorType.INT64]: 8,
    [TensorType.INT8]: 1, [TensorType.INT16]: 2, [TensorType.FLOAT64]: 8, [TensorType.BOOL]: 1,
  };
  const w = size[type];
  if (w === undefined) return undefined;
  if (b.byteLength < n * w) throw new InputError(`tensor "${label}" needs ${n * w} bytes but its buffer has ${b.byteLength}`);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const o = i * w;
    switch (type) {
      case TensorType.FLOAT32: out[i] = dv.getFloat32(o, true); break;
      case TensorType.FLOAT16: out[i] = half(dv.getUint16(o, true)); break;
      case TensorType.INT32: out[i] = dv.getInt32(o, true); break;
      case TensorType.INT64: out[i] = Number(dv.getBigInt64(o, true)); break;
      case TensorType.INT16: out[i] = dv.getInt16(o, true); break;
      case TensorType.FLOAT64: out[i] = dv.getFloat64(o, true); break;
      case TensorType.INT8: out[i] = dv.getInt8(o); break;
      default: out[i] = b[o];
    }
  }
  return out;
}

function bufferBytes(m: TflModel, file: Uint8Array, index: number, label: string): Uint8Array | undefined {
  if (index === 0 || index >= m.buffersLength()) return undefined;
  const buf = m.buffers(index);
  if (!buf) return undefined;
  const off = Number(buf.offset());
  // Buffers past the 2 GB FlatBuffer limit sit after it, addressed by offset (schema version 3c).
  if (off > 1) {
    const size = Number(buf.size());
    if (off + size > file.length) throw new InputError(`buffer ${index} of tensor "${label}" lies outside the file (offset ${off}, ${size} bytes, file ${file.length} bytes)`);
    return file.subarray(off, off + size);
  }
  const a = buf.dataArray();
  return a && a.length ? a : undefined;
}

function readTensor(m: TflModel, file: Uint8Array, t: Tensor, index: number): TflTensor {
  const name = t.name() ?? `tensor_${index}`;
  const shape = Array.from(t.shapeArray() ?? []);
  const q = t.quantization();
  const scale = Array.from(q?.scaleArray() ?? []);
  const zeroPoint: number[] = [];
  for (let i = 0; i < (q?.zeroPointLength() ?? 0); i++) zeroPoint.push(Number(q!.zeroPoint(i)));
  const qdim = q?.quantizedDimension() ?? 0;
  const bytes = bufferBytes(m, file, t.buffer(), name);
  const base = { index, name, type: t.type(), shape, scale, zeroPoint, qdim };
  if (!bytes) return base;
  const n = shape.reduce((a, b) => a * b, 1);
  const raw = decode(t.type(), bytes, n, name);
  if (!raw) return base;
  const isInt = t.type() === TensorType.INT32 || t.type() === TensorType.INT64;
  const data = new Float64Array(n);
  if (scale.length) {
    // f = scale[c] * (q - zero_point[c]), c along quantized_dimension. Converters write dimension 3 on
    // rank-1 depthwise biases too: then the one axis of that size is the channel axis.
    let axis = qdim;
    if (scale.length > 1 && shape[axis] !== scale.length) axis = shape.lastIndexOf(scale.length);
    if (scale.length > 1 && axis < 0) throw new InputError(`tensor "${name}" has ${scale.length} scales but no axis of that size in [${shape}]`);
    const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const per = scale.length > 1 ? shape[axis] : 1;
    for (let i = 0; i < n; i++) {
      const c = per > 1 ? Math.floor(i / inner) % per : 0;
      data[i] = scale[c] * (raw[i] - (zeroPoint[c] ?? 0));
    }
  } else data.set(raw);
  return { ...base, data, ...(isInt && !scale.length ? { ints: raw } : {}) };
}

function parse(bytes: Uint8Array): TflModel {
  if (bytes.length < 8) throw new InputError(`the file is too short for a TensorFlow Lite model (${bytes.length} bytes)`);
  const bb = new flatbuffers.ByteBuffer(bytes);
  const id = String.fromCharCode(...bytes.subarray(4, 8));
  if (id !== IDENT) throw new InputError(`the FlatBuffer identifier is "${id}", not "${IDENT}": not a TensorFlow Lite model`);
  const root = bb.readUint32(0);
  if (root < 8 || root + 4 > bytes.length) throw new InputError(`the TensorFlow Lite root table offset ${root} is outside the file (${bytes.length} bytes)`);
  return TflModel.getRootAsModel(bb);
}

const ACT: Partial<Record<ActivationFunctionType, string>> = {
  [ActivationFunctionType.RELU]: 'RELU', [ActivationFunctionType.RELU6]: 'RELU6',
  [ActivationFunctionType.RELU_N1_TO_1]: 'RELU_N1_TO_1', [ActivationFunctionType.TANH]: 'TANH',
};

/** Converts one subgraph. Operators are visited in file order, which TFLite keeps topological. */
class Converter {
  readonly g = new NchwGraph();
  /** Our tensor name for each TFLite tensor index (activations only). */
  private readonly names = new Map<number, string>();
  private readonly tensors: TflTensor[];

  constructor(private readonly m: TflModel, file: Uint8Array, private readonly sg: SubGraph) {
    this.tensors = [];
    for (let i = 0; i < sg.tensorsLength(); i++) this.tensors.push(readTensor(m, file, sg.tensors(i)!, i));
  }

  private t(i: number): TflTensor {
    const t = this.tensors[i];
    if (!t) throw new InputError(`an operator refers to tensor ${i}, but the subgraph has ${this.tensors.length}`);
    return t;
  }

  /** Our name of an activation tensor (NCHW when rank 4); constants become initializers in the layout given. */
  private x(i: number): string {
    const n = this.names.get(i);
    if (n !== undefined) return n;
    const t = this.t(i);
    if (t.data) return this.constNchw(t, 4);
    throw new InputError(`tensor "${t.name}" is read before any operator writes it`);
  }

  /** A constant operand of an elementwise op with a rank-`rank` activation: broadcast-aligned and NCHW. */
  private constNchw(t: TflTensor, rank: number): string {
    const data = t.data!;
    let shape = t.shape;
    let values: ArrayLike<number> = data;
    if (rank === 4) {
      shape = [...new Array(4 - Math.min(4, shape.length)).fill(1), ...shape];
      values = transposeData(data, shape, [0, 3, 1, 2], new Float64Array(data.length));
      shape = [shape[0], shape[3], shape[1], shape[2]];
    }
    return this.g.constant(t.name, 'float32', shape, values);
  }

  private weight(t: TflTensor, perm?: number[]): string {
    if (!t.data) throw new InputError(`weight tensor "${t.name}" has no constant data`);
    if (!perm) return this.g.constant(t.name, 'float32', t.shape, t.data);
    const v = transposeData(t.data, t.shape, perm, new Float64Array(t.data.length));
    return this.g.constant(t.name, 'float32', perm.map((p) => t.shape[p]), v);
  }

  /** Quantization of a tensor as node attributes, so the panel shows them. */
  private qattrs(prefix: string, t: TflTensor | undefined): Record<string, AttrInput> {
    if (!t || !t.scale.length) return {};
    const out: Record<string, AttrInput> = {
      [`${prefix}_scale`]: { kind: 'floats', value: t.scale },
      [`${prefix}_zero_point`]: t.zeroPoint,
    };
    out[`${prefix}_scale_vs_pow2`] = t.scale.length === 1 ? pow2Distance(t.scale[0]) : worstPow2(t.scale);
    return out;
  }

  private set(i: number, name: string): void {
    this.names.set(i, name);
  }

  private fused(act: ActivationFunctionType, x: string, name: string, rank: number): string {
    if (act === ActivationFunctionType.NONE) return x;
    const kind = ACT[act];
    if (!kind) throw new InputError(`fused activation ${ActivationFunctionType[act] ?? act} of "${name}" is not supported`);
    return this.g.activation(kind, x, `${name}/${kind.toLowerCase()}`, rank);
  }

  convert(): void {
    const sg = this.sg;
    for (let i = 0; i < sg.inputsLength(); i++) {
      const t = this.t(sg.inputs(i)!);
      const shape = t.shape.length === 4 ? nchwShape(t.shape) : t.shape;
      const dtype = t.scale.length || t.type === TensorType.FLOAT32 ? 'float32' : DTYPE[t.type] ?? 'float32';
      this.set(t.index, this.g.input(t.name, dtype, shape));
    }
    const codes: BuiltinOperator[] = [];
    for (let i = 0; i < this.m.operatorCodesLength(); i++) {
      const c = this.m.operatorCodes(i)!;
      codes.push(Math.max(c.deprecatedBuiltinCode(), c.builtinCode()));
    }
    for (let i = 0; i < sg.operatorsLength(); i++) {
      const op = sg.operators(i)!;
      const code = codes[op.opcodeIndex()];
      if (code === undefined) throw new InputError(`operator ${i} has opcode index ${op.opcodeIndex()}, but the model has ${codes.length} operator codes`);
      this.op(op, code);
    }
    const outs = new Set<string>();
    for (let i = 0; i < sg.outputsLength(); i++) {
      const idx = sg.outputs(i)!;
      let name = this.x(idx);
      // A graph output must be a node's output under a name of its own (an alias would be the input).
      if (outs.has(name) || this.g.inputs[name]) name = this.g.node('Identity', this.t(idx).name, [name]);
      outs.add(name);
      this.g.outputs.push(name);
    }
  }

  private op(op: Operator, code: BuiltinOperator): void {
    const ins = Array.from(op.inputsArray() ?? []);
    const outs = Array.from(op.outputsArray() ?? []);
    const out = this.t(outs[0]);
    const name = out.name;
    const inT = ins[0] >= 0 ? this.t(ins[0]) : undefined;
    const rank = out.shape.length;
    const q = { ...this.qattrs('tflite_input', inT), ...this.qattrs('tflite_output', out) };
    const done = (y: string) => this.set(out.index, y);
    const B = BuiltinOperator;
    switch (code) {
      case B.CONV_2D: case B.DEPTHWISE_CONV_2D: {
        const w = this.t(ins[1]);
        const depthwise = code === B.DEPTHWISE_CONV_2D;
        const o = depthwise ? options(op, new DepthwiseConv2DOptions()) : options(op, new Conv2DOptions());
        // CONV_2D filters are OHWI → OIHW; DEPTHWISE [1, H, W, C·M] → [C·M, 1, H, W] with one group per input channel.
        const wName = this.weight(w, depthwise ? [3, 0, 1, 2] : [0, 3, 1, 2]);
        const inputs = [this.x(ins[0]), wName];
        const b = ins.length > 2 && ins[2] >= 0 ? this.t(ins[2]) : undefined;
        if (b) inputs.push(this.weight(b));
        const group = depthwise ? inT!.shape[3] : Math.max(1, Math.round(inT!.shape[3] / w.shape[3]));
        const attrs: Record<string, AttrInput> = {
          kernel_shape: [w.shape[1], w.shape[2]], strides: [o.strideH(), o.strideW()],
          dilations: [o.dilationHFactor(), o.dilationWFactor()], group,
          ...(o.padding() === Padding.SAME ? { auto_pad: 'SAME_UPPER' } : { pads: [0, 0, 0, 0] }),
          ...q, ...this.qattrs('tflite_weight', w),
        };
        done(this.fused(o.fusedActivationFunction(), this.g.node('Conv', name, inputs, attrs), name, 4));
        return;
      }
      case B.TRANSPOSE_CONV: {
        // inputs: output_shape, weights [O, H, W, I], input, (bias)
        const w = this.t(ins[1]);
        const o = options(op, new TransposeConvOptions());
        const inputs = [this.x(ins[2]), this.weight(w, [3, 0, 1, 2])];
        if (ins.length > 3 && ins[3] >= 0) inputs.push(this.weight(this.t(ins[3])));
        const s = [o.strideH(), o.strideW()];
        const k = [w.shape[1], w.shape[2]];
        const x = this.t(ins[2]);
        const pads = o.padding() === Padding.SAME ? transposePads(k, s) : [0, 0, 0, 0];
        // Whatever the crop leaves short of the declared output size is added at the end.
        const want = [out.shape[1], out.shape[2]];
        const outputPadding = want.map((d, a) => Math.max(0, d - ((x.shape[a + 1] - 1) * s[a] + k[a] - pads[a] - pads[a + 2])));
        done(this.fused(o.fusedActivationFunction(), this.g.node('ConvTranspose', name, inputs, {
          kernel_shape: k, strides: s, pads, ...(outputPadding.some((p) => p) ? { output_padding: outputPadding } : {}), ...q,
        }), name, 4));
        return;
      }
      case B.FULLY_CONNECTED: {
        const o = options(op, new FullyConnectedOptions());
        const w = this.t(ins[1]);
        let x = this.x(ins[0]);
        if (inT!.shape.length !== 2 || inT!.shape[1] !== w.shape[1]) {
          if (inT!.shape.length === 4 && !channelsTrivial(inT!.shape)) x = this.g.toNhwc(x, name);
          x = this.g.node('Reshape', `${name}/flatten`, [x, this.g.constant(`${name}/shape`, 'int64', [2], [-1, w.shape[1]])]);
        }
        const inputs = [x, w.data ? this.weight(w) : this.x(ins[1])];
        if (ins.length > 2 && ins[2] >= 0) inputs.push(this.weight(this.t(ins[2])));
        let y = this.g.node('Gemm', name, inputs, { transB: 1, ...q, ...this.qattrs('tflite_weight', w) });
        if (o.keepNumDims() && rank !== 2) y = this.g.node('Reshape', `${name}/keep_dims`, [y, this.g.constant(`${name}/out_shape`, 'int64', [rank], out.shape)]);
        done(this.fused(o.fusedActivationFunction(), y, name, rank));
        return;
      }
      case B.AVERAGE_POOL_2D: case B.MAX_POOL_2D: {
        const o = options(op, new Pool2DOptions());
        const y = this.g.node(code === B.MAX_POOL_2D ? 'MaxPool' : 'AveragePool', name, [this.x(ins[0])], {
          kernel_shape: [o.filterHeight(), o.filterWidth()], strides: [o.strideH(), o.strideW()],
          ...(o.padding() === Padding.SAME ? { auto_pad: 'SAME_UPPER' } : { pads: [0, 0, 0, 0] }), ...q,
        });
        done(this.fused(o.fusedActivationFunction(), y, name, 4));
        return;
      }
      case B.ADD: case B.MUL: case B.SUB: case B.DIV: case B.MAXIMUM: case B.MINIMUM: case B.SQUARED_DIFFERENCE: {
        const onnx = { [B.ADD]: 'Add', [B.MUL]: 'Mul', [B.SUB]: 'Sub', [B.DIV]: 'Div', [B.MAXIMUM]: 'Max', [B.MINIMUM]: 'Min' } as Record<number, string>;
        const operands = ins.map((j) => {
          const t = this.t(j);
          return t.data ? this.constNchw(t, rank) : this.x(j);
        });
        const b = ins[1] !== undefined ? this.t(ins[1]) : undefined;
        const qq = { ...q, ...this.qattrs('tflite_input2', b) };
        let y: string;
        if (code === B.SQUARED_DIFFERENCE) {
          const d = this.g.node('Sub', `${name}/diff`, operands, qq);
          y = this.g.node('Mul', name, [d, d]);
        } else y = this.g.node(onnx[code], name, operands, qq);
        const opts = code === B.ADD ? new AddOptions() : code === B.MUL ? new MulOptions() : code === B.SUB ? new SubOptions() : code === B.DIV ? new DivOptions() : undefined;
        const act = opts ? options(op, opts).fusedActivationFunction() : undefined;
        done(this.fused(act ?? ActivationFunctionType.NONE, y, name, rank));
        return;
      }
      case B.CONCATENATION: {
        const o = options(op, new ConcatenationOptions());
        let axis = o.axis();
        if (axis < 0) axis += rank;
        if (rank === 4) axis = NHWC_TO_NCHW_AXIS[axis];
        const inputs = ins.map((j) => (this.t(j).data ? this.constNchw(this.t(j), rank) : this.x(j)));
        done(this.fused(o.fusedActivationFunction(), this.g.node('Concat', name, inputs, { axis, ...q }), name, rank));
        return;
      }
      case B.RESHAPE: case B.SQUEEZE: case B.EXPAND_DIMS: {
        let x = this.x(ins[0]);
        if (inT!.shape.length === 4 && !channelsTrivial(inT!.shape)) x = this.g.toNhwc(x, name);
        let y = this.g.node('Reshape', name, [x, this.g.constant(`${name}/shape`, 'int64', [rank], out.shape)], q);
        if (rank === 4 && !channelsTrivial(out.shape)) y = this.g.toNchw(y, name);
        else if (rank === 4) y = this.g.node('Reshape', `${name}/nchw`, [y, this.g.constant(`${name}/nchw_shape`, 'int64', [4], nchwShape(out.shape))]);
        done(y);
        return;
      }
      case B.SOFTMAX: {
        const o = options(op, new SoftmaxOptions());
        let x = this.x(ins[0]);
        if (o.beta() !== 1) x = this.g.node('Mul', `${name}/beta`, [x, this.g.constant(`${name}/beta_value`, 'float32', [], [o.beta()])]);
        done(this.g.node('Softmax', name, [x], { axis: rank === 4 ? 1 : -1, ...q }));
        return;
      }
      case B.PAD: case B.PADV2: case B.MIRROR_PAD: {
        const p = this.t(ins[1]).ints;
        if (!p) throw new InputError(`"${name}": the paddings of ${BuiltinOperator[code]} must be constant`);
        const r = p.length / 2;
        const axes = r === 4 ? [0, 3, 1, 2] : [...Array(r).keys()];
        const pads = [...axes.map((a) => p[2 * a]), ...axes.map((a) => p[2 * a + 1])];
        const inputs = [this.x(ins[0]), this.g.constant(`${name}/pads`, 'int64', [pads.length], pads)];
        if (code === B.PADV2 && ins[2] !== undefined) inputs.push(this.g.constant(`${name}/value`, 'float32', [], [this.t(ins[2]).data?.[0] ?? 0]));
        done(this.g.node('Pad', name, inputs, { mode: code === B.MIRROR_PAD ? 'reflect' : 'constant', ...q }));
        return;
      }
      case B.MEAN: case B.SUM: case B.REDUCE_MAX: case B.REDUCE_MIN: {
        const o = options(op, new ReducerOptions());
        const r = inT!.shape.length;
        const axes = (this.t(ins[1]).ints ?? []).map((a) => (a < 0 ? a + r : a));
        const keep = o.keepDims();
        const x = this.x(ins[0]);
        if (code === B.MEAN && r === 4 && axes.length === 2 && axes.includes(1) && axes.includes(2)) {
          const y = this.g.node('GlobalAveragePool', name, [x], q);
          done(keep ? y : this.g.node('Flatten', `${name}/squeeze`, [y]));
          return;
        }
        const onnx = { [B.MEAN]: 'ReduceMean', [B.SUM]: 'ReduceSum', [B.REDUCE_MAX]: 'ReduceMax', [B.REDUCE_MIN]: 'ReduceMin' } as Record<number, string>;
        if (r === 4 && !keep) throw new InputError(`"${name}": ${BuiltinOperator[code]} over axes [${axes}] without keep_dims is not supported`);
        const mapped = r === 4 ? axes.map((a) => NHWC_TO_NCHW_AXIS[a]) : axes;
        if (code === B.SUM) done(this.g.node('ReduceSum', name, [x, this.g.constant(`${name}/axes`, 'int64', [mapped.length], mapped)], { keepdims: keep ? 1 : 0, ...q }));
        else done(this.g.node(onnx[code], name, [x], { axes: mapped, keepdims: keep ? 1 : 0, ...q }));
        return;
      }
      case B.QUANTIZE: case B.DEQUANTIZE: {
        // In the float graph both are the identity: the value is the same real number.
        if (inT?.data) done(this.constNchw(inT, rank));
        else done(this.x(ins[0]));
        return;
      }
      case B.LOGISTIC: done(this.g.node('Sigmoid', name, [this.x(ins[0])], q)); return;
      case B.TANH: done(this.g.node('Tanh', name, [this.x(ins[0])], q)); return;
      case B.RELU: done(this.g.node('Relu', name, [this.x(ins[0])], q)); return;
      case B.RELU6: done(this.g.clip(this.x(ins[0]), name, 0, 6)); return;
      case B.RELU_N1_TO_1: done(this.g.clip(this.x(ins[0]), name, -1, 1)); return;
      case B.HARD_SWISH: done(this.g.node('HardSwish', name, [this.x(ins[0])], q)); return;
      case B.LEAKY_RELU: {
        const o = options(op, new LeakyReluOptions());
        done(this.g.node('LeakyRelu', name, [this.x(ins[0])], { alpha: o.alpha(), ...q }));
        return;
      }
      case B.RESIZE_BILINEAR: case B.RESIZE_NEAREST_NEIGHBOR: {
        const bil = code === B.RESIZE_BILINEAR;
        const o = bil ? options(op, new ResizeBilinearOptions()) : options(op, new ResizeNearestNeighborOptions());
        const size = nchwShape(out.shape);
        const mode = o.alignCorners() ? 'align_corners' : o.halfPixelCenters() ? (bil ? 'half_pixel' : 'tf_half_pixel_for_nn') : 'asymmetric';
        done(this.g.node('Resize', name, [this.x(ins[0]), '', '', this.g.constant(`${name}/sizes`, 'int64', [4], size)], {
          mode: bil ? 'linear' : 'nearest', coordinate_transformation_mode: mode,
          ...(bil ? {} : { nearest_mode: o.alignCorners() ? 'round_prefer_ceil' : 'floor' }), ...q,
        }));
        return;
      }
      default: {
        // Drawn as an unknown op with its activations, not refused.
        const inputs = ins.filter((j) => j >= 0 && !this.t(j).data).map((j) => this.x(j));
        const outNames = outs.map((j) => this.g.fresh(this.t(j).name));
        this.g.node(BuiltinOperator[code] ?? `OP_${code}`, name, inputs, q, outNames, 'tflite');
        outs.forEach((j, k) => this.set(j, outNames[k]));
      }
    }
  }
}

/** An empty table: options read through it give the schema's defaults. */
let emptyTable: flatbuffers.ByteBuffer | undefined;

/** The operator's options, or the schema defaults when the file omits them (allowed, and common for RELU-less ops). */
function options<T extends { __init(i: number, bb: flatbuffers.ByteBuffer): T }>(op: Operator, o: T): T {
  if (op.builtinOptions(o)) return o;
  if (!emptyTable) {
    const b = new flatbuffers.Builder(16);
    b.startObject(0);
    b.finish(b.endObject());
    emptyTable = new flatbuffers.ByteBuffer(b.asUint8Array());
  }
  return o.__init(emptyTable.readInt32(emptyTable.position()) + emptyTable.position(), emptyTable);
}

/** NHWC and NCHW hold the elements in the same order when H·W = 1 or C = 1: no transpose needed. */
function channelsTrivial(nhwc: readonly number[]): boolean {
  return nhwc[1] * nhwc[2] === 1 || nhwc[3] === 1;
}

/** SAME padding of a transposed conv (TensorFlow crops the smaller half before). */
function transposePads(k: number[], s: number[]): number[] {
  const total = k.map((kk, i) => Math.max(0, kk - s[i]));
  const begin = total.map((t) => Math.floor(t / 2));
  return [...begin, ...total.map((t, i) => t - begin[i])];
}

function worstPow2(scales: readonly number[]): string {
  let worst = 0;
  for (const s of scales) worst = Math.max(worst, Math.abs(Math.log2(s) - Math.round(Math.log2(s))));
  return `${scales.length} per-channel scales, farthest ${worst.toFixed(2)} octave from a power of two`;
}

/** Opens a .tflite file as an NCHW graph of ONNX ops. Throws InputError for anything malformed. */
export function readTflite(bytes: Uint8Array): Model {
  const m = parse(bytes);
  try {
    if (m.subgraphsLength() === 0) throw new InputError('the TensorFlow Lite model has no subgraph');
    const c = new Converter(m, bytes, m.subgraphs(0)!);
    c.convert();
    const quantized = c.g.nodes.some((n) => n.attrs && 'tflite_output_scale' in n.attrs);
    const desc = m.description() ?? '';
    return c.g.finish('tflite', desc ? `TFLite (${desc})` : 'TFLite', `schema v${m.version()}`, m.subgraphs(0)!.name() || 'main', {
      source_format: 'tflite', ...(quantized ? { tflite_quantized: 'int8: weights dequantized; re-quantize to power-of-two fix points for the DPU' } : {}),
    });
  } catch (e) {
    if (e instanceof InputError) throw e;
    // The flatbuffers runtime reads past the end or through a wild offset as a RangeError/TypeError.
    if (e instanceof RangeError || e instanceof TypeError) throw new InputError(`the TensorFlow Lite model is damaged: ${e.message}`);
    throw e;
  }
}
