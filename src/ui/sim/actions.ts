// Simulate actions: the simulation worker is started on first use and keeps one prepared model; a new
// quantization, target or conversion prepares again. The model worker supplies the quantized model and
// the samples (with the Calibrate step's preprocessing), so nothing heavy runs here.
import * as Comlink from 'comlink';
import type { SimApi } from '../../../workers/sim.worker';
import { parseNpy } from '../../core/data/npy';
import type { FloatTensor } from '../../core/ir';
import { modelWorker } from '../session';
import { get, set } from '../store';
import { targetChoice } from '../compile/slice';
import { fetchFile } from '../quant/actions';
import { labelledSet, type LabelledSet, type NamedBytes } from '../../core/demo/labelled';
import { initialSimSlice } from './slice';
import { shippedLabels } from './labels';
import { overWorkers, simWorkerCount, startHelper, type Helper } from './pool';

const base = import.meta.env.BASE_URL;

/** Sample models with a shipped evaluation set (and its labels) in public/calib. */
export const EVAL_SETS: Readonly<Record<string, { data: string; labels: string; classes: readonly string[] }>> = {
  'fmnist_seed000.onnx': {
    data: 'fmnist_eval1000.npy', labels: 'fmnist_eval1000_labels.npy',
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  },
};

let handle: { worker: Worker; api: Comlink.Remote<SimApi> } | undefined;
/** What the worker has prepared: the open model, its quantization, the target and conversions. */
let preparedKey: string | undefined;
let quantSeq = 0;
let runSeq = 0;
/** The worker call under way (prepare or run): a cancel waits briefly for it to settle. */
let busy: Promise<unknown> | undefined;
let dropped: { name: string; bytes: Uint8Array } | undefined;
/** The user's labelled set for Evaluate (its info is in the store as simEvalSet). */
let userSet: LabelledSet | undefined;
const evalCache = new Map<string, Promise<{ file: { name: string; bytes: Uint8Array }; labels: number[] }>>();

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

let presets: Promise<Record<string, unknown>> | undefined;
/**
 * The sample model's preprocessing from samples.json (what the Calibrate form starts from), used for a
 * demo input while no calibration set is loaded: the Vitis RetinaFace needs its BGR means without one.
 */
export async function samplePreprocess(fileName: string): Promise<unknown> {
  presets ??= fetch(`${base}models/samples.json`).then((r) => r.json())
    .then((list: { file: string; preprocess?: unknown }[]) => Object.fromEntries(list.filter((x) => x.preprocess).map((x) => [x.file, x.preprocess])))
    .catch(() => { presets = undefined; return {}; });
  return get().calib ? undefined : (await presets)[fileName];
}

function simWorker() {
  if (!handle) {
    const worker = new Worker(new URL('../../../workers/sim.worker.ts', import.meta.url), { type: 'module', name: 'sim' });
    handle = { worker, api: Comlink.wrap<SimApi>(worker) };
    // The worker itself died (out of memory, an uncaught error): its pending call never answers, so the
    // run ends here with one line, and the next Run prepares in a fresh worker.
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      if (handle?.worker !== worker) return;
      const wasRunning = get().simRun.state === 'running';
      stopWorker();
      runSeq++;
      const why = (e.message || 'it crashed').replace(/[\u0000-\u001f\u007f]+/g, ' ');
      if (wasRunning) set({ simRun: { state: 'error', message: `The simulator worker stopped (${why}); run again to prepare the model in a new one.` } });
    });
  }
  return handle;
}

function stopWorker(): void {
  handle?.worker.terminate();
  handle = undefined;
  busy = undefined;
  preparedKey = undefined;
}

/** A new model or a new quantization: the prepared simulation and the last report no longer apply. */
export function simModelChanged(newModel: boolean): void {
  quantSeq++;
  runSeq++;
  preparedKey = undefined;
  if (newModel) {
    // The prepared simulation holds the old model's weights and sessions: free them now.
    stopWorker();
    dropped = undefined;
    userSet = undefined;
    set((s) => ({ ...initialSimSlice, simPaint: s.simPaint, colorMode: s.colorMode === 'sim' ? 'category' : s.colorMode }));
  } else {
    set((s) => ({
      simPrepared: null, simReport: null, simInputLabel: null, simDetections: null, simImage: null, simEval: null, simTensor: null, simTensorError: null, simRun: { state: 'idle' },
      colorMode: s.colorMode === 'sim' ? 'category' : s.colorMode,
    }));
  }
}

export function setSimSource(simSource: 'calib' | 'eval' | 'file', simIndex = 0): void {
  set({ simSource, simIndex });
}

export async function setDroppedFile(f: File): Promise<void> {
  const bytes = new Uint8Array(await f.arrayBuffer());
  const w = modelWorker();
  if (!w) return;
  try {
    // Read once now so a bad file is named at the drop, not at Run.
    const preprocess = await samplePreprocess(get().model?.info.fileName ?? '');
    const r = await w.simSample({ kind: 'files', files: [{ name: f.name, bytes }], index: 0, preprocess });
    dropped = { name: f.name, bytes };
    set({ simFile: { name: f.name, count: r.count }, simSource: 'file', simIndex: 0, simRun: { state: 'idle' } });
  } catch (e) {
    set({ simRun: { state: 'error', message: `${f.name}: ${messageOf(e)}` } });
  }
}

function evalSet(fileName: string) {
  const e = EVAL_SETS[fileName];
  if (!e) return undefined;
  let p = evalCache.get(fileName);
  if (!p) {
    p = Promise.all([fetchFile(`${base}calib/${e.data}`, e.data), fetchFile(`${base}calib/${e.labels}`, e.labels)])
      .then(([file, l]) => ({ file, labels: Array.from(parseNpy(l.bytes, e.labels).data as ArrayLike<number>, Number) }));
    p.catch(() => evalCache.delete(fileName));
    evalCache.set(fileName, p);
  }
  return p;
}

/** The classifier's class count: one model output of shape [N] or [1, N] with N > 1; else undefined. */
export function classifierClasses(model = get().model): number | undefined {
  const outs = model?.graph.nodes.filter((n) => n.kind === 'output') ?? [];
  const shape = outs.length === 1 ? outs[0].inputs[0]?.shape : undefined;
  if (!shape || shape.length === 0 || shape.length > 2 || (shape.length === 2 && shape[0] !== 1)) return undefined;
  const n = shape[shape.length - 1];
  return typeof n === 'number' && n > 1 ? n : undefined;
}

/** The preprocessing a sample was read with, for the panel: the Calibrate form's fields, or none. */
function preprocessText(pre: Readonly<Record<string, unknown>> | null): string {
  const fields = Object.entries(pre ?? {}).filter(([k, v]) => k !== 'description' && v !== undefined);
  const what = fields.length ? fields.map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(', ') : String(v)}`).join(' · ') : 'none (values as they are, resized to the input)';
  return `${what} (${get().calib ? "the Calibrate step's form" : "the sample's preset in the Calibrate form; load calibration data there to change it"})`;
}

/**
 * Reads a labelled set (two .npy, or images under class folders; `folders` names every class folder
 * of a dropped tree, empty ones too). Its first sample is read in the worker now, with the Calibrate
 * step's preprocessing, so a wrong image size is named here; a refused set leaves the previous one.
 */
export async function loadLabelledSet(files: NamedBytes[], folders?: string[]): Promise<void> {
  const w = modelWorker();
  const fileName = get().model?.info.fileName ?? '';
  if (!w) return;
  try {
    const s = labelledSet(files, { classes: classifierClasses(), modelLabels: await shippedLabels(fileName), folders });
    const r = await w.simSample({ kind: 'files', files: [s.files[0]], index: 0, preprocess: await samplePreprocess(fileName) });
    if (s.kind === 'npy' && r.count !== s.labels.length) throw new Error(`${s.files[0].name} reads as ${r.count} samples of the model input but there are ${s.labels.length} labels`);
    userSet = s;
    set({
      simEvalSet: { kind: s.kind, title: s.title, samples: s.labels.length, classes: s.classes, folders: s.folders, byLabelFile: s.byLabelFile, preprocess: preprocessText(r.preprocess) },
      simEvalSetError: null, simEvalUse: 'user',
    });
  } catch (e) {
    set({ simEvalSetError: messageOf(e).split('\n')[0] });
  }
}

/** The set Evaluate runs (and an 'eval' sample comes from): the user's when chosen, else the shipped one. */
async function activeEvalSet(fileName: string, use = get().simEvalUse): Promise<{ source: 'shipped' | 'user'; title: string; classes: readonly string[]; labels: readonly number[]; sample(i: number): { files: NamedBytes[]; index: number } } | undefined> {
  if (use === 'user' && userSet) {
    const u = userSet;
    return { source: 'user', title: u.title, classes: u.classes, labels: u.labels, sample: (i) => u.one(i) };
  }
  const shipped = evalSet(fileName);
  if (!shipped) return undefined;
  const { file, labels } = await shipped;
  return { source: 'shipped', title: `Fashion-MNIST evaluation set (${labels.length})`, classes: EVAL_SETS[fileName].classes, labels, sample: (i) => ({ files: [file], index: i }) };
}

/** The shipped demo inputs in public/demo (ATTRIBUTION.md there). */
export const DEMO_INPUTS: readonly { file: string; title: string }[] = [
  { file: 'astronaut.png', title: 'astronaut (person)' },
  { file: 'chelsea.png', title: 'cat' },
  { file: 'coffee.png', title: 'coffee cup' },
  { file: 'rocket.jpg', title: 'rocket launch' },
  { file: 'mnist_test20.npy', title: '20 MNIST digits' },
];

/** A shipped demo input becomes the dropped file. */
export async function pickDemoInput(file: string): Promise<void> {
  try {
    const f = await fetchFile(`${base}demo/${file}`, file);
    await setDroppedFile(new File([f.bytes as BlobPart], file));
  } catch (e) {
    set({ simRun: { state: 'error', message: `${file}: ${messageOf(e)}` } });
  }
}

const isImageFile = (b: Uint8Array) => (b[0] === 0x89 && b[1] === 0x50) || (b[0] === 0xff && b[1] === 0xd8);

async function sampleFeeds(): Promise<{ feeds: Record<string, FloatTensor>; label: string; image?: { name: string; bytes: Uint8Array; resize: 'stretch' | 'letterbox' } }> {
  const w = modelWorker()!;
  const { simSource, simIndex, model } = get();
  const fileName = model?.info.fileName ?? '';
  if (simSource === 'calib') {
    const r = await w.simSample({ kind: 'calib', index: simIndex });
    return { feeds: r.feeds, label: `calibration sample #${simIndex}` };
  }
  if (simSource === 'eval') {
    const es = await activeEvalSet(fileName);
    if (!es) throw new Error(`${fileName} has no shipped evaluation set: load a labelled set in Evaluate`);
    if (simIndex >= es.labels.length) throw new Error(`sample ${simIndex} is out of range: the set holds ${es.labels.length} (0…${es.labels.length - 1})`);
    // Sent as a copy (structured clone): the cached set stays here for the next run.
    const r = await w.simSample({ kind: 'files', ...es.sample(simIndex), preprocess: await samplePreprocess(fileName) });
    const y = es.labels[simIndex];
    const cls = es.classes[y];
    return { feeds: r.feeds, label: `${es.source === 'user' ? `${es.title}: sample` : 'evaluation sample'} #${simIndex} (label ${y}${cls ? ` ${cls}` : ''})` };
  }
  if (!dropped) throw new Error('drop an image or a .npy first');
  const r = await w.simSample({ kind: 'files', files: [dropped], index: simIndex, preprocess: await samplePreprocess(fileName) });
  const image = isImageFile(dropped.bytes) ? { ...dropped, resize: r.resize } : undefined;
  return { feeds: r.feeds, label: `${dropped.name} #${simIndex}`, image };
}

function track<T>(p: Promise<T>): Promise<T> {
  const t = p.finally(() => { if (busy === t) busy = undefined; });
  busy = t;
  return t;
}

/** The sim worker with the current model, target and conversions prepared; undefined once no longer live. */
async function ensurePrepared(live: () => boolean, phase: (p: string) => void): Promise<Comlink.Remote<SimApi> | undefined> {
  const w = modelWorker()!;
  const { model, compileTarget, conversions } = get();
  const sim = simWorker().api;
  const choice = targetChoice(compileTarget);
  const key = JSON.stringify([model!.openId, quantSeq, choice, conversions]);
  if (key !== preparedKey) {
    phase('preparing');
    const m = await w.simModel();
    if (!live()) return undefined;
    const buffers = [m.bytes.buffer, ...(m.floatBytes ? [m.floatBytes.buffer] : [])];
    const prepared = await track(sim.prepare(Comlink.transfer(m.bytes, buffers), m.fileName, choice, conversions, m.floatBytes));
    if (!live()) return undefined;
    preparedKey = key;
    set({ simPrepared: prepared });
  }
  return sim;
}

export async function runSimulation(): Promise<void> {
  const w = modelWorker();
  const { model } = get();
  if (!w || !model) return;
  // A call still pending here belongs to a cancelled run: start from a fresh worker rather than queue behind it.
  if (busy) stopWorker();
  const mine = ++runSeq;
  const live = () => mine === runSeq;
  const phase = (p: string) => { if (live()) set({ simRun: { state: 'running', phase: p } }); };
  try {
    const sim = await ensurePrepared(live, phase);
    if (!sim) return;
    phase('reading the sample');
    const { feeds, label, image } = await sampleFeeds();
    if (!live()) return;
    const { report, detections } = await track(sim.run(Comlink.transfer(feeds, Object.values(feeds).map((t) => t.data.buffer)), Comlink.proxy(phase)));
    if (!live()) return;
    // The first run after a (re)quantization paints the graph by its error; later runs keep the user's choice.
    const first = !get().simReport;
    set((s) => ({
      simTensor: null, simTensorError: null, simReport: report, simInputLabel: label, simDetections: detections ?? null, simImage: image ?? null, simRun: { state: 'done' },
      ...(first ? { colorMode: 'sim' as const } : {}),
    }));
  } catch (e) {
    if (!live()) return;
    const cancelled = e instanceof Error && e.name === 'AbortError';
    set({ simRun: cancelled ? { state: 'idle' } : { state: 'error', message: messageOf(e) } });
  }
}

/**
 * Asks the worker to stop; a run still busy half a second later (inside one long kernel) is ended by
 * terminating the worker, which then prepares again on the next run.
 */
export function cancelSimulation(): void {
  if (get().simRun.state !== 'running') return;
  const mine = ++runSeq;
  const h = handle;
  const pending = busy;
  void h?.api.cancel();
  set({ simRun: { state: 'idle' } });
  if (!pending) return;
  let settled = false;
  pending.then(() => { settled = true; }, () => { settled = true; });
  // A newer run has already replaced the worker if it found this call pending.
  setTimeout(() => { if (!settled && h === handle && mine === runSeq) stopWorker(); }, 500);
}

/**
 * Runs the chosen labelled set (the shipped one or the user's) through float and int8, one sample per
 * worker call so progress shows and Cancel stops between samples, over simWorkerCount() workers; the
 * predictions so far stay in the store.
 */
export async function runEvaluation(): Promise<void> {
  const w = modelWorker();
  const { model } = get();
  if (!w || !model) return;
  const es = await activeEvalSet(model.info.fileName);
  if (!es) return;
  if (busy) stopWorker();
  const mine = ++runSeq;
  const live = () => mine === runSeq;
  const { labels, source, title, classes } = es;
  const preprocess = await samplePreprocess(model.info.fileName);
  const total = labels.length;
  const float: number[] = [];
  const int8: number[] = [];
  const update = (state: 'running' | 'done' | 'cancelled' | 'error', message?: string) =>
    set({ simEval: { state, source, title, classes, total, labels, float: [...float], int8: [...int8], ...(message ? { message } : {}) } });
  update('running');
  set({ simRun: { state: 'running', phase: 'evaluating' } });
  let helpers: Helper[] = [];
  try {
    const sim = await ensurePrepared(live, () => {});
    if (!sim) return;
    // Several samples at once: helper workers prepared with the same model beside the panel's own.
    helpers = await startHelpers(simWorkerCount() - 1);
    if (!live()) { update('cancelled'); return; }
    const apis = [sim, ...helpers.map((h) => h.api)];
    const classify = async (api: Comlink.Remote<SimApi>, i: number) => {
      const r = await w.simSample({ kind: 'files', ...es.sample(i), preprocess });
      const p = api.classify(Comlink.transfer(r.feeds, Object.values(r.feeds).map((t) => t.data.buffer)));
      return api === sim ? track(p) : p;
    };
    let shown = 0;
    await overWorkers(apis, total, classify, live, (done, results) => {
      for (; float.length < done; ) { const p = results[float.length]; float.push(p.float); int8.push(p.int8); }
      // A store update every 25 samples: enough for the progress bar, few renders.
      if (done - shown >= 25 && live()) { shown = done; update('running'); }
    });
    if (!live()) { update('cancelled'); return; }
    update('done');
    set({ simRun: { state: 'done' } });
  } catch (e) {
    if (!live()) return;
    update('error', messageOf(e));
    set({ simRun: { state: 'idle' } });
  } finally {
    for (const h of helpers) h.end();
  }
}

/** `n` helper workers prepared with the model, target and conversions the panel's worker has; their DPU
 *  kernels on one thread each, since the pool already gives every core a worker. */
async function startHelpers(n: number): Promise<Helper[]> {
  if (n <= 0) return [];
  const w = modelWorker()!;
  const { compileTarget, conversions } = get();
  const choice = targetChoice(compileTarget);
  const helpers = Array.from({ length: n }, startHelper);
  try {
    await Promise.all(helpers.map(async (h) => {
      const m = await w.simModel();
      const buffers = [m.bytes.buffer, ...(m.floatBytes ? [m.floatBytes.buffer] : [])];
      await h.api.prepare(Comlink.transfer(m.bytes, buffers), m.fileName, choice, conversions, m.floatBytes, 1);
    }));
    return helpers;
  } catch (e) {
    for (const h of helpers) h.end();
    throw e;
  }
}

export function cancelEvaluation(): void {
  runSeq++;
  const e = get().simEval;
  if (e?.state === 'running') set({ simEval: { ...e, state: 'cancelled' }, simRun: { state: 'idle' } });
}

/** Opens the tensor view of one tensor of the last run (pictures built in the sim worker). */
export async function showTensor(name: string): Promise<void> {
  // A run restored with its project has its report but no values: the worker holds them only for a run it made.
  const gone = 'The values of this run are not kept across a reload: run the sample again to inspect its tensors.';
  if (!handle) { set({ simTensor: null, simTensorError: gone }); return; }
  try {
    set({ simTensor: await handle.api.tensorView(name, get().simCompare), simTensorError: null });
  } catch (e) {
    const m = messageOf(e);
    set({ simTensor: null, simTensorError: /^no simulated tensor/.test(m) ? gone : m });
  }
}
