// The Simulate step, registered with the pipeline bar; a new model or quantization drops its results.
import { registerStepPanel } from '../pipeline/PipelineBar';
import { useStore } from '../store';
import { simModelChanged } from './actions';
import { SimulatePanel } from './SimulatePanel';
import './sim.css';

registerStepPanel('simulate', 'Simulate on the DPU', () => <SimulatePanel />, (s) => s.simRun.state === 'done');

useStore.subscribe((s, prev) => {
  if (s.model?.openId !== prev.model?.openId) simModelChanged(true);
  else if (s.quant !== prev.quant) simModelChanged(false);
});
