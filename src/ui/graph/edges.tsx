// A bezier edge with its tensor shape as plain SVG text: the stock label measures itself with getBBox
// and a state update per edge, which adds up on big graphs.
import { memo } from 'react';
import { BaseEdge, getBezierPath, type Edge, type EdgeProps } from '@xyflow/react';
import { useEdgeFix } from '../quant/badges';
import { useSimEdgeColor } from '../sim/SimPaint';

/** `atSource`: the labels sit just under the producer (its first output tensor; see GraphView's toFlow). */
export type ShapeEdgeData = { label: string; tensor?: string; atSource?: boolean };
export type ShapeFlowEdge = Edge<ShapeEdgeData, 'shape'>;

export const ShapeEdge = memo(function ShapeEdge(p: EdgeProps<ShapeFlowEdge>) {
  const [path, mx, my] = getBezierPath(p);
  const label = p.data?.label;
  const fix = useEdgeFix(p.data?.tensor);
  // Painted by the last simulation run: the tensor's error colour, drawn thicker so it reads at a glance.
  const sim = useSimEdgeColor(p.data?.tensor);
  // Under the producer the labels lie in the gap between its layer and the next, where no node is; at
  // the middle of a long edge they could fall behind a node of a layer the edge passes (a small Sigmoid).
  const under = p.data?.atSource;
  const lx = under ? p.sourceX : mx;
  const ly = under ? p.sourceY + 9 + (fix && label ? 5.5 : 0) : my;
  return (
    <>
      <BaseEdge id={p.id} path={path} markerEnd={p.markerEnd} interactionWidth={14} className={fix?.float ? 'edge-float' : undefined}
        style={sim ? { stroke: sim, strokeWidth: 2.5 } : undefined} data-sim-color={sim} />
      {/* With both labels, they sit either side of the edge's middle, so together they stay inside the gap between layers. */}
      {label && <text className="edge-label" data-testid="edge-label" x={lx + 4} y={ly - (fix ? 5.5 : 0)} dominantBaseline="middle">{label}</text>}
      {fix && <text className={`edge-fp${fix.float ? ' float' : ''}`} data-testid="edge-fp" x={lx + 4} y={ly + (label ? 5.5 : 0)} dominantBaseline="middle">{fix.text}</text>}
    </>
  );
});

export const edgeTypes = { shape: ShapeEdge };
