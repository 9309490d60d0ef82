// XModel → the graph IR, so the viewer shows an .xmodel like any model: ops as nodes, const ops with data
// folded into initializers (weights), each tensor's fix point and each op's device as node attributes.
import { XIR_OP_DEFS } from './opdef-check';
import type { AttrValue, ConstTensor, DType, Model, Node, TensorInfo } from '../ir';
import {
  inputOps, opDevices, tensorFixPoint, xBytes, xInt, type XAttr, type XModel, type XTensor,
} from './types';

import { XIR_CUSTOM_DOMAIN } from '../sim/float/ops/custom';

export { XIR_CUSTOM_DOMAIN };

function dtypeOf(t: XTensor): DType {
  const w = t.bitWidth;
  switch (t.dataType) {
    case 'FLOAT': return w === 16 ? 'float16' : w === 64 ? 'float64' : 'float32';
    case 'BFLOAT': return 'bfloat16';
    case 'INT': case 'XINT': return w === 16 ? 'int16' : w === 32 ? 'int32' : w === 64 ? 'int64' : 'int8';
    case 'UINT': case 'XUINT': return w === 16 ? 'uint16' : w === 32 ? 'uint32' : w === 64 ? 'uint64' : 'uint8';
  }
}

function attrValue(a: XAttr): AttrValue | undefined {
  switch (a.kind) {
    case 'bool': return { kind: 'int', value: a.value ? 1 : 0 };
    case 'int32': case 'uint32': return { kind: 'int', value: a.value };
    case 'int64': case 'uint64': return { kind: 'int', value: Number(a.value) };
    case 'float': case 'double': return { kind: 'float', value: a.value };
    case 'string': return { kind: 'string', value: a.value };
    case 'bytes': return undefined; // weights and machine code: shown as initializers, not attributes
    case 'int32_vec': case 'uint32_vec': return { kind: 'ints', value: a.value };
    case 'int64_vec': case 'uint64_vec': return { kind: 'ints', value: a.value.map(Number) };
    case 'float_vec': case 'double_vec': return { kind: 'floats', value: a.value };
    case 'bool_vec': return { kind: 'ints', value: a.value.map((b) => (b ? 1 : 0)) };
    case 'string_vec': return { kind: 'strings', value: a.value };
    default: {
      if (a.kind === 'bytes_vec') return undefined;
      return { kind: 'string', value: JSON.stringify(a.value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `<${v.length} bytes>` : v)) };
    }
  }
}

/** The const's values when its data has the size its shape says (compiled files keep weights elsewhere). */
function constTensor(name: string, t: XTensor, data: Uint8Array | undefined): ConstTensor | undefined {
  if (!data) return undefined;
  const n = t.shape.reduce((a, x) => a * x, 1);
  const dtype = dtypeOf(t);
  const fp = tensorFixPoint(t);
  if (dtype === 'int8' && data.length === n && fp !== undefined) {
    // int8 weights are shown (and summarised) as the real values they stand for: q · 2^-fp.
    const scale = 2 ** -fp;
    return { name, dtype: 'float32', shape: t.shape, values: Float32Array.from(new Int8Array(data.buffer, data.byteOffset, n), (q) => q * scale) };
  }
  if (dtype === 'float32' && data.length === n * 4) {
    const values = new Float32Array(n);
    new Uint8Array(values.buffer).set(data);
    return { name, dtype, shape: t.shape, values };
  }
  if (dtype === 'int8' && data.length === n) return { name, dtype, shape: t.shape, values: new Int8Array(data.buffer, data.byteOffset, n) };
  if (dtype === 'uint8' && data.length === n) return { name, dtype, shape: t.shape, values: data };
  return undefined;
}

export function xmodelToModel(m: XModel): Model {
  const devices = opDevices(m);
  const tensorOf = new Map(m.ops.map((o) => [o.name, o.output.name]));
  const initializers = new Map<string, ConstTensor>();
  const valueInfo = new Map<string, TensorInfo>();
  const nodes: Node[] = [];
  const inputs: TensorInfo[] = [];
  const consumed = new Set<string>();
  for (const o of m.ops) for (const i of inputOps(o)) consumed.add(i);

  const fileDefs = new Set((m.opDefs ?? []).map((d) => d.name));
  const fixPoints = new Map<string, number>();
  for (const o of m.ops) {
    const fp = tensorFixPoint(o.output) ?? (o.type === 'fix' ? xInt(o.attrs, 'fix_point') : undefined);
    if (fp === undefined) continue;
    fixPoints.set(o.output.name, fp);
    // A fix op quantizes its input: the tensor it reads carries that fix point too.
    if (o.type === 'fix' && o.args[0]?.ops.length === 1) fixPoints.set(tensorOf.get(o.args[0].ops[0]) ?? o.args[0].ops[0], fp);
  }

  for (const o of m.ops) {
    const info: TensorInfo = { name: o.output.name, dtype: dtypeOf(o.output), shape: o.output.shape };
    valueInfo.set(info.name, info);
    if (o.type === 'const' || o.type === 'const-fix') {
      const c = constTensor(o.output.name, o.output, xBytes(o.attrs, 'data'));
      if (c) { initializers.set(c.name, c); continue; }
    }
    if (o.type === 'data' || o.type === 'data-fix') inputs.push(info);
    const attrs: Record<string, AttrValue> = {};
    for (const [k, a] of Object.entries(o.attrs)) {
      const v = attrValue(a);
      if (v) attrs[k] = v;
    }
    const fp = tensorFixPoint(o.output);
    if (fp !== undefined) attrs.fix_point = { kind: 'int', value: fp };
    const dev = devices.get(o.name);
    if (dev) attrs.device = { kind: 'string', value: dev };
    if (o.type === 'data' || o.type === 'data-fix') continue; // graph inputs, not nodes
    nodes.push({
      // A type XIR lacks but the file defines in its op_defs (a custom op such as PPScatterV2) is named by its
      // own domain: known to the file, so not drawn as unknown.
      name: o.name, opType: o.type, domain: XIR_OP_DEFS[o.type] || !fileDefs.has(o.type) ? 'xir' : XIR_CUSTOM_DOMAIN,
      inputs: inputOps(o).map((i) => tensorOf.get(i) ?? i), outputs: [o.output.name], attrs,
    });
  }
  const returnOps = m.attrs.return_ops?.kind === 'string_vec' ? m.attrs.return_ops.value : [];
  const outNames = returnOps.length ? returnOps : nodes.filter((n) => !consumed.has(n.name)).map((n) => n.name);
  const outputs = outNames.map((n) => valueInfo.get(tensorOf.get(n) ?? n)).filter((x): x is TensorInfo => !!x);
  const dpu = m.root.children.find((s) => s.attrs.dpu_name?.kind === 'string');
  return {
    format: 'xmodel',
    graph: { name: m.name, nodes, inputs, outputs, initializers, valueInfo },
    opset: 0,
    opsetImports: [],
    producer: 'XIR',
    producerVersion: '',
    metadata: dpu && dpu.attrs.dpu_name.kind === 'string' ? { dpu_name: dpu.attrs.dpu_name.value } : {},
    fixPoints,
  };
}
