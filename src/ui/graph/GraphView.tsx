// The graph canvas. Nodes and edges are built once per model and handed to React Flow uncontrolled,
// so panning and zooming touch no React state of ours.
import { startTransition, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import {
  Background, Controls, Position, ReactFlow, ReactFlowProvider, useReactFlow, type Node, type NodeHandle, type Viewport,
} from '@xyflow/react';
import { select, useStore, type OpenModel } from '../store';
import { Overview } from './Overview';
import { edgeTypes, type ShapeFlowEdge } from './edges';
import { nodeTypes, type OpNodeData } from './nodes';
import { showTensor } from '../quant/badges';
import { inspectFromGraph } from '../sim/SimPaint';
import type { DisplayNode, Layout, NodeBox } from '../../core/view/types';

/** The zoom a fit stops at: a tiny graph fitted to the screen would otherwise show huge boxes. */
// The bottom margin keeps the fitted graph above the legend (bottom left, up to ~100 px tall with the
// subgraph summary), so fitting uses the free part of the canvas.
const FIT_OPTIONS = { maxZoom: 1.5, padding: { top: '24px', left: '5%', right: '5%', bottom: '112px' } } as const;

/** Below this many nodes the whole graph fits on screen readably; above, open at 100% at the top. */
const FIT_LIMIT = 60;

/**
 * A React Flow node that needs no measuring: its size, and where its two handles sit (top and bottom
 * centre, as the node components draw them), come from the layout. Without `handles` and `measured`,
 * React Flow mounts every node once to measure it, even with onlyRenderVisibleElements — on DenseNet
 * that was 1746 nodes mounted, measured and unmounted in one long main-thread task.
 */
export function flowNode(n: DisplayNode, b: NodeBox | undefined): Node<OpNodeData> {
  const width = b?.width ?? 0;
  const height = b?.height ?? 0;
  const handles: NodeHandle[] = [];
  if (n.kind !== 'input') handles.push({ type: 'target', position: Position.Top, x: width / 2 - 0.5, y: -0.5, width: 1, height: 1 });
  if (n.kind !== 'output') handles.push({ type: 'source', position: Position.Bottom, x: width / 2 - 0.5, y: height - 0.5, width: 1, height: 1 });
  return {
    id: n.id,
    type: n.kind === 'op' ? 'op' : 'io',
    position: { x: b?.x ?? 0, y: b?.y ?? 0 },
    width,
    height,
    measured: { width, height },
    handles,
    style: { width, height },
    data: { node: n },
    draggable: false,
    connectable: false,
  };
}

/**
 * The fit options for a fit asked for once the page is up: the bottom margin clears the legend that is
 * there now (the subgraph legend is taller than the category one, and wraps where the canvas is narrow).
 */
function fitOptions(canvas: HTMLElement | null) {
  const legend = canvas?.parentElement?.querySelector<HTMLElement>(':scope > .legend:not(.sqnr-legend)');
  const bottom = Math.max(112, legend ? legend.offsetHeight + 24 : 0);
  return { ...FIT_OPTIONS, padding: { ...FIT_OPTIONS.padding, bottom: `${bottom}px` as const } };
}

/** Whether every box of `layout` lies inside the canvas at this viewport. */
function wholeInView(layout: Layout, v: Viewport, canvas: HTMLElement | null): boolean {
  if (!canvas || !canvas.clientWidth) return false;
  const x0 = v.x, y0 = v.y, x1 = v.x + layout.width * v.zoom, y1 = v.y + layout.height * v.zoom;
  return x0 >= -2 && y0 >= -2 && x1 <= canvas.clientWidth + 2 && y1 <= canvas.clientHeight + 2;
}

/** The node whose centre is nearest the middle of the canvas at this viewport. */
function nodeAtCentre(layout: Layout, v: Viewport, canvas: HTMLElement | null): string | undefined {
  if (!canvas || !canvas.clientWidth) return undefined;
  const cx = (canvas.clientWidth / 2 - v.x) / v.zoom, cy = (canvas.clientHeight / 2 - v.y) / v.zoom;
  let best: string | undefined;
  let bestD = Infinity;
  for (const [id, b] of Object.entries(layout.boxes)) {
    const d = (b.x + b.width / 2 - cx) ** 2 + (b.y + b.height / 2 - cy) ** 2;
    if (d < bestD) { bestD = d; best = id; }
  }
  return best;
}

function toFlow(model: OpenModel): { nodes: Node<OpNodeData>[]; edges: ShapeFlowEdge[] } {
  const { graph, layout } = model;
  const nodes = graph.nodes.map((n) => flowNode(n, layout.boxes[n.id]));
  // A producer's first output tensor is labelled under the producer: every edge of that tensor draws the
  // same text at the same place. Further outputs (a Split's) keep their labels at their edges' middles.
  const firstTensor = new Map<string, string>();
  for (const e of graph.edges) if (!firstTensor.has(e.source)) firstTensor.set(e.source, e.tensor);
  const edges = graph.edges.map((e): ShapeFlowEdge => ({
    id: e.id, source: e.source, target: e.target, type: 'shape', data: { label: e.label, tensor: e.tensor, atSource: firstTensor.get(e.source) === e.tensor },
    // One shared marker by id: marker objects make React Flow hash every edge's marker on each render.
    markerEnd: ARROW_ID,
    focusable: false,
  }));
  return { nodes, edges };
}

const ARROW_ID = 'fp-arrow';

/** React Flow's closed arrow, defined once for every edge. */
function ArrowDef() {
  return (
    <svg className="arrow-defs" aria-hidden="true">
      <defs>
        <marker id={ARROW_ID} viewBox="-10 -10 20 20" markerWidth="14" markerHeight="14" markerUnits="strokeWidth" orient="auto-start-reverse" refX="0" refY="0">
          <polyline stroke="#777" strokeLinecap="round" strokeLinejoin="round" strokeWidth="1" fill="#777" points="-5,-4 0,0 -5,4 -5,-4" />
        </marker>
      </defs>
    </svg>
  );
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

function Canvas({ model, canvasId }: { model: OpenModel | null; canvasId: number }) {
  const flow = useReactFlow();
  const root = useRef<HTMLDivElement>(null);
  // Mounted before its model arrived (the file still being read): React Flow is already up, empty, and a
  // big graph's nodes are put into it instead of mounting it then (its mount was 25–100 ms of the open).
  const early = useRef(!model).current;
  const big = model ? model.graph.nodes.length > FIT_LIMIT : true;
  const laidOut = useRef(model?.layout);
  useEffect(() => {
    if (!model) return;
    if (!laidOut.current) { laidOut.current = model.layout; return; }
    if (laidOut.current === model.layout) return;
    // A graph shown whole stays whole: the new layout (fp= labels after Quantize) is taller, and its
    // bottom would otherwise slide under the legend.
    const view = flow.getViewport();
    const was = laidOut.current;
    const whole = !big && wholeInView(was, view, root.current);
    // Otherwise the node in the middle of the view keeps its place on screen: the wider quantized layout
    // would push it aside, and with it the rest of the view (half a column under the step panel's edge).
    const anchor = whole ? undefined : nodeAtCentre(was, view, root.current);
    const before = anchor ? was.boxes[anchor] : undefined;
    laidOut.current = model.layout;
    const boxes = model.layout.boxes;
    if (whole) requestAnimationFrame(() => void flow.fitView({ ...fitOptions(root.current), duration: 200 }));
    const after = anchor ? boxes[anchor] : undefined;
    if (before && after) {
      const dx = (after.x + after.width / 2 - before.x - before.width / 2) * view.zoom;
      const dy = (after.y + after.height / 2 - before.y - before.height / 2) * view.zoom;
      if (dx || dy) void flow.setViewport({ x: view.x - dx, y: view.y - dy, zoom: view.zoom });
    }
    flow.setNodes((ns) => ns.map((n) => {
      const b = boxes[n.id];
      if (!b || (n.position.x === b.x && n.position.y === b.y && n.width === b.width && n.height === b.height)) return n;
      const moved = flowNode((n.data as OpNodeData).node, b);
      return { ...n, position: moved.position, width: moved.width, height: moved.height, measured: moved.measured, handles: moved.handles, style: { ...n.style, ...moved.style } };
    }));
  }, [model?.layout, flow]);
  // A big graph's canvas mounts in a transition after the rest of the page has taken the model: the
  // header, step panel and legend commit first, and React renders React Flow's tree in slices that yield
  // to the browser, so no single main-thread task holds both (one such task was 120–190 ms on YOLOX-nano
  // on a busy machine). A small graph mounts at once: the extra frames cost more than its render.
  // So does the early (empty) canvas: it mounts while the worker reads the file, in slices between which
  // the page keeps drawing (in one task it was 15–50 ms).
  const [shown, setShown] = useState(false);
  const mounted = shown || (!!model && !big);
  useEffect(() => { if (!mounted) startTransition(() => setShown(true)); }, [mounted]);
  // Built once per open, when the canvas mounts: React Flow owns the nodes after mounting (uncontrolled),
  // and a new layout of the same model (a body shown or hidden) moves them in the effect above.
  // Drawing an .xmodel's fix ops (or folding them again) is a new graph of the same open model.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const flowData = useMemo(() => (mounted && model ? toFlow(model) : undefined), [model?.openId, model?.showFix, mounted]);
  const focusSeq = useStore((s) => s.focusSeq);
  const fitSeq = useStore((s) => s.fitSeq);
  usePaintMark(root, `${canvasId}${model?.showFix ? ':fix' : ''}`);

  useEffect(() => {
    if (focusSeq === 0) return;
    // The boxes are read, not depended on: a body toggle relays out (a new layout) and must not re-centre
    // on an old selection.
    const { selectedId: id, model: now } = useStore.getState();
    const b = id ? now?.layout.boxes[id] : undefined;
    if (!id || !b) return;
    flow.setNodes((ns) => ns.map((n) => (n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })));
    void flow.setCenter(b.x + b.width / 2, b.y + b.height / 2, { zoom: Math.max(flow.getZoom(), 1), duration: 300 });
  }, [focusSeq, flow, model?.openId]);

  useEffect(() => {
    if (fitSeq > 0) void flow.fitView({ ...fitOptions(root.current), duration: 300 });
  }, [fitSeq, flow]);

  // Another legend (the subgraph legend after Compile) can be taller than the one the graph was fitted
  // above: a graph shown whole is fitted again, once the new legend is on the page.
  // The key changes when the legend does: another colouring, or the subgraph legend's summary arriving.
  const legendKey = useStore((s) => (s.colorMode === 'device' ? `device:${s.compileRun.state}:${!!s.compiledFile}` : s.colorMode));
  const shownLegend = useRef(legendKey);
  useEffect(() => {
    if (shownLegend.current === legendKey) return;
    shownLegend.current = legendKey;
    if (big || !laidOut.current || !wholeInView(laidOut.current, flow.getViewport(), root.current)) return;
    const frame = requestAnimationFrame(() => void flow.fitView({ ...fitOptions(root.current), duration: 200 }));
    return () => cancelAnimationFrame(frame);
  }, [legendKey, big, flow]);

  // The canvas's size as the ResizeObserver last saw it. Its first report (after the browser's own layout)
  // is the starting size: reading clientWidth here instead forced a layout of the whole new page in the
  // task that shows the model (10 ms on EfficientNet, done again at the next frame anyway).
  const size = useRef<{ w: number; h: number } | undefined>(undefined);
  // A panel opening or closing beside the graph resizes the canvas; React Flow keeps the top-left corner
  // fixed, which pushes what was in the middle aside. Centre the selected node (the panel that opened is
  // usually about it), else keep the centre where it was.
  useEffect(() => {
    const el = root.current;
    if (!el) return;
    const ro = new ResizeObserver((entries) => {
      const box = entries[entries.length - 1]!.contentRect;
      const nw = box.width, nh = box.height;
      const was = size.current;
      size.current = { w: nw, h: nh };
      if (!was || (nw === was.w && nh === was.h) || was.w === 0 || nw === 0) return;
      const { x, y, zoom } = flow.getViewport();
      const { selectedId: id, model: now } = useStore.getState();
      const b = id ? now?.layout.boxes[id] : undefined;
      // From the size observed here, not React Flow's: its own observer may report after this one (the
      // early canvas registers ours first), and setCenter would centre in the old width.
      if (b) void flow.setViewport({ x: nw / 2 - (b.x + b.width / 2) * zoom, y: nh / 2 - (b.y + b.height / 2) * zoom, zoom });
      else void flow.setViewport({ x: x + (nw - was.w) / 2, y: y + (nh - was.h) / 2, zoom });
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [flow]);

  // Like Netron: a big graph opens at 100% zoom at its top, centred on the first input. Given as the
  // starting viewport (not set once React Flow is up) so the nodes in view mount once, not twice.
  const startViewport = useMemo(() => {
    if (!big || !mounted || !model) return undefined;
    // Measured only when the observer has not reported yet (no frame between the page and this render).
    const w = size.current?.w ?? root.current?.clientWidth ?? 1200;
    const first = model.graph.nodes.find((n) => n.kind === 'input') ?? model.graph.nodes[0];
    const b = first ? model.layout.boxes[first.id] : undefined;
    return { x: w / 2 - (b ? b.x + b.width / 2 : 0), y: 24 - (b?.y ?? 0), zoom: 1 };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [model?.openId, mounted]);

  // The early React Flow takes a big graph's nodes at its starting viewport before the browser paints the
  // page that shows the model: a task of its own cost a frame (the page drawn once without the nodes).
  const filled = useRef(false);
  // Read at each render but only used when React Flow mounts: once filled, a remount (fix ops drawn and
  // folded again) takes its nodes as any other mount does.
  const fill = early && big && !model?.showFix && !filled.current;
  useLayoutEffect(() => {
    if (!fill || filled.current || !flowData || !startViewport) return;
    filled.current = true;
    void flow.setViewport(startViewport);
    flow.setNodes(flowData.nodes);
    flow.setEdges(flowData.edges);
  }, [fill, flowData, startViewport, flow]);

  return (
    <div className="graph-canvas" ref={root} data-testid="graph">
      <ArrowDef />
      {mounted && (flowData || !model) && <ReactFlow
        // A small graph remounts React Flow to be fitted on its first drawing; the early (empty) one keeps
        // its key when a big graph arrives, and takes its nodes in the effect above.
        key={`${canvasId}${model && !big ? ':fit' : ''}${model?.showFix ? ':fix' : ''}`}
        defaultNodes={fill ? EMPTY_NODES : flowData?.nodes ?? EMPTY_NODES}
        defaultEdges={fill ? EMPTY_EDGES : flowData?.edges ?? EMPTY_EDGES}
        defaultViewport={fill ? undefined : startViewport}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        fitView={!!model && !big}
        fitViewOptions={FIT_OPTIONS}
        minZoom={0.02}
        maxZoom={4}
        onlyRenderVisibleElements={big}
        nodesDraggable={false}
        nodesConnectable={false}
        edgesFocusable={false}
        elementsSelectable
        selectNodesOnDrag={false}
        onNodeClick={(_, n) => { select(n.id); inspectFromGraph(n.id); }}
        onPaneClick={() => select(null)}
        onEdgeClick={(_, e) => {
          const tensor = (e.data as { tensor?: string } | undefined)?.tensor;
          showTensor(e.source, tensor);
          inspectFromGraph(e.source, tensor);
        }}
        deleteKeyCode={null}
        selectionKeyCode={null}
        multiSelectionKeyCode={null}
      >
        <Background gap={24} color="#e6e6e6" />
        <Controls showInteractive={false} />
        {model && <Overview graph={model.graph} layout={model.layout} />}
      </ReactFlow>}
    </div>
  );
}

const EMPTY_NODES: Node<OpNodeData>[] = [];
const EMPTY_EDGES: ShapeFlowEdge[] = [];

/**
 * The graph of `model`, or with `model` null the empty canvas that its model will be drawn in (mounted when a
 * file is picked, while the model worker reads it). `canvasId` is the open's id: the same before and after
 * the model arrives, so the canvas stays mounted.
 */
export function GraphView({ model, canvasId }: { model: OpenModel | null; canvasId: number }) {
  return (
    <ReactFlowProvider key={canvasId}>
      <Canvas model={model} canvasId={canvasId} />
    </ReactFlowProvider>
  );
}
