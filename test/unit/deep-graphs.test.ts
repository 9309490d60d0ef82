// Deep and wide graphs: nothing walks a graph by recursion over its depth, and name handling is linear,
// so a 10,000-node chain opens all the way to a compile, and deep nesting gets a message, not a stack
// overflow.
import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/core/analysis/summary';
import { layersOf, partition, targetByArch } from '../../src/core/compile';
import { compiledXModel } from '../../src/core/compile/emit';
import { vartPython } from '../../src/core/compile/deploy';
import { isInputError } from '../../src/core/errors';
import { topoSort, type Graph } from '../../src/core/ir';
import { MAX_BODY_NESTING, readOnnx } from '../../src/core/onnx/reader';
import { writeOnnx } from '../../src/core/onnx/writer';
import { openModel } from '../../src/core/open';
import { toDisplayGraph } from '../../src/core/view/display';
import { layoutInput } from '../../src/core/view/layout';
import { ProtoWriter } from '../../src/core/onnx/wire';
import { readXModel, writeXModel } from '../../src/core/xmodel/codec';
import { subgraphOps, type XSubgraph } from '../../src/core/xmodel/types';
import { hostileOnnx } from '../fuzz/hostile';

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isInputError(e), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('a 10,000-node chain', () => {
  const N = 10_000;
  const model = openModel(hostileOnnx.chain(N), 'chain.onnx');

  it('reads with every shape inferred and orders topologically', () => {
    expect(model.graph.nodes).toHaveLength(N);
    expect(model.graph.valueInfo.get('y')?.shape).toEqual([1, 4]);
    const order = topoSort(model.graph);
    expect(order[0].name).toBe('relu_0');
    expect(order[N - 1].name).toBe(`relu_${N - 1}`);
  });

  it('becomes a display graph and a layout input', () => {
    const dg = toDisplayGraph(model);
    expect(dg.nodes.filter((n) => n.kind === 'op')).toHaveLength(N);
    const elk = layoutInput(dg);
    expect(elk.children!.length).toBe(dg.nodes.length);
    expect(elk.edges!.length).toBe(dg.edges.length);
  });

  it('summarises', () => {
    const s = summarize(model);
    expect(s.nodes).toBe(N);
    expect(s.ops).toEqual({ Relu: N });
  });

  it('compiles, exports an .xmodel and deployment code', () => {
    const r = partition(layersOf({ kind: 'onnx', model }), targetByArch('B4096'));
    const ops = r.subgraphs.reduce((a, s) => a + s.layers.length, 0);
    expect(ops).toBeGreaterThanOrEqual(N);
    const x = readXModel(writeXModel(compiledXModel(r)));
    expect(x.ops.length).toBeGreaterThan(N);
    expect(vartPython(r, 'chain.xmodel')).toContain('chain.xmodel');
  });
});

describe('a 10,000-node chain alternating DPU and CPU ops', () => {
  it('partitions into one subgraph per op, in chain order', () => {
    const N = 10_000;
    const m = readOnnx(hostileOnnx.chain(N, undefined, ['Relu', 'Sin'], [1, 4, 8, 8]));
    const r = partition(layersOf({ kind: 'onnx', model: m }), targetByArch('B4096'));
    const devices = r.subgraphs.filter((s) => s.device !== 'USER').map((s) => s.device);
    expect(devices).toHaveLength(N);
    expect(devices.every((d, i) => d === (i % 2 ? 'CPU' : 'DPU'))).toBe(true);
    const firstLayer = r.subgraphs.filter((s) => s.device !== 'USER').map((s) => r.layers[s.layers[0]].layer.name);
    expect(firstLayer[0]).toBe('relu_0');
    expect(firstLayer[N - 1]).toBe(`sin_${N - 1}`);
  });
});

describe('a 20,000-wide fan-out and fan-in', () => {
  it('reads, draws, summarises and compiles', () => {
    const N = 20_000;
    const m = openModel(hostileOnnx.fan(N), 'fan.onnx');
    expect(m.graph.valueInfo.get('y')?.shape).toEqual([1, 2 * N, 4, 4]);
    const dg = toDisplayGraph(m);
    expect(dg.edges.filter((e) => e.tensor === 'x')).toHaveLength(N);
    expect(summarize(m).ops).toEqual({ Relu: N, Concat: 1 });
    const r = partition(layersOf({ kind: 'onnx', model: m }), targetByArch('B4096'));
    expect(r.subgraphs.filter((s) => s.device === 'DPU')).toHaveLength(1);
    expect(compiledXModel(r).ops.length).toBeGreaterThan(N);
  });
});

describe('names', () => {
  it('gives 50,000 nodes sharing one name distinct names in file order', () => {
    const m = readOnnx(hostileOnnx.chain(50_000, 'n'));
    const names = m.graph.nodes.map((n) => n.name);
    expect(names[0]).toBe('n');
    expect(names[1]).toBe('n_2');
    expect(names[49_999]).toBe('n_50000');
    expect(new Set(names).size).toBe(50_000);
  });
});

describe('nesting', () => {
  it('opens If bodies nested 2,000 levels deep: read, inferred, drawn, summarised, compiled; written without recursion', () => {
    const m = openModel(hostileOnnx.nestedIf(2000), 'deep-if.onnx');
    const innermost = (model: typeof m) => {
      let g: Graph = model.graph;
      let depth = 0;
      for (;;) {
        const then = g.nodes[0]?.attrs.then_branch;
        if (!then || then.kind !== 'graph') return { g, depth };
        g = then.value;
        depth++;
      }
    };
    const { g, depth } = innermost(m);
    expect(depth).toBe(2001);
    // The innermost body reads x from the top graph, 2,001 scopes out.
    expect(g.valueInfo.get('t')?.shape).toEqual([1, 4]);
    expect(m.graph.valueInfo.get('y')?.shape).toEqual([1, 4]);
    const dg = toDisplayGraph(m);
    expect(dg.edges.some((e) => e.tensor === 'x')).toBe(true);
    expect(summarize(m).nodes).toBe(1);
    partition(layersOf({ kind: 'onnx', model: m }), targetByArch('B4096'));
    // The writer nests encoded bodies (quadratic bytes copied in depth): checked on a shallower model.
    expect(innermost(readOnnx(writeOnnx(readOnnx(hostileOnnx.nestedIf(300))))).depth).toBe(301);
  });

  it(`refuses bodies nested deeper than ${MAX_BODY_NESTING} levels by name`, () => {
    const msg = refusal(() => openModel(hostileOnnx.nestedIf(MAX_BODY_NESTING + 1), 'deeper-if.onnx'));
    expect(msg).toMatch(/node "if_\d+" \(If\): control-flow bodies nest deeper than 10000 levels/);
  });

  it('skips 100,000 nested protobuf groups without recursion', () => {
    expect(readOnnx(hostileOnnx.nestedGroups(100_000)).graph.nodes).toHaveLength(1);
  });

  it('refuses types nested 5,000 sequences deep', () => {
    expect(refusal(() => readOnnx(hostileOnnx.nestedSequenceType(5000)))).toMatch(/nests sequences\/maps deeper than 32 levels/);
  });

  it('reads an .xmodel subgraph tree 2,000 levels deep and lists its ops without recursion', () => {
    const leaf: XSubgraph = { name: 'leaf', ops: ['a'], attrs: {}, children: [] };
    let root: XSubgraph = leaf;
    for (let d = 0; d < 2000; d++) root = { name: `s${d}`, ops: [], attrs: {}, children: [root] };
    expect(subgraphOps(root)).toEqual(['a']);
    // Written bottom-up with the wire encoder: each SubGraph (field 10 of Graph) holds the next as subg_child (10).
    const file = (levels: number) => {
      let sub = new ProtoWriter().string(1, 'leaf').string(3, 'a');
      for (let d = 0; d < levels; d++) sub = new ProtoWriter().string(1, `s${d}`).message(10, sub);
      const tensor = new ProtoWriter().string(1, 'a').varint(2, 4).varint(5, 4).varint(6, 32);
      const op = new ProtoWriter().string(1, 'a').string(2, 'data').message(5, tensor);
      return new ProtoWriter().string(1, 'g').message(5, op).message(10, sub).finish();
    };
    let depth = 0;
    const m = readXModel(file(50));
    for (let s = m.root; s.children.length; s = s.children[0]) depth++;
    expect(depth).toBe(50);
    expect(subgraphOps(m.root)).toEqual(['a']);
    // protobufjs itself stops at its nesting limit: a clean refusal, not a stack overflow.
    expect(refusal(() => readXModel(file(2000)))).toMatch(/not a readable \.xmodel.*nesting depth/);
  });
});
