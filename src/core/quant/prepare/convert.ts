// Optional rewrites toward what the DPU runs (§3, §2): each changes the float function, so each is off
// unless the quant config asks for it.
import type { Model, Node } from '../../ir';
import { consumers, producers } from '../../ir';
import { constValues, withGraph } from './edit';
import type { PrepareLog } from './fold-bn';

/** The DPU's only LeakyReLU slope. */
export const DPU_LEAKY_SLOPE = 26 / 256;

/** Clip(0, 6) → Relu. */
export function relu6ToRelu(model: Model, log: PrepareLog[] = []): Model {
  const g = model.graph;
  let n0 = 0;
  const nodes = g.nodes.map((n): Node => {
    if (n.opType !== 'Clip') return n;
    const attrMin = n.attrs.min?.kind === 'float' ? n.attrs.min.value : undefined;
    const attrMax = n.attrs.max?.kind === 'float' ? n.attrs.max.value : undefined;
    const lo = n.inputs[1] ? g.initializers.get(n.inputs[1]) : undefined;
    const hi = n.inputs[2] ? g.initializers.get(n.inputs[2]) : undefined;
    const min = lo ? constValues(lo)[0] : attrMin;
    const max = hi ? constValues(hi)[0] : attrMax;
    if (min !== 0 || max !== 6) return n;
    n0++;
    return { ...n, opType: 'Relu', inputs: [n.inputs[0]], attrs: {} };
  });
  if (n0 === 0) return model;
  log.push({ pass: 'relu6_to_relu', detail: `${n0} ReLU6 replaced by ReLU` });
  return withGraph(model, { nodes });
}

/** x·Sigmoid(x) → HardSwish(x). */
export function siluToHardSwish(model: Model, log: PrepareLog[] = []): Model {
  const g = model.graph;
  const prod = producers(g);
  const cons = consumers(g);
  const drop = new Set<Node>();
  const swap = new Map<Node, Node>();
  for (const n of g.nodes) {
    if (n.opType !== 'Mul') continue;
    for (const k of [0, 1]) {
      const s = prod.get(n.inputs[k]);
      const x = n.inputs[1 - k];
      if (s?.opType === 'Sigmoid' && s.inputs[0] === x && cons.get(s.outputs[0])?.length === 1) {
        drop.add(s);
        swap.set(n, { ...n, opType: 'HardSwish', inputs: [x], attrs: {} });
        break;
      }
    }
  }
  if (swap.size === 0) return model;
  log.push({ pass: 'silu_to_hswish', detail: `${swap.size} SiLU replaced by HardSwish` });
  return withGraph(model, { nodes: g.nodes.filter((n) => !drop.has(n)).map((n) => swap.get(n) ?? n) });
}

/** Sigmoid → HardSigmoid with the DPU's relu6(x + 3)/6. */
export function sigmoidToHardSigmoid(model: Model, log: PrepareLog[] = []): Model {
  let k = 0;
  const nodes = model.graph.nodes.map((n): Node => {
    if (n.opType !== 'Sigmoid') return n;
    k++;
    return { ...n, opType: 'HardSigmoid', attrs: { alpha: { kind: 'float', value: 1 / 6 }, beta: { kind: 'float', value: 0.5 } } };
  });
  if (k === 0) return model;
  log.push({ pass: 'sigmoid_to_hsigmoid', detail: `${k} Sigmoid replaced by HardSigmoid` });
  return withGraph(model, { nodes });
}

/** LeakyRelu slopes → 26/256. */
export function leakySlopeToDpu(model: Model, log: PrepareLog[] = []): Model {
  let k = 0;
  const nodes = model.graph.nodes.map((n): Node => {
    if (n.opType !== 'LeakyRelu') return n;
    const a = n.attrs.alpha?.kind === 'float' ? n.attrs.alpha.value : 0.01;
    if (a === DPU_LEAKY_SLOPE) return n;
    k++;
    return { ...n, attrs: { ...n.attrs, alpha: { kind: 'float', value: DPU_LEAKY_SLOPE } } };
  });
  if (k === 0) return model;
  log.push({ pass: 'leaky_relu_slope', detail: `${k} LeakyRelu slope(s) set to 26/256` });
  return withGraph(model, { nodes });
}
