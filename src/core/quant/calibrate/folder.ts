// Where calibration folds each statistics batch into its running statistics: here, between onnxruntime
// runs, or in a background thread (a Node worker thread, a Web Worker) while onnxruntime runs the next batch.
// The statistics cost about as much as the run on large feature maps (bench/quant.ts), so on a second core
// they overlap it. The thread only needs a message port: this module holds both ends' logic, the
// environment supplies the port (src/cli/fold-thread.ts for Node).
import type { RoundMode } from '../fixpoint';
import { newTensorStats, observeParts, type TensorStats } from './stats';

export interface FoldItem {
  readonly name: string;
  /** The batch's values of the tensor, one array per run. */
  readonly parts: readonly Float32Array[];
  readonly bitWidth: number;
  readonly mode: RoundMode;
}

export interface StatsFolder {
  /**
   * Folds one statistics batch; resolves once the folder takes the next (a background folder: when the
   * previous batch is done, so at most two batches are held). Arrays marked transferable may be
   * detached (moved to the thread): the caller must not read them afterwards.
   */
  fold(items: readonly FoldItem[]): Promise<void>;
  /** Every batch folded: the statistics by tensor. */
  finish(): Promise<Map<string, TensorStats>>;
  /** Stops the thread, if any (after finish, or on an error or cancel). */
  close(): void;
}

export function foldInto(stats: Map<string, TensorStats>, items: readonly FoldItem[]): void {
  for (const it of items) {
    let s = stats.get(it.name);
    if (!s) stats.set(it.name, (s = newTensorStats()));
    observeParts(s, it.parts, it.bitWidth, it.mode);
  }
}

/** Folds in the calling thread. */
export function localFolder(): StatsFolder {
  const stats = new Map<string, TensorStats>();
  return { fold: async (items) => foldInto(stats, items), finish: async () => stats, close() {} };
}

export type FolderRequest = { readonly kind: 'fold'; readonly items: readonly FoldItem[] } | { readonly kind: 'finish' };
export type FolderReply =
  | { readonly kind: 'folded' }
  | { readonly kind: 'stats'; readonly stats: [string, TensorStats][] }
  | { readonly kind: 'error'; readonly message: string };

/** The thread's side: folds each batch as it arrives, answers `finish` with the statistics. */
export function folderThread(post: (m: FolderReply) => void): (m: FolderRequest) => void {
  const stats = new Map<string, TensorStats>();
  let failed = false;
  return (m) => {
    if (failed) return;
    try {
      if (m.kind === 'fold') {
        foldInto(stats, m.items);
        post({ kind: 'folded' });
      } else post({ kind: 'stats', stats: [...stats] });
    } catch (e) {
      failed = true;
      post({ kind: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) });
    }
  };
}

/** A thread as the main side sees it (Node's Worker and the Web Worker each fit it in a few lines). */
export interface FolderPort {
  post(m: FolderRequest, transfer: ArrayBuffer[]): void;
  onMessage(f: (m: FolderReply) => void): void;
  onError(f: (e: Error) => void): void;
  terminate(): void;
}

/**
 * The main side over a thread. `transferable(a)` says whether an array's buffer may move to the thread
 * (it belongs to this batch alone: onnxruntime's fresh outputs, not the caller's feeds); the others are
 * copied by the message.
 */
export function remoteFolder(port: FolderPort, transferable: (a: Float32Array) => boolean): StatsFolder {
  /** The batch in the thread, and the promise the next fold waits on. */
  let folding: { resolve: () => void; reject: (e: Error) => void } | undefined;
  let last: Promise<void> = Promise.resolve();
  let finishing: { resolve: (s: Map<string, TensorStats>) => void; reject: (e: Error) => void } | undefined;
  let broken: Error | undefined;
  const fail = (e: Error) => {
    broken ??= e;
    folding?.reject(e);
    finishing?.reject(e);
    folding = finishing = undefined;
  };
  port.onMessage((m) => {
    if (m.kind === 'folded') { folding?.resolve(); folding = undefined; }
    else if (m.kind === 'stats') { finishing?.resolve(new Map(m.stats)); finishing = undefined; }
    else fail(new Error(`calibration statistics thread: ${m.message}`));
  });
  port.onError(fail);
  return {
    async fold(items) {
      await last;
      if (broken) throw broken;
      const transfer = new Set<ArrayBuffer>();
      for (const it of items) for (const p of it.parts) if (p.buffer instanceof ArrayBuffer && transferable(p)) transfer.add(p.buffer);
      last = new Promise<void>((resolve, reject) => { folding = { resolve, reject }; });
      // Awaited by the next fold or finish; a failure surfaces there.
      last.catch(() => {});
      port.post({ kind: 'fold', items }, [...transfer]);
    },
    async finish() {
      await last;
      if (broken) throw broken;
      return new Promise<Map<string, TensorStats>>((resolve, reject) => {
        finishing = { resolve, reject };
        port.post({ kind: 'finish' }, []);
      });
    },
    close: () => port.terminate(),
  };
}
