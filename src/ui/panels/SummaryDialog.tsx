// Model summary: inputs/outputs, opset, producer, and a per-layer table sortable by any column.
import { useEffect, useMemo, useState } from 'react';
import type { LayerRow, ModelSummary } from '../../core/analysis/summary';
import { formatShape } from '../../core/ir';
import { loadSummary } from '../session';
import { set, useStore } from '../store';

type Key = 'index' | 'name' | 'opType' | 'outputShape' | 'params' | 'macs';
const COLUMNS: { key: Key; label: string; numeric: boolean }[] = [
  { key: 'index', label: '#', numeric: true },
  { key: 'name', label: 'Name', numeric: false },
  { key: 'opType', label: 'Op', numeric: false },
  { key: 'outputShape', label: 'Output shape', numeric: false },
  { key: 'params', label: 'Params', numeric: true },
  { key: 'macs', label: 'MACs', numeric: true },
];

const fmt = new Intl.NumberFormat('en-US');

function sortValue(r: LayerRow & { index: number }, k: Key): number | string {
  if (k === 'outputShape') return formatShape(r.outputShape);
  return r[k];
}

export function SummaryDialog() {
  const openId = useStore((s) => s.model?.openId);
  const [summary, setSummary] = useState<ModelSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sort, setSort] = useState<{ key: Key; desc: boolean }>({ key: 'index', desc: false });
  useEffect(() => {
    let live = true;
    loadSummary().then((s) => live && setSummary(s), (e: Error) => live && setError(e.message));
    return () => { live = false; };
  }, [openId]);
  const rows = useMemo(() => {
    const rs = (summary?.layers ?? []).map((r, index) => ({ ...r, index }));
    const col = COLUMNS.find((c) => c.key === sort.key)!;
    rs.sort((a, b) => {
      const x = sortValue(a, sort.key);
      const y = sortValue(b, sort.key);
      const c = col.numeric ? (x as number) - (y as number) : String(x).localeCompare(String(y));
      return sort.desc ? -c : c;
    });
    return rs;
  }, [summary, sort]);
  const close = () => set({ summaryOpen: false });
  return (
    <div className="dialog-backdrop" onClick={close}>
      <div className="dialog" data-testid="summary" role="dialog" aria-label="Model summary" onClick={(e) => e.stopPropagation()}>
        <div className="side-head">
          <h3>Model summary</h3>
          <button className="icon" aria-label="Close" data-testid="summary-close" onClick={close}>×</button>
        </div>
        {error && <div className="banner">{error}</div>}
        {!summary && !error && <div className="muted">computing…</div>}
        {summary && (
          <>
            <div className="summary-meta">
              <div><b>Producer</b> {summary.producer || '—'}</div>
              <div><b>Opset</b> {summary.opset}</div>
              <div><b>Nodes</b> {fmt.format(summary.nodes)}</div>
              <div><b>Params</b> {fmt.format(summary.params)}</div>
              <div><b>MACs</b> {fmt.format(summary.macs)}</div>
            </div>
            <div className="summary-io">
              <div><b>Inputs</b>{summary.inputs.map((t) => <div key={t.name} className="mono small">{t.name}: {t.dtype} ⟨{formatShape(t.shape)}⟩</div>)}</div>
              <div><b>Outputs</b>{summary.outputs.map((t) => <div key={t.name} className="mono small">{t.name}: {t.dtype} ⟨{formatShape(t.shape)}⟩</div>)}</div>
            </div>
            <div className="table-wrap">
              <table className="layers" data-testid="summary-table">
                <thead>
                  <tr>
                    {COLUMNS.map((c) => (
                      <th
                        key={c.key}
                        className={c.numeric ? 'num' : ''}
                        data-testid={`sort-${c.key}`}
                        aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}
                        onClick={() => setSort((s) => ({ key: c.key, desc: s.key === c.key ? !s.desc : c.numeric }))}
                      >
                        {c.label}{sort.key === c.key ? (sort.desc ? ' ▾' : ' ▴') : ''}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.index} data-testid="summary-row">
                      <td className="num">{r.index}</td>
                      <td className="mono">{r.name}</td>
                      <td>{r.opType}</td>
                      <td className="mono">{formatShape(r.outputShape)}</td>
                      <td className="num">{fmt.format(r.params)}</td>
                      <td className="num">{fmt.format(r.macs)}</td>
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <td /><td><b>Total</b></td><td>{rows.length} layers</td><td />
                    {/* The model's total: a weight shared by several layers is in each of their rows but counts once. */}
                    <td className="num" data-testid="total-params"><b>{fmt.format(summary.params)}</b></td>
                    <td className="num" data-testid="total-macs"><b>{fmt.format(rows.reduce((a, r) => a + r.macs, 0))}</b></td>
                  </tr>
                </tfoot>
              </table>
            </div>
          </>
        )}
      </div>
    </div>
  );
}
