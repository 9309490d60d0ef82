// Attribute values as short text: every attribute for the side panel, and the few that matter for
// reading a network (kernel, stride, group, nonzero pads) for the node itself.
import { formatShape, type AttrValue, type ConstTensor, type Dim, type Node } from '../ir';
import type { DisplayAttr } from './types';

const LIST_LIMIT = 16;

export function formatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-4 || a >= 1e6) ? x.toExponential(4) : String(Number(x.toPrecision(6)));
}

/**
 * An int64 attribute as exact text where a double can hold it. ONNX writes INT64_MAX/MIN as "to the end"
 * (Slice ends); as a double they read 9223372036854776000, which names nothing, so they get their names.
 */
export function formatInt(x: number): string {
  if (x >= 2 ** 63) return 'INT64_MAX';
  if (x <= -(2 ** 63)) return 'INT64_MIN';
  return String(x);
}

/** A count as a short tick label (10k, 1.5M): the histogram's axis is 36 px wide and cuts longer text. */
export function formatCount(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e6) return `${Number((n / 1e6).toPrecision(3))}M`;
  if (a >= 1e3) return `${Number((n / 1e3).toPrecision(3))}k`;
  return String(n);
}

function list(xs: readonly (number | string)[], fmt: (x: never) => string): string {
  const shown = xs.slice(0, LIST_LIMIT).map((x) => fmt(x as never));
  return `[${shown.join(', ')}${xs.length > LIST_LIMIT ? `, … (${xs.length})` : ''}]`;
}

function tensorText(t: ConstTensor): string {
  return `${t.dtype} ⟨${formatShape(t.shape)}⟩`;
}

export function formatAttr(a: AttrValue): string {
  switch (a.kind) {
    case 'int': return formatInt(a.value);
    case 'float': return formatNumber(a.value);
    case 'string': return JSON.stringify(a.value);
    case 'ints': return list(a.value, formatInt);
    case 'floats': return list(a.value, formatNumber);
    case 'strings': return list(a.value, (s: string) => JSON.stringify(s));
    case 'tensor': return tensorText(a.value);
    case 'tensors': return a.value.map(tensorText).join('; ');
    case 'graph': return `graph "${a.value.name}" (${a.value.nodes.length} nodes)`;
    case 'graphs': return a.value.map((g) => `graph "${g.name}" (${g.nodes.length} nodes)`).join('; ');
  }
}

export function allAttrs(node: Node): DisplayAttr[] {
  return Object.entries(node.attrs).map(([name, a]) => ({ name, text: formatAttr(a) }));
}

/** "3×3", or "2" when every entry is the same. */
function dims(xs: readonly number[], collapse: boolean): string {
  return collapse && xs.every((x) => x === xs[0]) ? String(xs[0]) : xs.join('×');
}

/** Ops whose kernel is the weight's spatial dims (W is [M, C/group, k1, k2, …]) when kernel_shape is left out. */
const KERNEL_FROM_WEIGHT = new Set(['Conv', 'ConvTranspose']);

/**
 * The attributes a reader of the graph wants to see on the node; defaults are left out. `weightShape`
 * is the shape of input 1 (W), from which a Conv without kernel_shape gets its kernel, as ONNX infers it.
 */
export function summaryAttrs(node: Node, weightShape?: readonly Dim[]): DisplayAttr[] {
  const out: DisplayAttr[] = [];
  if (KERNEL_FROM_WEIGHT.has(node.opType) && node.attrs.kernel_shape === undefined && weightShape && weightShape.length > 2) {
    const spatial = weightShape.slice(2);
    if (spatial.every((d) => typeof d === 'number')) out.push({ name: 'kernel', text: spatial.join('×') });
  }
  for (const [name, a] of Object.entries(node.attrs)) {
    if (a.kind === 'ints' && a.value.length > 0) {
      const v = a.value;
      if (name === 'kernel_shape') out.push({ name: 'kernel', text: dims(v, false) });
      else if (name === 'strides' && v.some((x) => x !== 1)) out.push({ name: 'stride', text: dims(v, true) });
      else if (name === 'dilations' && v.some((x) => x !== 1)) out.push({ name: 'dilation', text: dims(v, true) });
      else if (name === 'pads' && v.some((x) => x !== 0)) out.push({ name: 'pads', text: v.join(',') });
      else if (name === 'perm') out.push({ name: 'perm', text: v.join(',') });
      else if (name === 'axes') out.push({ name: 'axes', text: v.join(',') });
    } else if (a.kind === 'int') {
      if (name === 'group' && a.value !== 1) out.push({ name: 'group', text: String(a.value) });
      else if (name === 'axis') out.push({ name: 'axis', text: String(a.value) });
      else if (name === 'transB' && a.value !== 0) out.push({ name: 'transB', text: String(a.value) });
    } else if (a.kind === 'float') {
      if (name === 'alpha' && node.opType !== 'Gemm') out.push({ name: 'alpha', text: formatNumber(a.value) });
    } else if (a.kind === 'string') {
      if ((name === 'auto_pad' && a.value !== 'NOTSET') || name === 'mode') out.push({ name, text: a.value });
    }
  }
  return out;
}
