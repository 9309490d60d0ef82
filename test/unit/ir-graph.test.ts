import { describe, expect, it } from 'vitest';
import { topoSort, type Graph, type Node } from '../../src/core/ir';

function node(name: string, inputs: string[], outputs: string[]): Node {
  return { name, opType: 'Relu', domain: '', inputs, outputs, attrs: {} };
}
function graph(nodes: Node[]): Graph {
  return { name: 'g', nodes, inputs: [], outputs: [], initializers: new Map(), valueInfo: new Map() };
}

describe('topoSort', () => {
  it('orders producers before consumers whatever the file order', () => {
    const g = graph([node('b', ['t1'], ['t2']), node('a', ['x'], ['t1']), node('c', ['t2', 't1'], ['y'])]);
    expect(topoSort(g).map((n) => n.name)).toEqual(['a', 'b', 'c']);
  });
  it('names a node on a cycle', () => {
    const g = graph([node('a', ['t2'], ['t1']), node('b', ['t1'], ['t2'])]);
    expect(() => topoSort(g)).toThrow(/cycle through node "a"/);
  });
  it('rejects a node that consumes its own output', () => {
    expect(() => topoSort(graph([node('a', ['t'], ['t'])]))).toThrow(/consumes its own output/);
  });
});
