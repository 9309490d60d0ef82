// What a project keeps of the store: the inputs of every step and the cheap results. Expensive results
// (calibration statistics, the quantized model, the compiled graph) are made again from these on restore.
import type { Conversions } from '../../core/compile/layer';
import type { SimReport } from '../../core/sim/report';
import type { PickedTarget } from '../compile/slice';
import type { PipelineStep, TensorOverride } from '../quant/slice';
import type { SimSourceKind } from '../sim/slice';
import type { AppState } from '../store';

export interface SavedState {
  readonly version: 1;
  readonly activeStep: PipelineStep | null;
  readonly quantConfig: string;
  readonly overrides: Readonly<Record<string, TensorOverride>>;
  /** The Quantize step ran (not just a QDQ file's own fix points). */
  readonly quantized: boolean;
  readonly compileTarget: PickedTarget;
  readonly conversions: Conversions;
  readonly compiled: boolean;
  readonly simSource: SimSourceKind;
  readonly simIndex: number;
  readonly simReport: SimReport | null;
  readonly simInputLabel: string | null;
}

export function savedStateOf(s: AppState): SavedState {
  return {
    version: 1,
    activeStep: s.activeStep,
    quantConfig: s.quantConfig,
    overrides: s.overrides,
    quantized: s.quant?.source === 'calibration',
    compileTarget: s.compileTarget,
    conversions: s.conversions,
    compiled: s.compileRun.state === 'done',
    simSource: s.simSource === 'file' ? 'calib' : s.simSource,
    simIndex: s.simSource === 'file' ? 0 : s.simIndex,
    simReport: s.simRun.state === 'done' ? s.simReport : null,
    simInputLabel: s.simRun.state === 'done' ? s.simInputLabel : null,
  };
}

/** The furthest step done, for the project list. */
export function lastStepOf(st: SavedState, calibrated: boolean): string {
  if (st.simReport) return 'simulated';
  if (st.compiled) return 'compiled';
  if (st.quantized) return 'quantized';
  if (calibrated) return 'calibrated';
  return 'opened';
}

/** The fields of the store a save depends on: a change of any of them schedules one. */
export function savedFieldsChanged(s: AppState, prev: AppState): boolean {
  return s.activeStep !== prev.activeStep || s.quantConfig !== prev.quantConfig || s.overrides !== prev.overrides
    || s.quant !== prev.quant || s.compileTarget !== prev.compileTarget || s.conversions !== prev.conversions
    || s.compileRun.state !== prev.compileRun.state || s.simRun.state !== prev.simRun.state || s.calib !== prev.calib
    || s.simSource !== prev.simSource || s.simIndex !== prev.simIndex;
}
