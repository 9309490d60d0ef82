// `<model>_dpu.npz`: what the NumPy stand-in for the board runner (dpu_standin.py, see standin-py.ts) needs
// to run each DPU subgraph in int8 without a DPU: the layers in order with their integer parameters (int8
// weights in XIR layout [OC, KH, KW, IC/group], int32 biases, every fix point, the shifts of
// docs/simulator.md) and the ports of each subgraph. A sidecar rather than the `_int.xmodel`: the int
// xmodel holds float ops that vai_c_xir still has to partition, so reading it would mean re-doing the
// partition in Python; the npz carries this compile's partition and needs only NumPy to read.
import { InputError } from '../errors';
import { attr, attrInt, attrInts, type ConstTensor, type Model } from '../ir';
import { constantTensor } from '../onnx/shapes';
import { toFloat64 } from '../onnx/values';
import { writeNpz, type NdArray } from '../data/npy';
import { isDpuHardSigmoid } from '../quant/dpu-ops';
import { avgPoolFactor } from '../sim/dpu/kernels';
import { codes, compileForSim, floorNearest } from '../sim/dpu/placed';
import type { CompileResult, Conversions, Target } from './index';
import { convertedActivation, type Layer } from './layer';
import { isAccelerator, type PlacedLayer } from './partition';

const numel = (s: readonly number[]) => s.reduce((a, x) => a * x, 1);

/** NHWC (the DPU's layout) → the source model's NCHW; other ranks unchanged. */
const sourceShape = (s: readonly number[]) => (s.length === 4 ? [s[0], s[3], s[1], s[2]] : [...s]);

type Act = { type: 'none' | 'relu' | 'relu6' | 'leaky'; relu6_max?: number } | { type: 'hsigmoid' | 'hswish'; fp_pre: number };

export interface StandinOp {
  readonly type: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly output: string;
  /** NHWC for 4-D maps. */
  readonly out_shape: readonly number[];
  readonly fp_out: number;
  readonly [k: string]: unknown;
}

export interface StandinSubgraph {
  readonly name: string;
  readonly inputs: readonly { name: string; shape: readonly number[]; fix_point: number }[];
  readonly outputs: readonly { name: string; shape: readonly number[]; fix_point: number }[];
  readonly ops: readonly StandinOp[];
}

export interface StandinProgram {
  readonly format: 'fixpoint-dpu-standin';
  readonly version: 1;
  readonly target: string;
  readonly subgraphs: readonly StandinSubgraph[];
}

/**
 * The stand-in program of a QDQ model (power-of-two scales) for `target`, and the compile it follows (the
 * one the deployment scripts are generated from, so tensor and subgraph names match).
 */
export function standinProgram(qdq: Model, target: Target, conversions?: Conversions): { compile: CompileResult; program: StandinProgram; arrays: Record<string, NdArray> } {
  const { dq, compile, src0, placedOf, nodeByName, fpOfPlaced } = compileForSim(qdq, target, conversions);
  const L = compile.layers;
  const inputsOf = (p: PlacedLayer) => p.layer.inputs.map((id) => placedOf.get(id)!);

  const arrays: Record<string, NdArray> = {};
  const fps = new Map<string, number>();
  const subgraphs: StandinSubgraph[] = [];
  let convCount = 0;
  let constCount = 0;
  const constOf = (t: string): ConstTensor | undefined => {
    const c = dq.float.graph.initializers.get(t);
    if (c) return c;
    const n = dq.float.graph.nodes.find((x) => x.opType === 'Constant' && x.outputs[0] === t);
    return n ? constantTensor(n) : undefined;
  };
  for (const sg of compile.subgraphs) {
    if (!isAccelerator(sg.device)) continue;
    const ops: StandinOp[] = [];
    for (const pi of sg.layers) {
      const p = L[pi];
      const l = p.layer;
      const what = `${l.op} ${l.name}`;
      const fpOut = fpOfPlaced(pi);
      if (fpOut === undefined) throw new InputError(`${what}: its output "${l.tensor}" has no fix point`);
      const ins = inputsOf(p).map((i) => {
        const t = L[i].layer.tensor;
        if (!fps.has(t)) {
          const fp = fpOfPlaced(i);
          if (fp === undefined) throw new InputError(`${what}: input "${t}" has no fix point (no QuantizeLinear on it)`);
          fps.set(t, fp);
        }
        return { name: t, fp: fps.get(t)!, shape: L[i].layer.shape };
      });
      fps.set(l.tensor, fpOut);
      const converted = convertedActivation(l.activation, compile.conversions);
      if (converted !== l.activation)
        throw new InputError(`${what}: its ${l.activation!.type} runs on the ${target.device} only as ${converted!.type}; quantize with that conversion enabled so the QDQ model computes it`);
      for (const m of p.members) {
        const n = nodeByName.get(src0[m].name);
        if (n?.opType === 'HardSigmoid' && !isDpuHardSigmoid(n))
          throw new InputError(`${n.opType} ${n.name}: alpha ${attr(n, 'alpha', 'float') ?? 0.2}, beta ${attr(n, 'beta', 'float') ?? 0.5} is not the DPU's hard-sigmoid (1/6, 1/2)`);
      }
      const base = { name: l.name, inputs: ins.map((i) => i.name), output: l.tensor, out_shape: l.shape, fp_out: fpOut, fp_in: ins.map((i) => i.fp) };
      const act = (): Act => {
        const a = l.activation;
        if (!a) return { type: 'none' };
        if (a.type === 'relu') return { type: 'relu' };
        if (a.type === 'relu6') return { type: 'relu6', relu6_max: Math.min(127, Math.floor(6 * 2 ** fpOut + 0.5)) };
        if (a.type === 'leaky_relu') {
          if (Math.abs((a.alpha ?? 0.01) - 26 / 256) > 1e-6) throw new InputError(`${what}: LeakyReLU slope ${a.alpha} ≠ 26/256`);
          return { type: 'leaky' };
        }
        if (a.type === 'hard_sigmoid' || a.type === 'hard_swish') {
          const pre = src0[l.id];
          const fpPre = pre.fixPoint ?? dq.tensors.get(pre.tensor)?.fixPoint;
          if (fpPre === undefined) throw new InputError(`${what}: the input of its hard-sigmoid/hard-swish has no fix point`);
          return { type: a.type === 'hard_sigmoid' ? 'hsigmoid' : 'hswish', fp_pre: fpPre };
        }
        throw new InputError(`${what}: fused ${a.type} is not a DPU nonlinearity`);
      };
      switch (l.kind) {
        case 'conv': case 'depthwise': case 'dense': case 'deconv': {
          ops.push({ ...base, ...convParams(l, ins[0].shape, ins[0].fp, convCount++, arrays, what), act: act() } as StandinOp);
          break;
        }
        case 'pool': {
          const [kh, kw] = l.kernel ?? [ins[0].shape[1], ins[0].shape[2]];
          const { n, m } = avgPoolFactor(kh, kw);
          ops.push({ ...base, type: l.poolType === 'max' ? 'maxpool' : 'avgpool', kernel: [kh, kw], stride: l.stride ?? [1, 1], pad: l.pad ?? [0, 0, 0, 0], ...(l.poolType === 'max' ? {} : { n, m }) });
          break;
        }
        case 'eltwise': {
          const node = nodeByName.get(l.name);
          if (l.constOperand && node && ins.length === 1 && !l.activation) {
            // With a constant (a scale, an offset): the float op on the exact reals, rounded once at fp_out.
            const at = node.inputs.findIndex((t) => t && constOf(t));
            const c = constOf(node.inputs[at])!;
            const key = `c${constCount++}`;
            arrays[key] = { dtype: 'float32', shape: [...c.shape], data: Float32Array.from(toFloat64(c)) };
            ops.push({ ...base, type: 'eltwise_const', op: l.eltwise ?? 'add', const: key, const_first: at === 0 });
            break;
          }
          if (l.eltwise !== 'add' || l.constOperand || ins.length !== 2 || numel(ins[0].shape) !== numel(l.shape) || numel(ins[1].shape) !== numel(l.shape))
            throw new InputError(`${what}: only an add of two same-shape feature maps or an op with a constant runs in the NumPy stand-in`);
          ops.push({ ...base, type: 'add', act: act() });
          break;
        }
        case 'activation': {
          // Not fused: the DPU form on the exact reals, rounded once at fp_out (the simulator's float kernels).
          const a = l.activation;
          if (a?.type === 'relu' || a?.type === 'relu6' || a?.type === 'hard_sigmoid' || a?.type === 'hard_swish') {
            ops.push({ ...base, type: 'activation', act: a.type });
          } else if (a?.type === 'leaky_relu' && Math.abs((a.alpha ?? 0.01) - 26 / 256) < 1e-6) {
            ops.push({ ...base, type: 'activation', act: 'leaky_relu' });
          } else if (a?.type === 'clip') {
            ops.push({ ...base, type: 'activation', act: 'clip', min: a.min ?? null, max: a.max ?? null });
          } else {
            throw new InputError(`${what}: a standalone ${a?.type ?? 'activation'} has no NumPy stand-in`);
          }
          break;
        }
        case 'pad': {
          const node = nodeByName.get(l.name);
          const pads = node ? (attrInts(node, 'pads') ?? (node.inputs[1] && constOf(node.inputs[1]) ? Array.from(toFloat64(constOf(node.inputs[1])!)) : undefined)) : undefined;
          const value = node?.inputs[2] && constOf(node.inputs[2]) ? toFloat64(constOf(node.inputs[2])!)[0] : attr(node!, 'value', 'float') ?? 0;
          const rank = sourceShape(l.shape).length;
          if (!node || (attr(node, 'mode', 'string') ?? 'constant') !== 'constant' || value !== 0 || !pads || pads.length !== 2 * rank || node.inputs[3])
            throw new InputError(`${what}: only a zero Pad over every axis runs in the NumPy stand-in`);
          ops.push({ ...base, type: 'pad', pads: Array.from({ length: rank }, (_v, i) => [pads[i], pads[i + rank]]) });
          break;
        }
        case 'concat': {
          const node = nodeByName.get(l.name);
          const axis = node ? attrInt(node, 'axis', 1) : 1;
          const rank = sourceShape(l.shape).length;
          ops.push({ ...base, type: 'concat', axis: axis < 0 ? axis + rank : axis });
          break;
        }
        case 'upsample': {
          const u = l.upsample;
          const node = nodeByName.get(l.name);
          if (node && u?.mode === 'bilinear' && ins[0].shape.length === 4 && (!u.coordinate || LINEAR_MODES.has(u.coordinate))) {
            // Dyadic weights on exact int8 reals, rounded once at fp_out (as the simulator's float kernel).
            ops.push({ ...base, type: 'resize_linear', mode: u.coordinate ?? (u.alignCorners ? 'align_corners' : 'half_pixel') });
            break;
          }
          if (!node || !u || u.mode !== 'nearest' || !Number.isInteger(u.scaleH) || !Number.isInteger(u.scaleW) || !floorNearest(node))
            throw new InputError(`${what}: only nearest upsampling by integer factors and bilinear resizes run in the NumPy stand-in`);
          ops.push({ ...base, type: 'upsample', scale: [u.scaleH, u.scaleW] });
          break;
        }
        case 'reshape': {
          const node = nodeByName.get(l.name);
          if (!node || !/^(Reshape|Flatten|Squeeze|Unsqueeze)$/.test(node.opType) || ins.length !== 1 || numel(ins[0].shape) !== numel(l.shape))
            throw new InputError(`${what}: this reshape does not run in the NumPy stand-in`);
          ops.push({ ...base, type: 'reshape' });
          break;
        }
        default:
          throw new InputError(`${what}: a ${l.kind} layer on the ${target.device} has no NumPy stand-in`);
      }
    }
    const port = (x: { name: string; shape: readonly number[] }) => {
      const fp = fps.get(x.name);
      if (fp === undefined) throw new InputError(`DPU subgraph ${sg.name}: tensor "${x.name}" has no fix point`);
      return { name: x.name, shape: x.shape, fix_point: fp };
    };
    subgraphs.push({ name: sg.name, inputs: sg.inputs.map(port), outputs: sg.outputs.map(port), ops });
  }
  return { compile, program: { format: 'fixpoint-dpu-standin', version: 1, target: target.name, subgraphs }, arrays };
}

const LINEAR_MODES = new Set(['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric']);

/** Weights and shifts of a conv/depthwise/dense layer; its int8 weights and int32 bias go into `arrays`. */
function convParams(l: Layer, inShape: readonly number[], fpIn: number, index: number, arrays: Record<string, NdArray>, what: string) {
  if (!l.weights) throw new InputError(`${what}: no constant weights`);
  const [wT, bT] = l.weights();
  if (wT.fixPoint === undefined) throw new InputError(`${what}: weights "${wT.name}" are not quantized (no DequantizeLinear with a power-of-two scale)`);
  const dense = l.kind === 'dense';
  const C = inShape.length === 4 ? inShape[3] : inShape[inShape.length - 1];
  const oc = l.shape[l.shape.length - 1];
  const [kh, kw] = dense ? [1, 1] : l.kernel ?? [1, 1];
  const group = dense ? 1 : l.group ?? 1;
  if (wT.values.length !== oc * kh * kw * (C / group)) throw new InputError(`${what}: ${wT.values.length} weights for ${oc}×${kh}×${kw}×${C / group}`);
  const wKey = `w${index}`;
  arrays[wKey] = { dtype: 'int8', shape: [oc, kh, kw, C / group], data: Int8Array.from(codes(wT.values, wT.fixPoint, `${what} weights`, -128, 127)) };
  const S = fpIn + wT.fixPoint;
  let bKey: string | null = null;
  let fpB: number | null = null;
  if (bT) {
    if (bT.fixPoint === undefined) throw new InputError(`${what}: bias "${bT.name}" is not quantized`);
    bKey = `b${index}`;
    fpB = bT.fixPoint;
    arrays[bKey] = { dtype: 'int32', shape: [oc], data: Int32Array.from(codes(bT.values, bT.fixPoint, `${what} bias`, -(2 ** 31), 2 ** 31 - 1)) };
  }
  return {
    type: 'conv', kind: l.kind, weights: wKey, bias: bKey, fp_w: wT.fixPoint, fp_b: fpB, fp_acc: S,
    kernel: [kh, kw], stride: dense ? [1, 1] : l.stride ?? [1, 1], dilation: dense ? [1, 1] : l.dilation ?? [1, 1],
    pad: dense ? [0, 0, 0, 0] : l.pad ?? [0, 0, 0, 0], group,
  };
}

/** The npz: `program` (the JSON, utf-8 bytes) and the weight arrays it names. */
export function standinNpz(s: { program: StandinProgram; arrays: Record<string, NdArray> }): Uint8Array {
  const bytes = new TextEncoder().encode(JSON.stringify(s.program));
  return writeNpz({ ...s.arrays, program: { dtype: 'uint8', shape: [bytes.length], data: bytes } });
}
