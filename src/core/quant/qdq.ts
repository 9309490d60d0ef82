// QDQ ONNX: the interchange form of a power-of-two quantization. Export puts QuantizeLinear →
// DequantizeLinear (scale 2^-fp, zero point 0, int8) on every quantized activation and stores weights
// and biases as integers behind a DequantizeLinear, so onnxruntime can run what the tool quantized.
// Import reads the fix points back from a QDQ model quantized elsewhere (Vitis AI), no calibration.
import type { ConstTensor, Model, Node } from '../ir';
import { InputError } from '../errors';
import { constantTensor } from '../onnx/shapes';
import { toFloat64 } from '../onnx/values';
import { fixPointOfScale, quantize, ROUNDERS } from './fixpoint';
import { constValues, withGraph } from './prepare/edit';
import type { TensorQuant } from './quantize';

/** `quant_info.json`: each quantized tensor → [bit_width, fix_point]. */
export function quantInfoJson(tensors: ReadonlyMap<string, TensorQuant>): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const t of tensors.values()) out[t.name] = [t.bitWidth, t.fixPoint];
  return out;
}

/**
 * The QDQ model of a quantization: every ≤ 8-bit tensor (power-of-two, float-scale or per-channel)
 * becomes QDQ (ONNX QuantizeLinear has no 16-bit type before opset 21); wider ones stay float and are
 * listed in `skipped`.
 * QuantizeLinear rounds half to even: a QDQ runtime differs from DPU_ROUND on exact ties.
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
  const skipped: string[] = [];
  const scaleOf = (t: TensorQuant, int: 'int8' | 'int32') => {
    const s = fresh(`${t.name}_scale`);
    const z = fresh(`${t.name}_zero_point`);
    inits.set(s, { name: s, dtype: 'float32', shape: [], values: new Float32Array([t.scale]) });
    inits.set(z, { name: z, dtype: int, shape: [], values: int === 'int8' ? new Int8Array(1) : new Int32Array(1) });
    return [s, z];
  };
  const pre: Node[] = [];
  const renameOut = new Map<string, string>();
  const post = new Map<string, Node[]>();
  const inputRewire = new Map<string, string>();
  for (const t of tensors.values()) {
    if (t.channel && t.bitWidth <= 8) {
      // Per-channel weights (non-DPU targets): 1-D scales along the channel axis.
      const w = inits.get(t.name);
      if (!w) continue;
      const v = constValues(w);
      const { axis, scales } = t.channel;
      const inner = w.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const q = new Int8Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const c = Math.floor(i / inner) % scales.length;
        q[i] = Math.max(-128, Math.min(127, ROUNDERS[t.roundMode](v[i] / scales[c])));
      }
      const qn = fresh(`${t.name}_quantized`);
      const s = fresh(`${t.name}_scale`);
      const z = fresh(`${t.name}_zero_point`);
      inits.set(qn, { name: qn, dtype: 'int8', shape: [...w.shape], values: q });
      inits.set(s, { name: s, dtype: 'float32', shape: [scales.length], values: Float32Array.from(scales) });
      inits.set(z, { name: z, dtype: 'int8', shape: [scales.length], values: new Int8Array(scales.length) });
      inits.delete(t.name);
      pre.push({ name: fresh(`${t.name}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [qn, s, z], outputs: [t.name], attrs: { axis: { kind: 'int', value: axis } } });
      continue;
    }
    if (t.bitWidth > 8) { skipped.push(t.name); continue; }
    if (t.dataType === 'weights' || t.dataType === 'bias') {
      const w = inits.get(t.name);
      if (!w) continue;
      const q = t.scale === 2 ** -t.fixPoint
        ? Int8Array.from(quantize(constValues(w), w.shape, t.fixPoint, t.bitWidth, t.roundMode).q)
        : Int8Array.from(constValues(w), (v) => Math.max(-128, Math.min(127, ROUNDERS[t.roundMode](v / t.scale))));
      const qn = fresh(`${t.name}_quantized`);
      inits.set(qn, { name: qn, dtype: 'int8', shape: [...w.shape], values: q });
      inits.delete(t.name);
      const [s, z] = scaleOf(t, 'int8');
      pre.push({ name: fresh(`${t.name}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [qn, s, z], outputs: [t.name], attrs: {} });
      continue;
    }
    const [s, z] = scaleOf(t, 'int8');
    // Consumers read the dequantized copy; only a graph output must keep its name, so there the
    // producer's output is renamed instead.
    const isInput = g.inputs.some((i) => i.name === t.name);
    const isOutput = g.outputs.some((o) => o.name === t.name);
    const src = isOutput ? fresh(`${t.name}_float`) : t.name;
    const qo = fresh(`${t.name}_QuantizeLinear_Output`);
    const dqo = isOutput ? t.name : fresh(`${t.name}_DequantizeLinear_Output`);
    if (isOutput) renameOut.set(t.name, src);
    else inputRewire.set(t.name, dqo);
    const nodes: Node[] = [
      { name: fresh(`${t.name}_QuantizeLinear`), opType: 'QuantizeLinear', domain: '', inputs: [src, s, z], outputs: [qo], attrs: {} },
      { name: fresh(`${t.name}_DequantizeLinear`), opType: 'DequantizeLinear', domain: '', inputs: [qo, s, z], outputs: [dqo], attrs: {} },
    ];
    if (isInput) pre.push(...nodes);
    else post.set(t.name, nodes);
  }
  const nodes: Node[] = [...pre];
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
  const opset = Math.max(model.opset, 13);
  const opsetImports = model.opsetImports.some((o) => o.domain === '' || o.domain === 'ai.onnx')
    ? model.opsetImports.map((o) => (o.domain === '' || o.domain === 'ai.onnx' ? { ...o, version: Math.max(o.version, 13) } : o))
    : [{ domain: '', version: opset }, ...model.opsetImports];
  return {
    model: { ...withGraph(model, { nodes, initializers: inits, valueInfo: new Map() }), opset, opsetImports, producer: 'fixpoint-studio' },
    skipped,
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
    const bitWidth = bitsOf(zp?.dtype ?? (n.opType === 'DequantizeLinear' ? consts.get(n.inputs[0])?.dtype : undefined));
    if (n.opType === 'QuantizeLinear') {
      const name = n.inputs[0];
      fixPoints.set(name, { fixPoint: fp!, bitWidth, kind: consts.has(name) ? 'weights' : 'activation' });
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
