import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { readOnnx } from '../../src/core/onnx/reader';
import { toDisplayGraph } from '../../src/core/view/display';
import { layoutInput, nodeSize, type ElkGraph } from '../../src/core/view/layout';
import { LAYERED_SPACING, layoutLayered } from '../../src/core/view/layered';
import type { DisplayGraph, Layout } from '../../src/core/view/types';

function chain(n: number, skipEvery = 0): DisplayGraph {
  const nodes = Array.from({ length: n }, (_, i) => ({
    id: `n${i}`, kind: 'op' as const, label: 'Relu', name: `n${i}`, domain: '', category: 'activation' as const, unknown: false,
    weights: [], summary: [], attrs: [], inputs: [], outputs: [], folded: [], subgraphs: [],
  }));
  const edges = nodes.slice(1).map((m, i) => ({ id: `e${i}`, source: nodes[i].id, target: m.id, tensor: `t${i}`, label: '' }));
  if (skipEvery) for (let i = skipEvery; i < n; i += skipEvery) edges.push({ id: `s${i}`, source: `n${i - skipEvery}`, target: `n${i}`, tensor: `s${i}`, label: '' });
  return { name: 'chain', nodes, edges };
}

/** A plain graph for layoutLayered: ids with sizes and edges by pair. */
function plain(sizes: Record<string, [number, number]>, edges: [string, string][]): ElkGraph {
  return {
    id: 'root',
    children: Object.entries(sizes).map(([id, [width, height]]) => ({ id, width, height })),
    edges: edges.map(([s, t], i) => ({ id: `e${i}`, sources: [s], targets: [t] })),
  };
}

function overlapping(l: Layout): string[] {
  const bad: string[] = [];
  const boxes = Object.entries(l.boxes).sort((a, b) => a[1].y - b[1].y);
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length && boxes[j][1].y < boxes[i][1].y + boxes[i][1].height; j++) {
      const [a, b] = [boxes[i][1], boxes[j][1]];
      if (a.x < b.x + b.width && b.x < a.x + a.width) bad.push(`${boxes[i][0]}/${boxes[j][0]}`);
    }
  }
  return bad;
}

/** Crossings between straight segments from each producer's bottom centre to its consumer's top centre, layer to layer. */
function crossingPairs(l: Layout, edges: [string, string][]): number {
  const seg = edges.map(([s, t]) => [l.boxes[s].x + l.boxes[s].width / 2, l.boxes[t].x + l.boxes[t].width / 2, l.boxes[s].y, l.boxes[t].y]);
  let c = 0;
  for (let i = 0; i < seg.length; i++) for (let j = i + 1; j < seg.length; j++) {
    const [a, b] = [seg[i], seg[j]];
    if (a[2] === b[2] && a[3] === b[3] && (a[0] - b[0]) * (a[1] - b[1]) < 0) c++;
  }
  return c;
}

describe('layoutLayered', () => {
  it('places every consumer below its producer, boxes at their text size, branches side by side', () => {
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
    const l = layoutLayered(layoutInput(g));
    expect(Object.keys(l.boxes).sort()).toEqual(g.nodes.map((n) => n.id).sort());
    for (const e of g.edges) expect(l.boxes[e.target].y, `${e.source} → ${e.target}`).toBeGreaterThanOrEqual(l.boxes[e.source].y + l.boxes[e.source].height);
    for (const n of g.nodes) expect(l.boxes[n.id]).toMatchObject(nodeSize(n));
    const a = l.boxes[g.nodes.find((n) => n.name === 'a')!.id];
    const b = l.boxes[g.nodes.find((n) => n.name === 'b')!.id];
    expect(a.y + a.height / 2).toBe(b.y + b.height / 2);
    expect(Math.abs(a.x - b.x)).toBeGreaterThanOrEqual(Math.min(a.width, b.width) + LAYERED_SPACING.node);
    expect(overlapping(l)).toEqual([]);
    for (const box of Object.values(l.boxes)) {
      expect(box.x + box.width).toBeLessThanOrEqual(l.width);
      expect(box.y + box.height).toBeLessThanOrEqual(l.height);
    }
  });

  it('keeps a chain straight and spaces layers 28 px apart, 36 px once quantized', () => {
    const g = chain(4);
    const l = layoutLayered(layoutInput(g));
    const centres = g.nodes.map((n) => l.boxes[n.id].x + l.boxes[n.id].width / 2);
    expect(new Set(centres).size).toBe(1);
    const gap = (x: Layout) => x.boxes.n1.y - (x.boxes.n0.y + x.boxes.n0.height);
    expect(gap(l)).toBe(28);
    expect(gap(layoutLayered(layoutInput(g, new Set(), true)))).toBe(36);
  });

  it('puts a node on the layer of its longest path from a source, and keeps a lane for the long edge', () => {
    // a → b → c → d and a → d: d is on layer 3, and the edge a→d passes b and c on their left or right.
    const input = plain({ a: [80, 30], b: [80, 30], c: [80, 30], d: [80, 30] }, [['a', 'b'], ['b', 'c'], ['c', 'd'], ['a', 'd']]);
    const l = layoutLayered(input);
    expect(l.boxes.a.y).toBeLessThan(l.boxes.b.y);
    expect(l.boxes.b.y).toBeLessThan(l.boxes.c.y);
    expect(l.boxes.c.y).toBeLessThan(l.boxes.d.y);
    // The chain is pushed aside by the lane of the long edge, the end points are not.
    expect(l.boxes.b.x).not.toBe(l.boxes.a.x);
    expect(l.width).toBeGreaterThanOrEqual(80 + LAYERED_SPACING.edge + 2 * LAYERED_SPACING.padding);
  });

  it('orders each layer to remove crossings the file order would make', () => {
    // Two branches whose ends are listed crosswise: p1 feeds q2 and p2 feeds q1.
    const edges: [string, string][] = [['s', 'p1'], ['s', 'p2'], ['p1', 'q2'], ['p2', 'q1'], ['q1', 'e'], ['q2', 'e']];
    const sizes = Object.fromEntries(['s', 'p1', 'p2', 'q1', 'q2', 'e'].map((k) => [k, [60, 30] as [number, number]]));
    const l = layoutLayered(plain(sizes, edges));
    expect(crossingPairs(l, edges.filter(([s]) => s.startsWith('p')))).toBe(0);
    expect(overlapping(l)).toEqual([]);
  });

  it('lays a cyclic graph out (the edge closing the cycle is turned) and ignores duplicate edges and self-loops', () => {
    const l = layoutLayered(plain({ a: [50, 20], b: [50, 20], c: [50, 20] }, [['a', 'b'], ['b', 'c'], ['c', 'a'], ['a', 'b'], ['b', 'b']]));
    expect(l.boxes.a.y).toBeLessThan(l.boxes.b.y);
    expect(l.boxes.b.y).toBeLessThan(l.boxes.c.y);
    expect(layoutLayered(plain({}, [])).boxes).toEqual({});
  });

  it('lays out a 10,000-node chain with skips and a 20,000-wide fan without recursion', () => {
    const deep = layoutLayered(layoutInput(chain(10_000, 3)));
    expect(Object.keys(deep.boxes)).toHaveLength(10_000);
    expect(deep.boxes.n9999.y).toBeGreaterThan(deep.boxes.n9998.y);
    const fan = plain(
      Object.fromEntries([['root', [40, 20]], ...Array.from({ length: 20_000 }, (_, i) => [`f${i}`, [40, 20]])]),
      Array.from({ length: 20_000 }, (_, i) => ['root', `f${i}`] as [string, string]),
    );
    const wide = layoutLayered(fan);
    expect(wide.boxes.f19999.y).toBe(wide.boxes.f0.y);
    expect(wide.width).toBeGreaterThan(20_000 * 40);
  });

  const yolox = join(__dirname, '../../public/models/yolox_nano.onnx');
  it.skipIf(!existsSync(yolox))('lays YOLOX-nano out with no box over another and every edge pointing down', () => {
    const g = toDisplayGraph(readOnnx(new Uint8Array(readFileSync(yolox))));
    const l = layoutLayered(layoutInput(g));
    expect(Object.keys(l.boxes)).toHaveLength(g.nodes.length);
    expect(overlapping(l)).toEqual([]);
    for (const e of g.edges) expect(l.boxes[e.target].y).toBeGreaterThan(l.boxes[e.source].y);
  });
});
