// Layout worker: ELK on a display graph. ELK is slow to JIT, so the app warms it up while idle.
import * as Comlink from 'comlink';
import ELK from 'elkjs/lib/elk.bundled.js';
import { layoutGraph } from '../src/core/view/layout';
import type { DisplayGraph, Layout } from '../src/core/view/types';

const elk = new ELK();

const api = {
  /** `expanded`: control-flow nodes whose body is shown (see nodeSize). */
  layout(graph: DisplayGraph, expanded: readonly string[] = []): Promise<Layout> {
    return layoutGraph(graph, elk, undefined, new Set(expanded));
  },
  /** Runs ELK on a small graph so the first real layout does not pay for loading and JIT. */
  async warmUp(rounds = 6): Promise<void> {
    const nodes = Array.from({ length: 240 }, (_, i) => ({
      id: `w${i}`, kind: 'op' as const, label: 'Conv', name: `w${i}`, domain: '', category: 'conv' as const, unknown: false,
      weights: [], summary: [], attrs: [], inputs: [], outputs: [], folded: [], subgraphs: [],
    }));
    const edges = nodes.slice(1).map((n, i) => ({ id: `e${i}`, source: nodes[i].id, target: n.id, tensor: '', label: '' }));
    // Skip connections and fan-outs, so the code paths of real networks (residuals, concats) get hot too.
    for (let i = 2; i < nodes.length; i += 3) edges.push({ id: `s${i}`, source: nodes[i - 2].id, target: nodes[i].id, tensor: '', label: '' });
    for (let i = 8; i < nodes.length; i += 8) edges.push({ id: `f${i}`, source: nodes[i - 8].id, target: nodes[i].id, tensor: '', label: '' });
    // A few rounds: ELK's code gets optimised by the JIT only after it has run for a while.
    for (let r = 0; r < rounds; r++) await layoutGraph({ name: 'warm-up', nodes, edges }, elk);
  },
};

export type LayoutApi = typeof api;
Comlink.expose(api);
