// Where quantization happens in a graph: the DPU quantizes each layer's output once, after its fused
// nonlinearity (conv → relu is one layer, one fix point), and shape-only ops reuse their input's fix
// point. This module finds those layers and quantization points.
import type { Graph, Node } from '../ir';
import { consumers, topoSort } from '../ir';
import { constValues } from './prepare/edit';

export type LayerKind = 'conv' | 'add' | 'concat' | 'pool' | 'other';

export interface QLayer {
  /** The node that names the layer (the conv for conv + relu). */
  readonly node: Node;
  readonly kind: LayerKind;
  /** Quantization points read by the layer (activations only, after aliasing). */
  readonly inputs: readonly string[];
  /** Its quantization point: the fused nonlinearity's output when there is one. */
  readonly output: string;
  /** Tensors computed inside the layer that are not quantized (conv output before relu). */
  readonly internal: readonly string[];
  /**
   * The conv output before a fused hard-sigmoid/hard-swish, which is a quantization point of its own:
   * the DPU rounds and saturates the accumulator to int8 at this fix point (XIR `hsigmoid_in`) and
   * only then applies the nonlinearity with `shift_hsigmoid = 14 + hsigmoid_in − fp_out` (vai_q keeps a
   * fix between the conv and the hard-sigmoid; the compiler merges them). ReLU-like activations commute
   * with the shift, so they need no such point.
   */
  readonly preActivation?: string;
  readonly weight?: string;
  readonly bias?: string;
  /** The nonlinearity fused in, if any. */
  readonly activation?: Node;
}

export interface QGraph {
  readonly layers: readonly QLayer[];
  /** Quantized graph inputs. */
  readonly inputs: readonly string[];
  /** Every quantization point: graph inputs then layer outputs. */
  readonly points: readonly string[];
  /** Shape-only op outputs → the quantization point whose values they carry. */
  readonly alias: ReadonlyMap<string, string>;
  /** Quantization point → the layer producing it (absent for graph inputs). */
  readonly producer: ReadonlyMap<string, QLayer>;
}

const CONV = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);
const POOL = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool']);
const PASS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Identity', 'Dropout']);
/** Nonlinearities the DPU fuses into conv / add. */
const FUSABLE = new Set(['Relu', 'LeakyRelu', 'Clip', 'PRelu', 'HardSigmoid', 'HardSwish']);
/** Fused nonlinearities whose input is quantized at its own fix point (`hsigmoid_in`). */
const QUANTIZED_INPUT = new Set(['HardSigmoid', 'HardSwish']);

/** Clip(0, 6), by attributes (opset < 11) or constant inputs. */
export function isRelu6(n: Node, g: Graph): boolean {
  if (n.opType !== 'Clip') return false;
  const bound = (i: number, attr: string) => {
    const name = n.inputs[i];
    if (name) {
      const c = g.initializers.get(name);
      return c ? constValues(c)[0] : NaN;
    }
    const a = n.attrs[attr];
    return a?.kind === 'float' ? a.value : NaN;
  };
  return bound(1, 'min') === 0 && bound(2, 'max') === 6;
}

/**
 * `isFloat` says whether a tensor carries float activations (not shapes or indices); only those are
 * quantized.
 */
export function buildQGraph(g: Graph, isFloat: (name: string) => boolean): QGraph {
  const cons = consumers(g);
  const outputs = new Set(g.outputs.map((o) => o.name));
  const alias = new Map<string, string>();
  const resolve = (t: string) => alias.get(t) ?? t;
  const layers: QLayer[] = [];
  const producer = new Map<string, QLayer>();
  const fusedAway = new Set<Node>();
  const inputs = g.inputs.map((i) => i.name).filter(isFloat);
  const isAct = (t: string) => !!t && !g.initializers.has(t) && isFloat(t);
  for (const n of topoSort(g)) {
    if (fusedAway.has(n)) continue;
    const out = n.outputs[0];
    if (!out || !isFloat(out)) continue;
    const actIn = n.inputs.filter(isAct).map(resolve);
    if (actIn.length === 0) continue; // computed from constants only
    if (PASS.has(n.opType)) {
      alias.set(out, actIn[0]);
      continue;
    }
    let kind: LayerKind = 'other';
    if (CONV.has(n.opType) && g.initializers.has(n.inputs[1])) kind = 'conv';
    else if (n.opType === 'Add' || n.opType === 'Sum') kind = actIn.length >= 2 ? 'add' : 'other';
    else if (n.opType === 'Concat') kind = 'concat';
    else if (POOL.has(n.opType)) kind = 'pool';
    let activation: Node | undefined;
    let output = out;
    const internal: string[] = [];
    let preActivation: string | undefined;
    if (kind === 'conv' || kind === 'add') {
      const c = cons.get(out);
      if (c && c.length === 1 && !outputs.has(out) && FUSABLE.has(c[0].opType) && (c[0].opType !== 'Clip' || isRelu6(c[0], g))) {
        activation = c[0];
        fusedAway.add(c[0]);
        if (QUANTIZED_INPUT.has(c[0].opType)) preActivation = out;
        else internal.push(out);
        output = c[0].outputs[0];
      }
    }
    const layer: QLayer = {
      node: n, kind, inputs: actIn, output, internal,
      weight: kind === 'conv' ? n.inputs[1] : undefined,
      bias: kind === 'conv' && n.inputs[2] && g.initializers.has(n.inputs[2]) ? n.inputs[2] : undefined,
      activation, preActivation,
    };
    layers.push(layer);
    if (preActivation) producer.set(preActivation, layer);
    producer.set(output, layer);
  }
  const points = [...inputs, ...layers.flatMap((l) => (l.preActivation ? [l.preActivation, l.output] : [l.output]))];
  return { layers, inputs, points, alias, producer };
}
