// The overview map in the corner. React Flow's MiniMap draws one React component per node and recomputes
// the bounds of every node on each store change (every frame of a pan); on DenseNet-121 that was a few
// hundred milliseconds at open and work on every frame after. This draws the layout once, as one SVG path
// per colour, and only the viewport rectangle follows the store.
import { memo, useMemo, useRef } from 'react';
import { Panel, useReactFlow, useStore as useFlowStore } from '@xyflow/react';
import type { DisplayGraph, Layout } from '../../core/view/types';
import type { DisplayNode } from '../../core/view/types';
import { CATEGORY_STYLE } from './categories';
import { useStore } from '../store';
import { sqnrNodeColor } from '../quant/badges';
import { simOverviewColor } from '../sim/SimPaint';

const WIDTH = 200;
const HEIGHT = 150;
const IO_COLOR = '#9aa0a6';

export function categoryColor(n: DisplayNode): string {
  return n.category === 'io' ? IO_COLOR : CATEGORY_STYLE[n.category].color;
}

/**
 * One path per colour: "M x y h w v h h -w z" for each node box. `colorOf` is the graph's painting
 * (category, SQNR or subgraph), so the overview shows what the canvas shows.
 */
export function overviewPaths(graph: DisplayGraph, layout: Layout, colorOf: (n: DisplayNode) => string = categoryColor): { color: string; d: string }[] {
  const byColor = new Map<string, string[]>();
  for (const n of graph.nodes) {
    const b = layout.boxes[n.id];
    if (!b) continue;
    const color = colorOf(n);
    let parts = byColor.get(color);
    if (!parts) byColor.set(color, (parts = []));
    parts.push(`M${Math.round(b.x)} ${Math.round(b.y)}h${Math.round(b.width)}v${Math.round(b.height)}h${-Math.round(b.width)}z`);
  }
  return [...byColor].map(([color, parts]) => ({ color, d: parts.join('') }));
}

/** The visible part of the graph, in graph coordinates, as a string so the selector compares cheaply. */
const viewSelector = (s: { transform: [number, number, number]; width: number; height: number }) => {
  const [tx, ty, zoom] = s.transform;
  return `${-tx / zoom} ${-ty / zoom} ${s.width / zoom} ${s.height / zoom}`;
};

export const Overview = memo(function Overview({ graph, layout }: { graph: DisplayGraph; layout: Layout }) {
  const flow = useReactFlow();
  const svg = useRef<SVGSVGElement>(null);
  const dragging = useRef(false);
  // The same precedence as the nodes: subgraph colour, then SQNR colour, then category.
  const mode = useStore((s) => s.colorMode);
  const deviceColors = useStore((s) => s.deviceColors);
  const quant = useStore((s) => s.quant);
  const simReport = useStore((s) => s.simReport);
  const simPaint = useStore((s) => s.simPaint);
  const model = useStore((s) => s.model);
  const paths = useMemo(() => {
    const colorOf = (n: DisplayNode) => (mode === 'device' ? deviceColors[n.id] : undefined)
      ?? (mode === 'sqnr' && quant && n.kind === 'op' ? sqnrNodeColor(quant, n) : undefined)
      ?? (n.kind === 'op' ? simOverviewColor({ colorMode: mode, simReport, model, simPaint }, n) : undefined)
      ?? categoryColor(n);
    return overviewPaths(graph, layout, colorOf);
  }, [graph, layout, mode, deviceColors, quant, simReport, simPaint, model]);
  const [vx, vy, vw, vh] = useFlowStore(viewSelector).split(' ').map(Number);
  const pad = Math.max(layout.width, layout.height) * 0.05 + 10;
  const viewBox = `${-pad} ${-pad} ${layout.width + 2 * pad} ${layout.height + 2 * pad}`;
  // Keeps the stroke of the viewport frame about 1.5 screen pixels whatever the graph's size.
  const unit = Math.max((layout.width + 2 * pad) / WIDTH, (layout.height + 2 * pad) / HEIGHT);

  const centreOn = (e: React.PointerEvent) => {
    const m = svg.current?.getScreenCTM();
    if (!m) return;
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    void flow.setCenter(p.x, p.y, { zoom: flow.getZoom() });
  };

  return (
    <Panel position="bottom-right" className="overview" data-testid="overview">
      <svg
        ref={svg}
        width={WIDTH}
        height={HEIGHT}
        viewBox={viewBox}
        role="img"
        aria-label="Overview of the graph: click or drag to move the view"
        onPointerDown={(e) => { if (e.button !== 0) return; dragging.current = true; e.currentTarget.setPointerCapture(e.pointerId); centreOn(e); }}
        onPointerMove={(e) => { if (dragging.current) centreOn(e); }}
        onPointerUp={() => { dragging.current = false; }}
        onPointerCancel={() => { dragging.current = false; }}
        onLostPointerCapture={() => { dragging.current = false; }}
      >
        {paths.map((p) => <path key={p.color} d={p.d} fill={p.color} />)}
        <rect className="overview-view" x={vx} y={vy} width={vw} height={vh} strokeWidth={1.5 * unit} />
      </svg>
    </Panel>
  );
});
