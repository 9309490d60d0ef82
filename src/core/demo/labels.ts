// Class names: a label file is one name per line (blank lines at the end ignored) or a JSON array of
// strings. An index without a name is shown as `class N`.
import { InputError } from '../errors';

export function parseLabels(text: string, file = 'labels'): string[] {
  const t = text.replace(/^\uFEFF/, '').trim();
  if (t.startsWith('[')) {
    let v: unknown;
    try { v = JSON.parse(t); } catch (e) { throw new InputError(`${file}: not valid JSON: ${(e as Error).message}`); }
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new InputError(`${file}: a JSON label file must be an array of strings`);
    return v;
  }
  if (!t) throw new InputError(`${file} holds no labels`);
  return t.split(/\r?\n/).map((l) => l.trim());
}

export function labelFor(classId: number, labels?: readonly string[]): string {
  const l = labels?.[classId];
  return l ? l : `class ${classId}`;
}

/** The label file shipped in public/labels/ for a sample model, by its file name (quantized copies too). */
export function shippedLabelFile(modelFile: string): string | undefined {
  const n = modelFile.toLowerCase().replace(/^.*[\\/]/, '');
  if (n.startsWith('yolox')) return 'coco80.txt';
  if (n.startsWith('fmnist')) return 'fashion_mnist.txt';
  if (n.startsWith('mnist')) return 'mnist.txt';
  return undefined;
}
