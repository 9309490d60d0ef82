// Walking a labelled set dropped on the Evaluate section: the files keep their paths under the drop
// and every leaf folder is reported, so an empty class folder reaches labelledSet and is refused.
import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { labelledSet } from '../../src/core/demo/labelled';
import type { EntryLike, ItemLike } from '../../src/ui/quant/drop';
import { labelledDrop, readPathed } from '../../src/ui/sim/labelledDrop';

const PNG = encode({ width: 1, height: 1, data: new Uint8Array(1), channels: 1 });
const fileEntry = (name: string): EntryLike => ({
  isFile: true, isDirectory: false, name,
  file: (ok) => setTimeout(() => ok(new File([PNG as BlobPart], name)), 0),
});
/** A directory whose reader answers in batches of `batch`, then an empty batch, as readEntries does. */
function dirEntry(name: string, children: EntryLike[], batch = 2): EntryLike {
  return {
    isFile: false, isDirectory: true, name,
    createReader: () => {
      let at = 0;
      return { readEntries: (ok) => setTimeout(() => { ok(children.slice(at, at + batch)); at += batch; }, 0) };
    },
  };
}
const item = (entry: EntryLike | null, file: File | null = null): ItemLike => ({ kind: 'file', webkitGetAsEntry: () => entry, getAsFile: () => file });

describe('a dropped folder-per-class set', () => {
  it('keeps paths and leaf folders; hidden files are left out; the set maps the class folders', async () => {
    const tree = dirEntry('set', [
      dirEntry('cat', [fileEntry('1.png'), fileEntry('2.png'), fileEntry('3.png'), fileEntry('.DS_Store')]),
      dirEntry('dog', [fileEntry('1.png')]),
    ]);
    const { files, folders } = await labelledDrop([item(tree)]);
    expect(files.map((f) => f.name)).toEqual(['set/cat/1.png', 'set/cat/2.png', 'set/cat/3.png', 'set/cat/.DS_Store', 'set/dog/1.png']);
    expect(folders).toEqual(['cat', 'dog']);
    const read = await readPathed(files);
    expect(read.map((f) => f.name)).not.toContain('set/cat/.DS_Store');
    const s = labelledSet(read, { folders });
    expect(s.folders).toEqual([{ name: 'cat', index: 0, files: 3 }, { name: 'dog', index: 1, files: 1 }]);
  });

  it('reports an empty class folder, which the set refuses', async () => {
    const { files, folders } = await labelledDrop([item(dirEntry('cat', [fileEntry('1.png')])), item(dirEntry('dog', [])), item(dirEntry('emu', [fileEntry('1.png')]))]);
    expect(folders.sort()).toEqual(['cat', 'dog', 'emu']);
    expect(() => labelledSet(files.map((f) => ({ name: f.name, bytes: PNG })), { folders })).toThrow('class folder "dog" holds no images');
  });

  it('two loose .npy files keep their names', async () => {
    const { files, folders } = await labelledDrop([item(null, new File(['x'], 'x.npy')), item(fileEntry('y.npy'))]);
    expect(files.map((f) => f.name).sort()).toEqual(['x.npy', 'y.npy']);
    expect(folders).toEqual([]);
  });
});
