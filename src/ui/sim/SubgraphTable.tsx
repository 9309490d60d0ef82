// The per-subgraph view of a run: DPU subgraphs and CPU steps in the order they ran, each with the
// simulator's counters and measured time beside the Compile step's workload and board estimate; a DPU
// subgraph opens to its layers, each with the same pairs.
import { Fragment, useState } from 'react';
import type { SubgraphReport } from '../../core/sim/report';
import { human } from '../compile/format';
import { useStore } from '../store';

const bytes = (n: number) => human(n).replace(' ', '');
const est = (ms: number | undefined) => (ms === undefined ? '—' : ms.toFixed(3));

/** Measured workload units, with the Compile step's figure when it differs (they are meant to agree). */
function Ops({ ops, estimate }: { ops?: number; estimate?: number }) {
  if (ops === undefined) return <>—</>;
  if (estimate === undefined) return <>{human(ops)}</>;
  const same = ops === estimate;
  return <span className={same ? undefined : 'sim-bad'} title={same ? 'equal to the Compile step\'s workload' : `the Compile step's workload: ${estimate}`}>{human(ops)}{same ? '' : ` ≠ ${human(estimate)}`}</span>;
}

export function SubgraphTable() {
  const report = useStore((s) => s.simReport)!;
  const [open, setOpen] = useState<Readonly<Record<string, boolean>>>({});
  const subgraphs: readonly SubgraphReport[] = report.subgraphs;
  const totalMs = subgraphs.reduce((a, s) => a + s.ms, 0);
  const dpu = subgraphs.filter((s) => s.estimateMs !== undefined);
  const totalEst = dpu.reduce((a, s) => a + s.estimateMs!, 0);
  return (
    <section>
      <h4>Subgraphs, in the order they run</h4>
      <div className="sim-wrap">
        <table className="sim-table" data-testid="subgraph-table">
          <thead><tr>
            <th className="num">#</th><th>subgraph</th><th className="num">MACs</th>
            <th className="num" title="workload units executed (2·MACs + bias adds, pool reads, …), checked against the Compile step's workload">ops</th>
            <th className="num" title="bytes of input, weights and output moved">in · w · out</th>
            <th className="num" title="measured here (wasm int8 kernels, onnxruntime for CPU steps)">ms</th>
            <th className="num" title="The Compile step's estimate on the board">board ms</th>
          </tr></thead>
          <tbody>{subgraphs.map((s, i) => {
            const layers = s.layers ?? [];
            const expanded = !!open[s.name];
            return (
              <Fragment key={s.name}>
                <tr
                  data-testid="subgraph-row" title={`${s.device} ${s.name}${layers.length ? ' — click for its layers' : ''}`}
                  className={layers.length ? 'clickable' : undefined} aria-expanded={layers.length ? expanded : undefined}
                  onClick={() => { if (layers.length) setOpen({ ...open, [s.name]: !expanded }); }}
                >
                  <td className="num">{i + 1}</td>
                  <td className="mono">{layers.length ? (expanded ? '▾ ' : '▸ ') : ''}<span className={`cp-badge ${s.device === 'CPU' ? 'cp-cpu' : s.device === 'USER' ? 'cp-user' : 'cp-dpu'}`}>{s.device}</span>{s.name.length > 30 ? `…${s.name.slice(-29)}` : s.name}</td>
                  <td className="num" data-testid="subgraph-macs">{human(s.macs)}</td>
                  <td className="num" data-testid="subgraph-ops"><Ops ops={s.ops} estimate={s.estimateOps} /></td>
                  <td className="num">{bytes(s.bytesIn)} · {bytes(s.bytesWeights)} · {bytes(s.bytesOut)}</td>
                  <td className="num">{s.ms.toFixed(2)}</td>
                  <td className="num" data-testid="subgraph-estimate">{est(s.estimateMs)}</td>
                </tr>
                {expanded && layers.map((l) => (
                  <tr key={`${s.name}/${l.name}`} className="sim-layer" data-testid="subgraph-layer" title={l.name}>
                    <td />
                    <td className="mono">{l.name.length > 32 ? `…${l.name.slice(-31)}` : l.name}</td>
                    <td className="num">{human(l.macs)}</td>
                    <td className="num"><Ops ops={l.ops} estimate={l.estimateOps} /></td>
                    <td />
                    <td className="num">{l.ms.toFixed(3)}</td>
                    <td className="num">{est(l.estimateMs)}</td>
                  </tr>
                ))}
              </Fragment>
            );
          })}</tbody>
          <tfoot><tr data-testid="subgraph-total">
            <td /><td>total</td><td className="num">{human(subgraphs.reduce((a, s) => a + s.macs, 0))}</td><td /><td />
            <td className="num">{totalMs.toFixed(2)}</td><td className="num">{dpu.length ? totalEst.toFixed(3) : '—'}</td>
          </tr></tfoot>
        </table>
      </div>
      <div className="small muted" data-testid="sim-times">
        int8 run {report.ms.sim.toFixed(1)} ms · fake-quant {report.ms.fakeQuant.toFixed(1)} ms{report.ms.float ? ` · float ${report.ms.float.toFixed(1)} ms` : ''}
        {' '}· board ms: the Compile step's cost model for the DPU (CPU steps have no estimate)
      </div>
    </section>
  );
}
