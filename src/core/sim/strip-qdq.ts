// The float model behind a QDQ model: the reference the simulator's int8 results are measured against
// (SQNR vs float). Every QuantizeLinear → DequantizeLinear pair becomes an Identity of the float tensor,
// integer weights behind a DequantizeLinear become float initializers, so every tensor name of the QDQ
// model (the float producer's output and the dequantized copy alike) still exists and can be read.
import type { ConstTensor, Model, Node } from '../ir';
import { attrInt } from '../ir';
import { constValues, withGraph } from '../quant/prepare/edit';

const isQ = (n: Node) => n.opType === 'QuantizeLinear' && (n.domain === '' || n.domain === 'ai.onnx' || n.domain === 'com.microsoft');
const isDQ = (n: Node) => n.opType === 'DequantizeLinear' && (n.domain === '' || n.domain === 'ai.onnx' || n.domain === 'com.microsoft');

/** True when the model has any Q/DQ node, i.e. it carries a quantization. */
export function hasQdq(model: Model): boolean {
  return model.graph.nodes.some((n) => isQ(n) || isDQ(n));
}

/** (q − zero point)·scale of a constant, per tensor or along `axis`. */
function dequantizeConst(q: ConstTensor, scale: ConstTensor, zero: ConstTensor | undefined, axis: number, name: string): ConstTensor {
  const v = constValues(q);
  const s = constValues(scale);
  const z = zero ? constValues(zero) : new Float32Array(s.length);
  const out = new Float32Array(v.length);
  if (s.length <= 1) {
    for (let i = 0; i < v.length; i++) out[i] = (v[i] - (z[0] ?? 0)) * s[0];
  } else {
    const ax = axis < 0 ? axis + q.shape.length : axis;
    const inner = q.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < v.length; i++) {
      const c = Math.floor(i / inner) % s.length;
      out[i] = (v[i] - z[c]) * s[c];
    }
  }
  return { name, dtype: 'float32', shape: [...q.shape], values: out };
}

export function stripQdq(model: Model): Model {
  const g = model.graph;
  const inits = new Map(g.initializers);
  const producer = new Map<string, Node>();
  const uses = new Map<string, number>();
  for (const n of g.nodes) {
    for (const o of n.outputs) if (o) producer.set(o, n);
    for (const i of n.inputs) if (i) uses.set(i, (uses.get(i) ?? 0) + 1);
  }
  for (const o of g.outputs) uses.set(o.name, (uses.get(o.name) ?? 0) + 1);
  const dropped = new Set<Node>();
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    if (!isDQ(n)) {
      nodes.push(n);
      continue;
    }
    const [x, s, z] = n.inputs;
    const src = producer.get(x);
    const scale = inits.get(s);
    if (src && isQ(src)) {
      // Q → DQ: the dequantized copy is the float tensor itself.
      nodes.push({ name: n.name, opType: 'Identity', domain: '', inputs: [src.inputs[0]], outputs: [n.outputs[0]], attrs: {} });
      if (uses.get(x) === 1) dropped.add(src);
    } else if (inits.has(x) && scale) {
      inits.set(n.outputs[0], dequantizeConst(inits.get(x)!, scale, z ? inits.get(z) : undefined, attrInt(n, 'axis', 1), n.outputs[0]));
    } else {
      nodes.push(n);
    }
  }
  return withGraph(model, { nodes: nodes.filter((n) => !dropped.has(n)), initializers: inits, valueInfo: new Map() });
}
