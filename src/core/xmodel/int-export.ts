// A quantized layer graph as the quantizer's `<model>_int.xmodel`, the file vai_q writes and vai_c_xir
// reads: one root subgraph, float XIR ops, `data` → `fix` per input, `const` (float32 weights) → `fix` per
// weight and bias, and each op followed by the `fix` that holds its output's fix point (layout of
// pointpillars_int.xmodel). Ops must satisfy XIR's op definitions (opdef-check.ts); a layer with no XIR
// float form is refused by name rather than written as something vai_c_xir would reject.
import type { LayerGraph } from '../compile/builder';
import { layersFromOnnx } from '../compile/from-onnx';
import type { Layer, WeightTensor } from '../compile/layer';
import { InputError } from '../errors';
import { attr, attrInt, attrInts, type Model, type Node } from '../ir';
import { inferShapes } from '../onnx/shapes';
import { toFloat64 } from '../onnx/values';
import { XIR_OP_DEFS } from './opdef-check';
import type { XAttr, XAttrs, XModel, XOp, XOpDef } from './types';

const i32 = (v: number): XAttr => ({ kind: 'int32', value: v });
const i32v = (v: readonly number[]): XAttr => ({ kind: 'int32_vec', value: v });
const str = (v: string): XAttr => ({ kind: 'string', value: v });
const bool = (v: boolean): XAttr => ({ kind: 'bool', value: v });
const dims = (shape: readonly number[]) => shape.map((d) => Math.max(1, Math.round(d)));

const fixAttrs = (fp: number): XAttrs => ({
  fix_point: i32(fp), bit_width: i32(8), if_signed: bool(true), round_mode: str('DPU_ROUND'),
});

const ACT: Record<string, string> = {
  relu: 'relu', relu6: 'relu6', leaky_relu: 'leaky-relu', hard_sigmoid: 'hard-sigmoid', hard_swish: 'hard-swish',
  sigmoid: 'sigmoid', tanh: 'tanh', gelu: 'gelu',
};

/** NCHW axis → NHWC axis for 4-D maps (layers keep 4-D shapes NHWC). */
const NHWC_AXIS = [0, 3, 1, 2];

export interface IntXModelSource {
  /** The ONNX model the layers came from: attributes layers do not keep (Concat axis, Transpose perm, Softmax axis). */
  readonly onnx?: Model;
  /** The XIR model the layers came from: ops with no layer form (custom ops) are written back as they were. */
  readonly xmodel?: XModel;
}

export function intXModel(g: LayerGraph, src: IntXModelSource = {}): XModel {
  const ops: XOp[] = [];
  // Layer names are kept; an inserted op (fix, const) takes a suffix rather than a layer's name.
  const reserved = new Set(g.layers.filter((l) => l.kind !== 'output').map((l) => l.name));
  const written = new Set<string>();
  const unique = (n: string, own = false) => {
    let x = n;
    for (let i = 1; written.has(x) || (!own && reserved.has(x)); i++) x = `${n}_${i}`;
    written.add(x);
    return x;
  };
  const onnxNode = new Map<string, Node>((src.onnx?.graph.nodes ?? []).map((n) => [n.name, n]));
  const xop = new Map((src.xmodel?.ops ?? []).map((o) => [o.name, o]));
  const byId = new Map(g.layers.map((l) => [l.id, l]));
  /** What readers of a layer name as their input: its fix when it has a fix point, else the op. */
  const readAs = new Map<number, string>();
  const returnOps: string[] = [];

  const emit = (op: XOp) => { ops.push(op); return op.name; };
  const floatOut = (name: string, shape: readonly number[]) => ({ name, shape: dims(shape), dataType: 'FLOAT' as const, bitWidth: 32, attrs: {} });
  const fixOf = (input: string, shape: readonly number[], fp: number) => {
    const name = unique(`${input}_fix`);
    return emit({ name, type: 'fix', attrs: fixAttrs(fp), args: [{ name: 'input', ops: [input] }], output: floatOut(name, shape) });
  };
  const constOf = (w: WeightTensor, values = w.values) => {
    const name = unique(w.name);
    const data = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    emit({ name, type: 'const', attrs: { shape: i32v(dims(w.shape)), data_type: str('FLOAT32'), data: { kind: 'bytes', value: data } }, args: [], output: floatOut(name, w.shape) });
    return w.fixPoint === undefined ? name : fixOf(name, w.shape, w.fixPoint);
  };
  const inputsOf = (l: Layer) => l.inputs.map((id) => readAs.get(id)!);
  const refuse = (l: Layer, why: string): never => {
    throw new InputError(`cannot write ${l.name} (${l.op}) into an _int.xmodel: ${why}`);
  };

  /** Dense after a flatten of an NHWC map: its weight columns follow (h, w, c), the ONNX ones (c, h, w). */
  const denseWeights = (l: Layer, w: WeightTensor): Float32Array => {
    const prev = byId.get(l.inputs[0]);
    const from = prev && prev.kind === 'reshape' ? byId.get(prev.inputs[0]) : undefined;
    const s = from?.shape;
    if (!s || s.length !== 4 || !src.onnx || w.shape.length !== 2) return w.values;
    const [, h, wd, c] = s;
    const [oc, ic] = w.shape;
    if (h * wd * c !== ic || (h === 1 && wd === 1)) return w.values;
    const out = new Float32Array(w.values.length);
    for (let o = 0; o < oc; o++)
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < wd; x++) out[o * ic + (y * wd + x) * c + ch] = w.values[o * ic + (ch * h + y) * wd + x];
    return out;
  };

  for (const l of g.layers) {
    if (l.kind === 'output') { returnOps.push(readAs.get(l.inputs[0])!); continue; }
    const ins = inputsOf(l);
    const attrs: Record<string, XAttr> = {};
    const args: { name: string; ops: string[] }[] = ins.length ? [{ name: 'input', ops: ins }] : [];
    let type: string;
    const origin = xop.get(l.name);
    switch (l.kind) {
      case 'input': {
        type = 'data';
        attrs.shape = i32v(dims(l.shape));
        attrs.data_type = str('FLOAT32');
        break;
      }
      case 'conv': case 'depthwise': case 'deconv': {
        type = l.kind === 'deconv' ? 'transposed-conv2d' : l.kind === 'depthwise' ? 'depthwise-conv2d' : 'conv2d';
        const ws = l.weights?.() ?? [];
        const w = ws.find((x) => x.role === 'weights');
        if (!w || !w.values.length) refuse(l, 'its weights are not in the model');
        let wv = w!;
        if (l.kind === 'depthwise' && w!.shape.length === 4 && w!.shape[3] === 1) {
          // ONNX grouped conv [C, KH, KW, 1] → XIR depthwise [1, KH, KW, C] (multiplier first).
          const [c, kh, kw] = w!.shape;
          const v = new Float32Array(w!.values.length);
          for (let ch = 0; ch < c; ch++) for (let k = 0; k < kh * kw; k++) v[k * c + ch] = w!.values[ch * kh * kw + k];
          wv = { ...w!, shape: [1, kh, kw, c], values: v };
        }
        args.push({ name: 'weights', ops: [constOf(wv)] });
        const b = ws.find((x) => x.role === 'bias');
        if (b && b.values.length) args.push({ name: 'bias', ops: [constOf(b)] });
        const k = l.kernel ?? [1, 1], s = l.stride ?? [1, 1], d = l.dilation ?? [1, 1], p = l.pad ?? [0, 0, 0, 0];
        Object.assign(attrs, {
          kernel: i32v([k[1], k[0]]), stride: i32v([s[1], s[0]]), dilation: i32v([d[1], d[0]]),
          pad: i32v([p[1], p[3], p[0], p[2]]), pad_mode: str('FLOOR'),
        });
        if (type !== 'depthwise-conv2d') attrs.group = i32(l.group ?? 1);
        if (l.inChannels !== undefined) attrs.in_dim = i32(l.inChannels);
        if (l.outChannels !== undefined) attrs.out_dim = i32(l.outChannels);
        attrs.bias_term = bool(args.some((a) => a.name === 'bias'));
        break;
      }
      case 'dense': {
        type = 'inner-product';
        const ws = l.weights?.() ?? [];
        const w = ws.find((x) => x.role === 'weights');
        if (!w || !w.values.length) refuse(l, 'its weights are not in the model');
        args.push({ name: 'weights', ops: [constOf(w!, denseWeights(l, w!))] });
        const b = ws.find((x) => x.role === 'bias');
        if (b && b.values.length) args.push({ name: 'bias', ops: [constOf(b)] });
        attrs.axis = i32(1);
        break;
      }
      case 'pool': {
        if (origin?.type.startsWith('reduction_')) { type = origin.type; Object.assign(attrs, origin.attrs); break; }
        type = l.poolType === 'avg' ? 'avgpool2d' : 'maxpool2d';
        const k = l.kernel ?? [1, 1], s = l.stride ?? [1, 1], p = l.pad ?? [0, 0, 0, 0];
        Object.assign(attrs, { kernel: i32v([k[1], k[0]]), stride: i32v([s[1], s[0]]), pad: i32v([p[1], p[3], p[0], p[2]]), pad_mode: str('FLOOR') });
        const inS = byId.get(l.inputs[0])?.shape;
        if (inS && inS.length === 4 && k[0] === inS[1] && k[1] === inS[2] && s[0] === 1 && s[1] === 1 && p.every((x) => x === 0)) attrs.global = bool(true);
        if (type === 'avgpool2d') attrs.count_include_pad = bool(true);
        break;
      }
      case 'eltwise': {
        type = l.eltwise ?? 'add';
        if (l.constOperand || ins.length < 2) {
          const n = onnxNode.get(l.name);
          const c = n?.inputs.find((t) => t && !args[0].ops.includes(t) && src.onnx!.graph.initializers.has(t));
          const ct = c ? src.onnx!.graph.initializers.get(c) : undefined;
          if (!ct || ct.dtype !== 'float32') refuse(l, 'its constant operand is not a float32 initializer');
          args[0].ops.push(constOf({ name: ct!.name, role: 'weights', shape: ct!.shape.length ? ct!.shape : [1], values: ct!.values as Float32Array }));
        }
        break;
      }
      case 'concat': {
        type = 'concat';
        const n = onnxNode.get(l.name);
        const axis = origin ? Number((origin.attrs.axis as XAttr | undefined)?.value ?? 3) : n ? attrInt(n, 'axis', 1) : 1;
        const rank = l.shape.length;
        const a = axis < 0 ? axis + rank : axis;
        attrs.axis = i32(origin ? a : rank === 4 ? NHWC_AXIS[a] : a);
        break;
      }
      case 'upsample': {
        type = 'resize';
        const u = l.upsample;
        if (!u) refuse(l, 'its scale is unknown');
        attrs.mode = str(u!.mode === 'nearest' ? 'NEAREST' : 'BILINEAR');
        attrs.align_corners = bool(u!.alignCorners);
        attrs.half_pixel_centers = bool(u!.mode !== 'nearest' && !u!.alignCorners);
        attrs.scale = { kind: 'float_vec', value: [u!.scaleW, u!.scaleH] };
        break;
      }
      case 'reshape': {
        type = 'reshape';
        attrs.shape = i32v(dims(l.shape));
        const inS = byId.get(l.inputs[0])?.shape ?? [];
        // ONNX reshapes NCHW; the map here is NHWC. Unless only a dense reads it (its weights are permuted
        // instead) or the map is 1×1, go back to NCHW first, as vai_q's inserted transposes do.
        const readers = g.layers.filter((x) => x.inputs.includes(l.id));
        if (src.onnx && inS.length === 4 && l.shape.length !== 4 && inS[1] * inS[2] > 1 && inS[3] > 1 && !(readers.length && readers.every((x) => x.kind === 'dense'))) {
          const t = unique(`${l.name}_nchw`);
          emit({ name: t, type: 'transpose', attrs: { order: i32v([0, 3, 1, 2]) }, args: [{ name: 'input', ops: ins }], output: floatOut(t, [inS[0], inS[3], inS[1], inS[2]]) });
          args[0] = { name: 'input', ops: [t] };
        }
        break;
      }
      case 'activation': {
        const a = l.activation!;
        if (a.type === 'silu' && l.chain?.length === 2) {
          // Written as the source wrote it: sigmoid, then mul(x, sigmoid(x)).
          const sig = emit({ name: unique(l.chain[0].name, true), type: 'sigmoid', attrs: {}, args: [{ name: 'input', ops: ins }], output: floatOut(l.chain[0].name, l.shape) });
          type = 'mul';
          args[0] = { name: 'input', ops: [...ins, sig] };
          break;
        }
        const t = a.type === 'silu' ? 'swish' : ACT[a.type];
        if (!t) refuse(l, `XIR has no float op for ${a.type}`);
        type = t!;
        if (a.type === 'leaky_relu') attrs.alpha = { kind: 'float', value: a.alpha ?? 0.01 };
        break;
      }
      default: {
        if (origin) { type = origin.type; Object.assign(attrs, origin.attrs); args.length = 0; args.push(...origin.args.map((x) => ({ name: x.name, ops: x.ops.map((o) => readAsName(o)) }))); break; }
        const n = onnxNode.get(l.name);
        if (n?.opType === 'Transpose') {
          const perm = attrInts(n, 'perm') ?? [];
          const inS = byId.get(l.inputs[0])?.shape ?? [];
          // Both sides are stored NHWC when 4-D: order = NHWC(out) → NCHW perm → NHWC(in).
          const toOnnx = (r: number, i: number) => (r === 4 ? [0, 2, 3, 1][i] : i);
          const toX = (r: number, i: number) => (r === 4 ? NHWC_AXIS[i] : i);
          attrs.order = i32v(perm.map((_p, i) => toX(inS.length, perm[toOnnx(l.shape.length, i)])));
          type = 'transpose';
        } else if (n?.opType === 'Slice') {
          const inS = byId.get(l.inputs[0])?.shape ?? [];
          const r = inS.length;
          const starts = constInts(n.inputs[1]), ends = constInts(n.inputs[2]);
          const axes = n.inputs[3] ? constInts(n.inputs[3]) : starts?.map((_v, i) => i);
          const steps = n.inputs[4] ? constInts(n.inputs[4]) : starts?.map(() => 1);
          if (!starts || !ends || !axes || !steps) refuse(l, 'its starts/ends/axes/steps are not constants');
          const begin = inS.map(() => 0), end = [...inS], strides = inS.map(() => 1);
          axes!.forEach((a0, i) => {
            const a = a0 < 0 ? a0 + r : a0;
            const x = r === 4 ? NHWC_AXIS[a] : a;
            const d = inS[x];
            const clampIdx = (v: number) => Math.max(0, Math.min(d, v < 0 ? v + d : v));
            begin[x] = clampIdx(starts![i]);
            end[x] = clampIdx(ends![i]);
            strides[x] = steps![i];
          });
          Object.assign(attrs, { begin: i32v(begin), end: i32v(end), strides: i32v(strides) });
          type = 'strided_slice';
        } else if (n?.opType === 'Softmax') {
          const r = l.shape.length;
          const ax = attrInt(n, 'axis', -1);
          const a = ax < 0 ? ax + r : ax;
          attrs.axis = i32(r === 4 ? NHWC_AXIS[a] : a);
          type = 'softmax';
        } else {
          type = refuse(l, 'no XIR float op is generated for it yet');
        }
      }
    }
    const name = unique(l.kind === 'activation' && l.chain?.length === 2 ? l.chain[1].name : l.name, true);
    emit({ name, type, attrs, args, output: floatOut(name, l.shape) });
    readAs.set(l.id, l.fixPoint === undefined || l.fixInferred ? name : fixOf(name, l.shape, l.fixPoint));
    if (l.graphOutput && !g.layers.some((o) => o.kind === 'output' && o.inputs[0] === l.id)) returnOps.push(readAs.get(l.id)!);
  }

  /** Integer values of a constant input (an initializer or a Constant node), clamped to int32. */
  function constInts(name: string | undefined): number[] | undefined {
    if (!name || !src.onnx) return undefined;
    const c = src.onnx.graph.initializers.get(name)
      ?? (() => { const k = src.onnx!.graph.nodes.find((x) => x.opType === 'Constant' && x.outputs[0] === name); return k ? attr(k, 'value', 'tensor') : undefined; })();
    if (!c || c.dtype === 'string') return undefined;
    return Array.from(toFloat64(c), (v) => Math.max(-2147483648, Math.min(2147483647, v)));
  }

  function readAsName(opName: string): string {
    // A custom op's argument names a source op; the layer standing for it gives the op written for it.
    const l = g.layers.find((x) => x.name === opName || x.sourceOps.includes(opName));
    return l ? readAs.get(l.id) ?? opName : opName;
  }

  const used = new Set(ops.map((o) => o.type));
  const opDefs: XOpDef[] = (src.xmodel?.opDefs ?? []).filter((d) => used.has(d.name) && !XIR_OP_DEFS[d.name]);
  return {
    name: g.name || 'graph', ops,
    attrs: { return_ops: { kind: 'string_vec', value: returnOps } },
    root: { name: 'root', ops: ops.map((o) => o.name), attrs: {}, children: [] },
    ...(opDefs.length ? { opDefs } : {}),
  };
}

/** The `_int.xmodel` of a QDQ ONNX model (the Quantize step's export or a Vitis AI QDQ). */
export function intXModelOf(qdq: Model): XModel {
  // A model built in memory (the Quantize step's export) may lack the shapes a file read here gets.
  const valueInfo = new Map([...inferShapes(qdq.graph, qdq.opset), ...qdq.graph.valueInfo]);
  const m: Model = { ...qdq, graph: { ...qdq.graph, valueInfo } };
  return intXModel(layersFromOnnx(m), { onnx: m });
}
