// `fixpoint evaluate MODEL --data X.npy --labels Y.npy [--preprocess pre.json] [--float FLOAT.onnx] --json`:
// top-1 accuracy and confusion matrices of the float reference (onnxruntime) and the int8 DPU simulation
// of a quantized classifier over a labelled set, plus the samples where the two disagree.
import { basename } from 'node:path';
import { NO_CONVERSIONS } from '../../core/compile';
import { samplesFromFiles, type SampleSet } from '../../core/data/calib';
import { parseNpy, toFloat32 } from '../../core/data/npy';
import { inputSpecFromShape, parsePreprocess } from '../../core/data/preprocess';
import { accuracy, argmax, confusion } from '../../core/demo/classify';
import { pickOutput } from '../../core/demo/readout';
import { InputError } from '../../core/errors';
import type { FloatTensor } from '../../core/ir';
import { prepareSimulation, type SimPort, type Simulation } from '../../core/sim/dpu';
import { createFloatSession, type FloatSession } from '../../core/sim/float/ort';
import { quantizedSource } from '../../core/sim/source';
import type { Command } from './index';
import { readModelFile } from './inspect';
import { dataFile } from '../file-source';
import { chooseTarget } from './simulate';
import { parseModelArgs, type Parsed } from './args';
import { kernelThreadsOption, overShards, ranges, threadsOption } from '../parallel';

const USAGE = 'usage: fixpoint evaluate MODEL --data X.npy --labels Y.npy [--preprocess pre.json] [--float FLOAT.onnx] [--arch A | --board B | --arch-json F] [--threads N] [--json]';
const VALUED = new Set(['--data', '--labels', '--preprocess', '--float', '--arch', '--board', '--arch-json', '--threads']);

function parseArgs(argv: string[]): Parsed {
  const { file, opts, json } = parseModelArgs(argv, 'evaluate', USAGE, VALUED);
  for (const k of ['--data', '--labels']) if (!opts.has(k)) throw new InputError(`${k} is required (${USAGE})`);
  return { file, opts, json };
}

interface Opened { sim: Simulation; session: FloatSession; samples: SampleSet; port: SimPort; aliases: (n: string) => readonly string[] }

async function open(file: string, opts: Map<string, string>, kernelThreads: number): Promise<Opened> {
  const target = chooseTarget(opts);
  const floatFile = opts.get('--float');
  const src = await quantizedSource(readModelFile(file), basename(file), floatFile ? readModelFile(floatFile) : undefined);
  if (!src.float) throw new InputError(`${basename(file)} has no float reference; give the float model with --float`);
  const pre = opts.has('--preprocess') ? parsePreprocess(new TextDecoder().decode(readModelFile(opts.get('--preprocess')!))) : undefined;
  const sim = await prepareSimulation(src.source, target, { conversions: NO_CONVERSIONS, threads: 1, kernelThreads });
  let session: FloatSession | undefined;
  try {
    session = await createFloatSession(src.float, { threads: 1 });
    if (sim.inputs.length !== 1) throw new InputError(`evaluate feeds one input; this model has ${sim.inputs.length}`);
    const port = sim.inputs[0];
    const spec = inputSpecFromShape(port.name, port.shape, pre?.layout);
    const dataPath = opts.get('--data')!;
    const samples = samplesFromFiles([dataFile(dataPath)], spec, pre);
    if (samples.count === 0) throw new InputError(`${basename(dataPath)} holds no samples`);
    return { sim, session, samples, port, aliases: src.aliases };
  } catch (e) {
    await Promise.allSettled([session?.release(), sim.release()]);
    throw e;
  }
}

/** Top classes of float and int8 for samples [from, to). */
async function classifyRange(o: Opened, from: number, to: number, progress?: (s: string) => void): Promise<{ float: number[]; int8: number[]; classes: number }> {
  const float: number[] = [];
  const int8: number[] = [];
  let classes = 0;
  for (let i = from; i < to; i++) {
    progress?.(`\rsample ${i + 1}/${o.samples.count}`);
    const feeds: Record<string, FloatTensor> = { [o.port.name]: { shape: [1, ...o.samples.sampleShape], data: o.samples.sample(i) } };
    const run = await o.sim.run(feeds);
    const [name, q] = pickOutput(Object.fromEntries(Object.entries(run.outputs).map(([n, v]) => [n, v.value])), 'classify');
    const fo = await o.session.run(feeds);
    const fname = o.aliases(name).find((a) => fo[a]);
    const f = fname ? fo[fname] : pickOutput(fo, 'classify')[1];
    classes = q.data.length;
    int8.push(argmax(q.data));
    float.push(argmax(f.data));
  }
  return { float, int8, classes };
}

const close = (o: Opened) => Promise.allSettled([o.session.release(), o.sim.release()]);

export const evaluate: Command = {
  summary: 'top-1 accuracy and confusion of float vs the int8 DPU simulation on a labelled .npy set',
  async run(argv: string[]): Promise<number> {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const { file, opts, json } = parseArgs(argv);
    const target = chooseTarget(opts);
    if (opts.has('--threads')) threadsOption(opts, 1);
    const labelsPath = opts.get('--labels')!;
    const truth = Array.from(toFloat32(parseNpy(readModelFile(labelsPath), basename(labelsPath))));
    const o = await open(file, opts, kernelThreadsOption(opts));
    const progress = (s: string) => { if (!json && process.stderr.isTTY) process.stderr.write(s); };
    let shards: { float: number[]; int8: number[]; classes: number }[];
    const n = o.samples.count;
    try {
      if (truth.length !== n) throw new InputError(`${basename(labelsPath)} holds ${truth.length} labels for ${n} samples in ${basename(opts.get('--data')!)}`);
      const threads = threadsOption(opts, n);
      if (ranges(n, threads).length > 1) o.sim.endKernelThreads();
      shards = await overShards('evaluate', argv, n, threads, (from, to) => classifyRange(o, from, to, threads === 1 ? progress : undefined));
    } finally {
      progress('\n');
      await close(o);
    }
    const floatPred = shards.flatMap((s) => s.float);
    const int8Pred = shards.flatMap((s) => s.int8);
    const classes = Math.max(...shards.map((s) => s.classes));
    const cf = confusion(truth, floatPred, classes);
    const cq = confusion(truth, int8Pred, classes);
    const disagree = floatPred.flatMap((p, i) => (p !== int8Pred[i] ? [i] : []));
    const result = { float_top1: accuracy(cf), int8_top1: accuracy(cq), samples: n, confusion: { float: cf, int8: cq }, disagree };
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(`evaluated ${basename(file)} on ${n} samples (${target.name}, ${shards.length} thread(s))\n  float top-1 ${(result.float_top1 * 100).toFixed(2)} %\n  int8  top-1 ${(result.int8_top1 * 100).toFixed(2)} %\n  ${disagree.length} sample(s) where float and int8 disagree${disagree.length ? `: ${disagree.slice(0, 20).join(', ')}${disagree.length > 20 ? ', …' : ''}` : ''}\n`);
    return 0;
  },

  async shard(argv: string[], from: number, to: number) {
    // A shard shares the cores with the others: its kernels on its own thread.
    const o = await open(parseArgs(argv).file, parseArgs(argv).opts, 1);
    try {
      return { value: await classifyRange(o, from, to), transfer: [] };
    } finally {
      await close(o);
    }
  },
};
