// Calibration cost: `npx tsx bench/quant.ts`.
// 1. Calibration rate (the statistics pass: every observed tensor as a session output, statistics for every
//    method) next to plain float inference of the same model in the same runtime (onnxruntime at 1 and at
//    2 threads), on fmnist_seed000 and YOLOX-nano: in one process per model and thread count, plain and
//    calibration alternate (A, B, A, B, A, B) and the medians are printed.
// 1b. Where one calibration sample goes (the split): onnxruntime's run with the observed tensors as
//    outputs but only the model's outputs fetched, the fetch of the observed tensors (onnxruntime copies
//    each out of its wasm heap into a new array), and the statistics over them, beside plain inference.
// 2. Wall time of `fixpoint quantize` on YOLOX-nano with 100 samples (the whole command, in a child), and
//    its phases as the command reports them (`timings_ms`).
// 3. Peak RSS of quantizeModel on 100 and on 1000 Fashion-MNIST images, each in its own process, so the
//    peak is that run's own: it must not grow with the image count. The same for the whole `fixpoint
//    quantize` command on a 100- and a 1000-image .npy (which it reads a batch at a time). Medians of
//    RSS_REPS processes, 100 and 1000 interleaved, with the highest RSS seen at a batch's end per phase;
//    a diagnostic row forces a full GC after every batch (node --expose-gc), which separates state kept
//    per sample (still grows) from garbage V8 has not collected yet (does not). `--memory`: part 3 alone.
// 0. The statistics pass alone (diffs cells + histogram, stats.ts's cellErrors with the batch's range, as
//    observeParts calls it) on 4M float32 values, ns per value of process CPU time, WebAssembly against the
//    JavaScript loop (setStatsWasm).
// BENCH_QUICK=1 skips 2.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batches, limitSamples, samplesFromFiles } from '../src/core/data/calib';
import { writeNpy } from '../src/core/data/npy';
import { inputSpecFromShape } from '../src/core/data/preprocess';
import type { FloatTensor } from '../src/core/ir';
import { readOnnx } from '../src/core/onnx/reader';
import { defaultQuantConfig, parseQuantConfig, quantizeModel } from '../src/core/quant';
import { activationRunner } from '../src/core/quant/activations';
import { buildQGraph, prepareModel } from '../src/core/quant';
import { growHistogram, newHistogram } from '../src/core/quant/calibrate/histogram';
import { maxminFixPoint } from '../src/core/quant/calibrate/methods';
import { cellErrors, newTensorStats, observeParts } from '../src/core/quant/calibrate/stats';
import { createFloatSession } from '../src/core/sim/float/ort';
import { nodeFoldThread } from '../src/cli/fold-thread';
import { setStatsWasm } from '../src/core/quant/calibrate/stats-wasm';
import { derivedTensors, valuesOf } from '../src/core/quant/calibrate/derive';

const FMNIST = 'public/models/fmnist_seed000.onnx';
const YOLOX = 'public/models/yolox_nano.onnx';
const DATA = 'public/calib/fmnist_eval1000.npy';
let ORT = { threads: 1 };
/** Alternating repetitions of plain and calibration per child. */
const REPS = 3;
/** Processes per row of the peak-memory table (part 3). */
const RSS_REPS = 5;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

type Feeds = Record<string, FloatTensor>;

function fmnistFeeds(count: number): { model: ReturnType<typeof readOnnx>; feeds: () => Iterable<Feeds>; count: number } {
  const model = readOnnx(new Uint8Array(readFileSync(FMNIST)));
  const input = model.graph.inputs[0];
  const spec = inputSpecFromShape(input.name, input.shape ?? []);
  const samples = limitSamples(samplesFromFiles([{ name: 'fmnist_eval1000.npy', bytes: new Uint8Array(readFileSync(DATA)) }], spec), count);
  return { model, feeds: () => batches(samples, spec), count: samples.count };
}

/** Deterministic 0..255 "images" for YOLOX (its input takes raw pixels). */
function yoloxImage(k: number): Uint8Array {
  const d = new Uint8Array(3 * 416 * 416);
  for (let i = 0; i < d.length; i++) d[i] = (i * 7919 + k * 104729 + ((i / 416) | 0) * 31) % 256;
  return d;
}

function yoloxFeeds(count: number) {
  const model = readOnnx(new Uint8Array(readFileSync(YOLOX)));
  const name = model.graph.inputs[0].name;
  return {
    model, count,
    feeds: function* () { for (let k = 0; k < count; k++) yield { [name]: { shape: [1, 3, 416, 416], data: Float32Array.from(yoloxImage(k)) } }; },
  };
}

const samplesOf = (f: Feeds) => Object.values(f)[0].shape[0];

/** Samples per second over every batch but the first (set-up and JIT land in the first). */
function rateFrom(stamps: number[], perBatch: number[]): number {
  const n = perBatch.slice(1).reduce((a, b) => a + b, 0);
  return n / ((stamps[stamps.length - 1] - stamps[0]) / 1000);
}

/** Process CPU ms now: on a shared machine wall-clock rates follow the load; CPU time follows the work. */
const cpuMs = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };

/** Samples/s of a runner fetching `outputs` (none: plain inference), each batch stamped as it ends. */
async function runnerRate(model: ReturnType<typeof readOnnx>, outputs: string[], feeds: () => Iterable<Feeds>): Promise<{ rate: number; cpuRate: number }> {
  const run = await activationRunner(model, outputs, { ort: ORT, engine: 'onnxruntime' });
  const stamps: number[] = [];
  const cpu: number[] = [];
  const per: number[] = [];
  for (const f of feeds()) {
    await run.run(f);
    stamps.push(performance.now());
    cpu.push(cpuMs());
    per.push(samplesOf(f));
  }
  await run.release();
  return { rate: rateFrom(stamps, per), cpuRate: rateFrom(cpu, per) };
}

const plainRate = (model: ReturnType<typeof readOnnx>, feeds: () => Iterable<Feeds>) => runnerRate(model, [], feeds);

/** `fold`: the statistics in a worker thread, overlapping the next run (as `fixpoint quantize` does on 2+ cores). */
async function calibRate(model: ReturnType<typeof readOnnx>, feeds: () => Iterable<Feeds>, fold: boolean): Promise<{ rate: number; cpuRate: number; engine: string }> {
  const stamps: number[] = [];
  const cpu: number[] = [];
  const per: number[] = [];
  const list = [...feeds()].map(samplesOf);
  const r = await quantizeModel(model, feeds, parseQuantConfig({ include_bias_corr: false }), {
    ort: ORT, engine: 'onnxruntime', skipEvaluation: true, foldThread: fold ? nodeFoldThread : undefined,
    // The last event comes when every batch's statistics are folded (the thread's last batch included).
    onProgress: (p) => { if (p.phase === 'calibrate') { stamps.push(performance.now()); cpu.push(cpuMs()); per.push(p.done ? 0 : list[p.batch - 1]); } },
  });
  return { rate: rateFrom(stamps, per), cpuRate: rateFrom(cpu, per), engine: r.engine };
}

/** The prepared model calibration runs, its observed tensors (graph inputs aside) and those it fetches (the others are derived). */
function observedOf(m0: ReturnType<typeof readOnnx>) {
  const { model } = prepareModel(m0, defaultQuantConfig());
  const g = model.graph;
  const isFloat = (n: string) => !g.initializers.has(n) && (g.valueInfo.get(n)?.dtype ?? 'float32') === 'float32';
  const observed = buildQGraph(g, isFloat).points.filter((n) => !g.inputs.some((i) => i.name === n));
  const derived = derivedTensors(g, observed);
  return { model, observed, derived, fetched: observed.filter((n) => !derived.has(n)) };
}

/** Samples/s of the calibration session's runs with the observed tensors fetched and no statistics: the ceiling of calibration. */
async function fetchRate(m0: ReturnType<typeof readOnnx>, feeds: () => Iterable<Feeds>): Promise<{ rate: number; cpuRate: number }> {
  const { model, fetched } = observedOf(m0);
  return runnerRate(model, fetched, feeds);
}

/** ms (wall and CPU) of the parts of one calibration sample on YOLOX-nano, medians of alternating runs. */
async function split(): Promise<Record<string, number>> {
  const { model: m0, feeds } = yoloxFeeds(1);
  const { model, observed, derived, fetched } = observedOf(m0);
  const g = model.graph;
  const feed = [...feeds()][0];
  const plain = await createFloatSession(model, ORT);
  const calib = await createFloatSession(model, { ...ORT, extraOutputs: fetched });
  // Every observed tensor fetched, as before the derived ones were read off the others.
  const calibAll = await createFloatSession(model, { ...ORT, extraOutputs: observed });
  const modelOuts = g.outputs.map((o) => o.name);
  let got: Record<string, FloatTensor> = {};
  const stats = new Map(observed.map((n) => [n, newTensorStats()]));
  const parts: Record<string, () => Promise<unknown>> = {
    plain: () => plain.run(feed),
    run: () => calib.run(feed, modelOuts),
    runFetchAll: () => calibAll.run(feed, [...modelOuts, ...observed]),
    runFetch: async () => { got = await calib.run(feed, [...modelOuts, ...fetched]); },
    stats: async () => { for (const n of observed) observeParts(stats.get(n)!, valuesOf(n, got, derived)!); },
  };
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (let r = 0; r < 2 + 2 * REPS; r++) {
    for (const [k, f] of Object.entries(parts)) {
      const t0 = performance.now();
      const c0 = cpuMs();
      await f();
      if (r < 2) continue; // warm-up
      (wall[k] ??= []).push(performance.now() - t0);
      (cpu[k] ??= []).push(cpuMs() - c0);
    }
  }
  await plain.release();
  await calib.release();
  await calibAll.release();
  const count = (names: string[]) => names.reduce((a, n) => a + valuesOf(n, got, derived)!.reduce((b, p) => b + p.length, 0), 0);
  const out: Record<string, number> = { tensors: observed.length, values: count(observed), fetchedTensors: fetched.length, fetchedValues: count(fetched) };
  for (const k of Object.keys(parts)) { out[k] = median(wall[k]); out[`${k}Cpu`] = median(cpu[k]); }
  return out;
}

/**
 * quantizeModel on the first `count` images. `forceGc` (a diagnostic, the child runs with --expose-gc):
 * a full collection after every calibration and evaluation batch, so garbage never waits for V8's
 * heuristics; what still grows with the count then is state kept per sample, what only grows without
 * it is garbage collected late. `phases` records the RSS at each batch's end, the highest per phase.
 */
async function rss(count: number, forceGc: boolean): Promise<Record<string, number>> {
  const { model, feeds, count: n } = fmnistFeeds(count);
  const gc = forceGc ? (globalThis as { gc?: () => void }).gc : undefined;
  if (forceGc && !gc) throw new Error('--gc needs node --expose-gc');
  const byPhase: Record<string, number> = {};
  const t0 = performance.now();
  await quantizeModel(model, feeds, defaultQuantConfig(), {
    ort: ORT,
    onProgress: (p) => {
      gc?.();
      byPhase[`${p.phase}_rss_mib`] = Math.max(byPhase[`${p.phase}_rss_mib`] ?? 0, process.memoryUsage.rss() / 2 ** 20);
    },
  });
  return { images: n, seconds: (performance.now() - t0) / 1000, peak_rss_mib: process.resourceUsage().maxRSS / 1024, ...byPhase };
}

/** ns of CPU time per value of the cells + histogram pass (best of 3, after a warm-up run). */
function statsNsPerValue(wasm: boolean): number {
  const n = 1 << 22;
  const x = new Float32Array(n);
  let s = 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const g = (s / 2 ** 32 - 0.5) * 8;
    x[i] = i % 7 === 0 ? 0 : g / (1 + Math.exp(-g)); // SiLU-like, with exact zeros
  }
  let min = Infinity, max = -Infinity;
  for (const v of x) { if (v < min) min = v; if (v > max) max = v; }
  const fp0 = maxminFixPoint(Math.min(min, 0), Math.max(max, 0), 8)!;
  setStatsWasm(wasm);
  let best = Infinity;
  for (let r = 0; r < 4; r++) {
    const h = newHistogram();
    growHistogram(h, Math.max(-min, max));
    const t0 = process.cpuUsage().user;
    cellErrors([x], fp0, new Float64Array(5), 8, h, { min, max });
    if (r > 0) best = Math.min(best, ((process.cpuUsage().user - t0) * 1000) / n);
  }
  setStatsWasm(true);
  return best;
}

const self = fileURLToPath(import.meta.url);
const childWith = (node: string[], ...args: string[]) =>
  JSON.parse(execFileSync(process.execPath, [...node, '--import', 'tsx', self, ...args], { encoding: 'utf8' }).trim().split('\n').pop()!);
const child = (...args: string[]) => childWith([], ...args);

/** `fixpoint quantize` in this process on the first `count` images of the Fashion-MNIST set, as a .npy file. */
async function cliRss(count: number): Promise<Record<string, number>> {
  const { quantize } = await import('../src/cli/commands/quantize');
  const { parseNpy } = await import('../src/core/data/npy');
  const dir = mkdtempSync(join(tmpdir(), 'fixpoint-bench-'));
  try {
    const all = parseNpy(new Uint8Array(readFileSync(DATA)));
    const per = all.shape.slice(1).reduce((a, b) => a * b, 1);
    const npy = join(dir, `fmnist${count}.npy`);
    writeFileSync(npy, writeNpy({ dtype: all.dtype, shape: [count, ...all.shape.slice(1)], data: all.data.slice(0, count * per) }));
    const base = process.resourceUsage().maxRSS;
    const t0 = performance.now();
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = () => true; // the command's --json line: only ours is read
    try {
      await quantize.run([FMNIST, '--calib', npy, '--out', join(dir, 'out'), '--json']);
    } finally {
      process.stdout.write = write;
    }
    return { images: count, seconds: (performance.now() - t0) / 1000, peak_rss_mib: process.resourceUsage().maxRSS / 1024, before_mib: base / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Part 3. Peak RSS depends on when V8 collects, so each row is a median over processes, the counts interleaved. */
function memoryTables(): void {
  const rows = (what: string, run: (n: number) => Record<string, number>) => {
    const got = new Map<number, Record<string, number>[]>([[100, []], [1000, []]]);
    for (let r = 0; r < RSS_REPS; r++) for (const n of got.keys()) got.get(n)!.push(run(n));
    console.log(`${what}, one process per run, median of ${RSS_REPS} (interleaved); load ${loadavg()[0].toFixed(2)}`);
    const cols = Object.keys(got.get(100)![0]).filter((k) => k.endsWith('_mib') && k !== 'before_mib');
    console.log(`images   seconds   ${cols.map((c) => c.replace(/_mib$/, '').replace(/_/g, ' ').padStart(18)).join(' ')}`);
    for (const [n, rs] of got) {
      const m = (k: string) => median(rs.map((x) => x[k]));
      console.log(`${String(n).padStart(6)} ${m('seconds').toFixed(1).padStart(9)}   ${cols.map((c) => m(c).toFixed(0).padStart(18)).join(' ')}`);
    }
  };
  rows('quantizeModel on fmnist_seed000 (RSS in MiB)', (n) => child('--rss', String(n)));
  rows('  the same with a full GC after every batch (diagnostic: what remains is kept per sample)', (n) => childWith(['--expose-gc'], '--rss', String(n), '--gc'));
  rows('fixpoint quantize fmnist_seed000 --calib N images.npy (RSS in MiB)', (n) => child('--cli-rss', String(n)));
}

if (process.argv[2] === '--cli-rss') {
  process.stdout.write(`${JSON.stringify(await cliRss(Number(process.argv[3])))}\n`);
  process.exit(0);
} else if (process.argv[2] === '--memory') {
  memoryTables();
} else if (process.argv[2] === '--rss') {
  process.stdout.write(`${JSON.stringify(await rss(Number(process.argv[3]), process.argv[4] === '--gc'))}\n`);
  process.exit(0);
} else if (process.argv[2] === '--rates') {
  ORT = { threads: Number(process.argv[4]) };
  const which = process.argv[3] === 'yolox' ? yoloxFeeds(Number(process.env.YOLOX_SAMPLES ?? 8)) : fmnistFeeds(300);
  const plain: Awaited<ReturnType<typeof plainRate>>[] = [];
  const calib: Awaited<ReturnType<typeof calibRate>>[] = [];
  const thread: Awaited<ReturnType<typeof calibRate>>[] = [];
  const fetch: Awaited<ReturnType<typeof fetchRate>>[] = [];
  for (let r = 0; r < REPS; r++) {
    plain.push(await plainRate(which.model, which.feeds));
    calib.push(await calibRate(which.model, which.feeds, false));
    thread.push(await calibRate(which.model, which.feeds, true));
    fetch.push(await fetchRate(which.model, which.feeds));
  }
  const med = (a: { rate: number; cpuRate: number }[], k: 'rate' | 'cpuRate') => median(a.map((x) => x[k]));
  process.stdout.write(`${JSON.stringify({
    samples: which.count, plain: med(plain, 'rate'), calib: med(calib, 'rate'), thread: med(thread, 'rate'),
    plainCpu: med(plain, 'cpuRate'), calibCpu: med(calib, 'cpuRate'), threadCpu: med(thread, 'cpuRate'), engine: calib[0].engine,
    fetch: med(fetch, 'rate'), fetchCpu: med(fetch, 'cpuRate'),
  })}\n`);
  process.exit(0);
} else if (process.argv[2] === '--split') {
  ORT = { threads: Number(process.argv[3]) };
  process.stdout.write(`${JSON.stringify(await split())}\n`);
  process.exit(0);
} else {
  const js = statsNsPerValue(false);
  const wasm = statsNsPerValue(true);
  console.log(`statistics pass (cells + histogram), ns/value CPU: JavaScript ${js.toFixed(2)}, wasm ${wasm.toFixed(2)} (${(js / wasm).toFixed(1)}×)`);
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
  console.log(`calibration statistics pass vs plain float inference (onnxruntime; samples/s of wall time and of process CPU time; medians of ${REPS} alternating runs)`);
  console.log('(calibration: statistics between runs; +thread: in a worker thread overlapping the next run, as fixpoint quantize on 2+ cores;');
  console.log(' run+fetch: the calibration session fetching the observed tensors with no statistics at all — no calibration can pass it)');
  console.log('model     threads  samples   plain   calibration   ratio   +thread   ratio   run+fetch   ratio   plain/CPU-s   calibration/CPU-s   ratio');
  for (const m of ['fmnist', 'yolox']) {
    for (const threads of [1, 2]) {
      const r = child('--rates', m, String(threads));
      console.log(`${m.padEnd(9)} ${String(threads).padStart(7)} ${String(r.samples).padStart(8)} ${r.plain.toFixed(1).padStart(7)} ${r.calib.toFixed(1).padStart(13)} ${(r.calib / r.plain).toFixed(2).padStart(7)}` +
        ` ${r.thread.toFixed(1).padStart(9)} ${(r.thread / r.plain).toFixed(2).padStart(7)}` +
        ` ${r.fetch.toFixed(1).padStart(11)} ${(r.fetch / r.plain).toFixed(2).padStart(7)}` +
        ` ${r.plainCpu.toFixed(1).padStart(13)} ${r.calibCpu.toFixed(1).padStart(19)} ${(r.calibCpu / r.plainCpu).toFixed(2).padStart(7)}`);
    }
  }
  console.log('one YOLOX-nano calibration sample, ms wall / ms CPU (medians): plain inference; the calibration session\'s run');
  console.log('(fetched tensors as outputs, none fetched); their fetch (run + fetch − run); statistics over every observed tensor');
  console.log('(the fetched ones and those read off them, calibrate/derive.ts). Floors: run+fetch alone (no statistics) against plain;');
  console.log('with statistics: wall when they overlap the run on another core, CPU time when onnxruntime already uses every core');
  for (const threads of [1, 2]) {
    const r = child('--split', String(threads));
    const f = (k: string) => `${r[k].toFixed(1)} / ${r[`${k}Cpu`].toFixed(1)}`;
    const fetch = `${(r.runFetch - r.run).toFixed(1)} / ${(r.runFetchCpu - r.runCpu).toFixed(1)}`;
    const fetchAll = `${(r.runFetchAll - r.run).toFixed(1)} / ${(r.runFetchAllCpu - r.runCpu).toFixed(1)}`;
    console.log(`  threads ${threads}: ${r.tensors} tensors, ${(r.values / 1e6).toFixed(1)} M values per sample, ${r.fetchedTensors} fetched (${(r.fetchedValues / 1e6).toFixed(1)} M);` +
      ` plain ${f('plain')}, run ${f('run')}, fetch ${fetch} (all ${r.tensors} fetched: ${fetchAll}), statistics ${f('stats')} (${((r.statsCpu * 1e6) / r.values).toFixed(2)} ns/value)`);
    console.log(`    run+fetch without statistics: ${(r.plain / r.runFetch).toFixed(2)}×; statistics between runs: ${(r.plain / (r.runFetch + r.stats)).toFixed(2)}×;` +
      ` overlapped on a free core: ${(r.plain / Math.max(r.runFetch, r.stats)).toFixed(2)}×; CPU-bound (every core busy): ${(r.plainCpu / (r.runFetchCpu + r.statsCpu)).toFixed(2)}×`);
  }
  if (process.env.BENCH_QUICK !== '1') {
    const dir = mkdtempSync(join(tmpdir(), 'fixpoint-bench-'));
    try {
      const n = 100;
      const all = new Uint8Array(n * 3 * 416 * 416);
      for (let k = 0; k < n; k++) all.set(yoloxImage(k), k * 3 * 416 * 416);
      const npy = join(dir, 'yolox100.npy');
      writeFileSync(npy, writeNpy({ dtype: 'uint8', shape: [n, 3, 416, 416], data: all }));
      const t0 = performance.now();
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'quantize', YOLOX, '--calib', npy, '--out', join(dir, 'out'), '--json'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
      console.log(`fixpoint quantize yolox_nano on ${n} samples: ${((performance.now() - t0) / 1000).toFixed(1)} s wall (goal < 60 s), per phase (s):`);
      const timings = (JSON.parse(out.trim().split('\n').pop()!) as { timings_ms: Record<string, number> }).timings_ms;
      for (const [phase, ms] of Object.entries(timings)) console.log(`  ${phase.padEnd(36)} ${(ms / 1000).toFixed(1).padStart(6)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  memoryTables();
}
