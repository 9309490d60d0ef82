// Small crafted files for what fuzzing finds slowly or never: huge sizes in attributes, deep nesting,
// long chains and clashing names. Written with the wire encoder directly, bottom-up, so that building
// them recurses over nothing.
import { ProtoWriter } from '../../src/core/onnx/wire';

const FLOAT = 1;
const INT64 = 7;
const BOOL = 9;
const DOUBLE = 11;

function valueInfo(name: string, dtype: number, dims: readonly number[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, new ProtoWriter().varint(1, d));
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, new ProtoWriter().varint(1, dtype).message(2, shape)));
}

function node(op: string, inputs: readonly string[], outputs: readonly string[], name = '', attrs: ProtoWriter[] = []): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  if (name) w.string(3, name);
  w.string(4, op);
  for (const a of attrs) w.message(5, a);
  return w;
}

const intAttr = (name: string, v: number) => new ProtoWriter().string(1, name).varint(20, 2).varint(3, v);
const graphAttr = (name: string, g: ProtoWriter) => new ProtoWriter().string(1, name).varint(20, 5).message(6, g);

function int64Tensor(name: string, values: readonly number[]): ProtoWriter {
  const w = new ProtoWriter().varint(1, values.length).varint(2, INT64).string(8, name);
  for (const v of values) w.varint(7, v);
  return w;
}

interface GraphParts {
  nodes: ProtoWriter[];
  inputs?: ProtoWriter[];
  outputs?: ProtoWriter[];
  initializers?: ProtoWriter[];
  sparse?: ProtoWriter[];
  name?: string;
}

function graph(p: GraphParts): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of p.nodes) w.message(1, n);
  w.string(2, p.name ?? 'g');
  for (const t of p.initializers ?? []) w.message(5, t);
  for (const i of p.inputs ?? []) w.message(11, i);
  for (const o of p.outputs ?? []) w.message(12, o);
  for (const s of p.sparse ?? []) w.message(15, s);
  return w;
}

function model(g: ProtoWriter, opset = 13): Uint8Array {
  return new ProtoWriter().varint(1, 8).string(2, 'hostile').message(7, g).message(8, new ProtoWriter().varint(2, opset)).finish();
}

/** x [1, 4] → op → y, with extra initializers. */
function oneOp(op: string, extraInputs: readonly string[], attrs: ProtoWriter[], initializers: ProtoWriter[] = [], outputs = ['y']): Uint8Array {
  return model(graph({
    nodes: [node(op, ['x', ...extraInputs], outputs, `big_${op.toLowerCase()}`, attrs)],
    inputs: [valueInfo('x', FLOAT, [1, 4])], outputs: outputs.map((o) => valueInfo(o, FLOAT, [])), initializers,
  }));
}

const P31 = 2 ** 31;

export const hostileOnnx = {
  splitAxis: () => oneOp('Split', [], [intAttr('axis', P31)], [], ['y', 'z']),
  splitSizes: () => oneOp('Split', ['s'], [intAttr('axis', 1)], [int64Tensor('s', [P31, P31])], ['y', 'z']),
  sliceAxis: () => oneOp('Slice', ['st', 'en', 'ax'], [], [int64Tensor('st', [0]), int64Tensor('en', [P31]), int64Tensor('ax', [P31])]),
  concatAxis: () => oneOp('Concat', ['x'], [intAttr('axis', P31)]),
  padSizes: () => oneOp('Pad', ['p'], [], [int64Tensor('p', [0, 0, P31, P31])]),
  resizeSizes: () => oneOp('Resize', ['', '', 'sz'], [], [int64Tensor('sz', [P31, P31])]),
  expandShape: () => oneOp('Expand', ['sh'], [], [int64Tensor('sh', [P31, P31])]),
  tileReps: () => oneOp('Tile', ['r'], [], [int64Tensor('r', [P31, P31])]),
  /** ConstantOfShape whose shape input is declared with 2^31 elements: a rank of 2^31. */
  constantOfShapeRank: () => model(graph({
    nodes: [node('ConstantOfShape', ['s'], ['y'], 'big_cos')],
    inputs: [valueInfo('s', INT64, [P31])], outputs: [valueInfo('y', FLOAT, [])],
  })),
  /** A 2^27-element float64 sparse initializer (1 GB dense) in a few hundred bytes. */
  sparseHuge: () => {
    const values = new ProtoWriter().varint(1, 1).varint(2, DOUBLE).string(8, 'w').bytes(9, new Uint8Array(8));
    const indices = new ProtoWriter().varint(1, 1).varint(2, INT64).varint(7, 5);
    const sparse = new ProtoWriter().message(1, values).message(2, indices).varint(3, 2 ** 27);
    return model(graph({
      nodes: [node('Add', ['x', 'w'], ['y'])], inputs: [valueInfo('x', DOUBLE, [2 ** 27])], outputs: [valueInfo('y', DOUBLE, [])], sparse: [sparse],
    }));
  },
  /**
   * `depth` If nodes, each then_branch holding the next; the innermost reads the outer x. Every level is
   * the same bytes around the level inside it, so the file is written as prefixes, the leaf and suffixes
   * with the lengths computed first: linear in depth, where nesting encoded messages would be quadratic.
   */
  nestedIf: (depth: number) => {
    const leaf = () => graph({ nodes: [node('Identity', ['x'], ['t'])], outputs: [valueInfo('t', FLOAT, [1, 4])], name: 'leaf' });
    const bytes = (w: ProtoWriter) => w.finish().slice();
    const elseAttr = bytes(new ProtoWriter().message(5, graphAttr('else_branch', leaf())));
    const thenHead = bytes(new ProtoWriter().string(1, 'then_branch').varint(20, 5));
    const graphTail = (d: number) => bytes(new ProtoWriter().string(2, `body_${d}`).message(12, valueInfo('t', FLOAT, [1, 4])));
    const nodeHead = (d: number) => bytes(new ProtoWriter().string(1, 'c').string(2, 't').string(3, `if_${d}`).string(4, 'If'));
    const lenBytes = (n: number) => bytes(new ProtoWriter().varint(1, n)).subarray(1);
    const prefixes: Uint8Array[] = [];
    const suffixes: Uint8Array[] = [];
    let inner = bytes(leaf()).length;
    for (let d = 0; d < depth; d++) {
      // attr = then_branch head, field 6 (0x32) + len + inner graph
      const attrLen = thenHead.length + 1 + lenBytes(inner).length + inner;
      const head = nodeHead(d);
      // node = head, field 5 (0x2a) + len + attr, else attr
      const nodeLen = head.length + 1 + lenBytes(attrLen).length + attrLen + elseAttr.length;
      const tail = graphTail(d);
      // graph = field 1 (0x0a) + len + node, tail
      prefixes.push(concatBytes(Uint8Array.of(0x0a), lenBytes(nodeLen), head, Uint8Array.of(0x2a), lenBytes(attrLen), thenHead, Uint8Array.of(0x32), lenBytes(inner)));
      suffixes.push(concatBytes(elseAttr, tail));
      inner = 1 + lenBytes(nodeLen).length + nodeLen + tail.length;
    }
    const body = concatBytes(...prefixes.reverse(), bytes(leaf()), ...suffixes);
    const top = new ProtoWriter().string(1, 'then_branch').varint(20, 5).bytes(6, body);
    return model(graph({
      nodes: [node('If', ['c'], ['y'], 'top_if', [top, graphAttr('else_branch', leaf())])],
      inputs: [valueInfo('x', FLOAT, [1, 4]), valueInfo('c', BOOL, [])], outputs: [valueInfo('y', FLOAT, [1, 4])],
    }));
  },
  /** x → Relu → Relu → … (`n` nodes) → y; `sameName` gives every node one name; `ops` cycles op types. */
  chain: (n: number, sameName?: string, ops: readonly string[] = ['Relu'], shape: readonly number[] = [1, 4]) => {
    const nodes: ProtoWriter[] = [];
    for (let i = 0; i < n; i++) {
      const op = ops[i % ops.length];
      nodes.push(node(op, [i ? `t${i}` : 'x'], [i === n - 1 ? 'y' : `t${i + 1}`], sameName ?? `${op.toLowerCase()}_${i}`));
    }
    return model(graph({ nodes, inputs: [valueInfo('x', FLOAT, shape)], outputs: [valueInfo('y', FLOAT, shape)] }));
  },
  /** x → `n` Relus side by side → one Concat of all of them → y: a fan-out and a fan-in `n` wide. */
  fan: (n: number) => {
    const nodes: ProtoWriter[] = [];
    for (let i = 0; i < n; i++) nodes.push(node('Relu', ['x'], [`r${i}`], `relu_${i}`));
    nodes.push(node('Concat', Array.from({ length: n }, (_, i) => `r${i}`), ['y'], 'concat', [intAttr('axis', 1)]));
    return model(graph({ nodes, inputs: [valueInfo('x', FLOAT, [1, 2, 4, 4])], outputs: [valueInfo('y', FLOAT, [1, 2 * n, 4, 4])] }));
  },
  /** A model with `depth` nested protobuf groups (wire types 3/4) in a field readers skip (19). */
  nestedGroups: (depth: number) => {
    const ok = hostileOnnx.chain(1);
    const groups = new Uint8Array(depth * 4);
    for (let i = 0; i < depth; i++) groups.set([0x9b, 0x01], 2 * i); // field 19, start group
    for (let i = depth; i < 2 * depth; i++) groups.set([0x9c, 0x01], 2 * i); // field 19, end group
    // After the model's first field, so the file still starts like a model.
    return concatBytes(ok.subarray(0, 2), groups, ok.subarray(2));
  },
  /** A value whose type is a sequence of a sequence of … `depth` levels. */
  nestedSequenceType: (depth: number) => {
    let t = new ProtoWriter().message(1, new ProtoWriter().varint(1, FLOAT));
    for (let d = 0; d < depth; d++) t = new ProtoWriter().message(4, new ProtoWriter().message(1, t));
    const vi = new ProtoWriter().string(1, 'x').message(2, t);
    return model(graph({ nodes: [node('Identity', ['x'], ['y'])], inputs: [vi], outputs: [valueInfo('y', FLOAT, [])] }));
  },
};

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** An .xmodel with one op whose op_attr map has an entry without a value (protobufjs decodes it as null). */
export function xmodelNullAttr(): Uint8Array {
  const entry = new ProtoWriter().string(1, 'shape');
  const tensor = new ProtoWriter().string(1, 'a').varint(2, 1).varint(2, 4).varint(5, 3).varint(6, 32);
  const op = new ProtoWriter().string(1, 'a').string(2, 'data').message(3, entry).message(5, tensor);
  const root = new ProtoWriter().string(1, 'root').string(3, 'a');
  return new ProtoWriter().string(1, 'g').message(5, op).message(10, root).finish();
}
