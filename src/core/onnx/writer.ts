// IR → ONNX ModelProto bytes. Round-trips readOnnx; tensors are written as raw_data.
import { ONNX_DTYPE_CODE, type AttrValue, type Graph, type Model, type Node, type TensorInfo } from '../ir';
import { writeTensor } from './tensor';
import { isUntyped } from './untyped';
import { ProtoWriter } from './wire';

const ATTR_CODE: Record<AttrValue['kind'], number> = {
  float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7, strings: 8, tensors: 9, graphs: 10,
};

/** The oldest IR version that can carry `opset` (onnx/docs/Versioning.md), so older runtimes accept the file. */
export function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function writeValueInfo(v: TensorInfo): ProtoWriter {
  // An untyped value stays untyped in the file rather than claiming the reader's float32 guess.
  if (isUntyped(v) && !v.shape) return new ProtoWriter().string(1, v.name);
  const tensorType = new ProtoWriter();
  if (!isUntyped(v)) tensorType.varint(1, ONNX_DTYPE_CODE[v.dtype]);
  if (v.shape) {
    const shape = new ProtoWriter();
    for (const d of v.shape) {
      const dim = new ProtoWriter();
      if (typeof d === 'number') dim.varint(1, d);
      else dim.string(2, d);
      shape.message(1, dim);
    }
    tensorType.message(2, shape);
  }
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

function writeAttr(name: string, a: AttrValue, bodies: Bodies): ProtoWriter {
  const w = new ProtoWriter().string(1, name).varint(20, ATTR_CODE[a.kind]);
  switch (a.kind) {
    case 'float': w.float(2, a.value); break;
    case 'int': w.varint(3, a.value); break;
    case 'string': w.string(4, a.value); break;
    case 'tensor': w.message(5, writeTensor(a.value)); break;
    case 'graph': w.bytes(6, bodies.get(a.value)!); break;
    case 'floats': for (const f of a.value) w.float(7, f); break;
    case 'ints': for (const i of a.value) w.varint(8, i); break;
    case 'strings': for (const s of a.value) w.string(9, s); break;
    case 'tensors': for (const t of a.value) w.message(10, writeTensor(t)); break;
    case 'graphs': for (const g of a.value) w.bytes(11, bodies.get(g)!); break;
  }
  return w;
}

function writeNode(n: Node, bodies: Bodies): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  if (n.domain) w.string(7, n.domain);
  for (const [name, a] of Object.entries(n.attrs)) w.message(5, writeAttr(name, a, bodies));
  return w;
}

/** Encoded control-flow bodies by graph. */
type Bodies = ReadonlyMap<Graph, Uint8Array>;

/**
 * Every body under `top` encoded, deepest first (each before the graphs holding it): a nested message must
 * be encoded before its parent, and walking the tree with a stack keeps deep nesting off the call stack.
 */
function encodeBodies(top: Graph): Bodies {
  const preorder: Graph[] = [];
  const stack: Graph[] = [top];
  while (stack.length) {
    const g = stack.pop()!;
    preorder.push(g);
    for (const n of g.nodes)
      for (const a of Object.values(n.attrs)) {
        if (a.kind === 'graph') stack.push(a.value);
        else if (a.kind === 'graphs') stack.push(...a.value);
      }
  }
  const out = new Map<Graph, Uint8Array>();
  for (let i = preorder.length - 1; i > 0; i--) out.set(preorder[i], writeGraph(preorder[i], true, out).finish());
  return out;
}

function writeGraph(g: Graph, valueInfo: boolean, bodies: Bodies): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, writeNode(n, bodies));
  w.string(2, g.name || 'graph');
  for (const t of g.initializers.values()) w.message(5, writeTensor(t));
  for (const i of g.inputs) w.message(11, writeValueInfo(i));
  for (const o of g.outputs) w.message(12, writeValueInfo(o));
  if (valueInfo) {
    // Intermediate tensors only: inputs, outputs and initializers carry their own types.
    const skip = new Set([...g.inputs.map((i) => i.name), ...g.outputs.map((o) => o.name), ...g.initializers.keys()]);
    for (const [name, v] of g.valueInfo) if (!skip.has(name)) w.message(13, writeValueInfo(v));
  }
  return w;
}

export interface WriteOptions {
  /** Also store graph.valueInfo of intermediate tensors (default true). Tests turn it off to exercise inference. */
  readonly valueInfo?: boolean;
}

/** Serialises a model as an ONNX ModelProto. */
export function writeOnnx(model: Model, options: WriteOptions = {}): Uint8Array {
  const w = new ProtoWriter().varint(1, irVersionFor(model.opset));
  if (model.producer) w.string(2, model.producer);
  if (model.producerVersion) w.string(3, model.producerVersion);
  w.message(7, writeGraph(model.graph, options.valueInfo ?? true, encodeBodies(model.graph)));
  const imports = model.opsetImports.length ? model.opsetImports : [{ domain: '', version: model.opset }];
  for (const o of imports) {
    const ow = new ProtoWriter();
    if (o.domain) ow.string(1, o.domain);
    w.message(8, ow.varint(2, o.version));
  }
  for (const [k, v] of Object.entries(model.metadata)) w.message(14, new ProtoWriter().string(1, k).string(2, v));
  return w.finish();
}
