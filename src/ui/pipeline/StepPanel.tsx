// The open step's panel, floating over the left of the graph.
import { set, useStore } from '../store';
import { stepPanel } from './PipelineBar';

export function StepPanel() {
  const step = useStore((s) => s.activeStep);
  const model = useStore((s) => s.model);
  const panel = stepPanel(step);
  if (!panel || !model) return null;
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
