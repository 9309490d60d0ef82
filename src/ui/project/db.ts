// Projects in IndexedDB (through `idb`), one per model content hash. Each save is one transaction, so
// a failed write (quota, a closed tab) aborts as a whole and the last good save stays as it was.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { SavedState } from './saved';

export interface ProjectMeta {
  readonly hash: string;
  readonly name: string;
  /** Model file bytes. */
  readonly size: number;
  /** Model, calibration data and state, as stored. */
  readonly storedBytes: number;
  readonly lastStep: string;
  readonly savedAt: number;
}

export interface CalibRecord {
  readonly files: readonly { readonly name: string; readonly bytes: Uint8Array }[];
  readonly preprocess: unknown;
}

interface ProjectDb extends DBSchema {
  projects: { key: string; value: ProjectMeta & { readonly state: SavedState } };
  models: { key: string; value: { readonly name: string; readonly bytes: Blob } };
  calib: { key: string; value: CalibRecord };
  meta: { key: string; value: string };
}

const NAME = 'fixpoint-projects';
let db: Promise<IDBPDatabase<ProjectDb> | undefined> | undefined;

function open(): Promise<IDBPDatabase<ProjectDb> | undefined> {
  if (typeof indexedDB === 'undefined') return Promise.resolve(undefined);
  return db ??= openDB<ProjectDb>(NAME, 1, {
    upgrade(d) {
      d.createObjectStore('projects');
      d.createObjectStore('models');
      d.createObjectStore('calib');
      d.createObjectStore('meta');
    },
  }).catch(() => undefined);
}

async function need(): Promise<IDBPDatabase<ProjectDb>> {
  const d = await open();
  if (!d) throw new Error('this browser keeps no storage for the page (private window?)');
  return d;
}

export async function listProjects(): Promise<ProjectMeta[]> {
  const d = await open();
  if (!d) return [];
  const all = await d.getAll('projects');
  return all.map(({ state: _s, ...meta }) => meta).sort((a, b) => b.savedAt - a.savedAt);
}

export async function loadProject(hash: string) {
  const d = await need();
  const tx = d.transaction(['projects', 'models', 'calib'], 'readonly');
  const [project, model, calib] = await Promise.all([tx.objectStore('projects').get(hash), tx.objectStore('models').get(hash), tx.objectStore('calib').get(hash)]);
  if (!project || !model) return undefined;
  return { project, model, calib };
}

/** Writes the project; the model and calibration bytes only when given (they change rarely). */
export async function saveProject(
  meta: ProjectMeta, state: SavedState,
  model?: { name: string; bytes: Blob }, calib?: CalibRecord | null,
): Promise<void> {
  const d = await need();
  const tx = d.transaction(['projects', 'models', 'calib', 'meta'], 'readwrite');
  const puts: Promise<unknown>[] = [tx.objectStore('projects').put({ ...meta, state }, meta.hash), tx.objectStore('meta').put(meta.hash, 'current')];
  if (model) puts.push(tx.objectStore('models').put(model, meta.hash));
  if (calib) puts.push(tx.objectStore('calib').put(calib, meta.hash));
  else if (calib === null) puts.push(tx.objectStore('calib').delete(meta.hash));
  await Promise.all([...puts, tx.done]);
}

export async function deleteProject(hash: string): Promise<void> {
  const d = await need();
  const tx = d.transaction(['projects', 'models', 'calib', 'meta'], 'readwrite');
  const current = await tx.objectStore('meta').get('current');
  await Promise.all([
    tx.objectStore('projects').delete(hash), tx.objectStore('models').delete(hash), tx.objectStore('calib').delete(hash),
    current === hash ? tx.objectStore('meta').delete('current') : Promise.resolve(),
    tx.done,
  ]);
}

export async function currentProject(): Promise<string | undefined> {
  const d = await open();
  return d ? d.get('meta', 'current') : undefined;
}

export async function forgetCurrent(): Promise<void> {
  const d = await open();
  if (d) await d.delete('meta', 'current');
}
