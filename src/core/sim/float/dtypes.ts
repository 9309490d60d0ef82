// Static element types of every tensor. The interpreter carries all values as float32, so it needs
// to know which tensors are integers: integer Div truncates, Cast/QuantizeLinear pick their range
// from it, and callers (calibration) skip shape and index tensors.
import { attr, attrInt, ONNX_DTYPE, type DType, type Graph } from '../../ir';

const BOOL_OPS = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero']);

export function inferDtypes(graph: Graph, order: readonly Graph['nodes'][number][]): Map<string, DType> {
  const types = new Map<string, DType>();
  for (const t of graph.inputs) types.set(t.name, t.dtype);
  for (const [name, t] of graph.initializers) types.set(name, t.dtype);
  const of = (name: string | undefined): DType => (name && types.get(name)) || 'float32';
  for (const n of order) {
    let t: DType;
    if (BOOL_OPS.has(n.opType)) t = 'bool';
    else if (INT64_OPS.has(n.opType)) t = 'int64';
    else switch (n.opType) {
      case 'Cast': t = ONNX_DTYPE[attrInt(n, 'to', 1)] ?? 'float32'; break;
      case 'CastLike': t = of(n.inputs[1]); break;
      case 'Constant': {
        const v = attr(n, 'value', 'tensor');
        t = v ? v.dtype : attr(n, 'value_int', 'int') !== undefined || attr(n, 'value_ints', 'ints') ? 'int64' : 'float32';
        break;
      }
      case 'ConstantOfShape': t = attr(n, 'value', 'tensor')?.dtype ?? 'float32'; break;
      case 'QuantizeLinear': {
        const code = attrInt(n, 'output_dtype', 0);
        t = n.inputs[2] ? of(n.inputs[2]) : code ? ONNX_DTYPE[code] ?? 'uint8' : 'uint8';
        break;
      }
      case 'DequantizeLinear': t = of(n.inputs[1]); break;
      case 'Where': t = of(n.inputs[1]); break;
      default: t = of(n.inputs.find((i) => i));
    }
    n.outputs.forEach((o, i) => {
      if (!o) return;
      // Dropout's second output is its boolean mask.
      types.set(o, n.opType === 'Dropout' && i === 1 ? 'bool' : t);
    });
  }
  return types;
}
