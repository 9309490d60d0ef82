// `fixpoint evaluate MODEL --data X.npy --labels Y.npy [--preprocess pre.json] [--float FLOAT.onnx] --json`:
// top-1 accuracy and confusion matrices of the float reference (onnxruntime) and the int8 DPU simulation
// of a quantized classifier over a labelled set, plus the samples where the two disagree.
import { basename } from 'node:path';
import { NO_CONVERSIONS } from '../../core/compile';
import { samplesFromFiles } from '../../core/data/calib';
import { parseNpy, toFloat32 } from '../../core/data/npy';
import { inputSpecFromShape, parsePreprocess } from '../../core/data/preprocess';
import { accuracy, argmax, confusion } from '../../core/demo/classify';
import { pickOutput } from '../../core/demo/readout';
import { InputError } from '../../core/errors';
import type { FloatTensor } from '../../core/ir';
import { prepareSimulation } from '../../core/sim/dpu';
import { createFloatSession } from '../../core/sim/float/ort';
import { quantizedSource } from '../../core/sim/source';
import type { Command } from './index';
import { readModelFile } from './inspect';
import { chooseTarget } from './simulate';
import { parseModelArgs, type Parsed } from './args';

const USAGE = 'usage: fixpoint evaluate MODEL --data X.npy --labels Y.npy [--preprocess pre.json] [--float FLOAT.onnx] [--arch A | --board B | --arch-json F] [--json]';
const VALUED = new Set(['--data', '--labels', '--preprocess', '--float', '--arch', '--board', '--arch-json']);

function parseArgs(argv: string[]): Parsed {
  const { file, opts, json } = parseModelArgs(argv, 'evaluate', USAGE, VALUED);
  for (const k of ['--data', '--labels']) if (!opts.has(k)) throw new InputError(`${k} is required (${USAGE})`);
  return { file, opts, json };
}

export const evaluate: Command = {
  summary: 'top-1 accuracy and confusion of float vs the int8 DPU simulation on a labelled .npy set',
  async run(argv: string[]): Promise<number> {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const { file, opts, json } = parseArgs(argv);
    const target = chooseTarget(opts);
    const floatFile = opts.get('--float');
    const src = await quantizedSource(readModelFile(file), basename(file), floatFile ? readModelFile(floatFile) : undefined);
    if (!src.float) throw new InputError(`${basename(file)} has no float reference; give the float model with --float`);
    const labelsPath = opts.get('--labels')!;
    const labelArr = parseNpy(readModelFile(labelsPath), basename(labelsPath));
    const truth = Array.from(toFloat32(labelArr));
    const pre = opts.has('--preprocess') ? parsePreprocess(new TextDecoder().decode(readModelFile(opts.get('--preprocess')!))) : undefined;
    const sim = await prepareSimulation(src.source, target, { conversions: NO_CONVERSIONS, threads: 1 });
    const session = await createFloatSession(src.float, { threads: 1 });
    const progress = (s: string) => { if (!json && process.stderr.isTTY) process.stderr.write(s); };
    try {
      if (sim.inputs.length !== 1) throw new InputError(`evaluate feeds one input; this model has ${sim.inputs.length}`);
      const port = sim.inputs[0];
      const spec = inputSpecFromShape(port.name, port.shape, pre?.layout);
      const dataPath = opts.get('--data')!;
      const samples = samplesFromFiles([{ name: basename(dataPath), bytes: readModelFile(dataPath) }], spec, pre);
      if (samples.count === 0) throw new InputError(`${basename(dataPath)} holds no samples`);
      if (truth.length !== samples.count) throw new InputError(`${basename(labelsPath)} holds ${truth.length} labels for ${samples.count} samples in ${basename(dataPath)}`);
      const floatPred: number[] = [];
      const int8Pred: number[] = [];
      let classes = 0;
      for (let i = 0; i < samples.count; i++) {
        progress(`\rsample ${i + 1}/${samples.count}`);
        const feeds: Record<string, FloatTensor> = { [port.name]: { shape: [1, ...samples.sampleShape], data: samples.sample(i) } };
        const run = await sim.run(feeds);
        const [name, q] = pickOutput(Object.fromEntries(Object.entries(run.outputs).map(([n, o]) => [n, o.value])), 'classify');
        const fo = await session.run(feeds);
        const fname = src.aliases(name).find((a) => fo[a]);
        const f = fname ? fo[fname] : pickOutput(fo, 'classify')[1];
        classes = q.data.length;
        int8Pred.push(argmax(q.data));
        floatPred.push(argmax(f.data));
      }
      progress('\n');
      const cf = confusion(truth, floatPred, classes);
      const cq = confusion(truth, int8Pred, classes);
      const disagree = floatPred.flatMap((p, i) => (p !== int8Pred[i] ? [i] : []));
      const result = { float_top1: accuracy(cf), int8_top1: accuracy(cq), samples: samples.count, confusion: { float: cf, int8: cq }, disagree };
      if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(`evaluated ${basename(file)} on ${samples.count} samples (${target.name})\n  float top-1 ${(result.float_top1 * 100).toFixed(2)} %\n  int8  top-1 ${(result.int8_top1 * 100).toFixed(2)} %\n  ${disagree.length} sample(s) where float and int8 disagree${disagree.length ? `: ${disagree.slice(0, 20).join(', ')}${disagree.length > 20 ? ', …' : ''}` : ''}\n`);
      return 0;
    } finally {
      await Promise.allSettled([session.release(), sim.release()]);
    }
  },
};
