import { describe, expect, it } from 'vitest';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { toDisplayGraph } from '../../src/core/view/display';
import { BODY_OP_LIMIT, bodyRows, FIX_TAG_CHARS, layoutGraph, layoutInput, METRICS, nodeRows, nodeSize } from '../../src/core/view/layout';
import type { DisplayGraph } from '../../src/core/view/types';
import { layoutLayered } from '../../src/core/view/layered';

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
    const l = layoutGraph(g);
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
    const l = layoutGraph(chain(1500, 3));
    expect(Object.keys(l.boxes)).toHaveLength(1500);
    expect(l.boxes.n1499.y).toBeGreaterThan(l.boxes.n0.y);
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

  it('makes room for the fp=N tags and the second edge label once quantized', async () => {
    const base = chain(1).nodes[0];
    const withWeight = { ...base, weights: [{ label: 'W', tensor: 'w', shape: [16, 8, 3, 3], stored: true }] };
    // The tag floats right of the shape: the row is FIX_TAG_CHARS wider, the height is the same.
    expect(Math.abs(nodeSize(withWeight, false, true).width - nodeSize(withWeight).width - FIX_TAG_CHARS * METRICS.rowCharWidth)).toBeLessThanOrEqual(1);
    expect(nodeSize(withWeight, false, true).height).toBe(nodeSize(withWeight).height);
    expect(nodeSize(base, false, true)).toEqual(nodeSize(base));
    const g = chain(3);
    const plain = layoutGraph(g);
    const input = layoutInput(g, new Set(), true);
    expect(input.layoutOptions?.['elk.layered.spacing.nodeNodeBetweenLayers']).toBe('36');
    const q = layoutGraph(g, new Set());
    expect(q).toEqual(plain);
    const spaced = layoutLayered(input);
    const gap = (l: typeof plain) => l.boxes.n1.y - (l.boxes.n0.y + l.boxes.n0.height);
    expect(gap(plain)).toBe(28);
    expect(gap(spaced)).toBe(36);
  });

  it('gives a control-flow node a row for its toggle, and room for its body when expanded', () => {
    const base = chain(1).nodes[0];
    const loop = {
      ...base, label: 'Loop', category: 'control' as const,
      subgraphs: [{ attr: 'body', ops: Array.from({ length: BODY_OP_LIMIT + 5 }, (_, i) => ({ opType: i ? 'Add' : 'ConvTranspose', name: `b${i}` })) }],
    };
    const rows = nodeRows(loop).length;
    expect(nodeSize(loop).height).toBe(METRICS.headerHeight + (rows + 1) * METRICS.rowHeight + 2 * METRICS.padding);
    const body = bodyRows(loop);
    // Title, the first ops, then how many were left out.
    expect(body).toHaveLength(BODY_OP_LIMIT + 2);
    expect(body.at(-1)).toEqual({ kind: 'more', text: '… 5 more' });
    expect(nodeSize(loop, true).height).toBe(nodeSize(loop).height + body.length * METRICS.rowHeight);
    expect(nodeSize(base, true)).toEqual(nodeSize(base));
  });

  it('lays an expanded node out at its expanded size, pushing the next node down', async () => {
    const g = chain(3);
    const nodes = g.nodes.map((n, i) => (i === 1 ? { ...n, label: 'If', subgraphs: [{ attr: 'then_branch', ops: [{ opType: 'Relu', name: 'r' }, { opType: 'Add', name: 'a' }] }] } : n));
    const dg = { ...g, nodes };
    const closed = layoutGraph(dg);
    const open = layoutGraph(dg, new Set(['n1']));
    expect(open.boxes.n1.height).toBe(nodeSize(nodes[1], true).height);
    expect(open.boxes.n1.height).toBeGreaterThan(closed.boxes.n1.height);
    expect(open.boxes.n2.y).toBeGreaterThanOrEqual(open.boxes.n1.y + open.boxes.n1.height);
  });

  it('gives the layout only sizes and one edge per connected pair', () => {
    const g = chain(3);
    const dg = { ...g, edges: [...g.edges, { id: 'again', source: 'n0', target: 'n1', tensor: 'other', label: '' }] };
    const input = layoutInput(dg);
    expect(input.edges?.map((e) => [e.sources[0], e.targets[0]])).toEqual([['n0', 'n1'], ['n1', 'n2']]);
    expect(input.children?.map((c) => Object.keys(c).sort())).toEqual(g.nodes.map(() => ['height', 'id', 'width']));
    expect(input.children?.[0]).toEqual({ id: 'n0', ...nodeSize(g.nodes[0]) });
  });
});
