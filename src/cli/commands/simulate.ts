// `fixpoint simulate MODEL --input X.npy [--arch A | --board B | --arch-json F] --out DIR [--dump DIR2] [--json]`:
// compiles a quantized model for the target and runs every sample through the bit-exact int8 simulator,
// writing each output as DIR/<name>.npy and, with --dump, VART's golden files of the first sample.
// With --task classify|detect-yolox it reads one image or sample the way the Demo view does (demo-task.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { NO_CONVERSIONS, targetByArch, targetByArchJson, targetByBoard, type Target } from '../../core/compile';
import { samplesFromFiles, type SampleSet } from '../../core/data/calib';
import { writeNpy } from '../../core/data/npy';
import { inputSpecFromShape } from '../../core/data/preprocess';
import { InputError } from '../../core/errors';
import { goldenDump, prepareSimulation, type SimPort, type Simulation } from '../../core/sim/dpu';
import { addVsFloat, emptyVsFloat, sumVsFloat, vsFloatMeasures, type VsFloatSums } from '../../core/sim/metrics';
import { safeName } from '../../core/sim/report';
import { SampleRunner } from '../../core/sim/sample';
import { quantizedSource } from '../../core/sim/source';
import { demoTask } from './demo-task';
import type { Command } from './index';
import { readModelFile } from './inspect';
import { dataFile } from '../file-source';
import { parseModelArgs, type Parsed } from './args';
import { kernelThreadsOption, overShards, ranges, threadsOption } from '../parallel';

const USAGE = 'usage: fixpoint simulate MODEL --input X.npy [--arch DPUCZDX8G_ISA1_B4096 | --board KV260 | --arch-json arch.json] (--out DIR [--dump DIR2] [--threads N] | --task classify|detect-yolox|detect-retinaface [--preprocess pre.json] [--labels names.txt] [--float FLOAT.onnx] [--score 0.3]) [--json]';
const VALUED = new Set(['--input', '--arch', '--board', '--arch-json', '--out', '--dump', '--task', '--preprocess', '--labels', '--float', '--score', '--threads']);
const DEFAULT_ARCH = 'DPUCZDX8G_ISA1_B4096';

function parseArgs(argv: string[]): Parsed {
  const { file, opts, json } = parseModelArgs(argv, 'simulate', USAGE, VALUED);
  if (!opts.has('--input')) throw new InputError(`--input is required (${USAGE})`);
  if (!opts.has('--out') && !opts.has('--task')) throw new InputError(`--out is required (${USAGE})`);
  return { file, opts, json };
}

export function chooseTarget(opts: Map<string, string>): Target {
  const given = ['--arch', '--board', '--arch-json'].filter((k) => opts.has(k));
  if (given.length > 1) throw new InputError(`give at most one of --arch, --board, --arch-json (${USAGE})`);
  if (opts.has('--board')) return targetByBoard(opts.get('--board')!);
  if (opts.has('--arch-json')) return targetByArchJson(new TextDecoder().decode(readModelFile(opts.get('--arch-json')!)));
  return targetByArch(opts.get('--arch') ?? DEFAULT_ARCH);
}

function writeOut(path: string, bytes: Uint8Array): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  } catch (e) {
    throw new InputError(`cannot write ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
}

interface Opened { sim: Simulation; runner: SampleRunner; samples: SampleSet; port: SimPort }

/** The model prepared for the target and the samples of --input in its input's shape. */
async function open(file: string, opts: Map<string, string>, target: Target, kernelThreads: number): Promise<Opened> {
  const src = await quantizedSource(readModelFile(file), basename(file));
  const inputPath = opts.get('--input')!;
  const sim = await prepareSimulation(src.source, target, { conversions: NO_CONVERSIONS, threads: 1, kernelThreads });
  try {
    if (sim.inputs.length !== 1) throw new InputError(`simulate from one --input file needs a model with one input; this one has ${sim.inputs.length} (${sim.inputs.map((i) => i.name).join(', ')})`);
    const port = sim.inputs[0];
    const spec = inputSpecFromShape(port.name, port.shape);
    const samples = samplesFromFiles([dataFile(inputPath)], spec);
    if (samples.count === 0) throw new InputError(`${inputPath} holds no samples`);
    // The float reference, as in the app: the QDQ model with its Q/DQ removed (weights on their int8 grid).
    return { sim, runner: new SampleRunner(sim, src.float, { threads: 1 }, src.aliases), samples, port };
  } catch (e) {
    await sim.release();
    throw e;
  }
}

type TensorSum = { fixPoint: number; identical: number; count: number; maxLsb: number; vsFloat: VsFloatSums };
type SubgraphSum = { name: string; device: string; macs: number; bytesIn: number; bytesWeights: number; bytesOut: number; ms: number };
/** One range of samples: outputs in sample order, agreement as integer counts (sums are exact in any grouping). */
interface SimShard {
  outputs: [string, { shape: number[]; fixPoint?: number; data: Float32Array }][];
  tensors: [string, TensorSum][];
  subgraphs: SubgraphSum[];
  simMs: number;
}

async function runRange(o: Opened, from: number, to: number, dump?: string, progress?: (s: string) => void): Promise<SimShard> {
  const { runner, samples, port } = o;
  const n = to - from;
  const outs = new Map<string, { shape: number[]; fixPoint?: number; data: Float32Array }>();
  const tensors = new Map<string, TensorSum>();
  const subgraphs = new Map<string, SubgraphSum>();
  let simMs = 0;
  for (let i = from; i < to; i++) {
    progress?.(`\rsample ${i + 1}/${samples.count}`);
    const feeds = { [port.name]: { shape: [1, ...samples.sampleShape], data: samples.sample(i) } };
    const { run, agreement, float } = await runner.run(feeds);
    simMs += run.ms;
    for (const [name, v] of Object.entries(run.outputs)) {
      const per = v.value.data.length;
      let acc = outs.get(name);
      if (!acc) outs.set(name, acc = { shape: v.value.shape.slice(1), fixPoint: v.fixPoint, data: new Float32Array(n * per) });
      acc.data.set(v.value.data, (i - from) * per);
    }
    for (const a of agreement) {
      const q = run.tensors.get(a.name)?.q;
      const len = q?.length ?? 0;
      const t = tensors.get(a.name) ?? { fixPoint: a.fixPoint, identical: 0, count: 0, maxLsb: 0, vsFloat: emptyVsFloat() };
      t.identical += Math.round(a.identicalFraction * len);
      t.count += len;
      t.maxLsb = Math.max(t.maxLsb, a.maxLsb);
      if (q) addVsFloat(t.vsFloat, q, a.fixPoint, float[a.name]?.data);
      tensors.set(a.name, t);
    }
    for (const sg of run.subgraphs) {
      const t = subgraphs.get(sg.name);
      // Counters are the same for every sample; times add up and are averaged at the end.
      if (t) t.ms += sg.ms;
      else subgraphs.set(sg.name, { name: sg.name, device: sg.device, macs: sg.macs, bytesIn: sg.bytesIn, bytesWeights: sg.bytesWeights, bytesOut: sg.bytesOut, ms: sg.ms });
    }
    if (i === 0 && dump) for (const f of goldenDump(run)) writeOut(join(dump, f.path), f.bytes);
  }
  return { outputs: [...outs], tensors: [...tensors], subgraphs: [...subgraphs.values()], simMs };
}

/** Shards in sample order → one result, as a single range would have given. */
function merge(shards: readonly SimShard[]): SimShard {
  const outputs = shards[0].outputs.map(([name, o]) => {
    const parts = shards.map((s) => s.outputs.find(([k]) => k === name)![1].data);
    const data = new Float32Array(parts.reduce((a, d) => a + d.length, 0));
    let off = 0;
    for (const d of parts) { data.set(d, off); off += d.length; }
    return [name, { ...o, data }] as [string, typeof o];
  });
  const tensors = new Map<string, TensorSum>();
  for (const s of shards) for (const [k, t] of s.tensors) {
    const m = tensors.get(k);
    tensors.set(k, m ? { fixPoint: t.fixPoint, identical: m.identical + t.identical, count: m.count + t.count, maxLsb: Math.max(m.maxLsb, t.maxLsb), vsFloat: sumVsFloat(m.vsFloat, t.vsFloat) } : { ...t });
  }
  const subgraphs = new Map<string, SubgraphSum>();
  for (const s of shards) for (const g of s.subgraphs) {
    const m = subgraphs.get(g.name);
    if (m) m.ms += g.ms;
    else subgraphs.set(g.name, { ...g });
  }
  return { outputs, tensors: [...tensors], subgraphs: [...subgraphs.values()], simMs: shards.reduce((a, s) => a + s.simMs, 0) };
}

export const simulate: Command = {
  summary: 'run a quantized model through the bit-exact int8 DPU simulator (outputs as .npy, golden dumps)',
  async run(argv: string[]): Promise<number> {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const { file, opts, json } = parseArgs(argv);
    const target = chooseTarget(opts);
    if (opts.has('--task')) return demoTask(file, opts, target, json);
    for (const k of ['--preprocess', '--labels', '--float', '--score']) if (opts.has(k)) throw new InputError(`${k} goes with --task (${USAGE})`);
    if (opts.has('--threads')) threadsOption(opts, 1);
    const o = await open(file, opts, target, kernelThreadsOption(opts));
    const n = o.samples.count;
    const threads = threadsOption(opts, n);
    if (ranges(n, threads).length > 1) o.sim.endKernelThreads();
    const kernelThreads = o.sim.kernelThreads;
    const progress = (s: string) => { if (!json && process.stderr.isTTY) process.stderr.write(s); };
    let shards: SimShard[];
    const t0 = performance.now();
    try {
      // Sample range 0 here (its progress shown, sample 0's golden files), the others in worker threads.
      shards = await overShards('simulate', argv, n, threads, (from, to) => runRange(o, from, to, opts.get('--dump'), threads === 1 ? progress : undefined));
    } finally {
      progress('\n');
      await o.runner.release();
    }
    const wallMs = performance.now() - t0;
    const all = merge(shards);
    const out = opts.get('--out')!;
    const outputs = all.outputs.map(([name, v]) => {
      const fileName = `${safeName(name)}.npy`;
      const shape = [n, ...v.shape];
      writeOut(join(out, fileName), writeNpy({ dtype: 'float32', shape, data: v.data }));
      return { name, file: fileName, shape, fix_point: v.fixPoint ?? null };
    });
    const result = {
      samples: n,
      outputs,
      ms_per_sample: all.simMs / n,
      threads: shards.length,
      kernel_threads: kernelThreads,
      samples_per_s: n / (wallMs / 1000),
      tensors: all.tensors.map(([name, t]) => {
        // Named as the Simulate panel's CSV columns; null where the float model has no such tensor
        // (and an SQNR of null when int8 equals float exactly).
        const m = vsFloatMeasures(t.vsFloat);
        const num = (x: number) => (Number.isFinite(x) ? x : null);
        return {
          name, fix_point: t.fixPoint, identical_fraction_vs_fake_quant: t.count ? t.identical / t.count : 1, max_lsb_vs_fake_quant: t.maxLsb,
          sqnr_db_vs_float: num(m.sqnrDb), cosine_vs_float: num(m.cosine), clipped_fraction_int8: m.clippedInt8, clipped_fraction_float: num(m.clippedFloat),
        };
      }),
      subgraphs: all.subgraphs.map((s) => ({
        name: s.name, device: s.device, macs: s.macs, bytes_in: s.bytesIn, bytes_weights: s.bytesWeights, bytes_out: s.bytesOut, ms: s.ms / n,
      })),
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    }
    const exact = result.tensors.filter((t) => t.identical_fraction_vs_fake_quant === 1).length;
    // The float run each sample paid for shows here too, not only in --json: the tensor int8 hurts most.
    const worst = result.tensors.filter((t) => t.sqnr_db_vs_float !== null).sort((a, b) => a.sqnr_db_vs_float! - b.sqnr_db_vs_float!)[0];
    const lines = [
      `simulated ${basename(file)} on ${target.name}: ${n} sample(s), ${result.ms_per_sample.toFixed(2)} ms per sample, ${result.samples_per_s.toFixed(1)} samples/s on ${result.threads} thread(s)`,
      `${exact} of ${result.tensors.length} DPU tensors identical to the fake-quant run${exact < result.tensors.length ? ` (worst: ${result.tensors.filter((t) => t.identical_fraction_vs_fake_quant < 1).map((t) => `${t.name} ${(t.identical_fraction_vs_fake_quant * 100).toFixed(2)} %, ${t.max_lsb_vs_fake_quant} LSB`).slice(0, 5).join('; ')})` : ''}`,
      ...(worst ? [`lowest SQNR vs float: ${worst.name} ${worst.sqnr_db_vs_float!.toFixed(1)} dB (cosine ${worst.cosine_vs_float?.toFixed(4) ?? '–'}, ${(worst.clipped_fraction_int8 * 100).toFixed(2)} % of its int8 codes at −128/127)`] : []),
      ...result.subgraphs.map((s) => `  ${s.device.padEnd(4)} ${s.name}: ${s.macs} MACs, in ${s.bytes_in} B, weights ${s.bytes_weights} B, out ${s.bytes_out} B, ${s.ms.toFixed(3)} ms`),
      `wrote ${outputs.map((x) => join(out, x.file)).join(', ')}${opts.has('--dump') ? `; golden files of sample 0 in ${opts.get('--dump')}` : ''}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },

  async shard(argv: string[], from: number, to: number) {
    const { file, opts } = parseArgs(argv);
    // A shard shares the cores with the others: its kernels on its own thread.
    const o = await open(file, opts, chooseTarget(opts), 1);
    try {
      const value = await runRange(o, from, to);
      return { value, transfer: value.outputs.map(([, v]) => v.data.buffer as ArrayBuffer) };
    } finally {
      await o.runner.release();
    }
  },
};
