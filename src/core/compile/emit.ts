// A compile result as an XIR graph in the compiled layout vai_c_xir writes (root → USER/DPU/CPU children,
// `-fix` op types, upload/download at DPU boundaries, int8 const-fix weights, fix points on tensors).
// No machine code: the DPU children carry no mc_code/reg maps, so VART cannot run the file, but XIR tools
// and Netron read it.
import type { XAttr, XModel, XOp, XSubgraph } from '../xmodel/types';
import type { Activation, Layer } from './layer';
import type { CompileResult, PlacedLayer } from './partition';

const i32v = (v: readonly number[]): XAttr => ({ kind: 'int32_vec', value: v });
const str = (v: string): XAttr => ({ kind: 'string', value: v });
const u64 = (v: number): XAttr => ({ kind: 'uint64', value: BigInt(Math.round(v)) });

const NONLINEAR: Record<Activation['type'], string> = {
  relu: 'RELU', relu6: 'RELU6', leaky_relu: 'LEAKYRELU', prelu: 'PRELU', hard_sigmoid: 'HSIGMOID',
  hard_swish: 'HSWISH', sigmoid: 'NONE', silu: 'NONE', tanh: 'NONE', gelu: 'NONE', exp: 'NONE', softmax: 'NONE', clip: 'NONE',
};

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

export function compiledXModel(r: CompileResult): XModel {
  const ops: XOp[] = [];
  const quantized = r.graph.quantized;
  const fixAttrs = (fp: number | undefined): Record<string, XAttr> =>
    fp === undefined ? {} : {
      fix_point: { kind: 'int32', value: fp }, bit_width: { kind: 'int32', value: 8 },
      if_signed: { kind: 'bool', value: true }, round_mode: str('DPU_ROUND'),
    };
  const tensor = (name: string, shape: readonly number[], fp: number | undefined, int8: boolean) => ({
    name, shape: shape.map((d) => Math.max(0, Math.round(d))), dataType: int8 ? 'XINT' as const : 'FLOAT' as const,
    bitWidth: int8 ? 8 : 32, attrs: fixAttrs(fp),
  });

  const sgOf = new Map<number, number>();
  r.subgraphs.forEach((s, i) => s.layers.forEach((li) => sgOf.set(li, i)));
  const opOfLayer = new Map<number, string>(); // layer id → op name producing its output
  const idToIndex = new Map<number, number>();
  r.layers.forEach((p, i) => { for (const m of p.members) idToIndex.set(m, i); });
  const boundary = new Map<string, string>(); // `${layerIndex}->${subgraph}` → upload/download op name
  const sgOps: string[][] = r.subgraphs.map(() => []);

  const emitted = new Set<string>();
  const emit = (op: XOp, sg: number) => { ops.push(op); sgOps[sg].push(op.name); };

  r.subgraphs.forEach((s, si) => {
    for (const li of s.layers) {
      const p: PlacedLayer = r.layers[li];
      const l = p.layer;
      const int8 = quantized && p.device !== 'CPU';
      const device = str(p.device);
      // Inputs: through an upload when entering a DPU subgraph from elsewhere.
      const inputOps = l.inputs.map((id) => {
        const src = idToIndex.get(id)!;
        const name = opOfLayer.get(src)!;
        if (p.device !== 'DPU' || sgOf.get(src) === si) return name;
        const key = `${src}->${si}`;
        if (!boundary.has(key)) {
          const up = `${name}_upload_${si}`;
          const srcLayer = r.layers[src].layer;
          emit({ name: up, type: 'upload', attrs: { device: str('DPU') }, args: [{ name: 'input', ops: [name] }], output: tensor(up, srcLayer.shape, srcLayer.fixPoint, quantized) }, si);
          boundary.set(key, up);
        }
        return boundary.get(key)!;
      });
      const args = inputOps.length ? [{ name: 'input', ops: inputOps }] : [];
      const attrs: Record<string, XAttr> = { device };
      if (l.kind === 'input') {
        attrs.shape = i32v(l.shape);
        attrs.data_type = str(quantized && l.fixPoint !== undefined ? 'XINT8' : 'FLOAT32');
      }
      if (l.kernel) attrs.kernel = i32v([l.kernel[1], l.kernel[0]]);
      if (l.stride) attrs.stride = i32v([l.stride[1], l.stride[0]]);
      if (l.dilation) attrs.dilation = i32v([l.dilation[1], l.dilation[0]]);
      if (l.pad) attrs.pad = i32v([l.pad[1], l.pad[3], l.pad[0], l.pad[2]]);
      if (l.poolType) attrs.type = str(l.poolType === 'max' ? 'MAX' : 'AVG');
      if (l.eltwise) attrs.type = str(l.eltwise.toUpperCase());
      if (['conv', 'depthwise', 'deconv', 'dense', 'eltwise'].includes(l.kind))
        attrs.nonlinear = str(l.activation ? NONLINEAR[l.activation.type] : 'NONE');
      if (l.activation?.type === 'leaky_relu') attrs.alpha = { kind: 'float', value: l.activation?.alpha ?? 26 / 256 };
      if (p.device === 'DPU') {
        attrs.workload = u64(p.cost.workload);
        attrs.workload_on_arch = u64(p.cost.workloadOnArch);
      }
      // Weights as const-fix (int8) on the DPU, float const elsewhere.
      for (const w of l.weights?.() ?? []) {
        if (!w.values.length) continue;
        const name = w.name;
        if (emitted.has(name)) { args.push({ name: w.role, ops: [name] }); continue; }
        emitted.add(name);
        const fp = w.fixPoint ?? weightFixPoint(w.values);
        const q = int8 || p.device === 'DPU';
        const data = q ? quantize(w.values, fp) : new Uint8Array(w.values.buffer.slice(w.values.byteOffset, w.values.byteOffset + w.values.byteLength));
        emit({
          name, type: q ? 'const-fix' : 'const',
          attrs: { device, shape: i32v(w.shape), data_type: str(q ? 'XINT8' : 'FLOAT32'), data: { kind: 'bytes', value: data } },
          args: [], output: tensor(name, w.shape, q ? fp : undefined, q),
        }, si);
        args.push({ name: w.role, ops: [name] });
      }
      const type = p.device === 'DPU' ? dpuType(l) : l.kind === 'input' ? (quantized && l.fixPoint !== undefined ? 'data-fix' : 'data') : l.kind === 'output' ? 'fix2float' : l.op;
      const opName = l.name;
      emit({ name: opName, type, attrs, args, output: tensor(opName, l.shape, l.kind === 'output' ? undefined : l.fixPoint, int8 && l.kind !== 'output') }, si);
      opOfLayer.set(li, opName);
      // Downloads for outputs leaving a DPU subgraph.
      if (p.device === 'DPU') {
        const leaves = r.layers.some((q, qi) => sgOf.get(qi) !== si && q.layer.inputs.some((id) => idToIndex.get(id) === li));
        if (leaves || l.graphOutput) {
          const down = `${opName}_download_0`;
          emit({ name: down, type: 'download', attrs: { device: str('DPU') }, args: [{ name: 'input', ops: [opName] }], output: tensor(down, l.shape, l.fixPoint, quantized) }, si);
          opOfLayer.set(li, down);
        }
      }
    }
  });

  const children: XSubgraph[] = r.subgraphs.map((s, i) => {
    const attrs: Record<string, XAttr> = {
      device: str(s.device), workload: u64(s.cost.workload), workload_on_arch: u64(s.cost.workloadOnArch),
    };
    if (s.device === 'DPU') {
      attrs.dpu_name = str(r.target.name);
      if (r.target.fingerprint !== undefined) attrs.dpu_fingerprint = { kind: 'uint64', value: r.target.fingerprint };
    }
    return { name: s.name, ops: sgOps[i], attrs, children: [] };
  });
  const total = r.totals;
  return {
    name: r.graph.name || 'graph',
    ops,
    attrs: {},
    root: { name: 'root', ops: [], attrs: { workload: u64(total.workload), workload_on_arch: u64(total.workloadOnArch) }, children },
  };
}
