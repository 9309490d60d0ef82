// Keras layers → an ONNX-equivalent NCHW graph. Keras is channels-last: conv kernels are HWIO, Dense
// kernels (in, out), SAME padding pads after when odd, and Flatten reads (H, W, C) order — so a rank-4
// tensor is transposed back to NHWC before Flatten/Reshape, or every classifier head would be wrong.
// A vai_q_tensorflow2 model (Vitis>QuantizeWrapper …) becomes a QDQ graph with power-of-two scales.
import { InputError } from '../errors';
import type { Model, ModelFormat } from '../ir';
import { NchwGraph, NHWC_TO_NCHW_AXIS, transposeData } from '../import/nchw';
import type { AttrInput } from '../onnx/build';
import { isNestedModel, nestedGraph, type KerasGraph, type KerasLayer } from './config';

export interface Weight {
  readonly shape: number[];
  readonly values: Float64Array;
}

/** A layer's variables by short name (kernel, bias, gamma, kernel_pos, …). */
export type WeightsOf = (layer: KerasLayer) => Map<string, Weight>;

export interface KerasSource {
  readonly format: ModelFormat;
  readonly kerasVersion: string;
  readonly backend: string;
}

type Cfg = Record<string, unknown>;

function pair(v: unknown, fallback: number): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2) return [Number(v[0]), Number(v[1])];
  if (Array.isArray(v) && v.length === 1) return [Number(v[0]), Number(v[0])];
  return [fallback, fallback];
}

function activationName(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const o = v as Cfg;
    const cfg = (o.config as Cfg | undefined) ?? {};
    // vai_q wraps a layer's activation as Vitis>QuantizeAwareActivation {activation: 'relu', …}.
    if (String(o.class_name ?? '').endsWith('QuantizeAwareActivation')) return activationName(cfg.activation);
    return String(cfg.name ?? o.class_name ?? 'linear');
  }
  return 'linear';
}

class KerasConverter {
  readonly g = new NchwGraph();
  /** Our tensor name and rank for each layer's output. */
  private readonly out = new Map<string, { name: string; rank: number }>();
  private readonly keras3: boolean;

  constructor(private readonly kg: KerasGraph, private readonly weightsOf: WeightsOf, src: KerasSource) {
    this.keras3 = src.kerasVersion.startsWith('3');
  }

  convert(): void {
    for (const i of this.kg.inputs) {
      if (i.shape.length === 3 && i.shape.some((d) => d === null)) throw new InputError(`input "${i.name}" has an unknown image size [${i.shape.map((d) => d ?? '?')}]; only the batch may be unknown`);
      const shape = i.shape.map((d) => d ?? 1) as number[];
      const nchw = shape.length === 3 ? [1, shape[2], shape[0], shape[1]] : [1, ...shape];
      this.out.set(i.name, { name: this.g.input(i.name, 'float32', nchw), rank: nchw.length });
    }
    this.run(this.kg.layers, []);
    for (const o of this.kg.outputs) {
      const t = this.out.get(o);
      if (!t) throw new InputError(`the model's output layer "${o}" is not among its layers`);
      const name = this.g.inputs[t.name] || this.g.outputs.includes(t.name) ? this.g.node('Identity', `${o}/output`, [t.name]) : t.name;
      this.g.outputs.push(name);
    }
  }

  /** Layer outputs are keyed by name within their model: a nested model may reuse an outer name. */
  private key(scope: readonly string[], name: string): string {
    return scope.length ? `${scope.join('\u0000')}\u0000${name}` : name;
  }

  private run(layers: readonly KerasLayer[], scope: readonly string[]): void {
    // Config order is usually topological; a worklist keeps it correct when it is not.
    let pending = [...layers];
    while (pending.length) {
      const ready = pending.filter((l) => l.inbound.every((p) => this.out.has(this.key(scope, p))));
      if (!ready.length) {
        const l = pending[0];
        throw new InputError(`layer "${l.name}" reads ${l.inbound.filter((p) => !this.out.has(this.key(scope, p))).map((p) => `"${p}"`).join(', ')}, which no layer produces`);
      }
      for (const l of ready) this.layer(scope.length ? { ...l, scope } : l, scope);
      pending = pending.filter((l) => !ready.includes(l));
    }
  }

  /** A model used as a layer: its layers join the graph, reading the outer layer's inputs. */
  private nested(l: KerasLayer, scope: readonly string[]): void {
    const sub = nestedGraph(l);
    const inner = [...scope, l.name];
    const ins = l.inbound.map((p) => this.out.get(this.key(scope, p))!);
    if (ins.length !== sub.inputs.length) throw new InputError(`nested model "${l.name}" has ${sub.inputs.length} inputs but is called with ${ins.length}`);
    sub.inputs.forEach((i, k) => this.out.set(this.key(inner, i.name), ins[k]));
    this.run(sub.layers, inner);
    if (sub.outputs.length !== 1) throw new InputError(`nested model "${l.name}" has ${sub.outputs.length} outputs; only single-output nested models are supported`);
    this.out.set(this.key(scope, l.name), this.out.get(this.key(inner, sub.outputs[0]))!);
  }

  private w(l: KerasLayer, ws: Map<string, Weight>, key: string, required = true): Weight | undefined {
    const v = ws.get(key);
    if (!v && required) throw new InputError(`layer "${l.name}" (${l.cls}) has no "${key}" weight (it has: ${[...ws.keys()].join(', ') || 'none'})`);
    return v;
  }

  private constant(name: string, w: Weight, perm?: number[], shape?: number[]): string {
    if (!perm) return this.g.constant(name, 'float32', shape ?? w.shape, w.values);
    const v = transposeData(w.values, w.shape, perm, new Float64Array(w.values.length));
    return this.g.constant(name, 'float32', shape ?? perm.map((p) => w.shape[p]), v);
  }

  /** Q → DQ at fix point `pos` (scale 2^-pos, int8, zero point 0): how a vai_q fix point is written in ONNX. */
  private qdq(x: string, pos: number | undefined, name: string): string {
    if (pos === undefined) return x;
    const s = this.g.constant(`${name}/scale`, 'float32', [], [2 ** -pos]);
    const z = this.g.constant(`${name}/zero_point`, 'int8', [], [0]);
    const q = this.g.node('QuantizeLinear', `${name}/quantize`, [x, s, z]);
    return this.g.node('DequantizeLinear', `${name}/dequantize`, [q, s, z]);
  }

  private layer(l0: KerasLayer, scope: readonly string[]): void {
    if (isNestedModel(l0)) {
      this.nested(l0, scope);
      return;
    }
    let l = l0;
    let quant: Map<string, Weight> | undefined;
    const bare = l.cls.replace(/^Vitis>/, '');
    if (bare === 'QuantizeWrapper' || bare === 'QuantizeWrapperV2') {
      const inner = l.config.layer as Cfg | undefined;
      if (!inner || typeof inner.class_name !== 'string') throw new InputError(`quantize wrapper "${l.name}" has no wrapped layer in its config`);
      quant = this.weightsOf(l);
      l = { cls: inner.class_name, name: l.name, config: (inner.config as Cfg) ?? {}, inbound: l.inbound, ...(l.scope ? { scope: l.scope } : {}) };
    }
    const kind = l.cls.replace(/^Vitis>/, '');
    const ins = l.inbound.map((p) => this.out.get(this.key(scope, p))!);
    const x = ins[0];
    const ws = quant ?? (this.needsWeights(l.cls) ? this.weightsOf(l) : new Map<string, Weight>());
    const pos = (k: string) => quant?.get(k)?.values[0];
    const c = l.config;
    const name = l.name;
    const set = (y: string, rank: number) => this.out.set(this.key(scope, l0.name), { name: y, rank });
    /** The layer's own activation, with vai_q's pre/post-activation fix points around it. */
    const finish = (y: string, rank: number) => {
      const act = activationName(c.activation);
      if (act !== 'linear') y = this.qdq(y, pos('pre_activation_pos'), `${name}/pre_activation`);
      y = this.g.activation(act, y, `${name}/${act}`, rank, { hardSigmoidAlpha: this.keras3 ? 1 / 6 : 0.2 });
      set(this.qdq(y, pos('post_activation_pos') ?? outputPos(quant), `${name}/output`), rank);
    };
    const kernel = (key: string, perm: number[], shape?: number[]) =>
      this.qdq(this.constant(`${name}/${key}`, this.w(l, ws, key)!, perm, shape), pos(`${key}_pos`), `${name}/${key}`);
    const bias = () => {
      const b = this.w(l, ws, 'bias', c.use_bias !== false && ws.has('bias'));
      return b ? [this.qdq(this.constant(`${name}/bias`, b), pos('bias_pos'), `${name}/bias`)] : [];
    };
    const padAttrs = (k: [number, number], s: [number, number], d: [number, number] = [1, 1]): Record<string, AttrInput> => ({
      kernel_shape: k, strides: s, ...(d[0] !== 1 || d[1] !== 1 ? { dilations: d } : {}),
      ...(String(c.padding ?? 'valid').toLowerCase() === 'same' ? { auto_pad: 'SAME_UPPER' } : { pads: [0, 0, 0, 0] }),
    });
    if (c.data_format === 'channels_first') throw new InputError(`layer "${name}" uses data_format channels_first; only channels_last Keras models are supported`);

    switch (kind) {
      case 'Conv2D': {
        const k = this.w(l, ws, 'kernel')!;
        const [kh, kw] = k.shape;
        const groups = Math.max(1, Number(c.groups ?? 1));
        const y = this.g.node('Conv', name, [x.name, kernel('kernel', [3, 2, 0, 1]), ...bias()], {
          ...padAttrs([kh, kw], pair(c.strides, 1), pair(c.dilation_rate, 1)), group: groups,
        });
        finish(y, 4);
        return;
      }
      case 'DepthwiseConv2D': case 'SeparableConv2D': {
        const dk = this.w(l, ws, 'depthwise_kernel')!;
        const [kh, kw, cin, mult] = dk.shape;
        // [kh, kw, C, M] → [C·M, 1, kh, kw]: output channel c·M + m reads input channel c, as ONNX groups do.
        const flat: Weight = { shape: [kh, kw, cin * mult], values: dk.values };
        const wName = this.qdq(this.constant(`${name}/depthwise_kernel`, flat, [2, 0, 1], [cin * mult, 1, kh, kw]), pos('depthwise_kernel_pos'), `${name}/depthwise_kernel`);
        const sep = kind === 'SeparableConv2D';
        let y = this.g.node('Conv', sep ? `${name}/depthwise` : name, [x.name, wName, ...(sep ? [] : bias())], {
          ...padAttrs([kh, kw], pair(c.strides, 1), pair(c.dilation_rate, 1)), group: cin,
        });
        if (sep) y = this.g.node('Conv', name, [y, kernel('pointwise_kernel', [3, 2, 0, 1]), ...bias()], { kernel_shape: [1, 1], pads: [0, 0, 0, 0] });
        finish(y, 4);
        return;
      }
      case 'Conv2DTranspose': {
        const k = this.w(l, ws, 'kernel')!;
        const [kh, kw] = k.shape;
        const s = pair(c.strides, 1);
        const same = String(c.padding ?? 'valid').toLowerCase() === 'same';
        // TensorFlow's SAME crops max(k - s, 0) with the smaller half first; k < s leaves s - k to add.
        const total = [kh, kw].map((kk, i) => Math.max(0, kk - s[i]));
        const pads = same ? [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))] : [0, 0, 0, 0];
        const given = c.output_padding == null ? undefined : pair(c.output_padding, 0);
        const outPad = given ?? (same ? [kh, kw].map((kk, i) => Math.max(0, s[i] - kk)) : [0, 0]);
        // Keras stores [kh, kw, out, in]; ONNX ConvTranspose wants [in, out, kh, kw].
        const y = this.g.node('ConvTranspose', name, [x.name, kernel('kernel', [3, 2, 0, 1]), ...bias()], {
          kernel_shape: [kh, kw], strides: s, pads, ...(outPad.some((p) => p) ? { output_padding: outPad } : {}),
        });
        finish(y, 4);
        return;
      }
      case 'Dense': {
        const k = this.w(l, ws, 'kernel')!;
        if (x.rank === 4) {
          // Dense on an image acts on the channel axis: a 1×1 convolution.
          const y = this.g.node('Conv', name, [x.name, kernel('kernel', [1, 0], [k.shape[1], k.shape[0], 1, 1]), ...bias()], { kernel_shape: [1, 1] });
          finish(y, 4);
        } else if (x.rank === 2) {
          finish(this.g.node('Gemm', name, [x.name, kernel('kernel', [0, 1]), ...bias()], {}), 2);
        } else {
          let y = this.g.node('MatMul', name, [x.name, kernel('kernel', [0, 1])]);
          const b = bias();
          if (b.length) y = this.g.node('Add', `${name}/bias_add`, [y, b[0]]);
          finish(y, x.rank);
        }
        return;
      }
      case 'BatchNormalization': {
        const ch = (this.w(l, ws, 'moving_mean')!).shape[0];
        const axis = Array.isArray(c.axis) ? Number(c.axis[0]) : Number(c.axis ?? -1);
        if (!(axis === -1 || axis === x.rank - 1)) throw new InputError(`layer "${name}": BatchNormalization over axis ${axis} is not supported (only the channel axis)`);
        const ones = { shape: [ch], values: new Float64Array(ch).fill(1) };
        const zeros = { shape: [ch], values: new Float64Array(ch) };
        const y = this.g.node('BatchNormalization', name, [
          x.name,
          this.constant(`${name}/gamma`, ws.get('gamma') ?? ones),
          this.constant(`${name}/beta`, ws.get('beta') ?? zeros),
          this.constant(`${name}/moving_mean`, this.w(l, ws, 'moving_mean')!),
          this.constant(`${name}/moving_variance`, this.w(l, ws, 'moving_variance')!),
        ], { epsilon: Number(c.epsilon ?? 1e-3) });
        finish(y, x.rank);
        return;
      }
      case 'Activation': finish(x.name, x.rank); return;
      case 'ReLU': {
        const max = c.max_value == null ? undefined : Number(c.max_value);
        const slope = Number(c.negative_slope ?? 0);
        if (Number(c.threshold ?? 0) !== 0) throw new InputError(`layer "${name}": ReLU with a threshold is not supported`);
        let y = slope ? this.g.node('LeakyRelu', name, [x.name], { alpha: slope }) : max === undefined ? this.g.node('Relu', name, [x.name]) : this.g.clip(x.name, name, 0, max);
        if (slope && max !== undefined) y = this.g.clip(y, `${name}/max`, -Infinity, max);
        set(this.qdq(y, outputPos(quant), `${name}/output`), x.rank);
        return;
      }
      case 'LeakyReLU': {
        const alpha = Number(c.negative_slope ?? c.alpha ?? 0.3);
        set(this.qdq(this.g.node('LeakyRelu', name, [x.name], { alpha }), outputPos(quant), `${name}/output`), x.rank);
        return;
      }
      case 'Softmax': set(this.g.node('Softmax', name, [x.name], { axis: x.rank === 4 ? 1 : -1 }), x.rank); return;
      case 'VitisSigmoid': set(this.qdq(this.g.node('HardSigmoid', name, [x.name], { alpha: 1 / 6, beta: 0.5 }), outputPos(quant), `${name}/output`), x.rank); return;
      case 'MaxPooling2D': case 'AveragePooling2D': case 'VitisAveragePooling2D': {
        const k = pair(c.pool_size, 2);
        const s = c.strides == null ? k : pair(c.strides, 1);
        set(this.qdq(this.g.node(kind === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', name, [x.name], padAttrs(k, s)), outputPos(quant), `${name}/output`), 4);
        return;
      }
      case 'GlobalAveragePooling2D': case 'GlobalMaxPooling2D': case 'VitisGlobalAveragePooling2D': {
        const y = this.g.node(kind === 'GlobalMaxPooling2D' ? 'GlobalMaxPool' : 'GlobalAveragePool', name, [x.name]);
        const keep = c.keepdims === true;
        const z = keep ? y : this.g.node('Flatten', `${name}/squeeze`, [y]);
        set(this.qdq(z, outputPos(quant), `${name}/output`), keep ? 4 : 2);
        return;
      }
      case 'ZeroPadding2D': {
        const p = c.padding;
        let [t, b, le, r] = [1, 1, 1, 1];
        if (typeof p === 'number') [t, b, le, r] = [p, p, p, p];
        else if (Array.isArray(p) && Array.isArray(p[0])) [[t, b], [le, r]] = p as [[number, number], [number, number]];
        else if (Array.isArray(p)) [t, b, le, r] = [Number(p[0]), Number(p[0]), Number(p[1]), Number(p[1])];
        const pads = this.g.constant(`${name}/pads`, 'int64', [8], [0, 0, t, le, 0, 0, b, r]);
        set(this.g.node('Pad', name, [x.name, pads], { mode: 'constant' }), 4);
        return;
      }
      case 'UpSampling2D': {
        const [sh, sw] = pair(c.size, 2);
        const bilinear = c.interpolation === 'bilinear';
        const scales = this.g.constant(`${name}/scales`, 'float32', [4], [1, 1, sh, sw]);
        set(this.g.node('Resize', name, [x.name, '', scales], bilinear
          ? { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }
          : { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }), 4);
        return;
      }
      case 'Rescaling': {
        // x · scale + offset, per channel when given as lists (channels last → NCHW [C, 1, 1]).
        const vec = (v: unknown, dflt: number) => (Array.isArray(v) ? v.map(Number) : [v == null ? dflt : Number(v)]);
        const sc = vec(c.scale, 1);
        const off = vec(c.offset, 0);
        const shape = (n: number) => (n > 1 && x.rank === 4 ? [n, 1, 1] : n > 1 ? [n] : []);
        let y = this.g.node('Mul', name, [x.name, this.g.constant(`${name}/scale`, 'float32', shape(sc.length), sc)]);
        if (off.some((o) => o !== 0)) y = this.g.node('Add', `${name}/offset`, [y, this.g.constant(`${name}/offset_value`, 'float32', shape(off.length), off)]);
        set(y, x.rank);
        return;
      }
      case 'Normalization': {
        // (x − mean) / max(√variance, 1e-7), with the adapted mean and variance stored as weights.
        const mean = this.w(l, ws, 'mean')!;
        const variance = this.w(l, ws, 'variance')!;
        const n = mean.values.length;
        const shape = n > 1 && x.rank === 4 ? [n, 1, 1] : n > 1 ? [n] : [];
        const inv = Array.from(variance.values, (v) => 1 / Math.max(Math.sqrt(v), 1e-7));
        const d = this.g.node('Sub', `${name}/center`, [x.name, this.g.constant(`${name}/mean`, 'float32', shape, mean.values)]);
        set(this.g.node('Mul', name, [d, this.g.constant(`${name}/inv_std`, 'float32', shape, inv)]), x.rank);
        return;
      }
      case 'Cropping2D': {
        const p = c.cropping;
        let [t, b, le, r] = [0, 0, 0, 0];
        if (typeof p === 'number') [t, b, le, r] = [p, p, p, p];
        else if (Array.isArray(p) && Array.isArray(p[0])) [[t, b], [le, r]] = p as [[number, number], [number, number]];
        else if (Array.isArray(p)) [t, b, le, r] = [Number(p[0]), Number(p[0]), Number(p[1]), Number(p[1])];
        // Slice ends counted from the end (INT_MAX when nothing is cropped there).
        const end = (n: number) => (n ? -n : 2 ** 31 - 1);
        set(this.g.node('Slice', name, [
          x.name,
          this.g.constant(`${name}/starts`, 'int64', [2], [t, le]),
          this.g.constant(`${name}/ends`, 'int64', [2], [end(b), end(r)]),
          this.g.constant(`${name}/axes`, 'int64', [2], [2, 3]),
        ]), 4);
        return;
      }
      case 'Flatten': {
        const y = x.rank === 4 ? this.g.toNhwc(x.name, name) : x.name;
        set(this.g.node('Flatten', name, [y]), 2);
        return;
      }
      case 'Reshape': {
        const target = (c.target_shape as number[] | undefined) ?? [];
        const y = x.rank === 4 ? this.g.toNhwc(x.name, name) : x.name;
        let z = this.g.node('Reshape', name, [y, this.g.constant(`${name}/shape`, 'int64', [target.length + 1], [0, ...target])]);
        if (target.length === 3) z = this.g.toNchw(z, name);
        set(z, target.length + 1);
        return;
      }
      case 'Dropout': case 'SpatialDropout2D': case 'GaussianNoise': case 'GaussianDropout': case 'ActivityRegularization':
        // Inference-time identities: the layer's name points at its input.
        set(this.qdq(x.name, outputPos(quant), `${name}/output`), x.rank);
        return;
      case 'Add': case 'Multiply': case 'Subtract': case 'Maximum': case 'Minimum': case 'Average': {
        const op = { Add: 'Add', Multiply: 'Mul', Subtract: 'Sub', Maximum: 'Max', Minimum: 'Min', Average: 'Sum' }[kind]!;
        let y: string;
        if ((op === 'Sub') || ins.length === 2) y = this.g.node(op, name, ins.map((t) => t.name));
        else if (op === 'Sum' || op === 'Max' || op === 'Min') y = this.g.node(op, name, ins.map((t) => t.name));
        else y = ins.slice(1).reduce((a, t, i) => this.g.node(op, i === ins.length - 2 ? name : `${name}/${i}`, [a, t.name]), ins[0].name);
        if (kind === 'Average') y = this.g.node('Mul', `${name}/mean`, [y, this.g.constant(`${name}/inv_n`, 'float32', [], [1 / ins.length])]);
        set(this.qdq(y, outputPos(quant), `${name}/output`), Math.max(...ins.map((t) => t.rank)));
        return;
      }
      case 'Concatenate': {
        let axis = Number(c.axis ?? -1);
        if (axis < 0) axis += x.rank;
        if (x.rank === 4) axis = NHWC_TO_NCHW_AXIS[axis];
        set(this.qdq(this.g.node('Concat', name, ins.map((t) => t.name), { axis }), outputPos(quant), `${name}/output`), x.rank);
        return;
      }
      case 'VitisQuantize': {
        const p = firstPos(this.weightsOf(l));
        set(this.qdq(x.name, p, name), x.rank);
        return;
      }
      default: {
        // Drawn as an unknown op (dashed, '?') with its config; downstream shapes stay unknown.
        const y = this.g.node(l.cls.replace(/>/g, '.'), name, ins.map((t) => t.name), { config: JSON.stringify(c) }, undefined, 'keras');
        set(y, x?.rank ?? 4);
      }
    }
  }

  private needsWeights(cls: string): boolean {
    return /Conv|Dense|Normalization|VitisQuantize/.test(cls);
  }
}

/** The output fix point of a wrapper that is not an activation-carrying layer (Add, pooling, …). */
function outputPos(q: Map<string, Weight> | undefined): number | undefined {
  if (!q) return undefined;
  for (const [k, v] of q) if (/^(post_activation|output(_\d+)?)_pos$/.test(k)) return v.values[0];
  return undefined;
}

function firstPos(ws: Map<string, Weight>): number | undefined {
  for (const [k, v] of ws) if (k.endsWith('_pos')) return v.values[0];
  return undefined;
}

/** Converts a parsed Keras graph with its weights. */
export function kerasToModel(kg: KerasGraph, weightsOf: WeightsOf, src: KerasSource): Model {
  const c = new KerasConverter(kg, weightsOf, src);
  c.convert();
  const quantized = c.g.nodes.some((n) => n.op === 'QuantizeLinear');
  return c.g.finish(src.format, src.backend ? `Keras (${src.backend})` : 'Keras', src.kerasVersion, kg.name, {
    source_format: src.format, keras_version: src.kerasVersion,
    ...(quantized ? { quantized_by: 'vai_q_tensorflow2 (fix points as stored)' } : {}),
  });
}
