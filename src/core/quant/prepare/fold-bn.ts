// Fold BatchNormalization into the Conv or Gemm before it: W' = W·γ/√(σ²+ε) per output channel,
// b' = (b − μ)·γ/√(σ²+ε) + β. The DPU has no BN; vai_q folds it the same way before calibration.
import type { ConstTensor, Model, Node } from '../../ir';
import { attrInt, consumers } from '../../ir';
import { constValues, float32Attr, floatConst, freshName, initializerUses, soleConsumer, withGraph } from './edit';

export interface PrepareLog {
  readonly pass: string;
  readonly detail: string;
}

export function foldBatchNorm(model: Model, log: PrepareLog[] = []): Model {
  const g = model.graph;
  const cons = consumers(g);
  const uses = initializerUses(g);
  const inits = new Map(g.initializers);
  const taken = new Set<string>();
  const replaced = new Map<Node, Node>();
  const dropped = new Set<Node>();
  for (const n of g.nodes) {
    if (n.opType !== 'Conv' && n.opType !== 'Gemm') continue;
    const bn = soleConsumer(g, n.outputs[0], cons);
    if (!bn || bn.opType !== 'BatchNormalization' || bn.outputs.filter(Boolean).length !== 1) continue;
    const w = inits.get(n.inputs[1]);
    const bnParams = bn.inputs.slice(1, 5).map((i) => inits.get(i));
    if (!w || bnParams.some((p) => !p)) continue;
    if (n.opType === 'Gemm' && (float32Attr(n, 'alpha', 1) !== 1 || float32Attr(n, 'beta', 1) !== 1)) continue;
    const [gamma, beta, mean, variance] = (bnParams as ConstTensor[]).map(constValues);
    const eps = float32Attr(bn, 'epsilon', 1e-5);
    const transB = n.opType === 'Gemm' && attrInt(n, 'transB', 0) === 1;
    const oc = n.opType === 'Conv' ? w.shape[0] : transB ? w.shape[0] : w.shape[1];
    if (gamma.length !== oc) continue;
    const k = Float32Array.from(gamma, (gm, c) => gm / Math.sqrt(variance[c] + eps));
    const wv = constValues(w);
    if (n.opType === 'Conv' || transB) {
      const per = wv.length / oc;
      for (let c = 0; c < oc; c++) for (let i = 0; i < per; i++) wv[c * per + i] *= k[c];
    } else {
      for (let r = 0; r < w.shape[0]; r++) for (let c = 0; c < oc; c++) wv[r * oc + c] *= k[c];
    }
    const oldB = n.inputs[2] ? inits.get(n.inputs[2]) : undefined;
    if (n.inputs[2] && !oldB) continue;
    const bv = oldB ? constValues(oldB) : new Float32Array(oc);
    for (let c = 0; c < oc; c++) bv[c] = (bv[c] - mean[c]) * k[c] + beta[c];
    const wName = (uses.get(w.name) ?? 0) > 1 ? freshName(g, `${w.name}_bnfold`, taken) : w.name;
    const bName = oldB && (uses.get(oldB.name) ?? 0) === 1 ? oldB.name : freshName(g, `${n.name}_bias_bnfold`, taken);
    inits.set(wName, floatConst(wName, w.shape, wv));
    inits.set(bName, floatConst(bName, [oc], bv));
    const inputs = [n.inputs[0], wName, bName];
    replaced.set(n, { ...n, inputs, outputs: [bn.outputs[0]] });
    dropped.add(bn);
    log.push({ pass: 'fold_bn', detail: `${bn.name} folded into ${n.name}` });
  }
  if (dropped.size === 0) return model;
  const nodes = g.nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
  // BN parameters nobody reads any more go with it.
  const used = new Set([...nodes.flatMap((n) => n.inputs), ...g.outputs.map((o) => o.name)]);
  for (const name of [...inits.keys()]) if (!used.has(name)) inits.delete(name);
  return withGraph(model, { nodes, initializers: inits });
}
