// Files of a labelled set dropped on the Evaluate section, with their paths: a folder per class is read
// from the folder names, and an empty class folder must be seen to be refused, so this walk keeps both
// (quant/drop.ts's walk flattens to the files alone).
import type { EntryLike, ItemLike } from '../quant/drop';

export interface PathedFile { readonly name: string; readonly file: File }

/**
 * Must be called inside the drop handler, before any await (the items are readable only then). `name`
 * is the path under the drop (`set/cat/1.png`); `folders` the leaf folders' names (class folders,
 * empty ones included).
 */
export function labelledDrop(items: ArrayLike<ItemLike>, fallback: ArrayLike<File> = []): Promise<{ files: PathedFile[]; folders: string[] }> {
  const entries: EntryLike[] = [];
  const loose: File[] = [];
  for (const item of Array.from(items)) {
    if (item.kind !== 'file') continue;
    const e = item.webkitGetAsEntry?.() ?? null;
    if (e) entries.push(e);
    else { const f = item.getAsFile(); if (f) loose.push(f); }
  }
  if (items.length === 0) loose.push(...Array.from(fallback));
  const files: PathedFile[] = [];
  const folders: string[] = [];
  const walk = async (e: EntryLike, path: string): Promise<void> => {
    if (e.isFile && e.file) {
      files.push({ name: path, file: await new Promise<File>((ok, err) => e.file!(ok, err)) });
      return;
    }
    if (!e.isDirectory || !e.createReader) return;
    const reader = e.createReader();
    let sub = 0;
    for (;;) {
      const batch = await new Promise<EntryLike[]>((ok, err) => reader.readEntries(ok, err));
      if (batch.length === 0) break;
      for (const c of batch) { if (c.isDirectory) sub++; await walk(c, `${path}/${c.name}`); }
    }
    if (sub === 0) folders.push(e.name);
  };
  return (async () => {
    for (const e of entries) await walk(e, e.name);
    return { files: [...files, ...loose.map((f) => ({ name: f.name, file: f }))], folders };
  })();
}

/** A picker's files with their folder paths (`webkitRelativePath` of a folder pick). */
export function pickedFiles(list: FileList | null): PathedFile[] {
  return Array.from(list ?? [], (f) => ({ name: f.webkitRelativePath || f.name, file: f }));
}

/** The bytes, hidden files (`.DS_Store`, `._x.png`) left out. */
export async function readPathed(files: readonly PathedFile[]): Promise<{ name: string; bytes: Uint8Array }[]> {
  return Promise.all(files.filter((f) => !/(^|\/)\.[^/]*$/.test(f.name)).map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.file.arrayBuffer()) })));
}
