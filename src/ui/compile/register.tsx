// The Compile step, registered with the pipeline bar. Opening it colours the graph by device and compiles;
// closing it returns to the category colours.
import { registerStepPanel } from '../pipeline/PipelineBar';
import { useStore } from '../store';
import { closeCompile, openCompile, prepareCompile, quantChanged, recompile } from './actions';
import { CompilePanel } from './CompilePanel';

registerStepPanel('compile', 'Compile for DPU', () => <CompilePanel />, (s) => s.compileRun.state === 'done' || !!s.compiledFile);

useStore.subscribe((s, prev) => {
  if (s.model && s.model.openId !== prev.model?.openId) void prepareCompile(s.model.openId);
  if (s.activeStep === 'compile' && prev.activeStep !== 'compile') openCompile();
  else if (prev.activeStep === 'compile' && s.activeStep !== 'compile') closeCompile();
  if (s.quant !== prev.quant && s.quant?.source === 'calibration') {
    quantChanged();
    if (s.activeStep === 'compile') void recompile();
    else if (s.compileRun.state !== 'idle') useStore.setState({ compileRun: { state: 'idle' }, deployment: null });
  }
});
