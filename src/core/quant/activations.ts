// Where calibration and evaluation get their float tensors: an onnxruntime session over the model with
// the wanted intermediate tensors added as outputs (as onnxruntime's own calibrators do), or, when
// onnxruntime refuses the model (custom ops, forms it cannot load), the tool's float interpreter.
import type { FloatTensor, Model, Node } from '../ir';
import { isInputError } from '../errors';
import { planFloat } from '../sim/float/interpreter';
import { createFloatSession, type OrtOptions } from '../sim/float/ort';
import { floatConst, withGraph } from './prepare/edit';

export type Engine = 'onnxruntime' | 'interpreter';

export interface ActivationRunner {
  readonly engine: Engine;
  /** Why onnxruntime was not used (the interpreter serves), for a warning. */
  readonly fallbackReason?: string;
  /**
   * The named tensors for one feed (graph inputs come from the feed). The arrays belong to the caller:
   * no later run reuses them, so statistics can hold them without a copy.
   */
  run(feeds: Readonly<Record<string, FloatTensor>>): Promise<Record<string, FloatTensor>>;
  /**
   * The same, with the min and max of each `ranges` tensor computed inside onnxruntime (ReduceMin/ReduceMax
   * in the graph: one SIMD pass in wasm instead of one in JS). Tensors it has no range for are absent.
   */
  runWithRanges(feeds: Readonly<Record<string, FloatTensor>>): Promise<{ tensors: Record<string, FloatTensor>; ranges: ReadonlyMap<string, { min: number; max: number }> }>;
  release(): Promise<void>;
}

export interface RunnerOptions {
  readonly ort?: OrtOptions;
  /** Replacement values for initializers (fake-quantized weights for the bias-correction run). */
  readonly weights?: ReadonlyMap<string, FloatTensor>;
  /** 'auto' (default): onnxruntime, the interpreter when onnxruntime cannot load the model. */
  readonly engine?: Engine | 'auto';
  /** Graph optimizations in onnxruntime (default on; a QDQ model is run without, to keep its grid). */
  readonly optimize?: boolean;
  /** Tensors whose min and max `runWithRanges` reports (onnxruntime only). */
  readonly ranges?: readonly string[];
}

function withWeights(model: Model, weights: ReadonlyMap<string, FloatTensor>): Model {
  const inits = new Map(model.graph.initializers);
  for (const [name, t] of weights) inits.set(name, floatConst(name, t.shape, t.data));
  return withGraph(model, { initializers: inits });
}

/** The model with ReduceMin/ReduceMax of each of `names` as extra outputs: name → [min output, max output]. */
function withRanges(model: Model, names: readonly string[]): { model: Model; outputs: Map<string, [string, string]> } {
  const g = model.graph;
  const taken = new Set<string>([...g.initializers.keys(), ...g.inputs.map((i) => i.name), ...g.nodes.flatMap((n) => [...n.outputs, n.name])]);
  const fresh = (base: string) => {
    let n = base;
    for (let k = 1; taken.has(n); k++) n = `${base}_${k}`;
    taken.add(n);
    return n;
  };
  const nodes: Node[] = [];
  const outputs = new Map<string, [string, string]>();
  for (const name of names) {
    const pair = (['ReduceMin', 'ReduceMax'] as const).map((op) => {
      const out = fresh(`${name}_${op}`);
      // No axes: every axis is reduced, in every opset.
      nodes.push({ name: fresh(`${name}_${op}_node`), opType: op, domain: '', inputs: [name], outputs: [out], attrs: { keepdims: { kind: 'int', value: 0 } } });
      return out;
    });
    outputs.set(name, [pair[0], pair[1]]);
  }
  return { model: withGraph(model, { nodes: [...g.nodes, ...nodes] }), outputs };
}

/** A runner returning `names` for each feed. */
export async function activationRunner(model: Model, names: readonly string[], o: RunnerOptions = {}): Promise<ActivationRunner> {
  const inputs = new Set(model.graph.inputs.map((i) => i.name));
  const computed = [...new Set(names)].filter((n) => !inputs.has(n));
  const fromFeeds = names.filter((n) => inputs.has(n));
  const pick = (feeds: Readonly<Record<string, FloatTensor>>, out: Record<string, FloatTensor>) => {
    for (const n of fromFeeds) out[n] = feeds[n];
    return out;
  };
  let fallbackReason: string | undefined;
  if ((o.engine ?? 'auto') !== 'interpreter') {
    try {
      let m = o.weights?.size ? withWeights(model, o.weights) : model;
      const reduced = withRanges(m, (o.ranges ?? []).filter((n) => !inputs.has(n)));
      m = reduced.model;
      const rangeOuts = [...reduced.outputs.values()].flat();
      const session = await createFloatSession(m, { ...o.ort, extraOutputs: [...computed, ...rangeOuts], optimize: o.optimize });
      const outs = computed.length ? computed : session.outputNames.filter((n) => !rangeOuts.includes(n));
      const runWithRanges = async (feeds: Readonly<Record<string, FloatTensor>>) => {
        const res = await session.run(feeds, [...outs, ...rangeOuts]);
        const ranges = new Map<string, { min: number; max: number }>();
        for (const [name, [lo, hi]] of reduced.outputs) {
          ranges.set(name, { min: res[lo].data[0], max: res[hi].data[0] });
          delete res[lo];
          delete res[hi];
        }
        return { tensors: pick(feeds, res), ranges };
      };
      return {
        engine: 'onnxruntime',
        run: async (feeds) => (await runWithRanges(feeds)).tensors,
        runWithRanges,
        release: () => session.release(),
      };
    } catch (e) {
      if (o.engine === 'onnxruntime' || !isInputError(e)) throw e;
      fallbackReason = (e as Error).message;
    }
  }
  const runner = planFloat(model);
  const run = async (feeds: Readonly<Record<string, FloatTensor>>) => pick(feeds, runner.run(feeds, { outputs: computed, weights: o.weights }));
  return {
    engine: 'interpreter',
    fallbackReason,
    run,
    runWithRanges: async (feeds) => ({ tensors: await run(feeds), ranges: new Map() }),
    release: async () => {},
  };
}
