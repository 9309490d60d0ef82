// Reference float32 execution of an IR graph, with hooks to observe or replace every intermediate tensor
// (calibration statistics, fake quantization) and to override weights.
import { InputError, isInputError } from '../../errors';
import { topoSort, type DType, type FloatTensor, type Model, type Node } from '../../ir';
import { inferDtypes } from './dtypes';
import { isIntType, type Kernel, type KernelCtx } from './kernel';
import { KERNELS } from './ops';
import { XIR_CUSTOM_DOMAIN, XIR_CUSTOM_KERNELS } from './ops/custom';
import { constToFloat, size } from './tensor';

export interface RunOptions {
  /** Called with every tensor as soon as it is computed (graph inputs included). For calibration statistics. */
  observe?: (name: string, t: FloatTensor) => void;
  /** May replace a tensor right after it is computed (e.g. fake-quantize); the replacement flows onward. */
  transform?: (name: string, t: FloatTensor) => FloatTensor;
  /** Weights override (e.g. fake-quantized or BN-folded weights) by initializer name. */
  weights?: ReadonlyMap<string, FloatTensor>;
  /** Which tensors to return; default the graph outputs. */
  outputs?: readonly string[];
  /** Kernels replacing the standard ones by op type for this run (the fake-quant run's DPU arithmetic). */
  kernels?: Readonly<Record<string, Kernel>>;
}

/**
 * A model prepared for repeated runs. Nodes that depend on initializers alone (Constant, the
 * ConstantOfShape weights of some exports, shape arithmetic on constants) are evaluated once here;
 * each run computes only the rest and drops every tensor after its last consumer, so memory stays
 * bounded by the widest point of the graph.
 *
 * Hooks see the per-run tensors (graph inputs and everything computed from them), not the folded
 * constants; `weights` may override any constant, initializer or folded, and folded constants
 * downstream of an override are recomputed. Tensors handed to hooks and returned are shared with
 * the run: treat them as read-only.
 */
export interface FloatRunner {
  readonly model: Model;
  /** Initializers and folded constants, by tensor name. */
  readonly constants: ReadonlyMap<string, FloatTensor>;
  /** Element type of every tensor (all are carried as float32; integer ones hold exact integers). */
  readonly dtypes: ReadonlyMap<string, DType>;
  /** Tensors computed per run, graph inputs first, in the order they are produced. */
  readonly activations: readonly string[];
  /** Activations held at once at the peak of the last run (count and bytes): what memory the run needed. */
  readonly lastRunPeak: { readonly tensors: number; readonly bytes: number };
  /** Whether a tensor holds floats (not shapes, indices, masks or quantized integers). */
  isFloat(name: string): boolean;
  run(feeds: Readonly<Record<string, FloatTensor>>, opts?: RunOptions): Record<string, FloatTensor>;
  /**
   * The same run, one computed node at a time: each step gives the node and its outputs before the
   * hooks see them, and the caller may replace entries of `outputs` (what flows onward). Several runs
   * stepped in lockstep let a caller decide on one node from all of their outputs (sequential bias
   * correction). The generator returns what `run` would.
   */
  steps(feeds: Readonly<Record<string, FloatTensor>>, opts?: RunOptions): Generator<NodeStep, Record<string, FloatTensor>, void>;
}

export interface NodeStep {
  readonly node: Node;
  readonly outputs: FloatTensor[];
}

function unsupported(n: Node): InputError {
  const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}::${n.opType}` : n.opType;
  return new InputError(`float interpreter: op ${op} (node ${n.name}) is not supported`);
}

function kernelOf(n: Node) {
  if (n.domain === XIR_CUSTOM_DOMAIN && Object.prototype.hasOwnProperty.call(XIR_CUSTOM_KERNELS, n.opType)) return XIR_CUSTOM_KERNELS[n.opType];
  const k = n.domain === '' || n.domain === 'ai.onnx' ? KERNELS[n.opType] : undefined;
  if (!k || !Object.prototype.hasOwnProperty.call(KERNELS, n.opType)) throw unsupported(n);
  return k;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function planFloat(model: Model): FloatRunner {
  const graph = model.graph;
  let order: Node[];
  try {
    order = topoSort(graph);
  } catch (e) {
    throw new InputError(`float interpreter: ${(e as Error).message}`);
  }
  for (const n of order) kernelOf(n);
  const dtypes = inferDtypes(graph, order);
  let scratchBuf = new Float32Array(0);
  const ctxFor = (node: Node): KernelCtx => ({
    node,
    opset: model.opset || 13,
    dtype: (name) => dtypes.get(name) ?? 'float32',
    scratch: (n) => {
      if (scratchBuf.length < n) scratchBuf = new Float32Array(Math.max(n, Math.ceil(scratchBuf.length * 1.5)));
      return scratchBuf;
    },
  });

  const exec = (n: Node, get: (name: string) => FloatTensor | undefined, kernels?: RunOptions['kernels']): FloatTensor[] => {
    const inputs = n.inputs.map((i) => {
      if (!i) return undefined;
      const t = get(i);
      if (!t) throw new Error(`float interpreter: tensor "${i}" for node ${n.name} was not computed`);
      return t;
    });
    let outs: FloatTensor[];
    try {
      const own = kernels && (n.domain === '' || n.domain === 'ai.onnx') && Object.prototype.hasOwnProperty.call(kernels, n.opType) ? kernels[n.opType] : undefined;
      outs = (own ?? kernelOf(n))(inputs, ctxFor(n));
    } catch (e) {
      if (isInputError(e)) throw e;
      throw new Error(`float interpreter: ${n.opType} (node ${n.name}) failed: ${(e as Error).message}`, { cause: e });
    }
    if (outs.length < n.outputs.filter((o) => o).length) throw new Error(`float interpreter: ${n.opType} (node ${n.name}) produced ${outs.length} outputs for ${n.outputs.length}`);
    return outs;
  };

  // Fold everything computable from initializers alone.
  const constants = new Map<string, FloatTensor>();
  for (const [name, c] of graph.initializers) constants.set(name, constToFloat(c));
  const constNodes: Node[] = [];
  const dynamic: Node[] = [];
  for (const n of order) {
    if (n.inputs.every((i) => !i || constants.has(i))) {
      const outs = exec(n, (name) => constants.get(name));
      n.outputs.forEach((o, i) => { if (o) constants.set(o, outs[i]); });
      constNodes.push(n);
    } else dynamic.push(n);
  }

  const activations = [...graph.inputs.map((t) => t.name), ...dynamic.flatMap((n) => n.outputs.filter((o) => o))];
  const lastUse = new Map<string, number>();
  dynamic.forEach((n, i) => { for (const t of n.inputs) if (t && !constants.has(t)) lastUse.set(t, i); });

  const foldWith = (weights: ReadonlyMap<string, FloatTensor>): Map<string, FloatTensor> => {
    const consts = new Map(constants);
    for (const [name, t] of weights) {
      if (!constants.has(name)) throw new InputError(`float interpreter: weight override "${name}" names no initializer or constant`);
      const was = constants.get(name)!;
      if (size(t.shape) !== t.data.length) throw new InputError(`float interpreter: weight override "${name}" has ${t.data.length} values for shape [${t.shape}]`);
      if (!sameShape(was.shape, t.shape)) throw new InputError(`float interpreter: weight override "${name}" has shape [${t.shape}], the model's is [${was.shape}]`);
      consts.set(name, t);
    }
    const dirty = new Set(weights.keys());
    for (const n of constNodes) {
      if (!n.inputs.some((i) => i && dirty.has(i))) continue;
      if (n.outputs.every((o) => !o || weights.has(o))) continue;
      const outs = exec(n, (name) => consts.get(name));
      n.outputs.forEach((o, i) => { if (o && !weights.has(o)) { consts.set(o, outs[i]); dirty.add(o); } });
    }
    return consts;
  };

  const peak = { tensors: 0, bytes: 0 };
  function* steps(feeds: Readonly<Record<string, FloatTensor>>, opts: RunOptions = {}): Generator<NodeStep, Record<string, FloatTensor>, void> {
    const consts = opts.weights?.size ? foldWith(opts.weights) : constants;
    const wanted = opts.outputs ?? graph.outputs.map((o) => o.name);
    const known = new Set([...activations, ...consts.keys()]);
    for (const w of wanted) if (!known.has(w)) throw new InputError(`float interpreter: the model has no tensor "${w}"`);
    const keep = new Set(wanted);
    const { observe, transform } = opts;
    const env = new Map<string, FloatTensor>();
    const emit = (name: string, t: FloatTensor) => {
      observe?.(name, t);
      if (transform) {
        const r = transform(name, t);
        if (size(r.shape) !== r.data.length) throw new InputError(`float interpreter: transform of "${name}" returned ${r.data.length} values for shape [${r.shape}]`);
        t = r;
      }
      env.set(name, t);
    };
    for (const info of graph.inputs) {
      const t = feeds[info.name];
      if (!t) throw new InputError(`float interpreter: no value fed for input "${info.name}"`);
      const decl = info.shape;
      if (size(t.shape) !== t.data.length) throw new InputError(`float interpreter: input "${info.name}" has ${t.data.length} values for shape [${t.shape}]`);
      if (decl && (decl.length !== t.shape.length || decl.some((d, i) => typeof d === 'number' && d > 0 && d !== t.shape[i])))
        throw new InputError(`float interpreter: input "${info.name}" expects shape [${decl.join(',')}], got [${t.shape}]`);
      emit(info.name, t);
    }
    const get = (name: string) => env.get(name) ?? consts.get(name);
    peak.tensors = 0;
    peak.bytes = 0;
    for (let i = 0; i < dynamic.length; i++) {
      const n = dynamic[i];
      const outs = exec(n, get, opts.kernels);
      yield { node: n, outputs: outs };
      n.outputs.forEach((o, k) => { if (o) emit(o, outs[k]); });
      // Reshape-like ops share their input's array: count each array once.
      let bytes = 0;
      const arrays = new Set<Float32Array>();
      for (const t of env.values()) if (!arrays.has(t.data)) { arrays.add(t.data); bytes += t.data.byteLength; }
      peak.tensors = Math.max(peak.tensors, env.size);
      peak.bytes = Math.max(peak.bytes, bytes);
      for (const o of n.outputs) if (o && !lastUse.has(o) && !keep.has(o)) env.delete(o);
      for (const t of n.inputs) if (t && lastUse.get(t) === i && !keep.has(t)) env.delete(t);
    }
    const result: Record<string, FloatTensor> = {};
    for (const w of wanted) result[w] = get(w)!;
    return result;
  }
  const run = (feeds: Readonly<Record<string, FloatTensor>>, opts: RunOptions = {}): Record<string, FloatTensor> => {
    const it = steps(feeds, opts);
    for (;;) {
      const r = it.next();
      if (r.done) return r.value;
    }
  };

  return {
    model,
    constants,
    dtypes,
    activations,
    get lastRunPeak() { return { ...peak }; },
    isFloat: (name) => !isIntType(dtypes.get(name) ?? 'float32'),
    run,
    steps,
  };
}

const plans = new WeakMap<Model, FloatRunner>();

/** Runs `model` on `feeds` (keyed by graph input name). Plans are cached per model object. */
export function runFloat(model: Model, feeds: Record<string, FloatTensor>, opts?: RunOptions): Record<string, FloatTensor> {
  let p = plans.get(model);
  if (!p) { p = planFloat(model); plans.set(model, p); }
  return p.run(feeds, opts);
}
