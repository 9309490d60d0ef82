// Where calibration and evaluation get their float tensors: an onnxruntime session over the model with
// the wanted intermediate tensors added as outputs (as onnxruntime's own calibrators do), or, when
// onnxruntime refuses the model (custom ops, forms it cannot load), the tool's float interpreter.
import type { FloatTensor, Model } from '../ir';
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
}

function withWeights(model: Model, weights: ReadonlyMap<string, FloatTensor>): Model {
  const inits = new Map(model.graph.initializers);
  for (const [name, t] of weights) inits.set(name, floatConst(name, t.shape, t.data));
  return withGraph(model, { initializers: inits });
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
      const m = o.weights?.size ? withWeights(model, o.weights) : model;
      const session = await createFloatSession(m, { ...o.ort, extraOutputs: computed, optimize: o.optimize });
      const outs = computed.length ? computed : session.outputNames;
      return {
        engine: 'onnxruntime',
        run: async (feeds) => pick(feeds, await session.run(feeds, outs)),
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
    release: async () => {},
  };
}
