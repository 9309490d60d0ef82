// Empirical bias correction toward the float model (Nagel et al. 2019 §4.2, the data-driven form, as
// vai_q's bias correction): for each conv/dense layer with a bias, the per-channel mean of its output
// with quantized weights (the network's, so upstream rounding is included) is compared with the float
// model's, and the difference is taken off the bias. Only the quantized model's biases move: the float
// reference is the caller's model and stays as it was (the float side of every comparison).
// Measured on YOLOX-nano (bench/quant-layers.ts): correcting for activation quantization too, or
// repeating the correction, made its outputs worse — the corrections of all layers are estimated at
// once, and through its ill-conditioned BN-folded 1×1 convs a mean moved upstream changes what the
// later layers need by more than their own correction; so weights only, one pass, is the default.
import type { FloatTensor, Model } from '../ir';
import { activationRunner, type Engine } from './activations';
import { fakeQuantGraph } from './fakequant-graph';
import { constValues, floatConst, withGraph } from './prepare/edit';
import type { OrtOptions } from '../sim/float/ort';
import { planFloat, type NodeStep, type RunOptions } from '../sim/float/interpreter';
import type { QLayer } from './qgraph';
import type { TensorQuant } from './quantize';

type Feeds = Record<string, FloatTensor>;

export interface BiasCorrectionOptions {
  readonly ort?: OrtOptions;
  readonly engine?: Engine;
  readonly signal?: AbortSignal;
  /** Samples the per-channel means are estimated on (default 32). */
  readonly samples?: number;
  /** Correction passes (default 1): each pass sees the biases the previous one corrected. */
  readonly iterations?: number;
  /** Also quantize the activations in the corrected run (default false: weights and biases only). */
  readonly activations?: boolean;
  readonly onPass?: (pass: number) => void;
}

/** Output-channel axis of a layer's output: 1 for Conv, last for a dense layer. */
function outputChannelAxis(opType: string, rank: number): number {
  return opType === 'Conv' || opType === 'ConvTranspose' ? 1 : rank - 1;
}

/** Adds each channel's sum of `t` to `sums` (allocated on first use); returns the values per channel. */
export function addChannelSums(t: FloatTensor, axis: number, sums: Float64Array): number {
  const c = t.shape[axis];
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const d = t.data;
  for (let i = 0; i < d.length;) {
    for (let ch = 0; ch < c; ch++) {
      let acc = sums[ch];
      for (let k = 0; k < inner; k++) acc += d[i++];
      sums[ch] = acc;
    }
  }
  return d.length / c;
}

function samplesIn(feeds: Feeds): number {
  return Object.values(feeds)[0]?.shape[0] ?? 1;
}

function abortIfNeeded(signal?: AbortSignal) {
  if (signal?.aborted) {
    const e = new Error('quantization cancelled');
    e.name = 'AbortError';
    throw e;
  }
}

/** Per-channel means of `names` over the first `limit` samples. */
async function channelMeans(
  model: Model, names: readonly string[], axes: ReadonlyMap<string, string>, read: () => AsyncGenerator<Feeds>, limit: number,
  o: BiasCorrectionOptions & { weights?: ReadonlyMap<string, FloatTensor> },
): Promise<{ means: Map<string, Float64Array>; engine: Engine }> {
  const runner = await activationRunner(model, names, { ort: o.ort, engine: o.engine, weights: o.weights });
  const sums = new Map<string, Float64Array>();
  const counts = new Map<string, number>();
  try {
    let n = 0;
    for await (const feeds of read()) {
      abortIfNeeded(o.signal);
      if (n >= limit) break;
      const out = await runner.run(feeds);
      for (const name of names) {
        const t = out[name];
        const axis = outputChannelAxis(axes.get(name)!, t.shape.length);
        let s = sums.get(name);
        if (!s) { s = new Float64Array(t.shape[axis]); sums.set(name, s); }
        counts.set(name, (counts.get(name) ?? 0) + addChannelSums(t, axis, s));
      }
      n += samplesIn(feeds);
    }
  } finally {
    await runner.release();
  }
  const means = new Map<string, Float64Array>();
  for (const [name, s] of sums) means.set(name, s.map((v) => v / counts.get(name)!));
  return { means, engine: runner.engine };
}

/**
 * The quantized model with corrected biases. `solve(m)` gives the quantization of a model whose biases
 * changed (their fix points may move); `weights(m, q)` its fake-quantized initializers.
 */
export async function correctBiases(
  floatModel: Model, model: Model, layers: readonly QLayer[],
  solve: (m: Model) => ReadonlyMap<string, TensorQuant>,
  weights: (m: Model, q: ReadonlyMap<string, TensorQuant>) => ReadonlyMap<string, FloatTensor>,
  read: () => AsyncGenerator<Feeds>, o: BiasCorrectionOptions = {},
): Promise<{ model: Model; corrected: number }> {
  const byOutput = new Map(layers.filter((l) => l.bias).map((l) => [l.node.outputs[0], l]));
  if (byOutput.size === 0) return { model, corrected: 0 };
  const names = [...byOutput.keys()];
  const axes = new Map(names.map((n) => [n, byOutput.get(n)!.node.opType]));
  const limit = o.samples ?? 32;
  const float = await channelMeans(floatModel, names, axes, read, limit, o);
  let m = model;
  const corrected = new Set<string>();
  for (let pass = 0; pass < (o.iterations ?? 1); pass++) {
    const tensors = solve(m);
    const fq = fakeQuantGraph(m, o.activations ? tensors : new Map([...tensors].filter(([, t]) => t.dataType === 'weights' || t.dataType === 'bias')));
    // The raw layer outputs keep their names in the fake-quant graph (its rounding nodes come after).
    const quant = await channelMeans(fq.model, names, axes, read, limit, { ...o, engine: float.engine, weights: weights(m, tensors) });
    const inits = new Map(m.graph.initializers);
    for (const [name, l] of byOutput) {
      const f = float.means.get(name);
      const q = quant.means.get(name);
      const b = inits.get(l.bias!);
      if (!f || !q || !b) continue;
      const v = constValues(b);
      if (v.length !== f.length) continue;
      for (let c = 0; c < v.length; c++) v[c] -= q[c] - f[c];
      inits.set(b.name, floatConst(b.name, b.shape, v));
      corrected.add(b.name);
    }
    m = withGraph(m, { initializers: inits });
    o.onPass?.(pass + 1);
  }
  return { model: m, corrected: corrected.size };
}

/**
 * Empirical bias correction done layer by layer (as vai_q's and AIMET's): the quantized model runs on
 * the first `samples` calibration samples in lockstep on the interpreter (`run`: its fake-quant
 * options, everything quantized), and at each layer, before anything downstream is computed, the
 * per-channel mean of its output is compared with the float model's; the difference goes into the bias
 * (on the bias's grid) and into the outputs flowing on, so every later layer is corrected for the inputs
 * it will really see, upstream corrections included. Unlike the all-at-once estimate, a correction
 * never has to anticipate the others.
 */
export async function correctBiasesSequentially(
  floatModel: Model, model: Model, layers: readonly QLayer[], run: RunOptions,
  quantizeBias: (name: string, values: Float32Array) => Float32Array,
  read: () => AsyncGenerator<Feeds>, o: BiasCorrectionOptions = {},
): Promise<{ model: Model; corrected: number }> {
  const byOutput = new Map(layers.filter((l) => l.bias && model.graph.initializers.has(l.bias)).map((l) => [l.node.outputs[0], l]));
  if (byOutput.size === 0) return { model, corrected: 0 };
  const limit = o.samples ?? 16;
  const feeds: Feeds[] = [];
  for await (const f of read()) {
    abortIfNeeded(o.signal);
    if (feeds.reduce((n, x) => n + samplesIn(x), 0) >= limit) break;
    feeds.push(f);
  }
  const names = [...byOutput.keys()];
  const axes = new Map(names.map((n) => [n, byOutput.get(n)!.node.opType]));
  // The float side needs only its channel means: one onnxruntime run per feed, nothing held.
  const float = await channelMeans(floatModel, names, axes, async function* () { yield* feeds; }, Infinity, o);
  const runner = planFloat(model);
  const runs = feeds.map((f) => runner.steps(f, run));
  const inits = new Map(model.graph.initializers);
  let corrected = 0;
  for (;;) {
    const steps = runs.map((r) => r.next());
    if (steps.every((s) => s.done)) break;
    if (steps.some((s) => s.done)) throw new Error('bias correction: the lockstep runs went out of step');
    const { node } = steps[0].value as NodeStep;
    const out = node.outputs[0];
    const l = byOutput.get(out);
    const f = float.means.get(out);
    if (!l || !f) continue;
    abortIfNeeded(o.signal);
    const outs = steps.map((s) => (s.value as NodeStep).outputs);
    const axis = outputChannelAxis(node.opType, outs[0][0].shape.length);
    const sums = new Float64Array(outs[0][0].shape[axis]);
    let count = 0;
    for (const t of outs) count += addChannelSums(t[0], axis, sums);
    const b = inits.get(l.bias!)!;
    const v = constValues(b);
    if (v.length !== sums.length || count === 0) continue;
    // What the run used for the bias (on its grid), and the corrected bias on the same grid.
    const before = run.weights?.get(b.name)?.data ?? Float32Array.from(v);
    // From the bias the run used (the float one's rounding error is in the measured mean too).
    for (let c = 0; c < v.length; c++) v[c] = before[c] + f[c] - sums[c] / count;
    const after = quantizeBias(b.name, v);
    inits.set(b.name, floatConst(b.name, b.shape, v));
    corrected++;
    const shift = after.map((x, c) => x - before[c]);
    for (const t of outs) {
      const data = Float32Array.from(t[0].data);
      addPerChannel(data, t[0].shape, axis, shift);
      t[0] = { shape: t[0].shape, data };
    }
    o.onPass?.(corrected);
  }
  return { model: withGraph(model, { initializers: inits }), corrected };
}

/** Adds `shift[c]` to every value of channel c (channels on `axis`). */
function addPerChannel(d: Float32Array, shape: readonly number[], axis: number, shift: Float32Array): void {
  const c = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < d.length;) {
    for (let ch = 0; ch < c; ch++) {
      const s = shift[ch];
      for (let k = 0; k < inner; k++) d[i++] += s;
    }
  }
}
