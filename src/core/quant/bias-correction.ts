// Empirical bias correction toward the float model (Nagel et al. 2019 §4.2, the data-driven form, done
// layer by layer as vai_q's and AIMET's empirical bias correction): for each conv/dense layer with a
// bias, the per-channel mean of its output in the quantized model is compared with the float model's,
// and the difference goes into the bias. Only the quantized model's biases move: the float reference is
// the caller's model and stays as it was (the float side of every comparison).
// Measured on YOLOX-nano (bench/quant-layers.ts): estimating every layer's correction from one run (the
// earlier form) moved its outputs further from float (output SQNR 5.3 dB without correction, 0.0 with):
// through its ill-conditioned BN-folded convs a mean moved upstream changes what the later layers need
// by more than their own correction. Done in order, each layer is corrected for the corrected inputs it
// will really see (6.6 dB).
import type { FloatTensor, Model } from '../ir';
import { activationRunner, type Engine } from './activations';
import { constValues, floatConst, withGraph } from './prepare/edit';
import type { OrtOptions } from '../sim/float/ort';
import { planFloat, type NodeStep, type RunOptions } from '../sim/float/interpreter';
import type { QLayer } from './qgraph';

type Feeds = Record<string, FloatTensor>;

/** Samples the channel means are estimated on by default. */
export const DEFAULT_SAMPLES = 16;

export interface BiasCorrectionOptions {
  readonly ort?: OrtOptions;
  readonly engine?: Engine;
  readonly signal?: AbortSignal;
  /** Samples the per-channel means are estimated on (default 16; every sample is held through the run). */
  readonly samples?: number;
  /** Called after each corrected layer with the count so far. */
  readonly onLayer?: (corrected: number) => void;
  /**
   * The float model's per-channel means of the corrected layers' outputs over the same first samples,
   * when the caller already has them (the calibration pass, which runs the float model on those samples
   * anyway): every layer must be present, else the float model is run here.
   */
  readonly floatMeans?: ReadonlyMap<string, Float64Array>;
}

/** The tensors whose float channel means bias correction compares with (each layer's conv/dense output), with their op types. */
export function biasCorrectionTargets(model: Model, layers: readonly QLayer[]): Map<string, string> {
  return new Map(layers.filter((l) => l.bias && model.graph.initializers.has(l.bias)).map((l) => [l.node.outputs[0], l.node.opType]));
}

/**
 * Per-channel sums of the target tensors of a float run, over the first `limit` samples, read off
 * runs that happen anyway (calibration): `add` once per feed in order, `means` at the end gives what
 * bias correction would have measured itself (the same sums in the same order).
 */
export class ChannelMeans {
  private readonly sums = new Map<string, Float64Array>();
  private readonly counts = new Map<string, number>();
  private readonly missing = new Set<string>();
  private samples = 0;
  constructor(private readonly targets: ReadonlyMap<string, string>, private readonly limit = DEFAULT_SAMPLES) {}

  /** Feeds past the first `limit` samples are ignored (bias correction never reads them). */
  add(out: Readonly<Record<string, FloatTensor>>, samples: number): void {
    if (this.samples >= this.limit) return;
    for (const [name, opType] of this.targets) {
      const t = out[name];
      if (!t) this.missing.add(name);
      else accumulate(t, outputChannelAxis(opType, t.shape.length), name, this.sums, this.counts);
    }
    this.samples += samples;
  }

  /** The means of the targets present in every run. */
  means(): Map<string, Float64Array> {
    const m = meansOf(this.sums, this.counts);
    for (const name of this.missing) m.delete(name);
    return m;
  }
}

function accumulate(t: FloatTensor, axis: number, name: string, sums: Map<string, Float64Array>, counts: Map<string, number>): void {
  let s = sums.get(name);
  if (!s) { s = new Float64Array(t.shape[axis]); sums.set(name, s); }
  counts.set(name, (counts.get(name) ?? 0) + addChannelSums(t, axis, s));
}

function meansOf(sums: ReadonlyMap<string, Float64Array>, counts: ReadonlyMap<string, number>): Map<string, Float64Array> {
  const means = new Map<string, Float64Array>();
  for (const [name, s] of sums) means.set(name, s.map((v) => v / counts.get(name)!));
  return means;
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
  o: BiasCorrectionOptions,
): Promise<Map<string, Float64Array>> {
  const runner = await activationRunner(model, names, { ort: o.ort, engine: o.engine });
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
        accumulate(t, outputChannelAxis(axes.get(name)!, t.shape.length), name, sums, counts);
      }
      n += samplesIn(feeds);
    }
  } finally {
    await runner.release();
  }
  return meansOf(sums, counts);
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
export async function correctBiases(
  floatModel: Model, model: Model, layers: readonly QLayer[], run: RunOptions,
  quantizeBias: (name: string, values: Float32Array) => Float32Array,
  read: () => AsyncGenerator<Feeds>, o: BiasCorrectionOptions = {},
): Promise<{ model: Model; corrected: number }> {
  const byOutput = new Map(layers.filter((l) => l.bias && model.graph.initializers.has(l.bias)).map((l) => [l.node.outputs[0], l]));
  if (byOutput.size === 0) return { model, corrected: 0 };
  // The interpreter first: a model it cannot run fails here, before any float run.
  const runner = planFloat(model);
  const limit = o.samples ?? DEFAULT_SAMPLES;
  const feeds: Feeds[] = [];
  for await (const f of read()) {
    abortIfNeeded(o.signal);
    if (feeds.reduce((n, x) => n + samplesIn(x), 0) >= limit) break;
    feeds.push(f);
  }
  const names = [...byOutput.keys()];
  const axes = new Map(names.map((n) => [n, byOutput.get(n)!.node.opType]));
  // The float side needs only its channel means: one onnxruntime run per feed, nothing held (none
  // when the calibration pass measured them on the same samples).
  const given = o.floatMeans && names.every((n) => o.floatMeans!.has(n)) ? o.floatMeans : undefined;
  const floatMeans = given ?? await channelMeans(floatModel, names, axes, async function* () { yield* feeds; }, Infinity, o);
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
    const f = floatMeans.get(out);
    if (!l || !f) continue;
    // The runs are synchronous: give the worker's event loop a turn so a Cancel can arrive.
    await new Promise((r) => setTimeout(r, 0));
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
    o.onLayer?.(corrected);
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
