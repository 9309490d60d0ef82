// Files from a drop on the Calibrate panel. A dropped folder arrives in dataTransfer.files as one
// unreadable entry (Chromium), so the drop is walked through its FileSystemEntry tree instead.

export const CALIB_FILE = /\.(npy|npz|png|jpe?g)$/i;

/** The part of FileSystemEntry the walk uses (a structural type, so tests can give plain objects). */
export interface EntryLike {
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  readonly name: string;
  file?(ok: (f: File) => void, err?: (e: unknown) => void): void;
  createReader?(): { readEntries(ok: (entries: EntryLike[]) => void, err?: (e: unknown) => void): void };
}

/** Every file under the entries, directories walked depth-first (readEntries answers in batches). */
export async function filesOfEntries(entries: readonly EntryLike[]): Promise<File[]> {
  const out: File[] = [];
  const walk = async (e: EntryLike): Promise<void> => {
    if (e.isFile && e.file) {
      out.push(await new Promise<File>((ok, err) => e.file!(ok, err)));
    } else if (e.isDirectory && e.createReader) {
      const reader = e.createReader();
      for (;;) {
        const batch = await new Promise<EntryLike[]>((ok, err) => reader.readEntries(ok, err));
        if (batch.length === 0) break;
        for (const c of batch) await walk(c);
      }
    }
  };
  for (const e of entries) await walk(e);
  return out;
}

/** The part of DataTransferItem the drop uses. */
export interface ItemLike {
  readonly kind: string;
  webkitGetAsEntry?(): EntryLike | null;
  getAsFile(): File | null;
}

/**
 * Must be called inside the drop handler, before any await: the items are only readable during the
 * event. Resolves to the calibration files (by extension) and how many others were left out.
 */
export function droppedFiles(items: ArrayLike<ItemLike>, fallback: ArrayLike<File> = []): Promise<{ files: File[]; skipped: number }> {
  const entries: EntryLike[] = [];
  const loose: File[] = [];
  for (const item of Array.from(items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.() ?? null;
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (items.length === 0) loose.push(...Array.from(fallback));
  return filesOfEntries(entries).then((walked) => {
    const all = [...walked, ...loose];
    const files = all.filter((f) => CALIB_FILE.test(f.name));
    return { files, skipped: all.length - files.length };
  });
}

/** The message when nothing usable came (the drop or picker gave `total` files, none of them calibration data). */
export function nothingUsable(total: number): string {
  return total === 0
    ? 'no files in the drop (an empty folder?): expected .npy, .npz, PNG or JPEG'
    : `none of the ${total} file(s) is calibration data: expected .npy, .npz, PNG or JPEG`;
}
