// A user's labelled set for the Evaluate section: a .npy pair or a folder per class, the class mapping
// (sorted names, or the model's label file when it names every folder) and the one-line refusals.
import { readFileSync } from 'node:fs';
import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { parseNpy, writeNpy } from '../../src/core/data/npy';
import { labelledSet } from '../../src/core/demo/labelled';

const FASHION = readFileSync('public/labels/fashion_mnist.txt', 'utf8').trim().split('\n');
const png = () => encode({ width: 2, height: 2, data: new Uint8Array(4), channels: 1 });
const npy = (name: string, dtype: 'uint8' | 'int64' | 'float32', shape: number[], values: number[]) => ({
  name,
  bytes: writeNpy({ dtype, shape, data: dtype === 'int64' ? BigInt64Array.from(values.map(BigInt)) : dtype === 'uint8' ? Uint8Array.from(values) : Float32Array.from(values) }),
});

describe('labelled sets', () => {
  it('a .npy pair: labels found by dtype and shape in either order, sample i is row i', () => {
    const x = npy('x.npy', 'uint8', [3, 2, 2], new Array(12).fill(1));
    const y = npy('y.npy', 'int64', [3], [2, 0, 9]);
    for (const files of [[x, y], [y, x]]) {
      const s = labelledSet(files, { classes: 10, modelLabels: FASHION });
      expect(s.kind).toBe('npy');
      expect(s.labels).toEqual([2, 0, 9]);
      expect(s.files.map((f) => f.name)).toEqual(['x.npy']);
      expect(s.at(2)).toEqual({ file: 0, index: 2 });
      expect(s.classes).toHaveLength(10);
      expect(s.classes[9]).toBe('Ankle boot');
      expect(s.title).toBe('x.npy + y.npy');
    }
    // One sample alone, as the evaluation sends it: row i of the images.
    const rows = npy('x.npy', 'uint8', [3, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const one = labelledSet([rows, npy('y.npy', 'uint8', [3], [0, 1, 2])]).one(1);
    expect(one.index).toBe(0);
    const a = parseNpy(one.files[0].bytes);
    expect(a.shape).toEqual([1, 2, 2]);
    expect(Array.from(a.data as Uint8Array)).toEqual([4, 5, 6, 7]);
  });

  it('refuses a .npy pair with mismatched counts, labels out of range, no labels, or a third file', () => {
    const x = npy('x.npy', 'uint8', [3, 2, 2], new Array(12).fill(1));
    expect(() => labelledSet([x, npy('y.npy', 'uint8', [4], [0, 1, 2, 3])], { classes: 10 })).toThrow('x.npy holds 3 images but y.npy holds 4 labels');
    expect(() => labelledSet([x, npy('y.npy', 'uint8', [3], [0, 10, 2])], { classes: 10 })).toThrow('label 10 of sample 1 in y.npy is out of range: the model has 10 classes (0…9)');
    expect(() => labelledSet([x, npy('y.npy', 'float32', [3], [0, 1, 2])])).toThrow(/neither x.npy nor y.npy holds labels/);
    expect(() => labelledSet([x])).toThrow(/a .npy set is two files, images and labels; got 1 .npy/);
    expect(() => labelledSet([x, npy('y.npy', 'uint8', [3], [0, 1, 2]), { name: 'a/b.png', bytes: png() }])).toThrow(/two files/);
  });

  it('a folder per class: sorted names → indices, any leading folder ignored, the mapping reported', () => {
    const files = ['set/dog/1.png', 'set/cat/2.png', 'set/cat/1.png', 'set/emu/1.png'].map((name) => ({ name, bytes: png() }));
    const s = labelledSet(files, { classes: 3 });
    expect(s.kind).toBe('folders');
    expect(s.folders).toEqual([{ name: 'cat', index: 0, files: 2 }, { name: 'dog', index: 1, files: 1 }, { name: 'emu', index: 2, files: 1 }]);
    expect(s.byLabelFile).toBe(false);
    expect(s.files.map((f) => f.name)).toEqual(['set/cat/1.png', 'set/cat/2.png', 'set/dog/1.png', 'set/emu/1.png']);
    expect(s.labels).toEqual([0, 0, 1, 2]);
    expect(s.at(3)).toEqual({ file: 3, index: 0 });
    expect(s.one(3).files[0].name).toBe('set/emu/1.png');
    expect(s.classes).toEqual(['cat', 'dog', 'emu']);
  });

  it('folder names that are all in the model\'s label file take its indices', () => {
    const files = ['Sneaker/a.png', 'ankle_boot/b.png', 'T-shirt/top/c.png'].map((name) => ({ name, bytes: png() }));
    // "T-shirt/top" is a path: its class folder is "top", which the label file does not name → sorted order.
    expect(labelledSet(files, { modelLabels: FASHION, classes: 10 }).byLabelFile).toBe(false);
    const s = labelledSet(files.slice(0, 2), { modelLabels: FASHION, classes: 10 });
    expect(s.byLabelFile).toBe(true);
    expect(s.folders).toEqual([{ name: 'Sneaker', index: 7, files: 1 }, { name: 'ankle_boot', index: 9, files: 1 }]);
    expect(s.labels).toEqual([7, 9]);
    expect(s.classes[7]).toBe('Sneaker');
    expect(s.classes[0]).toBe('T-shirt/top');
  });

  it('refuses an empty class folder, loose files, non-images, one class, or more folders than classes', () => {
    const f = (name: string) => ({ name, bytes: png() });
    expect(() => labelledSet([f('a/1.png'), f('b/1.png')], { folders: ['a', 'b', 'c'] })).toThrow('class folder "c" holds no images');
    expect(() => labelledSet([f('1.png'), f('2.png')])).toThrow('1.png is not in a class folder: expected class_name/1.png');
    expect(() => labelledSet([f('a/1.png'), { name: 'b/notes.txt', bytes: new Uint8Array([1, 2, 3]) }])).toThrow('b/notes.txt is not a PNG or JPEG image');
    expect(() => labelledSet([f('a/1.png'), f('a/2.png')])).toThrow(/at least two class folders; found 1 \(a\)/);
    expect(() => labelledSet([f('a/1.png'), f('b/1.png'), f('c/1.png')], { classes: 2 })).toThrow('3 class folders, but the model has 2 classes: "c" would be class 2 (0…1)');
    expect(() => labelledSet([])).toThrow(/no files/);
  });
});
