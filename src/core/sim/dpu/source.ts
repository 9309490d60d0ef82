// The simulator's view of a QDQ model (power-of-two scales): the float model underneath (activation
// QuantizeLinear→DequantizeLinear pairs removed, integer weights dequantized) with every fix point, so the
// DPU side, the fake-quant run and the CPU subgraphs all read one set of tensors by the same names.
import { InputError } from '../../errors';
import type { ConstTensor, Model, Node, TensorInfo } from '../../ir';
import { constantTensor, inferShapes } from '../../onnx/shapes';
import { toFloat64 } from '../../onnx/values';
import { fixPointOfScale, ROUNDERS } from '../../quant/fixpoint';
import { floatConst, withGraph } from '../../quant/prepare/edit';
import type { TensorQuant } from '../../quant/quantize';

export interface DequantizedModel {
  /** The QDQ model with shapes inferred (what the compiler reads). */
  readonly qdq: Model;
  /** The float model: activation Q/DQ pairs gone, weights as float initializers on their grid. */
  readonly float: Model;
  /** Fix points of graph inputs, activations, weights and biases, in the form runFakeQuant takes. */
  readonly tensors: Map<string, TensorQuant>;
  /** A Q/DQ output name → the tensor it quantizes (identity for every other name). */
  resolve(name: string): string;
}

/** A fix point in the form runFakeQuant reads (activations round half up, as the DPU does). */
export function fixPointTensor(name: string, dataType: TensorQuant['dataType'], fixPoint: number): TensorQuant {
  return {
    name, dataType, layer: '', fixPoint, calibratedFixPoint: fixPoint, bitWidth: 8, method: 'diffs',
    roundMode: dataType === 'activation' || dataType === 'input' ? 'half_up' : 'half_even', scale: 2 ** -fixPoint,
    clippedFraction: 0, allZero: false, alternatives: [],
  };
}

/** Shapes of every tensor, which the compiler's layers need (an exported QDQ model carries none). */
export function withShapes(model: Model): Model {
  const g = model.graph;
  const known = g.nodes.every((n) => n.outputs.every((o) => !o || g.valueInfo.get(o)?.shape));
  if (known) return model;
  const inferred = inferShapes(g, model.opset || 13);
  const valueInfo = new Map<string, TensorInfo>(inferred);
  for (const [k, v] of g.valueInfo) if (!valueInfo.get(k)?.shape) valueInfo.set(k, v);
  return withGraph(model, { valueInfo });
}

export function dequantizeModel(model: Model): DequantizedModel {
  const qdq = withShapes(model);
  const g = qdq.graph;
  const consts = new Map<string, ConstTensor>(g.initializers);
  for (const n of g.nodes) if (n.opType === 'Constant') { const c = constantTensor(n); if (c) consts.set(n.outputs[0], c); }
  const alias = new Map<string, string>();
  const resolve = (t: string) => { let x = t; for (let i = 0; i < 100 && alias.has(x); i++) x = alias.get(x)!; return x; };
  const tensors = new Map<string, TensorQuant>();
  const inits = new Map(g.initializers);
  const inputs = new Set(g.inputs.map((i) => i.name));
  const readers = new Map<string, Node[]>();
  for (const n of g.nodes) n.inputs.forEach((i) => { if (i) readers.set(i, [...(readers.get(i) ?? []), n]); });
  const fpOf = (n: Node): number => {
    const sc = consts.get(n.inputs[1]);
    if (!sc) throw new InputError(`${n.opType} ${n.name}: scale "${n.inputs[1]}" is not a constant`);
    const vals = toFloat64(sc);
    const fps = new Set(Array.from(vals, (v) => fixPointOfScale(Math.fround(v))));
    if (fps.size !== 1 || fps.has(undefined)) throw new InputError(`${n.opType} ${n.name}: scale ${vals[0]} is not one power of two, so the tensor has no DPU fix point`);
    const zp = n.inputs[2] ? consts.get(n.inputs[2]) : undefined;
    if (zp && toFloat64(zp).some((v) => v !== 0)) throw new InputError(`${n.opType} ${n.name}: zero point is not 0; the DPU quantizes symmetrically`);
    if (zp && zp.dtype !== 'int8' && !(n.opType === 'DequantizeLinear' && zp.dtype === 'int32'))
      throw new InputError(`${n.opType} ${n.name}: ${zp.dtype} values; the DPU simulator runs 8-bit tensors only`);
    return [...fps][0]!;
  };
  const isBias = (t: string) => (readers.get(t) ?? []).some((r) => (r.opType === 'Conv' || r.opType === 'ConvTranspose' || r.opType === 'Gemm') && r.inputs[2] === t);
  const qdqNodes = new Set<Node>();
  for (const n of g.nodes) {
    if (n.opType !== 'QuantizeLinear' && n.opType !== 'DequantizeLinear') continue;
    qdqNodes.add(n);
    const fp = fpOf(n);
    const src = resolve(n.inputs[0]);
    const c = consts.get(src);
    if (c) {
      // A constant behind Q/DQ: QuantizeLinear gives its int8 codes (half to even, saturated), the
      // DequantizeLinear the values on the grid, stored under its output name as a float initializer.
      const v = toFloat64(c);
      const out = n.outputs[0];
      if (n.opType === 'QuantizeLinear') {
        consts.set(out, floatConst(out, c.shape, Float32Array.from(v, (x) => Math.min(127, Math.max(-128, ROUNDERS.half_even(x * 2 ** fp))))));
        continue;
      }
      const t = floatConst(out, c.shape, Float32Array.from(v, (x) => x * 2 ** -fp));
      consts.set(out, t);
      inits.set(out, t);
      tensors.set(out, fixPointTensor(out, isBias(out) ? 'bias' : 'weights', fp));
      continue;
    }
    alias.set(n.outputs[0], src);
    if (n.opType === 'QuantizeLinear' || !tensors.has(src)) tensors.set(src, fixPointTensor(src, inputs.has(src) ? 'input' : 'activation', fp));
  }
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    if (qdqNodes.has(n)) continue;
    nodes.push({ ...n, inputs: n.inputs.map((i) => (i ? resolve(i) : i)) });
  }
  // Drop initializers and Constant nodes only the removed Q/DQ nodes read.
  const used = new Set([...nodes.flatMap((n) => n.inputs), ...g.outputs.map((o) => resolve(o.name))]);
  for (const k of [...inits.keys()]) if (!used.has(k)) inits.delete(k);
  for (let i = nodes.length - 1; i >= 0; i--) if (nodes[i].opType === 'Constant' && !used.has(nodes[i].outputs[0])) nodes.splice(i, 1);
  const outputs = g.outputs.map((o) => ({ ...o, name: resolve(o.name) }));
  const float = withGraph(qdq, { nodes, initializers: inits, outputs });
  return { qdq, float, tensors, resolve };
}

/**
 * The part of `model` that computes `outputs` from the tensors in `available` (which become its inputs):
 * a CPU subgraph as onnxruntime runs it. Constant-only nodes (shape arithmetic) come along. Every tensor it
 * computes that has a fix point (`fixPoint`) goes through XIR's `fix` as the compiled CPU subgraph does:
 * floor(x·2^fp + 0.5) saturated to int8, times 2^-fp (exact in float32; QuantizeLinear would round ties to even).
 */
export function subModel(model: Model, outputs: readonly string[], available: ReadonlySet<string>,
  fixPoint: (tensor: string) => number | undefined = () => undefined): Model {
  const g = model.graph;
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const keep = new Set<Node>();
  const frontier: string[] = [];
  const seen = new Set<string>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop()!;
    if (!t || seen.has(t)) continue;
    seen.add(t);
    if (g.initializers.has(t)) continue;
    if (available.has(t) || !producer.has(t)) {
      if (!available.has(t)) throw new InputError(`CPU subgraph: tensor "${t}" is neither computed nor an input`);
      frontier.push(t);
      continue;
    }
    const n = producer.get(t)!;
    if (keep.has(n)) continue;
    keep.add(n);
    stack.push(...n.inputs);
  }
  const nodes: Node[] = [];
  const extra = new Map<string, ConstTensor>();
  const scalar = (name: string, v: number) => { if (!extra.has(name)) extra.set(name, floatConst(name, [], Float32Array.of(v))); return name; };
  for (const n of g.nodes) {
    if (!keep.has(n)) continue;
    const fixed = n.outputs.filter((o) => o && fixPoint(o) !== undefined);
    if (!fixed.length) { nodes.push(n); continue; }
    nodes.push({ ...n, outputs: n.outputs.map((o) => (fixed.includes(o) ? `${o}__float` : o)) });
    for (const o of fixed) {
      const fp = fixPoint(o)!;
      const t = (k: string) => `${o}__fix_${k}`;
      const op = (opType: string, inputs: string[], out: string): Node => ({ name: `${o}__fix_${opType}_${out}`, opType, domain: '', inputs, outputs: [out], attrs: {} });
      nodes.push(
        op('Mul', [`${o}__float`, scalar(`__fix_scale_${fp}`, 2 ** fp)], t('scaled')),
        op('Add', [t('scaled'), scalar('__fix_half', 0.5)], t('half')),
        op('Floor', [t('half')], t('floor')),
        op('Clip', [t('floor'), scalar('__fix_lo', -128), scalar('__fix_hi', 127)], t('q')),
        op('Mul', [t('q'), scalar(`__fix_step_${fp}`, 2 ** -fp)], o),
      );
    }
  }
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const inits = new Map([...g.initializers].filter(([k]) => used.has(k)));
  for (const [k, v] of extra) inits.set(k, v);
  const info = (name: string): TensorInfo => ({ name, dtype: 'float32', shape: g.valueInfo.get(name)?.shape });
  return withGraph(model, {
    nodes, initializers: inits, inputs: frontier.map(info), outputs: outputs.map(info), valueInfo: new Map(),
  });
}
