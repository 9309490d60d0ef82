import { describe, expect, it } from 'vitest';
import {
  defaultQuantConfig, dpuOverrides, exportQuantConfig, parseQuantConfig, resolveParams,
} from '../../src/core/quant/config';

describe('quant config', () => {
  it('fills the §5 defaults', () => {
    const c = defaultQuantConfig();
    expect(c.include_cle).toBe(true);
    expect(c.include_bias_corr).toBe(true);
    expect(c.target_device).toBe('DPU');
    expect(resolveParams(c, 'activation')).toMatchObject({ bit_width: 8, method: 'diffs', round_mode: 'half_up', scale_type: 'poweroftwo', calib_statistic_method: 'modal', symmetry: true, per_channel: false, signed: true });
    expect(resolveParams(c, 'weights')!.round_mode).toBe('std_round');
    expect(resolveParams(c, 'input')!.round_mode).toBe('std_round');
  });
  it('names the bad field', () => {
    expect(() => parseQuantConfig({ tensor_quantize_config: { activation: { method: 'kl' } } })).toThrow(
      'tensor_quantize_config.activation.method: expected one of maxmin, percentile, entropy, mse, diffs');
    expect(() => parseQuantConfig({ overall_quantize_config: { bit_width: 'eight' } })).toThrow(/overall_quantize_config\.bit_width: expected number/);
    expect(() => parseQuantConfig({ include_clee: true })).toThrow('unknown field "include_clee"');
    expect(() => parseQuantConfig('{')).toThrow(/not valid JSON/);
    expect(() => parseQuantConfig({ layer_quantize_config: [{ quantizable_data_type: [] }] })).toThrow(/layer_quantize_config\.0: give exactly one/);
    expect(() => parseQuantConfig({ target_device: 'TPU' })).toThrow('target_device: expected one of DPU, CPU, GPU');
  });
  it('applies per-layer overrides by type and by name', () => {
    const c = parseQuantConfig({
      tensor_quantize_config: { activation: { method: 'maxmin' } },
      layer_quantize_config: [
        { layer_type: 'torch.nn.Linear', quantizable_data_type: ['weights', 'bias', 'activation'], overall_quantize_config: { bit_width: 16 } },
        { layer_name: 'head', quantizable_data_type: [] },
        { layer_type: 'Conv', quantizable_data_type: ['activation'], tensor_quantize_config: { activation: { method: 'percentile', percentage: 99.9 } } },
      ],
    });
    expect(resolveParams(c, 'activation', { name: 'x', opType: 'Relu' })!.method).toBe('maxmin');
    expect(resolveParams(c, 'weights', { name: 'fc', opType: 'Gemm' })!.bit_width).toBe(16);
    expect(resolveParams(c, 'activation', { name: 'head', opType: 'Gemm' })).toBeNull();
    expect(resolveParams(c, 'weights', { name: 'c1', opType: 'Conv' })).toBeNull();
    expect(resolveParams(c, 'activation', { name: 'c1', opType: 'Conv' })).toMatchObject({ method: 'percentile', percentage: 99.9 });
  });
  it('forces the DPU constraints and allows per-channel float scales elsewhere', () => {
    const raw = { overall_quantize_config: { per_channel: true, scale_type: 'float', method: 'maxmin' } };
    const dpu = parseQuantConfig(raw);
    expect(resolveParams(dpu, 'weights')).toMatchObject({ per_channel: false, scale_type: 'poweroftwo' });
    expect(dpuOverrides(dpu)).toEqual(['overall_quantize_config.per_channel', 'overall_quantize_config.scale_type']);
    const cpu = parseQuantConfig({ ...raw, target_device: 'CPU' });
    expect(resolveParams(cpu, 'weights')).toMatchObject({ per_channel: true, scale_type: 'float' });
  });
  it('refuses a float scale with a power-of-two-only method, as vai_q does, naming the field', () => {
    expect(() => parseQuantConfig({ target_device: 'CPU', overall_quantize_config: { scale_type: 'float' } })).toThrow(
      'quant config: overall_quantize_config.method (unset, default "diffs"): "diffs" picks power-of-two positions only; with scale_type "float" use maxmin, percentile, mse or entropy (target_device CPU)');
    expect(() => parseQuantConfig({ target_device: 'GPU', tensor_quantize_config: { activation: { scale_type: 'float', method: 'diffs' } } })).toThrow(
      /^quant config: tensor_quantize_config\.activation\.method: "diffs" picks power-of-two/);
    expect(() => parseQuantConfig({ target_device: 'CPU', tensor_quantize_config: { weights: { per_channel: true, scale_type: 'float', method: 'percentile' } } })).toThrow(
      'quant config: tensor_quantize_config.weights.method: per-channel float-scale weights take only method "maxmin", not "percentile" (target_device CPU)');
    expect(() => parseQuantConfig({
      target_device: 'CPU', overall_quantize_config: { scale_type: 'float', method: 'maxmin' },
      layer_quantize_config: [{ layer_name: 'fc', quantizable_data_type: ['activation'], tensor_quantize_config: { activation: { method: 'diffs' } } }],
    })).toThrow(/^quant config: layer_quantize_config\.0\.tensor_quantize_config\.activation\.method: "diffs"/);
    // a data type the layer does not quantize is not checked; the DPU preset forces power-of-two anyway
    expect(() => parseQuantConfig({
      target_device: 'CPU', overall_quantize_config: { scale_type: 'float', method: 'entropy' },
      layer_quantize_config: [{ layer_name: 'fc', quantizable_data_type: [], tensor_quantize_config: { activation: { method: 'diffs' } } }],
    })).not.toThrow();
    expect(() => parseQuantConfig({ overall_quantize_config: { scale_type: 'float' } })).not.toThrow();
    for (const method of ['maxmin', 'percentile', 'mse', 'entropy'])
      expect(() => parseQuantConfig({ target_device: 'CPU', overall_quantize_config: { scale_type: 'float', method } })).not.toThrow();
  });
  it('exports JSON that parses back to the same config', () => {
    const c = parseQuantConfig({ include_cle: false, tensor_quantize_config: { weights: { method: 'maxmin' } } });
    const back = parseQuantConfig(exportQuantConfig(c));
    expect(back.include_cle).toBe(false);
    expect(resolveParams(back, 'weights')).toEqual(resolveParams(c, 'weights'));
    expect(resolveParams(back, 'activation')).toEqual(resolveParams(c, 'activation'));
  });
});
