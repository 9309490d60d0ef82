// What the model worker sends the UI: plain data only (weights never leave the worker).
import type { DisplayGraph } from '../src/core/view/types';

// DPU compilation (workers/compile.ts).
export type { CompileView, CompiledFileView, CpuOpView, Deployment, SubgraphView, TargetChoice, XSubgraphView } from './compile';

export type OpenStage = 'hashing' | 'reading' | 'display' | 'layout';

export interface ModelInfo {
  readonly fileName: string;
  readonly byteLength: number;
  readonly producer: string;
  readonly producerVersion: string;
  readonly opset: number;
  readonly opCount: number;
}

export interface Opened {
  readonly hash: string;
  readonly info: ModelInfo;
  readonly graph: DisplayGraph;
}

export interface WeightStats {
  readonly tensor: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly std: number;
  /** Histogram over [min, max]: `counts.length` equal-width bins. */
  readonly counts: readonly number[];
}
