// `fixpoint run MODEL --input X.npy --out DIR [--json]`: float inference on onnxruntime of every sample
// in X.npy, one .npy per model output with the samples along the first axis.
import { availableParallelism } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { floatsOf, openNpy, writeNpy } from '../../core/data/npy';
import { InputError } from '../../core/errors';
import type { Model } from '../../core/ir';
import { openModel } from '../../core/open';
import { importQdq } from '../../core/quant/qdq';
import { createFloatSession } from '../../core/sim/float/ort';
import type { Command } from './index';
import { readModelFile } from './inspect';
import { fileSource } from '../file-source';
import { parseModelArgs, requiredOption } from './args';

const USAGE = 'usage: fixpoint run MODEL --input X.npy --out DIR [--json]';

/** Samples per run when the model's batch axis is symbolic. */
const BATCH = 16;

interface Args { model: string; input: string; out: string; json: boolean }

function parseArgs(argv: string[]): Args {
  const { file, opts, json } = parseModelArgs(argv, 'run', USAGE, new Set(['--input', '--out']));
  return { model: file, input: requiredOption(opts, '--input', USAGE), out: requiredOption(opts, '--out', USAGE), json };
}

/** The output's file stem: every character outside [A-Za-z0-9_.-] becomes `_`. */
export function outputFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.npy`;
}

const fmt = (s: readonly (number | string)[]) => `[${s.join(', ')}]`;

/**
 * How X splits into samples for the model's input: X is one sample when it has the per-sample shape,
 * else its first axis counts samples. Symbolic dimensions match any size.
 */
export function splitSamples(decl: readonly (number | string)[] | undefined, x: readonly number[], file: string): { count: number; sampleShape: number[] } {
  if (!decl || decl.length === 0) return { count: 1, sampleShape: [...x] };
  const per = decl.slice(1);
  // Unit axes may be left out (a [N, 28, 28] array for a [N, 1, 28, 28] input): the values are the same.
  const fill = (s: readonly number[]): number[] | undefined => {
    const out: number[] = [];
    let k = 0;
    for (const d of per) {
      if (k < s.length && (typeof d !== 'number' || d <= 0 || d === s[k])) out.push(s[k++]);
      else if (d === 1) out.push(1);
      else return undefined;
    }
    return k === s.length ? out : undefined;
  };
  const one = fill(x);
  if (one) return { count: 1, sampleShape: one };
  const many = x.length > 0 ? fill(x.slice(1)) : undefined;
  if (many) return { count: x[0], sampleShape: many };
  throw new InputError(`${file} has shape ${fmt(x)}; the model input takes samples of shape ${fmt(per)} (optionally with the samples along a first axis)`);
}

function fixPoints(model: Model): Map<string, number> {
  if (!model.graph.nodes.some((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear')) return new Map();
  return new Map([...importQdq(model).fixPoints].map(([k, v]) => [k, v.fixPoint]));
}

export const run: Command = {
  summary: 'float inference on onnxruntime of every sample in a .npy (one .npy per output)',
  async run(argv: string[]): Promise<number> {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const a = parseArgs(argv);
    const bytes = readModelFile(a.model);
    const model = openModel(bytes, basename(a.model));
    if (model.format !== 'onnx') throw new InputError(`${basename(a.model)} is a compiled ${model.format}; run takes an ONNX model`);
    const inputs = model.graph.inputs;
    if (inputs.length !== 1) throw new InputError(`run feeds one input; this model has ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`);
    const input = inputs[0];
    if (input.dtype !== 'float32') throw new InputError(`run feeds float32; input "${input.name}" is ${input.dtype}`);
    // Read a batch at a time: the file may hold more samples than memory should.
    const x = openNpy(fileSource(a.input), basename(a.input));
    const { count, sampleShape } = splitSamples(input.shape, x.shape, basename(a.input));
    if (count === 0) throw new InputError(`${basename(a.input)} holds no samples`);
    const b0 = input.shape?.[0];
    const fixed = typeof b0 === 'number' && b0 > 0 ? b0 : undefined;
    if (fixed && count % fixed !== 0) throw new InputError(`${basename(a.input)} holds ${count} samples; the model takes batches of exactly ${fixed}`);
    const batch = fixed ?? BATCH;
    const per = sampleShape.reduce((p, d) => p * d, 1);
    const session = await createFloatSession(bytes, { threads: availableParallelism() });
    const names = session.outputNames;
    const parts = new Map<string, Float32Array[]>(names.map((n) => [n, []]));
    const shapes = new Map<string, number[]>();
    let ms = 0;
    try {
      for (let start = 0; start < count; start += batch) {
        const n = Math.min(batch, count - start);
        const feed = { [input.name]: { shape: [n, ...sampleShape], data: floatsOf(x.read(start * per, n * per)) } };
        const t0 = performance.now();
        const res = await session.run(feed);
        ms += performance.now() - t0;
        for (const name of names) {
          const t = res[name];
          // Outputs carry the run's samples on their first axis; an output without one (batch 1) gets one.
          const rest = n > 1 || t.shape[0] === n ? t.shape.slice(1) : t.shape;
          const was = shapes.get(name);
          if (was && fmt(was) !== fmt(rest)) throw new InputError(`output "${name}" changed shape between runs (${fmt(was)} → ${fmt(rest)})`);
          shapes.set(name, [...rest]);
          parts.get(name)!.push(t.data);
        }
      }
    } finally {
      await session.release();
    }
    mkdirSync(a.out, { recursive: true });
    const fps = fixPoints(model);
    const outputs = names.map((name) => {
      const list = parts.get(name)!;
      const all = new Float32Array(list.reduce((s, p) => s + p.length, 0));
      let off = 0;
      for (const p of list) { all.set(p, off); off += p.length; }
      const shape = [count, ...shapes.get(name)!];
      const file = outputFileName(name);
      writeFileSync(join(a.out, file), writeNpy({ dtype: 'float32', shape, data: all }));
      return { name, file, shape, fix_point: fps.get(name) ?? null };
    });
    const msPerSample = ms / count;
    if (a.json) process.stdout.write(`${JSON.stringify({ samples: count, outputs, ms_per_sample: msPerSample })}\n`);
    else {
      process.stdout.write(`ran ${basename(a.model)} on ${count} sample(s) on onnxruntime: ${msPerSample.toFixed(2)} ms per sample\n`);
      for (const o of outputs) process.stdout.write(`  ${o.name} ${fmt(o.shape)}${o.fix_point === null ? '' : ` fix_point ${o.fix_point}`} → ${join(a.out, o.file)}\n`);
    }
    return 0;
  },
};
