// Checks ops against XIR's op definitions (xir-op-defs.json, read from Vitis AI's built_in_ops.cpp): the op
// type exists, every required attribute is there with its declared type (and vector length where fixed),
// every required argument is given and no argument has a name the definition lacks. Attributes the
// definition does not list (device, workload…) are allowed, as XIR allows them.
import table from './xir-op-defs.json';
import { X_ARG_OCCUR, type XAttr, type XModel, type XOp, type XOpDef } from './types';

interface ArgDef { readonly name: string; readonly occur: string }
interface AttrDef { readonly name: string; readonly occur: string; readonly type: string; readonly length?: number }
export interface XirOpDef { readonly args: readonly ArgDef[]; readonly attrs: readonly AttrDef[] }

export const XIR_OP_DEFS: Readonly<Record<string, XirOpDef>> = table.ops as Record<string, XirOpDef>;

const OCCUR_NAMES = Object.fromEntries(Object.entries(X_ARG_OCCUR).map(([k, v]) => [v, k]));

/** A file's own op_defs entry (custom ops) in the table's form. */
function fromFileDef(d: XOpDef): XirOpDef {
  return {
    args: d.inputArgs.map((a) => ({ name: a.name, occur: OCCUR_NAMES[a.occurType] ?? 'OPTIONAL' })),
    attrs: d.attrs.map((a) => ({ name: a.name, occur: a.occurType === 0 ? 'REQUIRED' : 'OPTIONAL', type: a.defaultValue?.kind ?? '' })),
  };
}

function vecLength(a: XAttr): number | undefined {
  return Array.isArray(a.value) ? a.value.length : undefined;
}

/** Every way `op` breaks its definition, one line each (empty when it conforms). */
export function checkOp(op: XOp, defs: Readonly<Record<string, XirOpDef>> = XIR_OP_DEFS): string[] {
  const def = defs[op.type];
  if (!def) return [`${op.name}: op type "${op.type}" is not an XIR op`];
  const out: string[] = [];
  for (const a of def.attrs) {
    const v = op.attrs[a.name];
    if (!v) {
      if (a.occur === 'REQUIRED') out.push(`${op.name} (${op.type}): required attribute "${a.name}" is missing`);
      continue;
    }
    if (a.type && v.kind !== a.type) out.push(`${op.name} (${op.type}): attribute "${a.name}" is ${v.kind}, XIR wants ${a.type}`);
    else if (a.length && vecLength(v) !== a.length) out.push(`${op.name} (${op.type}): attribute "${a.name}" has ${vecLength(v)} values, XIR wants ${a.length}`);
  }
  for (const arg of op.args)
    if (!def.args.some((d) => d.name === arg.name)) out.push(`${op.name} (${op.type}): argument "${arg.name}" is not in its definition`);
  for (const d of def.args) {
    const n = op.args.find((a) => a.name === d.name)?.ops.length ?? 0;
    if ((d.occur === 'REQUIRED' || d.occur === 'REQUIRED_AND_REPEATED') && n === 0) out.push(`${op.name} (${op.type}): required argument "${d.name}" is missing`);
    if ((d.occur === 'REQUIRED' || d.occur === 'OPTIONAL') && n > 1) out.push(`${op.name} (${op.type}): argument "${d.name}" takes one op, has ${n}`);
  }
  return out;
}

/** Every op of the model against XIR's built-in definitions, custom op types against the file's op_defs. */
export function checkXModelOps(m: XModel): string[] {
  const defs: Record<string, XirOpDef> = { ...XIR_OP_DEFS };
  for (const d of m.opDefs ?? []) if (!defs[d.name]) defs[d.name] = fromFileDef(d);
  return m.ops.flatMap((o) => checkOp(o, defs));
}
