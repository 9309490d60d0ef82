// What the calibrate/quantize panels ask of the model worker. Errors land in the slice; nothing here
// drops the open model or the user's inputs.
import * as Comlink from 'comlink';
import type { CalibPreview, QuantSummary, TensorDetail } from '../../../workers/protocol';
import { killModelWorker, modelWorker } from '../session';
import { get, set } from '../store';
import { quantReset, type TensorOverride } from './slice';
import { noteCalibration, restoreInto } from '../project/persist';

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

function worker() {
  const w = modelWorker();
  if (!w) throw new Error('no model is open');
  return w;
}

/** Called when a model opens: reset the slice, and show a QDQ model's power-of-two fix points at once. */
export async function onModelOpened(openId: number): Promise<void> {
  // The SQNR colours belong to the previous model's run.
  set((s) => ({ ...quantReset(openId), colorMode: s.colorMode === 'sqnr' ? 'category' : s.colorMode }));
  try {
    const imported = await worker().importedFixPoints();
    if (imported && get().quantFor === openId) set({ quant: imported });
  } catch (e) {
    if (get().quantFor === openId) set({ quantError: messageOf(e) });
  }
  await restoreInto(openId);
}

export async function loadCalibration(files: { name: string; bytes: Uint8Array }[], preprocess: unknown): Promise<CalibPreview[]> {
  try {
    const calib = await worker().setCalibration(files, preprocess);
    noteCalibration(files, preprocess);
    set({ calib, calibError: null });
    return await worker().calibPreview(6);
  } catch (e) {
    // The previous calibration set (if any) stays loaded in the worker.
    set({ calibError: messageOf(e) });
    return [];
  }
}

export async function filesOf(list: Iterable<File>): Promise<{ name: string; bytes: Uint8Array }[]> {
  const files = [...list].sort((a, b) => a.name.localeCompare(b.name));
  return Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}

export async function fetchFile(url: string, name: string): Promise<{ name: string; bytes: Uint8Array }> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
  return { name, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** Validate the edited config; returns whether it is usable. */
export async function checkConfig(text: string): Promise<boolean> {
  try {
    await worker().checkConfig(text);
    set({ quantConfigError: null });
    return true;
  } catch (e) {
    set({ quantConfigError: messageOf(e) });
    return false;
  }
}

export async function runQuantize(): Promise<void> {
  const { quantConfig, quantFor } = get();
  if (!(await checkConfig(quantConfig))) return;
  set({ quantRun: { state: 'running', phase: 'calibrate', batch: 0, total: 0 }, quantError: null });
  try {
    const onProgress = Comlink.proxy((p: { phase: string; batch: number; total: number }) => {
      if (get().quantRun.state === 'running') set({ quantRun: { state: 'running', ...p } });
    });
    const summary = await worker().quantize(quantConfig, onProgress);
    if (get().quantFor !== quantFor) return;
    confirmedOverrides = {};
    set({ quant: summary, overrides: {}, quantRun: { state: 'idle' } });
  } catch (e) {
    const cancelled = e instanceof Error && e.name === 'AbortError';
    set({ quantRun: { state: 'idle' }, quantError: cancelled ? 'quantization cancelled' : messageOf(e) });
  }
}

/** The worker checks for Cancel between batches; one stuck longer than this is stopped and replaced. */
const CANCEL_GRACE_MS = 1000;

export function cancelQuantize(): void {
  const openId = get().quantFor;
  void modelWorker()?.cancelQuantize().catch(() => undefined);
  setTimeout(() => {
    if (get().quantFor === openId && get().quantRun.state === 'running') killModelWorker('it did not stop within a second of Cancel');
  }, CANCEL_GRACE_MS);
}

let overrideSeq = 0;
/** The overrides the worker last applied: what a failed call falls back to (a pending pin may never land). */
let confirmedOverrides: Readonly<Record<string, TensorOverride>> = {};

/**
 * Pin a fix point / method for one tensor (undefined clears it), re-solve from the kept statistics and
 * measure the layers again. The overrides change at once so a second pin made meanwhile keeps the
 * first; only the latest call's answer is shown (the worker cancels the older measurement).
 */
export async function setOverride(tensor: string, o: TensorOverride | undefined): Promise<void> {
  const next = { ...get().overrides };
  if (o && (o.fixPoint !== undefined || o.method !== undefined)) next[tensor] = o;
  else delete next[tensor];
  const fixPoints: Record<string, number> = {};
  const methods: Record<string, string> = {};
  for (const [t, v] of Object.entries(next)) {
    if (v.fixPoint !== undefined) fixPoints[t] = v.fixPoint;
    if (v.method !== undefined) methods[t] = v.method;
  }
  const seq = ++overrideSeq;
  set({ overrides: next, remeasuring: true });
  try {
    const summary: QuantSummary = await worker().requantize({ fixPoints, methods: methods as never });
    if (seq !== overrideSeq) return;
    confirmedOverrides = next;
    set({ quant: summary, quantError: null, remeasuring: false });
  } catch (e) {
    if (seq !== overrideSeq) return;
    if (e instanceof Error && e.name === 'AbortError') set({ remeasuring: false });
    else set({ overrides: confirmedOverrides, quantError: messageOf(e), remeasuring: false });
  }
}

export function tensorDetail(name: string): Promise<TensorDetail | null> {
  return worker().tensorDetail(name);
}

export async function download(kind: 'qdq' | 'int' | 'info' | 'config'): Promise<void> {
  try {
    const { name, bytes } = await worker().exportArtifact(kind);
    const stem = (get().model?.info.fileName ?? 'model').replace(/\.(onnx|xmodel)$/i, '');
    const fileName = kind === 'qdq' ? `${stem}_qdq.onnx` : kind === 'int' ? `${stem}_int.xmodel` : name;
    const binary = kind === 'qdq' || kind === 'int';
    const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: binary ? 'application/octet-stream' : 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    set({ quantError: messageOf(e) });
  }
}

export { sqnrColor } from './colors';

export const formatDb = (db: number) => (Number.isFinite(db) ? `${db.toFixed(1)} dB` : '∞ dB');
