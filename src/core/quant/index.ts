// Public surface of the quantizer for the app, workers and CLI.
export * from './fixpoint';
export * from './config';
export { quantizeModel, requantize, runFakeQuant, evaluateLayers, quantizedWeights } from './quantize';
export type {
  CalibSource, ChannelQuant, Feeds, LayerMetric, QuantOptions, QuantOverrides, QuantProgress, QuantResult, QuantSession, TensorQuant,
} from './quantize';
export { applyRules, type Adjustment, type RuleName } from './rules';
export { buildQGraph, type QGraph, type QLayer } from './qgraph';
export { exportQdq, importQdq, quantInfoJson, type ImportedFixPoint } from './qdq';
export { prepareModel, type PrepareLog } from './prepare';
export { CALIB_METHODS, type CalibMethod, type StatisticMethod } from './calibrate/methods';
