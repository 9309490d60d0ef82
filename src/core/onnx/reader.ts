// ONNX ModelProto → IR. Field numbers follow onnx/onnx.proto (IR versions 3–10).
import { InputError, asInputError, isInputError } from '../errors';
import {
  topoSort, type AttrValue, type ConstTensor, type Dim, type DType, type Graph, type Model, type Node,
  type OpsetImport, type TensorInfo, type TensorValues,
} from '../ir';
import { inferShapesDeep } from './shapes';
import { dtypeFromCode, readTensor } from './tensor';
import { isUntyped, markUntyped } from './untyped';
import { typedValues } from './values';
import { ProtoReader } from './wire';

/** A graph as it is in the file, before shape inference fills valueInfo. */
interface RawGraph {
  name: string;
  nodes: Node[];
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  initializers: Map<string, ConstTensor>;
  declared: Map<string, TensorInfo>;
}

/**
 * What reading needs besides the bytes: the opset, how deep in control-flow bodies this graph is, and the
 * file's size, which bounds what a sparse tensor may expand to.
 */
interface ReadCtx {
  readonly opset: number;
  readonly depth: number;
  readonly fileBytes: number;
  /** Bodies met but not read yet: read after their graph, from a work list, so nesting never recurses. */
  readonly pending: PendingBody[];
}

/** A control-flow body whose Graph object exists (its node holds it) and is filled when its turn comes. */
interface PendingBody {
  readonly reader: ProtoReader;
  readonly target: Graph;
  readonly ctx: ReadCtx;
}

/**
 * Deepest nesting of If/Loop/Scan bodies read. Reading, shape inference and drawing walk bodies without
 * recursion; the limit bounds the outer-scope chain each level adds. Real models nest a handful of levels.
 */
export const MAX_BODY_NESTING = 10_000;
/** Deepest nesting of sequence/optional/map types. */
const MAX_TYPE_NESTING = 32;

/** A dense expansion of a sparse tensor is refused beyond this many bytes or 64× the file, whichever is larger. */
const SPARSE_DENSE_BYTES = 64 * 2 ** 20;

/** An empty body Graph for `r`, queued to be read once the graph holding it is done. */
function pendingBody(r: ProtoReader, ctx: ReadCtx, what: string): Graph {
  if (ctx.depth >= MAX_BODY_NESTING) throw new InputError(`${what}: control-flow bodies nest deeper than ${MAX_BODY_NESTING} levels, which is not supported`);
  const target: Graph = { name: '', nodes: [], inputs: [], outputs: [], initializers: new Map(), valueInfo: new Map() };
  ctx.pending.push({ reader: r, target, ctx: { ...ctx, depth: ctx.depth + 1 } });
  return target;
}

/** Graph outputs / inputs whose type the file leaves out still need a dtype; float32 is ONNX's common case. */
const UNKNOWN_DTYPE: DType = 'float32';

function readStringEntry(r: ProtoReader): [string, string] {
  let k = '';
  let v = '';
  while (!r.done) {
    const [f, wt] = r.tag();
    if (f === 1) k = r.string();
    else if (f === 2) v = r.string();
    else r.skip(wt);
  }
  return [k, v];
}

function readShape(r: ProtoReader): Dim[] {
  const dims: Dim[] = [];
  while (!r.done) {
    const [f, wt] = r.tag();
    if (f !== 1) { r.skip(wt); continue; }
    const d = r.message();
    let dim: Dim | undefined;
    while (!d.done) {
      const [df, dwt] = d.tag();
      if (df === 1) dim = d.int64();
      else if (df === 2) dim = d.string();
      else d.skip(dwt);
    }
    // Neither value nor param: an anonymous unknown dimension; a name that cannot collide stands for it.
    // Some exporters write -1 for "unknown"; a negative size is no size, so it is unknown too.
    dims.push(dim === undefined || dim === '' || (typeof dim === 'number' && dim < 0) ? '?' : dim);
  }
  return dims;
}

/**
 * TypeProto → [elem dtype code, shape]. Sequences, optionals and sparse tensors report their element
 * type with an unknown shape: the IR models tensors only, and these appear only around control flow.
 */
function readType(r: ProtoReader, depth = 0): { code: number; shape?: Dim[] } {
  if (depth > MAX_TYPE_NESTING) throw new InputError(`a value's type nests sequences/maps deeper than ${MAX_TYPE_NESTING} levels`);
  let code = 0;
  let shape: Dim[] | undefined;
  while (!r.done) {
    const [f, wt] = r.tag();
    if (f === 1 || f === 8) {
      // tensor_type / sparse_tensor_type: elem_type = 1, shape = 2
      const t = r.message();
      while (!t.done) {
        const [tf, twt] = t.tag();
        if (tf === 1) code = t.int32();
        else if (tf === 2) shape = readShape(t.message());
        else t.skip(twt);
      }
      if (f === 8) shape = undefined;
    } else if (f === 4 || f === 9) {
      // sequence_type / optional_type: elem_type = 1 (a TypeProto)
      const s = r.message();
      while (!s.done) {
        const [sf, swt] = s.tag();
        if (sf === 1) code = readType(s.message(), depth + 1).code;
        else s.skip(swt);
      }
    } else if (f === 5) {
      // map_type: value_type = 2
      const m = r.message();
      while (!m.done) {
        const [mf, mwt] = m.tag();
        if (mf === 2) code = readType(m.message(), depth + 1).code;
        else m.skip(mwt);
      }
    } else r.skip(wt);
  }
  return { code, shape };
}

/** Decodes one ValueInfoProto (exported for tools that compare declared against inferred shapes). */
export function readValueInfo(r: ProtoReader): TensorInfo {
  let name = '';
  let type: { code: number; shape?: Dim[] } | undefined;
  while (!r.done) {
    const [f, wt] = r.tag();
    if (f === 1) name = r.string();
    else if (f === 2) type = readType(r.message());
    else r.skip(wt);
  }
  if (!type || !type.code) return markUntyped(type?.shape ? { name, dtype: UNKNOWN_DTYPE, shape: type.shape } : { name, dtype: UNKNOWN_DTYPE });
  const dtype = dtypeFromCode(type.code, `value "${name}"`);
  return type.shape ? { name, dtype, shape: type.shape } : { name, dtype };
}

/** Expands a SparseTensorProto (values=1, indices=2, dims=3) to a dense tensor. */
function readSparse(r: ProtoReader, what: string, ctx: ReadCtx): ConstTensor {
  let values: ConstTensor | undefined;
  let indices: ConstTensor | undefined;
  const dims: number[] = [];
  while (!r.done) {
    const [f, wt] = r.tag();
    if (f === 1) values = readTensor(r.message(), `${what} values`);
    else if (f === 2) indices = readTensor(r.message(), `${what} indices`);
    else if (f === 3) r.repeated(wt, () => r.int64(), dims);
    else r.skip(wt);
  }
  if (!values || !indices) throw new InputError(`${what} is a sparse tensor without values or indices`);
  const src = typedValues(values) as Exclude<TensorValues, readonly string[]>;
  if (values.dtype === 'string' || values.dtype === 'bool' || (src instanceof Uint8Array && values.dtype !== 'uint8')) {
    throw new InputError(`${what} is a sparse ${values.dtype} tensor, which is not supported; store it dense`);
  }
  const total = dims.reduce((a, b) => a * b, 1);
  if (dims.some((d) => !(d >= 0))) throw new InputError(`${what} is a sparse tensor with a negative dimension in its shape [${dims.join(', ')}]`);
  // Densifying must stay affordable and in proportion to the file: a few hundred bytes must not become a gigabyte.
  const denseBytes = total * (src as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const limit = Math.max(SPARSE_DENSE_BYTES, 64 * ctx.fileBytes);
  if (!(denseBytes <= limit)) {
    throw new InputError(`${what} is a sparse tensor of shape [${dims.join(', ')}] that would expand to ${Math.round(denseBytes / 2 ** 20)} MB, too large to expand (limit ${Math.round(limit / 2 ** 20)} MB)`);
  }
  if (indices.shape.length === 2 && indices.shape[1] !== dims.length) throw new InputError(`${what} has sparse indices of shape [${indices.shape.join(', ')}] for a rank-${dims.length} tensor`);
  const nnz = values.shape.reduce((a, b) => a * b, 1);
  const Ctor = src.constructor as new (n: number) => Exclude<TensorValues, readonly string[]>;
  const dense = new Ctor(total);
  const idx = Array.from(typedValues(indices) as ArrayLike<number | bigint>, Number);
  const strides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let k = 0; k < nnz; k++) {
    let flat = 0;
    if (indices.shape.length === 2) for (let j = 0; j < dims.length; j++) flat += idx[k * dims.length + j] * strides[j];
    else flat = idx[k];
    if (!(flat >= 0 && flat < total)) throw new InputError(`${what} has a sparse index outside its shape`);
    (dense as unknown as Record<number, number | bigint>)[flat] = (src as unknown as Record<number, number | bigint>)[k];
  }
  return { name: values.name, dtype: values.dtype, shape: dims, values: dense };
}

const ATTR_TYPES: Record<number, AttrValue['kind']> = {
  1: 'float', 2: 'int', 3: 'string', 4: 'tensor', 5: 'graph', 6: 'floats', 7: 'ints', 8: 'strings',
  9: 'tensors', 10: 'graphs', 11: 'tensor', 12: 'tensors',
};

/** Returns undefined for attributes the IR cannot hold (type protos, references to function attributes). */
function readAttribute(r: ProtoReader, nodeLabel: string, ctx: ReadCtx): [string, AttrValue] | undefined {
  let name = '';
  let type = 0;
  let f32: number | undefined;
  let i64: number | undefined;
  let s: Uint8Array | undefined;
  let t: ConstTensor | undefined;
  let g: Graph | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: Uint8Array[] = [];
  const tensors: ConstTensor[] = [];
  const graphs: Graph[] = [];
  let refOnly = false;
  const what = () => `attribute "${name}" of ${nodeLabel}`;
  while (!r.done) {
    const [f, wt] = r.tag();
    switch (f) {
      case 1: name = r.string(); break;
      case 20: type = r.int32(); break;
      case 2: f32 = r.float(); break;
      case 3: i64 = r.int64(); break;
      case 4: s = r.bytes(); break;
      case 5: t = readTensor(r.message(), what()); break;
      case 6: g = pendingBody(r.message(), ctx, what()); break;
      case 22: t = readSparse(r.message(), what(), ctx); break;
      case 7: r.repeated(wt, () => r.float(), floats); break;
      case 8: r.repeated(wt, () => r.int64(), ints); break;
      case 9: strings.push(r.bytes()); break;
      case 10: tensors.push(readTensor(r.message(), what())); break;
      case 11: graphs.push(pendingBody(r.message(), ctx, what())); break;
      case 23: tensors.push(readSparse(r.message(), what(), ctx)); break;
      case 21: refOnly = true; r.skip(wt); break;
      default: r.skip(wt);
    }
  }
  const dec = new TextDecoder();
  let kind: AttrValue['kind'] | undefined = ATTR_TYPES[type];
  if (!kind) {
    if (type === 13 || type === 14 || refOnly) return undefined;
    // IR version 1 files carry no type: infer it from the field that is set.
    kind = f32 !== undefined ? 'float' : i64 !== undefined ? 'int' : s ? 'string' : t ? 'tensor' : g ? 'graph'
      : floats.length ? 'floats' : ints.length ? 'ints' : strings.length ? 'strings' : tensors.length ? 'tensors'
      : graphs.length ? 'graphs' : undefined;
    if (!kind) return undefined;
  }
  switch (kind) {
    case 'float': return [name, { kind, value: f32 ?? 0 }];
    case 'int': return [name, { kind, value: i64 ?? 0 }];
    case 'string': return [name, { kind, value: s ? dec.decode(s) : '' }];
    case 'tensor':
      if (!t) throw new InputError(`${what()} is a tensor attribute without a tensor`);
      return [name, { kind, value: t }];
    case 'graph':
      if (!g) throw new InputError(`${what()} is a graph attribute without a graph`);
      return [name, { kind, value: g }];
    case 'floats': return [name, { kind, value: floats }];
    case 'ints': return [name, { kind, value: ints }];
    case 'strings': return [name, { kind, value: strings.map((x) => dec.decode(x)) }];
    case 'tensors': return [name, { kind, value: tensors }];
    case 'graphs': return [name, { kind, value: graphs }];
  }
}

interface NodeDraft { name: string; opType: string; domain: string; inputs: string[]; outputs: string[]; attrs: Record<string, AttrValue> }

function readNode(r: ProtoReader, index: number, ctx: ReadCtx): NodeDraft {
  const n: NodeDraft = { name: '', opType: '', domain: '', inputs: [], outputs: [], attrs: {} };
  const attrMsgs: ProtoReader[] = [];
  while (!r.done) {
    const [f, wt] = r.tag();
    switch (f) {
      case 1: n.inputs.push(r.string()); break;
      case 2: n.outputs.push(r.string()); break;
      case 3: n.name = r.string(); break;
      case 4: n.opType = r.string(); break;
      case 7: n.domain = r.string(); break;
      case 5: attrMsgs.push(r.message()); break;
      default: r.skip(wt);
    }
  }
  if (n.domain === 'ai.onnx') n.domain = '';
  if (!n.opType) throw new InputError(`node ${index} ("${n.name}") has no op_type`);
  // Attributes after the fields so that errors can name the node.
  const label = `node "${n.name || `${n.opType}_${index}`}" (${n.opType})`;
  for (const a of attrMsgs) {
    const kv = readAttribute(a, label, ctx);
    if (kv) n.attrs[kv[0]] = kv[1];
  }
  return n;
}

function readGraph(r: ProtoReader, ctx: ReadCtx): RawGraph {
  const drafts: NodeDraft[] = [];
  const g: RawGraph = { name: '', nodes: [], inputs: [], outputs: [], initializers: new Map(), declared: new Map() };
  while (!r.done) {
    const [f, wt] = r.tag();
    switch (f) {
      case 1: drafts.push(readNode(r.message(), drafts.length, ctx)); break;
      case 2: g.name = r.string(); break;
      case 5: {
        const t = readTensor(r.message(), `initializer ${g.initializers.size}`);
        g.initializers.set(t.name, t);
        break;
      }
      case 15: {
        const t = readSparse(r.message(), `sparse initializer ${g.initializers.size}`, ctx);
        g.initializers.set(t.name, t);
        break;
      }
      case 11: g.inputs.push(readValueInfo(r.message())); break;
      case 12: g.outputs.push(readValueInfo(r.message())); break;
      case 13: { const vi = readValueInfo(r.message()); g.declared.set(vi.name, vi); break; }
      default: r.skip(wt);
    }
  }
  // Unique node names: unnamed ones become <OpType>_<index>; clashes get a numeric suffix.
  // The next suffix to try is kept per name, so 50,000 nodes sharing one name stay linear.
  const used = new Set<string>();
  const nextSuffix = new Map<string, number>();
  drafts.forEach((d, i) => {
    let name = d.name || `${d.opType}_${i}`;
    if (used.has(name)) {
      let k = nextSuffix.get(name) ?? 2;
      while (used.has(`${name}_${k}`)) k++;
      nextSuffix.set(name, k + 1);
      name = `${name}_${k}`;
    }
    used.add(name);
    d.name = name;
  });
  g.nodes = drafts;
  // Initializers listed among the inputs (opsets < 9 did this) are constants, not inputs.
  g.inputs = g.inputs.filter((i) => !g.initializers.has(i.name));
  return g;
}

function checkAcyclic(g: Graph): void {
  try {
    topoSort(g);
  } catch (e) {
    if (isInputError(e)) throw e;
    throw new InputError(`${g.name ? `graph "${g.name}": ` : ''}${(e as Error).message}`);
  }
}

/**
 * A control-flow body. Its valueInfo starts as declared and is completed when the top-level graph is
 * inferred, because a body can read tensors of the scopes around it.
 */
function finishSubgraph(raw: RawGraph, target: Graph): void {
  // The body's Graph object is already referenced by its node: fill it in place.
  Object.assign(target, {
    name: raw.name, nodes: raw.nodes, inputs: raw.inputs, outputs: raw.outputs, initializers: raw.initializers,
    valueInfo: new Map(raw.declared),
  });
  checkAcyclic(target);
}

/** Reads the bodies `ctx` collected, and the bodies those hold, from a work list. */
function readBodies(pending: PendingBody[]): void {
  for (let b = pending.pop(); b; b = pending.pop()) finishSubgraph(readGraph(b.reader, b.ctx), b.target);
}

/** Order check and shape inference (into the bodies too); returns the top-level IR graph. */
function finishGraph(raw: RawGraph, opset: number): Graph {
  const base: Graph = {
    name: raw.name, nodes: raw.nodes, inputs: raw.inputs, outputs: raw.outputs, initializers: raw.initializers,
    valueInfo: raw.declared,
  };
  checkAcyclic(base);
  const all = inferShapesDeep(base, opset);
  for (const [g, info] of all) {
    if (g === base) continue;
    // Bodies were built by this reader with a Map of their own: completing it here is part of reading.
    const target = g.valueInfo as Map<string, TensorInfo>;
    for (const [k, v] of info) target.set(k, v);
  }
  const valueInfo = all.get(base)!;
  // Declared outputs fill what inference could not find; inference wins where both know a dimension.
  for (const o of raw.outputs) {
    const inferred = valueInfo.get(o.name);
    if (!inferred) valueInfo.set(o.name, o);
    else if (isUntyped(inferred)) continue;
    else if (!inferred.shape && o.shape) valueInfo.set(o.name, { ...inferred, shape: o.shape });
  }
  for (const i of raw.inputs) if (!valueInfo.has(i.name)) valueInfo.set(i.name, i);
  // Outputs whose type or shape the file omitted take what inference found.
  const outputs = raw.outputs.map((o) => {
    const v = valueInfo.get(o.name);
    if (!v || v === o || (o.shape && !isUntyped(o))) return o;
    return { name: o.name, dtype: isUntyped(o) ? v.dtype : o.dtype, ...(o.shape ?? v.shape ? { shape: o.shape ?? v.shape } : {}) };
  });
  return { ...base, outputs, valueInfo };
}

function looksLikeProtobufStart(b: Uint8Array): boolean {
  // A ModelProto starts with one of its fields: ir_version (0x08), producer (0x12), graph (0x3a), opset (0x42)…
  const t = b[0];
  const field = t >> 3;
  const wt = t & 7;
  return field >= 1 && field <= 30 && (wt === 0 || wt === 2);
}

/** Parses an ONNX model file. Throws InputError with a one-line message for anything that is not a valid model. */
export function readOnnx(bytes: Uint8Array): Model {
  try {
    return readModel(bytes);
  } catch (e) {
    throw asInputError(e, 'the model');
  }
}

function readModel(bytes: Uint8Array): Model {
  if (bytes.length === 0) throw new InputError('the file is empty');
  if (!looksLikeProtobufStart(bytes)) throw new InputError('the file is not an ONNX model (it does not start like a protobuf ModelProto)');
  const r = new ProtoReader(bytes);
  let irVersion = 0;
  let producer = '';
  let producerVersion = '';
  let graphMsg: ProtoReader | undefined;
  const opsetImports: OpsetImport[] = [];
  const metadata: Record<string, string> = {};
  while (!r.done) {
    const [f, wt] = r.tag();
    switch (f) {
      case 1: irVersion = r.int64(); break;
      case 2: producer = r.string(); break;
      case 3: producerVersion = r.string(); break;
      case 7: graphMsg = r.message(); break;
      case 8: {
        const o = r.message();
        let domain = '';
        let version = 0;
        while (!o.done) {
          const [of, owt] = o.tag();
          if (of === 1) domain = o.string();
          else if (of === 2) version = o.int64();
          else o.skip(owt);
        }
        opsetImports.push({ domain: domain === 'ai.onnx' ? '' : domain, version });
        break;
      }
      case 14: { const [k, v] = readStringEntry(r.message()); metadata[k] = v; break; }
      default: r.skip(wt);
    }
  }
  if (r.pos !== r.end) throw new InputError('the file is truncated or is not an ONNX model (protobuf data ends mid-field)');
  if (!graphMsg) throw new InputError('the file is not an ONNX model (it has no graph)');
  if (!(irVersion >= 1 && irVersion <= 20)) throw new InputError(`the file is not an ONNX model (IR version ${irVersion} is not one ONNX has defined)`);
  // Writers put opset_import after the graph, so a file cut right there still parses: IR 3+ requires it.
  if (irVersion >= 3 && opsetImports.length === 0) throw new InputError('the file is truncated or malformed: the model has no opset_import');
  const opset = opsetImports.find((o) => o.domain === '')?.version ?? (opsetImports.length ? 0 : 1);
  const ctx: ReadCtx = { opset, depth: 0, fileBytes: bytes.length, pending: [] };
  const raw = readGraph(graphMsg, ctx);
  readBodies(ctx.pending);
  const graph = finishGraph(raw, opset);
  return { format: 'onnx', graph, opset, opsetImports, producer, producerVersion, metadata };
}
