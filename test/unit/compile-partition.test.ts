import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  NO_CONVERSIONS, layersOf, partition, targetByArch, type CompileResult, type LayerGraph,
} from '../../src/core/compile';
import { buildModel, tensor, type NodeSpec } from '../../src/core/onnx/build';
import { openModel } from '../../src/core/open';

const t = targetByArch('B4096');
const W = tensor('float32', [8, 8, 3, 3], new Float32Array(8 * 8 * 9).fill(0.01));

/** Convs named c*, plus whatever other nodes; all on [1, 8, 16, 16]. */
function graph(nodes: NodeSpec[], outputs: string[] = ['y']): LayerGraph {
  const model = buildModel({
    inputs: { x: ['float32', [1, 8, 16, 16]] },
    outputs,
    // reshape targets: two transposed heads [1,16,16,8] → [1,256,8], their concat [1,512,8] → [1,8,32,16]
    initializers: { w: W, shape: tensor('int64', [3], [1, 256, 8]), shape4: tensor('int64', [4], [1, 8, 32, 16]) },
    nodes: nodes.map((n) => (n.op === 'Conv' ? { ...n, inputs: [...n.inputs, 'w'], attrs: { pads: [1, 1, 1, 1] } } : n)),
  });
  return layersOf({ kind: 'onnx', model });
}

const conv = (name: string, i: string, o: string): NodeSpec => ({ op: 'Conv', name, inputs: [i], outputs: [o] });
const devices = (r: CompileResult) => r.subgraphs.map((s) => s.device);

/** No path may leave a subgraph and come back into it. */
function expectConvex(r: CompileResult) {
  const sgOf = new Map<number, number>();
  r.subgraphs.forEach((s, i) => s.layers.forEach((l) => sgOf.set(r.layers[l].layer.id, i)));
  // The subgraph order is topological, so every edge goes forward or stays.
  for (const p of r.layers)
    for (const i of p.layer.inputs) {
      const from = sgOf.get(i) ?? sgOf.get(r.layers.find((q) => q.members.includes(i))!.layer.id)!;
      expect(from).toBeLessThanOrEqual(sgOf.get(p.layer.id)!);
    }
}

describe('partitioning', () => {
  it('all supported: one DPU subgraph between USER and the output conversion', () => {
    const r = partition(graph([conv('c1', 'x', 'a'), { op: 'Relu', name: 'r', inputs: ['a'], outputs: ['b'] }, conv('c2', 'b', 'y')]), t);
    expect(r.summary).toBe('Total device subgraph number 3, DPU subgraph number 1');
    expect(devices(r)).toEqual(['USER', 'DPU', 'CPU']);
    expect(r.subgraphs[1].ops).toEqual(['c1', 'r', 'c2']);
  });

  it('an unsupported op in the middle splits the DPU region in two', () => {
    const r = partition(graph([
      conv('c1', 'x', 'a'), { op: 'Softmax', name: 'sm', inputs: ['a'], outputs: ['b'] }, conv('c2', 'b', 'y'),
    ]), t);
    expect(devices(r)).toEqual(['USER', 'DPU', 'CPU', 'DPU', 'CPU']);
    expect(r.dpuSubgraphNumber).toBe(2);
    expect(r.cpuOps.map((c) => c.name)).toEqual(['sm', 'y_fix2float']);
    expectConvex(r);
  });

  it('an unsupported op at the end joins the output conversion on the CPU', () => {
    const r = partition(graph([conv('c1', 'x', 'a'), conv('c2', 'a', 'b'), { op: 'Softmax', name: 'sm', inputs: ['b'], outputs: ['y'] }]), t);
    expect(devices(r)).toEqual(['USER', 'DPU', 'CPU']);
    expect(r.subgraphs[2].ops).toEqual(['sm']);
  });

  it('an unsupported op in a side branch: the DPU region around it cannot be one subgraph (convexity)', () => {
    // x → c1 → a ─┬─ c2 ─────────┬─ add → y
    //             └─ sigmoid → c3 ┘
    const r = partition(graph([
      conv('c1', 'x', 'a'), conv('c2', 'a', 'b'), { op: 'Sigmoid', name: 's', inputs: ['a'], outputs: ['sa'] },
      conv('c3', 'sa', 'c'), { op: 'Add', name: 'add', inputs: ['b', 'c'], outputs: ['y'] },
    ]), t);
    expectConvex(r);
    // c1 (and c2, which needs nothing from the CPU) before the sigmoid; c3 and the add after it.
    expect(r.dpuSubgraphNumber).toBe(2);
    const dpu = r.subgraphs.filter((s) => s.device === 'DPU');
    expect(dpu[0].ops).toEqual(['c1', 'c2']);
    expect(dpu[1].ops).toEqual(['c3', 'add']);
    // With hard-sigmoid it is one subgraph.
    const relaxed = partition(r.graph, t, { ...NO_CONVERSIONS, sigmoidToHardSigmoid: true });
    expect(relaxed.dpuSubgraphNumber).toBe(1);
  });

  it('does not merge two DPU regions joined through a CPU region', () => {
    // c1 → softmax → c2, and c1 → c3; c2 + c3 → add. c1 and c3/add cannot be one subgraph with c2 outside.
    const r = partition(graph([
      conv('c1', 'x', 'a'), { op: 'Softmax', name: 'sm', inputs: ['a'], outputs: ['s'] }, conv('c2', 's', 'b'),
      conv('c3', 'a', 'c'), { op: 'Add', name: 'add', inputs: ['b', 'c'], outputs: ['y'] },
    ]), t);
    expectConvex(r);
    const dpu = r.subgraphs.filter((s) => s.device === 'DPU');
    expect(dpu.map((s) => s.ops)).toEqual([['c1', 'c3'], ['c2', 'add']]);
  });

  it('parallel branches share one DPU subgraph; their CPU tails stay apart (as vai_c_xir does with outputs)', () => {
    const r = partition(graph([
      conv('c1', 'x', 'a'), { op: 'Softmax', name: 's1', inputs: ['a'], outputs: ['y1'] },
      conv('c2', 'x', 'b'), { op: 'Softmax', name: 's2', inputs: ['b'], outputs: ['y2'] },
    ], ['y1', 'y2']), t);
    expectConvex(r);
    expect(r.dpuSubgraphNumber).toBe(1);
    expect(r.subgraphs.filter((s) => s.device === 'CPU').map((s) => s.ops)).toEqual([['s1'], ['s2']]);
  });
});

const YOLOX = 'public/models/yolox_nano.onnx';
describe.skipIf(!existsSync(YOLOX))('yolox_nano: SiLU as Sigmoid·Mul', () => {
  const model = openModel(new Uint8Array(readFileSync(YOLOX)), 'yolox_nano.onnx');
  const g = layersOf({ kind: 'onnx', model });

  it('has many DPU subgraphs because of its 104 SiLUs and 6 head Sigmoids', () => {
    const r = partition(g, t);
    const reasons = r.cpuOps.map((c) => c.reason);
    expect(reasons.filter((x) => x.startsWith('SiLU (Sigmoid·Mul)')).length).toBe(104);
    expect(reasons.filter((x) => x === 'Sigmoid: not supported by DPUCZDX8G').length).toBe(6);
    // each SiLU along the deepest path cuts the DPU region once more
    expect([r.deviceSubgraphNumber, r.dpuSubgraphNumber]).toEqual([192, 76]);
  });

  it('has far fewer with SiLU→hard-swish, fewer still with Sigmoid→hard-sigmoid too; re-partitions in ms', () => {
    const before = partition(g, t);
    const start = performance.now();
    const swish = partition(g, t, { ...NO_CONVERSIONS, siluToHardSwish: true });
    const ms = performance.now() - start;
    const both = partition(g, t, { ...NO_CONVERSIONS, siluToHardSwish: true, sigmoidToHardSigmoid: true });
    // SiLU→hard-swish: only the 6 head Sigmoids split the DPU region (before the head concat: 2 DPU subgraphs);
    // with hard-sigmoid too the whole network after the Focus slices is one DPU subgraph.
    expect([swish.deviceSubgraphNumber, swish.dpuSubgraphNumber]).toEqual([14, 2]);
    expect([both.deviceSubgraphNumber, both.dpuSubgraphNumber]).toEqual([7, 1]);
    expect(swish.dpuSubgraphNumber * 10).toBeLessThan(before.dpuSubgraphNumber);
    // ~1.06 G ops (YOLOX-nano is quoted at 1.08 GFLOPs), ideally ~1 ms on B4096 at 300 MHz
    expect(both.totals.workload / 1e9).toBeCloseTo(1.06, 2);
    expect(swish.cpuOps.some((c) => c.reason.startsWith('SiLU'))).toBe(false);
    expect(ms).toBeLessThan(500);
  });
});

describe('fmnist_seed000: the Vitis AI tutorial network', () => {
  const model = openModel(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')), 'fmnist_seed000.onnx');

  it('compiles to one DPU subgraph, as vai_c_xir reports for it (Flatten→Dense 10816→128 included)', () => {
    const r = partition(layersOf({ kind: 'onnx', model }), t);
    expect(r.summary).toBe('Total device subgraph number 3, DPU subgraph number 1');
    expect(r.cpuOps.map((c) => c.op)).toEqual(['fix2float']);
  });
});

describe('compute-free DPU islands', () => {
  it('leaves reshapes and concats between CPU ops on the CPU, but not when a conv reads them', () => {
    const head = (tail: NodeSpec[]) => graph([
      conv('c1', 'x', 'a'),
      { op: 'Transpose', name: 't1', inputs: ['a'], outputs: ['ta'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'Transpose', name: 't2', inputs: ['a'], outputs: ['tb'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'Reshape', name: 'r1', inputs: ['ta', 'shape'], outputs: ['ra'] },
      { op: 'Reshape', name: 'r2', inputs: ['tb', 'shape'], outputs: ['rb'] },
      { op: 'Concat', name: 'cat', inputs: ['ra', 'rb'], outputs: [tail.length ? 'm' : 'y'], attrs: { axis: 1 } },
      ...tail,
    ]);
    const island = partition(head([]), t);
    expect(island.subgraphs.filter((s) => s.device === 'DPU').map((s) => s.ops)).toEqual([['c1']]);
    for (const n of ['r1', 'r2', 'cat'])
      expect(island.cpuOps.find((c) => c.name === n)?.reason).toMatch(/no DPU computation next to it/);
    expectConvex(island);
    // the same reshapes and concat feeding a conv do computation's work: they stay on the DPU with it
    const fed = partition(head([{ op: 'Reshape', name: 'r3', inputs: ['m', 'shape4'], outputs: ['n'] }, conv('c2', 'n', 'y')]), t);
    expect(fed.subgraphs.filter((s) => s.device === 'DPU').map((s) => s.ops)).toEqual([['c1'], ['r1', 'r2', 'cat', 'r3', 'c2']]);
  });

  const RETINA = 'public/models/retinaface_vitis_qdq.onnx';
  it.skipIf(!existsSync(RETINA))('RetinaFace QDQ: its 9 head reshapes and 3 concats join the CPU transposes (no DPU subgraph of workload 0)', () => {
    const r = partition(layersOf({ kind: 'onnx', model: openModel(new Uint8Array(readFileSync(RETINA)).slice(), 'r.onnx') }), t);
    expect(r.summary).toBe('Total device subgraph number 5, DPU subgraph number 1');
    expect(r.subgraphs.filter((s) => s.device === 'DPU' && s.cost.workload === 0)).toEqual([]);
    const moved = r.cpuOps.filter((c) => /no DPU computation/.test(c.reason)).map((c) => c.op).sort();
    expect(moved).toEqual([...Array(3).fill('Concat'), ...Array(9).fill('Reshape')]);
    expectConvex(r);
  });
});
