// Calibration and quantization over the model the model worker holds. Calibration data, statistics and
// the quant session stay here; the UI receives fix points, metrics and small previews only.
import type { FloatTensor, Model } from '../src/core/ir';
import { InputError } from '../src/core/errors';
import { batches, limitSamples, samplesFromFiles, type SampleSet } from '../src/core/data/calib';
import { sampleDigest } from '../src/core/data/digest';
import { inputSpecFromShape, parsePreprocess, type InputSpec, type PreprocessSpec } from '../src/core/data/preprocess';
import {
  evaluateLayers, exportQdq, exportQuantConfig, importQdq, layerOverride, parseQuantConfig, quantInfoJson, quantizeModel,
  requantize, type QuantConfig, type QuantOverrides, type QuantProgress, type QuantResult, type QuantSession, type TensorQuant,
} from '../src/core/quant';
import { writeOnnx } from '../src/core/onnx/writer';
import { writeXModel } from '../src/core/xmodel/codec';
import { intXModelOf } from '../src/core/xmodel/int-export';
import { toFloat64 } from '../src/core/analysis/stats';
import { fakeQuant } from '../src/core/quant/fixpoint';
import type { CalibInfo, CalibPreview, QuantSummary, TensorDetail, TensorFix } from './protocol';
import { workerFoldThread, workerOrtOptions } from './ort-env';

interface CalibState {
  readonly files: { name: string; bytes: Uint8Array }[];
  readonly pre: PreprocessSpec;
  readonly spec: InputSpec;
  readonly samples: SampleSet;
}

/** Per open model: the worker holds one model, so one state. */
let calib: CalibState | undefined;
let result: QuantResult | undefined;
/** The samples the current result was calibrated on: re-measuring after a pin must use the same ones. */
let resultSamples: { samples: SampleSet; spec: InputSpec } | undefined;
/** The pins and method changes applied on top of `result` (they go into the exported config). */
let overrides: QuantOverrides = {};
let tensors: ReadonlyMap<string, TensorQuant> = new Map();
let abort: AbortController | undefined;
let evalAbort: AbortController | undefined;

export function resetQuant(): void {
  abort?.abort();
  evalAbort?.abort();
  calib = undefined;
  result = undefined;
  resultSamples = undefined;
  overrides = {};
  tensors = new Map();
}

const cancelled = () => Object.assign(new Error('quantization cancelled'), { name: 'AbortError' });

export function modelInput(model: Model): InputSpec {
  const inputs = model.graph.inputs;
  if (inputs.length !== 1) throw new InputError(`calibration from files needs a model with one input; this one has ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`);
  return inputSpecFromShape(inputs[0].name, inputs[0].shape ?? []);
}

/** The preprocessing of the loaded calibration set (what the deployment scripts apply to an image). */
export function calibPreprocess(): PreprocessSpec | undefined {
  return calib?.pre;
}

/** Reads the files with the preprocess spec; on error the previous calibration set is kept. */
export function setCalibration(model: Model, files: { name: string; bytes: Uint8Array }[], preJson: unknown, limit?: number): CalibInfo {
  const pre = parsePreprocess(preJson ?? {});
  const base = modelInput(model);
  const spec = pre.layout && base.layout !== 'flat' ? inputSpecFromShape(base.name, model.graph.inputs[0].shape ?? [], pre.layout) : base;
  const samples = limitSamples(samplesFromFiles(files, spec, pre), limit);
  if (samples.count === 0) throw new InputError('the calibration files hold no samples');
  const first = samples.sample(0); // decode now so a shape error surfaces here, not mid-run
  calib = { files, pre, spec, samples };
  return {
    count: samples.count, sampleShape: [...samples.sampleShape], input: spec.name, layout: spec.layout, files: files.length, asIs: samples.asIs,
    firstDigest: sampleDigest(first),
  };
}

export type SampleFrom =
  | { readonly kind: 'calib'; readonly index: number }
  | {
    readonly kind: 'files'; readonly files: { name: string; bytes: Uint8Array }[]; readonly index: number;
    /** Used when no calibration set is loaded: the sample model's preset (samples.json), as the Calibrate form shows it. */
    readonly preprocess?: unknown;
  };

/**
 * One sample (batch 1) for the simulator: an entry of the calibration set, or of files read with the
 * calibration set's preprocessing (the model's input shape when none is loaded), so both match what
 * the model was quantized on.
 */
export function sampleFeed(model: Model, from: SampleFrom): { feeds: Record<string, FloatTensor>; count: number; index: number; resize: 'stretch' | 'letterbox'; preprocess: PreprocessSpec | null } {
  let samples: SampleSet;
  let spec: InputSpec;
  let pre: PreprocessSpec | undefined;
  if (from.kind === 'calib') {
    if (!calib) throw new InputError('no calibration data loaded: load it in the Calibrate step, or pick another input');
    ({ samples, spec } = calib);
  } else {
    pre = calib ? calib.pre : from.preprocess ? parsePreprocess(from.preprocess) : undefined;
    const base = calib?.spec ?? modelInput(model);
    spec = !calib && pre?.layout && base.layout !== 'flat' ? inputSpecFromShape(base.name, model.graph.inputs[0].shape ?? [], pre.layout) : base;
    samples = samplesFromFiles(from.files, spec, pre);
  }
  if (!(Number.isInteger(from.index) && from.index >= 0 && from.index < samples.count))
    throw new InputError(`sample ${from.index} is out of range: the set holds ${samples.count} (0…${samples.count - 1})`);
  // A copy: the set may cache a sample, and this one is transferred away.
  const data = samples.sample(from.index).slice();
  // How an image was fitted to the input: the demo maps detection boxes back through it.
  const resize = from.kind === 'files' ? pre?.resize ?? 'stretch' : 'stretch';
  return { feeds: { [spec.name]: { shape: [1, ...samples.sampleShape], data } }, count: samples.count, index: from.index, resize, preprocess: (from.kind === 'calib' ? calib?.pre : pre) ?? null };
}

/** The first samples as displayable grey/RGB images (values mapped from their own min..max to 0..255). */
export function calibPreview(n: number): CalibPreview[] {
  if (!calib) return [];
  const { samples, spec } = calib;
  const out: CalibPreview[] = [];
  const sh = samples.sampleShape;
  if (spec.layout === 'flat' || sh.length !== 3) return out;
  const [c, h, w] = spec.layout === 'NCHW' ? [sh[0], sh[1], sh[2]] : [sh[2], sh[0], sh[1]];
  for (let i = 0; i < Math.min(n, samples.count); i++) {
    const x = samples.sample(i);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of x) { if (v < lo) lo = v; if (v > hi) hi = v; }
    const k = hi > lo ? 255 / (hi - lo) : 0;
    const rgba = new Uint8ClampedArray(w * h * 4);
    for (let p = 0; p < w * h; p++) {
      for (let ch = 0; ch < 3; ch++) {
        const cc = c === 1 ? 0 : Math.min(ch, c - 1);
        const v = spec.layout === 'NCHW' ? x[cc * w * h + p] : x[p * c + cc];
        rgba[p * 4 + ch] = (v - lo) * k;
      }
      rgba[p * 4 + 3] = 255;
    }
    out.push({ width: w, height: h, rgba, min: lo, max: hi });
  }
  return out;
}

function fixOf(t: TensorQuant): TensorFix {
  return {
    fixPoint: t.fixPoint, calibratedFixPoint: t.calibratedFixPoint, bitWidth: t.bitWidth, dataType: t.dataType,
    layer: t.layer, method: t.method, clippedFraction: t.clippedFraction,
  };
}

/** Every node of a quantized layer → the layer's name (a fused Relu → its Conv), which layer configs use. */
function layerMap(r: QuantResult | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of r?.session.qgraph.layers ?? []) {
    out[l.node.name] = l.node.name;
    if (l.activation) out[l.activation.name] = l.node.name;
  }
  return out;
}

function summaryOf(r: QuantResult | undefined, t: ReadonlyMap<string, TensorQuant>, source: QuantSummary['source']): QuantSummary {
  return {
    source,
    layerOf: layerMap(r),
    tensors: Object.fromEntries([...t.values()].map((x) => [x.name, fixOf(x)])),
    layers: (r?.layers ?? []).map((l) => ({ ...l })),
    adjustments: (r?.adjustments ?? []).map((a) => ({ ...a })),
    warnings: [...(r?.warnings ?? [])],
    prepareLog: (r?.prepareLog ?? []).map((l) => ({ ...l })),
  };
}

/** Yields to the event loop between batches so a cancel message reaches the worker mid-run. */
async function* yielding(s: SampleSet, spec: InputSpec) {
  for (const b of batches(s, spec)) {
    await new Promise((r) => setTimeout(r, 0));
    yield b;
  }
}

export async function runQuantize(model: Model, configText: string, onProgress?: (p: QuantProgress & { total: number }) => void): Promise<QuantSummary> {
  if (!calib) throw new InputError('no calibration data: load images, a .npy/.npz, or the sample data first');
  const config = parseQuantConfig(configText);
  abort?.abort();
  const ctl = new AbortController();
  abort = ctl;
  const { samples, spec } = calib;
  const total = Math.ceil(samples.count / (spec.fixedBatch ?? 16));
  const r = await quantizeModel(model, () => yielding(samples, spec), config, {
    ort: workerOrtOptions(),
    foldThread: workerFoldThread(),
    signal: ctl.signal,
    onProgress: (p) => onProgress?.({ ...p, total }),
  });
  if (ctl.signal.aborted) throw cancelled();
  evalAbort?.abort();
  result = r;
  resultSamples = { samples, spec };
  overrides = {};
  tensors = r.tensors;
  return summaryOf(r, tensors, 'calibration');
}

export function cancelQuantize(): void {
  abort?.abort();
}

/**
 * Re-solves fix points from the kept statistics with the UI's pins and method choices, then measures
 * the layers again on the samples of the run (a pin that clips changes every SQNR downstream). A newer
 * call or run cancels this one, which then rejects with an AbortError.
 */
export async function applyOverrides(next: QuantOverrides): Promise<QuantSummary> {
  if (!result || !resultSamples) throw new InputError('quantize the model first');
  const base = result;
  const r = requantize(base.session, next);
  evalAbort?.abort();
  const ctl = new AbortController();
  evalAbort = ctl;
  const { samples, spec } = resultSamples;
  const layers = base.layers.length === 0 ? [] : await evaluateLayers(base.model, base.session.qgraph, r.tensors, () => yielding(samples, spec), { signal: ctl.signal, ort: workerOrtOptions(), engine: base.engine, floatModel: base.floatModel });
  if (ctl.signal.aborted || result !== base) throw cancelled();
  result = { ...base, tensors: r.tensors, adjustments: r.adjustments, layers };
  overrides = next;
  tensors = r.tensors;
  return summaryOf(result, tensors, 'calibration');
}

/**
 * The run's config with the per-tensor method choices written in, so importing it reproduces them:
 * a layer's tensor as `layer_quantize_config[].tensor_quantize_config[dataType].method` (merged into
 * the layer's effective entry, which a by-name entry replaces), a graph input as
 * `tensor_quantize_config.input.method`. Pinned fix points have no field in the schema.
 */
export function configWithOverrides(session: QuantSession, o: QuantOverrides): QuantConfig {
  const cfg = session.config;
  let tensorCfg = cfg.tensor_quantize_config;
  let layers = [...cfg.layer_quantize_config];
  for (const [name, method] of Object.entries(o.methods ?? {})) {
    const p = session.params.get(name);
    if (!p) continue;
    if (p.dataType === 'input' || !p.layer) {
      tensorCfg = { ...tensorCfg, input: { ...tensorCfg.input, method } };
      continue;
    }
    const opType = session.qgraph.layers.find((l) => l.node.name === p.layer)?.node.opType ?? '';
    const current = layerOverride({ ...cfg, layer_quantize_config: layers }, { name: p.layer, opType });
    const dt = p.dataType;
    const entry = {
      layer_name: p.layer,
      quantizable_data_type: current?.quantizable_data_type ?? cfg.quantizable_data_type,
      ...(current?.overall_quantize_config ? { overall_quantize_config: current.overall_quantize_config } : {}),
      tensor_quantize_config: { ...current?.tensor_quantize_config, [dt]: { ...current?.tensor_quantize_config?.[dt], method } },
    };
    layers = [...layers.filter((l) => l.layer_name !== p.layer), entry];
  }
  return { ...cfg, tensor_quantize_config: tensorCfg, layer_quantize_config: layers };
}

export function tensorDetail(name: string): TensorDetail | null {
  const t = tensors.get(name);
  if (!t) return null;
  return {
    ...fixOf(t), name, scale: t.scale, alternatives: t.alternatives.map((a) => ({ ...a })),
    histogram: t.histogram && { ...t.histogram, counts: [...t.histogram.counts] },
    weightHistograms: weightHistograms(t),
  };
}

/**
 * Float vs quantized values of a weight (as the prepared model holds it: BN folded, CLE applied): the
 * float values from the float reference, the quantized ones from the quantized model (data-aware
 * rounding and bias correction moved those).
 */
function weightHistograms(t: TensorQuant, bins = 64): TensorDetail['weightHistograms'] {
  const isConst = t.dataType === 'weights' || t.dataType === 'bias';
  const w = isConst ? result?.floatModel.graph.initializers.get(t.name) : undefined;
  const wq = isConst ? result?.model.graph.initializers.get(t.name) : undefined;
  if (!w || !wq || w.dtype === 'string' || wq.dtype === 'string' || t.channel) return undefined;
  const x = toFloat64(w);
  const q = fakeQuant(toFloat64(wq), t.fixPoint, t.bitWidth, t.roundMode);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    lo = Math.min(lo, x[i], q[i]);
    hi = Math.max(hi, x[i], q[i]);
  }
  if (!(hi > lo)) return undefined;
  const bin = (v: number) => Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins));
  const float = new Array<number>(bins).fill(0), quantized = new Array<number>(bins).fill(0);
  for (let i = 0; i < x.length; i++) {
    float[bin(x[i])]++;
    quantized[bin(q[i])]++;
  }
  return { lo, hi, float, quantized };
}

/** Fix points of a QDQ model with power-of-two scales, or of an .xmodel's fix ops and fixed tensors; null
 * when the model has neither. */
export function importedFixPoints(model: Model): QuantSummary | null {
  if (model.format === 'xmodel') return xmodelFixPoints(model);
  if (!model.graph.nodes.some((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear')) return null;
  const { fixPoints } = importQdq(model);
  result = undefined;
  resultSamples = undefined;
  overrides = {};
  const fixes: Record<string, TensorFix> = {};
  for (const [name, f] of fixPoints)
    fixes[name] = { fixPoint: f.fixPoint, calibratedFixPoint: f.fixPoint, bitWidth: f.bitWidth, dataType: f.kind, layer: '', method: 'imported', clippedFraction: Number.NaN };
  // The Q → DQ pair carries the fix point of the tensor it quantizes: show it on both of its outputs.
  for (const n of model.graph.nodes) {
    if ((n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear') && fixes[n.inputs[0]] && n.outputs[0] && !fixes[n.outputs[0]])
      fixes[n.outputs[0]] = fixes[n.inputs[0]];
  }
  return { source: 'imported', layerOf: {}, tensors: fixes, layers: [], adjustments: [], warnings: [], prepareLog: [] };
}

/** An .xmodel's fix points (xmodelToModel collects them per tensor). */
function xmodelFixPoints(model: Model): QuantSummary | null {
  if (!model.fixPoints?.size) return null;
  const fixes: Record<string, TensorFix> = {};
  for (const [t, fp] of model.fixPoints) {
    fixes[t] = {
      fixPoint: fp, calibratedFixPoint: fp, bitWidth: 8, dataType: model.graph.initializers.has(t) ? 'weights' : 'activation',
      layer: '', method: 'imported', clippedFraction: Number.NaN,
    };
  }
  result = undefined;
  resultSamples = undefined;
  overrides = {};
  return { source: 'imported', layerOf: {}, tensors: fixes, layers: [], adjustments: [], warnings: [], prepareLog: [] };
}

/** qdq: QDQ ONNX; int: the quantizer's _int.xmodel for vai_c_xir; info: quant_info.json; config: the vai_q config. */
export type QuantArtifact = 'qdq' | 'int' | 'info' | 'config';

export function exportArtifacts(kind: QuantArtifact): { name: string; bytes: Uint8Array } {
  if (!result) throw new InputError('quantize the model first');
  if (kind === 'qdq') return { name: 'qdq.onnx', bytes: writeOnnx(exportQdq(result.model, tensors).model) };
  if (kind === 'int') return { name: 'int.xmodel', bytes: writeXModel(intXModelOf(exportQdq(result.model, tensors).model)) };
  const text = kind === 'info' ? `${JSON.stringify(quantInfoJson(tensors), null, 1)}\n` : `${exportQuantConfig(configWithOverrides(result.session, overrides))}\n`;
  return { name: kind === 'info' ? 'quant_info.json' : 'quant_config.json', bytes: new TextEncoder().encode(text) };
}

/** Validates config text without running anything: the InputError names the bad field. */
export function checkConfig(text: string): string {
  return exportQuantConfig(parseQuantConfig(text));
}
