// A compile result as an XIR graph in the compiled layout vai_c_xir writes: root → USER/DPU/CPU children, a
// DPU child nesting one grandchild per DPU layer (weights + op, pools with the conv they follow), `-fix` op
// types, upload/download at DPU boundaries, fix2float/float2fix where CPU ops meet int8 tensors, int8
// const-fix weights and fix points on int8 tensors. Op and subgraph names follow vai_c_xir's scheme
// (checked on pointpillars_compiled_B4096.xmodel, see test/unit/xmodel-export.test.ts).
// No machine code: the DPU children carry no mc_code/reg maps, so VART cannot run the file, but XIR tools
// and Netron read it.
import { X_ARG_OCCUR, X_DATA_TYPES, type XAttr, type XModel, type XOp, type XOpDef, type XSubgraph } from '../xmodel/types';
import type { Activation, Layer } from './layer';
import { isAccelerator, type CompileResult } from './partition';

const i32v = (v: readonly number[]): XAttr => ({ kind: 'int32_vec', value: v });
const str = (v: string): XAttr => ({ kind: 'string', value: v });
const u64 = (v: number): XAttr => ({ kind: 'uint64', value: BigInt(Math.round(v)) });

const NONLINEAR: Record<Activation['type'], string> = {
  relu: 'RELU', relu6: 'RELU6', leaky_relu: 'LEAKYRELU', prelu: 'PRELU', hard_sigmoid: 'HSIGMOID',
  hard_swish: 'HSWISH', sigmoid: 'NONE', silu: 'NONE', tanh: 'NONE', gelu: 'NONE', exp: 'NONE', softmax: 'NONE', clip: 'NONE',
};

/** XIR op types of the float ops ONNX models hand to the CPU (XIR's op registry names). */
const XIR_TYPES: Record<string, string> = {
  Sigmoid: 'sigmoid', Mul: 'mul', Add: 'add', Sub: 'sub', Div: 'div', Tanh: 'tanh', Exp: 'exp', Softmax: 'softmax',
  Relu: 'relu', LeakyRelu: 'leaky-relu', PRelu: 'prelu', Clip: 'clamp', HardSigmoid: 'hard-sigmoid', HardSwish: 'hard-swish',
  Gelu: 'gelu', Transpose: 'transpose', Reshape: 'reshape', Flatten: 'flatten', Squeeze: 'squeeze', Unsqueeze: 'reshape',
  Concat: 'concat', Slice: 'strided_slice', Gather: 'gather', Split: 'split', Resize: 'resize', Upsample: 'upsample',
  Pad: 'pad', Conv: 'conv2d', ConvTranspose: 'transposed-conv2d', Gemm: 'matmul', MatMul: 'matmul',
  MaxPool: 'maxpool2d', AveragePool: 'avgpool2d', GlobalAveragePool: 'avgpool2d', GlobalMaxPool: 'maxpool2d',
  ReduceMax: 'reduction_max', ReduceMean: 'reduction_mean', ReduceSum: 'reduction_sum', LSTM: 'lstm',
};

const ACT_TYPES: Record<Activation['type'], string> = {
  relu: 'relu', relu6: 'relu6', leaky_relu: 'leaky-relu', prelu: 'prelu', hard_sigmoid: 'hard-sigmoid',
  hard_swish: 'hard-swish', sigmoid: 'sigmoid', silu: 'swish', tanh: 'tanh', gelu: 'gelu', exp: 'exp',
  softmax: 'softmax', clip: 'clamp',
};

/** The XIR type of a float op: ONNX op types are renamed, XIR types (an _int.xmodel's ops) kept. */
export function xirType(op: string): string {
  const base = op.replace(/ of two tensors$/, '');
  return XIR_TYPES[base] ?? base;
}

function dpuType(l: Layer): string {
  switch (l.kind) {
    case 'conv': case 'dense': return 'conv2d-fix';
    case 'depthwise': return 'depthwise-conv2d-fix';
    case 'deconv': return 'transposed-conv2d-fix';
    case 'pool': return 'pool-fix';
    case 'eltwise': return 'eltwise-fix';
    case 'concat': return 'concat-fix';
    case 'upsample': return 'upsample-fix';
    case 'reshape': return 'reshape-fix';
    case 'pad': return 'pad-fix';
    case 'activation': {
      const a = l.activation?.type;
      return a === 'hard_sigmoid' ? 'hard-sigmoid-fix' : a === 'hard_swish' ? 'hard-swish-fix'
        : a === 'leaky_relu' ? 'leaky-relu-fix' : a === 'relu6' ? 'relu6-fix' : 'relu-fix';
    }
    default: return l.op;
  }
}

/** std_round (ties away from zero) and saturation: how the quantizers round weights. */
function quantize(values: Float32Array, fp: number): Uint8Array {
  const s = 2 ** fp;
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i] * s;
    q[i] = Math.max(-128, Math.min(127, Math.sign(x) * Math.round(Math.abs(x))));
  }
  return new Uint8Array(q.buffer);
}

/** Fix point that keeps max|w| in int8 (non-overflow), used when the source gave none. */
function weightFixPoint(values: Float32Array): number {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m === 0 ? 0 : Math.min(12, Math.floor(Math.log2(127.5 / m)));
}

const fixAttrs = (fp: number): Record<string, XAttr> => ({
  fix_point: { kind: 'int32', value: fp }, bit_width: { kind: 'int32', value: 8 },
  if_signed: { kind: 'bool', value: true }, round_mode: str('DPU_ROUND'),
});

const dims = (shape: readonly number[]) => shape.map((d) => Math.max(0, Math.round(d)));
const intTensor = (name: string, shape: readonly number[], fp: number | undefined) => ({
  name, shape: dims(shape), dataType: 'XINT' as const, bitWidth: 8, attrs: fp === undefined ? {} : fixAttrs(fp),
});
const floatTensor = (name: string, shape: readonly number[]) => ({ name, shape: dims(shape), dataType: 'FLOAT' as const, bitWidth: 32, attrs: {} });

/** A value of the attribute's kind that says nothing (op_defs give defaults only to type the attribute). */
function emptyOf(a: XAttr): XAttr {
  if (a.kind.startsWith('map_')) return { kind: a.kind, value: {} } as XAttr;
  if (a.kind.endsWith('_vec')) return { kind: a.kind, value: [] } as XAttr;
  const zero: Record<string, unknown> = {
    bool: false, int64: 0n, uint64: 0n, string: '', bytes: new Uint8Array(0),
  };
  return { kind: a.kind, value: zero[a.kind] ?? 0 } as XAttr;
}

/** op_defs for every op type written: the source file's signature when it had one, else one read off the ops. */
export function opDefsFor(ops: readonly XOp[], known: readonly XOpDef[] = []): XOpDef[] {
  const byName = new Map(ops.map((o) => [o.name, o]));
  const byType = new Map<string, XOp[]>();
  for (const o of ops) {
    const list = byType.get(o.type);
    if (list) list.push(o);
    else byType.set(o.type, [o]);
  }
  return [...byType].map(([type, list]) => {
    const k = known.find((d) => d.name === type);
    if (k) return k;
    const argNames = [...new Set(list.flatMap((o) => o.args.map((a) => a.name)))];
    const inputArgs = argNames.map((name) => {
      const uses = list.map((o) => o.args.find((a) => a.name === name));
      const always = uses.every((u) => u && u.ops.length > 0);
      const many = uses.some((u) => u && u.ops.length > 1);
      const first = uses.find((u) => u && u.ops.length)?.ops[0];
      const dt = first ? X_DATA_TYPES.indexOf(byName.get(first)!.output.dataType) : X_DATA_TYPES.indexOf('FLOAT');
      const occurType = many ? (always ? X_ARG_OCCUR.REQUIRED_AND_REPEATED : X_ARG_OCCUR.REPEATED) : always ? X_ARG_OCCUR.REQUIRED : X_ARG_OCCUR.OPTIONAL;
      return { name, occurType, dataType: dt };
    });
    const attrNames = [...new Set(list.flatMap((o) => Object.keys(o.attrs)))];
    const attrs = attrNames.map((name) => ({
      name, occurType: list.every((o) => name in o.attrs) ? 0 : 1, defaultValue: emptyOf(list.find((o) => name in o.attrs)!.attrs[name]),
    }));
    return { name: type, inputArgs, attrs };
  });
}

interface Child { name: string; ops: string[]; workload: number; workloadOnArch: number; skip: boolean; sorted: boolean }

export function compiledXModel(r: CompileResult): XModel {
  const ops: XOp[] = [];
  const taken = new Set<string>();
  // The next suffix to try per base name keeps many clashes on one name linear.
  const nextSuffix = new Map<string, number>();
  const unique = (n: string) => {
    let x = n;
    let i = nextSuffix.get(n) ?? 1;
    for (; taken.has(x); i++) x = `${n}_${i}`;
    nextSuffix.set(n, i);
    taken.add(x);
    return x;
  };
  // Decoding a layer's weights converts and transposes them: once per layer, shared by naming and writing.
  const decoded = new Map<Layer, ReturnType<NonNullable<Layer['weights']>>>();
  const weightsOf = (l: Layer) => {
    if (!l.weights) return [];
    let w = decoded.get(l);
    if (!w) decoded.set(l, (w = l.weights()));
    return w;
  };
  // Source op names are kept, so reserve them before any inserted op (upload, fix2float…) picks a name.
  for (const p of r.layers) {
    if (p.layer.kind !== 'output') taken.add(p.layer.name); // an output is written as `<name>_`
    for (const c of p.layer.chain ?? []) taken.add(c.name);
    for (const w of weightsOf(p.layer)) taken.add(w.name);
  }
  const quantized = r.graph.quantized;
  const label = r.target.device;

  const sgOf = new Map<number, number>();
  r.subgraphs.forEach((s, i) => s.layers.forEach((li) => sgOf.set(li, i)));
  const idToIndex = new Map<number, number>();
  r.layers.forEach((p, i) => { for (const m of p.members) idToIndex.set(m, i); });
  const readers: number[][] = r.layers.map(() => []);
  // Readers are pushed in increasing order, so a repeat is always the last one: no scan of a wide fan-out.
  r.layers.forEach((p, i) => p.layer.inputs.forEach((id) => { const s = idToIndex.get(id)!; if (s !== i && readers[s][readers[s].length - 1] !== i) readers[s].push(i); }));
  const onAccel = (li: number) => isAccelerator(r.layers[li].device);

  // What each layer's output is available as: the op itself, its int8 copy leaving the DPU (download) or
  // entering it (float2fix on the CPU), and its float view (a CPU op, or the fix that re-quantizes it).
  const own = new Map<number, string>();
  const download = new Map<number, string>();
  const toInt = new Map<number, string>();
  const floatView = new Map<number, string>();
  const crossings = new Map<string, string>(); // `${layer}->${subgraph}` → upload / fix2float name

  const sgOps: string[][] = r.subgraphs.map(() => []);
  const children: Child[][] = r.subgraphs.map(() => []);
  const childOf = new Map<number, Child>();
  const emitted = new Set<string>();
  const push = (op: XOp, sg: number, child?: Child) => {
    ops.push(op);
    (child ? child.ops : sgOps[sg]).push(op.name);
  };
  const newChild = (sg: number, name: string, skip = false, sorted = true): Child => {
    const c = { name: `subgraph_${name}`, ops: [], workload: 0, workloadOnArch: 0, skip, sorted };
    children[sg].push(c);
    return c;
  };

  /** Name of an int8 op a DPU layer of subgraph `si` reads for layer `src`. */
  const accelInput = (src: number, si: number): string => {
    if (sgOf.get(src) === si) return own.get(src)!;
    const key = `${src}->${si}`;
    if (!crossings.has(key)) {
      const from = onAccel(src) ? download.get(src)! : toInt.get(src) ?? own.get(src)!;
      const up = unique(`${from}_upload_0`);
      const l = r.layers[src].layer;
      push({ name: up, type: 'upload', attrs: { device: str(label) }, args: [{ name: 'input', ops: [from] }], output: intTensor(up, l.shape, l.fixPoint) },
        si, newChild(si, up, true, false));
      crossings.set(key, up);
    }
    return crossings.get(key)!;
  };

  /** Name of a float op a CPU layer of subgraph `si` reads for layer `src`; `reader` names the fix2float. */
  const floatInput = (src: number, si: number, reader: string): string => {
    const fv = floatView.get(src);
    if (fv) return fv;
    const key = `${src}->${si}`;
    if (!crossings.has(key)) {
      const l = r.layers[src].layer;
      const from = download.get(src) ?? own.get(src)!;
      // vai_c_xir names it after the fixed tensor and its reader: `<op>_fix_<reader>`.
      const name = unique(`${onAccel(src) ? `${l.tensor}_fix` : l.name}_${reader}`);
      push({ name, type: 'fix2float', attrs: { device: str('CPU'), ...(l.fixPoint === undefined ? {} : fixAttrs(l.fixPoint)) }, args: [{ name: 'input', ops: [from] }], output: floatTensor(name, l.shape) }, si);
      crossings.set(key, name);
    }
    return crossings.get(key)!;
  };

  /** Weights as const-fix (int8) on the DPU, float const elsewhere; returns the args. */
  const weightArgs = (l: Layer, int8: boolean, device: string, sg: number, child?: Child) => {
    const args: { name: string; ops: string[] }[] = [];
    for (const w of weightsOf(l)) {
      if (!w.values.length) continue;
      if (!emitted.has(w.name)) {
        emitted.add(w.name);
        const fp = w.fixPoint ?? weightFixPoint(w.values);
        const data = int8 ? quantize(w.values, fp) : new Uint8Array(w.values.buffer.slice(w.values.byteOffset, w.values.byteOffset + w.values.byteLength));
        push({
          name: w.name, type: int8 ? 'const-fix' : 'const',
          attrs: { device: str(device), shape: i32v(w.shape), data_type: str(int8 ? 'XINT8' : 'FLOAT32'), data: { kind: 'bytes', value: data } },
          args: [], output: int8 ? intTensor(w.name, w.shape, fp) : floatTensor(w.name, w.shape),
        }, sg, child);
      }
      args.push({ name: w.role, ops: [w.name] });
    }
    return args;
  };

  const shapeAttrs = (l: Layer): Record<string, XAttr> => {
    const attrs: Record<string, XAttr> = {};
    if (l.kernel) attrs.kernel = i32v([l.kernel[1], l.kernel[0]]);
    if (l.stride) attrs.stride = i32v([l.stride[1], l.stride[0]]);
    if (l.dilation) attrs.dilation = i32v([l.dilation[1], l.dilation[0]]);
    if (l.pad) attrs.pad = i32v([l.pad[1], l.pad[3], l.pad[0], l.pad[2]]);
    if (l.poolType) attrs.type = str(l.poolType === 'max' ? 'MAX' : 'AVG');
    if (l.eltwise) attrs.type = str(l.eltwise.toUpperCase());
    return attrs;
  };

  r.subgraphs.forEach((s, si) => {
    for (const li of s.layers) {
      const p = r.layers[li];
      const l = p.layer;
      if (p.device === 'USER') {
        const int8 = quantized && l.fixPoint !== undefined;
        push({
          name: l.name, type: int8 ? 'data-fix' : 'data',
          attrs: { device: str('USER'), shape: i32v(l.shape), data_type: str(int8 ? 'XINT8' : 'FLOAT32') }, args: [],
          output: int8 ? intTensor(l.name, l.shape, l.fixPoint) : floatTensor(l.name, l.shape),
        }, si);
        own.set(li, l.name);
        if (!int8) floatView.set(li, l.name);
        continue;
      }
      if (isAccelerator(p.device)) {
        // A pool right after the conv it reads shares that conv's child, as vai_c_xir schedules them together.
        const prod = l.inputs.length === 1 ? idToIndex.get(l.inputs[0])! : -1;
        const joins = l.kind === 'pool' && prod >= 0 && sgOf.get(prod) === si && readers[prod].length === 1 &&
          ['conv', 'dense', 'depthwise'].includes(r.layers[prod].layer.kind) && childOf.has(prod);
        const inputs = l.inputs.map((id) => accelInput(idToIndex.get(id)!, si)); // uploads come first
        const child = joins ? childOf.get(prod)! : newChild(si, l.name, l.kind === 'concat');
        childOf.set(li, child);
        child.workload += p.cost.workload;
        child.workloadOnArch += p.cost.workloadOnArch;
        const args = inputs.length ? [{ name: 'input', ops: inputs }] : [];
        args.push(...weightArgs(l, true, label, si, child));
        const attrs: Record<string, XAttr> = { device: str(label), ...shapeAttrs(l) };
        if (['conv', 'depthwise', 'deconv', 'dense'].includes(l.kind)) {
          if (l.inChannels !== undefined) attrs.in_dim = { kind: 'int32', value: l.inChannels };
          if (l.outChannels !== undefined) attrs.out_dim = { kind: 'int32', value: l.outChannels };
          attrs.group = { kind: 'int32', value: l.kind === 'depthwise' ? l.inChannels ?? l.group ?? 1 : l.group ?? 1 };
          attrs.bias_term = { kind: 'bool', value: args.some((a) => a.name === 'bias') };
          attrs.pad_mode = str('FLOOR');
        }
        if (['conv', 'depthwise', 'deconv', 'dense', 'eltwise'].includes(l.kind))
          attrs.nonlinear = str(l.activation ? NONLINEAR[l.activation.type] : 'NONE');
        if (l.activation?.type === 'leaky_relu') attrs.alpha = { kind: 'float', value: l.activation.alpha ?? 26 / 256 };
        attrs.workload = u64(p.cost.workload);
        attrs.workload_on_arch = u64(p.cost.workloadOnArch);
        push({ name: l.name, type: dpuType(l), attrs, args, output: intTensor(l.name, l.shape, l.fixPoint) }, si, child);
        own.set(li, l.name);
        if (readers[li].some((x) => sgOf.get(x) !== si) || l.graphOutput) {
          const down = unique(`${l.name}_download_0`);
          push({ name: down, type: 'download', attrs: { device: str(label) }, args: [{ name: 'input', ops: [l.name] }], output: intTensor(down, l.shape, l.fixPoint) },
            si, newChild(si, down, false, false));
          download.set(li, down);
        }
        continue;
      }
      // CPU.
      if (l.kind === 'output') {
        const src = idToIndex.get(l.inputs[0])!;
        if (floatView.has(src)) { floatView.set(li, floatView.get(src)!); continue; } // already float
        // vai_c_xir turns a graph output's fix into `<fix>_`, a fix2float of the download.
        const name = unique(`${l.name}_`);
        push({
          name, type: 'fix2float', attrs: { device: str('CPU'), ...(l.fixPoint === undefined ? {} : fixAttrs(l.fixPoint)) },
          args: [{ name: 'input', ops: [download.get(src) ?? own.get(src)!] }], output: floatTensor(name, l.shape),
        }, si);
        own.set(li, name);
        floatView.set(li, name);
        continue;
      }
      const inputs = l.inputs.map((id) => floatInput(idToIndex.get(id)!, si, l.chain?.[0].name ?? l.name));
      const args = [...(inputs.length ? [{ name: 'input', ops: inputs }] : []), ...weightArgs(l, false, 'CPU', si)];
      let last: string;
      if (l.chain && l.chain.length > 1) {
        // SiLU: sigmoid(x), then mul(x, sigmoid(x)).
        const [sig, mul] = l.chain;
        push({ name: sig.name, type: xirType(sig.op), attrs: { device: str('CPU') }, args, output: floatTensor(sig.name, l.shape) }, si);
        push({ name: mul.name, type: xirType(mul.op), attrs: { device: str('CPU') }, args: [{ name: 'input', ops: [...inputs, sig.name] }], output: floatTensor(mul.name, l.shape) }, si);
        last = mul.name;
      } else {
        const fusedAct = p.members.length > 1 ? r.graph.layers[p.members[1]] : undefined;
        const type = l.kind === 'activation' && l.activation ? ACT_TYPES[l.activation.type] : xirType(l.op);
        const attrs: Record<string, XAttr> = { device: str('CPU'), ...shapeAttrs(l) };
        if (l.activation?.type === 'leaky_relu') attrs.alpha = { kind: 'float', value: l.activation.alpha ?? 0.01 };
        push({ name: l.name, type, attrs, args, output: floatTensor(l.name, l.shape) }, si);
        last = l.name;
        // A nonlinearity fused into a layer that landed on the CPU is its own float op there.
        if (fusedAct && fusedAct.name !== l.name && l.activation) {
          const a = unique(fusedAct.name);
          push({ name: a, type: ACT_TYPES[l.activation.type], attrs: { device: str('CPU') }, args: [{ name: 'input', ops: [last] }], output: floatTensor(a, l.shape) }, si);
          last = a;
        }
      }
      own.set(li, last);
      floatView.set(li, last);
      if (!quantized || l.fixPoint === undefined) continue;
      // The quantizer's fix point survives on the CPU as a float `fix` for CPU readers and as float2fix (int8)
      // for DPU readers, both named `<op>_fix` as vai_c_xir does.
      const toAccel = readers[li].some(onAccel);
      const toFloat = l.graphOutput || readers[li].some((x) => !onAccel(x) && r.layers[x].layer.kind !== 'output');
      if (toFloat) {
        const f = unique(`${l.name}_fix`);
        push({ name: f, type: 'fix', attrs: { device: str('CPU'), ...fixAttrs(l.fixPoint) }, args: [{ name: 'input', ops: [last] }], output: floatTensor(f, l.shape) }, si);
        floatView.set(li, f);
      }
      if (toAccel) {
        const f = unique(`${l.name}_fix`);
        push({ name: f, type: 'float2fix', attrs: { device: str('CPU'), ...fixAttrs(l.fixPoint) }, args: [{ name: 'input', ops: [last] }], output: intTensor(f, l.shape, l.fixPoint) }, si);
        toInt.set(li, f);
      }
    }
  });

  const rootChildren: XSubgraph[] = r.subgraphs.map((s, i) => {
    const attrs: Record<string, XAttr> = {
      device: str(s.device), workload: u64(s.cost.workload), workload_on_arch: u64(s.cost.workloadOnArch),
    };
    if (!isAccelerator(s.device))
      return { name: sgOps[i].length ? `subgraph_${sgOps[i][0]}` : s.name, ops: sgOps[i], attrs, children: [] };
    attrs.dpu_name = str(r.target.name);
    if (r.target.fingerprint !== undefined) attrs.dpu_fingerprint = { kind: 'uint64', value: r.target.fingerprint };
    attrs.children_topological_sort = { kind: 'string_vec', value: children[i].filter((c) => c.sorted).map((c) => c.name) };
    const kids: XSubgraph[] = children[i].map((c) => ({
      name: c.name, ops: c.ops, children: [],
      attrs: { workload: u64(c.workload), workload_on_arch: u64(c.workloadOnArch), ...(c.skip ? { skip_code_gen: { kind: 'bool', value: true } } : {}) },
    }));
    return { name: s.name, ops: [], attrs, children: kids };
  });
  const total = r.totals;
  return {
    name: r.graph.name || 'graph',
    ops,
    attrs: {},
    root: { name: 'root', ops: [], attrs: { workload: u64(total.workload), workload_on_arch: u64(total.workloadOnArch) }, children: rootChildren },
    opDefs: opDefsFor(ops, r.graph.opDefs),
  };
}
