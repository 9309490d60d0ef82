import { describe, expect, it } from 'vitest';
import { buildGraph, buildModel, tensor } from '../../src/core/onnx/build';
import { toDisplayGraph, inputId, outputId } from '../../src/core/view/display';
import { searchGraph } from '../../src/core/view/search';
import { formatAttr, formatCount, formatInt } from '../../src/core/view/attrs';
import type { DisplayGraph, DisplayNode } from '../../src/core/view/types';

function op(g: DisplayGraph, name: string): DisplayNode {
  const n = g.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name} in ${g.nodes.map((x) => x.name).join(', ')}`);
  return n;
}

/** x → Conv(W, B) → Relu → MaxPool → Reshape(shape from a Constant) → y */
function convNet() {
  return buildModel({
    inputs: { x: ['float32', [1, 1, 8, 8]] },
    outputs: ['y'],
    initializers: {
      W: tensor('float32', [4, 1, 3, 3], Array.from({ length: 36 }, (_, i) => i / 10)),
      B: tensor('float32', [4], [0, 1, 2, 3]),
    },
    nodes: [
      { op: 'Conv', name: 'conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 1 } },
      { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['r'] },
      { op: 'MaxPool', name: 'pool', inputs: ['r'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Constant', name: 'shape_const', inputs: [], outputs: ['s'], attrs: { value: tensor('int64', [2], [1, -1]) } },
      { op: 'Reshape', name: 'reshape', inputs: ['p', 's'], outputs: ['y'] },
    ],
  });
}

describe('toDisplayGraph', () => {
  it('draws one node per operator plus input and output nodes, folding initializers and Constants', () => {
    const g = toDisplayGraph(convNet());
    expect(g.nodes.map((n) => n.label)).toEqual(['x', 'Conv', 'Relu', 'MaxPool', 'Reshape', 'y']);
    expect(g.nodes.map((n) => n.kind)).toEqual(['input', 'op', 'op', 'op', 'op', 'output']);
    const conv = op(g, 'conv');
    expect(conv.weights.map((w) => [w.label, w.tensor, w.shape, w.stored])).toEqual([
      ['W', 'W', [4, 1, 3, 3], true],
      ['B', 'B', [4], true],
    ]);
    expect(conv.inputs.map((p) => p.tensor)).toEqual(['x']);
    const reshape = op(g, 'reshape');
    expect(reshape.weights).toEqual([{ label: 'shape', tensor: 's', dtype: 'int64', shape: [2], stored: false, preview: '[1, -1]' }]);
    expect(reshape.folded).toEqual(['shape_const']);
  });

  it('labels edges with the inferred tensor shapes and connects inputs and outputs', () => {
    const g = toDisplayGraph(convNet());
    const conv = op(g, 'conv').id;
    const edge = (s: string, t: string) => g.edges.find((e) => e.source === s && e.target === t);
    expect(edge(inputId('x'), conv)?.label).toBe('1×1×8×8');
    expect(edge(conv, op(g, 'relu').id)?.label).toBe('1×4×4×4');
    expect(edge(op(g, 'pool').id, op(g, 'reshape').id)?.label).toBe('1×4×2×2');
    expect(edge(op(g, 'reshape').id, outputId('y'))?.tensor).toBe('y');
    // No edge from a folded constant: the Constant is not a node.
    expect(g.edges).toHaveLength(5);
  });

  it('categorises ops and summarises the attributes worth reading on the node', () => {
    const g = toDisplayGraph(convNet());
    expect(['conv', 'relu', 'pool', 'reshape'].map((n) => op(g, n).category)).toEqual(['conv', 'activation', 'pool', 'shape']);
    // group 1 and unit dilations are defaults and left out; kernel always shows.
    expect(op(g, 'conv').summary).toEqual([
      { name: 'kernel', text: '3×3' },
      { name: 'stride', text: '2' },
      { name: 'pads', text: '1,1,1,1' },
    ]);
    expect(op(g, 'conv').attrs.find((a) => a.name === 'kernel_shape')?.text).toBe('[3, 3]');
  });

  it('is plain data that survives structured cloning unchanged', () => {
    const g = toDisplayGraph(convNet());
    expect(structuredClone(g)).toEqual(g);
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
  });

  it('folds constant subgraphs (ConstantOfShape weights, QDQ of initializers) into their consumer', () => {
    const m = buildModel({
      inputs: { x: ['float32', [1, 2, 4, 4]] },
      outputs: ['y'],
      initializers: {
        wq: tensor('int8', [3, 2, 1, 1], [1, 2, 3, 4, 5, 6]),
        ws: tensor('float32', [], [0.5]),
      },
      nodes: [
        { op: 'Constant', name: 'bshape', inputs: [], outputs: ['bs'], attrs: { value: tensor('int64', [1], [3]) } },
        { op: 'ConstantOfShape', name: 'bias', inputs: ['bs'], outputs: ['b'] },
        { op: 'DequantizeLinear', name: 'wdq', inputs: ['wq', 'ws'], outputs: ['w'] },
        { op: 'Conv', name: 'conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [1, 1] } },
      ],
    });
    const g = toDisplayGraph(m);
    expect(g.nodes.filter((n) => n.kind === 'op').map((n) => n.name)).toEqual(['conv']);
    const conv = op(g, 'conv');
    expect(conv.weights.map((w) => [w.label, w.shape])).toEqual([['W', [3, 2, 1, 1]], ['B', [3]]]);
    expect([...conv.folded].sort()).toEqual(['bias', 'bshape', 'wdq']);
  });

  it('keeps a node whose output is a graph output even when its inputs are constant', () => {
    const m = buildModel({
      inputs: { x: ['float32', [2]] },
      outputs: ['y', 'k'],
      nodes: [
        { op: 'Relu', name: 'relu', inputs: ['x'], outputs: ['y'] },
        { op: 'Constant', name: 'k_const', inputs: [], outputs: ['k'], attrs: { value: tensor('float32', [1], [7]) } },
      ],
    });
    const g = toDisplayGraph(m);
    expect(op(g, 'k_const').kind).toBe('op');
    expect(g.edges.some((e) => e.source === op(g, 'k_const').id && e.target === outputId('k'))).toBe(true);
  });

  it('marks custom-domain ops as unknown and lists the body ops of control flow', () => {
    const body = buildGraph({
      inputs: { i: ['int64', []], cond: ['bool', []], acc: ['float32', [2]] },
      outputs: ['cond_out', 'acc_out'],
      nodes: [
        { op: 'Identity', inputs: ['cond'], outputs: ['cond_out'] },
        { op: 'Relu', inputs: ['acc'], outputs: ['r'] },
        { op: 'Add', inputs: ['r', 'acc'], outputs: ['acc_out'] },
      ],
    });
    const m = buildModel({
      extraOpsets: [{ domain: 'com.example', version: 1 }],
      inputs: { x: ['float32', [2]], n: ['int64', []], c: ['bool', []] },
      outputs: ['z'],
      nodes: [
        { op: 'Loop', name: 'loop', inputs: ['n', 'c', 'x'], outputs: ['l'], attrs: { body } },
        { op: 'Frobnicate', name: 'custom', domain: 'com.example', inputs: ['l'], outputs: ['z'] },
      ],
    });
    const g = toDisplayGraph(m);
    expect(op(g, 'custom').unknown).toBe(true);
    expect(op(g, 'loop').unknown).toBe(false);
    expect(op(g, 'loop').category).toBe('control');
    expect(op(g, 'loop').subgraphs).toEqual([{ attr: 'body', ops: [
      { opType: 'Identity', name: 'Identity_0' }, { opType: 'Relu', name: 'Relu_1' }, { opType: 'Add', name: 'Add_2' },
    ] }]);
  });
});

describe('kernel on the node', () => {
  it('falls back to the weight\'s spatial dims for a Conv or ConvTranspose without kernel_shape', () => {
    const m = buildModel({
      inputs: { x: ['float32', [1, 2, 8, 8]] },
      outputs: ['y', 'p'],
      initializers: {
        W: tensor('float32', [4, 2, 5, 3], new Array(120).fill(0.1)),
        T: tensor('float32', [4, 2, 2, 2], new Array(32).fill(0.1)),
      },
      nodes: [
        { op: 'Conv', name: 'conv', inputs: ['x', 'W'], outputs: ['c'] },
        { op: 'ConvTranspose', name: 'up', inputs: ['c', 'T'], outputs: ['y'], attrs: { strides: [2, 2] } },
        { op: 'MaxPool', name: 'pool', inputs: ['x'], outputs: ['p'], attrs: { kernel_shape: [2, 2] } },
      ],
    });
    const g = toDisplayGraph(m);
    expect(op(g, 'conv').summary).toEqual([{ name: 'kernel', text: '5×3' }]);
    expect(op(g, 'up').summary).toEqual([{ name: 'kernel', text: '2×2' }, { name: 'stride', text: '2' }]);
    // The attribute wins when present, and is not shown twice.
    expect(op(g, 'pool').summary).toEqual([{ name: 'kernel', text: '2×2' }]);
  });
});

describe('control flow', () => {
  it('draws an edge from the producer of a tensor an If branch reads from the outer scope', () => {
    const branch = (name: string, op: string) => buildGraph({
      name, inputs: {}, outputs: [`${name}_y`],
      nodes: [{ op, name: `${name}_op`, inputs: ['outer'], outputs: [`${name}_y`] }],
    });
    const m = buildModel({
      inputs: { x: ['float32', [2]], c: ['bool', []] },
      outputs: ['z'],
      nodes: [
        { op: 'Relu', name: 'make_outer', inputs: ['x'], outputs: ['outer'] },
        { op: 'If', name: 'if', inputs: ['c'], outputs: ['z'], attrs: { then_branch: branch('then', 'Sigmoid'), else_branch: branch('else', 'Tanh') } },
      ],
    });
    const g = toDisplayGraph(m);
    const ifNode = op(g, 'if');
    expect(g.edges.filter((e) => e.target === ifNode.id).map((e) => [e.source, e.tensor]).sort()).toEqual(
      [[inputId('c'), 'c'], [op(g, 'make_outer').id, 'outer']].sort(),
    );
    expect(ifNode.inputs.map((p) => p.tensor)).toEqual(['c', 'outer']);
  });
});

describe('searchGraph', () => {
  it('finds nodes by op type, name and tensor name', () => {
    const g = toDisplayGraph(convNet());
    expect(searchGraph(g, 'conv').map((h) => [h.text, h.field])).toEqual([['conv', 'name']]);
    expect(searchGraph(g, 'relu').map((h) => [h.text, h.field])).toEqual([['relu', 'name']]);
    expect(searchGraph(g, 'maxpool').map((h) => [h.text, h.field])).toEqual([['pool', 'op']]);
    expect(searchGraph(g, 'POOL').map((h) => h.text)).toEqual(['pool']);
    expect(searchGraph(g, 'B').some((h) => h.field === 'tensor' && h.id === op(g, 'conv').id)).toBe(true);
    expect(searchGraph(g, '   ')).toEqual([]);
  });
});

describe('attribute and count text', () => {
  it('names INT64_MAX/MIN (a double cannot spell them) and keeps other int64 values exact', () => {
    expect(formatInt(2 ** 63)).toBe('INT64_MAX');
    expect(formatInt(Number(9223372036854775807n))).toBe('INT64_MAX');
    expect(formatInt(-(2 ** 63))).toBe('INT64_MIN');
    expect(formatInt(2 ** 53 - 1)).toBe('9007199254740991');
    expect(formatAttr({ kind: 'ints', value: [0, 2 ** 63] })).toBe('[0, INT64_MAX]');
    expect(formatAttr({ kind: 'int', value: -(2 ** 63) })).toBe('INT64_MIN');
  });

  it('writes histogram counts short enough for the axis', () => {
    expect(formatCount(10000)).toBe('10k');
    expect(formatCount(1500000)).toBe('1.5M');
    expect(formatCount(12345)).toBe('12.3k');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(0)).toBe('0');
  });
});
