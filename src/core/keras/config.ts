// A Keras model config (tf.keras 2.x or Keras 3, Sequential or Functional) as one list of layers with
// the layers each one reads, whatever the version's JSON shape.
import { InputError } from '../errors';

export interface KerasLayer {
  readonly cls: string;
  readonly name: string;
  readonly config: Record<string, unknown>;
  /** Producer layer names, in argument order. */
  readonly inbound: string[];
  /** Names of the models this layer is nested in, outermost first (a backbone inside a model). */
  readonly scope?: readonly string[];
}

/** A layer that is itself a model (a backbone used as a layer). */
export function isNestedModel(l: KerasLayer): boolean {
  return (l.cls === 'Functional' || l.cls === 'Sequential' || l.cls === 'Model') && Array.isArray(l.config.layers);
}

/** A nested model's layer graph. */
export function nestedGraph(l: KerasLayer): KerasGraph {
  return parseKerasConfig(JSON.stringify({ class_name: l.cls === 'Model' ? 'Functional' : l.cls, config: l.config }));
}

export interface KerasGraph {
  readonly name: string;
  readonly layers: KerasLayer[];
  /** Input layer name → its shape without the batch dimension (channels last). */
  readonly inputs: { name: string; shape: (number | null)[] }[];
  readonly outputs: string[];
}

type Json = Record<string, unknown>;

function obj(v: unknown, what: string): Json {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError(`the Keras model config has no ${what}`);
  return v as Json;
}

/** [name, node, tensor] references: tf.keras nests them in lists, Keras 3 in __keras_tensor__ objects. */
function historyRefs(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) {
    if (typeof v[0] === 'string' && typeof v[1] === 'number' && typeof v[2] === 'number') out.push(v[0]);
    else for (const x of v) historyRefs(x, out);
  } else if (v && typeof v === 'object') {
    const o = v as Json;
    if (o.class_name === '__keras_tensor__') {
      const h = (o.config as Json | undefined)?.keras_history;
      if (Array.isArray(h) && typeof h[0] === 'string') out.push(h[0]);
    } else if ('args' in o) {
      historyRefs(o.args, out);
    } else if (Array.isArray(o.keras_history) && typeof o.keras_history[0] === 'string') {
      out.push(o.keras_history[0]);
    }
  }
  return out;
}

function layerRefs(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  if (typeof v[0] === 'string') return [v[0]];
  return v.flatMap((x) => (Array.isArray(x) && typeof x[0] === 'string' ? [x[0]] : []));
}

function inputShape(cfg: Json): (number | null)[] | undefined {
  const s = cfg.batch_input_shape ?? cfg.batch_shape;
  if (Array.isArray(s)) return (s as (number | null)[]).slice(1);
  if (Array.isArray(cfg.input_shape)) return cfg.input_shape as (number | null)[];
  return undefined;
}

function layerOf(raw: unknown, i: number): KerasLayer & { rawInbound: unknown } {
  const l = obj(raw, `layer ${i}`);
  const cls = String(l.class_name ?? '');
  const config = obj(l.config ?? {}, `config of layer ${i}`);
  const name = String(config.name ?? l.name ?? `layer_${i}`);
  if (!cls) throw new InputError(`layer ${i} ("${name}") of the Keras model config has no class_name`);
  return { cls, name, config, inbound: [], rawInbound: l.inbound_nodes };
}

/** Parses `model_config` / `config.json`. Throws InputError naming what is missing. */
export function parseKerasConfig(json: string): KerasGraph {
  let root: Json;
  try {
    root = obj(JSON.parse(json), 'top-level object');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`the Keras model config is not valid JSON (${(e as Error).message})`);
  }
  const cls = String(root.class_name ?? '');
  const cfg = obj(root.config, 'config');
  const rawLayers = cfg.layers;
  if (!Array.isArray(rawLayers)) throw new InputError(`the Keras ${cls || 'model'} config has no layers list`);
  const name = String(cfg.name ?? 'model');
  const layers = rawLayers.map(layerOf);

  if (cls === 'Sequential') {
    const inputs: KerasGraph['inputs'] = [];
    let first = 0;
    if (layers[0]?.cls === 'InputLayer') {
      inputs.push({ name: layers[0].name, shape: inputShape(layers[0].config) ?? [] });
      first = 1;
    } else {
      const shape = (layers[0] && inputShape(layers[0].config)) ?? (Array.isArray((cfg.build_config as Json | undefined)?.input_shape)
        ? ((cfg.build_config as Json).input_shape as (number | null)[]).slice(1) : undefined);
      if (!shape) throw new InputError('the Sequential model config has no input shape (no InputLayer, batch_input_shape or build_config)');
      inputs.push({ name: 'input', shape });
    }
    const out: KerasLayer[] = [];
    let prev = inputs[0].name;
    for (const l of layers.slice(first)) {
      out.push({ cls: l.cls, name: l.name, config: l.config, inbound: [prev] });
      prev = l.name;
    }
    return { name, layers: out, inputs, outputs: [prev] };
  }

  if (cls !== 'Functional' && cls !== 'Model') throw new InputError(`the Keras model class "${cls}" is not supported (Sequential or Functional)`);
  const inputNames = layerRefs(cfg.input_layers);
  const outputs = layerRefs(cfg.output_layers);
  if (!inputNames.length || !outputs.length) throw new InputError('the Functional model config has no input_layers or output_layers');
  const inputs = inputNames.map((n) => {
    const l = layers.find((x) => x.name === n);
    if (!l) throw new InputError(`the Functional model's input "${n}" is not among its layers`);
    return { name: n, shape: inputShape(l.config) ?? [] };
  });
  const out = layers
    .filter((l) => !inputNames.includes(l.name))
    .map((l) => {
      const nodes = Array.isArray(l.rawInbound) ? l.rawInbound : [];
      if (nodes.length > 1) throw new InputError(`layer "${l.name}" is called ${nodes.length} times (shared layers are not supported)`);
      return { cls: l.cls, name: l.name, config: l.config, inbound: historyRefs(nodes[0] ?? []) };
    });
  return { name, layers: out, inputs, outputs };
}
