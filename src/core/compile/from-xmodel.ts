// XIR quantizer output (`*_int.xmodel`: float ops + fix ops under one root subgraph) → layers.
import {
  inputOps, opFixPoint, xBool, xBytes, xInt, xInts, xString, type XModel, type XOp,
} from '../xmodel/types';
import { LayerBuilder, type LayerGraph } from './builder';
import type { Activation, Layer, LayerKind, WeightTensor } from './layer';

type Draft = Parameters<LayerBuilder['add']>[0];

function hw(v: readonly number[] | undefined): [number, number] | undefined {
  // XIR writes kernel/stride/dilation as {w, h}.
  return v && v.length >= 2 ? [v[1], v[0]] : undefined;
}

function padOf(op: XOp): [number, number, number, number] | undefined {
  const p = xInts(op.attrs, 'pad'); // {left, right, top, bottom}
  return p && p.length >= 4 ? [p[2], p[0], p[3], p[1]] : undefined;
}

const ACTIVATIONS: Record<string, Activation['type']> = {
  relu: 'relu', relu6: 'relu6', 'leaky-relu': 'leaky_relu', leaky_relu: 'leaky_relu', prelu: 'prelu',
  'hard-sigmoid': 'hard_sigmoid', hsigmoid: 'hard_sigmoid', 'hard-swish': 'hard_swish', hswish: 'hard_swish',
  sigmoid: 'sigmoid', swish: 'silu', tanh: 'tanh', gelu: 'gelu', exp: 'exp', softmax: 'softmax', clamp: 'clip',
};

const ELTWISE: Record<string, 'add' | 'sub' | 'mul' | 'div'> = { add: 'add', sub: 'sub', mul: 'mul', div: 'div' };

export function layersFromXModel(m: XModel): LayerGraph {
  const ops = new Map(m.ops.map((o) => [o.name, o]));
  const b = new LayerBuilder();
  // A const, or a fix of a const: weights folded into their consumer.
  const isConst = (name: string): boolean => {
    const o = ops.get(name);
    if (!o) return false;
    if (o.type === 'const' || o.type === 'const-fix') return true;
    return o.type === 'fix' && o.args.length > 0 && o.args[0].ops.length === 1 && isConst(o.args[0].ops[0]);
  };
  const constOps = (name: string): string[] => {
    const o = ops.get(name)!;
    return o.type === 'fix' ? [name, ...constOps(o.args[0].ops[0])] : [name];
  };
  // Real weight values of a const (float data) or const-fix (int8 data × 2^-fp), with the fix point.
  const weightOf = (role: 'weights' | 'bias', name: string): WeightTensor => {
    let o = ops.get(name)!;
    let fixPoint = opFixPoint(o);
    while (o.type === 'fix') { o = ops.get(o.args[0].ops[0])!; fixPoint ??= opFixPoint(o); }
    const data = xBytes(o.attrs, 'data') ?? new Uint8Array(0);
    const n = o.output.shape.reduce((a, x) => a * x, 1);
    let values: Float32Array;
    if (o.type === 'const-fix' && data.length === n) {
      const scale = 2 ** -(fixPoint ?? 0);
      values = Float32Array.from(new Int8Array(data.buffer, data.byteOffset, n), (q) => q * scale);
    } else if (data.length === n * 4) {
      values = new Float32Array(n);
      new Uint8Array(values.buffer).set(data);
    } else {
      values = new Float32Array(0); // the compiled files keep weights in the subgraph's parameter blob
    }
    return { name: o.name, role, shape: o.output.shape, values, fixPoint };
  };
  const consumers = new Map<string, number>();
  for (const o of m.ops) for (const i of inputOps(o)) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const returnOps = m.attrs.return_ops?.kind === 'string_vec' ? m.attrs.return_ops.value : [];
  const outputNames = returnOps.length ? returnOps : m.ops.filter((o) => !consumers.has(o.name) && !isConst(o.name)).map((o) => o.name);
  const outputSet = new Set(outputNames);
  let quantized = false;

  for (const o of m.ops) {
    if (isConst(o.name)) continue;
    const ins = inputOps(o);
    if (o.type === 'fix' || o.type === 'float2fix' || o.type === 'fix2float' || o.type === 'upload' || o.type === 'download') {
      const fp = xInt(o.attrs, 'fix_point') ?? xInt(o.output.attrs, 'fix_point');
      if (fp !== undefined) {
        quantized = true;
        b.setFixPoint(ins[0], fp);
      }
      // A graph output's final fix becomes the output conversion layer (the compiler's fix2float).
      b.addAlias(o.name, ins[0], outputSet.has(o.name) ? undefined : o.name);
      continue;
    }
    const featureIns = ins.filter((i) => !isConst(i));
    const weightOps = ins.filter(isConst).flatMap(constOps);
    const weightElements = ins.filter(isConst).reduce((s, i) => s + ops.get(i)!.output.shape.reduce((a, x) => a * x, 1), 0);
    const shape = o.output.shape;
    const inShape = featureIns.length ? ops.get(featureIns[0])?.output.shape ?? [] : [];
    const constArgs = o.args.filter((a) => a.name === 'weights' || a.name === 'bias').flatMap((a) => a.ops.map((n) => [a.name, n] as const));
    // XIR ops are NHWC already: their axis, order and slice attributes are the layers' own.
    const begin = xInts(o.attrs, 'begin'), end = xInts(o.attrs, 'end'), strides = xInts(o.attrs, 'strides');
    const axis = o.type === 'concat' || o.type === 'concat-fix' || o.type === 'softmax' ? xInt(o.attrs, 'axis') : undefined;
    const params = {
      ...(axis !== undefined ? { axis: axis < 0 ? axis + shape.length : axis } : {}),
      ...(o.type === 'transpose' && xInts(o.attrs, 'order') ? { order: xInts(o.attrs, 'order') } : {}),
      ...(o.type === 'strided_slice' && begin && end && strides ? { slice: { begin, end, strides } } : {}),
    };
    const base = {
      ...params,
      name: o.name, op: o.type, sourceOps: [o.name, ...weightOps], inputs: featureIns, shape, tensor: o.name,
      weightElements, fixPoint: xInt(o.output.attrs, 'fix_point'),
      weights: constArgs.length ? () => constArgs.map(([role, n]) => weightOf(role as 'weights' | 'bias', n)) : undefined,
    };
    let d: Draft;
    const t = o.type.replace(/-fix$/, '');
    const ic = xInt(o.attrs, 'in_dim') ?? inShape[inShape.length - 1];
    const oc = xInt(o.attrs, 'out_dim') ?? shape[shape.length - 1];
    const conv = {
      kernel: hw(xInts(o.attrs, 'kernel')), stride: hw(xInts(o.attrs, 'stride')),
      dilation: hw(xInts(o.attrs, 'dilation')), pad: padOf(o), inChannels: ic, outChannels: oc,
    };
    if (t === 'data') {
      d = { ...base, kind: 'input', inputs: [] };
    } else if (t === 'conv2d' || t === 'depthwise-conv2d' || t === 'transposed-conv2d' || t === 'transposed-depthwise-conv2d') {
      const group = xInt(o.attrs, 'group') ?? 1;
      const kind: LayerKind = t.startsWith('transposed') ? 'deconv'
        : t === 'depthwise-conv2d' || (group > 1 && group === ic) ? 'depthwise' : 'conv';
      d = { ...base, kind, ...conv, group };
      const nl = xString(o.attrs, 'nonlinear');
      if (nl && nl !== 'NONE') d = { ...d, activation: { type: ACTIVATIONS[nl.toLowerCase().replace('_', '-')] ?? 'relu' } };
    } else if (t === 'inner-product' || t === 'matmul' || t === 'dense') {
      d = { ...base, kind: featureIns.length === 1 ? 'dense' : 'other', inChannels: ic, outChannels: oc };
    } else if (t === 'maxpool2d' || t === 'avgpool2d' || t === 'pool') {
      const poolType = t === 'avgpool2d' || xString(o.attrs, 'type') === 'AVG' ? 'avg' : 'max';
      d = { ...base, kind: 'pool', poolType, ...conv, inChannels: ic, outChannels: ic };
    } else if ((t === 'reduction_max' || t === 'reduction_mean') && inShape.length === 4) {
      // A reduction over H or W of an NHWC map with kept dims is a pool whose kernel spans that axis.
      const axes = (xInts(o.attrs, 'axis') ?? []).map((a) => (a < 0 ? a + 4 : a));
      const kh = axes.includes(1) ? inShape[1] : 1;
      const kw = axes.includes(2) ? inShape[2] : 1;
      const poolable = axes.length > 0 && axes.every((a) => a === 1 || a === 2) && xBool(o.attrs, 'keep_dims') !== false;
      d = poolable
        ? { ...base, kind: 'pool', poolType: t === 'reduction_max' ? 'max' : 'avg', kernel: [kh, kw], stride: [1, 1], inChannels: ic, outChannels: ic }
        : { ...base, kind: 'other' };
    } else if (ACTIVATIONS[t]) {
      const alpha = o.attrs.alpha ? xInt(o.attrs, 'alpha') : undefined;
      d = { ...base, kind: 'activation', activation: { type: ACTIVATIONS[t], alpha: t.includes('leaky') ? alpha ?? 0.01 : undefined } };
      if (t === 'softmax' || t === 'exp') d = { ...d, kind: 'other', activation: undefined };
    } else if (ELTWISE[t] || t === 'eltwise') {
      const e = ELTWISE[t] ?? (xString(o.attrs, 'type')?.toLowerCase() as 'add' | 'mul') ?? 'add';
      d = { ...base, kind: 'eltwise', eltwise: e, constOperand: ins.some(isConst) || featureIns.length < 2 };
    } else if (t === 'concat') {
      d = { ...base, kind: 'concat' };
    } else if (t === 'upsample' || t === 'resize') {
      const mode = (xString(o.attrs, 'mode') ?? 'NEAREST').toUpperCase() === 'BILINEAR' ? 'bilinear' : 'nearest';
      d = {
        ...base, kind: 'upsample',
        upsample: inShape.length === 4 && shape.length === 4
          ? { scaleH: shape[1] / inShape[1], scaleW: shape[2] / inShape[2], mode, alignCorners: xBool(o.attrs, 'align_corners') ?? false }
          : undefined,
      };
    } else if (t === 'reshape' || t === 'flatten' || t === 'squeeze') {
      d = { ...base, kind: 'reshape' };
    } else if (t === 'pad') {
      d = { ...base, kind: 'pad' };
    } else {
      d = { ...base, kind: 'other' };
    }
    b.add(d as Draft);
  }
  const outputs = outputNames.map((n) => ({ tensor: n, op: ops.get(n)?.type === 'fix' ? n : undefined }));
  const g = b.finish(m.name, outputs, quantized, m.ops.map((o) => ({ name: o.name, type: o.type })));
  return m.opDefs ? { ...g, opDefs: m.opDefs } : g;
}

export type { Layer };
