// Compile actions: every target or what-if change re-partitions in the model worker (milliseconds);
// only the newest answer is kept.
import type { Conversions } from '../../core/compile/layer';
import { STANDIN_MODULE, STANDIN_PY } from '../../core/compile/standin-py';
import { parseArchJson } from '../../core/compile/targets/fingerprint';
import { modelWorker } from '../session';
import { get, set } from '../store';
import { nodeColors } from './colors';
import { initialCompileSlice, targetChoice, type PickedTarget } from './slice';

let seq = 0;
/** Bumped whenever the Quantize step's result changes: the worker then compiles the quantized model. */
let quantVersion = 0;

export function quantChanged(): void {
  quantVersion++;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Called once per opened model: a compiled .xmodel opens straight into its subgraph view. */
export async function prepareCompile(openId: number): Promise<void> {
  seq++;
  // The what-if conversions were choices about the previous model's ops; the target is the user's board and stays.
  set({ compileRun: { state: 'idle' }, compiledFile: null, deployment: null, deviceColors: {}, archError: null, compileHistory: { previous: null, current: null }, conversions: initialCompileSlice.conversions });
  const w = modelWorker();
  if (!w) return;
  try {
    const file = await w.compiledFile();
    const m = get().model;
    if (m?.openId !== openId) return;
    if (!file) {
      if (get().activeStep === 'compile') void recompile();
      return;
    }
    set({ compiledFile: file, deviceColors: nodeColors(m.graph, file.opSubgraph, file.devices) });
    // The file's own partition is the point of opening it: show it straight away.
    set({ activeStep: 'compile', colorMode: 'device' });
  } catch (e) {
    set({ compileRun: { state: 'error', message: message(e) } });
  }
}

/** The Compile step opened: device colours, and a first compile for the current target. */
export function openCompile(): void {
  set({ colorMode: 'device' });
  if (!get().compiledFile && get().compileRun.state === 'idle') void recompile();
}

export function closeCompile(): void {
  if (get().colorMode === 'device') set({ colorMode: 'category' });
}

export async function recompile(): Promise<void> {
  const w = modelWorker();
  const m = get().model;
  if (!w || !m || get().compiledFile) return;
  const mine = ++seq;
  const { compileTarget, conversions } = get();
  if (get().compileRun.state !== 'done') set({ compileRun: { state: 'running' } });
  try {
    const view = await w.compile(targetChoice(compileTarget), conversions, quantVersion);
    if (mine !== seq) return;
    const colors = nodeColors(m.graph, view.opSubgraph, view.subgraphs.map((s) => s.device));
    const current = { target: view.target, conversions, deviceSubgraphNumber: view.deviceSubgraphNumber, dpuSubgraphNumber: view.dpuSubgraphNumber };
    set((s) => ({ compileRun: { state: 'done', view }, deviceColors: colors, compileHistory: { previous: s.compileHistory.current, current } }));
    const deployment = await w.deployment();
    if (mine === seq) set({ deployment });
  } catch (e) {
    if (mine === seq) set({ compileRun: { state: 'error', message: message(e) }, deployment: null });
  }
}

export function setTarget(t: PickedTarget): void {
  set({ compileTarget: t, archError: null });
  void recompile();
}

export function setConversion(key: keyof Conversions, on: boolean): void {
  set((s) => ({ conversions: { ...s.conversions, [key]: on } }));
  void recompile();
}

/** A refused arch.json leaves the current target (and the coloured graph) as they were. */
export async function importArchJson(file: File): Promise<void> {
  const text = await file.text();
  try {
    const config = parseArchJson(text);
    setTarget({ kind: 'archJson', text, fileName: file.name, config });
  } catch (e) {
    set({ archError: `${file.name}: ${message(e)}` });
  }
}

export function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function downloadXModel(): Promise<void> {
  const w = modelWorker();
  const d = get().deployment;
  if (!w || !d) return;
  try {
    const bytes = await w.compiledXModel();
    download(d.xmodelName, new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  } catch (e) {
    set({ error: `could not write the compiled model (${message(e)})` });
  }
}

/** The quantizer's `_int.xmodel` the vai_c_xir command names. */
export async function downloadIntXModel(): Promise<void> {
  const w = modelWorker();
  const d = get().deployment;
  if (!w || !d) return;
  try {
    const bytes = await w.intXModel();
    download(d.intXModelName, new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  } catch (e) {
    set({ error: `could not write ${d.intXModelName} (${message(e)})` });
  }
}

/** The NumPy stand-in for the board runner: `<model>_dpu.npz` and dpu_standin.py, to run the script on a PC. */
export async function downloadStandin(): Promise<void> {
  const w = modelWorker();
  const d = get().deployment;
  if (!w || !d || !('npzName' in d.standin)) return;
  try {
    const bytes = await w.standinNpz();
    download(d.standin.npzName, new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
    download(STANDIN_MODULE, new Blob([STANDIN_PY], { type: 'text/x-python' }));
  } catch (e) {
    set({ error: `could not write ${d.standin.npzName} (${message(e)})` });
  }
}

export function downloadArchJson(): void {
  const d = get().deployment;
  if (d?.board.archJson) download('arch.json', new Blob([`${d.board.archJson}\n`], { type: 'application/json' }));
}

export function downloadCostTable(): void {
  const d = get().deployment;
  if (d) download(d.xmodelName.replace(/\.xmodel$/, '_cost.csv'), new Blob([d.costCsv], { type: 'text/csv' }));
}
