// `fixpoint inspect MODEL [--json]`: what is in a model file.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { inspectJson, summarize } from '../../core/analysis/summary';
import { InputError, readingFileAsync } from '../../core/errors';
import { formatShape, type TensorInfo } from '../../core/ir';
import { openModelAsync } from '../../core/open';
import type { Command } from './index';

const USAGE = 'usage: fixpoint inspect MODEL [--json]';

/** Reads a file for a command, turning file-system failures into one-line user errors. */
export function readModelFile(path: string): Uint8Array {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new InputError(`cannot read ${path}: ${why}`);
  }
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

function table(rows: string[][], rightAligned: Set<number>): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n');
}

function io(t: TensorInfo): string {
  return `  ${t.name}: ${t.dtype} [${formatShape(t.shape)}]`;
}

export const inspect: Command = {
  summary: 'show a model\'s inputs, outputs, operators, parameters and MACs',
  async run(argv: string[]): Promise<number> {
    const json = argv.includes('--json');
    const unknown = argv.filter((a) => a.startsWith('-') && a !== '--json');
    const files = argv.filter((a) => !a.startsWith('-'));
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (unknown.length) throw new InputError(`unknown option ${unknown[0]} (${USAGE})`);
    if (files.length !== 1) throw new InputError(files.length ? `inspect takes one model, got ${files.length}` : USAGE);
    const model = await readingFileAsync(basename(files[0]), () => openModelAsync(readModelFile(files[0]), basename(files[0])));
    if (json) {
      process.stdout.write(`${JSON.stringify(inspectJson(model))}\n`);
      return 0;
    }
    const s = summarize(model);
    const ops = Object.entries(s.ops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const lines = [
      `${basename(files[0])}: ${model.format.toUpperCase()} opset ${s.opset}${s.producer ? `, from ${s.producer}${model.producerVersion ? ` ${model.producerVersion}` : ''}` : ''}`,
      `nodes ${s.nodes}   params ${human(s.params)} (${s.params})   MACs ${human(s.macs)} (${s.macs})`,
      'inputs:', ...s.inputs.map(io),
      'outputs:', ...s.outputs.map(io),
      `ops: ${ops.map(([k, v]) => `${k}×${v}`).join(', ')}`,
      '',
      table(
        [['#', 'name', 'op', 'output shape', 'params', 'MACs'],
          ...s.layers.map((l, i) => [String(i), l.name, l.opType, formatShape(l.outputShape), String(l.params), String(l.macs)])],
        new Set([0, 4, 5]),
      ),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
