// A bezier edge with its tensor shape as plain SVG text: the stock label measures itself with getBBox
// and a state update per edge, which adds up on big graphs.
import { memo } from 'react';
import { BaseEdge, getBezierPath, type Edge, type EdgeProps } from '@xyflow/react';

export type ShapeEdgeData = { label: string };
export type ShapeFlowEdge = Edge<ShapeEdgeData, 'shape'>;

export const ShapeEdge = memo(function ShapeEdge(p: EdgeProps<ShapeFlowEdge>) {
  const [path, lx, ly] = getBezierPath(p);
  const label = p.data?.label;
  return (
    <>
      <BaseEdge id={p.id} path={path} markerEnd={p.markerEnd} />
      {label && <text className="edge-label" x={lx + 4} y={ly} dominantBaseline="middle">{label}</text>}
    </>
  );
});

export const edgeTypes = { shape: ShapeEdge };
