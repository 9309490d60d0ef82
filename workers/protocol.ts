// What the model worker sends the UI: plain data only (weights never leave the worker).
import type { DisplayGraph, Layout } from '../src/core/view/types';

// DPU compilation (workers/compile.ts).
export type { CompileView, CompiledFileView, CpuOpView, Deployment, SubgraphView, TargetChoice, XSubgraphView } from './compile';

export type OpenStage = 'hashing' | 'reading' | 'display' | 'layout';

export interface ModelInfo {
  readonly fileName: string;
  /** The source format ('onnx', 'xmodel', 'tflite', 'keras-h5', 'keras'). */
  readonly format: string;
  readonly byteLength: number;
  readonly producer: string;
  readonly producerVersion: string;
  readonly opset: number;
  readonly opCount: number;
}

/** What opening a file returns; its content hash follows from `hash()`, off the way to the first drawing. */
export interface Opened {
  readonly info: ModelInfo;
  readonly graph: DisplayGraph;
  /** The graph laid out as it first shows (bodies closed, not quantized), made in the same call. */
  readonly layout: Layout;
  /** Where the worker's part of the open went (ms): reading the file, parsing it, the display graph, its layout. */
  readonly ms: { readonly read: number; readonly parse: number; readonly display: number; readonly layout: number };
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

// ---- calibration and quantization (workers/quant.ts) ----

export interface CalibInfo {
  readonly count: number;
  readonly sampleShape: readonly number[];
  readonly input: string;
  readonly layout: string;
  readonly files: number;
  /** The values went to the model unchanged (at most their axes reordered): no preprocessing applied. */
  readonly asIs: boolean;
  /** sampleDigest of the first sample: the same file and preprocessing give the same digest in the CLI. */
  readonly firstDigest: string;
}

/** One preprocessed sample as an image, for the preview. */
export interface CalibPreview {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8ClampedArray;
  readonly min: number;
  readonly max: number;
}

export interface TensorFix {
  readonly fixPoint: number;
  readonly calibratedFixPoint: number;
  readonly bitWidth: number;
  readonly dataType: string;
  readonly layer: string;
  /** A calibration method, or 'imported' for fix points read from a QDQ model. */
  readonly method: string;
  /** NaN when not known (imported). */
  readonly clippedFraction: number;
}

export interface TensorDetail extends TensorFix {
  readonly name: string;
  readonly scale: number;
  readonly alternatives: readonly { fp: number; mse: number }[];
  readonly histogram?: { lo: number; hi: number; counts: number[] };
  /** Weights and biases: the float values and their quantized values, binned over the same range. */
  readonly weightHistograms?: { lo: number; hi: number; float: number[]; quantized: number[] };
}

export interface QuantSummary {
  readonly source: 'calibration' | 'imported';
  /** Node name → the quantization layer it belongs to (a fused Relu → its Conv): layer configs use these names. */
  readonly layerOf: Readonly<Record<string, string>>;
  readonly tensors: Readonly<Record<string, TensorFix>>;
  readonly layers: readonly { layer: string; opType: string; output: string; sqnrDb: number; cosine: number }[];
  readonly adjustments: readonly { rule: string; tensor: string; from: number; to: number; reason: string }[];
  readonly warnings: readonly string[];
  readonly prepareLog: readonly { pass: string; detail: string }[];
}
