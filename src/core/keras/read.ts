// Keras files: `.h5` (tf.keras 2.x / Keras 3 legacy: `model_config` + `model_weights`) and `.keras`
// (Keras 3 zip: config.json, metadata.json, model.weights.h5 with layers/<snake_case class>[_n]/vars/<i>).
import { unzipSync } from 'fflate';
import { InputError } from '../errors';
import type { Model } from '../ir';
import { isNestedModel, nestedGraph, parseKerasConfig, type KerasGraph, type KerasLayer } from './config';
import { openH5, type H5 } from './hdf5';
import { kerasToModel, type Weight } from './to-model';

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return undefined;
}

function strings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map((x) => text(x) ?? String(x));
  return [];
}

/** An attribute list Keras may have split into name0, name1, … when it outgrew an HDF5 object header. */
function listAttr(h5: H5, path: string, name: string): string[] {
  const whole = h5.attr(path, name);
  if (whole !== undefined) return strings(whole);
  const out: string[] = [];
  for (let i = 0; h5.attr(path, `${name}${i}`) !== undefined; i++) out.push(...strings(h5.attr(path, `${name}${i}`)));
  return out;
}

/** `conv2d/kernel:0` → `kernel`. */
function shortName(n: string): string {
  return (n.split('/').pop() ?? n).replace(/:\d+$/, '');
}

function h5Weights(h5: H5, group: string, label: string): (l: KerasLayer) => Map<string, Weight> {
  const layerNames = new Set(listAttr(h5, group, 'layer_names'));
  return (l) => {
    const out = new Map<string, Weight>();
    // A nested model's weights all sit in its top-level layer's group, named `<inner layer>/<var>:0`.
    const top = l.scope?.[0] ?? l.name;
    if (!layerNames.has(top)) return out;
    const g = `${group}/${top}`;
    // Always follow weight_names: tf.keras writes `layer/kernel:0`, Keras 3 `kernel`, wrappers nest deeper.
    for (const wn of listAttr(h5, g, 'weight_names')) {
      if (l.scope?.length && wn.split('/').at(-2) !== l.name) continue;
      const d = h5.dataset(`${g}/${wn}`);
      if (!d) throw new InputError(`${label}: layer "${l.name}" lists weight "${wn}" but the file has no such dataset`);
      out.set(shortName(wn), d);
    }
    return out;
  };
}

async function withH5<T>(bytes: Uint8Array, label: string, f: (h5: H5) => T): Promise<T> {
  const h5 = await openH5(bytes, label);
  try {
    return f(h5);
  } finally {
    h5.close();
  }
}

/** A Keras `.h5` model (tf.keras 2.x or Keras 3 legacy format). */
export async function readKerasH5(bytes: Uint8Array, label = 'the file'): Promise<Model> {
  return withH5(bytes, label, (h5) => {
    const config = text(h5.attr('/', 'model_config'));
    if (!config) {
      const weightsOnly = h5.attr('/', 'layer_names') !== undefined || h5.attrNames('/').some((a) => a.startsWith('layer_names'));
      throw new InputError(weightsOnly
        ? `${label} holds Keras weights only (save_weights), no model: save the whole model (model.save) to open it`
        : `${label} is an HDF5 file without a Keras model_config attribute: not a Keras model`);
    }
    const group = h5.has('model_weights') ? 'model_weights' : '/';
    const kg = parseKerasConfig(config);
    return kerasToModel(kg, h5Weights(h5, group, label), {
      format: 'keras-h5',
      kerasVersion: text(h5.attr('/', 'keras_version')) ?? '',
      backend: text(h5.attr('/', 'backend')) ?? '',
    });
  });
}

/** Keras 3 `naming.to_snake_case`, which names each layer's group in model.weights.h5. */
export function snakeCase(name: string): string {
  return name.replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Variable order of the built-in layers in a `.keras` file (vars/0, vars/1, …). */
function varNames(l: KerasLayer): string[] {
  const c = l.config;
  const bias = c.use_bias === false ? [] : ['bias'];
  switch (l.cls) {
    case 'Conv1D': case 'Conv2D': case 'Conv3D': case 'Conv2DTranspose': case 'Dense': return ['kernel', ...bias];
    case 'DepthwiseConv2D': return ['depthwise_kernel', ...bias];
    case 'SeparableConv2D': return ['depthwise_kernel', 'pointwise_kernel', ...bias];
    case 'Normalization': return ['mean', 'variance', 'count'];
    case 'BatchNormalization': return [...(c.scale === false ? [] : ['gamma']), ...(c.center === false ? [] : ['beta']), 'moving_mean', 'moving_variance'];
    default: return [];
  }
}

/** A Keras 3 `.keras` zip. */
export async function readKerasZip(bytes: Uint8Array, label = 'the file'): Promise<Model> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new InputError(`${label} is a damaged zip archive (${(e as Error).message})`);
  }
  const config = files['config.json'];
  if (!config) {
    const names = Object.keys(files);
    if (names.some((n) => n.endsWith('data.pkl'))) throw new InputError(`${label} is a PyTorch checkpoint (a zip with data.pkl), not a model this tool opens: export it to ONNX first`);
    if (names.length && names.every((n) => n.endsWith('.npy'))) throw new InputError(`${label} is a NumPy .npz archive, not a model (calibration data goes to the Calibrate step)`);
    throw new InputError(`${label} is a zip without config.json: not a Keras 3 .keras model`);
  }
  const weights = files['model.weights.h5'];
  if (!weights) throw new InputError(`${label} has no model.weights.h5: not a complete Keras 3 .keras model`);
  let meta: Record<string, unknown> = {};
  if (files['metadata.json']) {
    try { meta = JSON.parse(new TextDecoder().decode(files['metadata.json'])); } catch { meta = {}; }
  }
  const kg = parseKerasConfig(new TextDecoder().decode(config));
  return withH5(weights, `${label} (model.weights.h5)`, (h5) => {
    // Keys in model.layers order: snake_case class name, _1, _2, … for repeats; a nested model's
    // layers under its own key's `layers/`.
    const keyOf = new Map<string, string>();
    const assign = (g: KerasGraph, prefix: string, scope: readonly string[]) => {
      const used = new Map<string, number>();
      const all: KerasLayer[] = [...g.inputs.map((i) => ({ cls: 'InputLayer', name: i.name, config: {}, inbound: [] })), ...g.layers];
      for (const l of all) {
        const base = snakeCase(l.cls.replace(/^.*>/, ''));
        const n = used.get(base);
        used.set(base, n === undefined ? 0 : n + 1);
        const path = `${prefix}/${n === undefined ? base : `${base}_${n + 1}`}`;
        keyOf.set([...scope, l.name].join('\u0000'), path);
        if (isNestedModel(l)) assign(nestedGraph(l), `${path}/layers`, [...scope, l.name]);
      }
    };
    assign(kg, 'layers', []);
    const weightsOf = (l: KerasLayer) => {
      const out = new Map<string, Weight>();
      const path = `${keyOf.get([...(l.scope ?? []), l.name].join('\u0000'))}/vars`;
      if (!h5.has(path)) return out;
      const names = varNames(l);
      const count = h5.keys(path).length;
      for (let i = 0; i < count; i++) {
        const d = h5.dataset(`${path}/${i}`);
        if (d) out.set(names[i] ?? `var${i}`, d);
      }
      return out;
    };
    return kerasToModel(kg, weightsOf, {
      format: 'keras', kerasVersion: String(meta.keras_version ?? '3'), backend: '',
    });
  });
}
