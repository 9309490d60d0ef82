// Search over the display graph by node name, op type or tensor name.
import type { DisplayGraph, DisplayNode } from './types';

export interface SearchHit {
  readonly id: string;
  /** What matched, to show in the results list. */
  readonly text: string;
  readonly field: 'name' | 'op' | 'tensor';
}

/** Exact name, exact op type, name prefix, name substring, op substring, tensor name: best first. */
export function searchGraph(g: DisplayGraph, query: string, limit = 100): SearchHit[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const tensorHit = (n: DisplayNode): string | undefined => {
    for (const p of [...n.inputs, ...n.outputs]) if (p.tensor.toLowerCase().includes(q)) return p.tensor;
    for (const w of n.weights) if (w.tensor.toLowerCase().includes(q)) return w.tensor;
    return undefined;
  };
  const scored: { hit: SearchHit; rank: number; order: number }[] = [];
  g.nodes.forEach((n, order) => {
    const name = n.name.toLowerCase();
    const op = n.kind === 'op' ? n.label.toLowerCase() : '';
    let hit: SearchHit | undefined;
    let rank = 0;
    if (name === q) { hit = { id: n.id, text: n.name, field: 'name' }; rank = 0; }
    else if (op === q) { hit = { id: n.id, text: n.name, field: 'op' }; rank = 1; }
    else if (name.startsWith(q)) { hit = { id: n.id, text: n.name, field: 'name' }; rank = 2; }
    else if (name.includes(q)) { hit = { id: n.id, text: n.name, field: 'name' }; rank = 3; }
    else if (op.includes(q)) { hit = { id: n.id, text: n.name, field: 'op' }; rank = 4; }
    else {
      const t = tensorHit(n);
      if (t) { hit = { id: n.id, text: t, field: 'tensor' }; rank = 5; }
    }
    if (hit) scored.push({ hit, rank, order });
  });
  scored.sort((a, b) => a.rank - b.rank || a.order - b.order);
  return scored.slice(0, limit).map((s) => s.hit);
}
