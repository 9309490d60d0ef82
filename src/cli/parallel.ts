// Samples split over worker threads for `fixpoint simulate` / `evaluate --threads N`: sample range 0 runs
// here on the simulation already prepared, each other range in a worker thread that runs the same command's
// `shard(argv, from, to)` (it prepares its own simulation). Ranges are contiguous and merged in order, so the
// results are those of one thread. The worker is this CLI's own entry (main.ts under tsx, or the built
// dist-cli/fixpoint.js), which runs the shard instead of a command when it starts inside a worker.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError } from '../core/errors';

export interface ShardRequest {
  readonly command: string;
  readonly argv: readonly string[];
  readonly from: number;
  readonly to: number;
}

/**
 * `--threads N`: a positive integer (at most 64). Default the machine's cores, but at least 64 samples per
 * thread: a worker spends a second or more starting and preparing the model, which a few samples never repay.
 */
export function threadsOption(opts: ReadonlyMap<string, string>, samples: number): number {
  const v = opts.get('--threads');
  if (v === undefined) return Math.max(1, Math.min(availableParallelism(), Math.ceil(samples / 64)));
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InputError(`--threads must be an integer from 1 to 64, got "${v}"`);
  return n;
}

/**
 * The DPU kernels' threads for the simulation prepared here, before the sample count is known: `--threads N`
 * or the cores. When the samples then run in one shard the kernels have those cores to themselves; when they
 * are split over worker threads the caller ends the helpers (Simulation.endKernelThreads) and every shard's
 * kernels run on its own thread, so the process never asks for more threads than cores.
 */
export function kernelThreadsOption(opts: ReadonlyMap<string, string>): number {
  return opts.has('--threads') ? threadsOption(opts, 1) : availableParallelism();
}

/** [from, to) ranges of `count` samples over at most `threads` shards, as even as they come. */
export function ranges(count: number, threads: number): [number, number][] {
  const n = Math.max(1, Math.min(threads, count));
  return Array.from({ length: n }, (_, i) => [Math.floor((i * count) / n), Math.floor(((i + 1) * count) / n)] as [number, number]);
}

/** The worker's code: this CLI's entry; from source, loaded through tsx's API as bin/fixpoint.js does. */
function workerScript(): { script: string | URL; eval: boolean } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { script: new URL(here), eval: false };
  const api = import.meta.resolve('tsx/esm/api');
  const main = new URL('./main.ts', here).href;
  return { script: `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(main)}); });`, eval: true };
}

function inWorker<T>(req: ShardRequest): Promise<T> {
  const { script, eval: isEval } = workerScript();
  return new Promise<T>((resolve, reject) => {
    const w = new Worker(script, { eval: isEval, workerData: { fixpointShard: req }, stdout: false, stderr: false });
    let settled = false;
    w.once('message', (m: { ok: true; value: T } | { ok: false; message: string; input: boolean }) => {
      settled = true;
      if (m.ok) resolve(m.value);
      else reject(m.input ? new InputError(m.message) : new Error(m.message));
      void w.terminate();
    });
    w.once('error', (e) => { if (!settled) { settled = true; reject(e); } });
    w.once('exit', (code) => { if (!settled) { settled = true; reject(new Error(`simulation worker for samples ${req.from}–${req.to - 1} exited with code ${code}`)); } });
  });
}

/** Runs `local(0, r0)` here and the other ranges in workers; results in range order. */
export async function overShards<T>(command: string, argv: readonly string[], count: number, threads: number, local: (from: number, to: number) => Promise<T>): Promise<T[]> {
  const rs = ranges(count, threads);
  const remote = rs.slice(1).map(([from, to]) => inWorker<T>({ command, argv, from, to }));
  // Settle every worker before reporting a failure, so none outlives the command.
  const all = await Promise.allSettled([local(rs[0][0], rs[0][1]), ...remote]);
  const bad = all.find((r) => r.status === 'rejected');
  if (bad) throw (bad as PromiseRejectedResult).reason;
  return all.map((r) => (r as PromiseFulfilledResult<T>).value);
}
