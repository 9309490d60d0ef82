// Node components. Memoised and driven only by their own data, so panning re-renders none of them.
import { memo } from 'react';
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { bodyRows, nodeRows } from '../../core/view/layout';
import type { DisplayNode } from '../../core/view/types';
import { useStore } from '../store';
import { toggleBody } from '../session';
import { CATEGORY_STYLE } from './categories';
import { useQuantColor, WeightFix } from '../quant/badges';
import { useSimColor } from '../sim/SimPaint';

export type OpNodeData = { node: DisplayNode; color?: string };
export type OpFlowNode = Node<OpNodeData, 'op'>;
export type IoFlowNode = Node<OpNodeData, 'io'>;

const hidden = { opacity: 0, border: 0, width: 1, height: 1, minWidth: 0, minHeight: 0 } as const;

function Body({ id, node }: { id: string; node: DisplayNode }) {
  return (
    <>
      {nodeRows(node).map((r, i) => (
        <div className="op-row" key={i} title={r}>{i < node.weights.length && <WeightFix tensor={node.weights[i].tensor} />}{r}</div>
      ))}
      {node.subgraphs.length > 0 && <Subgraphs id={id} node={node} />}
    </>
  );
}

/**
 * Only control-flow nodes subscribe to the store. The toggle and the body are rows of the node itself
 * (sized by nodeSize), and toggling re-runs the layout so the next nodes move out of the way.
 */
function Subgraphs({ id, node }: { id: string; node: DisplayNode }) {
  const expanded = useStore((s) => !!s.expanded[id]);
  return (
    <>
      <button
        className="op-row op-expand nodrag"
        data-testid="expand-subgraph"
        aria-expanded={expanded}
        onClick={(e) => { e.stopPropagation(); void toggleBody(id); }}
      >
        {expanded ? '▾ hide body' : '▸ show body'}
      </button>
      {expanded && (
        <div className="op-body" data-testid="subgraph-body">
          {bodyRows(node).map((r, i) => (
            <div className={`op-row op-body-${r.kind}`} data-testid={r.kind === 'op' ? 'subgraph-op' : undefined} key={i} title={r.name}>{r.text}</div>
          ))}
        </div>
      )}
    </>
  );
}

export const OpNode = memo(function OpNode({ id, data, selected }: NodeProps<OpFlowNode>) {
  const n = data.node;
  const quantColor = useQuantColor(n);
  // Device mode (compile): each node reads only its own colour, so a re-partition repaints just the changed ones.
  const deviceColor = useStore((s) => (s.colorMode === 'device' ? s.deviceColors[id] : undefined));
  const simColor = useSimColor(n);
  const color = deviceColor ?? simColor ?? quantColor ?? data.color ?? CATEGORY_STYLE[n.category].color;
  return (
    <div
      className={`op-node${selected ? ' selected' : ''}${n.unknown ? ' unknown' : ''}`}
      data-testid="graph-node"
      data-op={n.label}
      data-name={n.name}
    >
      <Handle type="target" position={Position.Top} style={hidden} isConnectable={false} />
      <div className="op-header" style={{ background: color }} title={n.unknown ? `${n.domain}::${n.label} — custom op, unknown to the tool` : n.label}>
        {n.label}{n.unknown && <span className="op-unknown" data-testid="unknown-op"> ?</span>}
      </div>
      {(n.weights.length > 0 || n.summary.length > 0 || n.subgraphs.length > 0) && (
        <div className="op-rows"><Body id={id} node={n} /></div>
      )}
      <Handle type="source" position={Position.Bottom} style={hidden} isConnectable={false} />
    </div>
  );
});

export const IoNode = memo(function IoNode({ data, selected }: NodeProps<IoFlowNode>) {
  const n = data.node;
  return (
    <div className={`io-node${selected ? ' selected' : ''}`} data-testid="graph-node" data-op={n.kind} data-name={n.name}>
      {n.kind === 'output' && <Handle type="target" position={Position.Top} style={hidden} isConnectable={false} />}
      <div className="io-label">{n.label}</div>
      {n.summary.map((a, i) => <div className="io-type" key={i}>{a.name} {a.text}</div>)}
      {n.kind === 'input' && <Handle type="source" position={Position.Bottom} style={hidden} isConnectable={false} />}
    </div>
  );
});

export const nodeTypes = { op: OpNode, io: IoNode };
