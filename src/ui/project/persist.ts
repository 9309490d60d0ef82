// Keeps the open model's project in IndexedDB as the user works and brings it back: after a reload, or
// whenever a model with a saved project is opened again (so opening another model never loses the first
// one's work). Saved are the inputs of each step (model bytes, calibration files and preprocessing,
// quant config, overrides, target, conversions, the simulated sample) and the cheap results (the last
// simulation report); calibration, quantization and compile run again on restore.
import { get, set, useStore } from '../store';
import { loadCalibration, runQuantize, setOverride } from '../quant/actions';
import { recompile } from '../compile/actions';
import { modelHash, modelWorker, openBytes } from '../session';
import { currentProject, deleteProject, listProjects, loadProject, saveProject, type CalibRecord, type ProjectMeta } from './db';
import { packProject, unpackProject, PROJECT_EXT } from './bundle';
import { lastStepOf, savedFieldsChanged, savedStateOf, type SavedState } from './saved';

/** The model just opened, kept until its project is written (its bytes went to the worker). */
let opened: { hash: string; name: string; bytes: Blob } | undefined;
/** The calibration inputs of the open model, and whether they changed since the last save. */
let calib: CalibRecord | null = null;
let calibDirty = false;
/** True from a model's open until its project is restored: the resets meanwhile are not the user's. */
let restoring = false;
/** An imported project's state, applied to the model once it opened. */
let pendingImport: { state: SavedState; calib: CalibRecord | null } | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
let asked = false;

const SAVE_DELAY_MS = 400;
/** Say so when more than this share of the origin's quota is used. */
const QUOTA_WARN = 0.8;

/** Called by the session when a model opened (before the store shows it). */
export function noteOpened(hash: string, name: string, bytes: Blob): void {
  opened = { hash, name, bytes };
}

/** Called when a calibration set loaded in the worker. */
export function noteCalibration(files: readonly { name: string; bytes: Uint8Array }[], preprocess: unknown): void {
  calib = { files: files.map((f) => ({ name: f.name, bytes: f.bytes })), preprocess };
  calibDirty = true;
}

function describe(e: unknown): string {
  const m = e instanceof Error ? `${e.name === 'QuotaExceededError' ? 'storage full' : e.message}` : String(e);
  return m.replace(/[\r\n\t]+/g, ' ');
}

const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;

async function write(hash: string, name: string, size: number, state: SavedState, calibrated: boolean): Promise<void> {
  // The same bytes reopened under another name share the project: the previous model's last save (made
  // as the new one opens) must not take the new file's record, whose name the next save writes.
  const model = opened?.hash === hash && opened.name === name ? opened : undefined;
  const calibNow = calibDirty ? calib : undefined;
  const stateBytes = JSON.stringify(state, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).length;
  const calibBytes = (calib?.files ?? []).reduce((a, f) => a + f.bytes.byteLength, 0);
  const meta: ProjectMeta = { hash, name, size, storedBytes: size + calibBytes + stateBytes, lastStep: lastStepOf(state, calibrated), savedAt: Date.now() };
  const t0 = performance.now();
  try {
    await saveProject(meta, state, model ? { name: model.name, bytes: model.bytes } : undefined, calibNow);
    // On the performance timeline for the tests and benches: what a save costs.
    performance.measure('project-save', { start: t0, end: performance.now() });
    if (model && opened === model) opened = undefined;
    if (calibNow !== undefined && calib === calibNow) calibDirty = false;
    set({ savedAt: meta.savedAt });
    if (!asked) {
      asked = true;
      // Without it the browser may evict the projects under storage pressure.
      void navigator.storage?.persist?.().catch(() => false);
    }
    await checkQuota(hash);
  } catch (e) {
    const last = get().savedAt;
    set({ projectNotice: `Could not save ${name} (${describe(e)}); ${last ? `the save of ${new Date(last).toLocaleTimeString()} is kept` : 'nothing was saved'}. Delete old projects on the start page to make room.` });
  }
  await refreshProjects();
}

async function checkQuota(hash: string): Promise<void> {
  const est = await navigator.storage?.estimate?.().catch(() => undefined);
  if (!est?.quota || est.usage === undefined) return;
  if (est.usage < est.quota * QUOTA_WARN) {
    if (get().projectNotice?.startsWith('Storage')) set({ projectNotice: null });
    return;
  }
  const others = (await listProjects()).filter((p) => p.hash !== hash).sort((a, b) => b.storedBytes - a.storedBytes).slice(0, 3);
  const names = others.map((p) => `${p.name} (${mb(p.storedBytes)}, ${new Date(p.savedAt).toLocaleDateString()})`).join(', ');
  set({ projectNotice: `Storage is ${Math.round((100 * est.usage) / est.quota)} % full (${mb(est.usage)} of ${mb(est.quota)})${names ? `: delete ${names} on the start page` : ''}.` });
}

export async function refreshProjects(): Promise<void> {
  set({ projects: await listProjects().catch(() => []) });
}

function saveNow(s = get()): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = undefined;
  const m = s.model;
  const hash = s.fileHash;
  // No hash yet: the model has just opened and its project is not restored yet either.
  if (!m || !hash || m.info.fileName === undefined) return Promise.resolve();
  return write(hash, m.info.fileName, opened?.hash === hash ? opened.bytes.size : (get().projects.find((p) => p.hash === hash)?.size ?? 0), savedStateOf(s), !!s.calib);
}

function schedule(): void {
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => void saveNow(), SAVE_DELAY_MS);
}

useStore.subscribe((s, prev) => {
  if (s.model?.openId !== prev.model?.openId) {
    // The previous model's pending changes are written with the state they were made in.
    if (timer && prev.model) void saveNow(prev);
    restoring = true;
    calib = null;
    calibDirty = true;
    return;
  }
  if (s.model && !restoring && savedFieldsChanged(s, prev)) schedule();
});

/**
 * Called once a model's slices were reset: brings back its saved project, if any, then saves. Steps
 * that ran before run again in order; a step that now fails leaves its message and the inputs kept.
 */
export async function restoreInto(openId: number): Promise<void> {
  const m = get().model;
  if (!m || m.openId !== openId) return;
  // A worker that dies mid-restore fails the steps still to run; the half-restored state must not be
  // saved over the project the model is about to be reopened from.
  const worker = modelWorker();
  const stale = () => get().model?.openId !== openId || modelWorker() !== worker;
  try {
    const imported = pendingImport;
    pendingImport = undefined;
    // The hash follows the drawing; until the store holds it nothing of this model can be saved.
    const hash = await modelHash(openId).catch(() => undefined);
    if (!hash || stale()) return;
    const rec = imported ? { project: { state: imported.state }, calib: imported.calib } : await loadProject(hash).catch(() => undefined);
    if (!rec || stale()) return;
    performance.mark('restore-start');
    const st = rec.project.state;
    const redo = [rec.calib && 'calibration', st.quantized && 'quantization', st.compiled && 'compile'].filter(Boolean);
    const notice = redo.length ? `Restoring the project of ${m.info.fileName}: running ${redo.join(', ')} again…` : null;
    if (notice) set({ projectNotice: notice });
    set({ quantConfig: st.quantConfig, compileTarget: st.compileTarget, conversions: st.conversions, simSource: st.simSource, simIndex: st.simIndex });
    if (rec.calib) {
      calib = rec.calib;
      calibDirty = !!imported;
      await loadCalibration([...rec.calib.files], rec.calib.preprocess);
      if (stale()) return;
    }
    if (st.quantized && get().calib) {
      await runQuantize();
      if (stale()) return;
      const entries = Object.entries(st.overrides);
      if (entries.length > 0 && get().quant?.source === 'calibration') {
        const [t, o] = entries[entries.length - 1]!;
        set({ overrides: Object.fromEntries(entries.slice(0, -1)) });
        await setOverride(t, o);
        if (stale()) return;
      }
    }
    if (st.simReport && get().quant) set({ simReport: st.simReport, simInputLabel: st.simInputLabel, simRun: { state: 'done' } });
    set({ activeStep: st.activeStep });
    if (st.compiled && st.activeStep !== 'compile') await recompile();
    if (notice && get().projectNotice === notice) set({ projectNotice: null });
    performance.mark('restore-done');
    performance.measure('project-restore', 'restore-start', 'restore-done');
  } finally {
    if (!stale()) {
      restoring = false;
      await saveNow();
    }
  }
}

/** On start: the project the user last worked on, opened again. */
export async function restoreLast(): Promise<void> {
  await refreshProjects();
  const hash = await currentProject().catch(() => undefined);
  if (hash) await openProject(hash);
}

export async function openProject(hash: string): Promise<void> {
  const rec = await loadProject(hash).catch(() => undefined);
  if (!rec) {
    set({ projectNotice: 'That project is no longer stored.' });
    await refreshProjects();
    return;
  }
  // The name the list shows: the project's last save, made under the name the model was last open as.
  await openBytes(rec.model.bytes, rec.project.name, false, rec.model.bytes);
}

/**
 * Opens the model of a saved project again (a replaced worker) under `fileName`, the name it was open as:
 * the project may have been saved under another name for the same bytes. False when nothing is saved.
 */
export async function reopenSaved(hash: string, fileName: string): Promise<boolean> {
  const rec = await loadProject(hash).catch(() => undefined);
  if (!rec) return false;
  await openBytes(rec.model.bytes, fileName, false, rec.model.bytes);
  const m = get().model;
  return !!m && (await modelHash(m.openId).catch(() => '')) === hash;
}

export async function removeProject(hash: string): Promise<void> {
  try {
    await deleteProject(hash);
    if (get().projectNotice?.startsWith('Storage')) set({ projectNotice: null });
  } catch (e) {
    set({ projectNotice: `Could not delete the project (${describe(e)}).` });
  }
  await refreshProjects();
}

/** The project as one file (model + state + calibration data), downloaded. */
export async function exportProject(hash: string): Promise<void> {
  try {
    if (get().fileHash === hash && !restoring) await saveNow();
    const rec = await loadProject(hash);
    if (!rec) throw new Error('it is no longer stored');
    const bytes = packProject({ name: rec.project.name, model: new Uint8Array(await rec.model.bytes.arrayBuffer()), state: rec.project.state, calib: rec.calib ?? null });
    const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/zip' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = rec.project.name.replace(/\.[^.]*$/, '') + PROJECT_EXT;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    set({ projectNotice: `Could not export the project (${describe(e)}).` });
  }
}

/** Opens an exported project: its model, then its state as if it had been saved here. */
export async function importProject(file: File): Promise<void> {
  try {
    const b = unpackProject(new Uint8Array(await file.arrayBuffer()), file.name);
    pendingImport = { state: b.state, calib: b.calib };
    await openBytes(b.model, b.name);
    // The open failed (its message is shown): the state has no model to go to.
    if (get().model?.info.fileName !== b.name) pendingImport = undefined;
  } catch (e) {
    pendingImport = undefined;
    set({ projectNotice: describe(e) });
  }
}
