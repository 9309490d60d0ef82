// ONNX graph (float, or QDQ-quantized) → layers. QuantizeLinear/DequantizeLinear pairs are annotations:
// they give the tensor its fix point (scale = 2^-fp) and vanish; BatchNormalization after a conv folds in.
import { attr, attrInt, attrInts, type ConstTensor, type Model, type Node } from '../ir';
import { toFloat64 } from '../onnx/values';
import { roundHalfEven } from '../quant/fixpoint';
import { LayerBuilder, type LayerGraph } from './builder';
import type { Activation, LayerKind } from './layer';

type Draft = Parameters<LayerBuilder['add']>[0];

/** NCHW → NHWC for 4-D maps; other ranks unchanged. Symbolic dims count as 1. */
function nhwc(shape: readonly (number | string)[] | undefined): number[] {
  if (!shape) return [];
  const s = shape.map((d) => (typeof d === 'number' ? d : 1));
  return s.length === 4 ? [s[0], s[2], s[3], s[1]] : s;
}

const ALIASES = new Set(['Identity', 'Dropout', 'Cast']);
const ACTIVATIONS: Record<string, Activation['type']> = {
  Relu: 'relu', LeakyRelu: 'leaky_relu', PRelu: 'prelu', HardSigmoid: 'hard_sigmoid', HardSwish: 'hard_swish',
  Sigmoid: 'sigmoid', Tanh: 'tanh', Gelu: 'gelu', Exp: 'exp',
};
const ELTWISE: Record<string, 'add' | 'sub' | 'mul' | 'div'> = { Add: 'add', Sum: 'add', Sub: 'sub', Mul: 'mul', Div: 'div' };
const RESHAPES = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

export function layersFromOnnx(model: Model): LayerGraph {
  const g = model.graph;
  const b = new LayerBuilder();
  const consts = new Map<string, ConstTensor>(g.initializers);
  for (const n of g.nodes) {
    const v = attr(n, 'value', 'tensor');
    if (n.opType === 'Constant' && v) consts.set(n.outputs[0], v);
  }
  const isConst = (t: string) => consts.has(b.resolve(t)) || consts.has(t);
  const constOf = (t: string) => consts.get(b.resolve(t)) ?? consts.get(t);
  const scalar = (t: string | undefined): number | undefined => {
    const c = t ? constOf(t) : undefined;
    if (!c || c.dtype === 'string') return undefined;
    const v = toFloat64(c);
    return v.length ? v[0] : undefined;
  };
  const inputShapes = new Map(g.inputs.map((i) => [i.name, i.shape]));
  const shapeOf = (t: string) => nhwc(g.valueInfo.get(t)?.shape ?? inputShapes.get(t));
  let quantized = false;
  const dequant = new Map<string, number>();
  const realValues = (t: string): { values: Float32Array; fixPoint?: number } => {
    const c = constOf(t)!;
    const scale = dequant.get(t) ?? 1;
    const fp = dequant.has(t) ? -Math.log2(scale) : undefined;
    // A plain loop: Float32Array.from with a map function is slow on the millions of weights of a ResNet.
    const src = toFloat64(c);
    const values = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) values[i] = src[i] * scale;
    return { values, fixPoint: fp !== undefined && Number.isInteger(fp) ? fp : undefined };
  };

  for (const i of g.inputs) b.add({ name: i.name, kind: 'input', op: 'input', sourceOps: [], inputs: [], shape: nhwc(i.shape), tensor: i.name, weightElements: 0 });

  for (const n of g.nodes) {
    const out = n.outputs[0] ?? '';
    if (n.opType === 'Constant') continue;
    if (n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear') {
      const s = scalar(n.inputs[1]);
      if (s && s > 0) {
        const fp = -Math.log2(s);
        if (Number.isInteger(fp) && !isConst(n.inputs[0])) { b.setFixPoint(n.inputs[0], fp); quantized = true; }
      }
      if (isConst(n.inputs[0])) {
        // A dequantized weight is still a constant; remember its scale for real values and fix point.
        // QuantizeLinear of float weights (Vitis AI's QDQ form) stores the int8 codes it computes (half to
        // even, saturated), so the DequantizeLinear after it gives the values on the grid.
        const c = constOf(n.inputs[0])!;
        consts.set(out, n.opType === 'QuantizeLinear' && s && s > 0 && c.dtype !== 'string' ? {
          ...c, name: out, dtype: 'float32',
          values: Float32Array.from(toFloat64(c), (v) => Math.max(-128, Math.min(127, roundHalfEven(v / s)))),
        } : c);
        if (n.opType === 'DequantizeLinear' && s && s > 0) dequant.set(out, s);
        continue;
      }
      b.addAlias(out, n.inputs[0], n.name);
      continue;
    }
    if (ALIASES.has(n.opType) && n.inputs[0]) {
      if (isConst(n.inputs[0])) consts.set(out, constOf(n.inputs[0])!);
      else b.addAlias(out, n.inputs[0], n.name);
      continue;
    }
    if (n.opType === 'Shape') {
      // Static shapes are known at compile time: what is computed from them is constant too.
      const inShape = g.valueInfo.get(b.resolve(n.inputs[0]))?.shape ?? [];
      consts.set(out, { name: out, dtype: 'int64', shape: [inShape.length], values: BigInt64Array.from(inShape.map((d) => BigInt(typeof d === 'number' ? d : 1))) });
      continue;
    }
    const feature = n.inputs.filter((t) => t && !isConst(t));
    if (feature.length === 0 && n.inputs.length > 0) {
      // Constant folding left over (a reshaped weight, shape arithmetic): its outputs are constants.
      // Optional inputs may be omitted (''), even all of them: then there is nothing to carry.
      const first = n.inputs.find(Boolean);
      const src = first ? constOf(first) : undefined;
      if (!src) continue;
      for (const o of n.outputs) {
        const vi = g.valueInfo.get(o)?.shape;
        const shape = vi && vi.every((d) => typeof d === 'number') ? (vi as number[]) : src.shape;
        consts.set(o, { ...src, name: o, shape });
      }
      continue;
    }
    const weights = n.inputs.filter((t) => t && isConst(t)).map((t) => constOf(t)!);
    const weightElements = weights.reduce((s, c) => s + c.shape.reduce((a, x) => a * x, 1), 0);
    const shape = shapeOf(out);
    const inShape = feature.length ? shapeOf(b.resolve(feature[0])) : [];
    const base = { name: n.name, op: n.opType, sourceOps: [n.name], inputs: feature, shape, tensor: out, weightElements };
    let d = { ...toDraft(n, base, inShape, weights, scalar, isConst), ...cpuParams(n, inShape, shape, (t) => {
      const c = t ? constOf(t) : undefined;
      return c && c.dtype !== 'string' ? Array.from(toFloat64(c)) : undefined;
    }) };
    const constIns = n.inputs.filter((x) => x && isConst(x));
    if ((d.kind === 'conv' || d.kind === 'depthwise' || d.kind === 'deconv' || d.kind === 'dense') && constIns.length) {
      const transB = attrInt(n, 'transB', 0) === 1;
      d = { ...d, weights: () => constIns.slice(0, 2).map((x, i) => {
        const { values, fixPoint } = realValues(x);
        const shape = constOf(x)!.shape;
        if (i === 1) return { name: x, role: 'bias' as const, shape, values, fixPoint };
        const w = xirLayout(n.opType, shape, values, transB);
        return { name: x, role: 'weights' as const, shape: w.shape, values: w.values, fixPoint };
      }) };
    }
    if (n.opType === 'BatchNormalization') {
      const p = b.producerOf(n.inputs[0]);
      if (p && (p.kind === 'conv' || p.kind === 'depthwise' || p.kind === 'deconv' || p.kind === 'dense') && !p.activation) {
        b.addAlias(out, n.inputs[0], n.name);
        continue;
      }
    }
    b.add(d);
  }
  const outputs = g.outputs.map((o) => ({ tensor: o.name }));
  return b.finish(g.name, outputs, quantized, g.nodes.filter((n) => n.opType !== 'Constant').map((n) => ({ name: n.name, type: n.opType })));
}

/**
 * The explicit pads of `auto_pad` SAME_UPPER / SAME_LOWER (as ONNX defines them: output = ceil(in / stride),
 * the odd cell after for UPPER, before for LOWER), [top, left, bottom, right]; undefined otherwise.
 */
function samePads(n: Node, inShape: readonly number[], k?: readonly number[], s?: readonly number[], d?: readonly number[]): [number, number, number, number] | undefined {
  const mode = attr(n, 'auto_pad', 'string');
  if ((mode !== 'SAME_UPPER' && mode !== 'SAME_LOWER') || !k || k.length !== 2 || inShape.length !== 4 || n.opType === 'ConvTranspose') return undefined;
  const split = (i: number): [number, number] => {
    const size = inShape[2 + i], st = s?.[i] ?? 1, dil = d?.[i] ?? 1;
    const total = Math.max(0, (Math.ceil(size / st) - 1) * st + (k[i] - 1) * dil + 1 - size);
    const small = Math.floor(total / 2);
    return mode === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
  };
  const [[t, b], [l, r]] = [split(0), split(1)];
  return [t, l, b, r];
}

function toDraft(
  n: Node, base: Omit<Draft, 'kind'>, inShape: number[], weights: ConstTensor[],
  scalar: (t: string | undefined) => number | undefined, isConst: (t: string) => boolean,
): Draft {
  const t = n.opType;
  const pads = attrInts(n, 'pads');
  const k = attrInts(n, 'kernel_shape');
  const s = attrInts(n, 'strides');
  const dl = attrInts(n, 'dilations');
  const pad = pads && pads.length === 4 ? [pads[0], pads[1], pads[2], pads[3]] as [number, number, number, number] : samePads(n, inShape, k, s, dl);
  const pair = (v: readonly number[] | undefined, dflt: number): [number, number] => v && v.length >= 2 ? [v[0], v[1]] : [dflt, dflt];
  const ic = inShape.length === 4 ? inShape[3] : inShape[inShape.length - 1];
  const oc = base.shape.length ? base.shape[base.shape.length - 1] : undefined;
  switch (t) {
    case 'Conv': case 'ConvTranspose': {
      const w = weights[0];
      const kernel = k ? pair(k, 1) : w && w.shape.length === 4 ? [w.shape[2], w.shape[3]] as [number, number] : [1, 1] as [number, number];
      const group = attrInt(n, 'group', 1);
      // Channel counts from the weights: they are exact even where shape inference gave up.
      const inC = w && w.shape.length === 4 ? (t === 'Conv' ? w.shape[1] * group : w.shape[0]) : ic;
      const outC = w && w.shape.length === 4 ? (t === 'Conv' ? w.shape[0] : w.shape[1] * group) : oc;
      const kind: LayerKind = t === 'ConvTranspose' ? 'deconv' : group > 1 && group === inC ? 'depthwise' : 'conv';
      return { ...base, kind, kernel, stride: pair(s, 1), dilation: pair(dl, 1), pad, group, inChannels: inC, outChannels: outC };
    }
    case 'Gemm': case 'MatMul': {
      if (weights.length === 0) return { ...base, kind: 'other', op: `${t} of two tensors` };
      const w = weights[0];
      const transB = attrInt(n, 'transB', 0) === 1;
      const inC = w.shape.length === 2 ? (transB ? w.shape[1] : w.shape[0]) : ic;
      const outC = w.shape.length === 2 ? (transB ? w.shape[0] : w.shape[1]) : oc;
      return { ...base, kind: 'dense', inChannels: inC, outChannels: outC };
    }
    case 'MaxPool': case 'AveragePool':
      return { ...base, kind: 'pool', poolType: t === 'MaxPool' ? 'max' : 'avg', kernel: pair(k, 1), stride: pair(s, 1), pad, inChannels: ic, outChannels: ic };
    case 'GlobalAveragePool': case 'GlobalMaxPool':
      return { ...base, kind: 'pool', poolType: t === 'GlobalMaxPool' ? 'max' : 'avg', kernel: [inShape[1] ?? 1, inShape[2] ?? 1], stride: [1, 1], inChannels: ic, outChannels: ic };
    case 'ReduceMean': case 'ReduceMax': {
      const axes = attrInts(n, 'axes') ?? [];
      const spatial = axes.length === 2 && axes.every((a) => a === 2 || a === 3 || a === -1 || a === -2);
      return spatial
        ? { ...base, kind: 'pool', poolType: t === 'ReduceMax' ? 'max' : 'avg', kernel: [inShape[1] ?? 1, inShape[2] ?? 1], stride: [1, 1], inChannels: ic, outChannels: ic }
        : { ...base, kind: 'other' };
    }
    case 'Clip': {
      const lo = scalar(n.inputs[1]) ?? attr(n, 'min', 'float');
      const hi = scalar(n.inputs[2]) ?? attr(n, 'max', 'float');
      const a: Activation = lo === 0 && hi === 6 ? { type: 'relu6' } : lo === 0 && hi === undefined ? { type: 'relu' } : { type: 'clip', min: lo, max: hi };
      return { ...base, kind: 'activation', activation: a };
    }
    case 'Softmax': case 'LogSoftmax':
      return { ...base, kind: 'other' };
    case 'Concat':
      return { ...base, kind: 'concat' };
    case 'Pad':
      return { ...base, kind: 'pad' };
    case 'Resize': case 'Upsample': {
      const mode = (attr(n, 'mode', 'string') ?? 'nearest').toLowerCase();
      const ctm = attr(n, 'coordinate_transformation_mode', 'string') ?? '';
      const ok = inShape.length === 4 && base.shape.length === 4 && inShape[1] > 0 && inShape[2] > 0;
      return {
        ...base, kind: 'upsample',
        upsample: ok ? {
          scaleH: base.shape[1] / inShape[1], scaleW: base.shape[2] / inShape[2], mode: mode === 'nearest' ? 'nearest' : 'bilinear', alignCorners: ctm === 'align_corners',
          // Upsample (opset < 10) samples as asymmetric; Resize defaults to half_pixel.
          coordinate: t === 'Upsample' ? 'asymmetric' : ctm || 'half_pixel',
        } : undefined,
      };
    }
    case 'BatchNormalization':
      return { ...base, kind: 'depthwise', kernel: [1, 1], stride: [1, 1], inChannels: ic, outChannels: ic };
  }
  if (ACTIVATIONS[t]) {
    const alpha = t === 'LeakyRelu' ? attr(n, 'alpha', 'float') ?? 0.01 : t === 'HardSigmoid' ? attr(n, 'alpha', 'float') ?? 0.2 : undefined;
    const kind: LayerKind = t === 'Exp' ? 'other' : 'activation';
    // What the CPU code needs to compute the op (the DPU rules read only the type and LeakyReLU's slope).
    const extra: Partial<Activation> = t === 'HardSigmoid' ? { beta: attr(n, 'beta', 'float') ?? 0.5 }
      : t === 'Gelu' && attr(n, 'approximate', 'string') === 'tanh' ? { approximate: 'tanh' }
        : t === 'PRelu' && weights.length === 1 ? { slope: { shape: weights[0].shape.map(Number), values: Array.from(toFloat64(weights[0])) } } : {};
    return { ...base, kind, activation: kind === 'activation' ? { type: ACTIVATIONS[t], ...(alpha !== undefined ? { alpha } : {}), ...extra } : undefined };
  }
  if (ELTWISE[t]) return { ...base, kind: 'eltwise', eltwise: ELTWISE[t], constOperand: n.inputs.some((x) => x && isConst(x)) };
  if (RESHAPES.has(t)) return { ...base, kind: 'reshape' };
  return { ...base, kind: 'other' };
}

const NHWC_AXIS = [0, 3, 1, 2];

/** Axis, order or slice of a Concat/Softmax/Transpose/Slice in the layers' layout (NHWC for 4-D maps). */
function cpuParams(n: Node, inShape: readonly number[], outShape: readonly number[], ints: (t: string | undefined) => number[] | undefined):
  Pick<Draft, 'axis' | 'order' | 'slice'> {
  const axisOf = (a: number, rank: number) => { const x = a < 0 ? a + rank : a; return rank === 4 ? NHWC_AXIS[x] : x; };
  if (n.opType === 'Concat') return { axis: axisOf(attrInt(n, 'axis', 1), outShape.length) };
  if (n.opType === 'Softmax') return { axis: axisOf(attrInt(n, 'axis', -1), outShape.length) };
  if (n.opType === 'Transpose') {
    const r = inShape.length;
    const perm = attrInts(n, 'perm') ?? inShape.map((_d, i) => r - 1 - i);
    // Both sides NHWC when 4-D: output axis i (NHWC) is ONNX output axis j, which reads ONNX input axis perm[j].
    const toOnnx = (rank: number, i: number) => (rank === 4 ? [0, 2, 3, 1][i] : i);
    return { order: perm.map((_p, i) => axisOf(perm[toOnnx(outShape.length, i)], r)) };
  }
  if (n.opType === 'Slice') {
    const r = inShape.length;
    const starts = ints(n.inputs[1]), ends = ints(n.inputs[2]);
    const axes = n.inputs[3] ? ints(n.inputs[3]) : starts?.map((_v, i) => i);
    const steps = n.inputs[4] ? ints(n.inputs[4]) : starts?.map(() => 1);
    if (!starts || !ends || !axes || !steps || inShape.length === 0) return {};
    const begin = inShape.map(() => 0), end = [...inShape], strides = inShape.map(() => 1);
    axes.forEach((a, i) => {
      const x = axisOf(a, r);
      const d = inShape[x];
      const clamp = (v: number) => Math.max(0, Math.min(d, v < 0 ? v + d : v));
      begin[x] = clamp(starts[i]);
      end[x] = clamp(ends[i]);
      strides[x] = steps[i];
    });
    return { slice: { begin, end, strides } };
  }
  return {};
}

/** ONNX weight layouts → XIR's [OC, KH, KW, IC] (dense: [OC, IC]). */
function xirLayout(op: string, shape: readonly number[], v: Float32Array, transB: boolean): { shape: number[]; values: Float32Array } {
  if (shape.length === 4) {
    // Conv: [OC, IC, KH, KW]; ConvTranspose: [IC, OC, KH, KW].
    const [a, b, kh, kw] = shape;
    const [oc, ic] = op === 'ConvTranspose' ? [b, a] : [a, b];
    const out = new Float32Array(v.length);
    for (let o = 0; o < oc; o++)
      for (let i = 0; i < ic; i++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++) {
            const src = op === 'ConvTranspose' ? ((i * oc + o) * kh + y) * kw + x : ((o * ic + i) * kh + y) * kw + x;
            out[((o * kh + y) * kw + x) * ic + i] = v[src];
          }
    return { shape: [oc, kh, kw, ic], values: out };
  }
  if (shape.length === 2 && !transB) {
    const [ic, oc] = shape;
    const out = new Float32Array(v.length);
    for (let i = 0; i < ic; i++) for (let o = 0; o < oc; o++) out[o * ic + i] = v[i * oc + o];
    return { shape: [oc, ic], values: out };
  }
  return { shape: [...shape], values: v };
}
