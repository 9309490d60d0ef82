// Helper threads for the int8 kernels. Each helper instantiates the shared-memory build of the kernels
// (kernels-shared.gen.ts) on the engine's own memory and sleeps in Atomics.wait; the engine writes a job
// into that memory (a conv layer's output rows in chunks, each a list of kernel calls), wakes them, and
// every thread takes the next chunk until none is left. Plain messages would cost a trip through each
// thread's event loop per layer; the shared job costs one futex wake, and on a loaded machine a helper
// that has not woken by the end simply gets nothing. A helper runs serveKernelJobs: in Node as the source
// text of a worker_threads eval (so tsx, Vitest and the built CLI need no loader), in the browser as the
// module worker the sim worker registers (setKernelHelperWorker).

/** The exports a helper may be asked to call, by index (their arguments are all numbers). */
export const KERNEL_FNS = [
  'setEpilogue', 'im2col', 'im2col16', 'im2colTaps', 'im2colTaps16', 'convCore', 'convWide', 'dwCore', 'dw3x3', 'epilogueRows',
] as const;
export type KernelFn = (typeof KERNEL_FNS)[number];

/** float64 words of a job: [chunk count, offset of each chunk's call list…, call lists…]; a call list
 *  is [call count, then per call: function index, argument count, arguments…]. */
export const SLOT_WORDS = 4096;
// int32 control words before the job: the job sequence (helpers wait on it), the next chunk to take, the
// failed flag, the quit flag, the sequence of the job whose input is ready, then per helper its state
// (IDLE, POSTED, RUNNING, REVOKED) and done sequence.
const SEQ = 0, NEXT = 1, FAILED = 2, QUIT = 3, READY = 4, HELPER0 = 6;
const POSTED = 1, REVOKED = 3; // a helper that takes a posted job marks it RUNNING (2)
/** Bytes of the control words and job for `helpers` helper threads. */
export const slotBytes = (helpers: number): number => Math.ceil((HELPER0 + 2 * helpers) / 2) * 8 + 8 * SLOT_WORDS;

export interface KernelCrew {
  /** Number of helper threads. */
  readonly size: number;
  /**
   * Runs every chunk (a call list of the engine's exports) once, on this thread and the helpers, each
   * taking the next chunk until none is left, and returns when all are done; throws when a call failed.
   * A helper not yet awake when this thread runs out of chunks is let off, so a busy machine costs no wait.
   * `prepare` runs on this thread after the helpers are woken and before any chunk (their wake-up overlaps
   * it). `helpersOnly` (tests): this thread takes no chunk and waits for every helper.
   */
  run(chunks: readonly (readonly number[])[], prepare: () => void, helpersOnly?: boolean): void;
  /** Ends every helper (they leave their wait loop and their threads are terminated). */
  end(): void;
}

/** What a helper thread is started with. */
export interface HelperData {
  module: WebAssembly.Module; memory: WebAssembly.Memory; base: number; jobOffset: number; index: number; words: number;
  names: readonly string[];
}

/**
 * A helper thread's whole life: instantiate the kernels on the shared memory, say ready, then serve jobs
 * until told to quit. Self-contained (globals only, the control word indices written out as in SEQ…HELPER0
 * above), because Node runs it as the source text of a worker_threads eval; the browser imports it
 * (workers/dpu-kernels.worker.ts). The sequence-consistent Atomics order the engine's plain stores (the
 * job, the input rows) before the helper's reads, and the helper's results before its done.
 */
export function serveKernelJobs(d: HelperData, post: (m: { ready?: boolean; error?: string }) => void): void {
  let fns: ((...a: number[]) => unknown)[];
  try {
    const inst = new WebAssembly.Instance(d.module, { env: { memory: d.memory } });
    fns = d.names.map((n) => inst.exports[n] as (...a: number[]) => unknown);
  } catch (e) {
    post({ error: String((e as Error)?.message ?? e) });
    return;
  }
  const ctl = new Int32Array(d.memory.buffer, d.base, d.jobOffset / 4);
  const a = new Float64Array(d.memory.buffer, d.base + d.jobOffset, d.words);
  const st = 6 + 2 * d.index, dn = st + 1; // HELPER0 + 2·index: state, then done
  post({ ready: true });
  let seen = 0;
  for (;;) {
    while (Atomics.load(ctl, 0) === seen) Atomics.wait(ctl, 0, seen); // SEQ
    seen = Atomics.load(ctl, 0);
    if (Atomics.load(ctl, 3) !== 0) return; // QUIT
    if (Atomics.compareExchange(ctl, st, 1, 2) !== 1) continue; // POSTED → RUNNING, unless revoked
    const s = Atomics.load(ctl, 0);
    // The engine builds the job's input after waking us: spin a little, then sleep until it is ready.
    for (let spin = 0; spin < 4000 && Atomics.load(ctl, 4) !== s; spin++); // READY
    for (let r = Atomics.load(ctl, 4); r !== s; r = Atomics.load(ctl, 4)) Atomics.wait(ctl, 4, r);
    try {
      const n = a[0];
      for (let c = Atomics.add(ctl, 1, 1); c < n; c = Atomics.add(ctl, 1, 1)) { // NEXT
        let k = a[1 + c];
        const calls = a[k++];
        for (let i = 0; i < calls; i++) {
          const argc = a[k + 1];
          fns[a[k]](...Array.prototype.slice.call(a, k + 2, k + 2 + argc));
          k += 2 + argc;
        }
      }
    } catch {
      Atomics.store(ctl, 2, 1); // FAILED
    }
    seen = s;
    Atomics.store(ctl, dn, s);
    Atomics.notify(ctl, dn);
  }
}

interface HelperThread {
  send(data: HelperData): void;
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

/** The browser's helper: a module worker running workers/dpu-kernels.worker.ts (set by the sim worker;
 *  a blob: worker would need 'blob:' in the page's worker-src). */
let browserHelper: (() => Worker) | undefined;
export function setKernelHelperWorker(start: (() => Worker) | undefined): void {
  browserHelper = start;
}

/**
 * Whether this realm can run kernel helpers: SharedArrayBuffer (a cross-origin-isolated page, or Node),
 * a way to start a thread, and a thread that may block in Atomics.wait (not a window's main thread).
 */
export function kernelThreadsAvailable(): boolean {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; document?: unknown };
  if (typeof g.SharedArrayBuffer !== 'function' || typeof Atomics === 'undefined' || g.crossOriginIsolated === false) return false;
  if (nodeWorkerThreads()) return true;
  return g.document === undefined && browserHelper !== undefined;
}

function startThread(data: HelperData): HelperThread {
  const wt = nodeWorkerThreads();
  if (wt) {
    const src = `const wt = require('node:worker_threads');\n(${serveKernelJobs.toString()})(wt.workerData, (m) => wt.parentPort.postMessage(m));`;
    const w = new wt.Worker(src, { eval: true, workerData: data });
    // A simulation that is never released must not keep the process alive.
    w.unref();
    return {
      send: () => {},
      onMessage: (f, fail) => { w.on('message', f as (x: never) => void); w.on('error', fail as (x: never) => void); },
      terminate: () => { void w.terminate(); },
    };
  }
  const w = browserHelper!();
  return {
    send: (d) => w.postMessage(d),
    onMessage: (f, fail) => {
      w.onmessage = (e: MessageEvent) => f(e.data as { ready?: boolean; error?: string });
      w.onerror = (e) => { e.preventDefault(); fail(new Error(e.message || 'the kernel helper thread failed to start')); };
    },
    terminate: () => w.terminate(),
  };
}

/**
 * Starts `helpers` threads on `memory`, their control words and job at `base` (slotBytes(helpers) bytes),
 * and waits until each is ready. `fns` are this thread's exports in KERNEL_FNS order.
 */
export async function startKernelCrew(module: WebAssembly.Module, memory: WebAssembly.Memory, base: number, helpers: number,
  fns: readonly ((...a: number[]) => unknown)[]): Promise<KernelCrew> {
  const jobOffset = slotBytes(helpers) - 8 * SLOT_WORDS;
  const threads: HelperThread[] = [];
  try {
    await Promise.all(Array.from({ length: helpers }, (_, index) => {
      const data = { module, memory, base, jobOffset, index, words: SLOT_WORDS, names: KERNEL_FNS };
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
  const ctl = new Int32Array(memory.buffer, base, jobOffset / 4);
  const job = new Float64Array(memory.buffer, base + jobOffset, SLOT_WORDS);
  let seq = 0;
  let ended = false;
  const runList = (list: readonly number[]) => {
    for (let i = 0, k = 1; i < list[0]; i++) {
      const argc = list[k + 1];
      fns[list[k]](...list.slice(k + 2, k + 2 + argc));
      k += 2 + argc;
    }
  };
  return {
    size: helpers,
    run(chunks, prepare, helpersOnly = false) {
      if (ended) { prepare(); for (const c of chunks) runList(c); return; }
      let k = 1 + chunks.length;
      if (k + chunks.reduce((a, c) => a + c.length, 0) > SLOT_WORDS) throw new Error('kernel job exceeds its slot');
      job[0] = chunks.length;
      chunks.forEach((c, i) => { job[1 + i] = k; job.set(c, k); k += c.length; });
      Atomics.store(ctl, NEXT, 0);
      Atomics.store(ctl, FAILED, 0);
      Atomics.store(ctl, SEQ, ++seq);
      for (let h = 0; h < helpers; h++) Atomics.store(ctl, HELPER0 + 2 * h, POSTED);
      Atomics.notify(ctl, SEQ);
      try {
        try {
          prepare();
        } catch (e) {
          Atomics.store(ctl, NEXT, chunks.length); // nothing left to take
          throw e;
        } finally {
          Atomics.store(ctl, READY, seq);
          Atomics.notify(ctl, READY);
        }
        if (!helpersOnly) for (let c = Atomics.add(ctl, NEXT, 1); c < chunks.length; c = Atomics.add(ctl, NEXT, 1)) runList(chunks[c]);
      } finally {
        for (let h = 0; h < helpers; h++) {
          if (!helpersOnly && Atomics.compareExchange(ctl, HELPER0 + 2 * h, POSTED, REVOKED) === POSTED) continue;
          // The helper is running its last chunk: spin a little, then sleep on its done word.
          const dn = HELPER0 + 2 * h + 1;
          for (let spin = 0; spin < 1000 && Atomics.load(ctl, dn) !== seq; spin++);
          for (let d = Atomics.load(ctl, dn); d !== seq; d = Atomics.load(ctl, dn)) Atomics.wait(ctl, dn, d, 100);
        }
      }
      if (Atomics.load(ctl, FAILED) !== 0) throw new Error('a kernel call failed in a helper thread');
    },
    end() {
      if (ended) return;
      ended = true;
      Atomics.store(ctl, QUIT, 1);
      Atomics.store(ctl, SEQ, ++seq);
      Atomics.notify(ctl, SEQ);
      for (const t of threads) t.terminate();
    },
  };
}
