// What a deployment script needs of the clicked node's subgraph: ops, ports with shapes and fix points,
// the cost model's numbers; for a CPU op, why it is there and which conversion would move it.
import type { CompileView, CpuOpView, SubgraphView } from '../../../workers/protocol';
import type { DisplayNode } from '../../core/view/types';
import { useStore } from '../store';
import { setConversion } from './actions';
import { CONVERSION_LABELS, conversionInFix } from './history';
import { nodeSubgraph } from './colors';
import { human, millis, shape } from './format';

function Ports({ title, ports, quantized }: { title: string; ports: SubgraphView['inputs']; quantized: boolean }) {
  return (
    <div className="cp-ports">
      <div className="cp-sub">{title}</div>
      {ports.length === 0 && <div className="muted small">none</div>}
      {ports.map((p) => (
        <div className="port small" key={p.name} data-testid="subgraph-port">
          <span className="mono" title={p.name}>{p.name}</span>{' '}
          <span className="muted">⟨{shape(p.shape)}⟩</span>{' '}
          <span className="mono">{p.fixPoint !== undefined ? `fix_point ${p.fixPoint}` : quantized ? 'fix_point ?' : ''}</span>
        </div>
      ))}
    </div>
  );
}

function cpuReason(n: DisplayNode, view: CompileView): CpuOpView | undefined {
  return view.cpuReasons[n.name] ?? n.folded.map((f) => view.cpuReasons[f]).find((x) => x);
}

/** The fix's what-if conversion, applied from here: the same toggle as the checkbox above. */
function ApplyFix({ fix }: { fix?: string }) {
  const key = conversionInFix(fix);
  const on = useStore((s) => (key ? s.conversions[key] : false));
  if (!key || on) return null;
  return (
    <button className="cp-apply" onClick={() => setConversion(key, true)} data-testid="apply-conversion">
      Apply {CONVERSION_LABELS[key]}
    </button>
  );
}

export function SubgraphDetail({ view }: { view: CompileView }) {
  const node = useStore((s) => (s.selectedId ? s.model?.graph.nodes.find((n) => n.id === s.selectedId) : undefined));
  if (!node) return <div className="muted small cp-hint">Click a node to see its subgraph.</div>;
  const i = nodeSubgraph(node, view.opSubgraph);
  if (i === undefined) {
    return <div className="muted small cp-hint" data-testid="subgraph-detail">{node.label} is not a layer of its own (folded into a neighbour or a constant).</div>;
  }
  const sg = view.subgraphs[i];
  const cpu = sg.device === 'CPU' ? cpuReason(node, view) : undefined;
  const c = sg.cost;
  return (
    <div className="cp-detail" data-testid="subgraph-detail">
      <div className="cp-row">
        <span className={`cp-badge cp-${sg.device.toLowerCase()}`} data-testid="subgraph-device">{sg.device}</span>
        <span className="mono small cp-name" title={sg.name}>#{i} {sg.name}</span>
      </div>
      {cpu && (
        <div className="cp-why" data-testid="cpu-reason">
          <div><b>{node.name}</b> runs on the CPU: {cpu.reason}</div>
          {cpu.fix && <div className="cp-fix" data-testid="cpu-fix">To move it to the DPU: {cpu.fix}</div>}
          <ApplyFix fix={cpu.fix} />
        </div>
      )}
      {!view.quantized && <div className="muted small">Float model: fix points appear once it is quantized (QDQ).</div>}
      <Ports title="Inputs" ports={sg.inputs} quantized={view.quantized} />
      <Ports title="Outputs" ports={sg.outputs} quantized={view.quantized} />
      {sg.device === 'DPU' && (
        <table className="props small" data-testid="subgraph-cost">
          <tbody>
            <tr><td>workload</td><td>{human(c.workload)}op</td></tr>
            <tr><td>workload_on_arch</td><td>{human(c.workloadOnArch)}op</td></tr>
            <tr><td>ideal cycles</td><td>{human(c.cycles)}</td></tr>
            <tr><td>estimated time</td><td>{millis(c.seconds)} at {(view.clockHz / 1e6).toFixed(0)} MHz</td></tr>
            <tr><td>weights</td><td>{human(c.weightBytes)}B</td></tr>
            <tr><td>feature maps</td><td>{human(c.readBytes)}B read · {human(c.writeBytes)}B written</td></tr>
          </tbody>
        </table>
      )}
      <details>
        <summary className="small">{sg.ops.length} op{sg.ops.length === 1 ? '' : 's'}</summary>
        <div className="cp-ops mono small" data-testid="subgraph-ops">{sg.ops.slice(0, 400).map((o) => <div key={o}>{o}</div>)}{sg.ops.length > 400 && <div className="muted">… {sg.ops.length - 400} more</div>}</div>
      </details>
    </div>
  );
}
