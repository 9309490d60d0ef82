// The bit-exact int8 DPU simulator (docs/simulator.md): prepare a QDQ model once, run samples, compare with
// the fake-quant run or onnxruntime, and write VART golden files.
export type { Counters, RunOptions, SimOptions, SimPort, SimRun, SimSource, SimTensor, Simulation, SubgraphProgress, TensorAgreement } from './types';
export { prepareSimulation } from './simulate';
export { agreement, qdqRuntime } from './agreement';
export { goldenDump, vartLayerName } from './golden';
export { md5 } from './md5';
