// QDQ ONNX: the interchange form of a power-of-two quantization. Export puts QuantizeLinear →
// DequantizeLinear (scale 2^-fp, zero point 0, int8 or int16) on every quantized activation and stores
// weights and biases as integers behind a DequantizeLinear, so onnxruntime can run what the tool quantized.
// Import reads the fix points back from a QDQ model quantized elsewhere (Vitis AI), no calibration.
import type { ConstTensor, Model, Node } from '../ir';
import { InputError } from '../errors';
import { constantTensor } from '../onnx/shapes';
import { toFloat64 } from '../onnx/values';
import { fixPointOfScale, intRange, quantize, ROUNDERS } from './fixpoint';
import { constValues, withGraph } from './prepare/edit';
import type { TensorQuant } from './quantize';
import { raiseOpset } from './opset';

/** `quant_info.json`: each quantized tensor → [bit_width, fix_point]. */
export function quantInfoJson(tensors: ReadonlyMap<string, TensorQuant>): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const t of tensors.values()) out[t.name] = [t.bitWidth, t.fixPoint];
  return out;
}

/** ONNX storage type of a b-bit integer: int8 up to 8 bits, int16 (QuantizeLinear-21) up to 16. */
function storageOf(bitWidth: number): 'int8' | 'int16' {
  if (bitWidth > 16) throw new InputError(`QDQ export: ${bitWidth}-bit tensors have no ONNX QuantizeLinear type (at most 16 bits)`);
  return bitWidth <= 8 ? 'int8' : 'int16';
}

/**
 * The QDQ model of a quantization: every quantized tensor (power-of-two, float-scale or per-channel)
 * becomes QuantizeLinear → DequantizeLinear, or integer weights behind a DequantizeLinear, so
 * onnxruntime runs exactly the tool's fake-quant grid:
 * - up to 8 bits the integers are int8; below 8 bits a Clip to [lo·scale, hi·scale] of the b-bit range
 *   follows the DequantizeLinear (int8 alone would saturate at ±128 instead), weights are stored
 *   already clamped to the b-bit range;
 * - 9 to 16 bits use int16, which QuantizeLinear has only from opset 21: the model is raised to 21.
 * QuantizeLinear rounds half to even: a QDQ runtime differs from DPU_ROUND on exact ties.
 * `skipped` is kept for callers and stays empty: every bit width the config accepts (2-16) is exported.
 */
export function exportQdq(model: Model, tensors: ReadonlyMap<string, TensorQuant>): { model: Model; skipped: string[] } {
  const g = model.graph;
  const inits = new Map(g.initializers);
  const taken = new Set<string>([...g.initializers.keys(), ...g.nodes.flatMap((n) => n.outputs), ...g.inputs.map((i) => i.name)]);
  const fresh = (base: string) => {
    let n = base;
    for (let k = 1; taken.has(n); k++) n = `${base}_${k}`;
    taken.add(n);
    return n;
  };
  const typed = (int: 'int8' | 'int16' | 'int32', n: number) => (int === 'int8' ? new Int8Array(n) : int === 'int16' ? new Int16Array(n) : new Int32Array(n));
  const scaleOf = (t: TensorQuant, int: 'int8' | 'int16') => {
    const s = fresh(`${t.name}_scale`);
    const z = fresh(`${t.name}_zero_point`);
    inits.set(s, { name: s, dtype: 'float32', shape: [], values: new Float32Array([t.scale]) });
    inits.set(z, { name: z, dtype: int, shape: [], values: typed(int, 1) });
    return [s, z];
  };
  const scalar = (base: string, v: number) => {
    const n = fresh(base);
    inits.set(n, { name: n, dtype: 'float32', shape: [], values: new Float32Array([v]) });
    return n;
  };
  let wide = false;
  const pre: Node[] = [];
  const renameOut = new Map<string, string>();
  const post = new Map<string, Node[]>();
  const inputRewire = new Map<string, string>();
  for (const t of tensors.values()) {
    const int = storageOf(t.bitWidth);
    if (int === 'int16') wide = true;
    const { lo, hi } = intRange(t.bitWidth);
    const clampQ = (v: number) => (v < lo ? lo : v > hi ? hi : v);
    if (t.channel) {
      // Per-channel weights (non-DPU targets): 1-D scales along the channel axis.
      const w = inits.get(t.name);
      if (!w) continue;
      const v = constValues(w);
      const { axis, scales } = t.channel;
      const inner = w.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const q = typed(int, v.length);
      for (let i = 0; i < v.length; i++) {
        const c = Math.floor(i / inner) % scales.length;
        q[i] = clampQ(ROUNDERS[t.roundMode](v[i] / scales[c]));
      }
      const qn = fresh(`${t.name}_quantized`);
      const s = fresh(`${t.name}_scale`);
      const z = fresh(`${t.name}_zero_point`);
      inits.set(qn, { name: qn, dtype: int, shape: [...w.shape], values: q });
      inits.set(s, { name: s, dtype: 'float32', shape: [scales.length], values: Float32Array.from(scales) });
      inits.set(z, { name: z, dtype: int, shape: [scales.length], values: typed(int, scales.length) });
      inits.delete(t.name);
      pre.push({ name: fresh(`${t.name}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [qn, s, z], outputs: [t.name], attrs: { axis: { kind: 'int', value: axis } } });
      continue;
    }
    if (t.dataType === 'weights' || t.dataType === 'bias') {
      const w = inits.get(t.name);
      if (!w) continue;
      const vals = constValues(w);
      const q = typed(int, vals.length);
      if (t.scale === 2 ** -t.fixPoint) q.set(quantize(vals, w.shape, t.fixPoint, t.bitWidth, t.roundMode).q);
      else for (let i = 0; i < vals.length; i++) q[i] = clampQ(ROUNDERS[t.roundMode](vals[i] / t.scale));
      const qn = fresh(`${t.name}_quantized`);
      inits.set(qn, { name: qn, dtype: int, shape: [...w.shape], values: q });
      inits.delete(t.name);
      const [s, z] = scaleOf(t, int);
      pre.push({ name: fresh(`${t.name}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [qn, s, z], outputs: [t.name], attrs: {} });
      continue;
    }
    const [s, z] = scaleOf(t, int);
    // Consumers read the dequantized copy; only a graph output must keep its name, so there the
    // producer's output is renamed instead.
    const isInput = g.inputs.some((i) => i.name === t.name);
    const isOutput = g.outputs.some((o) => o.name === t.name);
    const src = isOutput ? fresh(`${t.name}_float`) : t.name;
    const narrow = t.bitWidth < 8;
    const qo = fresh(`${t.name}_QuantizeLinear_Output`);
    const last = isOutput ? t.name : fresh(`${t.name}_${narrow ? 'Clip' : 'DequantizeLinear'}_Output`);
    const dqo = narrow ? fresh(`${t.name}_DequantizeLinear_Output`) : last;
    if (isOutput) renameOut.set(t.name, src);
    else inputRewire.set(t.name, last);
    const nodes: Node[] = [
      { name: fresh(`${t.name}_QuantizeLinear`), opType: 'QuantizeLinear', domain: '', inputs: [src, s, z], outputs: [qo], attrs: {} },
      { name: fresh(`${t.name}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [qo, s, z], outputs: [dqo], attrs: {} },
    ];
    if (narrow) {
      // Exact in float32: a small integer times the stored scale.
      const min = scalar(`${t.name}_clip_min`, Math.fround(lo * Math.fround(t.scale)));
      const max = scalar(`${t.name}_clip_max`, Math.fround(hi * Math.fround(t.scale)));
      nodes.push({ name: fresh(`${t.name}_Clip`), opType: 'Clip', domain: '', inputs: [dqo, min, max], outputs: [last], attrs: {} });
    }
    if (isInput) pre.push(...nodes);
    else post.set(t.name, nodes);
  }
  let nodes: Node[] = [...pre];
  const qdqNodes = new Set([...pre, ...[...post.values()].flat()]);
  for (const n of g.nodes) {
    const m: Node = {
      ...n,
      inputs: n.inputs.map((i) => (inputRewire.has(i) && !qdqNodes.has(n) ? inputRewire.get(i)! : i)),
      outputs: n.outputs.map((o) => renameOut.get(o) ?? o),
    };
    nodes.push(m);
    for (const o of n.outputs) nodes.push(...(post.get(o) ?? []));
  }
  // HardSwish (the SiLU conversion's output) exists from opset 14 on: onnxruntime refuses it below.
  const floor = wide ? 21 : nodes.some((n) => n.opType === 'HardSwish' && (n.domain === '' || n.domain === 'ai.onnx')) ? 14 : 13;
  nodes = raiseOpset(nodes, { from: model.opset, to: floor, inits, fresh, why: wide ? 'a 9-16-bit tensor (int16 QuantizeLinear)' : 'QuantizeLinear/DequantizeLinear with per-axis scales' });
  const opset = Math.max(model.opset, floor);
  const opsetImports = model.opsetImports.some((o) => o.domain === '' || o.domain === 'ai.onnx')
    ? model.opsetImports.map((o) => (o.domain === '' || o.domain === 'ai.onnx' ? { ...o, version: Math.max(o.version, floor) } : o))
    : [{ domain: '', version: opset }, ...model.opsetImports];
  return {
    model: { ...withGraph(model, { nodes, initializers: inits, valueInfo: new Map() }), opset, opsetImports, producer: 'fixpoint-studio' },
    skipped: [],
  };
}

export interface ImportedFixPoint {
  readonly fixPoint: number;
  readonly bitWidth: number;
  /** 'weights' when the quantized tensor is a constant. */
  readonly kind: 'activation' | 'weights';
}

/**
 * Fix points of a QDQ model whose scales are powers of two, by the name of the tensor each
 * QuantizeLinear (or a DequantizeLinear of stored integers) quantizes. Throws an InputError naming the
 * first scale that is no power of two or zero point that is not 0: such a model has no DPU fix points.
 */
export function importQdq(model: Model): { fixPoints: Map<string, ImportedFixPoint>; scales: number } {
  const g = model.graph;
  const consts = new Map<string, ConstTensor>(g.initializers);
  for (const n of g.nodes) if (n.opType === 'Constant') { const c = constantTensor(n); if (c) consts.set(n.outputs[0], c); }
  const fixPoints = new Map<string, ImportedFixPoint>();
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  let scales = 0;
  const bitsOf = (dtype: string | undefined) => (dtype === 'int16' || dtype === 'uint16' ? 16 : dtype === 'int32' ? 32 : dtype === 'int4' || dtype === 'uint4' ? 4 : 8);
  const readers = new Map<string, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  /** A narrower width our export writes as int8 Q → DQ → Clip to [−2^(b−1)·s, (2^(b−1)−1)·s]. */
  const clipped = (q: Node, scale: number): { bits: number; out: string } | undefined => {
    const dq = readers.get(q.outputs[0])?.find((r) => r.opType === 'DequantizeLinear');
    const clip = dq && readers.get(dq.outputs[0]);
    if (!clip || clip.length !== 1 || clip[0].opType !== 'Clip') return undefined;
    const [lo, hi] = [clip[0].inputs[1], clip[0].inputs[2]].map((n) => (n && consts.get(n) ? toFloat64(consts.get(n)!)[0] : NaN));
    const b = Math.log2(-lo / scale) + 1;
    const ok = Number.isInteger(b) && b >= 2 && b < 8 && Math.fround((2 ** (b - 1) - 1) * scale) === Math.fround(hi);
    return ok ? { bits: b, out: clip[0].outputs[0] } : undefined;
  };
  for (const n of g.nodes) {
    if (n.opType !== 'QuantizeLinear' && n.opType !== 'DequantizeLinear') continue;
    const sc = consts.get(n.inputs[1]);
    if (!sc) throw new InputError(`${n.opType} ${n.name}: scale "${n.inputs[1]}" is not a constant`);
    scales++;
    const sv = toFloat64(sc);
    let fp: number | undefined;
    for (const v of sv) {
      const f = fixPointOfScale(Math.fround(v));
      if (f === undefined) throw new InputError(`${n.opType} ${n.name}: scale ${v} is not a power of two, so it has no DPU fix point (re-quantize with power-of-two scales)`);
      if (fp !== undefined && f !== fp) throw new InputError(`${n.opType} ${n.name}: per-channel scales differ (fix points ${fp} and ${f}); the DPU needs one fix point per tensor`);
      fp = f;
    }
    const zp = n.inputs[2] ? consts.get(n.inputs[2]) : undefined;
    if (zp && toFloat64(zp).some((v) => v !== 0)) throw new InputError(`${n.opType} ${n.name}: zero point is not 0; the DPU quantizes symmetrically`);
    const stored = bitsOf(zp?.dtype ?? (n.opType === 'DequantizeLinear' ? consts.get(n.inputs[0])?.dtype : undefined));
    const clip = stored === 8 && n.opType === 'QuantizeLinear' ? clipped(n, 2 ** -fp!) : undefined;
    const bitWidth = clip?.bits ?? stored;
    if (n.opType === 'QuantizeLinear') {
      const name = n.inputs[0];
      fixPoints.set(name, { fixPoint: fp!, bitWidth, kind: consts.has(name) ? 'weights' : 'activation' });
      if (clip && graphOutputs.has(clip.out)) fixPoints.set(clip.out, { fixPoint: fp!, bitWidth, kind: 'activation' });
    } else if (graphOutputs.has(n.outputs[0])) {
      // A graph output carries the fix point of the Q → DQ pair that produces it.
      fixPoints.set(n.outputs[0], { fixPoint: fp!, bitWidth, kind: 'activation' });
    } else if (consts.has(n.inputs[0])) {
      fixPoints.set(n.outputs[0], { fixPoint: fp!, bitWidth, kind: 'weights' });
    }
  }
  if (scales === 0) throw new InputError('the model has no QuantizeLinear/DequantizeLinear nodes to import fix points from');
  return { fixPoints, scales };
}
