// The Simulate panel's layer table as CSV (RFC 4180 quoting), for a spreadsheet next to the board's numbers.
import type { TensorReport } from '../sim/report';

const cell = (v: string | number) => {
  const s = typeof v === 'number' ? (Number.isNaN(v) ? '' : String(v)) : v;
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function layerTableCsv(tensors: readonly TensorReport[]): string {
  const head = ['tensor', 'subgraph', 'shape', 'fix_point', 'identical_fraction_vs_fake_quant', 'max_lsb_vs_fake_quant', 'sqnr_db_vs_float'];
  const rows = tensors.map((t) => [t.name, t.subgraph, t.shape.join('x'), t.fixPoint, t.identicalFraction, t.maxLsb, t.sqnrDb].map(cell).join(','));
  return `${[head.join(','), ...rows].join('\n')}\n`;
}
