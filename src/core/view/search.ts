// Search over the display graph by node name, op type or tensor name.
import type { DisplayGraph, DisplayNode } from './types';

export interface SearchHit {
  readonly id: string;
  /** What matched, to show in the results list. */
  readonly text: string;
  readonly field: 'name' | 'op' | 'tensor';
}

export function searchGraph(g: DisplayGraph, query: string, limit = 100): SearchHit[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const hits: SearchHit[] = [];
  const tensorHit = (n: DisplayNode): string | undefined => {
    for (const p of [...n.inputs, ...n.outputs]) if (p.tensor.toLowerCase().includes(q)) return p.tensor;
    for (const w of n.weights) if (w.tensor.toLowerCase().includes(q)) return w.tensor;
    return undefined;
  };
  // Exact op-type matches first ("Conv" should not list every ConvTranspose first), then names, then tensors.
  for (const n of g.nodes) if (n.kind === 'op' && n.label.toLowerCase() === q) hits.push({ id: n.id, text: n.name, field: 'op' });
  const taken = new Set(hits.map((h) => h.id));
  for (const n of g.nodes) {
    if (hits.length >= limit) break;
    if (taken.has(n.id)) continue;
    if (n.name.toLowerCase().includes(q)) hits.push({ id: n.id, text: n.name, field: 'name' });
    else if (n.kind === 'op' && n.label.toLowerCase().includes(q)) hits.push({ id: n.id, text: n.name, field: 'op' });
    else {
      const t = tensorHit(n);
      if (t) hits.push({ id: n.id, text: t, field: 'tensor' });
    }
  }
  return hits.slice(0, limit);
}
