// Draws a three-node graph once, off screen, while the start page shows. A new user's first open paid
// ~150 ms on the main thread before anything was drawn (bench/profile.ts on mnist-8): React Flow's code
// running cold and the first style and layout pass over its CSS and the graph's fonts. Done here, at
// page load, that cost is gone before a file is picked; the user sees nothing of it.
import { useEffect, useState } from 'react';
import { ReactFlow, ReactFlowProvider, type Edge, type Node } from '@xyflow/react';
import { nodeSize } from '../../core/view/layout';
import type { DisplayNode } from '../../core/view/types';
import { edgeTypes } from './edges';
import { nodeTypes, type OpNodeData } from './nodes';
import { flowNode } from './GraphView';

function warmNode(id: string, kind: DisplayNode['kind'], label: string, category: DisplayNode['category'], rows = false): DisplayNode {
  return {
    id, kind, label, name: id, domain: '', category, unknown: false,
    weights: rows ? [{ label: 'W', tensor: `${id}_w`, shape: [8, 1, 5, 5], stored: true }] : [],
    summary: rows ? [{ name: 'kernel', text: '5×5' }] : [], attrs: [], inputs: [], outputs: [], folded: [], subgraphs: [],
  };
}

function warmGraph(): { nodes: Node<OpNodeData>[]; edges: Edge[] } {
  const ds = [warmNode('wi', 'input', 'x', 'io'), warmNode('wc', 'op', 'Conv', 'conv', true), warmNode('wr', 'op', 'Relu', 'activation'), warmNode('wo', 'output', 'y', 'io')];
  let y = 0;
  const nodes = ds.map((n) => {
    const size = nodeSize(n);
    const node = flowNode(n, { x: 0, y, ...size });
    y += size.height + 28;
    return node;
  });
  const edges = ds.slice(1).map((n, i): Edge => ({ id: `we${i}`, source: ds[i].id, target: n.id, type: 'shape', data: { label: '1×8×28×28', tensor: '' }, focusable: false }));
  return { nodes, edges };
}

/** Mounted by the start page; removes itself two frames after drawing. */
export function WarmUp() {
  const [phase, setPhase] = useState<'wait' | 'draw' | 'done'>('wait');
  useEffect(() => {
    if (phase === 'wait') {
      // After the start page itself is on screen, so this never delays it.
      const t = setTimeout(() => setPhase('draw'), 50);
      return () => clearTimeout(t);
    }
    if (phase === 'draw') {
      let f = requestAnimationFrame(() => { f = requestAnimationFrame(() => setPhase('done')); });
      return () => cancelAnimationFrame(f);
    }
  }, [phase]);
  if (phase !== 'draw') return null;
  const { nodes, edges } = warmGraph();
  return (
    <div className="graph-warmup" aria-hidden="true">
      <ReactFlowProvider>
        <ReactFlow defaultNodes={nodes} defaultEdges={edges} nodeTypes={nodeTypes} edgeTypes={edgeTypes} fitView nodesDraggable={false} nodesConnectable={false} />
      </ReactFlowProvider>
    </div>
  );
}
