// Opening models: workers, cancellation and the layout cache. The model worker of the open model is
// kept (it holds the weights); a new file is parsed in a fresh worker, which replaces the old one only
// when it succeeds, so a bad file leaves the open model as it was.
import * as Comlink from 'comlink';
import type { ModelApi } from '../../workers/model.worker';
import type { LayoutApi } from '../../workers/layout.worker';
import { layoutInput } from '../core/view/layout';
import type { Layout } from '../core/view/types';
import { getLayout, putLayout, warmLayoutCache } from './layoutCache';
import { get, set, toggleExpanded, type OpenModel } from './store';
import { noteOpened, reopenSaved } from './project/persist';
import { tooBigMessage } from './tabMemory';

interface Handle<T> {
  readonly worker: Worker;
  readonly api: Comlink.Remote<T>;
}

/** A model worker that can die: every call on `api` also fails when the worker does, instead of hanging. */
interface ModelHandle extends Handle<ModelApi> {
  /** Rejects when the worker stopped (an uncaught error, out of memory, terminated by us). */
  readonly dead: Promise<never>;
  kill(why: string): void;
}

export class WorkerDied extends Error {
  override readonly name = 'WorkerDied';
}

function spawnModel(): ModelHandle {
  const worker = new Worker(new URL('../../workers/model.worker.ts', import.meta.url), { type: 'module', name: 'model' });
  const raw = Comlink.wrap<ModelApi>(worker);
  let reject: (e: Error) => void = () => undefined;
  const dead = new Promise<never>((_, r) => { reject = r; });
  dead.catch(() => undefined);
  let gone = false;
  const h: ModelHandle = {
    worker,
    dead,
    api: guard(raw, dead),
    kill(why) {
      if (gone) return;
      gone = true;
      worker.terminate();
      reject(new WorkerDied(why));
      if (h === current) void onModelWorkerDied(why);
    },
  };
  // Comlink returns a method's own exceptions as rejections; what arrives here killed the worker itself.
  worker.addEventListener('error', (e) => {
    e.preventDefault();
    h.kill(oneLine(e.message || 'it crashed'));
  });
  worker.addEventListener('messageerror', () => h.kill('a message from it could not be read'));
  void raw.warmUp().catch(() => undefined);
  return h;
}

/** Each method call races the worker's death; `then` stays undefined so the proxy is not a thenable. */
function guard<T>(api: Comlink.Remote<T>, dead: Promise<never>): Comlink.Remote<T> {
  return new Proxy({} as Comlink.Remote<T>, {
    get(_, prop) {
      if (prop === 'then') return undefined;
      return (...args: unknown[]) => Promise.race([(api as unknown as Record<PropertyKey, (...a: unknown[]) => Promise<unknown>>)[prop]!(...args), dead]);
    },
  });
}

const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

/** What the user was doing when the worker died, for the one-line message. */
function runningStep(): string | undefined {
  const s = get();
  if (s.quantRun.state === 'running') return 'quantization';
  if (s.remeasuring) return 'the re-measurement';
  if (s.compileRun.state === 'running') return 'the compile';
  return undefined;
}

let recovering = false;

/**
 * The open model's worker died: a fresh worker opens the model again from its last saved project (so
 * the inputs come back and finished steps run again), and one line says what happened.
 */
async function onModelWorkerDied(why: string): Promise<void> {
  const model = get().model;
  current = undefined;
  if (!model || recovering) return;
  recovering = true;
  const step = runningStep();
  const what = `The model worker stopped${step ? ` during ${step}` : ''} (${why})`;
  set({ quantRun: { state: 'idle' }, remeasuring: false });
  try {
    const reopened = await reopenSaved(get().fileHash, model.info.fileName);
    set({ error: reopened ? `${what}; the project was restored from its last save — run the step again.` : `${what}; the project had no save to restore, open the model again.` });
    if (!reopened) set({ model: null, galleryOpen: true });
  } finally {
    recovering = false;
  }
}

/** Stops the open model's worker as if it had crashed (Cancel's last resort, and the recovery test). */
export function killModelWorker(why: string): void {
  current?.kill(why);
}
function spawnLayout(): Handle<LayoutApi> {
  const worker = new Worker(new URL('../../workers/layout.worker.ts', import.meta.url), { type: 'module', name: 'layout' });
  return { worker, api: Comlink.wrap<LayoutApi>(worker) };
}

let current: ModelHandle | undefined;
/** Started ahead of time so opening a file does not wait for a worker to boot. */
let spare: ModelHandle | undefined;
let layoutWorker: Handle<LayoutApi> | undefined;
/** The open in flight; cancel() rejects it and ends its workers. */
let inFlight: { cancel(): void } | undefined;
let opens = 0;

export class Cancelled extends Error {
  override readonly name = 'Cancelled';
}

/** Boots the workers and opens the layout cache while the user looks at the gallery. */
export function prepare(): void {
  spare ??= spawnModel();
  ensureLayoutWorker();
  void warmLayoutCache();
}

function ensureLayoutWorker(): void {
  if (!layoutWorker) {
    layoutWorker = spawnLayout();
    // The attribute tells the bench (and anyone curious) that the relayout code is hot.
    void layoutWorker.api.warmUp().then(() => document.documentElement.setAttribute('data-layout-warm', ''), () => undefined);
  }
}

export function cancel(): void {
  inFlight?.cancel();
}

/** The content hash of the latest open, which arrives after its graph is on screen. */
let hashing: { readonly openId: number; readonly hash: Promise<string> } | undefined;

/**
 * The content hash of open `openId` (the key of its project and its cached layout). The model shows before
 * its hash is known (hashing 21 MB costs more than drawing it); the store's `fileHash` is '' until then.
 * Resolves once the store holds it; rejects when that open is no longer the latest or could not be hashed.
 */
export function modelHash(openId: number): Promise<string> {
  if (hashing?.openId !== openId) return Promise.reject(new Error('that model is no longer open'));
  return hashing.hash;
}

/**
 * Opens a model file: `src` is the File itself (the model worker reads it, so this thread never holds
 * the bytes) or bytes already in memory. `marked`: the caller already set the `file-received` mark.
 * `kept`: the same bytes as a Blob the project may keep (the File itself, a stored Blob); without it a
 * copy of `src` is made here, on the main thread (21 MB of EfficientNet took 40–130 ms on a busy machine).
 */
async function openSource(src: Blob | Uint8Array, fileName: string, marked: boolean, kept?: Blob): Promise<void> {
  if (!marked) markReceived();
  const tooBig = tooBigMessage(fileName, src instanceof Uint8Array ? src.byteLength : src.size);
  if (tooBig) {
    set({ busy: null, error: tooBig });
    return;
  }
  inFlight?.cancel();
  prepare();
  const h = spare!;
  spare = undefined;
  let cancelled = false;
  let settled = false;
  let reject: (e: Error) => void = () => undefined;
  const cancelledP = new Promise<never>((_, r) => { reject = r; });
  const me = {
    cancel() {
      cancelled = true;
      h.worker.terminate();
      reject(new Cancelled('cancelled'));
    },
  };
  inFlight = me;
  // Reserved now: a page showing no model mounts the graph canvas for this open while the worker reads.
  const openId = ++opens;
  // The worker takes the bytes; the project keeps a Blob (which the browser may page out).
  const blob = kept ?? (src instanceof Uint8Array ? new Blob([src as BlobPart]) : src);
  /** The opened model's hash, once asked for: the next worker boots after it. */
  let hashed: Promise<unknown> | undefined;
  try {
    const onStage = Comlink.proxy((stage: Parameters<NonNullable<Parameters<ModelApi['open']>[2]>>[0]) => {
      // Marked for bench/profile.ts: where a slow open spent its time in the worker.
      performance.mark(`open-${stage}`);
      // A stage message travels on its own port and can arrive after the result: once the open is
      // settled it must not bring the progress line back (it stayed on screen for good, over the graph).
      if (!cancelled && !settled) set({ busy: { fileName, stage } });
    });
    // Posted before the progress line renders: that render (the whole page takes `busy`) is synchronous,
    // and the worker can be reading meanwhile instead of waiting for it.
    const openP = h.api.open(src instanceof Uint8Array ? Comlink.transfer(src, [src.buffer]) : src, fileName, onStage);
    set({ busy: { fileName, stage: 'hashing' } });
    // React Flow's mount (25–100 ms of the first open) overlaps the worker's read and parse instead of
    // following them. In a task of its own, so the progress line paints first.
    if (!get().model) {
      setTimeout(() => {
        if (inFlight === me && !get().model) set({ pendingCanvas: openId });
      }, 0);
    }
    const opened = await Promise.race([openP, cancelledP]).finally(() => { settled = true; });
    performance.mark('model-read', { detail: opened.ms });
    // The worker laid the graph out as it read it: on screen at once, cache or not.
    const layout = opened.layout;
    performance.mark('layout-done');
    const old = current;
    current = h;
    old?.kill('replaced');
    const hash = keyed(h, openId, fileName, blob, layout);
    hash.catch(() => undefined);
    hashing = { openId, hash };
    hashed = hash;
    set({
      model: { openId, info: opened.info, graph: opened.graph, layout }, fileHash: '',
      busy: null, pendingCanvas: null, error: null, selectedId: null, summaryOpen: false, galleryOpen: false, expanded: {}, stats: {},
    });
  } catch (e) {
    if (!cancelled) h.worker.terminate();
    set({ busy: null, ...(get().pendingCanvas === openId ? { pendingCanvas: null } : {}) });
    if (!(e instanceof Cancelled)) set({ error: messageOf(e, fileName) });
  } finally {
    if (inFlight === me) inFlight = undefined;
    // The next open gets a booted worker; started after this one so the two do not compete: after the
    // opened file's hash (asked once the graph is drawn), for the boot compiled the worker's code on the
    // other core while the page drew the graph (31 ms). (Not when idle: a page restoring a project is
    // seldom idle before the user picks the next file, and an open that has to boot its worker waits for
    // the boot and the warm-up.)
    const boot = () => { spare ??= spawnModel(); };
    if (hashed) void hashed.then(boot, boot);
    else setTimeout(boot, 0);
  }
}

/** Resolves when the page's thread is idle (the graph drawn), or after half a second at the latest. */
function whenIdle(): Promise<void> {
  return new Promise((resolve) => (typeof requestIdleCallback === 'function' ? requestIdleCallback(() => resolve(), { timeout: 500 }) : setTimeout(resolve, 100)));
}

/**
 * Fetches open `openId`'s content hash from its worker, then files the model under it: the project keeps
 * the bytes, the layout cache the plain layout (a file laid out before marks `layout-cached`).
 */
async function keyed(h: ModelHandle, openId: number, fileName: string, blob: Blob, layout: Layout): Promise<string> {
  // Asked once the page is idle, i.e. the graph is drawn: on two busy cores the hashing worker took CPU
  // time from the drawing.
  await whenIdle();
  const p = h.api.hash().then(async (hash) => {
    if (get().model?.openId !== openId) throw new Error('that model is no longer open');
    noteOpened(hash, fileName, blob);
    set({ fileHash: hash });
    if (await getLayout(hash)) performance.mark('layout-cached');
    else void putLayout(hash, layout);
    return hash;
  });
  p.catch((e: unknown) => {
    // A worker replaced by a newer open rejects too; only the open model's failure is worth a line.
    if (get().model?.openId === openId && h === current) {
      set({ error: `${fileName}: could not hash the file, so its project will not be saved (${e instanceof Error ? e.message : String(e)})` });
    }
  });
  return p;
}

/** Opens bytes in memory, or a Blob (a stored project's model, a download) which the model worker reads. */
export function openBytes(src: Uint8Array | Blob, fileName: string, marked = false, kept?: Blob): Promise<void> {
  return openSource(src, fileName, marked, kept);
}

let relayouts = 0;

/** The cached layout when the graph shows its plain form (no body open, not quantized, fix ops folded), else a fresh one. */
async function layoutOf(model: OpenModel, open: readonly string[], quantized: boolean): Promise<Layout> {
  ensureLayoutWorker();
  const hash = get().fileHash;
  return (open.length === 0 && !quantized && !model.showFix && hash ? await getLayout(hash) : undefined)
    ?? await layoutWorker!.api.layout(layoutInput(model.graph, new Set(open), quantized));
}

/**
 * Lays the open graph out again for what it shows now: the bodies that are open, and once quantized the
 * `fp=N` tags on weight rows and the second label on every edge (the plain layout has no room for them).
 */
export async function relayout(): Promise<void> {
  const model = get().model;
  if (!model) return;
  const open = Object.entries(get().expanded).filter(([, v]) => v).map(([k]) => k);
  const quantized = !!get().quant;
  const seq = ++relayouts;
  try {
    const layout = await layoutOf(model, open, quantized);
    const now = get().model;
    if (seq !== relayouts || !now || now.openId !== model.openId) return;
    set({ model: { ...now, layout } });
  } catch (e) {
    if (seq !== relayouts || get().model?.openId !== model.openId) return;
    set({ error: `${model.info.fileName}: could not lay the graph out again (${e instanceof Error ? e.message : String(e)})` });
  }
}

/**
 * Draws an .xmodel's fix ops as nodes, or folds them into their edges again (each edge keeps its `fp=N`).
 * The graph is rebuilt in the model worker and laid out anew (not cached: the cache holds the folded one).
 */
export async function setShowFix(on: boolean): Promise<void> {
  const model = get().model;
  const w = current?.api;
  if (!model || !w || !!model.showFix === on) return;
  const open = Object.entries(get().expanded).filter(([, v]) => v).map(([k]) => k);
  const seq = ++relayouts;
  ensureLayoutWorker();
  try {
    const graph = await w.displayGraph(on);
    const layout = await layoutWorker!.api.layout(layoutInput(graph, new Set(open), !!get().quant));
    const now = get().model;
    if (seq !== relayouts || !now || now.openId !== model.openId) return;
    const ids = new Set(graph.nodes.map((n) => n.id));
    set({ model: { ...now, graph, layout, showFix: on }, ...(get().selectedId && !ids.has(get().selectedId!) ? { selectedId: null } : {}) });
  } catch (e) {
    if (seq !== relayouts || get().model?.openId !== model.openId) return;
    set({ error: `${model.info.fileName}: could not draw the fix ops (${e instanceof Error ? e.message : String(e)})` });
  }
}

/**
 * Shows or hides a control-flow node's body and lays the graph out again with that node at its new
 * size, so the body pushes the nodes below it down instead of drawing over them. The all-collapsed
 * layout is the cached one; a layout with bodies open is not cached (it depends on what is open).
 */
export async function toggleBody(id: string): Promise<void> {
  toggleExpanded(id);
  const model = get().model;
  if (!model) return;
  const open = Object.entries(get().expanded).filter(([, v]) => v).map(([k]) => k);
  const seq = ++relayouts;
  try {
    const layout = await layoutOf(model, open, !!get().quant);
    const now = get().model;
    // A later toggle or another model won meanwhile.
    if (seq !== relayouts || !now || now.openId !== model.openId) return;
    set({ model: { ...now, layout } });
  } catch (e) {
    if (seq !== relayouts || get().model?.openId !== model.openId) return;
    // The node keeps the size it was laid out at, so it must not claim its body is open.
    toggleExpanded(id);
    set({ error: `${model.info.fileName}: could not lay the graph out again (${e instanceof Error ? e.message : String(e)})` });
  }
}

function messageOf(e: unknown, fileName: string): string {
  const err = e instanceof Error ? e : new Error(String(e));
  // Input errors are already one line a user can act on; anything else is a bug, say which file hit it.
  return err.name === 'InputError' ? `${fileName}: ${err.message}` : `${fileName}: could not open (${err.message})`;
}

function markReceived(): void {
  performance.clearMarks();
  performance.clearMeasures();
  performance.mark('file-received');
}

export function openFile(file: File): Promise<void> {
  markReceived();
  return openSource(file, file.name, true, file);
}

export async function openUrl(url: string, fileName: string): Promise<void> {
  set({ busy: { fileName, stage: 'hashing' }, error: null });
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const blob = await res.blob();
    return await openBytes(blob, fileName, false, blob);
  } catch (e) {
    set({ busy: null, error: `${fileName}: could not load (${e instanceof Error ? e.message : String(e)})` });
  }
}

/** The worker holding the open model (calibration and quantization run there). */
export function modelWorker(): Comlink.Remote<ModelApi> | undefined {
  return current?.api;
}

export const HISTOGRAM_BINS = 64;

/** Fetches a weight's statistics from the model worker once per tensor. */
export async function loadStats(tensor: string): Promise<void> {
  if (!current || get().stats[tensor]) return;
  const openId = get().model?.openId;
  set((s) => ({ stats: { ...s.stats, [tensor]: { state: 'loading' } } }));
  try {
    const stats = await current.api.stats(tensor, HISTOGRAM_BINS);
    if (get().model?.openId === openId) set((s) => ({ stats: { ...s.stats, [tensor]: { state: 'done', stats } } }));
  } catch (e) {
    set((s) => ({ stats: { ...s.stats, [tensor]: { state: 'error', message: e instanceof Error ? e.message : String(e) } } }));
  }
}

export function loadSummary(): Promise<Awaited<ReturnType<ModelApi['summary']>>> {
  if (!current) return Promise.reject(new Error('no model is open'));
  return current.api.summary();
}
