// What the compiler needs to know of an accelerator: its data (parallelism, clock) and its rules
// (which layers it runs, which nonlinearities fuse). Another accelerator is one more module implementing this.
import type { LayerCost } from '../cost';
import type { Activation, Conversions, Layer } from '../layer';

export type Support = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly fix?: string };

export const SUPPORTED: Support = { ok: true };

/** Parameters of the DPU's ideal-cycle cost model (workload_on_arch pads each dimension to its parallelism). */
export interface CostParams {
  /** Pixel parallelism of the conv engine (output rows computed at once, see cost.ts). */
  readonly pixelParallel: number;
  readonly inputChannelParallel: number;
  readonly outputChannelParallel: number;
  /** The first layer's few input channels are packed along the kernel width. */
  readonly channelAugmentation: boolean;
  /** Pixel parallelism of the ALU (depthwise conv, pooling, element-wise). */
  readonly aluPixelParallel: number;
  /** Peak operations per clock (the B in B4096). */
  readonly opsPerClock: number;
  readonly clockHz: number;
}

export interface Target {
  /** The compiler's name for it, e.g. DPUCZDX8G_ISA1_B4096. */
  readonly name: string;
  /** The accelerator family, e.g. DPUCZDX8G. */
  readonly family: string;
  readonly fingerprint?: bigint;
  /** Label of the subgraphs it runs ('DPU'); it also names them in the summary line. Not USER or CPU. */
  readonly device: string;
  readonly clockHz: number;
  /** Ideal cost of a layer it runs (the layer as placed: a fused nonlinearity included). */
  cost(layer: Layer): LayerCost;
  /** Whether the layer (with the conversions applied) runs on the accelerator, and why not. */
  supports(layer: Layer, conversions: Conversions): Support;
  /** Whether a nonlinearity fuses into a producer layer of this kind (the pair then runs as one layer). */
  fuses(producer: Layer, activation: Activation): boolean;
}
