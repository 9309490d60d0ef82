// Helper threads for the int8 kernels. Each helper instantiates the shared-memory build of the kernels
// (kernels-shared.gen.ts) on the engine's own memory and sleeps in Atomics.wait on its slot; the engine
// writes a list of kernel calls into the slot (its share of a conv layer's output rows), wakes it, runs its
// own share and joins. Plain messages would cost a trip through each thread's event loop per layer; a
// slot in the shared memory costs one futex wake. The helper's code is a string run as a Node
// worker_threads eval or a browser blob Worker, so no bundler or loader is involved.

/** The exports a helper may be asked to call, by index (their arguments are all numbers). */
export const KERNEL_FNS = [
  'setEpilogue', 'im2col', 'im2col16', 'im2colTaps', 'im2colTaps16', 'convCore', 'convWide', 'dwCore', 'dw3x3', 'epilogueRows',
] as const;
export type KernelFn = (typeof KERNEL_FNS)[number];

/** float64 words of a job: [call count, then per call: function index, argument count, arguments…]. */
export const SLOT_WORDS = 1024;
/** Bytes of one helper's slot: 4 int32 (job sequence, done sequence, failed flag, spare), then the job. */
export const SLOT_BYTES = 16 + 8 * SLOT_WORDS;

export interface KernelCrew {
  /** Number of helper threads. */
  readonly size: number;
  /** Hands helper i a job (flat call list, see SLOT_WORDS) and returns at once. */
  post(i: number, job: readonly number[]): void;
  /** Blocks until helper i has finished its last job; throws when a call of it failed. */
  join(i: number): void;
  /** Ends every helper (they exit their wait loop and their threads are terminated). */
  end(): void;
}

// Plain JavaScript, run by the helper thread. A finished job is published by the done sequence (atomic,
// so the kernel's plain stores are visible to the engine once it reads it).
const HELPER_SOURCE = `'use strict';
function boot(post, d) {
  let fns;
  try {
    const inst = new WebAssembly.Instance(d.module, { env: { memory: d.memory } });
    fns = d.names.map((n) => inst.exports[n]);
  } catch (e) {
    post({ error: String((e && e.message) || e) });
    return;
  }
  const ctl = new Int32Array(d.memory.buffer, d.slot, 4);
  const a = new Float64Array(d.memory.buffer, d.slot + 16, d.words);
  post({ ready: true });
  let seq = 0;
  for (;;) {
    while (Atomics.load(ctl, 0) === seq) Atomics.wait(ctl, 0, seq);
    seq = Atomics.load(ctl, 0);
    const n = a[0];
    if (n < 0) return;
    let failed = 0;
    try {
      for (let i = 0, k = 1; i < n; i++) {
        const c = a[k + 1];
        fns[a[k]].apply(null, Array.prototype.slice.call(a, k + 2, k + 2 + c));
        k += 2 + c;
      }
    } catch (e) {
      failed = 1;
    }
    Atomics.store(ctl, 2, failed);
    Atomics.store(ctl, 1, seq);
    Atomics.notify(ctl, 1);
  }
}
if (typeof process === 'object' && process.versions && process.versions.node) {
  const wt = require('node:worker_threads');
  boot((m) => wt.parentPort.postMessage(m), wt.workerData);
} else {
  self.onmessage = (e) => { self.onmessage = null; boot((m) => self.postMessage(m), e.data); };
}
`;

interface HelperThread {
  send(data: unknown): void;
  onMessage(f: (m: { ready?: boolean; error?: string }) => void, fail: (e: Error) => void): void;
  terminate(): void;
}

type NodeWorkerThreads = {
  Worker: new (src: string, o: { eval: boolean; workerData: unknown }) => {
    on(ev: 'message' | 'error', f: (x: never) => void): void;
    unref(): void;
    terminate(): Promise<number>;
  };
};

function nodeWorkerThreads(): NodeWorkerThreads | undefined {
  const p = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } }).process;
  if (!p?.versions?.node || typeof p.getBuiltinModule !== 'function') return undefined;
  return p.getBuiltinModule('node:worker_threads') as NodeWorkerThreads | undefined;
}

/**
 * Whether this realm can run kernel helpers: SharedArrayBuffer (a cross-origin-isolated page, or Node),
 * a way to start a thread, and a thread that may block in Atomics.wait (not a window's main thread).
 */
export function kernelThreadsAvailable(): boolean {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; document?: unknown; Worker?: unknown; Blob?: unknown };
  if (typeof g.SharedArrayBuffer !== 'function' || typeof Atomics === 'undefined' || g.crossOriginIsolated === false) return false;
  if (nodeWorkerThreads()) return true;
  return g.document === undefined && typeof g.Worker === 'function' && typeof g.Blob === 'function' && typeof URL.createObjectURL === 'function';
}

function startThread(data: unknown): HelperThread {
  const wt = nodeWorkerThreads();
  if (wt) {
    const w = new wt.Worker(HELPER_SOURCE, { eval: true, workerData: data });
    // A simulation that is never released must not keep the process alive.
    w.unref();
    return {
      send: () => {},
      onMessage: (f, fail) => { w.on('message', f as (x: never) => void); w.on('error', fail as (x: never) => void); },
      terminate: () => { void w.terminate(); },
    };
  }
  const url = URL.createObjectURL(new Blob([HELPER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(url, { name: 'dpu-kernels' });
  URL.revokeObjectURL(url);
  return {
    send: (d) => w.postMessage(d),
    onMessage: (f, fail) => {
      w.onmessage = (e: MessageEvent) => f(e.data as { ready?: boolean; error?: string });
      w.onerror = (e) => { e.preventDefault(); fail(new Error(e.message || 'the kernel helper thread failed to start')); };
    },
    terminate: () => w.terminate(),
  };
}

/** Starts one helper per slot (byte offsets of SLOT_BYTES each in `memory`) and waits until each is ready. */
export async function startKernelCrew(module: WebAssembly.Module, memory: WebAssembly.Memory, slots: readonly number[]): Promise<KernelCrew> {
  const threads: HelperThread[] = [];
  try {
    await Promise.all(slots.map((slot) => {
      const data = { module, memory, slot, words: SLOT_WORDS, names: KERNEL_FNS };
      const t = startThread(data);
      threads.push(t);
      return new Promise<void>((resolve, reject) => {
        t.onMessage((m) => (m.ready ? resolve() : reject(new Error(`kernel helper thread: ${m.error ?? 'no reply'}`))), reject);
        t.send(data);
      });
    }));
  } catch (e) {
    for (const t of threads) t.terminate();
    throw e;
  }
  const ctl = slots.map((s) => new Int32Array(memory.buffer, s, 4));
  const args = slots.map((s) => new Float64Array(memory.buffer, s + 16, SLOT_WORDS));
  const seq = slots.map(() => 0);
  let ended = false;
  return {
    size: slots.length,
    post(i, job) {
      if (job.length > SLOT_WORDS) throw new Error(`kernel job of ${job.length} words exceeds the slot (${SLOT_WORDS})`);
      args[i].set(job);
      seq[i]++;
      Atomics.store(ctl[i], 0, seq[i]);
      Atomics.notify(ctl[i], 0);
    },
    join(i) {
      const want = seq[i];
      // A layer's halves end close together: spin a little before sleeping on the futex.
      for (let spin = 0; spin < 2000 && Atomics.load(ctl[i], 1) !== want; spin++);
      const t0 = Date.now();
      for (;;) {
        const done = Atomics.load(ctl[i], 1);
        if (done === want) break;
        Atomics.wait(ctl[i], 1, done, 1000);
        if (Date.now() - t0 > 600_000) throw new Error('a kernel helper thread stopped answering');
      }
      if (Atomics.load(ctl[i], 2) !== 0) throw new Error('a kernel call failed in a helper thread');
    },
    end() {
      if (ended) return;
      ended = true;
      ctl.forEach((c, i) => {
        args[i][0] = -1;
        Atomics.store(c, 0, ++seq[i]);
        Atomics.notify(c, 0);
      });
      for (const t of threads) t.terminate();
    },
  };
}
