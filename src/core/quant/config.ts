// The quantizer configuration: vai_q_pytorch's quant-config JSON (the files users bring), validated
// with zod, completed with its defaults, and resolved per layer and data type.
import { z } from '../zod';
import { InputError } from '../errors';
import { CALIB_METHODS } from './calibrate/methods';
import { ROUND_MODES, type RoundMode } from './fixpoint';

export const DATA_TYPES = ['input', 'weights', 'bias', 'activation'] as const;
export type DataType = (typeof DATA_TYPES)[number];

const tensorParams = z.strictObject({
  bit_width: z.number().int().min(2).max(16),
  method: z.enum(CALIB_METHODS as unknown as ['maxmin', 'percentile', 'entropy', 'mse', 'diffs']),
  round_mode: z.enum(ROUND_MODES as unknown as ['half_up', 'std_round', 'half_even', 'half_down']),
  symmetry: z.boolean(),
  per_channel: z.boolean(),
  signed: z.boolean(),
  narrow_range: z.boolean(),
  scale_type: z.enum(['float', 'poweroftwo']),
  calib_statistic_method: z.enum(['modal', 'max', 'mean', 'median']),
  percentage: z.number().gt(0).max(100),
});

export type TensorQuantParams = z.infer<typeof tensorParams>;
const partialParams = tensorParams.partial();
export type PartialTensorParams = z.infer<typeof partialParams>;

const dataTypeList = z.array(z.enum(DATA_TYPES));
const perDataType = z.strictObject({
  input: partialParams.optional(),
  weights: partialParams.optional(),
  bias: partialParams.optional(),
  activation: partialParams.optional(),
});

const layerConfig = z.strictObject({
  layer_type: z.string().nullish(),
  layer_name: z.string().nullish(),
  /** Data types quantized in this layer; [] keeps the layer in float. */
  quantizable_data_type: dataTypeList,
  overall_quantize_config: partialParams.optional(),
  tensor_quantize_config: perDataType.optional(),
});

const configSchema = z.strictObject({
  convert_relu6_to_relu: z.boolean().default(false),
  convert_silu_to_hswish: z.boolean().default(false),
  // Fixpoint extensions (not in vai_q): the other two DPU-friendly rewrites of the prepare step.
  convert_sigmoid_to_hsigmoid: z.boolean().default(false),
  convert_leaky_relu_slope: z.boolean().default(false),
  include_cle: z.boolean().default(true),
  include_bias_corr: z.boolean().default(true),
  // Fixpoint extension: data-aware weight rounding (adaround.ts), vai_q's fast finetune in spirit and,
  // like it, off unless asked for.
  include_adaround: z.boolean().default(false),
  keep_first_last_layer_accuracy: z.boolean().default(false),
  keep_add_layer_accuracy: z.boolean().default(false),
  change_concat_input_fix: z.boolean().default(true),
  change_pool_input_fix: z.boolean().default(true),
  target_device: z.enum(['DPU', 'CPU', 'GPU']).default('DPU'),
  quantizable_data_type: dataTypeList.default([...DATA_TYPES]),
  overall_quantize_config: partialParams.default({}),
  tensor_quantize_config: perDataType.default({}),
  layer_quantize_config: z.array(layerConfig).default([]),
});

export type QuantConfig = z.output<typeof configSchema>;
export type QuantConfigInput = z.input<typeof configSchema>;
export type LayerQuantConfig = z.output<typeof layerConfig>;

/** §5 defaults: int8 diffs, symmetric per-tensor signed power-of-two, modal; std_round except activations. */
export const DEFAULT_PARAMS: TensorQuantParams = {
  bit_width: 8, method: 'diffs', round_mode: 'std_round', symmetry: true, per_channel: false, signed: true,
  narrow_range: false, scale_type: 'poweroftwo', calib_statistic_method: 'modal', percentage: 99.99,
};
const DEFAULT_ROUND: Record<DataType, RoundMode> = {
  input: 'std_round', weights: 'std_round', bias: 'std_round', activation: 'half_up',
};

function formatIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.map(String).join('.');
  let what: string;
  if (issue.code === 'invalid_value') what = `expected one of ${issue.values.map(String).join(', ')}`;
  else if (issue.code === 'unrecognized_keys') return `${where ? where + ': ' : ''}unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  else what = issue.message.replace(/^Invalid input: /, '');
  return `${where || '(top level)'}: ${what}`;
}

/** Parse and validate a config (JSON text or an object). Throws InputError naming the first bad field. */
export function parseQuantConfig(source: string | unknown): QuantConfig {
  let json: unknown = source;
  if (typeof source === 'string') {
    try {
      json = JSON.parse(source);
    } catch (e) {
      throw new InputError(`quant config is not valid JSON: ${(e as Error).message}`);
    }
  }
  const r = configSchema.safeParse(json ?? {});
  if (!r.success) throw new InputError(`quant config: ${formatIssue(r.error.issues[0])}`);
  r.data.layer_quantize_config.forEach((l, i) => {
    if (!l.layer_type === !l.layer_name)
      throw new InputError(`quant config: layer_quantize_config.${i}: give exactly one of layer_type, layer_name`);
  });
  checkFloatScaleMethods(r.data);
  return r.data;
}

/** Calibration methods that give a float scale (§4); diffs only searches power-of-two positions. */
const FLOAT_SCALE_METHODS: readonly string[] = ['maxmin', 'percentile', 'mse', 'entropy'];

/**
 * Why `method` cannot give a float scale for this tensor, or undefined when it can: per tensor only
 * maxmin, percentile, mse and entropy; per-channel weights only maxmin. The one rule behind both the
 * config check and a method picked later in the UI.
 */
export function floatScaleMethodProblem(method: string, perChannelWeights: boolean): string | undefined {
  if (perChannelWeights) return method === 'maxmin' ? undefined : `per-channel float-scale weights take only method "maxmin", not "${method}"`;
  return FLOAT_SCALE_METHODS.includes(method) ? undefined : `"${method}" picks power-of-two positions only; with scale_type "float" use maxmin, percentile, mse or entropy`;
}

/**
 * vai_q refuses a float scale with a method that cannot produce one (its config checker exits): per
 * tensor only maxmin, percentile, mse and entropy; per-channel weights only maxmin. The DPU preset
 * forces power-of-two scales, so only other targets are checked. Every place the merged parameters
 * are resolved (top level and each layer entry, per data type) is checked, and the message names the
 * field that set the method.
 */
function checkFloatScaleMethods(cfg: QuantConfig): void {
  if (cfg.target_device === 'DPU') return;
  const check = (dt: DataType, chain: readonly (readonly [string, PartialTensorParams | undefined])[]) => {
    const p: TensorQuantParams = { ...DEFAULT_PARAMS, ...Object.assign({}, ...chain.map(([, c]) => c ?? {})) };
    if (p.scale_type !== 'float') return;
    const last = (k: keyof PartialTensorParams) => [...chain].reverse().find(([, c]) => c?.[k] !== undefined)?.[0];
    const setBy = last('method');
    // An unset method is reported where the float scale was asked for: that is where it belongs.
    const field = setBy ? `${setBy}.method` : `${last('scale_type')}.method (unset, default "${DEFAULT_PARAMS.method}")`;
    const problem = floatScaleMethodProblem(p.method, dt === 'weights' && p.per_channel);
    if (problem) throw new InputError(`quant config: ${field}: ${problem} (target_device ${cfg.target_device})`);
  };
  for (const dt of DATA_TYPES) {
    const top = [['overall_quantize_config', cfg.overall_quantize_config], [`tensor_quantize_config.${dt}`, cfg.tensor_quantize_config[dt]]] as const;
    if (cfg.quantizable_data_type.includes(dt)) check(dt, top);
    cfg.layer_quantize_config.forEach((l, i) => {
      if (!l.quantizable_data_type.includes(dt)) return;
      check(dt, [...top,
        [`layer_quantize_config.${i}.overall_quantize_config`, l.overall_quantize_config],
        [`layer_quantize_config.${i}.tensor_quantize_config.${dt}`, l.tensor_quantize_config?.[dt]]]);
    });
  }
}

export function defaultQuantConfig(): QuantConfig {
  return parseQuantConfig({});
}

/**
 * The config as a vai_q-style JSON document, defaults written out so the file says what ran. The
 * rounding default differs per data type, so it is written per data type rather than overall.
 */
export function exportQuantConfig(cfg: QuantConfig): string {
  const { round_mode: _r, ...overallDefaults } = DEFAULT_PARAMS;
  const tensors: Record<string, PartialTensorParams> = {};
  for (const dt of DATA_TYPES)
    tensors[dt] = { round_mode: cfg.overall_quantize_config.round_mode ?? DEFAULT_ROUND[dt], ...cfg.tensor_quantize_config[dt] };
  return JSON.stringify(
    {
      ...cfg,
      overall_quantize_config: { ...overallDefaults, ...cfg.overall_quantize_config },
      tensor_quantize_config: tensors,
    },
    null, 2,
  );
}

/** vai_q names layers by their torch module class; map the common ones onto ONNX op types. */
const TORCH_TO_ONNX: Readonly<Record<string, readonly string[]>> = {
  conv2d: ['Conv'], conv1d: ['Conv'], conv3d: ['Conv'], convtranspose2d: ['ConvTranspose'],
  linear: ['Gemm', 'MatMul'], relu: ['Relu'], leakyrelu: ['LeakyRelu'], relu6: ['Clip'],
  maxpool2d: ['MaxPool'], avgpool2d: ['AveragePool'], adaptiveavgpool2d: ['GlobalAveragePool'],
  batchnorm2d: ['BatchNormalization'], sigmoid: ['Sigmoid'], hardsigmoid: ['HardSigmoid'],
  hardswish: ['HardSwish'], add: ['Add'], cat: ['Concat'], upsample: ['Resize', 'Upsample'],
};

export function layerTypeMatches(layerType: string, opType: string): boolean {
  if (layerType === opType) return true;
  const base = layerType.split('.').pop()!.toLowerCase();
  return base === opType.toLowerCase() || (TORCH_TO_ONNX[base]?.includes(opType) ?? false);
}

export interface LayerRef {
  readonly name: string;
  readonly opType: string;
}

/** The last matching layer entry (later entries refine earlier ones); by name beats by type. */
export function layerOverride(cfg: QuantConfig, layer: LayerRef): LayerQuantConfig | undefined {
  let byType: LayerQuantConfig | undefined;
  let byName: LayerQuantConfig | undefined;
  for (const l of cfg.layer_quantize_config) {
    if (l.layer_name && l.layer_name === layer.name) byName = l;
    else if (l.layer_type && layerTypeMatches(l.layer_type, layer.opType)) byType = l;
  }
  return byName ?? byType;
}

/** What the DPU needs regardless of the file: symmetric, per-tensor, signed, power-of-two. */
function forceDpu(p: TensorQuantParams): TensorQuantParams {
  return { ...p, symmetry: true, per_channel: false, signed: true, scale_type: 'poweroftwo' };
}

/**
 * Parameters for one data type of one layer, or null when it stays in float. Order of precedence:
 * defaults < overall < tensor_quantize_config[dt] < layer overall < layer tensor config.
 */
export function resolveParams(cfg: QuantConfig, dt: DataType, layer?: LayerRef): TensorQuantParams | null {
  const o = layer ? layerOverride(cfg, layer) : undefined;
  const types = o ? o.quantizable_data_type : cfg.quantizable_data_type;
  if (!types.includes(dt)) return null;
  const p: TensorQuantParams = {
    ...DEFAULT_PARAMS,
    round_mode: DEFAULT_ROUND[dt],
    ...cfg.overall_quantize_config,
    ...cfg.tensor_quantize_config[dt],
    ...o?.overall_quantize_config,
    ...o?.tensor_quantize_config?.[dt],
  };
  return cfg.target_device === 'DPU' ? forceDpu(p) : p;
}

/** Settings in the file that the DPU preset overrides, for a warning. */
export function dpuOverrides(cfg: QuantConfig): string[] {
  if (cfg.target_device !== 'DPU') return [];
  const out: string[] = [];
  const check = (where: string, p: PartialTensorParams | undefined) => {
    if (!p) return;
    if (p.symmetry === false) out.push(`${where}.symmetry`);
    if (p.per_channel === true) out.push(`${where}.per_channel`);
    if (p.signed === false) out.push(`${where}.signed`);
    if (p.scale_type === 'float') out.push(`${where}.scale_type`);
  };
  check('overall_quantize_config', cfg.overall_quantize_config);
  for (const dt of DATA_TYPES) check(`tensor_quantize_config.${dt}`, cfg.tensor_quantize_config[dt]);
  return out;
}
