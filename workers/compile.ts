// Compiling the open model for a DPU, inside the model worker: the layers are built once per model and
// re-partitioned on every target or what-if change (milliseconds). Everything returned is plain data.
import {
  layersOf, NO_CONVERSIONS, partition, targetByArch, targetByArchJson, targetByBoard,
  type CompileResult, type CompileSource, type Conversions, type Device, type LayerCost, type LayerGraph, type Port, type Target,
} from '../src/core/compile';
import { boardCompile, cpuStubs, pynqPython, vartPython, type BoardCompile } from '../src/core/compile/deploy';
import { compiledXModel } from '../src/core/compile/emit';
import { standinNpz, standinProgram } from '../src/core/compile/standin-npz';
import type { PreprocessSpec } from '../src/core/data/preprocess';
import { writeXModel } from '../src/core/xmodel/codec';
import { intXModel, intXModelOf } from '../src/core/xmodel/int-export';
import { InputError } from '../src/core/errors';
import { csvRows } from '../src/core/text';
import {
  opFixPoint, subgraphDevice, subgraphOps, xBig, xInt, xString, type XModel, type XSubgraph,
} from '../src/core/xmodel/types';

export type TargetChoice =
  | { readonly kind: 'arch'; readonly arch: string }
  | { readonly kind: 'board'; readonly board: string }
  | { readonly kind: 'archJson'; readonly text: string };

export interface SubgraphView {
  readonly index: number;
  readonly name: string;
  readonly device: Device;
  readonly ops: readonly string[];
  readonly inputs: readonly Port[];
  readonly outputs: readonly Port[];
  readonly cost: LayerCost;
}

export interface CpuOpView {
  readonly name: string;
  readonly op: string;
  readonly reason: string;
  readonly fix?: string;
}

export interface CompileView {
  readonly target: string;
  readonly clockHz: number;
  readonly summary: string;
  readonly deviceSubgraphNumber: number;
  readonly dpuSubgraphNumber: number;
  /** The same target with no conversions: the "before" of the what-if. */
  readonly baseline: { readonly deviceSubgraphNumber: number; readonly dpuSubgraphNumber: number };
  readonly quantized: boolean;
  /** Compiled from the Quantize step's result (QDQ) rather than the opened file. */
  readonly fromQuantize: boolean;
  readonly subgraphs: readonly SubgraphView[];
  /** Source op name → index into `subgraphs`. */
  readonly opSubgraph: Readonly<Record<string, number>>;
  /** Source op name → why it runs on the CPU (every source op of a CPU layer). */
  readonly cpuReasons: Readonly<Record<string, CpuOpView>>;
  readonly totals: LayerCost;
  readonly millis: number;
}

export interface Deployment {
  readonly xmodelName: string;
  readonly vart: string;
  readonly pynq: string;
  readonly costCsv: string;
  /** The exported .xmodel has no machine code: how to compile a board one with vai_c_xir. */
  readonly board: BoardCompile;
  /** The quantizer's output the vai_c_xir command compiles (`<model>_int.xmodel`). */
  readonly intXModelName: string;
  /** The NumPy stand-in for the board runner (`<model>_dpu.npz` + dpu_standin.py): undefined for a model
   *  it cannot run (not a quantized ONNX model), with the reason. */
  readonly standin: { readonly npzName: string } | { readonly unavailable: string };
  /** CPU ops the scripts leave as stubs (no NumPy generator): `op "name"`. */
  readonly stubs: readonly string[];
}

/** A subgraph of a compiled .xmodel, as the file stores it. */
export interface XSubgraphView {
  readonly name: string;
  readonly device?: string;
  readonly opCount: number;
  readonly workload?: number;
  readonly workloadOnArch?: number;
  readonly fingerprint?: string;
  readonly dpuName?: string;
  /** The ops listed on this subgraph itself, with their output fix points. */
  readonly ops: readonly { readonly name: string; readonly type: string; readonly shape: readonly number[]; readonly fixPoint?: number }[];
  readonly children: readonly XSubgraphView[];
}

export interface CompiledFileView {
  readonly summary: string;
  readonly tree: XSubgraphView;
  /** Op name → index of the root child (device subgraph) holding it. */
  readonly opSubgraph: Readonly<Record<string, number>>;
  readonly devices: readonly string[];
}

export function resolveTarget(c: TargetChoice): Target {
  if (c.kind === 'arch') return targetByArch(c.arch);
  if (c.kind === 'board') return targetByBoard(c.board);
  return targetByArchJson(c.text);
}

/** Holds the layers of one model and the last result (for the deployment files). */
export class CompileSession {
  private layers: LayerGraph | undefined;
  private last: CompileResult | undefined;
  /** `fromQuantize`: the source is the Quantize step's QDQ model rather than the opened file. */
  constructor(private readonly source: CompileSource, private readonly fileName: string, private readonly fromQuantize = false) {}

  run(choice: TargetChoice, conversions: Conversions): CompileView {
    const t0 = performance.now();
    const target = resolveTarget(choice);
    this.layers ??= layersOf(this.source);
    const r = partition(this.layers, target, conversions);
    const base = isNone(conversions) ? r : partition(this.layers, target, NO_CONVERSIONS);
    this.last = r;
    return { ...toView(r, base, performance.now() - t0), fromQuantize: this.fromQuantize };
  }

  /** `pre`: the Calibrate step's preprocessing, which the scripts apply to the image they are given. */
  deployment(pre?: PreprocessSpec): Deployment {
    const r = this.require();
    const xmodelName = `${stem(this.fileName)}.xmodel`;
    return {
      xmodelName, vart: vartPython(r, xmodelName, pre), pynq: pynqPython(r, xmodelName, pre), costCsv: costCsv(r), board: boardCompile(r, xmodelName),
      intXModelName: `${stem(this.fileName)}_int.xmodel`, stubs: cpuStubs(r),
      standin: this.source.kind === 'onnx' && r.graph.quantized ? { npzName: `${stem(this.fileName)}_dpu.npz` }
        : { unavailable: r.graph.quantized ? 'the stand-in runs a quantized ONNX model' : 'quantize the model first' },
    };
  }

  /** The `_int.xmodel` of the compiled source: written from a QDQ model, or an opened quantizer output rewritten. */
  intXModelBytes(): Uint8Array {
    this.layers ??= layersOf(this.source);
    if (!this.layers.quantized) throw new InputError('an _int.xmodel carries fix points: quantize the model first (or open a QDQ model)');
    const x = this.source.kind === 'onnx' ? intXModelOf(this.source.model) : intXModel(this.layers, { xmodel: this.source.xmodel });
    return writeXModel(x);
  }

  /** `<model>_dpu.npz` for dpu_standin.py: the last compile's DPU subgraphs with int8 weights and fix points. */
  standinNpzBytes(): Uint8Array {
    const r = this.require();
    if (this.source.kind !== 'onnx' || !r.graph.quantized) throw new InputError('the NumPy stand-in runs a quantized ONNX model: quantize it first');
    return standinNpz(standinProgram(this.source.model, r.target, r.conversions));
  }

  xmodelBytes(): Uint8Array {
    return writeXModel(compiledXModel(this.require()));
  }

  private require(): CompileResult {
    if (!this.last) throw new Error('nothing compiled yet');
    return this.last;
  }
}

function isNone(c: Conversions): boolean {
  return (Object.keys(NO_CONVERSIONS) as (keyof Conversions)[]).every((k) => c[k] === NO_CONVERSIONS[k]);
}

function stem(fileName: string): string {
  return fileName.replace(/\.[^.]*$/, '').replace(/_int$/, '') || 'model';
}

function toView(r: CompileResult, base: CompileResult, millis: number): Omit<CompileView, 'fromQuantize'> {
  const opSubgraph: Record<string, number> = {};
  r.subgraphs.forEach((s, i) => {
    for (const o of s.ops) opSubgraph[o] = i;
    // Graph inputs have no source op: their USER subgraph is found by the tensor (the input node's name).
    if (s.device === 'USER') for (const p of s.outputs) opSubgraph[p.name] ??= i;
  });
  const cpuReasons: Record<string, CpuOpView> = {};
  for (const p of r.layers) {
    if (p.device !== 'CPU') continue;
    const v: CpuOpView = { name: p.layer.name, op: p.layer.op, reason: p.reason ?? '', ...(p.fix ? { fix: p.fix } : {}) };
    for (const o of p.layer.sourceOps) cpuReasons[o] = v;
  }
  return {
    target: r.target.name, clockHz: r.target.clockHz, summary: r.summary,
    deviceSubgraphNumber: r.deviceSubgraphNumber, dpuSubgraphNumber: r.dpuSubgraphNumber,
    baseline: { deviceSubgraphNumber: base.deviceSubgraphNumber, dpuSubgraphNumber: base.dpuSubgraphNumber },
    quantized: r.graph.quantized,
    subgraphs: r.subgraphs.map((s, index) => ({
      index, name: s.name, device: s.device, ops: s.ops, inputs: s.inputs, outputs: s.outputs, cost: s.cost,
    })),
    opSubgraph, cpuReasons, totals: r.totals, millis,
  };
}

/** One row per placed layer: what the cost model charges for it. */
export function costCsv(r: CompileResult): string {
  const sgOf = new Map<number, string>();
  for (const s of r.subgraphs) for (const l of s.layers) sgOf.set(l, s.name);
  const head = ['layer', 'op', 'device', 'subgraph', 'output_shape', 'workload', 'workload_on_arch', 'ideal_cycles', 'seconds', 'weight_bytes', 'read_bytes', 'write_bytes'];
  const rows = r.layers.map((p, i) => [
    p.layer.name, p.layer.op, p.device, sgOf.get(i) ?? '', p.layer.shape.join('x'), p.cost.workload, p.cost.workloadOnArch,
    p.cost.cycles, p.cost.seconds, p.cost.weightBytes, p.cost.readBytes, p.cost.writeBytes,
  ]);
  // Layer names come from the model file: csvRows neutralises formulas and quotes line breaks.
  return csvRows([head, ...rows]);
}

/** A compiled file has device subgraphs under its root; a quantizer output has none. */
export function isCompiled(x: XModel): boolean {
  return x.root.children.some((c) => subgraphDevice(c) !== undefined);
}

const MAX_LISTED_OPS = 200;

export function compiledFileView(x: XModel): CompiledFileView {
  const byName = new Map(x.ops.map((o) => [o.name, o]));
  const view = (s: XSubgraph): XSubgraphView => {
    const fp = xBig(s.attrs, 'dpu_fingerprint');
    return {
      name: s.name, device: subgraphDevice(s), opCount: subgraphOps(s).length,
      workload: xInt(s.attrs, 'workload'), workloadOnArch: xInt(s.attrs, 'workload_on_arch'),
      fingerprint: fp === undefined ? undefined : '0x' + fp.toString(16), dpuName: xString(s.attrs, 'dpu_name'),
      ops: s.ops.slice(0, MAX_LISTED_OPS).map((n) => {
        const o = byName.get(n);
        return { name: n, type: o?.type ?? '?', shape: o?.output.shape ?? [], fixPoint: o ? opFixPoint(o) : undefined };
      }),
      children: s.children.map(view),
    };
  };
  const opSubgraph: Record<string, number> = {};
  x.root.children.forEach((c, i) => { for (const o of subgraphOps(c)) opSubgraph[o] = i; });
  const devices = x.root.children.map((c) => subgraphDevice(c) ?? '?');
  const dpu = devices.filter((d) => d.toUpperCase() === 'DPU').length;
  return {
    summary: `Total device subgraph number ${devices.length}, DPU subgraph number ${dpu}`,
    tree: view(x.root), opSubgraph, devices,
  };
}
