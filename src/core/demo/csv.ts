// The Simulate panel's layer table as CSV, for a spreadsheet next to the board's numbers. Cells go through
// the shared escaping (names come from model files); an unmeasured value (NaN) is an empty cell.
import type { TensorReport } from '../sim/report';
import { csvRows } from '../text';

const value = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : v);

export function layerTableCsv(tensors: readonly TensorReport[]): string {
  const head = ['tensor', 'subgraph', 'shape', 'fix_point', 'identical_fraction_vs_fake_quant', 'max_lsb_vs_fake_quant', 'sqnr_db_vs_float',
    'cosine_vs_float', 'clipped_fraction_int8', 'clipped_fraction_float'];
  return csvRows([head, ...tensors.map((t) => [t.name, t.subgraph, t.shape.join('x'), t.fixPoint, t.identicalFraction, t.maxLsb, value(t.sqnrDb),
    value(t.cosine), value(t.clippedFraction), value(t.floatClippedFraction)])]);
}
