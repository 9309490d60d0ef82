// The quantization pipeline: prepare the graph, calibrate activations over the calibration set with
// bounded running statistics, pick weight/bias/activation fix points, enforce the §3 rules, correct
// biases, and measure each layer's SQNR against float. The float runs are onnxruntime sessions with the
// observed tensors as extra outputs (the built-in interpreter only where onnxruntime refuses the model).
// The statistics are kept in the result so a changed method or pinned fix point is re-solved without
// another float pass (`requantize`).
import { topoSort, type FloatTensor, type Model } from '../ir';
import { InputError, isInputError } from '../errors';
import { inferDtypes } from '../sim/float/dtypes';
import { planFloat, runFloat, type RunOptions } from '../sim/float/interpreter';
import { isIntType } from '../sim/float/kernel';
import type { OrtOptions } from '../sim/float/ort';
import { activationRunner, type ActivationRunner, type Engine } from './activations';
import { newHistogram, addToHistogram } from './calibrate/histogram';
import { localFolder, remoteFolder, type FoldItem, type FolderPort, type StatsFolder } from './calibrate/folder';
import { derivedTensors, valuesOf } from './calibrate/derive';
import { FloatArena } from './calibrate/arena';
import {
  diffsFixPoint, entropyThreshold, fixPointOfThreshold, maxminFixPoint, mseThreshold, percentileThreshold,
  scaleOfThreshold, type CalibMethod,
} from './calibrate/methods';
import {
  alternatives, chooseFixPoint, clippedFraction as statsClipped, histogramForDisplay, newTensorStats,
  type TensorStats,
} from './calibrate/stats';
import { floatScaleMethodProblem, resolveParams, type DataType, type QuantConfig, type TensorQuantParams } from './config';
import {
  clippedFraction, fakeQuant, fakeQuantScale, intRange, quantError, ROUNDERS, zeroTensorFixPoint, type RoundMode,
} from './fixpoint';
import { dpuKernels } from './dpu-ops';
import { prepareModel, type PrepareLog } from './prepare';
import { constValues, floatConst, withGraph } from './prepare/edit';
import { buildQGraph, type QGraph, type QLayer } from './qgraph';
import { fakeQuantGraph } from './fakequant-graph';
import { applyRules, type Adjustment } from './rules';
import { biasCorrectionTargets, ChannelMeans, correctBiases } from './bias-correction';
import { adaroundWeights } from './adaround';

export type Feeds = Record<string, FloatTensor>;
/** Calibration batches. A factory (or an array) can be read once per pass; a one-shot iterator is cached. */
export type CalibSource = Iterable<Feeds> | AsyncIterable<Feeds> | (() => Iterable<Feeds> | AsyncIterable<Feeds>);

export interface TensorQuant {
  readonly name: string;
  readonly dataType: DataType;
  /** The layer whose config governs it ('' for graph inputs). */
  readonly layer: string;
  readonly fixPoint: number;
  /** What calibration chose before the §3 rules moved it. */
  readonly calibratedFixPoint: number;
  readonly bitWidth: number;
  readonly method: CalibMethod;
  readonly roundMode: RoundMode;
  /** 2^-fixPoint for power-of-two targets; the method's float scale otherwise. */
  readonly scale: number;
  readonly clippedFraction: number;
  readonly allZero: boolean;
  /** Mean squared error at nearby fix points (activations: estimated from the histogram). */
  readonly alternatives: readonly { fp: number; mse: number }[];
  readonly histogram?: { lo: number; hi: number; counts: number[] };
  /** Per-channel weights (non-DPU targets only): one scale per slice along `axis`. */
  readonly channel?: ChannelQuant;
}

export interface ChannelQuant {
  readonly axis: number;
  readonly scales: readonly number[];
}

/** Output-channel axis of a layer's weight: OC first for Conv and Gemm(transB), last for MatMul. */
function weightChannelAxis(opType: string, transB: boolean): number {
  if (opType === 'Conv') return 0;
  if (opType === 'ConvTranspose') return 1;
  return opType === 'Gemm' && transB ? 0 : 1;
}

/** Visit each slice along `axis` of a C-ordered tensor: f(channel, flat index). */
function forEachChannel(shape: readonly number[], axis: number, f: (c: number, i: number) => void): void {
  const c = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i++) f(Math.floor(i / inner) % c, i);
}

function channelChoice(values: Float32Array, shape: readonly number[], axis: number, p: TensorQuantParams, method: CalibMethod): ChannelQuant {
  const parts: number[][] = Array.from({ length: shape[axis] }, () => []);
  forEachChannel(shape, axis, (c, i) => parts[c].push(values[i]));
  const scales = parts.map((part) => {
    const ch = constChoice(Float32Array.from(part), p, method);
    return p.scale_type === 'poweroftwo' ? 2 ** -ch.fp : ch.scale;
  });
  return { axis, scales };
}

export interface LayerMetric {
  readonly layer: string;
  readonly opType: string;
  readonly output: string;
  /** 10·log10(Σf² / Σ(f − q)²) over the evaluated samples (the first 32 by default, 16 for large feature maps: see `evalSamples`); Infinity when exact. */
  readonly sqnrDb: number;
  readonly cosine: number;
}

export interface QuantProgress {
  readonly phase: 'calibrate' | 'evaluate';
  readonly batch: number;
  /** Calibration's last event: every batch's statistics folded. */
  readonly done?: boolean;
}

export interface QuantOptions {
  onProgress?: (p: QuantProgress) => void;
  signal?: AbortSignal;
  /** Samples per statistics batch for the per-batch methods (vai_q's calibration batch). Default 32. */
  statBatch?: number;
  /** Skip the SQNR/cosine pass. */
  skipEvaluation?: boolean;
  /** onnxruntime settings (threads, where its wasm is served). */
  ort?: OrtOptions;
  /** Force a float engine; default onnxruntime, the interpreter when onnxruntime cannot load the model. */
  engine?: Engine;
  /** Estimate the bias correction on the first N samples (default 16; they are held in memory together). */
  biasCorrSamples?: number;
  /**
   * Measure SQNR/cosine on the first N samples (Infinity for all). Default 32, or 16 once 2^28 values
   * were compared (large feature maps): per-layer SQNR over millions of values settles within a few
   * samples, and each costs a float and a quantized run.
   */
  evalSamples?: number;
  /**
   * A thread for the calibration statistics (src/cli/fold-thread.ts in Node): they are folded there while
   * onnxruntime runs the next batch. Without it they fold between runs.
   */
  foldThread?: () => FolderPort;
}

/** Pins and method changes the UI applies on top of calibration. */
export interface QuantOverrides {
  readonly fixPoints?: Readonly<Record<string, number>>;
  readonly methods?: Readonly<Record<string, CalibMethod>>;
}

/** Everything needed to re-solve fix points without running the float model again. */
export interface QuantSession {
  readonly config: QuantConfig;
  /** The prepared model (BN folded, CLE, bias-corrected): what is quantized. */
  readonly model: Model;
  /** The prepared model before bias correction: the float reference SQNR is measured against. */
  readonly floatModel: Model;
  readonly qgraph: QGraph;
  readonly params: ReadonlyMap<string, { dataType: DataType; layer: string; p: TensorQuantParams }>;
  readonly stats: ReadonlyMap<string, TensorStats>;
  /**
   * Weights whose values were put on their grid by data-aware rounding (adaround.ts): the fix point
   * they were rounded at, kept unless a method is chosen for them (a re-solve from the on-grid values
   * could pick another).
   */
  readonly weightFixPoints?: ReadonlyMap<string, number>;
}

export interface QuantResult {
  readonly session: QuantSession;
  /** The model the fix points quantize (biases corrected for quantization). */
  readonly model: Model;
  /** Its float reference: the same graph with the float biases (bias correction changes only `model`). */
  readonly floatModel: Model;
  readonly prepareLog: readonly PrepareLog[];
  readonly tensors: ReadonlyMap<string, TensorQuant>;
  readonly adjustments: readonly Adjustment[];
  readonly layers: readonly LayerMetric[];
  readonly warnings: readonly string[];
  /** What ran the float model for calibration. */
  readonly engine: Engine;
  /** Wall milliseconds of each phase, in order (prepare, calibrate, adaround, bias_correction, solve, evaluate). */
  readonly timings: readonly PhaseTime[];
}

export interface PhaseTime {
  readonly phase: string;
  readonly ms: number;
}

function abortIfNeeded(signal?: AbortSignal) {
  if (signal?.aborted) {
    const e = new Error('quantization cancelled');
    e.name = 'AbortError';
    throw e;
  }
}

function isAsync<T>(x: Iterable<T> | AsyncIterable<T>): x is AsyncIterable<T> {
  return typeof (x as AsyncIterable<T>)[Symbol.asyncIterator] === 'function';
}

/** A source readable once per pass. */
function passes(src: CalibSource): () => AsyncGenerator<Feeds> {
  if (typeof src === 'function' || Array.isArray(src)) {
    return async function* () {
      const it = typeof src === 'function' ? src() : src;
      if (isAsync(it)) yield* it;
      else yield* it;
    };
  }
  let cache: Feeds[] | undefined;
  return async function* () {
    if (cache) { yield* cache; return; }
    const c: Feeds[] = [];
    const it = src as Iterable<Feeds> | AsyncIterable<Feeds>;
    if (isAsync(it)) for await (const f of it) { c.push(f); yield f; }
    else for (const f of it) { c.push(f); yield f; }
    cache = c;
  };
}

function paramsFor(cfg: QuantConfig, isFloat: (name: string) => boolean, q: QGraph) {
  const params = new Map<string, { dataType: DataType; layer: string; p: TensorQuantParams }>();
  for (const t of q.inputs) {
    const p = resolveParams(cfg, 'input');
    if (p) params.set(t, { dataType: 'input', layer: '', p });
  }
  // keep_first_last_layer_accuracy / keep_add_layer_accuracy leave those layers in float.
  const convs = q.layers.filter((l) => l.kind === 'conv');
  const keepFloat = new Set<QLayer>([
    ...(cfg.keep_first_last_layer_accuracy && convs.length ? [convs[0], convs[convs.length - 1]] : []),
    ...(cfg.keep_add_layer_accuracy ? q.layers.filter((l) => l.kind === 'add') : []),
  ]);
  for (const l of q.layers) {
    if (keepFloat.has(l)) continue;
    const ref = { name: l.node.name, opType: l.node.opType };
    const a = resolveParams(cfg, 'activation', ref);
    if (a && isFloat(l.output)) params.set(l.output, { dataType: 'activation', layer: l.node.name, p: a });
    if (a && l.preActivation && isFloat(l.preActivation)) params.set(l.preActivation, { dataType: 'activation', layer: l.node.name, p: a });
    if (l.weight) {
      const w = resolveParams(cfg, 'weights', ref);
      if (w) params.set(l.weight, { dataType: 'weights', layer: l.node.name, p: w });
    }
    if (l.bias) {
      const b = resolveParams(cfg, 'bias', ref);
      if (b) params.set(l.bias, { dataType: 'bias', layer: l.node.name, p: b });
    }
  }
  return params;
}

/** Fix point (and float scale) of a constant tensor, computed from its values directly. */
function constChoice(x: Float32Array, p: TensorQuantParams, method: CalibMethod): { fp: number; scale: number; allZero: boolean } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of x) { if (v < min) min = v; if (v > max) max = v; }
  const zero = () => { const fp = zeroTensorFixPoint(p.bit_width); return { fp, scale: 2 ** -fp, allZero: true }; };
  if (!(min < 0 || max > 0)) return zero();
  const fromFp = (fp: number) => ({ fp, scale: 2 ** -fp, allZero: false });
  if (method === 'maxmin' && p.scale_type === 'float') {
    const t = Math.max(-min, max);
    return { fp: fixPointOfThreshold(t, p.bit_width)!, scale: scaleOfThreshold(t, p.bit_width), allZero: false };
  }
  if (method === 'maxmin') return fromFp(maxminFixPoint(Math.min(min, 0), Math.max(max, 0), p.bit_width)!);
  if (method === 'diffs') return fromFp(diffsFixPoint(x, p.bit_width, p.round_mode)!.fixPoint);
  const h = newHistogram();
  addToHistogram(h, x);
  const t = method === 'percentile' ? percentileThreshold(h, p.percentage) : method === 'mse' ? mseThreshold(h, p.bit_width) : entropyThreshold(h, p.bit_width);
  if (!t) return zero();
  return { fp: fixPointOfThreshold(t, p.bit_width)!, scale: scaleOfThreshold(t, p.bit_width), allZero: false };
}

interface ConstCache {
  values: Map<string, Float32Array>;
  choices: Map<string, { fp: number; scale: number; allZero: boolean }>;
  errors: Map<string, number>;
}
const constCaches = new WeakMap<Model, ConstCache>();
function constCacheOf(session: QuantSession): ConstCache {
  let c = constCaches.get(session.model);
  if (!c) { c = { values: new Map(), choices: new Map(), errors: new Map() }; constCaches.set(session.model, c); }
  return c;
}

/** Re-solve every fix point from the kept statistics: calibration choice → overrides → §3 rules. */
export function requantize(session: QuantSession, overrides: QuantOverrides = {}): { tensors: Map<string, TensorQuant>; adjustments: Adjustment[] } {
  const { model, qgraph, params, stats, config } = session;
  const chosen = new Map<string, number>();
  const info = new Map<string, Omit<TensorQuant, 'fixPoint' | 'clippedFraction' | 'alternatives'> & { values?: Float32Array }>();
  for (const [name, { dataType, layer, p }] of params) {
    const method = overrides.methods?.[name] ?? p.method;
    // The config was checked at parse time; a method chosen afterwards gets the same check.
    if (p.scale_type === 'float' && config.target_device !== 'DPU') {
      const problem = floatScaleMethodProblem(method, dataType === 'weights' && p.per_channel);
      if (problem) throw new InputError(`${name}: ${problem}`);
    }
    const s = stats.get(name);
    let fp: number;
    let scale: number;
    let allZero: boolean;
    let values: Float32Array | undefined;
    if (s) {
      const c = chooseFixPoint(s, { method, bitWidth: p.bit_width, statistic: p.calib_statistic_method, percentage: p.percentage, scaleType: p.scale_type });
      ({ fixPoint: fp, scale, allZero } = c);
    } else {
      const init = model.graph.initializers.get(name);
      if (!init) continue;
      // Weights never change within a session: their values and choices are computed once, so a UI
      // re-solve after a pin or method change costs only the rules.
      const cache = constCacheOf(session);
      values = cache.values.get(name) ?? constValues(init);
      cache.values.set(name, values);
      const key = `${name}\u0000${method}\u0000${p.bit_width}\u0000${p.round_mode}\u0000${p.percentage}\u0000${p.scale_type}`;
      const c = cache.choices.get(key) ?? constChoice(values, p, method);
      cache.choices.set(key, c);
      ({ fp, scale, allZero } = c);
      const rounded = overrides.methods?.[name] ? undefined : session.weightFixPoints?.get(name);
      if (rounded !== undefined) { fp = rounded; scale = 2 ** -rounded; }
    }
    chosen.set(name, fp);
    let channel: ChannelQuant | undefined;
    if (values && dataType === 'weights' && p.per_channel && config.target_device !== 'DPU') {
      const l = qgraph.layers.find((x) => x.weight === name)!;
      const transB = l.node.attrs.transB?.kind === 'int' && l.node.attrs.transB.value === 1;
      const shape = model.graph.initializers.get(name)!.shape;
      channel = channelChoice(values, shape, weightChannelAxis(l.node.opType, transB), p, method);
    }
    info.set(name, {
      name, dataType, layer, calibratedFixPoint: fp, bitWidth: p.bit_width, method, roundMode: p.round_mode,
      scale: p.scale_type === 'poweroftwo' ? 2 ** -fp : scale, allZero, values,
      histogram: s ? histogramForDisplay(s) : undefined, channel,
    });
  }
  for (const [name, fp] of Object.entries(overrides.fixPoints ?? {})) {
    if (!chosen.has(name)) throw new InputError(`no quantized tensor named "${name}"`);
    chosen.set(name, fp);
  }
  const pow2 = (n: string) => params.get(n)?.p.scale_type !== 'float';
  const { fps, adjustments } = config.target_device === 'DPU' || [...params.keys()].every(pow2)
    ? applyRules(qgraph, chosen, {
      bitWidth: (t) => params.get(t)?.p.bit_width ?? 8,
      alignConcat: config.change_concat_input_fix, alignPool: config.change_pool_input_fix,
    })
    : { fps: chosen, adjustments: [] as Adjustment[] };
  const tensors = new Map<string, TensorQuant>();
  for (const [name, i] of info) {
    const fp = fps.get(name)!;
    const s = stats.get(name);
    const { values, ...rest } = i;
    const errs = constCacheOf(session).errors;
    const constMse = (f: number) => {
      const key = `${name}\u0000${f}\u0000${i.bitWidth}\u0000${i.roundMode}`;
      let e = errs.get(key);
      if (e === undefined) { e = quantError(values!, f, i.bitWidth, i.roundMode) / values!.length; errs.set(key, e); }
      return e;
    };
    const alts = s ? alternatives(s, fp, i.bitWidth, i.roundMode)
      : Array.from({ length: 7 }, (_, k) => fp - 3 + k).map((f) => ({ fp: f, mse: constMse(f) }));
    tensors.set(name, {
      ...rest,
      fixPoint: fp,
      calibratedFixPoint: overrides.fixPoints?.[name] ?? i.calibratedFixPoint,
      scale: pow2(name) ? 2 ** -fp : i.scale,
      clippedFraction: s ? statsClipped(s, fp, i.bitWidth) : clippedFraction(values!, fp, i.bitWidth),
      alternatives: alts,
    });
  }
  return { tensors, adjustments };
}

function fq(x: Float32Array, t: TensorQuant, mode: RoundMode = t.roundMode, shape?: readonly number[]): Float32Array {
  if (t.channel && shape) {
    const out = new Float32Array(x.length);
    const { lo, hi } = intRange(t.bitWidth);
    const r = ROUNDERS[mode];
    const sc = t.channel.scales;
    forEachChannel(shape, t.channel.axis, (c, i) => {
      const v = r(x[i] / sc[c]);
      out[i] = (v < lo ? lo : v > hi ? hi : v) * sc[c];
    });
    return out;
  }
  return t.scale === 2 ** -t.fixPoint ? fakeQuant(x, t.fixPoint, t.bitWidth, mode) : fakeQuantScale(x, t.scale, t.bitWidth, mode);
}

/** Fake-quantized weights and biases by initializer name. */
export function quantizedWeights(model: Model, tensors: ReadonlyMap<string, TensorQuant>, roundMode?: RoundMode): Map<string, FloatTensor> {
  const out = new Map<string, FloatTensor>();
  for (const t of tensors.values()) {
    if (t.dataType !== 'weights' && t.dataType !== 'bias') continue;
    const init = model.graph.initializers.get(t.name)!;
    out.set(t.name, { shape: init.shape, data: fq(constValues(init), t, roundMode, init.shape) });
  }
  return out;
}

const dpuOps = new WeakMap<ReadonlyMap<string, TensorQuant>, RunOptions['kernels'] | null>();
/** The DPU's own arithmetic (dpu-ops.ts) for an 8-bit power-of-two quantization; others keep the float ops. */
function dpuKernelsOf(tensors: ReadonlyMap<string, TensorQuant>): RunOptions['kernels'] {
  let k = dpuOps.get(tensors);
  if (k === undefined) {
    const acts = [...tensors.values()].filter((t) => t.dataType === 'activation' || t.dataType === 'input');
    k = acts.every((t) => t.bitWidth === 8 && !t.channel && t.scale === 2 ** -t.fixPoint) ? dpuKernels((n) => tensors.get(n)?.fixPoint) : null;
    dpuOps.set(tensors, k);
  }
  return k ?? undefined;
}

const weightCache = new WeakMap<ReadonlyMap<string, TensorQuant>, Map<string, FloatTensor>>();
const weightModel = new WeakMap<Map<string, FloatTensor>, Model>();

/**
 * One run with quantized weights and fake-quantized activations at every quantization point: what the
 * DPU computes, up to its integer accumulation. `roundMode` forces one rounding on the activations (an
 * ONNX QDQ runtime rounds them half to even); weights keep their own.
 */
export function runFakeQuant(
  model: Model, tensors: ReadonlyMap<string, TensorQuant>, feeds: Feeds,
  opts: {
    outputs?: readonly string[]; roundMode?: RoundMode; onPoint?: (name: string, q: FloatTensor) => void;
    /** Op kernels replacing the float ones. Default: for an 8-bit power-of-two quantization without a forced
     *  roundMode, the DPU's own (dpu-ops.ts: average pool N/2^M, LeakyReLU 26/256, hard-sigmoid/swish). */
    kernels?: RunOptions['kernels'];
  } = {},
): Record<string, FloatTensor> {
  return runFloat(model, feeds, { ...fakeQuantRunOptions(model, tensors, opts), outputs: opts.outputs });
}

/** The interpreter options of `runFakeQuant`: quantized weights, the DPU's kernels, activations fake-quantized. */
export function fakeQuantRunOptions(
  model: Model, tensors: ReadonlyMap<string, TensorQuant>,
  opts: { roundMode?: RoundMode; onPoint?: (name: string, q: FloatTensor) => void; kernels?: RunOptions['kernels'] } = {},
): RunOptions {
  let weights = weightCache.get(tensors);
  if (!weights || weightModel.get(weights) !== model) {
    weights = quantizedWeights(model, tensors);
    weightCache.set(tensors, weights);
    weightModel.set(weights, model);
  }
  return {
    weights,
    kernels: opts.kernels ?? (opts.roundMode ? undefined : dpuKernelsOf(tensors)),
    transform: (name, t) => {
      const q = tensors.get(name);
      if (!q || (q.dataType !== 'activation' && q.dataType !== 'input')) return t;
      const r = { shape: t.shape, data: fq(t.data, q, opts.roundMode) };
      opts.onPoint?.(name, r);
      return r;
    },
  };
}

const DEFAULT_EVAL_SAMPLES = 32;
/**
 * Without an explicit `evalSamples`, a model whose quantization points hold many values per sample
 * stops at 16 samples once this many values were compared: on YOLOX-nano (31M values per sample) 16
 * samples gave every layer's SQNR within 0.25 dB of the 32-sample figure (median 0.01 dB; 8 samples:
 * up to 0.9 dB), for half the two runs per sample. Small models, whose SQNR needs the samples, keep 32.
 */
const EVAL_VALUE_BUDGET = 1 << 28;
const EVAL_MIN_SAMPLES = 16;

/** Whether the SQNR pass has seen enough: `samples` evaluated so far, `values` compared per point summed. */
function evaluatedEnough(samples: number, values: number, o: QuantOptions): boolean {
  if (o.evalSamples !== undefined) return samples >= o.evalSamples;
  return samples >= DEFAULT_EVAL_SAMPLES || (samples >= EVAL_MIN_SAMPLES && values >= EVAL_VALUE_BUDGET);
}

/** Observed values per run (static shapes, symbolic axes as 1) from which the statistics get a thread: ~5 ms of folding. */
const FOLD_THREAD_MIN_VALUES = 1 << 21;

/** Floats of activations held at most before a statistics batch is closed (64 MB). */
const PENDING_BUDGET = 1 << 24;

function samplesIn(feeds: Feeds): number {
  return Object.values(feeds)[0]?.shape[0] ?? 1;
}

/**
 * The statistics pass. One session returns every observed tensor per batch. Each statistics batch is
 * folded in and dropped, so memory stays flat in the sample count.
 */
async function calibrate(
  model: Model, params: QuantSession['params'], read: () => AsyncGenerator<Feeds>, o: QuantOptions, means?: ChannelMeans,
): Promise<{ stats: Map<string, TensorStats>; engine: Engine; fallbackReason?: string }> {
  /** A statistics batch in the making. */
  const pending = new Map<string, { parts: Float32Array[]; n: number }>();
  const observed = [...params].filter(([, v]) => v.dataType === 'activation' || v.dataType === 'input').map(([name]) => name);
  const statBatch = o.statBatch ?? 32;
  // The thread starts while the session is made; it folds batch k while onnxruntime runs batch k + 1.
  // A small model's statistics take less than the thread's start and messages would cost.
  const perRun = observed.reduce((a, n) => a + (model.graph.valueInfo.get(n)?.shape ?? []).reduce<number>((p, d) => p * (typeof d === 'number' && d > 0 ? d : 1), 1), 0);
  const port = perRun >= FOLD_THREAD_MIN_VALUES ? o.foldThread?.() : undefined;
  /** The caller's feed arrays (observed graph inputs come back as they are): copied to a thread, not moved. */
  const fed = new WeakSet<ArrayBufferLike>();
  let folder: StatsFolder = localFolder();
  const flush = async () => {
    const items = [...pending].filter(([, p]) => p.n > 0).map(([name, p]): FoldItem => {
      const { p: prm } = params.get(name)!;
      return { name, parts: p.parts, bitWidth: prm.bit_width, mode: prm.round_mode };
    });
    pending.clear();
    if (items.length) await folder.fold(items);
    arena?.reset();
  };
  let floatRun: ActivationRunner | undefined;
  let arena: FloatArena | undefined;
  let batch = 0;
  let stats: Map<string, TensorStats>;
  try {
    // No ReduceMin/ReduceMax in the graph: onnxruntime's two passes cost about half an inference on
    // YOLOX-nano, the SIMD min/max in observeParts a few per cent of one (bench/quant.ts).
    // Tensors whose values are other observed tensors' (a Concat of them…) are read off those, not fetched.
    const derived = derivedTensors(model.graph, observed);
    floatRun = await activationRunner(model, observed.filter((n) => !derived.has(n)), { ort: o.ort, engine: o.engine });
    // The interpreter's outputs may share buffers it keeps: only onnxruntime's fresh arrays move.
    if (port && floatRun.engine === 'onnxruntime') folder = remoteFolder(port, (a) => !fed.has(a.buffer));
    else {
      port?.terminate();
      // The local folder is done with a batch when fold resolves, so one buffer serves every batch. A
      // large run (YOLOX-nano: 124 MB) fills a statistics batch alone, is never held past the next run,
      // and would only be copied.
      if (perRun < FOLD_THREAD_MIN_VALUES) arena = new FloatArena();
    }
    let pendingSamples = 0;
    let pendingFloats = 0;
    for await (const feeds of read()) {
      abortIfNeeded(o.signal);
      if (!arena) for (const t of Object.values(feeds)) fed.add(t.data.buffer);
      const fetched = await floatRun.run(feeds);
      means?.add(fetched, samplesIn(feeds));
      const out = arena ? inArena(arena, fetched) : fetched;
      for (const name of observed) {
        const values = valuesOf(name, out, derived);
        if (!values) continue;
        let p = pending.get(name);
        if (!p) { p = { parts: [], n: 0 }; pending.set(name, p); }
        for (const v of values) {
          p.parts.push(v);
          p.n += v.length;
          pendingFloats += v.length;
        }
      }
      // One statistics batch spans the same samples for every tensor: statBatch samples, or fewer when
      // holding them would exceed the memory budget (large feature maps).
      pendingSamples += samplesIn(feeds);
      if (pendingSamples >= statBatch || pendingFloats >= PENDING_BUDGET) {
        await flush();
        pendingSamples = 0;
        pendingFloats = 0;
      }
      batch++;
      o.onProgress?.({ phase: 'calibrate', batch });
    }
    if (batch === 0) throw new InputError('the calibration set is empty');
    await flush();
    stats = await folder.finish();
    o.onProgress?.({ phase: 'calibrate', batch, done: true });
  } finally {
    folder.close();
    await floatRun?.release();
  }
  for (const name of observed) if (!stats.has(name)) stats.set(name, newTensorStats());
  return { stats, engine: floatRun.engine, fallbackReason: floatRun.fallbackReason };
}

/** The run's tensors with their values copied into the arena (the run's arrays then die young). */
function inArena(arena: FloatArena, out: Readonly<Record<string, FloatTensor>>): Record<string, FloatTensor> {
  const kept: Record<string, FloatTensor> = {};
  for (const [name, t] of Object.entries(out)) kept[name] = { ...t, data: arena.keep(t.data) };
  return kept;
}

interface MetricSums { ff: number; ee: number; fq: number; qq: number }

function addMetric(acc: Map<string, MetricSums>, name: string, f: Float32Array, q: Float32Array): void {
  let a = acc.get(name);
  if (!a) { a = { ff: 0, ee: 0, fq: 0, qq: 0 }; acc.set(name, a); }
  let { ff, ee, fq, qq } = a;
  for (let i = 0; i < f.length; i++) {
    const x = f[i];
    const y = q[i];
    ff += x * x; ee += (x - y) * (x - y); fq += x * y; qq += y * y;
  }
  a.ff = ff; a.ee = ee; a.fq = fq; a.qq = qq;
}

/**
 * SQNR/cosine on onnxruntime: the float model, and the fake-quant graph (quantized weights, every
 * activation rounded and clipped as the quantizer does), each with the quantization points as outputs.
 */
async function evaluateOnOrt(
  model: Model, floatModel: Model, points: readonly string[], tensors: ReadonlyMap<string, TensorQuant>, read: () => AsyncGenerator<Feeds>, o: QuantOptions,
): Promise<Map<string, MetricSums> | undefined> {
  const fq = fakeQuantGraph(model, tensors);
  const wanted = points.filter((p) => fq.quantized.has(p));
  let floatRun: ActivationRunner | undefined;
  let quantRun: ActivationRunner | undefined;
  try {
    floatRun = await activationRunner(floatModel, wanted, { ort: o.ort, engine: 'onnxruntime' });
    // Unoptimized: fusing the rounding's Mul/Add into a Conv would move values across rounding ties.
    quantRun = await activationRunner(fq.model, wanted.map((p) => fq.quantized.get(p)!), {
      ort: o.ort, engine: 'onnxruntime', optimize: false, weights: quantizedWeights(model, tensors),
    });
  } catch (e) {
    await floatRun?.release();
    if (isInputError(e)) return undefined;
    throw e;
  }
  const acc = new Map<string, MetricSums>();
  try {
    let batch = 0;
    let samples = 0;
    let values = 0;
    for await (const feeds of read()) {
      abortIfNeeded(o.signal);
      if (evaluatedEnough(samples, values, o)) break;
      const f = await floatRun.run(feeds);
      const q = await quantRun.run(feeds);
      for (const p of wanted) { addMetric(acc, p, f[p].data, q[fq.quantized.get(p)!].data); values += f[p].data.length; }
      samples += samplesIn(feeds);
      batch++;
      o.onProgress?.({ phase: 'evaluate', batch });
    }
  } finally {
    await floatRun.release();
    await quantRun.release();
  }
  return acc;
}

/** SQNR/cosine on the interpreter's fake-quant run (models onnxruntime cannot load). */
async function evaluateOnInterpreter(
  model: Model, floatModel: Model, points: readonly string[], tensors: ReadonlyMap<string, TensorQuant>, read: () => AsyncGenerator<Feeds>, o: QuantOptions,
): Promise<Map<string, MetricSums>> {
  const runner = planFloat(floatModel);
  const acc = new Map<string, MetricSums>();
  let batch = 0;
  let samples = 0;
  let values = 0;
  for await (const feeds of read()) {
    abortIfNeeded(o.signal);
    if (evaluatedEnough(samples, values, o)) break;
    const ref = runner.run(feeds, { outputs: points });
    runFakeQuant(model, tensors, feeds, {
      outputs: points,
      onPoint: (name, qt) => { if (ref[name]) { addMetric(acc, name, ref[name].data, qt.data); values += qt.data.length; } },
    });
    samples += samplesIn(feeds);
    batch++;
    o.onProgress?.({ phase: 'evaluate', batch });
  }
  return acc;
}

/**
 * Per-layer SQNR and cosine similarity of the quantized run of `model` against the float run of
 * `floatModel` (the same graph; default `model` itself). A bias-corrected model is measured against
 * the float biases it was corrected toward.
 */
export async function evaluateLayers(
  model: Model, qgraph: QGraph, tensors: ReadonlyMap<string, TensorQuant>, source: CalibSource, o: QuantOptions & { floatModel?: Model } = {},
): Promise<LayerMetric[]> {
  const read = passes(source);
  const ref = o.floatModel ?? model;
  const points = qgraph.layers.filter((l) => tensors.has(l.output)).map((l) => l.output);
  const acc = (o.engine === 'interpreter' ? undefined : await evaluateOnOrt(model, ref, points, tensors, read, o))
    ?? await evaluateOnInterpreter(model, ref, points, tensors, read, o);
  return qgraph.layers.filter((l) => acc.has(l.output)).map((l) => {
    const a = acc.get(l.output)!;
    return {
      layer: l.node.name, opType: l.node.opType, output: l.output,
      sqnrDb: a.ee === 0 ? Infinity : 10 * Math.log10(a.ff / a.ee),
      cosine: a.ff === 0 || a.qq === 0 ? (a.ff === a.qq ? 1 : 0) : a.fq / Math.sqrt(a.ff * a.qq),
    };
  });
}

/** Which tensors hold floats (not shapes, indices or masks), from static types alone. */
function floatTensors(model: Model): (name: string) => boolean {
  let order;
  try {
    order = topoSort(model.graph);
  } catch (e) {
    throw new InputError(`quantize: ${(e as Error).message}`);
  }
  const dtypes = inferDtypes(model.graph, order);
  return (name) => !isIntType(dtypes.get(name) ?? 'float32');
}

export async function quantizeModel(model: Model, calib: CalibSource, config: QuantConfig, o: QuantOptions = {}): Promise<QuantResult> {
  const warnings: string[] = [];
  const timings: PhaseTime[] = [];
  let mark = performance.now();
  const lap = (phase: string) => { const now = performance.now(); timings.push({ phase, ms: now - mark }); mark = now; };
  const { model: prepared, log } = prepareModel(model, config);
  let m = prepared;
  const isFloat = floatTensors(m);
  const qgraph = buildQGraph(m.graph, isFloat);
  const params = paramsFor(config, isFloat, qgraph);
  const read = passes(calib);
  // Bias correction compares with the float model's channel means on the first samples: the
  // calibration pass runs the float model on them anyway, so it measures them for the tensors it
  // observes (the conv outputs a fused hard-swish or no activation leaves exposed); the rest are
  // run again by bias correction.
  const means = config.include_bias_corr ? new ChannelMeans(biasCorrectionTargets(m, qgraph.layers.filter((l) => l.kind === 'conv')), o.biasCorrSamples) : undefined;
  lap('prepare');
  const { stats, engine, fallbackReason } = await calibrate(m, params, read, o, means);
  lap('calibrate');
  if (fallbackReason) warnings.push(`float runs use the built-in interpreter: ${fallbackReason}`);
  let weightFixPoints: Map<string, number> | undefined;
  const solve = (mm: Model) => requantize({ config, model: mm, floatModel: prepared, qgraph, params, stats, weightFixPoints }).tensors;
  if (config.include_adaround && (config.target_device === 'DPU' || [...params.values()].every((v) => v.p.scale_type === 'poweroftwo'))) {
    const t0 = solve(m);
    const targets = qgraph.layers.flatMap((l) => {
      const t = l.weight ? t0.get(l.weight) : undefined;
      return t && !t.allZero && !t.channel ? [{ layer: l, fixPoint: t.fixPoint, bitWidth: t.bitWidth }] : [];
    });
    const rounded = await adaroundWeights(prepared, m, targets, (x, mode) => ROUNDERS[mode as RoundMode](x), (w) => t0.get(w)!.roundMode, read, {
      ort: o.ort, engine: o.engine ?? engine, signal: o.signal,
    });
    if (rounded.size) {
      const inits = new Map(m.graph.initializers);
      weightFixPoints = new Map();
      for (const [name, v] of rounded) {
        inits.set(name, floatConst(name, inits.get(name)!.shape, v));
        weightFixPoints.set(name, t0.get(name)!.fixPoint);
      }
      m = withGraph(m, { initializers: inits });
      log.push({ pass: 'adaround', detail: `${rounded.size} weight(s) rounded up or down to minimise the layer output error on the calibration data` });
    }
    lap('adaround');
  }
  if (config.include_bias_corr) {
    const t0 = solve(m);
    const layers = qgraph.layers.filter((l) => l.kind === 'conv' && l.bias && t0.has(l.weight!));
    try {
      const c = await correctBiases(prepared, m, layers, fakeQuantRunOptions(m, t0), (name, v) => {
        const t = t0.get(name);
        return t ? fq(v, t, t.roundMode, m.graph.initializers.get(name)!.shape) : Float32Array.from(v);
      }, read, { ort: o.ort, engine: o.engine ?? engine, signal: o.signal, samples: o.biasCorrSamples, floatMeans: means?.means() });
      m = c.model;
      if (c.corrected) log.push({ pass: 'bias_correction', detail: `${c.corrected} bias(es) corrected, layer by layer, toward the float model's channel means` });
    } catch (e) {
      // The quantized side runs on the interpreter; a model it cannot run keeps its biases.
      if (!isInputError(e)) throw e;
      warnings.push(`bias correction skipped: ${(e as Error).message}`);
    }
    lap('bias_correction');
  }
  const session: QuantSession = { config, model: m, floatModel: prepared, qgraph, params, stats, weightFixPoints };
  const { tensors, adjustments } = requantize(session);
  for (const t of tensors.values())
    if (t.allZero && t.dataType !== 'bias') warnings.push(`${t.name} was all zero over the calibration set (fix point ${t.fixPoint})`);
  lap('solve');
  const layers = o.skipEvaluation ? [] : await evaluateLayers(m, qgraph, tensors, read, { ...o, engine: o.engine ?? engine, floatModel: prepared });
  if (!o.skipEvaluation) lap('evaluate');
  return { session, model: m, floatModel: prepared, prepareLog: log, tensors, adjustments, layers, warnings, engine, timings };
}
