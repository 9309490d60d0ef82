// `fixpoint simulate MODEL --input IMAGE_OR_NPY --task classify|detect-yolox|detect-retinaface`: one sample through the
// float model and the int8 simulator, read out the way the Demo view shows it (src/core/demo/readout.ts).
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_CONVERSIONS, type Target } from '../../core/compile';
import { samplesFromFiles } from '../../core/data/calib';
import { decodeImage, isJpeg, isPng } from '../../core/data/image';
import { inputSpecFromShape, parsePreprocess, type PreprocessSpec } from '../../core/data/preprocess';
import { parseLabels, shippedLabelFile } from '../../core/demo/labels';
import { DEMO_TASKS, readout, type DemoTask, type Readout } from '../../core/demo/readout';
import { RETINAFACE_PREPROCESS } from '../../core/demo/retinaface';
import { YOLOX_PREPROCESS, type InputPlacement } from '../../core/demo/yolox';
import { InputError } from '../../core/errors';
import type { FloatTensor } from '../../core/ir';
import { prepareSimulation } from '../../core/sim/dpu';
import { createFloatSession } from '../../core/sim/float/ort';
import { quantizedSource } from '../../core/sim/source';
import { readModelFile } from './inspect';

const LABEL_DIR = fileURLToPath(new URL('../../../public/labels/', import.meta.url));

function labelsFor(opts: Map<string, string>, model: string): string[] | undefined {
  const given = opts.get('--labels');
  if (given) return parseLabels(new TextDecoder().decode(readModelFile(given)), basename(given));
  const shipped = shippedLabelFile(model);
  return shipped && existsSync(LABEL_DIR + shipped) ? parseLabels(readFileSync(LABEL_DIR + shipped, 'utf8'), shipped) : undefined;
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** The JSON form of a read-out: `[{class, label, score}]` or `[{label, score, box}]`. */
function asJson(r: Readout): unknown[] {
  return r.task === 'classify'
    ? r.top.map((t) => ({ class: t.class, label: t.label, score: t.score }))
    : r.boxes.map((b) => ({
      label: b.label, score: b.score, box: b.box.map(r1),
      ...(b.landmarks ? { landmarks: b.landmarks.map(([x, y]) => [r1(x), r1(y)]) } : {}),
    }));
}

function asText(name: string, r: Readout): string {
  const rows = r.task === 'classify'
    ? r.top.map((t) => `  ${t.label.padEnd(14)} ${(t.score * 100).toFixed(2).padStart(6)} %`)
    : r.boxes.map((b) => `  ${b.label.padEnd(14)} ${b.score.toFixed(3)}  [${b.box.map((v) => v.toFixed(0)).join(', ')}]`);
  return [`${name}:`, ...(rows.length ? rows : ['  (nothing above the threshold)'])].join('\n');
}

export async function demoTask(file: string, opts: Map<string, string>, target: Target, json: boolean): Promise<number> {
  const task = opts.get('--task') as DemoTask;
  if (!DEMO_TASKS.includes(task)) throw new InputError(`--task must be one of ${DEMO_TASKS.join(', ')}, not "${task}"`);
  const score = opts.has('--score') ? Number(opts.get('--score')) : 0.3;
  if (!(score >= 0 && score <= 1)) throw new InputError(`--score must be a number in [0, 1], not "${opts.get('--score')}"`);
  const floatFile = opts.get('--float');
  const src = await quantizedSource(readModelFile(file), basename(file), floatFile ? readModelFile(floatFile) : undefined);
  if (!src.float) throw new InputError(`${basename(file)} has no float reference; give the float model with --float`);
  const pre: PreprocessSpec | undefined = opts.has('--preprocess')
    ? parsePreprocess(new TextDecoder().decode(readModelFile(opts.get('--preprocess')!)))
    : task === 'detect-yolox' ? { ...YOLOX_PREPROCESS }
    : task === 'detect-retinaface' ? { ...RETINAFACE_PREPROCESS, mean: [...RETINAFACE_PREPROCESS.mean] } : undefined;
  // One sample: the DPU kernels split its big layers over the cores instead.
  const sim = await prepareSimulation(src.source, target, { conversions: NO_CONVERSIONS, threads: 1, kernelThreads: Math.min(4, availableParallelism()) });
  try {
    if (sim.inputs.length !== 1) throw new InputError(`--task reads a model with one input; this one has ${sim.inputs.length}`);
    const port = sim.inputs[0];
    const spec = inputSpecFromShape(port.name, port.shape, pre?.layout);
    const inputPath = opts.get('--input')!;
    const bytes = readModelFile(inputPath);
    const samples = samplesFromFiles([{ name: basename(inputPath), bytes }], spec, pre);
    if (samples.count !== 1) throw new InputError(`${basename(inputPath)} holds ${samples.count} samples; --task reads one (use \`fixpoint evaluate\` for a labelled set)`);
    const feeds: Record<string, FloatTensor> = { [port.name]: { shape: [1, ...samples.sampleShape], data: samples.sample(0) } };
    const [inputH, inputW] = spec.layout === 'NHWC' ? [samples.sampleShape[0], samples.sampleShape[1]] : [samples.sampleShape[1], samples.sampleShape[2]];
    // Boxes go back to the image's pixels for an encoded image; an array sample is already the input.
    let placement: InputPlacement | undefined;
    if (isPng(bytes) || isJpeg(bytes)) {
      const img = decodeImage(bytes, basename(inputPath));
      placement = { imageW: img.width, imageH: img.height, inputW, inputH, resize: pre?.resize ?? 'stretch' };
    }
    const labels = labelsFor(opts, file);
    const ro = { labels, placement, inputH, inputW, scoreThreshold: score };
    const session = await createFloatSession(src.float, { threads: 1 });
    let floatOut: Record<string, FloatTensor>;
    try {
      floatOut = await session.run(feeds);
    } finally {
      await session.release();
    }
    const run = await sim.run(feeds);
    const int8Out = Object.fromEntries(Object.entries(run.outputs).map(([n, o]) => [n, o.value]));
    // The float model names an output as the QDQ model's DequantizeLinear copy or the tensor behind it.
    const floatByName: Record<string, FloatTensor> = {};
    for (const n of Object.keys(int8Out)) {
      const f = src.aliases(n).find((a) => floatOut[a]);
      if (f) floatByName[n] = floatOut[f];
    }
    const f = readout(task, Object.keys(floatByName).length ? floatByName : floatOut, ro);
    const q = readout(task, int8Out, ro);
    if (json) process.stdout.write(`${JSON.stringify({ task, input: basename(inputPath), float: asJson(f), int8: asJson(q) })}\n`);
    else process.stdout.write(`${basename(file)} on ${basename(inputPath)} (${task}, simulated on ${target.name})\n${asText('float', f)}\n${asText('int8 (DPU simulation)', q)}\n`);
    return 0;
  } finally {
    await sim.release();
  }
}
