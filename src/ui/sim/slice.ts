// The Simulate part of the app store: which input, the run's state and its report.
import type { SimReport } from '../../core/sim/report';
import type { SimDetections, SimPrepared } from '../../../workers/sim.worker';
import type { TensorView } from '../../core/demo/tensorview';
import type { ClassFolder } from '../../core/demo/labelled';
import type { SimMetric } from './paint';

/** Where the sample comes from: the Calibrate step's set, the shipped Fashion-MNIST eval set, or a dropped file. */
export type SimSourceKind = 'calib' | 'eval' | 'file';

export type SimRunState =
  | { readonly state: 'idle' }
  | { readonly state: 'running'; readonly phase: string }
  | { readonly state: 'done' }
  | { readonly state: 'error'; readonly message: string };

/** The user's labelled set as the Evaluate section shows it (its bytes stay in ./actions). */
export interface SimEvalSetInfo {
  readonly kind: 'npy' | 'folders';
  readonly title: string;
  readonly samples: number;
  readonly classes: readonly string[];
  /** Folder sets: class name → index. */
  readonly folders?: readonly ClassFolder[];
  /** The indices come from the model's label file (else from the sorted folder names). */
  readonly byLabelFile?: boolean;
  /** The preprocessing its images are read with, as text. */
  readonly preprocess: string;
}

export interface SimEval {
  readonly state: 'running' | 'done' | 'cancelled' | 'error';
  /** Which set ran: the shipped one or the user's, its title and class names. */
  readonly source: 'shipped' | 'user';
  readonly title: string;
  readonly classes: readonly string[];
  readonly total: number;
  readonly labels: readonly number[];
  /** Top class per evaluated sample, in order (float −1 without a float reference). */
  readonly float: readonly number[];
  readonly int8: readonly number[];
  readonly message?: string;
}

export interface SimSlice {
  simSource: SimSourceKind;
  simIndex: number;
  /** The dropped file's name and sample count (its bytes stay in ./actions). */
  simFile: { readonly name: string; readonly count: number } | null;
  simPrepared: SimPrepared | null;
  simRun: SimRunState;
  simReport: SimReport | null;
  /** What the last report was computed on, e.g. "eval set #3 (label 9 Ankle boot)". */
  simInputLabel: string | null;
  /** YOLOX boxes of the last run (float and int8), when the model's output has that form. */
  simDetections: SimDetections | null;
  /** The image the last run read (a dropped or shipped photo), for drawing boxes over it. */
  simImage: { readonly name: string; readonly bytes: Uint8Array; readonly resize: 'stretch' | 'letterbox' } | null;
  /** The Evaluate section over the shipped labelled set: predictions so far (kept across step switches). */
  simEval: SimEval | null;
  /** The user's labelled set, the last refusal of one (one line; the previous set stays), which set Evaluate runs. */
  simEvalSet: SimEvalSetInfo | null;
  simEvalSetError: string | null;
  simEvalUse: 'shipped' | 'user';
  /** The tensor view of the last run's tensor clicked in the layer table. */
  simTensor: TensorView | null;
  /** The demo's score threshold slider. */
  simScore: number;
  /** What the graph is painted by in the `sim` colour mode. */
  simPaint: SimMetric;
  /** Why the last tensor view asked for could not be shown (e.g. a restored run keeps no values). */
  simTensorError: string | null;
  /** What the tensor view compares the DPU's codes with. */
  simCompare: 'fake-quant' | 'onnxruntime';
}

export const initialSimSlice: SimSlice = {
  simSource: 'calib',
  simIndex: 0,
  simFile: null,
  simPrepared: null,
  simRun: { state: 'idle' },
  simReport: null,
  simInputLabel: null,
  simDetections: null,
  simEval: null,
  simEvalSet: null,
  simEvalSetError: null,
  simEvalUse: 'shipped',
  simTensor: null,
  simImage: null,
  simScore: 0.3,
  simPaint: 'sqnr',
  simCompare: 'fake-quant',
  simTensorError: null,
};
