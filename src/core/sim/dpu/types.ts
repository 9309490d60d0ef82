// The simulator's public types (re-exported by index.ts).
import type { CompileResult, Conversions } from '../../compile';
import type { FloatTensor, Model } from '../../ir';
import type { XModel } from '../../xmodel/types';
import type { OrtOptions } from '../float/ort';

export type SimSource = { kind: 'onnx'; model: Model /* QDQ, pow2 scales */ } | { kind: 'xmodel'; xmodel: XModel /* a quantizer _int.xmodel */ };

export interface SimPort {
  name: string;
  /** Source layout, batch 1. */
  shape: readonly number[];
  fixPoint?: number;
}

export interface SimOptions {
  conversions?: Conversions;
  /** onnxruntime's threads for the CPU subgraphs, and the DPU kernels' unless `kernelThreads` says. */
  threads?: number;
  /** Threads the DPU conv kernels split big layers over (default `threads`; 1 where SharedArrayBuffer is missing). */
  kernelThreads?: number;
  /** How layers are split (tests): from `splitMacs` multiply-accumulates (default SPLIT_MACS; 0: every
   *  layer), and with `helpersOnly` run by the helper threads alone. */
  kernelSplit?: { splitMacs?: number; helpersOnly?: boolean };
  wasmPaths?: OrtOptions['wasmPaths'];
  /** One onnxruntime call per run of consecutive CPU subgraphs (default true; false: one call each, as a check). */
  groupCpu?: boolean;
  /** Keep the fix inside a CPU subgraph on outputs that only DPU layers read (default false: their float2fix
   *  at the DPU entry gives the same codes; true only as a check of that). */
  fixCpuOutputs?: boolean;
}

export interface SimTensor {
  /** The tensor's name in the source model (what fakeQuant and agreement key by). */
  name: string;
  /** The DPU layer producing it, as the compiled .xmodel names the op (what VART's golden files use). */
  layer: string;
  /** Source layout. */
  shape: readonly number[];
  fixPoint: number;
  /** Source layout. */
  q: Int8Array;
  subgraph: string;
}

export interface Counters {
  /** Multiply-accumulates executed (conv, depthwise, transposed conv, dense). */
  macs: number;
  /** Operations in the units of the compiler's workload: 2·MACs + bias adds for convs, window reads for
   *  pools, one per input element for element-wise ops; 0 for pure data movement. */
  ops: number;
  bytesIn: number;
  bytesWeights: number;
  bytesOut: number;
}

export interface SimRun {
  outputs: Record<string, { value: FloatTensor /* int8 dequantized, or float from a CPU tail */; fixPoint?: number }>;
  /** Every DPU layer output (when keepTensors). */
  tensors: Map<string, SimTensor>;
  layers: (Counters & { name: string; subgraph: string; ms: number })[];
  subgraphs: (Counters & { name: string; device: string; ms: number })[];
  ms: number;
}

/** Which subgraph a run is starting: the k-th (from 1) of the `count` DPU and CPU subgraphs. */
export interface SubgraphProgress {
  index: number;
  count: number;
  name: string;
  device: string;
}

export interface RunOptions {
  /** Checked before each subgraph: an aborted run rejects with an AbortError. */
  signal?: AbortSignal;
  keepTensors?: boolean;
  /** Called as each subgraph starts (then the run yields one macrotask, so a cancel can arrive). */
  onSubgraph?: (p: SubgraphProgress) => void;
}

export interface Simulation {
  readonly compile: CompileResult;
  readonly inputs: readonly SimPort[];
  readonly outputs: readonly SimPort[];
  /** wasm bytes of the DPU feature maps: as planned (buffers shared by tensors whose lifetimes do not
   *  overlap) and what one buffer per tensor would take. */
  readonly featureMapBytes: { readonly planned: number; readonly unshared: number };
  /** Threads the DPU conv kernels split big layers over (1 where threads are unavailable or not asked for). */
  readonly kernelThreads: number;
  /** Ends the kernels' helper threads: from now on they run on this thread (kernelThreads becomes 1). For a
   *  caller that learns after preparing that it runs samples on several threads at once. */
  endKernelThreads(): void;
  /** One sample (batch 1) per call; feeds are float in the source layout. */
  run(feeds: Readonly<Record<string, FloatTensor>>, o?: RunOptions): Promise<SimRun>;
  /** The tool's own fake-quant run of the same sample: int8 codes of every DPU tensor (source layout). */
  fakeQuant(feeds: Readonly<Record<string, FloatTensor>>): Promise<Map<string, Int8Array>>;
  release(): Promise<void>;
}

export interface TensorAgreement {
  name: string;
  fixPoint: number;
  identicalFraction: number;
  /** Largest |difference| in int8 steps (LSB). */
  maxLsb: number;
}
