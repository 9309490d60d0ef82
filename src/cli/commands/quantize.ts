// `fixpoint quantize MODEL --calib FILE_OR_DIR --out DIR [...]`: calibrate and quantize a model to
// power-of-two fix points, writing a QDQ ONNX model, quant_info.json and a report.
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, join } from 'node:path';
import { batches, limitSamples, samplesFromFiles, type DataFile, type SampleSet } from '../../core/data/calib';
import { inputSpecFromShape, parsePreprocess } from '../../core/data/preprocess';
import { InputError, isInputError, readingFile, readingFileAsync } from '../../core/errors';
import { openModelAsync } from '../../core/open';
import { writeOnnx } from '../../core/onnx/writer';
import { dpuOverrides, parseQuantConfig } from '../../core/quant/config';
import { exportQdq, quantInfoJson } from '../../core/quant/qdq';
import { writeXModel } from '../../core/xmodel/codec';
import { intXModelOf } from '../../core/xmodel/int-export';
import { quantizeModel, type QuantResult } from '../../core/quant/quantize';
import { nodeFoldThread } from '../fold-thread';
import type { Command } from './index';
import { readModelFile } from './inspect';
import { dataFile } from '../file-source';
import { parseModelArgs, requiredOption } from './args';

const USAGE = 'usage: fixpoint quantize MODEL --calib FILE_OR_DIR --out DIR [--config quant.json] [--preprocess preprocess.json] [--calib-count N] [--json]';

interface Args {
  model: string;
  calib: string;
  out: string;
  config?: string;
  preprocess?: string;
  calibCount?: number;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const { file, opts, json } = parseModelArgs(argv, 'quantize', USAGE, new Set(['--calib', '--out', '--config', '--preprocess', '--calib-count']));
  const calib = requiredOption(opts, '--calib', USAGE);
  const out = requiredOption(opts, '--out', USAGE);
  const countText = opts.get('--calib-count');
  const calibCount = countText === undefined ? undefined : Number(countText);
  if (calibCount !== undefined && !(Number.isInteger(calibCount) && calibCount > 0)) throw new InputError(`--calib-count must be a positive integer, got "${countText}"`);
  return { model: file, calib, out, config: opts.get('--config'), preprocess: opts.get('--preprocess'), calibCount, json };
}

function readText(path: string, what: string): string {
  const text = new TextDecoder().decode(readModelFile(path)).replace(/^\uFEFF/, '');
  if (!text.trim()) throw new InputError(`${what} ${path} is empty`);
  return text;
}

/**
 * The calibration files of FILE_OR_DIR. A folder's images are the set; arrays beside them (public/demo
 * keeps its MNIST .npy next to the photographs) are left out with a notice. A folder of arrays only
 * must hold exactly one.
 */
export function calibFiles(path: string, notice: (line: string) => void = () => {}): DataFile[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(`cannot read ${path}: no such file or directory`);
  }
  if (!st.isDirectory()) return [dataFile(path)];
  const all = readdirSync(path).sort();
  const images = all.filter((f) => /\.(png|jpe?g)$/i.test(f));
  const arrays = all.filter((f) => /\.(npy|npz)$/i.test(f));
  const list = (names: string[]) => (names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', '));
  let names: string[];
  if (images.length > 0) {
    if (arrays.length > 0) notice(`calibrating on the ${images.length} image(s) in ${path}; ignoring ${list(arrays)} (give an array as --calib FILE to use it)`);
    names = images;
  } else if (arrays.length === 1) names = arrays;
  else if (arrays.length > 1) throw new InputError(`${path} holds ${arrays.length} arrays and no images (${list(arrays)}): give one of them as --calib FILE`);
  else throw new InputError(`${path} holds no .png, .jpg, .npy or .npz files`);
  return names.map((f) => dataFile(join(path, f), f));
}

/** The sample set with the time spent reading samples (decoding, preprocessing) added up. */
function timedSamples(s: SampleSet): SampleSet & { ms(): number } {
  let ms = 0;
  return {
    ...s,
    sample: (i) => { const t0 = performance.now(); try { return s.sample(i); } finally { ms += performance.now() - t0; } },
    ms: () => ms,
  };
}

/** JSON has no Infinity: an exact layer reports null SQNR. */
const db = (x: number) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);

export function reportJson(r: QuantResult, modelName: string, samples: number) {
  return {
    model: modelName,
    calibration_samples: samples,
    prepare: r.prepareLog,
    warnings: r.warnings,
    tensors: Object.fromEntries([...r.tensors.values()].map((t) => [t.name, {
      data_type: t.dataType, layer: t.layer, bit_width: t.bitWidth, fix_point: t.fixPoint,
      calibrated_fix_point: t.calibratedFixPoint, method: t.method, round_mode: t.roundMode,
      clipped_fraction: t.clippedFraction, all_zero: t.allZero,
    }])),
    adjustments: r.adjustments,
    layers: r.layers.map((l) => ({ layer: l.layer, op: l.opType, output: l.output, sqnr_db: db(l.sqnrDb), cosine: l.cosine })),
  };
}

export const quantize: Command = {
  summary: 'calibrate and quantize a model to power-of-two fix points (QDQ ONNX + quant_info.json)',
  async run(argv: string[]): Promise<number> {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const a = parseArgs(argv);
    let mark = performance.now();
    const phases: { phase: string; ms: number }[] = [];
    const lap = (phase: string) => { const now = performance.now(); phases.push({ phase, ms: now - mark }); mark = now; };
    const model = await readingFileAsync(basename(a.model), () => openModelAsync(readModelFile(a.model), basename(a.model)));
    if (model.format === 'xmodel') throw new InputError(`${basename(a.model)} is a compiled ${model.format}; quantize takes a float ONNX model`);
    const config = a.config ? readingFile(basename(a.config), () => parseQuantConfig(readText(a.config!, 'config'))) : parseQuantConfig({});
    const pre = a.preprocess ? readingFile(basename(a.preprocess), () => parsePreprocess(readText(a.preprocess!, 'preprocess file'))) : undefined;
    const inputs = model.graph.inputs;
    if (inputs.length !== 1) throw new InputError(`quantize from files needs a model with one input; this one has ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`);
    const spec = inputSpecFromShape(inputs[0].name, inputs[0].shape ?? [], pre?.layout);
    const stderr = (s: string) => { if (!a.json) process.stderr.write(s); };
    const files = calibFiles(a.calib, (line) => stderr(`note: ${line}\n`));
    const samples = timedSamples(limitSamples(samplesFromFiles(files, spec, pre), a.calibCount));
    if (samples.count === 0) throw new InputError(`${a.calib} holds no samples`);
    lap('open');
    const progress = (s: string) => { if (!a.json && process.stderr.isTTY) process.stderr.write(s); };
    for (const o of dpuOverrides(config)) stderr(`warning: ${o} ignored: the DPU needs symmetric, per-tensor, signed, power-of-two\n`);
    const r = await quantizeModel(model, () => batches(samples, spec), config, {
      ort: { threads: availableParallelism() },
      foldThread: availableParallelism() > 1 ? nodeFoldThread : undefined,
      onProgress: (p) => progress(`\r${p.phase} ${p.batch}/${samples.count}`),
    });
    progress('\n');
    phases.push(...r.timings);
    mark = performance.now();
    mkdirSync(a.out, { recursive: true });
    const stem = basename(a.model, extname(a.model));
    const { model: qdq } = exportQdq(r.model, r.tensors);
    writeFileSync(join(a.out, `${stem}_qdq.onnx`), writeOnnx(qdq));
    // The file vai_c_xir compiles; a model with an op it has no XIR form for still gets its QDQ export.
    let intFile: string | undefined;
    let intWhy = '';
    try {
      const bytes = writeXModel(intXModelOf(qdq));
      intFile = join(a.out, `${stem}_int.xmodel`);
      writeFileSync(intFile, bytes);
    } catch (e) {
      if (!isInputError(e)) throw e;
      intWhy = e.message;
    }
    writeFileSync(join(a.out, 'quant_info.json'), `${JSON.stringify(quantInfoJson(r.tensors), null, 1)}\n`);
    writeFileSync(join(a.out, 'report.json'), `${JSON.stringify(reportJson(r, basename(a.model), samples.count), null, 1)}\n`);
    lap('export');
    // Samples are read (decoded, preprocessed) inside the passes that use them: shown apart, not added.
    const timings = [...phases, { phase: 'reading samples (within the passes)', ms: samples.ms() }];
    const worst = [...r.layers].sort((x, y) => x.sqnrDb - y.sqnrDb).slice(0, 5);
    if (a.json) {
      process.stdout.write(`${JSON.stringify({
        tensors: r.tensors.size,
        int_xmodel: intFile ?? null,
        ...(intWhy ? { int_xmodel_error: intWhy } : {}),
        fix_points: Object.fromEntries([...r.tensors.values()].map((t) => [t.name, t.fixPoint])),
        adjustments: r.adjustments,
        worst_layers: worst.map((l) => ({ layer: l.layer, op: l.opType, sqnr_db: db(l.sqnrDb), cosine: l.cosine })),
        timings_ms: Object.fromEntries(timings.map((t) => [t.phase, Math.round(t.ms)])),
      })}\n`);
      return 0;
    }
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    if (intWhy) process.stderr.write(`warning: no _int.xmodel: ${intWhy}\n`);
    const lines = [
      // Says what the browser's Calibrate panel says, so a run can be compared with the app's.
      `quantized ${basename(a.model)} on ${samples.count} samples (${samples.asIs ? 'fed as is' : 'preprocessed'}): ${r.tensors.size} tensors, ${r.adjustments.length} rule adjustment(s)`,
      ...r.prepareLog.map((l) => `  prepare ${l.pass}: ${l.detail}`),
      ...r.adjustments.map((x) => `  ${x.rule}: ${x.tensor} ${x.from} → ${x.to} (${x.reason})`),
      'worst layers (SQNR dB, cosine):',
      ...worst.map((l) => `  ${l.layer} (${l.opType}): ${Number.isFinite(l.sqnrDb) ? l.sqnrDb.toFixed(2) : '∞'} dB, ${l.cosine.toFixed(5)}`),
      `wrote ${join(a.out, `${stem}_qdq.onnx`)}, ${intFile ? `${stem}_int.xmodel, ` : ''}quant_info.json, report.json`,
      `time (s): ${timings.map((t) => `${t.phase} ${(t.ms / 1000).toFixed(1)}`).join(', ')}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
