// The graph canvas. Nodes and edges are built once per model and handed to React Flow uncontrolled,
// so panning and zooming touch no React state of ours.
import { useEffect, useMemo, useRef } from 'react';
import {
  Background, Controls, MarkerType, MiniMap, ReactFlow, ReactFlowProvider, useReactFlow, type Node,
} from '@xyflow/react';
import { select, useStore, type OpenModel } from '../store';
import { CATEGORY_STYLE } from './categories';
import { edgeTypes, type ShapeFlowEdge } from './edges';
import { nodeTypes, type OpNodeData } from './nodes';
import { showTensor } from '../quant/badges';

/** The zoom a fit stops at: a tiny graph fitted to the screen would otherwise show huge boxes. */
const FIT_OPTIONS = { maxZoom: 1.5, padding: 0.1 } as const;

/** Below this many nodes the whole graph fits on screen readably; above, open at 100% at the top. */
const FIT_LIMIT = 60;

function toFlow(model: OpenModel): { nodes: Node<OpNodeData>[]; edges: ShapeFlowEdge[] } {
  const { graph, layout } = model;
  const nodes = graph.nodes.map((n): Node<OpNodeData> => {
    const b = layout.boxes[n.id];
    return {
      id: n.id,
      type: n.kind === 'op' ? 'op' : 'io',
      position: { x: b?.x ?? 0, y: b?.y ?? 0 },
      width: b?.width,
      height: b?.height,
      style: { width: b?.width, height: b?.height },
      data: { node: n },
      draggable: false,
      connectable: false,
    };
  });
  const edges = graph.edges.map((e): ShapeFlowEdge => ({
    id: e.id, source: e.source, target: e.target, type: 'shape', data: { label: e.label, tensor: e.tensor },
    markerEnd: { type: MarkerType.ArrowClosed, width: 14, height: 14, color: '#777' },
    focusable: false,
  }));
  return { nodes, edges };
}

function minimapColor(n: Node): string {
  const d = n.data as OpNodeData;
  return d.color ?? (d.node.category === 'io' ? '#9aa0a6' : CATEGORY_STYLE[d.node.category].color);
}

/** Marks `graph-painted` once React Flow has shown the first node, for the bench and tests. */
function usePaintMark(root: React.RefObject<HTMLDivElement | null>, token: string): void {
  useEffect(() => {
    let frame = 0;
    const check = () => {
      const el = root.current?.querySelector('.react-flow__node');
      if (el && getComputedStyle(el).visibility === 'visible') {
        performance.mark('graph-painted');
        try { performance.measure('file-to-painted', 'file-received', 'graph-painted'); } catch { /* opened without a file mark */ }
        root.current?.setAttribute('data-painted', token);
        return;
      }
      frame = requestAnimationFrame(check);
    };
    root.current?.removeAttribute('data-painted');
    frame = requestAnimationFrame(check);
    return () => cancelAnimationFrame(frame);
  }, [root, token]);
}

function Canvas({ model }: { model: OpenModel }) {
  const flow = useReactFlow();
  const root = useRef<HTMLDivElement>(null);
  // Built once per open: React Flow owns the nodes after mounting (uncontrolled), and a new layout of the
  // same model (a body shown or hidden) moves them in the effect below.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const { nodes, edges } = useMemo(() => toFlow(model), [model.openId]);
  const laidOut = useRef(model.layout);
  useEffect(() => {
    if (laidOut.current === model.layout) return;
    laidOut.current = model.layout;
    const boxes = model.layout.boxes;
    flow.setNodes((ns) => ns.map((n) => {
      const b = boxes[n.id];
      if (!b || (n.position.x === b.x && n.position.y === b.y && n.width === b.width && n.height === b.height)) return n;
      return { ...n, position: { x: b.x, y: b.y }, width: b.width, height: b.height, style: { ...n.style, width: b.width, height: b.height } };
    }));
  }, [model.layout, flow]);
  const big = nodes.length > FIT_LIMIT;
  const focusSeq = useStore((s) => s.focusSeq);
  const fitSeq = useStore((s) => s.fitSeq);
  usePaintMark(root, `${model.openId}:${model.hash}`);

  useEffect(() => {
    if (focusSeq === 0) return;
    const id = useStore.getState().selectedId;
    const b = id ? model.layout.boxes[id] : undefined;
    if (!id || !b) return;
    flow.setNodes((ns) => ns.map((n) => (n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })));
    void flow.setCenter(b.x + b.width / 2, b.y + b.height / 2, { zoom: Math.max(flow.getZoom(), 1), duration: 300 });
  }, [focusSeq, flow, model]);

  useEffect(() => {
    if (fitSeq > 0) void flow.fitView({ ...FIT_OPTIONS, duration: 300 });
  }, [fitSeq, flow]);

  const onInit = () => {
    if (!big) return;
    // Like Netron: 100% zoom at the top of the graph, centred on the first input.
    const w = root.current?.clientWidth ?? 1200;
    const first = model.graph.nodes.find((n) => n.kind === 'input') ?? model.graph.nodes[0];
    const b = first ? model.layout.boxes[first.id] : undefined;
    void flow.setViewport({ x: w / 2 - (b ? b.x + b.width / 2 : 0), y: 24 - (b?.y ?? 0), zoom: 1 });
  };

  return (
    <div className="graph-canvas" ref={root} data-testid="graph">
      <ReactFlow
        key={model.openId}
        defaultNodes={nodes}
        defaultEdges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onInit={onInit}
        fitView={!big}
        fitViewOptions={FIT_OPTIONS}
        minZoom={0.02}
        maxZoom={4}
        onlyRenderVisibleElements={big}
        nodesDraggable={false}
        nodesConnectable={false}
        edgesFocusable={false}
        elementsSelectable
        selectNodesOnDrag={false}
        onNodeClick={(_, n) => select(n.id)}
        onPaneClick={() => select(null)}
        onEdgeClick={(_, e) => showTensor(e.source, (e.data as { tensor?: string } | undefined)?.tensor)}
        deleteKeyCode={null}
        selectionKeyCode={null}
        multiSelectionKeyCode={null}
      >
        <Background gap={24} color="#e6e6e6" />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable nodeColor={minimapColor} nodeStrokeWidth={0} />
      </ReactFlow>
    </div>
  );
}

export function GraphView({ model }: { model: OpenModel }) {
  return (
    <ReactFlowProvider key={model.openId}>
      <Canvas model={model} />
    </ReactFlowProvider>
  );
}
