// Layout worker: lays the open graph out again when what it shows changes (a body opened, the quantized
// view's taller gaps). The first layout of a file is made by the model worker as it reads the file.
import * as Comlink from 'comlink';
import { layoutInput, type ElkGraph } from '../src/core/view/layout';
import { layoutLayered } from '../src/core/view/layered';
import type { DisplayEdge, DisplayGraph, DisplayNode, Layout } from '../src/core/view/types';

function warmNode(i: number): DisplayNode {
  const labels = ['Conv', 'Relu', 'Concat', 'BatchNormalization', 'Add', 'Sigmoid', 'Resize'];
  return {
    id: `w${i}`, kind: 'op', label: labels[i % labels.length], name: `w${i}`, domain: '', category: 'conv', unknown: false,
    weights: [], summary: Array.from({ length: i % 4 }, (_, k) => ({ name: 'kernel', text: '3×3'.repeat(k + 1) })),
    attrs: [], inputs: [], outputs: [], folded: [], subgraphs: [],
  };
}

/** Blocks of parallel branches of uneven depth that merge, with skips across blocks, like CSP/FPN detectors. */
export function warmBranches(blocks: number): DisplayGraph {
  const nodes: DisplayNode[] = [];
  const edges: DisplayEdge[] = [];
  const node = () => { nodes.push(warmNode(nodes.length)); return nodes.length - 1; };
  const edge = (a: number, b: number) => edges.push({ id: `e${edges.length}`, source: `w${a}`, target: `w${b}`, tensor: '', label: '' });
  let prev = node();
  const merges: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const ends: number[] = [];
    for (let w = 0; w < 2 + (b % 3); w++) {
      let p = prev;
      for (let d = 0; d < 1 + ((b + w) % 4); d++) { const n = node(); edge(p, n); p = n; }
      ends.push(p);
    }
    const m = node();
    for (const e of ends) edge(e, m);
    if (merges.length > 3) edge(merges[merges.length - 4], m);
    merges.push(m);
    prev = m;
  }
  return { name: 'warm-up', nodes, edges };
}

const api = {
  /** `input`: from layoutInput, computed by the caller so only ids, sizes and edges cross over. */
  layout(input: ElkGraph): Layout {
    return layoutLayered(input);
  },
  /** A few layouts of a detector-shaped graph, so the first relayout runs optimised code. */
  warmUp(): void {
    const g = warmBranches(15);
    for (let r = 0; r < 5; r++) layoutLayered(layoutInput(g, new Set(), r % 2 === 1));
  },
};

export type LayoutApi = typeof api;
Comlink.expose(api);
