// `npm run bench` (memory part): what opening a model costs in memory, per model. Each model is measured
// in a fresh Node process (a running maximum over several models would charge one model for another's
// garbage): read the file, build the display graph, the summary, and the stats of every weight, as the
// app does when a user opens a model and clicks through its weights. Besides the shared models it
// generates a ~100 MB model, the size the goal "no more than about 3x its size in memory" is stated for.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from '../src/core/analysis/summary';
import { tensorStats } from '../src/core/analysis/stats';
import type { ConstTensor } from '../src/core/ir';
import { buildOnnx } from '../src/core/onnx/build';
import { readOnnx } from '../src/core/onnx/reader';
import { ctorFor } from '../src/core/onnx/values';
import { toDisplayGraph } from '../src/core/view/display';
import { SHARED_ONNX } from '../test/shared';

const DIR = process.env.BENCH_MODELS ?? SHARED_ONNX;
const mib = (b: number) => b / 2 ** 20;

export interface Measure {
  fileBytes: number;
  /** RSS of the process before the file was read (Node + the loaded code). */
  baseRss: number;
  /** Peak RSS over the whole run (the kernel's high-water mark, so nothing between samples is missed). */
  peakRss: number;
  /** Largest ArrayBuffer total seen (file + typed arrays), sampled after each step and each weight. */
  peakArrayBuffers: number;
  /** Numeric weight bytes kept as their file bytes because they are misaligned for their element type. */
  misalignedBytes: number;
  weightBytes: number;
}

/** Runs in the child: everything the app does on open, sampling memory as it goes. */
function child(file: string): Measure {
  const baseRss = process.memoryUsage().rss;
  let peakArrayBuffers = 0;
  const sample = () => { peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers); };
  const buf = readFileSync(file);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  sample();
  const model = readOnnx(bytes);
  sample();
  toDisplayGraph(model);
  sample();
  summarize(model);
  sample();
  let misalignedBytes = 0;
  let weightBytes = 0;
  for (const t of model.graph.initializers.values()) {
    if (t.dtype === 'string') continue;
    const v = t.values as Exclude<ConstTensor['values'], readonly string[]>;
    weightBytes += v.byteLength;
    if (v instanceof Uint8Array && ctorFor(t.dtype) !== Uint8Array) misalignedBytes += v.byteLength;
    tensorStats(t);
    sample();
  }
  return { fileBytes: bytes.byteLength, baseRss, peakRss: peakRss(), peakArrayBuffers, misalignedBytes, weightBytes };
}

/**
 * The process's RSS high-water mark. VmHWM belongs to the address space, which exec replaces, whereas
 * getrusage's maxRSS survives exec and so reports the parent's peak at fork time.
 */
function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS * 1024;
}

/**
 * A ~100 MB float32 model: a chain of 3×3 Convs of 512 channels (9.4 MB of weights each) with biases.
 * Tensor names of varying length put the raw_data at varying offsets, so alignment is whatever a real
 * exporter's would be rather than always aligned.
 */
function bigModel(): Uint8Array {
  const initializers: Record<string, ConstTensor> = {};
  const nodes = [];
  let x = 'x';
  const C = 512;
  for (let i = 0; i < 11; i++) {
    const w = new Float32Array(C * C * 9);
    for (let k = 0; k < w.length; k++) w[k] = Math.sin(k * 0.37 + i) * 0.05;
    const wName = `layer${i}.${'w'.repeat(1 + (i % 3))}`;
    const bName = `layer${i}.bias`;
    initializers[wName] = { name: wName, dtype: 'float32', shape: [C, C, 3, 3], values: w };
    initializers[bName] = { name: bName, dtype: 'float32', shape: [C], values: new Float32Array(C).fill(0.01 * i) };
    nodes.push({ op: 'Conv', inputs: [x, wName, bName], outputs: [`c${i}`], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } });
    nodes.push({ op: 'Relu', inputs: [`c${i}`], outputs: [`r${i}`] });
    x = `r${i}`;
  }
  return buildOnnx({ inputs: { x: ['float32', [1, C, 14, 14]] }, outputs: [x], initializers, nodes });
}

/** Opens `file` in a fresh Node process and returns what that cost in memory. */
export function measureInChild(file: string): Measure {
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as Measure;
}

function main(): void {
  const files: string[] = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.onnx')).sort().map((f) => join(DIR, f)) : [];
  const tmp = mkdtempSync(join(tmpdir(), 'fixpoint-mem-'));
  try {
    const big = join(tmp, 'generated_100mb.onnx');
    writeFileSync(big, bigModel());
    files.push(big);
    const head = ['model', 'file MiB', 'misaligned weights', 'base rss MiB', 'peak rss MiB', '(peak-base)/file', 'peak rss/file', 'array buffers/file'];
    const rows = files.map((f) => {
      const m = measureInChild(f);
      return [
        basename(f), mib(statSync(f).size).toFixed(1),
        m.weightBytes ? `${((100 * m.misalignedBytes) / m.weightBytes).toFixed(0)}%` : '-',
        mib(m.baseRss).toFixed(0), mib(m.peakRss).toFixed(0),
        ((m.peakRss - m.baseRss) / m.fileBytes).toFixed(2), (m.peakRss / m.fileBytes).toFixed(2),
        (m.peakArrayBuffers / m.fileBytes).toFixed(2),
      ];
    });
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    console.log(line(head));
    for (const r of rows) console.log(line(r));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// Run as a script (not imported by bench/run.ts): measure one file as the child, or all as the parent.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  if (process.argv[2] === '--child') console.log(JSON.stringify(child(process.argv[3])));
  else main();
}
