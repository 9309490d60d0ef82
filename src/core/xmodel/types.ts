// An XIR graph (.xmodel) as read from or written to the serial_v2 protobuf: ops, their single output
// tensors with fix points, and the subgraph tree. Attribute values keep their protobuf kind so that a
// written file holds exactly what was read.

export type XScalarKind = 'bool' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float' | 'double' | 'string' | 'bytes';

interface XKindValues {
  bool: boolean;
  int32: number;
  uint32: number;
  int64: bigint;
  uint64: bigint;
  float: number;
  double: number;
  string: string;
  bytes: Uint8Array;
}

/** An attribute: a scalar, a vector (`<kind>_vec`) or a string-keyed map (`map_<kind>` / `map_<kind>_vec`). */
export type XAttr =
  | { [K in XScalarKind]: { readonly kind: K; readonly value: XKindValues[K] } }[XScalarKind]
  | { [K in XScalarKind]: { readonly kind: `${K}_vec`; readonly value: readonly XKindValues[K][] } }[XScalarKind]
  | { [K in MapScalar]: { readonly kind: `map_${K}`; readonly value: Readonly<Record<string, XKindValues[K]>> } }[MapScalar]
  | { [K in MapVec]: { readonly kind: `map_${K}_vec`; readonly value: Readonly<Record<string, readonly XKindValues[K][]>> } }[MapVec];

type MapScalar = 'int32' | 'uint32' | 'int64' | 'uint64' | 'string' | 'bytes';
type MapVec = 'int32' | 'uint32' | 'int64' | 'uint64' | 'string';

export type XAttrs = Readonly<Record<string, XAttr>>;

/** Tensor.data_type codes of the XIR schema. */
export const X_DATA_TYPES = ['INT', 'UINT', 'XINT', 'XUINT', 'FLOAT', 'BFLOAT'] as const;
export type XDataType = (typeof X_DATA_TYPES)[number];

export interface XTensor {
  readonly name: string;
  /** NHWC for feature maps, [OC, KH, KW, IC] for conv weights. */
  readonly shape: readonly number[];
  readonly dataType: XDataType;
  readonly bitWidth: number;
  readonly attrs: XAttrs;
}

export interface XOpArg {
  readonly name: string;
  readonly ops: readonly string[];
}

export interface XOp {
  readonly name: string;
  readonly type: string;
  readonly attrs: XAttrs;
  readonly args: readonly XOpArg[];
  readonly output: XTensor;
}

export interface XSubgraph {
  readonly name: string;
  /** Ops listed on this subgraph itself (leaves list them; a DPU subgraph's ops sit in its children). */
  readonly ops: readonly string[];
  readonly attrs: XAttrs;
  readonly children: readonly XSubgraph[];
}

/** How often an argument occurs (XIR OpArgDef::OccurType). */
export const X_ARG_OCCUR = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2, REQUIRED_AND_REPEATED: 3 } as const;

/** An op type's signature (Graph.op_defs): lets XIR read types its op registry lacks, such as custom ops. */
export interface XOpDef {
  readonly name: string;
  /** occurType: X_ARG_OCCUR; dataType: index into X_DATA_TYPES. */
  readonly inputArgs: readonly { readonly name: string; readonly occurType: number; readonly dataType: number; readonly annotation?: string }[];
  /** occurType 0 = required, 1 = optional; the default value also gives the attribute's type. */
  readonly attrs: readonly { readonly name: string; readonly occurType: number; readonly defaultValue?: XAttr; readonly listLength?: number; readonly annotation?: string }[];
  readonly annotation?: string;
}

export interface XModel {
  readonly name: string;
  readonly ops: readonly XOp[];
  readonly attrs: XAttrs;
  readonly root: XSubgraph;
  /** Absent when the file has none. */
  readonly opDefs?: readonly XOpDef[];
}

export type XDevice = 'USER' | 'DPU' | 'CPU';

// ---- accessors ----

export function xInt(attrs: XAttrs, key: string): number | undefined {
  const a = attrs[key];
  if (!a) return undefined;
  switch (a.kind) {
    case 'int32': case 'uint32': case 'float': case 'double': return a.value;
    case 'int64': case 'uint64': return Number(a.value);
    default: return undefined;
  }
}

export function xBig(attrs: XAttrs, key: string): bigint | undefined {
  const a = attrs[key];
  if (!a) return undefined;
  if (a.kind === 'int64' || a.kind === 'uint64') return a.value;
  if (a.kind === 'int32' || a.kind === 'uint32') return BigInt(a.value);
  return undefined;
}

export function xInts(attrs: XAttrs, key: string): readonly number[] | undefined {
  const a = attrs[key];
  if (!a) return undefined;
  switch (a.kind) {
    case 'int32_vec': case 'uint32_vec': case 'float_vec': case 'double_vec': return a.value;
    case 'int64_vec': case 'uint64_vec': return a.value.map(Number);
    default: return undefined;
  }
}

export function xString(attrs: XAttrs, key: string): string | undefined {
  const a = attrs[key];
  return a?.kind === 'string' ? a.value : undefined;
}

export function xBool(attrs: XAttrs, key: string): boolean | undefined {
  const a = attrs[key];
  return a?.kind === 'bool' ? a.value : undefined;
}

export function xBytes(attrs: XAttrs, key: string): Uint8Array | undefined {
  const a = attrs[key];
  return a?.kind === 'bytes' ? a.value : undefined;
}

/** The fix point of a tensor, or of a `fix` op (which carries it as an op attribute). */
export function tensorFixPoint(t: XTensor): number | undefined {
  return xInt(t.attrs, 'fix_point');
}

export function opFixPoint(op: XOp): number | undefined {
  return tensorFixPoint(op.output) ?? (op.type === 'fix' ? xInt(op.attrs, 'fix_point') : undefined);
}

export function subgraphDevice(s: XSubgraph): string | undefined {
  return xString(s.attrs, 'device');
}

/** Every op name under a subgraph, its own and its descendants'. */
export function subgraphOps(s: XSubgraph): string[] {
  // Depth-first in child order with an explicit stack: the tree is as deep as the file makes it.
  const out: string[] = [];
  const stack: XSubgraph[] = [s];
  while (stack.length) {
    const g = stack.pop()!;
    for (const o of g.ops) out.push(o);
    for (let i = g.children.length - 1; i >= 0; i--) stack.push(g.children[i]);
  }
  return out;
}

/** The device subgraphs: the root's children (the root alone when it has none, as in a quantizer output). */
export function deviceSubgraphs(m: XModel): readonly XSubgraph[] {
  return m.root.children.length ? m.root.children : [m.root];
}

/** Map of op name → the device of the root child holding it. */
export function opDevices(m: XModel): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of m.root.children) {
    const d = subgraphDevice(s) ?? '';
    for (const o of subgraphOps(s)) out.set(o, d);
  }
  return out;
}

export function inputOps(op: XOp): string[] {
  return op.args.flatMap((a) => a.ops);
}
