// A user's labelled evaluation set, as the Evaluate section receives it: a `.npy` of images with a `.npy`
// of integer labels, or a folder per class (`class_name/xxx.png`, any leading folders ignored). Class
// folders are numbered in sorted order, unless every name is in the model's label file: then each takes
// its index there, so `Sneaker/` scores as class 7 of Fashion-MNIST whatever other folders exist.
import { InputError } from '../errors';
import { isJpeg, isPng } from '../data/image';
import { isNpy, parseNpy, writeNpy } from '../data/npy';

export interface NamedBytes {
  /** A file name, or a relative path (`Sneaker/0001.png`, `set/Sneaker/0001.png`). */
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface ClassFolder {
  readonly name: string;
  readonly index: number;
  readonly files: number;
}

export interface LabelledSet {
  readonly kind: 'npy' | 'folders';
  /** What the picker shows: "x.npy + y.npy" or "3 class folders". */
  readonly title: string;
  /** The image files: the one images .npy, or one image per sample. */
  readonly files: readonly NamedBytes[];
  readonly labels: readonly number[];
  /** Sample i is entry `index` of `files[file]`. */
  at(i: number): { readonly file: number; readonly index: number };
  /**
   * Sample i as the file to read it from: a one-sample `.npy` cut from the images array (so evaluating N
   * samples does not copy the whole array to the worker N times), or its image.
   */
  one(i: number): { readonly files: NamedBytes[]; readonly index: number };
  /** Class names by index where known (folder names, else the model's labels), for the matrices. */
  readonly classes: readonly string[];
  /** Folder sets: how names became indices, and whether the model's label file decided it. */
  readonly folders?: readonly ClassFolder[];
  readonly byLabelFile?: boolean;
}

export interface LabelledOptions {
  /** The model's class names (its label file), if it has one. */
  readonly modelLabels?: readonly string[];
  /** The classifier's output size: labels must lie in 0…classes−1. */
  readonly classes?: number;
  /** Class folders seen in a dropped folder, including empty ones (a file list cannot show those). */
  readonly folders?: readonly string[];
}

const IMAGE = /\.(png|jpe?g)$/i;
const base = (p: string) => p.replace(/^.*\//, '');

function checkRange(labels: readonly number[], classes: number | undefined, where: (i: number) => string): void {
  if (classes === undefined) return;
  const bad = labels.findIndex((l) => l < 0 || l >= classes);
  if (bad >= 0) throw new InputError(`label ${labels[bad]} of ${where(bad)} is out of range: the model has ${classes} classes (0…${classes - 1})`);
}

function npyPair(files: readonly NamedBytes[], o: LabelledOptions): LabelledSet {
  const parsed = files.map((f) => ({ f, a: parseNpy(f.bytes, base(f.name)) }));
  // The labels: one integer value per sample ([N] or [N, 1]); the other array holds the images.
  const isLabels = (x: (typeof parsed)[number]) => /^u?int|^bool$/.test(x.a.dtype) && (x.a.shape.length === 1 || (x.a.shape.length === 2 && x.a.shape[1] === 1));
  const cands = parsed.filter(isLabels);
  const pick = cands.length === 1 ? cands[0]
    : cands.length === 2 ? (cands.find((x) => /label|^y/i.test(base(x.f.name))) ?? undefined) : undefined;
  if (!pick) {
    throw new InputError(cands.length === 0
      ? `neither ${base(files[0].name)} nor ${base(files[1].name)} holds labels: expected one integer .npy of shape [N]`
      : `both ${base(files[0].name)} and ${base(files[1].name)} look like label arrays; name the labels file *labels*.npy`);
  }
  const images = parsed.find((x) => x !== pick)!;
  const labels = Array.from(pick.a.data as ArrayLike<number | bigint>, Number);
  const n = images.a.shape[0] ?? 0;
  const iname = base(images.f.name);
  const lname = base(pick.f.name);
  if (images.a.shape.length < 2) throw new InputError(`${iname} has shape [${images.a.shape.join(', ')}]: expected images, one per row of the first axis`);
  if (n !== labels.length) throw new InputError(`${iname} holds ${n} images but ${lname} holds ${labels.length} labels`);
  if (n === 0) throw new InputError(`${iname} holds no images`);
  checkRange(labels, o.classes, (i) => `sample ${i} in ${lname}`);
  const k = Math.max(o.classes ?? 0, ...labels.map((l) => l + 1));
  const classes = Array.from({ length: k }, (_, c) => o.modelLabels?.[c] || `class ${c}`);
  const a = images.a;
  const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
  const one = (i: number) => ({ files: [{ name: iname, bytes: writeNpy({ dtype: a.dtype, shape: [1, ...a.shape.slice(1)], data: a.data.subarray(i * per, (i + 1) * per) }) }], index: 0 });
  return { kind: 'npy', title: `${iname} + ${lname}`, files: [images.f], labels, at: (i) => ({ file: 0, index: i }), one, classes };
}

function classFolders(files: readonly NamedBytes[], o: LabelledOptions): LabelledSet {
  const byClass = new Map<string, NamedBytes[]>();
  for (const name of o.folders ?? []) byClass.set(name, []);
  for (const f of files) {
    const parts = f.name.split('/').filter(Boolean);
    if (parts.length < 2) throw new InputError(`${f.name} is not in a class folder: expected class_name/${f.name}`);
    const cls = parts[parts.length - 2];
    if (!IMAGE.test(f.name) && !isPng(f.bytes) && !isJpeg(f.bytes)) throw new InputError(`${f.name} is not a PNG or JPEG image`);
    let list = byClass.get(cls);
    if (!list) byClass.set(cls, (list = []));
    list.push(f);
  }
  const names = [...byClass.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const empty = names.find((c) => byClass.get(c)!.length === 0);
  if (empty !== undefined) throw new InputError(`class folder "${empty}" holds no images`);
  if (names.length < 2) throw new InputError(`a folder-per-class set needs at least two class folders; found ${names.length} (${names.join(', ')})`);
  // The model's label file decides the indices when it names every folder (case and spacing aside).
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, ' ').trim();
  const known = o.modelLabels?.map(norm);
  const byLabelFile = !!known && names.every((c) => known.includes(norm(c)));
  const folders = names.map((name, i) => ({ name, index: byLabelFile ? known!.indexOf(norm(name)) : i, files: byClass.get(name)!.length }));
  if (o.classes !== undefined) {
    const over = folders.find((f) => f.index >= o.classes!);
    if (over) throw new InputError(`${names.length} class folders, but the model has ${o.classes} classes: "${over.name}" would be class ${over.index} (0…${o.classes - 1})`);
  }
  const list: NamedBytes[] = [];
  const labels: number[] = [];
  for (const f of folders) {
    const imgs = [...byClass.get(f.name)!].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const img of imgs) { list.push(img); labels.push(f.index); }
  }
  const k = Math.max(o.classes ?? 0, ...folders.map((f) => f.index + 1));
  const classes = Array.from({ length: k }, (_, c) => folders.find((f) => f.index === c)?.name ?? (o.modelLabels?.[c] || `class ${c}`));
  return { kind: 'folders', title: `${names.length} class folders, ${list.length} images`, files: list, labels, at: (i) => ({ file: i, index: 0 }), one: (i) => ({ files: [list[i]], index: 0 }), classes, folders, byLabelFile };
}

/** The set the files make: two `.npy` (images + labels), else images in class folders. */
export function labelledSet(files: readonly NamedBytes[], o: LabelledOptions = {}): LabelledSet {
  if (files.length === 0 && !(o.folders?.length)) throw new InputError('no files: pick an images .npy with a labels .npy, or a folder per class');
  const arrays = files.filter((f) => isNpy(f.bytes));
  if (arrays.length > 0) {
    if (arrays.length !== 2 || files.length !== 2) throw new InputError(`a .npy set is two files, images and labels; got ${arrays.length} .npy among ${files.length} file(s)`);
    return npyPair(arrays, o);
  }
  return classFolders(files, o);
}
