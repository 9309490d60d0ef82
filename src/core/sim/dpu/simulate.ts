// The int8 DPU simulator: a compiled QDQ model is planned once (weights quantized and packed, one wasm
// buffer per DPU tensor, a float session per CPU subgraph) and then runs sample after sample. DPU layers
// compute on int8 NHWC maps with the integer semantics of docs/simulator.md; CPU subgraphs run in float on
// onnxruntime-web between fix2float and float2fix, as the deployed model does on the board's ARM cores.
import type { CompileResult, PlacedLayer, Target } from '../../compile';
import { convertedActivation, type Layer } from '../../compile/layer';
import { InputError } from '../../errors';
import { attr, attrInt, type FloatTensor, type Model } from '../../ir';
import { dpuKernels, isDpuHardSigmoid } from '../../quant/dpu-ops';
import { runFakeQuant, type TensorQuant } from '../../quant/quantize';
import { planFloat } from '../float/interpreter';
import type { Kernel, KernelCtx } from '../float/kernel';
import { KERNELS } from '../float/ops';
import { createFloatSession, type FloatSession } from '../float/ort';
import { avgPoolFactor, loadInt8Engine, type Act, type ConvGeometry, type Epilogue, type Int8Engine } from './kernels';
import { qdqFromIntXModel } from '../../xmodel/to-qdq';
import { fixPointTensor, subModel } from './source';
import { codes, compileForSim, floorNearest } from './placed';
import type { Counters, RunOptions, SimOptions, SimPort, SimRun, SimSource, SimTensor, Simulation } from './types';

const numel = (s: readonly number[]) => s.reduce((a, x) => a * x, 1);

/** NHWC (how the DPU stores a 4-D map) → the source model's NCHW; other ranks are stored as they are. */
export function sourceShape(shape: readonly number[]): number[] {
  return shape.length === 4 ? [shape[0], shape[3], shape[1], shape[2]] : [...shape];
}

/** Values in the source layout (NCHW for 4-D) into the DPU's (NHWC); other ranks are copied as they are. */
function fromSource<T extends Int8Array | Float32Array>(x: ArrayLike<number>, nhwc: readonly number[], out: T): T {
  if (nhwc.length !== 4) { out.set(x); return out; }
  const [, H, W, C] = nhwc;
  for (let y = 0; y < H; y++)
    for (let xx = 0; xx < W; xx++)
      for (let c = 0; c < C; c++) out[(y * W + xx) * C + c] = x[(c * H + y) * W + xx];
  return out;
}

/** float2fix: DPU_ROUND to the fix point, saturated to int8. */
function float2fix(x: ArrayLike<number>, fp: number, out: Int8Array): Int8Array {
  const s = 2 ** fp;
  for (let i = 0; i < x.length; i++) {
    const q = Math.floor(x[i] * s + 0.5);
    out[i] = q < -128 ? -128 : q > 127 ? 127 : q;
  }
  return out;
}

/** A 4-D map whose NHWC and NCHW orders are the same sequence (one channel, or one pixel). */
const sameOrder = (nhwc: readonly number[]) => nhwc.length !== 4 || nhwc[3] === 1 || nhwc[1] * nhwc[2] === 1;

/** fix2float of an NHWC int8 buffer into a new float tensor in the source layout. */
function fix2floatSource(q: Int8Array, nhwc: readonly number[], fp: number): Float32Array {
  if (sameOrder(nhwc)) return fix2float(q, fp);
  const s = 2 ** -fp;
  const [, H, W, C] = nhwc;
  const HW = H * W;
  const out = new Float32Array(q.length);
  for (let c = 0; c < C; c++)
    for (let p = 0, i = c * HW; p < HW; p++, i++) out[i] = q[p * C + c] * s;
  return out;
}

const roundUp16 = (x: number) => Math.ceil(x / 16) * 16;

/** Arena bytes to dequantize a map of n values (float32 out, plus the int8 transposition). */
const dequantBytes = (n: number) => roundUp16(4 * n) + n;

/** fix2float: q·2^-fp into a new float array. */
function fix2float(q: Int8Array, fp: number): Float32Array {
  const s = 2 ** -fp;
  // A plain loop: Float32Array.from with a map function is ~20× slower in V8 (it was most of a YOLOX run).
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i] * s;
  return out;
}

/** A DPU tensor: int8 in wasm memory, NHWC for 4-D maps. Its memory is shared with tensors whose lifetimes
 *  do not overlap (`ptr` is set once every step is planned). */
interface Buf { readonly name: string; ptr: number; readonly shape: readonly number[]; readonly fp: number; def: number; lastUse: number }

interface Step {
  readonly name: string;
  readonly layer: string;
  readonly out: Buf;
  readonly counters: Counters;
  /** Its only reader computes from its input directly (a flatten folded into a dense): run only to keep it. */
  onlyKept?: boolean;
  run(): void;
}

/** A flatten of an NHWC map to [1, H·W·C] in source (C, H, W) order, which a dense reader may fold in. */
interface Flatten { step: Step; src: Buf; H: number; W: number; C: number; placed: number }

interface DpuPlan {
  kind: 'dpu';
  name: string;
  /** Tensors entering from USER or a CPU subgraph: float2fix at the entry. */
  entries: Buf[];
  steps: Step[];
}

interface CpuPlan {
  kind: 'cpu';
  name: string;
  session?: FloatSession;
  inputs: string[];
  outputs: string[];
  counters: Counters;
  /**
   * The CPU subgraphs that follow this one with no DPU subgraph between (YOLOX's four Focus slices, its six
   * head sigmoids): one onnxruntime call runs them all, so a shared input is copied in once and the call's
   * fixed cost is paid once. Their time is shared among them by the bytes each moves.
   */
  group?: CpuPlan[];
  /** Runs on onnxruntime, which copies its inputs in: they may be views of the wasm arena. */
  ort?: boolean;
}

/** A CPU subgraph's session, made once the run of consecutive CPU subgraphs it belongs to is known. */
interface CpuPending { plan: CpuPlan; model: Model; available: Set<string>; custom: boolean }

type SgPlan = DpuPlan | CpuPlan | { kind: 'user'; name: string };

const ACTS: Record<string, Act> = { relu: 'relu', relu6: 'relu6', leaky_relu: 'leaky', hard_sigmoid: 'hsigmoid', hard_swish: 'hswish' };

const ZERO: Counters = { macs: 0, ops: 0, bytesIn: 0, bytesWeights: 0, bytesOut: 0 };

function addCounters(a: Counters, b: Counters): Counters {
  return { macs: a.macs + b.macs, ops: a.ops + b.ops, bytesIn: a.bytesIn + b.bytesIn, bytesWeights: a.bytesWeights + b.bytesWeights, bytesOut: a.bytesOut + b.bytesOut };
}

/** [H, W, C] of a DPU map: NHWC, or a [N, C] vector as 1×1×C. */
function hwc(shape: readonly number[], what: string): [number, number, number] {
  if (shape.length === 4) return [shape[1], shape[2], shape[3]];
  if (shape.length === 2) return [1, 1, shape[1]];
  throw new InputError(`${what}: a ${shape.length}-D feature map [${shape}] cannot run on the DPU simulator (4-D NCHW maps or [N, C] vectors only)`);
}

/** A CPU subgraph onnxruntime cannot load (an XIR custom op such as PPScatterV2) on the float interpreter. */
function interpreterSession(m: Model): FloatSession {
  const runner = planFloat(m);
  return {
    inputNames: m.graph.inputs.map((i) => i.name),
    outputNames: m.graph.outputs.map((x) => x.name),
    run: async (feeds, outputs) => runner.run(feeds, outputs ? { outputs } : {}),
    release: async () => {},
  };
}

export async function prepareSimulation(src: SimSource, target: Target, o: SimOptions = {}): Promise<Simulation> {
  // A quantizer _int.xmodel runs as the QDQ model it stands for (a compiled one is refused there).
  const { dq, compile, src0, placedOf, nodeByName, fpOfPlaced } = compileForSim(src.kind === 'onnx' ? src.model : qdqFromIntXModel(src.xmodel), target, o.conversions);
  const acc = target.device;
  const L = compile.layers;
  const runner = planFloat(dq.float);

  const engine: Int8Engine = await loadInt8Engine({ ...o.kernelSplit, threads: o.kernelThreads ?? o.threads });
  const bufs = new Map<string, Buf>();
  // Position in the run of the step being planned: a buffer lives from its definition to its last reader.
  let pos = 0;
  const alloc = (name: string, shape: readonly number[], fp: number): Buf => {
    const b = { name, ptr: -1, shape, fp, def: pos, lastUse: pos };
    bufs.set(name, b);
    return b;
  };
  const read = (b: Buf | undefined) => { if (b) b.lastUse = Math.max(b.lastUse, pos); };
  // One scratch region in wasm memory for what a single step or boundary crossing needs at a time: the
  // float32 staging of float2fix/fix2float and maps moved to source order. Allocated once planning is done.
  let arenaBytes = 0;
  let arena = -1;
  const needArena = (bytes: number) => { arenaBytes = Math.max(arenaBytes, bytes); };

  const inputTensors = (p: PlacedLayer): { tensor: string; placed: number }[] =>
    p.layer.inputs.map((id) => {
      const pi = placedOf.get(id)!;
      return { tensor: L[pi].layer.tensor, placed: pi };
    });

  // Fake-quant needs every DPU tensor on its fix point too (a head conv's output included).
  const fqTensors = new Map<string, TensorQuant>(dq.tensors);
  /** Tensors the DPU computes or reads quantized from a graph input: what run() keeps and fakeQuant returns. */
  const dpuTensorNames: string[] = [];
  const graphInputs = new Set(dq.float.graph.inputs.map((i) => i.name));
  const graphOutputs = new Set(dq.qdq.graph.outputs.map((g) => dq.resolve(g.name)));
  const plans: SgPlan[] = [];
  const available = new Set<string>(dq.float.graph.inputs.map((i) => i.name));

  // A CPU layer's readers outside its subgraph, for the subgraph's outputs.
  const readersOf = new Map<number, number[]>();
  L.forEach((q, qi) => { for (const t of inputTensors(q)) readersOf.set(t.placed, [...(readersOf.get(t.placed) ?? []), qi]); });
  const sessions: FloatSession[] = [];
  const cpuRuns: CpuPending[][] = [];
  const flattens = new Map<string, Flatten>();
  const planned = async () => {
    for (const sg of compile.subgraphs) {
      if (sg.device === 'USER') {
        plans.push({ kind: 'user', name: sg.name });
        continue;
      }
      if (sg.device === acc) {
        const plan: DpuPlan = { kind: 'dpu', name: sg.name, entries: [], steps: [] };
        const start = ++pos;
        const bufFor = (t: { tensor: string; placed: number }, what: string): Buf => {
          const have = bufs.get(t.tensor);
          if (have) return have;
          // Entering from USER or a CPU subgraph: float2fix at the producer's fix point.
          const fp = fpOfPlaced(t.placed);
          if (fp === undefined) throw new InputError(`${what}: input "${t.tensor}" has no fix point (no QuantizeLinear on it)`);
          const b = alloc(t.tensor, L[t.placed].layer.shape, fp);
          if (graphInputs.has(t.tensor) && !dpuTensorNames.includes(t.tensor)) dpuTensorNames.push(t.tensor);
          // Written when the subgraph starts, so it lives from there.
          b.def = start;
          plan.entries.push(b);
          return b;
        };
        for (const pi of sg.layers) {
          const p = L[pi];
          const l = p.layer;
          const what = `${l.op} ${l.name}`;
          const fp = fpOfPlaced(pi);
          if (fp === undefined) throw new InputError(`${what}: its output "${l.tensor}" has no fix point`);
          const ins = inputTensors(p).map((t) => bufFor(t, what));
          pos++;
          ins.forEach(read);
          const out = alloc(l.tensor, l.shape, fp);
          const step = dpuStep(p, ins, out, what, pi);
          plan.steps.push(step);
          const x = ins[0];
          // A reshape of [1, C, H, W] to [1, C·H·W] lists the values in (C, H, W) order whatever its op.
          if (l.kind === 'reshape' && /^(Reshape|Flatten|Squeeze|Unsqueeze)$/.test(nodeByName.get(l.name)?.opType ?? '') && ins.length === 1 &&
            x.shape.length === 4 && x.shape[0] === 1 && out.shape.length === 2 && out.shape[0] === 1 && x.fp === out.fp && numel(out.shape) === numel(x.shape))
            flattens.set(out.name, { step, src: x, H: x.shape[1], W: x.shape[2], C: x.shape[3], placed: pi });
          dpuTensorNames.push(l.tensor);
          if (!fqTensors.has(l.tensor)) fqTensors.set(l.tensor, fixPointTensor(l.tensor, 'activation', fp));
          available.add(l.tensor);
        }
        plans.push(plan);
        continue;
      }
      // CPU: the float ops between fix2float and float2fix, in one onnxruntime session.
      const mine = new Set(sg.layers);
      const computing = sg.layers.filter((i) => L[i].layer.kind !== 'output');
      const outputs = new Set<string>();
      for (const i of sg.layers) {
        const l = L[i].layer;
        if (l.kind === 'output') {
          const p = inputTensors(L[i])[0];
          if (mine.has(p.placed)) outputs.add(p.tensor);
          continue;
        }
        const leaves = (readersOf.get(i) ?? []).some((qi) => !mine.has(qi));
        if (leaves || l.graphOutput) outputs.add(l.tensor);
      }
      const plan: CpuPlan = { kind: 'cpu', name: sg.name, inputs: [], outputs: [...outputs], counters: ZERO };
      if (computing.length && outputs.size) {
        const m = subModel(dq.float, plan.outputs, available, (t) => {
          const q = dq.tensors.get(t);
          return q && q.dataType === 'activation' ? q.fixPoint : undefined;
        });
        plan.inputs = m.graph.inputs.map((i) => i.name);
        pos++;
        for (const n of plan.inputs) read(bufs.get(n));
        const custom = m.graph.nodes.some((n) => n.domain !== '' && n.domain !== 'ai.onnx');
        const prev = cpuRuns.at(-1)?.at(-1);
        const item: CpuPending = { plan, model: m, available: new Set(available), custom };
        // Joins the run before it when nothing ran in between (the DPU buffers it reads stay live until
        // its own position, later than the run's first call, so they are still intact then).
        if (prev && !custom && !prev.custom && plans.at(-1) === prev.plan && o.groupCpu !== false) cpuRuns.at(-1)!.push(item);
        else cpuRuns.push([item]);
        const bytes = (names: string[]) => names.reduce((s, n) => s + 4 * numel(dq.float.graph.valueInfo.get(n)?.shape?.map((d) => (typeof d === 'number' ? d : 1)) ?? []), 0);
        plan.counters = { ...ZERO, bytesIn: bytes(plan.inputs), bytesOut: bytes(plan.outputs) };
      }
      for (const t of plan.outputs) available.add(t);
      plans.push(plan);
    }
    const placedOfTensor = new Map(L.map((p, i) => [p.layer.tensor, i]));
    const deviceOf = new Map<number, string>();
    for (const sg of compile.subgraphs) for (const i of sg.layers) deviceOf.set(i, sg.device);
    /**
     * A CPU output read only by DPU layers, which enter it with float2fix at the fix point its Q/DQ gives:
     * the fix inside the CPU model would compute the same codes a second time (float2fix of q·2^-fp is q),
     * at five float passes over the map (YOLOX's Focus slices and head sigmoids: most of their time).
     */
    const fixedAtEntry = (t: string, fp: number): boolean => {
      const pi = placedOfTensor.get(t);
      if (pi === undefined || graphOutputs.has(t) || o.fixCpuOutputs) return false;
      const readers = readersOf.get(pi) ?? [];
      return readers.length > 0 && readers.every((r) => deviceOf.get(r) === acc) && fpOfPlaced(pi) === fp;
    };
    for (const run of cpuRuns) {
      const [first] = run;
      const fixOf = (t: string) => {
        const q = dq.tensors.get(t);
        return q && q.dataType === 'activation' && !fixedAtEntry(t, q.fixPoint) ? q.fixPoint : undefined;
      };
      if (first.custom) {
        first.plan.session = interpreterSession(first.model);
      } else {
        // One model for the whole run, from what was available at its first subgraph (a later member's
        // input made by an earlier member is computed inside, through the same fix as between two calls).
        const outputs = [...new Set(run.flatMap((r) => r.plan.outputs))];
        const m = subModel(dq.float, outputs, first.available, fixOf);
        first.plan.session = await createFloatSession(m, { threads: o.threads, wasmPaths: o.wasmPaths });
        first.plan.ort = true;
        first.plan.inputs = m.graph.inputs.map((i) => i.name);
        first.plan.outputs = outputs;
        if (run.length > 1) first.plan.group = run.map((r) => r.plan);
      }
      sessions.push(first.plan.session);
    }
  };
  try {
    await planned();
  } catch (e) {
    // Nothing half-prepared stays behind.
    for (const x of sessions) await x.release();
    engine.reset();
    engine.dispose();
    throw e;
  }

  function dpuStep(p: PlacedLayer, ins: Buf[], out: Buf, what: string, pi: number): Step {
    const l = p.layer;
    const converted = convertedActivation(l.activation, compile.conversions);
    if (converted !== l.activation)
      throw new InputError(`${what}: its ${l.activation!.type} runs on the ${acc} only as ${converted!.type}; quantize with that conversion enabled so the QDQ model computes it`);
    for (const m of p.members) {
      const n = nodeByName.get(src0[m].name);
      if (n?.opType === 'HardSigmoid' && !isDpuHardSigmoid(n))
        throw new InputError(`${n.opType} ${n.name}: alpha ${attr(n, 'alpha', 'float') ?? 0.2}, beta ${attr(n, 'beta', 'float') ?? 0.5} is not the DPU's hard-sigmoid (1/6, 1/2)`);
    }
    const base = { name: l.tensor, layer: l.name, out };
    const inBytes = ins.reduce((s, b) => s + numel(b.shape), 0);
    const outBytes = numel(out.shape);
    switch (l.kind) {
      case 'conv': case 'depthwise': case 'dense': case 'deconv': {
        const { g, e, w: w0, b, macs, adds } = convPlan(l, ins, out, what);
        // A dense reading a flatten (its only reader) reads the flatten's NHWC input with its weight columns
        // permuted from (C, H, W) to (H, W, C) order: the same products, so the same exact sums, without
        // moving the map on every sample.
        const fl = l.kind === 'dense' ? flattens.get(ins[0].name) : undefined;
        const fold = fl && !graphOutputs.has(ins[0].name) && (readersOf.get(fl.placed) ?? []).every((r) => r === pi) ? fl : undefined;
        const w = fold ? hwcColumns(w0, fold) : w0;
        const x = fold ? fold.src : ins[0];
        if (fold) { fold.step.onlyKept = true; read(fold.src); }
        const wPacked = engine.packConvWeights(w, g);
        let biasPtr = 0;
        if (b) { biasPtr = engine.alloc(4 * b.length, 16); engine.i32(biasPtr, b.length).set(b); }
        const counters: Counters = { macs, ops: 2 * macs + adds, bytesIn: inBytes, bytesWeights: l.weightElements, bytesOut: outBytes };
        const conv = engine.planConv(wPacked, biasPtr, g, e, l.kind === 'deconv');
        return { ...base, counters, run: () => conv(x.ptr, out.ptr) };
      }
      case 'pool': {
        const [H, W, C] = hwc(ins[0].shape, what);
        const [oh, ow] = hwc(out.shape, what);
        const [kh, kw] = l.kernel ?? [H, W];
        const [sh, sw] = l.stride ?? [1, 1];
        const [pt, pl] = l.pad ?? [0, 0, 0, 0];
        const g: ConvGeometry = { inH: H, inW: W, inC: C, outH: oh, outW: ow, outC: C, kH: kh, kW: kw, strideH: sh, strideW: sw, dilH: 1, dilW: 1, padT: pt, padL: pl, group: C };
        const counters: Counters = { macs: 0, ops: oh * ow * C * kh * kw, bytesIn: inBytes, bytesWeights: 0, bytesOut: outBytes };
        if (l.poolType === 'max') return { ...base, counters, run: () => engine.maxPool(ins[0].ptr, out.ptr, g, ins[0].fp - out.fp) };
        const { n, m } = avgPoolFactor(kh, kw);
        return { ...base, counters, run: () => engine.avgPool(ins[0].ptr, out.ptr, g, n, m + ins[0].fp - out.fp) };
      }
      case 'eltwise': {
        if (l.eltwise === 'add' && !l.constOperand && ins.length === 2) {
          const [a, b] = ins;
          const len = numel(out.shape);
          if (numel(a.shape) !== len || numel(b.shape) !== len)
            throw new InputError(`${what}: broadcasting add [${a.shape}] + [${b.shape}] is not simulated`);
          const F = Math.max(a.fp, b.fp);
          const e = epilogue(l, 0, 0, F, out.fp, what);
          const counters: Counters = { macs: 0, ops: 2 * len, bytesIn: inBytes, bytesWeights: 0, bytesOut: outBytes };
          return { ...base, counters, run: () => engine.add(a.ptr, b.ptr, out.ptr, len, F - a.fp, F - b.fp, e) };
        }
        return genericStep(p, ins, out, what, base);
      }
      case 'concat': {
        const node = nodeByName.get(l.name);
        const axis = node ? attrInt(node, 'axis', 1) : 1;
        if (out.shape.length === 4 && (axis === 1 || axis === -3) && ins.every((b) => b.shape.length === 4)) return concatStep(ins, out, base);
        if (ins.every((b) => sourceShape(b.shape).length === sourceShape(out.shape).length)) return axisConcatStep(ins, out, axis, base);
        return genericStep(p, ins, out, what, base);
      }
      case 'upsample': {
        const node = nodeByName.get(l.name);
        if (node && l.upsample?.mode === 'nearest' && Number.isInteger(l.upsample.scaleH) && Number.isInteger(l.upsample.scaleW) && floorNearest(node))
          return nearestStep(ins[0], out, l.upsample.scaleH, l.upsample.scaleW, base);
        return genericStep(p, ins, out, what, base);
      }
      case 'reshape': {
        const node = nodeByName.get(l.name);
        if (node && /^(Reshape|Flatten|Squeeze|Unsqueeze)$/.test(node.opType) && ins.length === 1 && numel(ins[0].shape) === numel(out.shape))
          return reshapeStep(ins[0], out, base);
        return genericStep(p, ins, out, what, base);
      }
      case 'pad': case 'activation':
        return genericStep(p, ins, out, what, base);
      default:
        throw new InputError(`${what}: a ${l.kind} layer on the ${acc} is not simulated`);
    }
  }

  /** Dense weights [OC, H·W·C] with columns in (C, H, W) order → (H, W, C) order. */
  function hwcColumns(w: Int8Array, f: Flatten): Int8Array {
    const { H, W, C } = f;
    const n = H * W * C;
    const out = new Int8Array(w.length);
    for (let o = 0; o < w.length; o += n)
      for (let c = 0; c < C; c++)
        for (let yx = 0; yx < H * W; yx++) out[o + yx * C + c] = w[o + c * H * W + yx];
    return out;
  }

  /** Channel concat of NHWC maps: each input's channels per pixel, requantized to the output fix point. */
  function concatStep(ins: Buf[], out: Buf, base: { name: string; layer: string; out: Buf }): Step {
    const [, H, W] = out.shape;
    const parts = ins.map((b) => ({ ptr: -1, channels: b.shape[3], shift: b.fp - out.fp }));
    const counters: Counters = { ...ZERO, bytesIn: ins.reduce((a, b) => a + numel(b.shape), 0), bytesOut: numel(out.shape) };
    return {
      ...base, counters,
      run: () => {
        ins.forEach((b, i) => { parts[i].ptr = b.ptr; });
        engine.concat(parts, out.ptr, H * W);
      },
    };
  }

  /**
   * Concat along any other axis, in the source model's order: blocks of `inner` values per input and outer
   * index, each requantized to the output fix point (a copy when the rules gave them one fix point).
   */
  function axisConcatStep(ins: Buf[], out: Buf, axis: number, base: { name: string; layer: string; out: Buf }): Step {
    const outSrc = sourceShape(out.shape);
    const ax = axis < 0 ? axis + outSrc.length : axis;
    const outer = numel(outSrc.slice(0, ax));
    const inner = numel(outSrc.slice(ax + 1));
    const len = numel(out.shape);
    // Arena layout: the output in source order (when it must be moved back to NHWC), then each input that
    // has to be moved to source order first.
    let at = sameOrder(out.shape) ? 0 : roundUp16(len);
    const parts = ins.map((b) => {
      const moved = !sameOrder(b.shape);
      const p = { b, at: moved ? at : -1, part: { ptr: -1, channels: sourceShape(b.shape)[ax] * inner, shift: b.fp - out.fp } };
      if (moved) at += roundUp16(numel(b.shape));
      return p;
    });
    needArena(at);
    const counters: Counters = { ...ZERO, bytesIn: ins.reduce((a, b) => a + numel(b.shape), 0), bytesOut: len };
    return {
      ...base, counters,
      run: () => {
        for (const p of parts) {
          if (p.at >= 0) { toSourceI8(p.b.ptr, p.b.shape, arena + p.at); p.part.ptr = arena + p.at; } else p.part.ptr = p.b.ptr;
        }
        const dst = sameOrder(out.shape) ? out.ptr : arena;
        engine.concat(parts.map((p) => p.part), dst, outer);
        if (dst !== out.ptr) engine.transpose8(dst, out.ptr, out.shape[3], out.shape[1] * out.shape[2]);
      },
    };
  }

  /** Reshape/Flatten/(Un)Squeeze: the values in the source model's order (NCHW for 4-D) under a new shape. */
  function reshapeStep(x: Buf, out: Buf, base: { name: string; layer: string; out: Buf }): Step {
    const len = numel(out.shape);
    const shift = x.fp - out.fp;
    const counters: Counters = { ...ZERO, bytesIn: len, bytesOut: len };
    needArena(len);
    return {
      ...base, counters,
      run: () => {
        // Through the source order only where a 4-D map's NHWC and NCHW orders differ.
        const src = sameOrder(x.shape) ? x.ptr : (toSourceI8(x.ptr, x.shape, arena), arena);
        if (sameOrder(out.shape)) engine.requantize(src, out.ptr, len, 0);
        else engine.transpose8(src, out.ptr, out.shape[3], out.shape[1] * out.shape[2]);
        if (shift !== 0) engine.requantize(out.ptr, out.ptr, len, shift);
      },
    };
  }

  /** An NHWC int8 map into its source (NCHW) order at `dst`, in wasm. */
  function toSourceI8(ptr: number, nhwc: readonly number[], dst: number): void {
    if (sameOrder(nhwc)) engine.requantize(ptr, dst, numel(nhwc), 0);
    else engine.transpose8(ptr, dst, nhwc[1] * nhwc[2], nhwc[3]);
  }

  /** Nearest upsampling by integer factors (output pixel y reads input y / s, rounded down). */
  function nearestStep(x: Buf, out: Buf, sh: number, sw: number, base: { name: string; layer: string; out: Buf }): Step {
    const [, ih, iw, C] = x.shape;
    const counters: Counters = { ...ZERO, bytesIn: numel(x.shape), bytesOut: numel(out.shape) };
    return { ...base, counters, run: () => engine.upsampleNearest(x.ptr, out.ptr, ih, iw, C, sh, sw, x.fp - out.fp) };
  }

  /** Epilogue of an exact sum z in units 2^-S (S = fp of the accumulator after accUp). */
  function epilogue(l: Layer, accUp: number, biasUp: number, S: number, fpOut: number, what: string): Epilogue {
    const a = l.activation;
    const act = a ? ACTS[a.type] : 'none';
    if (!act) throw new InputError(`${what}: fused ${a!.type} is not a DPU nonlinearity`);
    if (act === 'leaky' && Math.abs((a!.alpha ?? 0.01) - 26 / 256) > 1e-6)
      throw new InputError(`${what}: LeakyReLU slope ${a!.alpha} ≠ 26/256`);
    const e: Epilogue = { accUp, biasUp, shift: S - fpOut, act, fpOut };
    if (act === 'relu6') return { ...e, relu6Max: Math.min(127, Math.floor(6 * 2 ** fpOut + 0.5)) };
    if (act === 'hsigmoid' || act === 'hswish') {
      // The pre-activation (XIR hsigmoid_in) is quantized at its own fix point first.
      const pre = src0[l.id];
      const fpPre = pre.fixPoint ?? dq.tensors.get(pre.tensor)?.fixPoint;
      if (fpPre === undefined) throw new InputError(`${what}: the input of its hard-sigmoid/hard-swish has no fix point`);
      return { ...e, preShift: S - fpPre, fpPre };
    }
    return e;
  }

  function convPlan(l: Layer, ins: Buf[], out: Buf, what: string) {
    if (!l.weights) throw new InputError(`${what}: no constant weights`);
    const [wT, bT] = l.weights();
    if (wT.fixPoint === undefined) throw new InputError(`${what}: weights "${wT.name}" are not quantized (no DequantizeLinear with a power-of-two scale)`);
    const x = ins[0];
    const [H, W, C] = hwc(x.shape, what);
    const [oh, ow, oc] = hwc(out.shape, what);
    const dense = l.kind === 'dense';
    const [kh, kw] = dense ? [1, 1] : l.kernel ?? [1, 1];
    const [sh, sw] = dense ? [1, 1] : l.stride ?? [1, 1];
    const [dh, dw] = dense ? [1, 1] : l.dilation ?? [1, 1];
    const [pt, pl, pb, pr] = dense ? [0, 0, 0, 0] : l.pad ?? [0, 0, 0, 0];
    const group = dense ? 1 : l.group ?? 1;
    const wn = oc * kh * kw * (C / group);
    if (wT.values.length !== wn) throw new InputError(`${what}: ${wT.values.length} weights for ${oc}×${kh}×${kw}×${C / group}`);
    const w = Int8Array.from(codes(wT.values, wT.fixPoint, `${what} weights`, -128, 127));
    const S = x.fp + wT.fixPoint;
    let b: Int32Array | undefined;
    let accUp = 0;
    let biasUp = 0;
    if (bT) {
      if (bT.fixPoint === undefined) throw new InputError(`${what}: bias "${bT.name}" is not quantized`);
      b = Int32Array.from(codes(bT.values, bT.fixPoint, `${what} bias`, -(2 ** 31), 2 ** 31 - 1));
      const sb = S - bT.fixPoint;
      accUp = Math.max(0, -sb);
      biasUp = sb + accUp;
    }
    const g: ConvGeometry & { outPadH?: number; outPadW?: number } = {
      inH: H, inW: W, inC: C, outH: oh, outW: ow, outC: oc, kH: kh, kW: kw, strideH: sh, strideW: sw,
      dilH: dh, dilW: dw, padT: pt, padL: pl, group,
    };
    let macs: number;
    let adds: number;
    if (l.kind === 'deconv') {
      g.outPadH = oh - ((H - 1) * sh - pt - pb + dh * (kh - 1) + 1);
      g.outPadW = ow - ((W - 1) * sw - pl - pr + dw * (kw - 1) + 1);
      macs = H * W * oc * kh * kw * (C / group);
      adds = H * W * oc * kh * kw;
    } else {
      macs = oh * ow * oc * kh * kw * (C / group);
      adds = oh * ow * oc;
    }
    const e = epilogue(l, accUp, biasUp, S + accUp, out.fp, what);
    return { g, e, w, b, macs, adds };
  }

  /**
   * Ops that move or combine values without accumulating (concat, reshape, resize, standalone
   * activations): the source op's float kernel on the exact reals of the int8 inputs, rounded once to the
   * output fix point. Exact: moves copy, bilinear weights are dyadic, activations use the DPU's forms.
   */
  function genericStep(p: PlacedLayer, ins: Buf[], out: Buf, what: string, base: { name: string; layer: string; out: Buf }): Step {
    const l = p.layer;
    const node = nodeByName.get(l.name);
    if (!node) throw new InputError(`${what}: no source op to simulate it with`);
    const dk = dpuKernels(() => undefined);
    const kernel: Kernel = (Object.prototype.hasOwnProperty.call(dk, node.opType) ? dk[node.opType] : KERNELS[node.opType]);
    if (!kernel) throw new InputError(`${what}: op ${node.opType} is not simulated`);
    const byName = new Map(ins.map((b) => [b.name, b]));
    const outSrc = sourceShape(out.shape);
    const inSrc = sourceShape(ins[0]?.shape ?? []);
    const args = node.inputs.map((t, i) => {
      if (!t) return undefined;
      if (byName.has(t)) return byName.get(t)!;
      const c = runner.constants.get(t);
      if (c) return c;
      // Shapes computed at run time from Shape ops are static here: the compiler knows the output shape.
      if (node.opType === 'Reshape' && i === 1) return { shape: [outSrc.length], data: Float32Array.from(outSrc) };
      if (node.opType === 'Resize' && i === 3) return { shape: [outSrc.length], data: Float32Array.from(outSrc) };
      if ((node.opType === 'Resize' && i === 2) || (node.opType === 'Upsample' && i === 1))
        return { shape: [outSrc.length], data: Float32Array.from(outSrc, (d, k) => d / inSrc[k]) };
      throw new InputError(`${what}: input "${t}" is neither a DPU tensor nor a constant`);
    });
    let scratch = new Float32Array(0);
    const ctx: KernelCtx = {
      node, opset: dq.float.opset || 13, dtype: (n) => runner.dtypes.get(n) ?? 'float32',
      scratch: (n) => (scratch.length >= n ? scratch : (scratch = new Float32Array(n))),
    };
    const outLen = numel(out.shape);
    const tmp = new Int8Array(outLen);
    const counters: Counters = { macs: 0, ops: l.kind === 'eltwise' ? outLen * Math.max(1, ins.length) : 0, bytesIn: ins.reduce((s, b) => s + numel(b.shape), 0), bytesWeights: 0, bytesOut: outLen };
    return {
      ...base, counters,
      run: () => {
        const inputs = args.map((a) => {
          if (!a || !('ptr' in a)) return a;
          return { shape: sourceShape(a.shape), data: fix2floatSource(engine.i8(a.ptr, numel(a.shape)), a.shape, a.fp) } as FloatTensor;
        });
        const [y] = kernel(inputs, ctx);
        if (y.data.length !== outLen) throw new Error(`${what}: ${y.data.length} values for [${out.shape}]`);
        float2fix(y.data, out.fp, tmp);
        fromSource(tmp, out.shape, engine.i8(out.ptr, outLen));
      },
    };
  }

  // Graph outputs are read after the last step; then give each buffer memory no overlapping one uses.
  for (const g of dq.qdq.graph.outputs) { const b = bufs.get(dq.resolve(g.name)); if (b) b.lastUse = Infinity; }
  const slots: { ptr: number; bytes: number; freeAt: number }[] = [];
  let activationBytes = 0;
  for (const b of [...bufs.values()].sort((x, y) => x.def - y.def)) {
    const bytes = Math.max(1, numel(b.shape));
    let best: (typeof slots)[number] | undefined;
    for (const sl of slots) if (sl.freeAt < b.def && sl.bytes >= bytes && (!best || sl.bytes < best.bytes)) best = sl;
    if (!best) { best = { ptr: engine.alloc(bytes + 64, 16), bytes, freeAt: 0 }; slots.push(best); activationBytes += bytes; }
    best.freeAt = b.lastUse;
    b.ptr = best.ptr;
  }

  // The boundary crossings' needs: a DPU entry's float32 staging and transposition; a CPU call's inputs
  // side by side (onnxruntime reads them all in one call) and one transposition; a DPU graph output.
  for (const b of bufs.values()) needArena(dequantBytes(numel(b.shape)));
  for (const pl of plans) {
    if (pl.kind !== 'cpu' || !pl.ort) continue;
    const fromDpu = pl.inputs.map((n) => bufs.get(n)).filter((b): b is Buf => !!b).map((b) => numel(b.shape));
    needArena(fromDpu.reduce((a, n) => a + roundUp16(4 * n), 0) + Math.max(0, ...fromDpu));
  }
  arena = engine.alloc(arenaBytes + 16, 16);

  /** q·2^-fp of a DPU map into float32 at `at` in the source layout (the int8 transposition at `tmp`). */
  function dequantTo(b: Buf, at: number, tmp: number): Float32Array {
    const n = numel(b.shape);
    if (sameOrder(b.shape)) engine.dequantize(b.ptr, at, n, b.fp);
    else engine.dequantizeToNchw(b.ptr, at, b.shape[1] * b.shape[2], b.shape[3], b.fp, tmp);
    return engine.f32(at, n);
  }

  /** A kept tensor: a copy of a DPU map in the source layout (moved to NCHW in the wasm, through the arena). */
  function keptCopy(b: Buf): Int8Array {
    const n = numel(b.shape);
    if (sameOrder(b.shape)) return engine.i8(b.ptr, n).slice();
    engine.transpose8(b.ptr, arena, b.shape[1] * b.shape[2], b.shape[3]);
    return engine.i8(arena, n).slice();
  }

  /** float2fix of a float tensor in the source layout into a DPU map (staged through the arena). */
  function quantizeFrom(x: Float32Array, b: Buf): void {
    const n = numel(b.shape);
    engine.f32(arena, n).set(x);
    if (sameOrder(b.shape)) engine.quantize(arena, b.ptr, n, b.fp);
    else engine.quantizeToNhwc(arena, b.ptr, b.shape[1] * b.shape[2], b.shape[3], b.fp, arena + roundUp16(4 * n));
  }

  const inputs: SimPort[] = dq.qdq.graph.inputs.map((i) => {
    const l = src0.find((x) => x.kind === 'input' && x.tensor === i.name);
    return { name: i.name, shape: (i.shape ?? []).map((d) => (typeof d === 'number' ? d : 1)), fixPoint: l?.fixPoint ?? dq.tensors.get(i.name)?.fixPoint };
  });
  const outputs: SimPort[] = dq.qdq.graph.outputs.map((g) => {
    const r = dq.resolve(g.name);
    const b = bufs.get(r);
    const shape = b ? sourceShape(b.shape) : (dq.float.graph.valueInfo.get(r)?.shape ?? g.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
    const fp = b?.fp ?? dq.tensors.get(r)?.fixPoint;
    return { name: g.name, shape, ...(fp !== undefined ? { fixPoint: fp } : {}) };
  });


  const runnable = plans.filter((p) => p.kind !== 'user');

  async function run(feeds: Readonly<Record<string, FloatTensor>>, ro: RunOptions = {}): Promise<SimRun> {
    const t0 = performance.now();
    const floats = new Map<string, FloatTensor>();
    for (const i of inputs) {
      const f = feeds[i.name];
      if (!f) throw new InputError(`no value fed for input "${i.name}"`);
      if (f.data.length !== numel(i.shape)) throw new InputError(`input "${i.name}" has ${f.data.length} values, [${i.shape}] (batch 1) needs ${numel(i.shape)}`);
      floats.set(i.name, f);
    }
    const layers: SimRun['layers'] = [];
    const subgraphs: SimRun['subgraphs'] = [];
    const tensors = new Map<string, SimTensor>();
    const floatOf = (name: string): FloatTensor => {
      const f = floats.get(name);
      if (f) return f;
      const b = bufs.get(name);
      if (!b) throw new Error(`simulator: tensor "${name}" was not computed`);
      // A copy: the arena and the map's memory are reused.
      return { shape: sourceShape(b.shape), data: dequantTo(b, arena, arena + roundUp16(4 * numel(b.shape))).slice() };
    };
    let k = 0;
    /** Each member's share of its run's one onnxruntime call. */
    const groupMs = new Map<CpuPlan, number>();
    for (const pl of plans) {
      if (pl.kind === 'user') continue;
      if (ro.onSubgraph) {
        ro.onSubgraph({ index: ++k, count: runnable.length, name: pl.name, device: pl.kind === 'dpu' ? acc : 'CPU' });
        // A macrotask turn, so a cancel message sent meanwhile is seen before the next subgraph.
        await new Promise((r) => setTimeout(r, 0));
      }
      if (ro.signal?.aborted) { const e = new Error('simulation cancelled'); e.name = 'AbortError'; throw e; }
      const s0 = performance.now();
      if (pl.kind === 'dpu') {
        let total = ZERO;
        for (const b of pl.entries) {
          const f = floatOf(b.name);
          if (f.data.length !== numel(b.shape)) throw new Error(`simulator: "${b.name}" has ${f.data.length} values for [${b.shape}]`);
          quantizeFrom(f.data, b);
          // A quantized graph input is what xdputil/VART is given (input.bin): kept with the layer outputs.
          if (ro.keepTensors && graphInputs.has(b.name) && !tensors.has(b.name))
            tensors.set(b.name, { name: b.name, layer: b.name, shape: sourceShape(b.shape), fixPoint: b.fp, q: keptCopy(b), subgraph: pl.name });
        }
        for (const s of pl.steps) {
          const a = performance.now();
          if (!s.onlyKept || ro.keepTensors) s.run();
          layers.push({ name: s.layer, subgraph: pl.name, ms: performance.now() - a, ...s.counters });
          total = addCounters(total, s.counters);
          // Copied now: the buffer is reused once its last reader has run.
          if (ro.keepTensors) {
            const b = s.out;
            const q = keptCopy(b);
            tensors.set(s.name, { name: s.name, layer: s.layer, shape: sourceShape(b.shape), fixPoint: b.fp, q, subgraph: pl.name });
          }
        }
        subgraphs.push({ name: pl.name, device: acc, ms: performance.now() - s0, ...total });
      } else {
        if (pl.session) {
          const f: Record<string, FloatTensor> = {};
          // DPU maps go in as views of the arena, side by side (onnxruntime copies its inputs in; the float
          // interpreter might hand an input back as an output, so it gets copies).
          const fromDpu = pl.ort ? pl.inputs.filter((n) => !floats.has(n) && bufs.has(n)) : [];
          let at = arena;
          for (const n of fromDpu) at += roundUp16(4 * numel(bufs.get(n)!.shape));
          const tmp = at;
          at = arena;
          for (const n of pl.inputs) {
            const b = fromDpu.includes(n) ? bufs.get(n)! : undefined;
            if (!b) { f[n] = floatOf(n); continue; }
            f[n] = { shape: sourceShape(b.shape), data: dequantTo(b, at, tmp) };
            at += roundUp16(4 * numel(b.shape));
          }
          const r = await pl.session.run(f, pl.outputs);
          for (const [k, v] of Object.entries(r)) floats.set(k, v);
          if (pl.group) {
            const ms = performance.now() - s0;
            const moved = (c: Counters) => c.bytesIn + c.bytesOut;
            const all = pl.group.reduce((a, m) => a + moved(m.counters), 0);
            for (const m of pl.group) groupMs.set(m, all > 0 ? (ms * moved(m.counters)) / all : ms / pl.group.length);
          }
        }
        const shared = groupMs.get(pl);
        groupMs.delete(pl);
        subgraphs.push({ name: pl.name, device: 'CPU', ms: shared ?? performance.now() - s0, ...pl.counters });
      }
    }
    const outs: SimRun['outputs'] = {};
    for (const g of dq.qdq.graph.outputs) {
      const r = dq.resolve(g.name);
      const b = bufs.get(r);
      const fp = b && !floats.has(r) ? b.fp : dq.tensors.get(r)?.fixPoint;
      outs[g.name] = { value: floatOf(r), ...(fp !== undefined ? { fixPoint: fp } : {}) };
    }
    return { outputs: outs, tensors, layers, subgraphs, ms: performance.now() - t0 };
  }

  const kernels = dpuKernels((t) => fqTensors.get(t)?.fixPoint);
  async function fakeQuant(feeds: Readonly<Record<string, FloatTensor>>): Promise<Map<string, Int8Array>> {
    const r = runFakeQuant(dq.float, fqTensors, { ...feeds }, { outputs: dpuTensorNames, kernels });
    const out = new Map<string, Int8Array>();
    for (const name of dpuTensorNames) out.set(name, float2fix(r[name].data, fqTensors.get(name)!.fixPoint, new Int8Array(r[name].data.length)));
    return out;
  }

  return {
    compile, inputs, outputs, run, fakeQuant,
    get kernelThreads() { return engine.threads; },
    endKernelThreads: () => engine.dispose(),
    featureMapBytes: { planned: activationBytes, unshared: [...bufs.values()].reduce((a, b) => a + Math.max(1, numel(b.shape)), 0) },
    async release() {
      for (const p of plans) if (p.kind === 'cpu' && p.session) await p.session.release();
      engine.reset();
      engine.dispose();
    },
  };
}

export type { CompileResult };
