// `fixpoint compile MODEL (--arch A | --board B | --arch-json F) [--config quant.json] [--out DIR] [--json]`
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import {
  isAccelerator, layersOf, NO_CONVERSIONS, partition, targetByArch, targetByArchJson, targetByBoard,
  type CompileResult, type CompileSource, type Conversions, type Target,
} from '../../core/compile';
import { pynqPython, vartPython } from '../../core/compile/deploy';
import { standinNpz, standinProgram } from '../../core/compile/standin-npz';
import { STANDIN_MODULE, STANDIN_PY } from '../../core/compile/standin-py';
import { compiledXModel } from '../../core/compile/emit';
import { InputError, readingFile, readingFileAsync } from '../../core/errors';
import { openModelAsync } from '../../core/open';
import { readXModel, writeXModel } from '../../core/xmodel/codec';
import type { Command } from './index';
import { readModelFile } from './inspect';
import { parseModelArgs, type Parsed } from './args';

const USAGE = 'usage: fixpoint compile MODEL (--arch DPUCZDX8G_ISA1_B4096 | --board KV260 | --arch-json arch.json) [--config quant.json] [--out DIR] [--json]';
const VALUED = new Set(['--arch', '--board', '--arch-json', '--config', '--out']);

function parseArgs(argv: string[]): Parsed {
  return parseModelArgs(argv, 'compile', USAGE, VALUED);
}

function readText(path: string): string {
  return new TextDecoder().decode(readModelFile(path));
}

function chooseTarget(opts: Map<string, string>): Target {
  const given = ['--arch', '--board', '--arch-json'].filter((k) => opts.has(k));
  if (given.length !== 1) throw new InputError(`give exactly one of --arch, --board, --arch-json (${USAGE})`);
  if (opts.has('--arch')) return targetByArch(opts.get('--arch')!);
  if (opts.has('--board')) return targetByBoard(opts.get('--board')!);
  return targetByArchJson(readText(opts.get('--arch-json')!));
}

/** The conversion switches of a vai_q quant config (docs/dpu-reference.md §5). */
function conversionsFrom(path: string | undefined): Conversions {
  if (!path) return NO_CONVERSIONS;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(readText(path));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path} is not valid JSON`);
  }
  return {
    ...NO_CONVERSIONS,
    siluToHardSwish: j.convert_silu_to_hswish === true,
    relu6ToRelu: j.convert_relu6_to_relu === true,
    sigmoidToHardSigmoid: j.convert_sigmoid_to_hsigmoid === true,
    leakyReluToDpuSlope: j.convert_leaky_relu_slope === true,
  };
}

async function source(bytes: Uint8Array, name: string): Promise<CompileSource> {
  if (extname(name).toLowerCase() === '.xmodel') return { kind: 'xmodel', xmodel: readingFile(name, () => readXModel(bytes)) };
  return { kind: 'onnx', model: await readingFileAsync(name, () => openModelAsync(bytes, name)) };
}

export function compileJson(r: CompileResult) {
  return {
    target: r.target.name,
    device_subgraph_number: r.deviceSubgraphNumber,
    dpu_subgraph_number: r.dpuSubgraphNumber,
    subgraphs: r.subgraphs.map((s) => ({
      name: s.name, device: s.device, ops: s.ops,
      inputs: s.inputs.map((p) => ({ name: p.name, shape: p.shape, fix_point: p.fixPoint ?? null })),
      outputs: s.outputs.map((p) => ({ name: p.name, shape: p.shape, fix_point: p.fixPoint ?? null })),
      workload: s.cost.workload, workload_on_arch: s.cost.workloadOnArch,
    })),
    // The reason carries its fix too, so a reader of `reason` alone learns what to change.
    cpu_ops: r.cpuOps.map((c) => ({ name: c.name, op: c.op, reason: c.fix ? `${c.reason}; ${c.fix}` : c.reason, ...(c.fix ? { fix: c.fix } : {}) })),
  };
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

function report(r: CompileResult, file: string): string {
  const rows = [['#', 'device', 'name', 'ops', 'workload', 'on arch', 'time', 'inputs (fix point)']];
  r.subgraphs.forEach((s, i) => rows.push([
    String(i), s.device, s.name.length > 48 ? s.name.slice(0, 47) + '…' : s.name, String(s.ops.length),
    isAccelerator(s.device) ? human(s.cost.workload) : '', isAccelerator(s.device) ? human(s.cost.workloadOnArch) : '',
    isAccelerator(s.device) ? `${(s.cost.seconds * 1e3).toFixed(3)} ms` : '',
    s.inputs.map((p) => `${p.name.length > 24 ? '…' + p.name.slice(-23) : p.name}${p.fixPoint !== undefined ? ` (${p.fixPoint})` : ''}`).join(', '),
  ]));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((x) => x[c].length)));
  const table = rows.map((x) => x.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
  const lines = [
    `${basename(file)} → ${r.target.name} (${(r.target.clockHz / 1e6).toFixed(0)} MHz)`,
    r.summary,
    '',
    table,
    '',
    `${r.target.device} total: workload ${human(r.totals.workload)}op, on arch ${human(r.totals.workloadOnArch)}op, ideal ${(r.totals.seconds * 1e3).toFixed(3)} ms, weights ${human(r.totals.weightBytes)}B`,
  ];
  if (r.cpuOps.length) {
    lines.push('', 'on the CPU:');
    for (const c of r.cpuOps) lines.push(`  ${c.name} (${c.op}): ${c.reason}${c.fix ? ` — ${c.fix}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

export const compile: Command = {
  summary: 'partition a model into DPU/CPU subgraphs for a DPU target, with workloads and deployment code',
  async run(argv: string[]): Promise<number> {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const { file, opts, json } = parseArgs(argv);
    const target = chooseTarget(opts);
    const conversions = conversionsFrom(opts.get('--config'));
    // A private copy at offset 0: typed-array views of 64-bit constants need 8-byte alignment.
    const src = await source(readModelFile(file).slice(), basename(file));
    const r = partition(layersOf(src), target, conversions);
    const out = opts.get('--out');
    if (out) {
      const stem = basename(file, extname(file)).replace(/_int$/, '');
      const xname = `${stem}.xmodel`;
      try {
        mkdirSync(out, { recursive: true });
        writeFileSync(join(out, xname), writeXModel(compiledXModel(r)));
        writeFileSync(join(out, `${stem}_vart.py`), vartPython(r, xname));
        writeFileSync(join(out, `${stem}_pynq.py`), pynqPython(r, xname));
        if (src.kind === 'onnx' && r.graph.quantized) {
          // The NumPy stand-in for the board runner: the VART script runs with it where VART is missing.
          let npz: Uint8Array | undefined;
          try {
            npz = standinNpz(standinProgram(src.model, target, conversions));
          } catch (e) {
            if (!(e instanceof InputError)) throw e;
            process.stderr.write(`note: no ${stem}_dpu.npz (NumPy stand-in): ${e.message}\n`);
          }
          if (npz) {
            writeFileSync(join(out, `${stem}_dpu.npz`), npz);
            writeFileSync(join(out, STANDIN_MODULE), STANDIN_PY);
          }
        }
      } catch (e) {
        throw new InputError(`cannot write to ${out}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    process.stdout.write(json ? `${JSON.stringify(compileJson(r))}\n` : report(r, file));
    return 0;
  },
};

