// A quantizer `*_int.xmodel` (vai_q's output, or this tool's int-export) as the QDQ ONNX model it stands for,
// so the simulator, the fake-quant run and the CPU subgraphs read it like any power-of-two QDQ model:
// `fix` on an activation → QuantizeLinear/DequantizeLinear at 2^-fp (int8, zero point 0); `const` → `fix` →
// int8 codes (the fix's rounding) behind a DequantizeLinear; float XIR ops → their ONNX ops.
//
// Layout: XIR feature maps are NHWC, ONNX convs NCHW. Each XIR tensor is kept as an ONNX tensor plus a
// permutation `p` with xir = Transpose(onnx, p); a 4-D tensor a conv reads is NCHW (p = [0,2,3,1]). XIR
// transposes only change `p` (vai_q's NHWC↔NCHW pairs cancel), and a Transpose node is emitted only where an
// op needs another layout. So the model the `_int.xmodel` was exported from comes back with the same ops, and
// 4-D inputs and outputs are NCHW, the layout the source framework fed.
import { InputError } from '../errors';
import type { AttrValue, ConstTensor, Model, Node, TensorInfo } from '../ir';
import { ROUNDERS } from '../quant/fixpoint';
import { XIR_CUSTOM_DOMAIN } from '../sim/float/ops/custom';
import {
  inputOps, subgraphDevice, tensorFixPoint, xBool, xBytes, xInt, xInts, xString, type XModel, type XOp,
} from './types';

type Perm = readonly number[];
interface Placed { readonly t: string; readonly p: Perm }

const NHWC: Perm = [0, 2, 3, 1];
const ident = (r: number): Perm => Array.from({ length: r }, (_, i) => i);
const same = (a: Perm, b: Perm) => a.length === b.length && a.every((x, i) => x === b[i]);
/** Transpose(Transpose(x, p), q) = Transpose(x, compose(p, q)). */
const compose = (p: Perm, q: Perm): Perm => q.map((i) => p[i]);
const invert = (p: Perm): Perm => { const r = new Array<number>(p.length); p.forEach((x, i) => { r[x] = i; }); return r; };
const canonical = (rank: number): Perm => (rank === 4 ? NHWC : ident(rank));
const numel = (s: readonly number[]) => s.reduce((a, x) => a * x, 1);

/** Values of `x` (shape `shape`, row-major) transposed by `perm` (ONNX Transpose semantics). */
function permute<T extends Float32Array | Int8Array | Int32Array>(x: T, shape: readonly number[], perm: Perm, out: T): T {
  const r = shape.length;
  const outShape = perm.map((i) => shape[i]);
  const inStride = new Array<number>(r);
  for (let i = r - 1, s = 1; i >= 0; i--) { inStride[i] = s; s *= shape[i]; }
  const st = perm.map((i) => inStride[i]);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < r; k++) src += idx[k] * st[k];
    out[o] = x[src];
    for (let k = r - 1; k >= 0; k--) { if (++idx[k] < outShape[k]) break; idx[k] = 0; }
  }
  return out;
}

const ints = (v: readonly number[]): AttrValue => ({ kind: 'ints', value: v });
const int = (v: number): AttrValue => ({ kind: 'int', value: v });
const flt = (v: number): AttrValue => ({ kind: 'float', value: v });
const str = (v: string): AttrValue => ({ kind: 'string', value: v });

/** Where vai_c_xir's compiled file says it came from (`files_md5sum`), for the message that asks for it. */
export function compiledFrom(m: XModel): string {
  const a = m.attrs.files_md5sum;
  const paths = a && a.kind === 'map_string' ? Object.keys(a.value) : [];
  const base = (f: string) => f.split(/[\\/]/).pop()!;
  // The quantizer output first; vai_c_xir's own temporaries (under /tmp) last.
  const pick = paths.find((f) => /_int\.xmodel$/i.test(f)) ?? paths.find((f) => !f.startsWith('/tmp/')) ?? paths[0];
  return pick ? base(pick) : `${m.name || 'model'}_int.xmodel`;
}

/** Throws the one-line message for a compiled .xmodel (DPU machine code) given where a quantizer output belongs. */
export function refuseCompiled(m: XModel, label: string): void {
  if (!m.root.children.some((c) => subgraphDevice(c) !== undefined)) return;
  throw new InputError(`${label} is already compiled for a DPU (device subgraphs, machine code); simulate takes the quantizer output it was compiled from: ${compiledFrom(m)} (or a QDQ ONNX)`);
}

/** The QDQ ONNX model (opset 13) an `_int.xmodel` stands for. */
export function qdqFromIntXModel(m: XModel, label = 'the model'): Model {
  refuseCompiled(m, label);
  const ops = new Map(m.ops.map((o) => [o.name, o]));
  const nodes: Node[] = [];
  const inits = new Map<string, ConstTensor>();
  const inputs: TensorInfo[] = [];
  const valueInfo = new Map<string, TensorInfo>();
  const placed = new Map<string, Placed>();
  const consumers = new Map<string, XOp[]>();
  for (const o of m.ops) for (const i of inputOps(o)) consumers.set(i, [...(consumers.get(i) ?? []), o]);
  let k = 0;
  const uniq = (base: string) => `${base}__${k++}`;
  const node = (opType: string, ins: string[], out: string, attrs: Record<string, AttrValue> = {}, name = out): string => {
    nodes.push({ name, opType, domain: '', inputs: ins, outputs: [out], attrs });
    return out;
  };
  const init = (c: ConstTensor): string => { inits.set(c.name, c); return c.name; };
  const f32 = (name: string, shape: readonly number[], v: Float32Array) => init({ name, dtype: 'float32', shape: [...shape], values: v });
  const i64 = (name: string, v: readonly number[]) => init({ name, dtype: 'int64', shape: [v.length], values: BigInt64Array.from(v.map((x) => BigInt(x))) });
  const scaleOf = (fp: number) => (inits.has(`__scale_${fp}`) ? `__scale_${fp}` : f32(`__scale_${fp}`, [], Float32Array.of(2 ** -fp)));
  const zero8 = () => (inits.has('__zp_int8') ? '__zp_int8' : init({ name: '__zp_int8', dtype: 'int8', shape: [], values: Int8Array.of(0) }));
  const refuse = (o: XOp, why: string): never => { throw new InputError(`${label}: op ${o.name} (${o.type}): ${why}`); };
  const shapeOf = (name: string) => ops.get(name)!.output.shape;

  /** The ONNX tensor holding XIR op `name`'s output in layout `want` (xir = Transpose(result, want)). */
  const as = (name: string, want: Perm): string => {
    const x = placed.get(name);
    if (!x) throw new InputError(`${label}: op ${name} is read before it is computed`);
    if (same(x.p, want)) return x.t;
    const perm = compose(x.p, invert(want));
    if (same(perm, ident(perm.length))) return x.t;
    return node('Transpose', [x.t], `${x.t}__T${perm.join('')}`, { perm: ints(perm) });
  };
  const canon = (name: string) => as(name, canonical(shapeOf(name).length));

  // Constants: a const op, possibly behind a fix (weights, biases, constant operands).
  const isConst = (name: string): boolean => {
    const o = ops.get(name);
    if (!o) return false;
    if (o.type === 'const' || o.type === 'const-fix') return true;
    return o.type === 'fix' && o.args[0]?.ops.length === 1 && isConst(o.args[0].ops[0]);
  };
  /** A constant's real values (float32) and fix point, in XIR layout. */
  const constOf = (name: string): { values: Float32Array; shape: readonly number[]; fp?: number; bits: number; round: string } => {
    let o = ops.get(name)!;
    let fp: number | undefined;
    let bits = 8;
    let round = 'DPU_ROUND';
    while (o.type === 'fix') {
      fp ??= xInt(o.attrs, 'fix_point');
      bits = xInt(o.attrs, 'bit_width') ?? bits;
      round = xString(o.attrs, 'round_mode') ?? round;
      o = ops.get(o.args[0].ops[0])!;
    }
    const data = xBytes(o.attrs, 'data') ?? new Uint8Array(0);
    const n = numel(o.output.shape);
    if (o.type === 'const-fix' || (o.output.dataType !== 'FLOAT' && data.length === n)) {
      const ofp = fp ?? tensorFixPoint(o.output);
      if (ofp === undefined || data.length !== n) refuse(o, 'integer constant without a fix point');
      const q = new Int8Array(data.buffer, data.byteOffset, n);
      return { values: Float32Array.from(q, (v) => v * 2 ** -ofp!), shape: o.output.shape, fp: ofp, bits: 8, round };
    }
    if (data.length !== n * 4) refuse(o, `${data.length} bytes of data for float32 [${o.output.shape}]`);
    const values = new Float32Array(n);
    new Uint8Array(values.buffer).set(data);
    return { values, shape: o.output.shape, fp, bits, round };
  };
  /**
   * A constant as the ONNX model reads it: values in XIR layout, rearranged by `layout` (values, shape) →
   * ONNX values and shape; with a fix point, int codes behind a DequantizeLinear (the weights' Q/DQ form).
   */
  const constInput = (name: string, layout: (v: Float32Array, s: readonly number[]) => { v: Float32Array; s: readonly number[] }): string => {
    const c = constOf(name);
    const { v, s } = layout(c.values, c.shape);
    if (c.fp === undefined) return f32(uniq(name), s, v);
    const rounder = c.round === 'PY3_ROUND' ? ROUNDERS.half_even : c.round === 'STD_ROUND' ? (x: number) => Math.sign(x) * Math.floor(Math.abs(x) + 0.5) : (x: number) => Math.floor(x + 0.5);
    const wide = c.bits > 8;
    const hi = 2 ** (c.bits - 1) - 1, lo = -(2 ** (c.bits - 1));
    const q = wide ? new Int32Array(v.length) : new Int8Array(v.length);
    for (let i = 0; i < v.length; i++) q[i] = Math.min(hi, Math.max(lo, rounder(v[i] * 2 ** c.fp!)));
    if (wide && c.bits > 32) refuse(ops.get(name)!, `${c.bits}-bit constant`);
    const qn = init({ name: `${name}__q`, dtype: wide ? 'int32' : 'int8', shape: [...s], values: q });
    const zp = wide ? init({ name: '__zp_int32', dtype: 'int32', shape: [], values: Int32Array.of(0) }) : zero8();
    return node('DequantizeLinear', [qn, scaleOf(c.fp), zp], `${name}__dq${k++}`);
  };
  const asIs = (v: Float32Array, s: readonly number[]) => ({ v, s });
  const perm = (p: Perm) => (v: Float32Array, s: readonly number[]) => ({ v: permute(v, s, p, new Float32Array(v.length)), s: p.map((i) => s[i]) });

  /** A constant operand broadcast (NumPy rules, right-aligned) against a feature map placed with `p`. */
  const operand = (name: string, p: Perm) => constInput(name, (v, s) => {
    const full = [...new Array<number>(Math.max(0, p.length - s.length)).fill(1), ...s];
    if (full.length !== p.length) refuse(ops.get(name)!, `constant of rank ${s.length} against a rank-${p.length} map`);
    return perm(invert(p))(v, full);
  });

  const out = (o: XOp, t: string, p: Perm) => {
    placed.set(o.name, { t, p });
    // The shapes XIR gives, in ONNX layout (custom ops have no shape inference of their own).
    valueInfo.set(t, { name: t, dtype: 'float32', shape: invert(p).map((i) => o.output.shape[i]) });
  };
  const featureIns = (o: XOp) => inputOps(o).filter((i) => !isConst(i));
  const hw = (v: readonly number[] | undefined, d: number): [number, number] => (v && v.length >= 2 ? [v[1], v[0]] : [d, d]);
  const pads = (o: XOp): number[] => { const p = xInts(o.attrs, 'pad') ?? [0, 0, 0, 0]; return [p[2], p[0], p[3], p[1]]; };

  // Dense layers reading a flattened map take their weight columns in the order the XIR reshape flattened
  // (NHWC): when only dense layers read the flatten, ONNX flattens NCHW and the columns are permuted instead.
  const columnOrder = new Map<string, Int32Array>();

  for (const o of m.ops) {
    if (isConst(o.name)) continue;
    const t = o.type;
    const ins = featureIns(o);
    const shape = o.output.shape;
    switch (t) {
      case 'data': case 'data-fix': {
        const onnxShape = shape.length === 4 ? [shape[0], shape[3], shape[1], shape[2]] : [...shape];
        inputs.push({ name: o.name, dtype: 'float32', shape: onnxShape });
        out(o, o.name, canonical(shape.length));
        break;
      }
      case 'fix': {
        const fp = xInt(o.attrs, 'fix_point');
        if (fp === undefined) refuse(o, 'no fix_point');
        const bits = xInt(o.attrs, 'bit_width') ?? 8;
        if (bits !== 8) refuse(o, `${bits}-bit activations; the DPU simulator runs 8-bit tensors`);
        const x = placed.get(ins[0])!;
        const q = node('QuantizeLinear', [x.t, scaleOf(fp!), zero8()], `${o.name}__q`);
        out(o, node('DequantizeLinear', [q, scaleOf(fp!), zero8()], o.name), x.p);
        break;
      }
      case 'conv2d': case 'depthwise-conv2d': case 'transposed-conv2d': {
        const nl = xString(o.attrs, 'nonlinear');
        if (nl && nl !== 'NONE') refuse(o, `fused nonlinear ${nl} is not read yet`);
        const w = o.args.find((a) => a.name === 'weights')?.ops[0];
        const b = o.args.find((a) => a.name === 'bias')?.ops[0];
        if (!w) refuse(o, 'no weights');
        const inC = shapeOf(ins[0])[3];
        const [kh, kw] = hw(xInts(o.attrs, 'kernel'), 1);
        const attrs: Record<string, AttrValue> = {
          kernel_shape: ints([kh, kw]), strides: ints(hw(xInts(o.attrs, 'stride'), 1)),
          dilations: ints(hw(xInts(o.attrs, 'dilation'), 1)), pads: ints(pads(o)),
        };
        let wt: string;
        if (t === 'depthwise-conv2d') {
          // [M, KH, KW, C] → [C·M, 1, KH, KW], one group per input channel.
          wt = constInput(w!, (v, s) => { const r = perm([3, 0, 1, 2])(v, s); return { v: r.v, s: [s[3] * s[0], 1, s[1], s[2]] }; });
          attrs.group = int(inC);
        } else if (t === 'transposed-conv2d') {
          // [OC, KH, KW, IC] → ConvTranspose's [IC, OC, KH, KW].
          wt = constInput(w!, perm([3, 0, 1, 2]));
          attrs.group = int(xInt(o.attrs, 'group') ?? 1);
          if ((xInt(o.attrs, 'group') ?? 1) !== 1) refuse(o, 'grouped transposed conv');
          // XIR gives the output size; ONNX gets it as output_padding beyond the stride arithmetic.
          const [sh, sw] = hw(xInts(o.attrs, 'stride'), 1), [dh, dw] = hw(xInts(o.attrs, 'dilation'), 1), pd = pads(o);
          const inS = shapeOf(ins[0]);
          attrs.output_padding = ints([
            shape[1] - ((inS[1] - 1) * sh - pd[0] - pd[2] + dh * (kh - 1) + 1),
            shape[2] - ((inS[2] - 1) * sw - pd[1] - pd[3] + dw * (kw - 1) + 1)]);
        } else {
          wt = constInput(w!, perm([0, 3, 1, 2]));
          attrs.group = int(xInt(o.attrs, 'group') ?? 1);
        }
        const conv = node(t === 'transposed-conv2d' ? 'ConvTranspose' : 'Conv', [canon(ins[0]), wt, ...(b ? [constInput(b, asIs)] : [])], o.name, attrs);
        out(o, conv, NHWC);
        break;
      }
      case 'inner-product': {
        const w = o.args.find((a) => a.name === 'weights')?.ops[0];
        const b = o.args.find((a) => a.name === 'bias')?.ops[0];
        if (!w || ins.length !== 1 || shapeOf(ins[0]).length !== 2) refuse(o, 'only a dense layer on a [N, K] input with constant weights is read');
        const order = columnOrder.get(ins[0]);
        const wt = constInput(w!, (v, s) => {
          if (!order) return { v, s };
          const [oc, ic] = s;
          const r = new Float32Array(v.length);
          for (let i = 0; i < oc; i++) for (let j = 0; j < ic; j++) r[i * ic + j] = v[i * ic + order[j]];
          return { v: r, s };
        });
        out(o, node('Gemm', [as(ins[0], [0, 1]), wt, ...(b ? [constInput(b, asIs)] : [])], o.name, { transB: int(1) }), [0, 1]);
        break;
      }
      case 'maxpool2d': case 'avgpool2d': {
        const inS = shapeOf(ins[0]);
        // Global only when the output is one pixel (a padded same-size pool may carry the flag too).
        const global = xBool(o.attrs, 'global') === true && shape[1] === 1 && shape[2] === 1;
        const [kh, kw] = global ? [inS[1], inS[2]] : hw(xInts(o.attrs, 'kernel'), 1);
        const attrs: Record<string, AttrValue> = {
          kernel_shape: ints([kh, kw]), strides: ints(global ? [1, 1] : hw(xInts(o.attrs, 'stride'), 1)),
          pads: ints(global ? [0, 0, 0, 0] : pads(o)), ceil_mode: int(xString(o.attrs, 'pad_mode') === 'CEIL' ? 1 : 0),
        };
        if (t === 'avgpool2d') attrs.count_include_pad = int(1);
        out(o, node(t === 'avgpool2d' ? 'AveragePool' : 'MaxPool', [canon(ins[0])], o.name, attrs), NHWC);
        break;
      }
      case 'reduction_max': case 'reduction_mean': {
        const inS = shapeOf(ins[0]);
        const axes = (xInts(o.attrs, 'axis') ?? []).map((a) => (a < 0 ? a + inS.length : a));
        const keep = xBool(o.attrs, 'keep_dims') !== false;
        if (inS.length === 4 && keep && axes.length && axes.every((a) => a === 1 || a === 2)) {
          // Over H and/or W of a map with kept dims: the pool whose kernel spans those axes (as vai_c_xir reads it).
          const kernel = [axes.includes(1) ? inS[1] : 1, axes.includes(2) ? inS[2] : 1];
          const attrs: Record<string, AttrValue> = { kernel_shape: ints(kernel), strides: ints([1, 1]) };
          if (t === 'reduction_mean') attrs.count_include_pad = int(1);
          out(o, node(t === 'reduction_max' ? 'MaxPool' : 'AveragePool', [canon(ins[0])], o.name, attrs), NHWC);
        } else {
          const x = placed.get(ins[0])!;
          const r = node(t === 'reduction_max' ? 'ReduceMax' : 'ReduceMean', [x.t], o.name, { axes: ints(axes.map((a) => x.p[a])), keepdims: int(keep ? 1 : 0) });
          if (keep) out(o, r, x.p);
          else {
            // The kept axes in their order; `p` restricted to them.
            const kept = x.p.map((_, i) => i).filter((i) => !axes.includes(i)).map((i) => x.p[i]);
            const rank = [...kept].sort((a, b) => a - b);
            out(o, r, kept.map((a) => rank.indexOf(a)));
          }
        }
        break;
      }
      case 'relu': case 'relu6': case 'leaky-relu': case 'hard-sigmoid': case 'hard-swish': case 'sigmoid': case 'tanh': case 'swish': case 'exp': {
        const x = placed.get(ins[0])!;
        let r: string;
        if (t === 'relu6') r = node('Clip', [x.t, f32(uniq('zero'), [], Float32Array.of(0)), f32(uniq('six'), [], Float32Array.of(6))], o.name);
        else if (t === 'leaky-relu') r = node('LeakyRelu', [x.t], o.name, { alpha: flt(xInt(o.attrs, 'alpha') ?? 0.01) });
        else if (t === 'hard-sigmoid') r = node('HardSigmoid', [x.t], o.name, { alpha: flt(1 / 6), beta: flt(0.5) });
        else if (t === 'swish') r = node('Mul', [x.t, node('Sigmoid', [x.t], `${o.name}__sigmoid`)], o.name);
        else r = node({ relu: 'Relu', 'hard-swish': 'HardSwish', sigmoid: 'Sigmoid', tanh: 'Tanh', exp: 'Exp' }[t]!, [x.t], o.name);
        out(o, r, x.p);
        break;
      }
      case 'add': case 'mul': case 'sub': case 'div': {
        const all = inputOps(o);
        const first = ins[0];
        if (!first) refuse(o, 'no feature-map input');
        const p = placed.get(first)!.p;
        const operands = all.map((i) => (isConst(i) ? operand(i, p) : as(i, p)));
        if (operands.length !== 2) refuse(o, `${operands.length} operands (two are read)`);
        out(o, node({ add: 'Add', mul: 'Mul', sub: 'Sub', div: 'Div' }[t]!, operands, o.name), p);
        break;
      }
      case 'concat': {
        const p = placed.get(ins[0])!.p;
        const a = xInt(o.attrs, 'axis') ?? shape.length - 1;
        out(o, node('Concat', ins.map((i) => as(i, p)), o.name, { axis: int(p[a < 0 ? a + shape.length : a]) }), p);
        break;
      }
      case 'softmax': {
        const x = placed.get(ins[0])!;
        const a = xInt(o.attrs, 'axis') ?? -1;
        out(o, node('Softmax', [x.t], o.name, { axis: int(x.p[a < 0 ? a + shape.length : a]) }), x.p);
        break;
      }
      case 'resize': case 'upsample': {
        const inS = shapeOf(ins[0]);
        if (inS.length !== 4) refuse(o, 'resize of a non-4-D tensor');
        const mode = (xString(o.attrs, 'mode') ?? 'NEAREST').toUpperCase();
        const align = xBool(o.attrs, 'align_corners') === true;
        const half = xBool(o.attrs, 'half_pixel_centers') === true;
        const attrs: Record<string, AttrValue> = {
          mode: str(mode === 'BILINEAR' ? 'linear' : 'nearest'),
          coordinate_transformation_mode: str(align ? 'align_corners' : half ? 'half_pixel' : 'asymmetric'),
        };
        if (mode !== 'BILINEAR') attrs.nearest_mode = str(half ? 'round_prefer_floor' : 'floor');
        const scales = f32(uniq(`${o.name}_scales`), [4], Float32Array.of(1, 1, shape[1] / inS[1], shape[2] / inS[2]));
        out(o, node('Resize', [canon(ins[0]), '', scales], o.name, attrs), NHWC);
        break;
      }
      case 'reshape': case 'flatten': case 'squeeze': {
        const inS = shapeOf(ins[0]);
        const readers = consumers.get(o.name) ?? [];
        const x = placed.get(ins[0])!;
        if (inS.length === 4 && shape.length === 2 && shape[0] === inS[0] && x.p[0] === 0 && readers.length && readers.every((r) => r.type === 'inner-product')) {
          // Flatten NCHW here; the dense weights follow (columnOrder). Column j of the ONNX flatten is
          // element (c, h, w); the XIR reshape put it at the flat index of the same element in its layout.
          const onnxS = invert(x.p).map((i) => inS[i]);
          const xs = inS.slice(1);
          const order = new Int32Array(numel(xs));
          const cS = onnxS.slice(1);
          const idx = [0, 0, 0];
          for (let j = 0; j < order.length; j++) {
            // Onnx coordinates (dims 1..3) → xir coordinate i = onnx coordinate p[i].
            const oc = [0, ...idx];
            const xc = x.p.map((pi) => oc[pi]);
            order[j] = (xc[1] * xs[1] + xc[2]) * xs[2] + xc[3];
            for (let d = 2; d >= 0; d--) { if (++idx[d] < cS[d]) break; idx[d] = 0; }
          }
          columnOrder.set(o.name, order);
          out(o, node('Flatten', [x.t], o.name, { axis: int(1) }), [0, 1]);
          break;
        }
        const r = node('Reshape', [as(ins[0], ident(inS.length)), i64(uniq(`${o.name}_shape`), shape)], o.name);
        out(o, r, ident(shape.length));
        break;
      }
      case 'transpose': {
        const order = xInts(o.attrs, 'order');
        if (!order) refuse(o, 'no order');
        const x = placed.get(ins[0])!;
        placed.set(o.name, { t: x.t, p: compose(x.p, order!) });
        break;
      }
      case 'strided_slice': {
        const x = placed.get(ins[0])!;
        const inS = shapeOf(ins[0]);
        const begin = xInts(o.attrs, 'begin') ?? [], end = xInts(o.attrs, 'end') ?? [], strides = xInts(o.attrs, 'strides') ?? [];
        const axes = begin.map((_, i) => i);
        out(o, node('Slice', [x.t, i64(uniq('starts'), begin), i64(uniq('ends'), end.map((e, i) => Math.min(e, inS[i]))),
          i64(uniq('axes'), axes.map((a) => x.p[a])), i64(uniq('steps'), axes.map((i) => strides[i] ?? 1))], o.name), x.p);
        break;
      }
      case 'PPScatterV2': {
        out(o, ppScatter(o, ins), ident(4));
        break;
      }
      default:
        refuse(o, 'no ONNX form for this op type here, so it cannot be simulated');
    }
  }

  /** PointPillars' scatter: the custom op as it is, run by the float interpreter (ops/custom.ts). */
  function ppScatter(o: XOp, ins: string[]): string {
    const nx = xInt(o.attrs, 'nx'), ny = xInt(o.attrs, 'ny');
    if (nx === undefined || ny === undefined || ins.length !== 2) refuse(o, 'expects nx, ny, voxel features and coordinates');
    nodes.push({ name: o.name, opType: o.type, domain: XIR_CUSTOM_DOMAIN, inputs: [as(ins[0], ident(4)), as(ins[1], ident(3))], outputs: [o.name], attrs: { nx: int(nx!), ny: int(ny!) } });
    return o.name;
  }

  const returnOps = m.attrs.return_ops?.kind === 'string_vec' ? m.attrs.return_ops.value : [];
  const names = returnOps.length ? returnOps : m.ops.filter((o) => !consumers.has(o.name) && !isConst(o.name)).map((o) => o.name);
  const outputs: TensorInfo[] = [];
  for (const n of names) {
    const s = ops.get(n)?.output.shape;
    if (!s || !placed.has(n)) throw new InputError(`${label}: output ${n} is not computed`);
    const x = placed.get(n)!;
    const want = canonical(s.length);
    const perm = compose(x.p, invert(want));
    // A graph output in another order gets the Transpose back, named as the XIR op when that name is free.
    const taken = nodes.some((d) => d.outputs.includes(n)) || inputs.some((i) => i.name === n);
    const name = same(perm, ident(perm.length)) ? x.t : node('Transpose', [x.t], taken ? `${n}__out` : n, { perm: ints(perm) });
    outputs.push({ name, dtype: 'float32', shape: s.length === 4 ? [s[0], s[3], s[1], s[2]] : [...s] });
  }
  for (const i of inputs) valueInfo.set(i.name, i);
  return {
    format: 'onnx',
    graph: { name: m.name || 'graph', nodes, inputs, outputs, initializers: inits, valueInfo },
    opset: 13,
    opsetImports: [{ domain: '', version: 13 }],
    producer: 'fixpoint (from _int.xmodel)',
    producerVersion: '',
    metadata: {},
  };
}
