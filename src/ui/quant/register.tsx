// The Calibrate and Quantize steps' panels, registered with the pipeline bar.
import { registerStepPanel } from '../pipeline/PipelineBar';
import { CalibratePanel } from './CalibratePanel';
import { QuantizePanel } from './QuantizePanel';
import './quant.css';
import { useStore } from '../store';
import { relayout } from '../session';

registerStepPanel('calibrate', 'Calibrate', () => <CalibratePanel />);
registerStepPanel('quantize', 'Quantize', () => <QuantizePanel />);

// Quantized, the graph shows fp=N tags and a second edge label: lay it out again with room for them
// (and back when the result goes away on the same model; a newly opened model is already laid out plain).
useStore.subscribe((s, prev) => {
  if (!s.model || !!s.quant === !!prev.quant) return;
  if (s.quant || s.model.openId === prev.model?.openId) void relayout();
});
