// .xmodel bytes ↔ XModel. The file is a bare serial_v2.Graph message (no header).
import protobuf from 'protobufjs/minimal.js';
import Long from 'long';
import { InputError } from '../errors';
import { serial_v2 } from './xir.gen.js';
import {
  X_DATA_TYPES, type XAttr, type XAttrs, type XDataType, type XModel, type XOp, type XOpDef, type XSubgraph, type XTensor,
} from './types';

// Bundlers hide protobufjs' optional require('long'); without it 64-bit values decode as lossy doubles and
// a dpu_fingerprint such as 0x101000056010407 would lose its low bits.
protobuf.util.Long = Long;
protobuf.configure();

const GraphMessage = serial_v2.Graph;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = any;

function big(v: unknown, unsigned: boolean): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string') return BigInt(v);
  const l = v as Long;
  const lo = BigInt(l.low >>> 0);
  const hi = BigInt(l.high >>> 0);
  const u = (hi << 32n) | lo;
  return unsigned ? u : BigInt.asIntN(64, u);
}

function scalarIn(kind: string, v: unknown): unknown {
  switch (kind) {
    case 'int64': return big(v, false);
    case 'uint64': return big(v, true);
    case 'bytes': {
      // A plain view (Node's decoder hands out Buffers, whose toJSON and equality differ).
      const b = (v as Msg)?.value;
      return b instanceof Uint8Array ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(0);
    }
    default: return v;
  }
}

function attrIn(a: Msg): XAttr | undefined {
  // A map entry without its value message decodes as null: nothing to keep, like an empty AttrValue.
  if (!a || typeof a !== 'object') return undefined;
  // `value` is the oneof's virtual field naming the member that is set (unset members read as defaults).
  const field: string | undefined = a.value;
  if (!field) return undefined; // an empty AttrValue: nothing to keep
  const v = a[field];
  if (v === null || v === undefined) return undefined;
  const m = /^(map_string_2_)?([a-z0-9]+)(_vec)?_value$/.exec(field);
  if (!m) return undefined;
  const [, isMap, k, isVec] = m;
  if (!isMap && !isVec) return { kind: k, value: scalarIn(k, v) } as XAttr;
  if (!isMap) return { kind: `${k}_vec`, value: (v.value ?? []).map((x: unknown) => scalarIn(k, x)) } as XAttr;
  const out: Record<string, unknown> = {};
  for (const [key, x] of Object.entries(v.value ?? {}))
    out[key] = isVec ? ((x as Msg)?.value ?? []).map((e: unknown) => scalarIn(k, e)) : scalarIn(k, x);
  return { kind: `map_${k}${isVec ?? ''}`, value: out } as XAttr;
}

function attrsIn(m: Msg): XAttrs {
  const out: Record<string, XAttr> = {};
  for (const [k, v] of Object.entries(m ?? {})) {
    const a = attrIn(v);
    if (a) out[k] = a;
  }
  return out;
}

function tensorIn(t: Msg, opName: string): XTensor {
  const code = t?.data_type ?? 0;
  const dataType: XDataType | undefined = X_DATA_TYPES[code];
  if (!dataType) throw new InputError(`xmodel op "${opName}" has an unknown tensor data_type ${code}`);
  return {
    name: t?.tensor_name || opName,
    shape: [...(t?.tensor_dim ?? [])],
    dataType,
    bitWidth: t?.tensor_bit_width ?? 0,
    attrs: attrsIn(t?.tensor_attr),
  };
}

/** The subgraph tree, walked with an explicit stack: its depth is whatever the file says. */
function subgraphIn(root: Msg): XSubgraph {
  const make = (s: Msg): XSubgraph & { children: XSubgraph[] } => ({
    name: s?.subgraph_name ?? '', ops: [...(s?.op_name ?? [])], attrs: attrsIn(s?.subg_attr), children: [],
  });
  const top = make(root);
  const stack: [Msg, XSubgraph & { children: XSubgraph[] }][] = [[root, top]];
  while (stack.length) {
    const [msg, out] = stack.pop()!;
    for (const c of msg?.subg_child ?? []) {
      const child = make(c);
      out.children.push(child);
      stack.push([c, child]);
    }
  }
  return top;
}

const text = (v: unknown) => (typeof v === 'string' && v ? { annotation: v } : {});

function opDefIn(d: Msg): XOpDef {
  return {
    name: d.name ?? '',
    inputArgs: (d.input_args ?? []).map((a: Msg) => ({ name: a.name ?? '', occurType: a.occur_type ?? 0, dataType: a.data_type ?? 0, ...text(a.annotation) })),
    attrs: (d.attrs ?? []).map((a: Msg) => {
      const dv = a.default_value ? attrIn(a.default_value) : undefined;
      return {
        name: a.name ?? '', occurType: a.occur_type ?? 0, ...(dv ? { defaultValue: dv } : {}),
        ...(a.list_length ? { listLength: a.list_length } : {}), ...text(a.annotation),
      };
    }),
    ...text(d.annotation),
  };
}

/** Decodes an .xmodel file. Throws InputError naming the problem for truncated or foreign files. */
export function readXModel(bytes: Uint8Array): XModel {
  let g: Msg;
  try {
    g = GraphMessage.decode(bytes);
  } catch (e) {
    throw new InputError(`not a readable .xmodel (XIR protobuf): ${e instanceof Error ? e.message.split('\n')[0] : e}`);
  }
  const opNodes: Msg[] = g.op_node ?? [];
  if (!opNodes.length || !g.subg_root)
    throw new InputError('not an .xmodel: no XIR ops or no root subgraph (is it another format?)');
  const ops: XOp[] = [];
  const names = new Set<string>();
  for (const o of opNodes) {
    if (!o.op_name || !o.op_type) throw new InputError('not a valid .xmodel: an op has no name or type');
    const dims: number[] = o.output_tensor?.tensor_dim ?? [];
    if (dims.some((d) => !(Number.isInteger(d) && d >= 0)))
      throw new InputError(`not a valid .xmodel: op "${o.op_name}" has output shape [${dims.join(', ')}] (dimensions must be non-negative integers)`);
    if (names.has(o.op_name)) throw new InputError(`not a valid .xmodel: op "${o.op_name}" appears twice`);
    names.add(o.op_name);
    ops.push({
      name: o.op_name,
      type: o.op_type,
      attrs: attrsIn(o.op_attr),
      args: (o.args ?? []).map((a: Msg) => ({ name: a.arg_name ?? '', ops: [...(a.arg_ops ?? [])] })),
      output: tensorIn(o.output_tensor, o.op_name),
    });
  }
  for (const o of ops)
    for (const a of o.args)
      for (const i of a.ops)
        if (!names.has(i)) throw new InputError(`not a valid .xmodel: op "${o.name}" reads "${i}", which is not in the file`);
  const root = subgraphIn(g.subg_root);
  const opDefs: XOpDef[] = (g.op_defs ?? []).map(opDefIn);
  return { name: g.graph_name ?? '', ops, attrs: attrsIn(g.graph_attr), root, ...(opDefs.length ? { opDefs } : {}) };
}

// ---- writing ----

function scalarOut(kind: string, v: unknown): unknown {
  switch (kind) {
    case 'int64': case 'uint64': {
      const b = BigInt.asUintN(64, v as bigint);
      return new Long(Number(b & 0xffffffffn) | 0, Number(b >> 32n) | 0, kind === 'uint64');
    }
    case 'bytes': return { value: v };
    default: return v;
  }
}

function attrOut(a: XAttr): Msg {
  const k = a.kind;
  if (k.startsWith('map_')) {
    const isVec = k.endsWith('_vec');
    const base = k.slice(4, isVec ? -4 : undefined);
    const value: Record<string, unknown> = {};
    for (const [key, x] of Object.entries(a.value as Record<string, unknown>))
      value[key] = isVec ? { value: (x as unknown[]).map((e) => scalarOut(base, e)) } : scalarOut(base, x);
    return { [`map_string_2_${base}${isVec ? '_vec' : ''}_value`]: { value } };
  }
  if (k.endsWith('_vec')) {
    const base = k.slice(0, -4);
    return { [`${k}_value`]: { value: (a.value as unknown[]).map((e) => scalarOut(base, e)) } };
  }
  return { [`${k}_value`]: scalarOut(k, a.value) };
}

function attrsOut(attrs: XAttrs): Record<string, Msg> {
  const out: Record<string, Msg> = {};
  for (const [k, v] of Object.entries(attrs)) out[k] = attrOut(v);
  return out;
}

function subgraphOut(s: XSubgraph): Msg {
  return {
    subgraph_name: s.name,
    op_name: s.ops,
    subg_attr: attrsOut(s.attrs),
    subg_child: s.children.map(subgraphOut),
  };
}

/** Encodes an XModel as an .xmodel file. */
export function writeXModel(m: XModel): Uint8Array {
  const msg = GraphMessage.fromObject({
    graph_name: m.name,
    op_node: m.ops.map((o) => ({
      op_name: o.name,
      op_type: o.type,
      op_attr: attrsOut(o.attrs),
      args: o.args.map((a) => ({ arg_name: a.name, arg_ops: a.ops })),
      output_tensor: {
        tensor_name: o.output.name,
        tensor_dim: o.output.shape,
        data_type: X_DATA_TYPES.indexOf(o.output.dataType),
        tensor_bit_width: o.output.bitWidth,
        tensor_attr: attrsOut(o.output.attrs),
      },
    })),
    subg_root: subgraphOut(m.root),
    graph_attr: attrsOut(m.attrs),
    op_defs: (m.opDefs ?? []).map((d) => ({
      name: d.name,
      input_args: d.inputArgs.map((a) => ({ name: a.name, occur_type: a.occurType, data_type: a.dataType, annotation: a.annotation })),
      attrs: d.attrs.map((a) => ({
        name: a.name, occur_type: a.occurType, default_value: a.defaultValue ? attrOut(a.defaultValue) : undefined,
        list_length: a.listLength, annotation: a.annotation,
      })),
      annotation: d.annotation,
    })),
  });
  return GraphMessage.encode(msg).finish();
}
