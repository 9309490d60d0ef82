// Class names of the open sample model from public/labels (src/core/demo/labels.ts), fetched once.
import { useEffect, useState } from 'react';
import { parseLabels, shippedLabelFile } from '../../core/demo/labels';
import { useStore } from '../store';

const cache = new Map<string, Promise<string[] | undefined>>();

function load(file: string): Promise<string[] | undefined> {
  let p = cache.get(file);
  if (!p) {
    p = fetch(`${import.meta.env.BASE_URL}labels/${file}`)
      .then((r) => (r.ok ? r.text() : undefined))
      .then((t) => (t ? parseLabels(t, file) : undefined))
      .catch(() => undefined);
    cache.set(file, p);
  }
  return p;
}

/** The open sample model's class names, if it ships a label file. */
export function shippedLabels(modelFile: string): Promise<string[] | undefined> {
  const file = shippedLabelFile(modelFile);
  return file ? load(file) : Promise.resolve(undefined);
}

export function useShippedLabels(): string[] | undefined {
  const fileName = useStore((s) => s.model?.info.fileName ?? '');
  const [labels, setLabels] = useState<string[] | undefined>();
  useEffect(() => {
    let live = true;
    const file = shippedLabelFile(fileName);
    setLabels(undefined);
    if (file) void load(file).then((l) => { if (live) setLabels(l); });
    return () => { live = false; };
  }, [fileName]);
  return labels;
}
