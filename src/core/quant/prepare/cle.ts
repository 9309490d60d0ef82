// Cross-layer equalization (Nagel et al. 2019, §4): for conv0 → [positive-homogeneous act] → conv1,
// per channel c: s = r0/√(r0·r1) with r0 = max|W0[c,…]|, r1 = max|W1[:,c,…]|; W0/=s, b0/=s, W1*=s.
// relu(x/s) = relu(x)/s for s > 0, so the float function is unchanged while both weight ranges meet
// in the middle, which per-tensor weight quantization needs.
import type { Model, Node } from '../../ir';
import { attrInt, consumers } from '../../ir';
import { constValues, floatConst, initializerUses, soleConsumer, withGraph } from './edit';
import type { PrepareLog } from './fold-bn';

const HOMOGENEOUS = new Set(['Relu', 'LeakyRelu', 'PRelu']);

interface Pair {
  readonly conv0: Node;
  readonly conv1: Node;
  /** conv1 is depthwise: input channel c is its filter c. */
  readonly depthwise1: boolean;
}

function isConvLike(n: Node): boolean {
  return n.opType === 'Conv' || (n.opType === 'Gemm' && attrInt(n, 'transB', 0) === 1);
}

function findPairs(model: Model): Pair[] {
  const g = model.graph;
  const cons = consumers(g);
  const uses = initializerUses(g);
  const pairs: Pair[] = [];
  for (const n of g.nodes) {
    if (!isConvLike(n) || !g.initializers.has(n.inputs[1]) || uses.get(n.inputs[1]) !== 1) continue;
    if (n.inputs[2] && !g.initializers.has(n.inputs[2])) continue;
    // Walk through ops that commute with a positive per-channel scale: relu, leaky relu, max pool.
    let next = soleConsumer(g, n.outputs[0], cons);
    while (next && (HOMOGENEOUS.has(next.opType) || next.opType === 'MaxPool')) {
      if (next.opType === 'PRelu') break; // per-channel slopes would have to move too
      next = soleConsumer(g, next.outputs[0], cons);
    }
    if (!next || !isConvLike(next) || next.opType !== n.opType || !g.initializers.has(next.inputs[1]) || uses.get(next.inputs[1]) !== 1) continue;
    const w0 = g.initializers.get(n.inputs[1])!;
    const w1 = g.initializers.get(next.inputs[1])!;
    const group0 = attrInt(n, 'group', 1);
    const group1 = attrInt(next, 'group', 1);
    if (group0 !== 1) continue; // a grouped conv0 would need its groups rescaled together
    const oc0 = w0.shape[0];
    const depthwise1 = next.opType === 'Conv' && group1 === oc0 && w1.shape[1] === 1 && w1.shape[0] === oc0;
    if (!depthwise1 && (group1 !== 1 || w1.shape[1] !== oc0)) continue;
    pairs.push({ conv0: n, conv1: next, depthwise1 });
  }
  return pairs;
}

export function crossLayerEqualize(model: Model, log: PrepareLog[] = [], iterations = 10): Model {
  const pairs = findPairs(model);
  if (pairs.length === 0) return model;
  const g = model.graph;
  const w = new Map<string, Float32Array>();
  const get = (name: string) => {
    let v = w.get(name);
    if (!v) { v = constValues(g.initializers.get(name)!); w.set(name, v); }
    return v;
  };
  let lastChange = 0;
  for (let it = 0; it < iterations; it++) {
    let maxChange = 0;
    for (const p of pairs) {
      const w0 = get(p.conv0.inputs[1]);
      const w1 = get(p.conv1.inputs[1]);
      const b0 = p.conv0.inputs[2] ? get(p.conv0.inputs[2]) : undefined;
      const s1 = g.initializers.get(p.conv1.inputs[1])!.shape;
      const oc = g.initializers.get(p.conv0.inputs[1])!.shape[0];
      const per0 = w0.length / oc;
      const k1 = p.depthwise1 ? w1.length / oc : s1.slice(2).reduce((a, b) => a * b, 1);
      const oc1 = p.depthwise1 ? oc : s1[0];
      const idx1 = (o: number, c: number, k: number) => (p.depthwise1 ? c * k1 + k : (o * oc + c) * k1 + k);
      for (let c = 0; c < oc; c++) {
        let r0 = 0;
        for (let i = 0; i < per0; i++) r0 = Math.max(r0, Math.abs(w0[c * per0 + i]));
        let r1 = 0;
        for (let o = 0; o < (p.depthwise1 ? 1 : oc1); o++) for (let k = 0; k < k1; k++) r1 = Math.max(r1, Math.abs(w1[idx1(o, c, k)]));
        if (r0 === 0 || r1 === 0) continue;
        const s = r0 / Math.sqrt(r0 * r1);
        maxChange = Math.max(maxChange, Math.abs(Math.log(s)));
        for (let i = 0; i < per0; i++) w0[c * per0 + i] /= s;
        if (b0) b0[c] /= s;
        for (let o = 0; o < (p.depthwise1 ? 1 : oc1); o++) for (let k = 0; k < k1; k++) w1[idx1(o, c, k)] *= s;
      }
    }
    lastChange = maxChange;
    if (maxChange < 1e-6) break;
  }
  const inits = new Map(g.initializers);
  for (const [name, v] of w) inits.set(name, floatConst(name, g.initializers.get(name)!.shape, v));
  log.push({ pass: 'cle', detail: `${pairs.length} layer pair(s) equalized (last change ${lastChange.toExponential(1)})` });
  return withGraph(model, { initializers: inits });
}
