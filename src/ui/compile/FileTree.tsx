// A compiled .xmodel as the file stores it: device subgraphs, their children, fix points and workloads.
import { useEffect, useRef } from 'react';
import type { XSubgraphView } from '../../../workers/protocol';
import { useStore } from '../store';
import { nodeSubgraph, subgraphColors } from './colors';
import { human, shape } from './format';

function Node({ s, color, depth, selected = false }: { s: XSubgraphView; color?: string; depth: number; selected?: boolean }) {
  const ref = useRef<HTMLDetailsElement>(null);
  // The subgraph of the clicked graph node opens and scrolls into view.
  useEffect(() => {
    if (selected && ref.current) { ref.current.open = true; ref.current.scrollIntoView({ block: 'nearest' }); }
  }, [selected]);
  return (
    <details ref={ref} className={`cp-tree-node${selected ? ' cp-selected' : ''}`} data-testid="xsubgraph" data-device={s.device ?? ''} data-selected={selected ? '' : undefined}>
      <summary>
        {color && <span className="swatch" style={{ background: color }} />}
        {s.device && <span className={`cp-badge cp-${s.device.toLowerCase()}`}>{s.device}</span>}
        <span className="mono small cp-name" title={s.name}>{s.name}</span>
        <span className="muted small"> · {s.opCount} op{s.opCount === 1 ? '' : 's'}</span>
        {s.workload !== undefined && s.workload > 0 && <span className="muted small"> · {human(s.workload)}op</span>}
      </summary>
      <div className="cp-tree-body">
        {(s.fingerprint || s.workloadOnArch) && (
          <div className="small">
            {s.dpuName && <>DPU {s.dpuName} · </>}
            {s.fingerprint && <>fingerprint <span className="mono">{s.fingerprint}</span> · </>}
            {s.workloadOnArch !== undefined && <>workload_on_arch {human(s.workloadOnArch)}op</>}
          </div>
        )}
        {s.ops.map((o) => (
          <div key={o.name} className="mono small cp-tree-op" title={o.name}>
            {o.type} <span className="muted">{o.name}</span> ⟨{shape(o.shape)}⟩{o.fixPoint !== undefined && <> fix_point {o.fixPoint}</>}
          </div>
        ))}
        {s.children.map((c, i) => <Node key={`${c.name}:${i}`} s={c} depth={depth + 1} />)}
      </div>
    </details>
  );
}

export function FileTree() {
  const f = useStore((s) => s.compiledFile);
  const node = useStore((s) => (s.selectedId ? s.model?.graph.nodes.find((n) => n.id === s.selectedId) : undefined));
  if (!f) return null;
  const colors = subgraphColors(f.devices);
  const selected = node ? nodeSubgraph(node, f.opSubgraph) : undefined;
  return (
    <section data-testid="xmodel-tree">
      <h4>Subgraphs in the file</h4>
      {f.tree.children.map((c, i) => <Node key={`${c.name}:${i}`} s={c} color={colors[i]} depth={1} selected={i === selected} />)}
    </section>
  );
}
