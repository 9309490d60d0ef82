// The fake-quant run as an ONNX graph, so onnxruntime can measure SQNR: every quantized activation x gets
// x·2^fp → round (the tensor's own mode) → clip to the integer range → ·2^-fp, with elementwise ops, and
// the weights are replaced by their fake-quantized values. Unlike a QDQ export (QuantizeLinear always
// rounds half to even) this rounds as the quantizer does; float32 arithmetic matches `runFakeQuant`'s
// except for values within 2^-24 of a rounding tie.
import type { Model, Node } from '../ir';
import { intRange } from './fixpoint';
import { floatConst, withGraph } from './prepare/edit';
import type { TensorQuant } from './quantize';

export interface FakeQuantGraph {
  readonly model: Model;
  /** Each quantized activation → the tensor holding its fake-quantized value. */
  readonly quantized: ReadonlyMap<string, string>;
}

export function fakeQuantGraph(model: Model, tensors: ReadonlyMap<string, TensorQuant>): FakeQuantGraph {
  const g = model.graph;
  const inits = new Map(g.initializers);
  const taken = new Set<string>([...inits.keys(), ...g.nodes.flatMap((n) => [...n.outputs, n.name]), ...g.inputs.map((i) => i.name)]);
  const fresh = (base: string) => {
    let n = base;
    for (let k = 1; taken.has(n); k++) n = `${base}_${k}`;
    taken.add(n);
    return n;
  };
  const scalar = (base: string, v: number) => {
    const n = fresh(base);
    inits.set(n, floatConst(n, [], new Float32Array([v])));
    return n;
  };
  const node = (t: string, opType: string, inputs: string[], attrs: Node['attrs'] = {}): Node => ({
    name: fresh(`${t}_fq_${opType}`), opType, domain: '', inputs, outputs: [fresh(`${t}_fq_${opType}_out`)], attrs,
  });
  const inputs = new Set(g.inputs.map((i) => i.name));
  const pre: Node[] = [];
  const post = new Map<string, Node[]>();
  const quantized = new Map<string, string>();
  for (const t of tensors.values()) {
    if (t.dataType !== 'activation' && t.dataType !== 'input') continue;
    const pow2 = t.scale === 2 ** -t.fixPoint;
    const nodes: Node[] = [];
    const chain = (opType: string, rest: string[] = [], attrs: Node['attrs'] = {}) => {
      const prev = nodes.length ? nodes[nodes.length - 1].outputs[0] : t.name;
      nodes.push(node(t.name, opType, [prev, ...rest], attrs));
    };
    chain(pow2 ? 'Mul' : 'Div', [scalar(`${t.name}_fq_in`, pow2 ? 2 ** t.fixPoint : t.scale)]);
    const half = () => scalar(`${t.name}_fq_half`, 0.5);
    switch (t.roundMode) {
      case 'half_up': chain('Add', [half()]); chain('Floor'); break;
      case 'half_down': chain('Sub', [half()]); chain('Ceil'); break;
      case 'half_even': chain('Round'); break; // ONNX Round: ties to even
      case 'std_round': {
        // Ties away from zero: sign(y)·floor(|y| + 0.5).
        const y = nodes[nodes.length - 1].outputs[0];
        const sign = node(t.name, 'Sign', [y]);
        nodes.push(sign, node(t.name, 'Abs', [y]));
        chain('Add', [half()]);
        chain('Floor');
        chain('Mul', [sign.outputs[0]]);
      }
    }
    const { lo, hi } = intRange(t.bitWidth);
    if (model.opset >= 11) chain('Clip', [scalar(`${t.name}_fq_lo`, lo), scalar(`${t.name}_fq_hi`, hi)]);
    else chain('Clip', [], { min: { kind: 'float', value: lo }, max: { kind: 'float', value: hi } });
    chain('Mul', [scalar(`${t.name}_fq_out`, pow2 ? 2 ** -t.fixPoint : t.scale)]);
    quantized.set(t.name, nodes[nodes.length - 1].outputs[0]);
    if (inputs.has(t.name)) pre.push(...nodes);
    else post.set(t.name, nodes);
  }
  const ours = new Set([...pre, ...[...post.values()].flat()]);
  const nodes: Node[] = [...pre];
  for (const n of g.nodes) {
    nodes.push(ours.has(n) ? n : { ...n, inputs: n.inputs.map((i) => quantized.get(i) ?? i) });
    for (const o of n.outputs) nodes.push(...(post.get(o) ?? []));
  }
  return { model: withGraph(model, { nodes, initializers: inits, valueInfo: new Map() }), quantized };
}
