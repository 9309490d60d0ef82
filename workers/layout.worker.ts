// Layout worker: ELK on a display graph. ELK is slow until the JIT has optimised it, so the app warms it
// up while idle.
import * as Comlink from 'comlink';
import ELK from 'elkjs/lib/elk.bundled.js';
import { layoutElk, layoutGraph, type ElkGraph } from '../src/core/view/layout';
import type { DisplayEdge, DisplayGraph, DisplayNode, Layout } from '../src/core/view/types';

const elk = new ELK();
/** Set by the first real layout: the warm-up stops after its current round rather than compete. */
let stopWarmUp = false;

function warmNode(i: number): DisplayNode {
  const labels = ['Conv', 'Relu', 'Concat', 'BatchNormalization', 'Add', 'Sigmoid', 'Resize'];
  return {
    id: `w${i}`, kind: 'op', label: labels[i % labels.length], name: `w${i}`, domain: '', category: 'conv', unknown: false,
    weights: [], summary: Array.from({ length: i % 4 }, (_, k) => ({ name: 'kernel', text: '3×3'.repeat(k + 1) })),
    attrs: [], inputs: [], outputs: [], folded: [], subgraphs: [],
  };
}

/** A chain with skip connections and fan-outs, like residual networks. */
export function warmChain(n: number): DisplayGraph {
  const nodes = Array.from({ length: n }, (_, i) => warmNode(i));
  const edges: DisplayEdge[] = [];
  const edge = (a: number, b: number) => edges.push({ id: `e${edges.length}`, source: `w${a}`, target: `w${b}`, tensor: '', label: '' });
  for (let i = 1; i < n; i++) edge(i - 1, i);
  for (let i = 2; i < n; i += 3) edge(i - 2, i);
  for (let i = 8; i < n; i += 8) edge(i - 8, i);
  return { name: 'warm-up', nodes, edges };
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
  layout(input: ElkGraph): Promise<Layout> {
    stopWarmUp = true;
    return layoutElk(input, elk);
  },
  /**
   * Runs ELK on synthetic graphs so the first real layout does not pay for loading and JIT. A few runs of
   * a small chain were not enough: in Chromium the fourth layout of YOLOX-nano was still 4× faster than
   * the first, so this runs graphs of real size and shape, within a time budget.
   */
  async warmUp(budgetMs = 6000): Promise<void> {
    // Small graphs first, then mid-sized ones, with a yield between rounds: a file opened while this runs
    // waits for at most one round. One round of the former 240-node chain took 1.5–4.8 s cold on a busy
    // two-core machine, which a user opening a file at once (bench/first-open.ts) waited for in full; the
    // same budget of smaller rounds leaves ELK as fast on YOLOX-nano afterwards (785 vs 1281 ms in Node).
    const graphs = [warmChain(20), warmBranches(5), warmChain(60), warmBranches(15)];
    const t0 = performance.now();
    for (let r = 0; r < 80 && !stopWarmUp && performance.now() - t0 < budgetMs; r++) {
      await layoutGraph(graphs[r < 4 ? r : 2 + (r % 2)], elk);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  },
};

export type LayoutApi = typeof api;
Comlink.expose(api);
