// Properties of the selected node: op, attributes, inputs/outputs, and each weight with statistics.
import { useEffect } from 'react';
import { formatShape } from '../../core/ir';
import { formatNumber } from '../../core/view/attrs';
import type { DisplayNode, DisplayWeight } from '../../core/view/types';
import { loadStats } from '../session';
import { select, useStore } from '../store';
import { Histogram } from './Histogram';
import { NodeQuant } from '../quant/NodeQuant';

function Weight({ w }: { w: DisplayWeight }) {
  const entry = useStore((s) => s.stats[w.tensor]);
  useEffect(() => { if (w.stored || w.preview === undefined) void loadStats(w.tensor); }, [w]);
  const s = entry?.state === 'done' ? entry.stats : null;
  return (
    <div className="weight" data-testid="weight">
      <div className="weight-head">
        <span data-testid="weight-shape" className="weight-name">{w.label} ⟨{w.shape ? formatShape(w.shape) : '?'}⟩</span> <span className="muted">{w.dtype}</span>
      </div>
      <div className="muted mono small" title={w.tensor}>{w.tensor}</div>
      {w.preview !== undefined && <div className="mono small">= {w.preview}</div>}
      {entry?.state === 'loading' && <div className="muted small">computing statistics…</div>}
      {entry?.state === 'error' && <div className="muted small">statistics unavailable: {entry.message}</div>}
      {entry?.state === 'done' && !s && <div className="muted small">values computed at run time (no stored data)</div>}
      {s && (
        <>
          <table className="stats" data-testid="weight-stats">
            <tbody>
              <tr><td>min</td><td>{formatNumber(s.min)}</td><td>max</td><td>{formatNumber(s.max)}</td></tr>
              <tr><td>mean</td><td>{formatNumber(s.mean)}</td><td>std</td><td>{formatNumber(s.std)}</td></tr>
            </tbody>
          </table>
          {s.count > 1 && <Histogram counts={s.counts} min={s.min} max={s.max} />}
        </>
      )}
    </div>
  );
}

function Ports({ title, ports }: { title: string; ports: DisplayNode['inputs'] }) {
  if (ports.length === 0) return null;
  return (
    <section>
      <h4>{title}</h4>
      {ports.map((p) => (
        <div className="port" key={p.tensor}>
          <span className="mono" title={p.tensor}>{p.tensor}</span>
          <span className="muted"> {p.dtype ?? '?'} ⟨{formatShape(p.shape)}⟩</span>
        </div>
      ))}
    </section>
  );
}

export function SidePanel() {
  const node = useStore((s) => (s.selectedId ? s.model?.graph.nodes.find((n) => n.id === s.selectedId) : undefined));
  if (!node) return null;
  return (
    <aside className="side-panel" data-testid="side-panel">
      <div className="side-head">
        <h3 data-testid="panel-op">{node.kind === 'op' ? node.label : node.kind === 'input' ? 'Input' : 'Output'}</h3>
        <button className="icon" aria-label="Close" onClick={() => select(null)}>×</button>
      </div>
      <section>
        <table className="props">
          <tbody>
            <tr><td>name</td><td className="mono" data-testid="panel-name">{node.name}</td></tr>
            {node.kind === 'op' && <tr><td>domain</td><td>{node.domain || 'ai.onnx'}{node.unknown && <span className="warn"> — custom op, unknown to the tool</span>}</td></tr>}
            {node.folded.length > 0 && <tr><td>folded</td><td className="small">{node.folded.join(', ')}</td></tr>}
          </tbody>
        </table>
      </section>
      {node.attrs.length > 0 && (
        <section>
          <h4>Attributes</h4>
          <table className="props" data-testid="panel-attrs">
            <tbody>{node.attrs.map((a) => <tr key={a.name}><td>{a.name}</td><td className="mono">{a.text}</td></tr>)}</tbody>
          </table>
        </section>
      )}
      <Ports title="Inputs" ports={node.inputs} />
      {node.weights.length > 0 && (
        <section>
          <h4>Weights</h4>
          {node.weights.map((w) => <Weight key={w.tensor + w.label} w={w} />)}
        </section>
      )}
      <Ports title="Outputs" ports={node.outputs} />
      <NodeQuant node={node} />
      {node.subgraphs.map((s) => (
        <section key={s.attr}>
          <h4>{s.attr} ({s.ops.length} ops)</h4>
          <div className="small mono">{s.ops.map((o) => o.opType).join(' → ')}</div>
        </section>
      ))}
    </aside>
  );
}
