// Graph clean-ups before quantization: no-op nodes go, constant subgraphs become initializers, and a
// per-channel constant Add after a bias-free Conv becomes the Conv's bias (older exports such as
// mnist-8 write bias that way), so every conv has the weight/bias pair the fix-point rules expect.
import type { ConstTensor, Model, Node } from '../../ir';
import { consumers } from '../../ir';
import { planFloat } from '../../sim/float/interpreter';
import { constValues, floatConst, soleConsumer, withGraph } from './edit';
import type { PrepareLog } from './fold-bn';

const NO_OPS = new Set(['Identity', 'Dropout']);

export function dropNoOps(model: Model, log: PrepareLog[] = []): Model {
  const g = model.graph;
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const rename = new Map<string, string>();
  const resolve = (t: string) => {
    while (rename.has(t)) t = rename.get(t)!;
    return t;
  };
  const kept: Node[] = [];
  for (const n of g.nodes) {
    // Dropout's optional mask output is read by nobody in inference graphs; if it is, keep the node.
    const removable = NO_OPS.has(n.opType) && !graphOutputs.has(n.outputs[0])
      && (n.opType !== 'Dropout' || n.outputs.filter(Boolean).length === 1);
    if (removable) {
      rename.set(n.outputs[0], n.inputs[0]);
      log.push({ pass: 'drop_noop', detail: `${n.opType} ${n.name} removed` });
    } else kept.push(n);
  }
  if (rename.size === 0) return model;
  const nodes = kept.map((n) => ({ ...n, inputs: n.inputs.map((i) => (i ? resolve(i) : i)) }));
  return withGraph(model, { nodes });
}

/** Replace every node computable from initializers alone with initializers of its outputs. */
export function foldConstants(model: Model, log: PrepareLog[] = []): Model {
  const g = model.graph;
  const plan = planFloat(model);
  const inits = new Map(g.initializers);
  const nodes: Node[] = [];
  let folded = 0;
  for (const n of g.nodes) {
    const outs = n.outputs.filter(Boolean);
    if (outs.length > 0 && outs.every((o) => plan.constants.has(o) && !g.initializers.has(o))) {
      for (const o of outs) {
        const t = plan.constants.get(o)!;
        const dtype = plan.dtypes.get(o) ?? 'float32';
        const c: ConstTensor = dtype === 'int64'
          ? { name: o, dtype, shape: [...t.shape], values: BigInt64Array.from(t.data, (v) => BigInt(Math.round(v))) }
          : dtype === 'int32' ? { name: o, dtype, shape: [...t.shape], values: Int32Array.from(t.data) }
          : floatConst(o, t.shape, Float32Array.from(t.data));
        inits.set(o, c);
      }
      folded++;
    } else nodes.push(n);
  }
  if (folded === 0) return model;
  log.push({ pass: 'fold_constants', detail: `${folded} constant node(s) folded into initializers` });
  const used = new Set(nodes.flatMap((n) => n.inputs));
  for (const o of g.outputs) used.add(o.name);
  for (const name of [...inits.keys()]) if (!used.has(name)) inits.delete(name);
  return withGraph(model, { nodes, initializers: inits });
}

/** Conv(x, W) → Add(·, b[C] or b[1,C,1,1]) becomes Conv(x, W, b). */
export function foldConvAddBias(model: Model, log: PrepareLog[] = []): Model {
  const g = model.graph;
  const cons = consumers(g);
  const inits = new Map(g.initializers);
  const replaced = new Map<Node, Node>();
  const dropped = new Set<Node>();
  for (const n of g.nodes) {
    if (n.opType !== 'Conv' || (n.inputs[2] ?? '') !== '') continue;
    const w = inits.get(n.inputs[1]);
    const add = soleConsumer(g, n.outputs[0], cons);
    if (!w || !add || add.opType !== 'Add') continue;
    const other = add.inputs[0] === n.outputs[0] ? add.inputs[1] : add.inputs[0];
    const b = inits.get(other);
    const oc = w.shape[0];
    if (!b) continue;
    const per = b.shape.filter((d) => d !== 1);
    const chAxisOk = b.shape.length === 1 ? b.shape[0] === oc : b.shape.length >= 2 && b.shape[b.shape.length - 3] === oc;
    if (!(per.length === 1 && per[0] === oc && chAxisOk) && !(per.length === 0 && b.shape.length <= 1)) continue;
    const v = constValues(b);
    const bias = v.length === 1 ? new Float32Array(oc).fill(v[0]) : v;
    const name = `${n.name}_bias`;
    inits.set(name, floatConst(name, [oc], bias));
    replaced.set(n, { ...n, inputs: [n.inputs[0], n.inputs[1], name], outputs: [add.outputs[0]] });
    dropped.add(add);
    log.push({ pass: 'fold_conv_add', detail: `${add.name} folded into ${n.name} as bias` });
  }
  if (dropped.size === 0) return model;
  const nodes = g.nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
  const used = new Set(nodes.flatMap((n) => n.inputs));
  for (const name of [...inits.keys()]) if (!used.has(name)) inits.delete(name);
  return withGraph(model, { nodes, initializers: inits });
}

/** MatMul(x[N,K], W[K,M]) → Add(·, b[M]) becomes Gemm(x, W, b): a dense layer with its bias. */
export function foldMatMulAdd(model: Model, log: PrepareLog[] = []): Model {
  const g = model.graph;
  const cons = consumers(g);
  const replaced = new Map<Node, Node>();
  const dropped = new Set<Node>();
  for (const n of g.nodes) {
    if (n.opType !== 'MatMul') continue;
    const w = g.initializers.get(n.inputs[1]);
    const xShape = g.valueInfo.get(n.inputs[0])?.shape ?? g.inputs.find((i) => i.name === n.inputs[0])?.shape;
    if (!w || w.shape.length !== 2 || !xShape || xShape.length !== 2) continue;
    const add = soleConsumer(g, n.outputs[0], cons);
    if (!add || add.opType !== 'Add') continue;
    const other = add.inputs[0] === n.outputs[0] ? add.inputs[1] : add.inputs[0];
    const b = g.initializers.get(other);
    if (!b || b.shape.filter((d) => d !== 1).length > 1 || constValues(b).length !== w.shape[1] || b.shape[b.shape.length - 1] !== w.shape[1]) continue;
    replaced.set(n, { ...n, opType: 'Gemm', inputs: [n.inputs[0], n.inputs[1], other], outputs: [add.outputs[0]], attrs: {} });
    dropped.add(add);
    log.push({ pass: 'fold_matmul_add', detail: `${n.name} + ${add.name} became one Gemm` });
  }
  if (dropped.size === 0) return model;
  const nodes = g.nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
  const inits = new Map(g.initializers);
  for (const n of replaced.values()) {
    const b = inits.get(n.inputs[2])!;
    if (b.shape.length !== 1) inits.set(b.name, floatConst(b.name, [constValues(b).length], constValues(b)));
  }
  return withGraph(model, { nodes, initializers: inits });
}
