// The calibration/quantization part of the app store, and the pipeline's step state.
import type { CalibInfo, QuantSummary } from '../../../workers/protocol';

export type PipelineStep = 'model' | 'calibrate' | 'quantize' | 'compile' | 'simulate';

export type QuantRun =
  | { readonly state: 'running'; readonly phase: string; readonly batch: number; readonly total: number }
  | { readonly state: 'idle' };

/** What the user pinned per tensor, applied by requantize without another float pass. */
export interface TensorOverride {
  readonly fixPoint?: number;
  readonly method?: string;
}

export interface QuantSlice {
  /** The open step panel; null when none is open. */
  activeStep: PipelineStep | null;
  /** The model these quant fields belong to (they reset when another model opens). */
  quantFor: number;
  calib: CalibInfo | null;
  calibError: string | null;
  /** The quant-config JSON as the user edits it. */
  quantConfig: string;
  quantConfigError: string | null;
  quant: QuantSummary | null;
  quantRun: QuantRun;
  quantError: string | null;
  overrides: Readonly<Record<string, TensorOverride>>;
  /** A pin or method change is being re-solved and its layers measured again. */
  remeasuring: boolean;
  /** The tensor whose histogram and alternatives are shown (an edge click or a node output). */
  quantTensor: string | null;
}

export const initialQuantSlice: QuantSlice = {
  activeStep: null,
  quantFor: 0,
  calib: null,
  calibError: null,
  quantConfig: '{}',
  quantConfigError: null,
  quant: null,
  quantRun: { state: 'idle' },
  quantError: null,
  overrides: {},
  remeasuring: false,
  quantTensor: null,
};

/** Fields reset when a model opens (the step panel stays where the user was). */
export function quantReset(openId: number): Partial<QuantSlice> {
  const { activeStep: _a, ...rest } = initialQuantSlice;
  return { ...rest, quantFor: openId };
}
