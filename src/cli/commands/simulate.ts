// `fixpoint simulate MODEL --input X.npy [--arch A | --board B | --arch-json F] --out DIR [--dump DIR2] [--json]`:
// compiles a quantized model for the target and runs every sample through the bit-exact int8 simulator,
// writing each output as DIR/<name>.npy and, with --dump, VART's golden files of the first sample.
// With --task classify|detect-yolox it reads one image or sample the way the Demo view does (demo-task.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { NO_CONVERSIONS, targetByArch, targetByArchJson, targetByBoard, type Target } from '../../core/compile';
import { samplesFromFiles } from '../../core/data/calib';
import { writeNpy } from '../../core/data/npy';
import { inputSpecFromShape } from '../../core/data/preprocess';
import { InputError } from '../../core/errors';
import { goldenDump, prepareSimulation } from '../../core/sim/dpu';
import { safeName } from '../../core/sim/report';
import { SampleRunner } from '../../core/sim/sample';
import { quantizedSource } from '../../core/sim/source';
import { demoTask } from './demo-task';
import type { Command } from './index';
import { readModelFile } from './inspect';
import { parseModelArgs, type Parsed } from './args';

const USAGE = 'usage: fixpoint simulate MODEL --input X.npy [--arch DPUCZDX8G_ISA1_B4096 | --board KV260 | --arch-json arch.json] (--out DIR [--dump DIR2] | --task classify|detect-yolox|detect-retinaface [--preprocess pre.json] [--labels names.txt] [--float FLOAT.onnx] [--score 0.3]) [--json]';
const VALUED = new Set(['--input', '--arch', '--board', '--arch-json', '--out', '--dump', '--task', '--preprocess', '--labels', '--float', '--score']);
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
    const src = await quantizedSource(readModelFile(file), basename(file));
    const inputPath = opts.get('--input')!;
    const sim = await prepareSimulation(src.source, target, { conversions: NO_CONVERSIONS, threads: 1 });
    if (sim.inputs.length !== 1) throw new InputError(`simulate from one --input file needs a model with one input; this one has ${sim.inputs.length} (${sim.inputs.map((i) => i.name).join(', ')})`);
    const port = sim.inputs[0];
    const spec = inputSpecFromShape(port.name, port.shape);
    const samples = samplesFromFiles([{ name: basename(inputPath), bytes: readModelFile(inputPath) }], spec);
    if (samples.count === 0) throw new InputError(`${inputPath} holds no samples`);
    // `fixpoint simulate` reports agreement and counters only: the float reference is the panel's.
    const runner = new SampleRunner(sim, undefined);
    const outs = new Map<string, { shape: number[]; fixPoint?: number; data: Float32Array }>();
    const tensors = new Map<string, { fixPoint: number; identical: number; count: number; maxLsb: number }>();
    const subgraphs = new Map<string, { name: string; device: string; macs: number; bytesIn: number; bytesWeights: number; bytesOut: number; ms: number }>();
    let simMs = 0;
    const progress = (s: string) => { if (!json && process.stderr.isTTY) process.stderr.write(s); };
    try {
      for (let i = 0; i < samples.count; i++) {
        progress(`\rsample ${i + 1}/${samples.count}`);
        const feeds = { [port.name]: { shape: [1, ...samples.sampleShape], data: samples.sample(i) } };
        const { run, agreement } = await runner.run(feeds, { float: false });
        simMs += run.ms;
        for (const [name, o] of Object.entries(run.outputs)) {
          const per = o.value.data.length;
          let acc = outs.get(name);
          if (!acc) outs.set(name, acc = { shape: [samples.count, ...o.value.shape.slice(1)], fixPoint: o.fixPoint, data: new Float32Array(samples.count * per) });
          acc.data.set(o.value.data, i * per);
        }
        for (const a of agreement) {
          const n = run.tensors.get(a.name)?.q.length ?? 0;
          const t = tensors.get(a.name) ?? { fixPoint: a.fixPoint, identical: 0, count: 0, maxLsb: 0 };
          t.identical += a.identicalFraction * n;
          t.count += n;
          t.maxLsb = Math.max(t.maxLsb, a.maxLsb);
          tensors.set(a.name, t);
        }
        for (const s of run.subgraphs) {
          const t = subgraphs.get(s.name);
          // Counters are the same for every sample; times add up and are averaged below.
          if (t) t.ms += s.ms;
          else subgraphs.set(s.name, { ...s });
        }
        if (i === 0 && opts.has('--dump')) {
          const dir = opts.get('--dump')!;
          for (const f of goldenDump(run)) writeOut(join(dir, f.path), f.bytes);
        }
      }
    } finally {
      progress('\n');
      await runner.release();
    }
    const out = opts.get('--out')!;
    const outputs = [...outs].map(([name, o]) => {
      const fileName = `${safeName(name)}.npy`;
      writeOut(join(out, fileName), writeNpy({ dtype: 'float32', shape: o.shape, data: o.data }));
      return { name, file: fileName, shape: o.shape, fix_point: o.fixPoint ?? null };
    });
    const n = samples.count;
    const result = {
      samples: n,
      outputs,
      ms_per_sample: simMs / n,
      tensors: [...tensors].map(([name, t]) => ({
        name, fix_point: t.fixPoint, identical_fraction_vs_fake_quant: t.count ? t.identical / t.count : 1, max_lsb_vs_fake_quant: t.maxLsb,
      })),
      subgraphs: [...subgraphs.values()].map((s) => ({
        name: s.name, device: s.device, macs: s.macs, bytes_in: s.bytesIn, bytes_weights: s.bytesWeights, bytes_out: s.bytesOut, ms: s.ms / n,
      })),
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    }
    const exact = result.tensors.filter((t) => t.identical_fraction_vs_fake_quant === 1).length;
    const lines = [
      `simulated ${basename(file)} on ${target.name}: ${n} sample(s), ${result.ms_per_sample.toFixed(2)} ms per sample`,
      `${exact} of ${result.tensors.length} DPU tensors identical to the fake-quant run${exact < result.tensors.length ? ` (worst: ${result.tensors.filter((t) => t.identical_fraction_vs_fake_quant < 1).map((t) => `${t.name} ${(t.identical_fraction_vs_fake_quant * 100).toFixed(2)} %, ${t.max_lsb_vs_fake_quant} LSB`).slice(0, 5).join('; ')})` : ''}`,
      ...result.subgraphs.map((s) => `  ${s.device.padEnd(4)} ${s.name}: ${s.macs} MACs, in ${s.bytes_in} B, weights ${s.bytes_weights} B, out ${s.bytes_out} B, ${s.ms.toFixed(3)} ms`),
      `wrote ${outputs.map((o) => join(out, o.file)).join(', ')}${opts.has('--dump') ? `; golden files of sample 0 in ${opts.get('--dump')}` : ''}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
