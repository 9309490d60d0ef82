// The steps from a float model to the DPU, in the top bar. Each step opens its panel (StepPanel); a
// step registers its panel with registerStepPanel so other steps' code stays in their own files.
import { useEffect, type ReactNode } from 'react';
import { set, useStore, type AppState } from '../store';
import type { PipelineStep } from '../quant/slice';
import { onModelOpened } from '../quant/actions';

interface StepDef {
  readonly id: PipelineStep;
  readonly label: string;
  /** Why the step cannot be opened yet, or null when it can. */
  readonly unavailable?: (s: AppState) => string | null;
  readonly done: (s: AppState) => boolean;
}

const STEPS: readonly StepDef[] = [
  { id: 'model', label: 'Model', done: (s) => !!s.model },
  // Done once statistics were measured (Quantize runs the calibration pass), not when data is merely loaded.
  { id: 'calibrate', label: 'Calibrate', done: (s) => !!s.quant },
  { id: 'quantize', label: 'Quantize', done: (s) => !!s.quant },
  { id: 'compile', label: 'Compile', done: (s) => stepDone.compile?.(s) ?? false },
  { id: 'simulate', label: 'Simulate', unavailable: (s) => (s.quant ? null : 'quantize the model first (or open a quantized model)'), done: (s) => stepDone.simulate?.(s) ?? false },
];

const panels: Partial<Record<PipelineStep, { title: string; render: () => ReactNode }>> = {};
const stepDone: Partial<Record<PipelineStep, (s: AppState) => boolean>> = {};

/** Lets a step (e.g. Compile) supply its panel and its "done" test; opening is `set({ activeStep })`. */
export function registerStepPanel(step: PipelineStep, title: string, render: () => ReactNode, done?: (s: AppState) => boolean): void {
  panels[step] = { title, render };
  if (done) stepDone[step] = done;
}

export function stepPanel(step: PipelineStep | null) {
  return step ? panels[step] : undefined;
}

/** Why `step` cannot be open for the current model (Simulate before anything is quantized), or null. */
export function stepUnavailable(step: PipelineStep, state: AppState): string | null {
  return STEPS.find((s) => s.id === step)?.unavailable?.(state) ?? null;
}

export function openStep(step: PipelineStep | null): void {
  if (step === 'model') set({ activeStep: null, galleryOpen: true });
  else set({ activeStep: step });
}

export function PipelineBar() {
  const state = useStore();
  const openId = state.model?.openId;
  useEffect(() => { if (openId) void onModelOpened(openId); }, [openId]);
  if (!state.model) return <div className="topbar-pipeline" />;
  // The current step: the first one not done.
  const current = STEPS.find((s) => !s.done(state) && !s.unavailable?.(state) && !(s.id === 'calibrate' && state.calib))?.id;
  return (
    <nav className="topbar-pipeline pipeline" data-testid="pipeline">
      {STEPS.map((s, i) => {
        const why = s.unavailable?.(state) ?? null;
        const done = s.done(state);
        const cls = ['step', done && 'done', s.id === current && 'current', state.activeStep === s.id && !why && 'active'].filter(Boolean).join(' ');
        return (
          <span key={s.id} className="step-wrap">
            {i > 0 && <span className="step-arrow">→</span>}
            <button
              className={cls} disabled={!!why} title={why ?? (done ? `${s.label}: done` : s.label)}
              data-testid={`step-${s.id}`} data-done={done ? '' : undefined}
              onClick={() => openStep(state.activeStep === s.id ? null : s.id)}
            >
              {done ? '✓ ' : ''}{s.label}
            </button>
          </span>
        );
      })}
    </nav>
  );
}
