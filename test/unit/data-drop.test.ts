// Walking a drop on the Calibrate panel: folders through their entries, as Chromium gives them.
import { describe, expect, it } from 'vitest';
import { droppedFiles, nothingUsable, type EntryLike, type ItemLike } from '../../src/ui/quant/drop';

const fileEntry = (name: string): EntryLike => ({
  isFile: true, isDirectory: false, name,
  file: (ok) => setTimeout(() => ok(new File([name], name)), 0),
});

/** A directory whose reader answers in batches of `batch`, then an empty batch, as readEntries does. */
function dirEntry(name: string, children: EntryLike[], batch = 100): EntryLike {
  return {
    isFile: false, isDirectory: true, name,
    createReader: () => {
      let at = 0;
      return {
        readEntries: (ok) => setTimeout(() => { ok(children.slice(at, at + batch)); at += batch; }, 0),
      };
    },
  };
}

const item = (entry: EntryLike | null, file: File | null = null): ItemLike => ({ kind: 'file', webkitGetAsEntry: () => entry, getAsFile: () => file });

describe('dropped folders', () => {
  it('walks nested folders past one readEntries batch and keeps only calibration files', async () => {
    const many = Array.from({ length: 130 }, (_, i) => fileEntry(`img${String(i).padStart(3, '0')}.png`));
    const tree = dirEntry('calib', [...many, fileEntry('README.txt'), dirEntry('more', [fileEntry('x.JPG'), fileEntry('y.jpeg'), fileEntry('.DS_Store')])]);
    const { files, skipped } = await droppedFiles([item(tree), item(fileEntry('data.npy'))]);
    expect(files).toHaveLength(130 + 2 + 1);
    expect(files.map((f) => f.name)).toContain('img129.png');
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['x.JPG', 'y.jpeg', 'data.npy']));
    expect(skipped).toBe(2);
    expect(await files[0].text()).toBe('img000.png');
  });

  it('falls back to the item\'s file without an entry, and to dataTransfer.files without items', async () => {
    expect((await droppedFiles([item(null, new File(['a'], 'a.npz'))])).files.map((f) => f.name)).toEqual(['a.npz']);
    expect((await droppedFiles([], [new File(['b'], 'b.png'), new File(['c'], 'c.txt')]))).toMatchObject({ files: [{ name: 'b.png' }], skipped: 1 });
  });

  it('an empty folder or only other files gives a message saying what was expected', async () => {
    const empty = await droppedFiles([item(dirEntry('empty', []))]);
    expect(empty).toEqual({ files: [], skipped: 0 });
    expect(nothingUsable(empty.skipped)).toBe('no files in the drop (an empty folder?): expected .npy, .npz, PNG or JPEG');
    expect(nothingUsable(3)).toBe('none of the 3 file(s) is calibration data: expected .npy, .npz, PNG or JPEG');
  });
});
