import ELK from 'elkjs/lib/elk.bundled.js';
import { describe, expect, it } from 'vitest';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { toDisplayGraph } from '../../src/core/view/display';
import { ELK_OPTIONS, layoutGraph, nodeRows, nodeSize } from '../../src/core/view/layout';
import type { DisplayGraph } from '../../src/core/view/types';

const elk = new ELK();

function chain(n: number, skipEvery = 0): DisplayGraph {
  const nodes = Array.from({ length: n }, (_, i) => ({
    id: `n${i}`, kind: 'op' as const, label: 'Relu', name: `n${i}`, domain: '', category: 'activation' as const, unknown: false,
    weights: [], summary: [], attrs: [], inputs: [], outputs: [], folded: [], subgraphs: [],
  }));
  const edges = nodes.slice(1).map((m, i) => ({ id: `e${i}`, source: nodes[i].id, target: m.id, tensor: `t${i}`, label: '' }));
  if (skipEvery) for (let i = skipEvery; i < n; i += skipEvery) edges.push({ id: `s${i}`, source: `n${i - skipEvery}`, target: `n${i}`, tensor: `s${i}`, label: '' });
  return { name: 'chain', nodes, edges };
}

describe('layoutGraph', () => {
  it('places every node top to bottom: each consumer below its producer, boxes sized from their text', async () => {
    const m = buildModel({
      inputs: { x: ['float32', [1, 1, 8, 8]] },
      outputs: ['y'],
      initializers: { W: tensor('float32', [4, 1, 3, 3], new Array(36).fill(0.5)) },
      nodes: [
        { op: 'Conv', name: 'conv', inputs: ['x', 'W'], outputs: ['c'], attrs: { kernel_shape: [3, 3] } },
        { op: 'Relu', name: 'a', inputs: ['c'], outputs: ['r1'] },
        { op: 'Sigmoid', name: 'b', inputs: ['c'], outputs: ['r2'] },
        { op: 'Add', name: 'add', inputs: ['r1', 'r2'], outputs: ['y'] },
      ],
    });
    const g = toDisplayGraph(m);
    const l = await layoutGraph(g, elk);
    expect(Object.keys(l.boxes).sort()).toEqual(g.nodes.map((n) => n.id).sort());
    for (const e of g.edges) {
      const s = l.boxes[e.source];
      const t = l.boxes[e.target];
      expect(t.y, `${e.source} → ${e.target}`).toBeGreaterThanOrEqual(s.y + s.height);
    }
    for (const n of g.nodes) expect(l.boxes[n.id]).toMatchObject(nodeSize(n));
    // The two branches sit side by side, not on top of each other.
    const a = l.boxes[g.nodes.find((n) => n.name === 'a')!.id];
    const b = l.boxes[g.nodes.find((n) => n.name === 'b')!.id];
    expect(a.y).toBe(b.y);
    expect(Math.abs(a.x - b.x)).toBeGreaterThanOrEqual(Math.min(a.width, b.width));
  });

  it('lays out a deep graph (1500 nodes with skip connections) without overflowing the stack', async () => {
    const l = await layoutGraph(chain(1500, 3), elk);
    expect(Object.keys(l.boxes)).toHaveLength(1500);
    expect(l.boxes.n1499.y).toBeGreaterThan(l.boxes.n0.y);
  });

  it('uses longest-path layering, top to bottom', () => {
    expect(ELK_OPTIONS['elk.layered.layering.strategy']).toBe('LONGEST_PATH_SOURCE');
    expect(ELK_OPTIONS['elk.direction']).toBe('DOWN');
  });

  it('sizes nodes to their widest row, within limits', () => {
    const base = chain(1).nodes[0];
    const plain = nodeSize(base);
    const withWeight = { ...base, weights: [{ label: 'W', tensor: 'w', shape: [512, 256, 3, 3], stored: true }] };
    expect(nodeRows(withWeight)).toEqual(['W ⟨512×256×3×3⟩']);
    expect(nodeSize(withWeight).height).toBeGreaterThan(plain.height);
    expect(nodeSize(withWeight).width).toBeGreaterThan(plain.width);
    const huge = { ...base, summary: [{ name: 'perm', text: 'x'.repeat(500) }] };
    expect(nodeSize(huge).width).toBeLessThanOrEqual(260);
  });
});
