// The open step's panel, floating over the left of the graph.
import { set, useStore } from '../store';
import { stepPanel, stepUnavailable } from './PipelineBar';

export function StepPanel() {
  const step = useStore((s) => s.activeStep);
  const model = useStore((s) => s.model);
  // The step stays open across a model switch, but not onto a model it cannot run on (Simulate stays
  // chosen and shows again once this model is quantized).
  const unavailable = useStore((s) => (step ? stepUnavailable(step, s) : null));
  const panel = stepPanel(step);
  if (!panel || !model || unavailable) return null;
  return (
    <aside className="step-panel" data-testid="step-panel">
      <div className="side-head">
        <h3>{panel.title}</h3>
        <button className="icon" aria-label="Close" onClick={() => set({ activeStep: null })}>×</button>
      </div>
      {panel.render()}
    </aside>
  );
}
