// The Calibrate and Quantize steps' panels, registered with the pipeline bar.
import { registerStepPanel } from '../pipeline/PipelineBar';
import { CalibratePanel } from './CalibratePanel';
import { QuantizePanel } from './QuantizePanel';
import './quant.css';

registerStepPanel('calibrate', 'Calibrate', () => <CalibratePanel />);
registerStepPanel('quantize', 'Quantize', () => <QuantizePanel />);
