// Layouts by model content hash: in memory for this page, in IndexedDB across reloads.
import type { Layout } from '../core/view/types';

/** Bump when node metrics or ELK options change, so stale layouts are not reused. */
const VERSION = 5; // 5: laid out by layered.ts instead of ELK
const DB = 'fixpoint-layouts';
const STORE = 'layouts';
const memory = new Map<string, Layout>();

function openDb(): Promise<IDBDatabase | undefined> {
  return new Promise((resolve) => {
    if (typeof indexedDB === 'undefined') return resolve(undefined);
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    // A private window or a full disk: the cache is an optimisation, carry on without it.
    req.onerror = () => resolve(undefined);
  });
}
let db: Promise<IDBDatabase | undefined> | undefined;
const key = (hash: string) => `${VERSION}:${hash}`;

/** Opens the database ahead of the first open (creating it in a fresh profile takes a while). */
export async function warmLayoutCache(): Promise<void> {
  await (db ??= openDb());
}

export async function getLayout(hash: string): Promise<Layout | undefined> {
  const hit = memory.get(key(hash));
  if (hit) return hit;
  const d = await (db ??= openDb());
  if (!d) return undefined;
  return new Promise((resolve) => {
    const req = d.transaction(STORE, 'readonly').objectStore(STORE).get(key(hash));
    req.onsuccess = () => {
      const v = req.result as Layout | undefined;
      if (v) memory.set(key(hash), v);
      resolve(v);
    };
    req.onerror = () => resolve(undefined);
  });
}

export async function putLayout(hash: string, layout: Layout): Promise<void> {
  memory.set(key(hash), layout);
  const d = await (db ??= openDb());
  if (!d) return;
  await new Promise<void>((resolve) => {
    const tx = d.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(layout, key(hash));
    tx.oncomplete = () => resolve();
    tx.onerror = () => resolve();
  });
}
