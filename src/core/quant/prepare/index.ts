// Graph preparation before calibration, driven by the quant config. Each pass is pure: Model in,
// new Model out, with a log line per change.
import type { Model } from '../../ir';
import type { QuantConfig } from '../config';
import { crossLayerEqualize } from './cle';
import { leakySlopeToDpu, relu6ToRelu, sigmoidToHardSigmoid, siluToHardSwish } from './convert';
import { foldBatchNorm, type PrepareLog } from './fold-bn';
import { dropNoOps, foldConstants, foldConvAddBias, foldMatMulAdd } from './simplify';

export type { PrepareLog } from './fold-bn';
export { foldBatchNorm } from './fold-bn';
export { crossLayerEqualize } from './cle';
export { dropNoOps, foldConstants, foldConvAddBias, foldMatMulAdd } from './simplify';
export { leakySlopeToDpu, relu6ToRelu, sigmoidToHardSigmoid, siluToHardSwish, DPU_LEAKY_SLOPE } from './convert';

export function prepareModel(model: Model, cfg: QuantConfig): { model: Model; log: PrepareLog[] } {
  const log: PrepareLog[] = [];
  let m = dropNoOps(model, log);
  m = foldConstants(m, log);
  m = foldBatchNorm(m, log);
  m = foldConvAddBias(m, log);
  m = foldMatMulAdd(m, log);
  if (cfg.convert_relu6_to_relu) m = relu6ToRelu(m, log);
  if (cfg.convert_silu_to_hswish) m = siluToHardSwish(m, log);
  if (cfg.convert_sigmoid_to_hsigmoid) m = sigmoidToHardSigmoid(m, log);
  if (cfg.convert_leaky_relu_slope) m = leakySlopeToDpu(m, log);
  if (cfg.include_cle) m = crossLayerEqualize(m, log);
  return { model: m, log };
}
