// A QDQ model compiled for simulation, with the lookups the simulator and the stand-in board runner's
// exporter both walk: where each source layer was placed, who consumes it, and the one rule for a placed
// layer's output fix point, plus the small rules both apply (grid codes, nearest-resize flooring). Kept in
// one place so the two cannot drift apart.
import { layersOf, partition, type CompileResult, type Conversions, type Target } from '../../compile';
import type { Layer } from '../../compile/layer';
import { InputError } from '../../errors';
import { attr, type Model, type Node } from '../../ir';
import { dequantizeModel, type DequantizedModel } from './source';

export interface CompiledForSim {
  readonly dq: DequantizedModel;
  readonly compile: CompileResult;
  /** The compiler's source layers, by id. */
  readonly src0: readonly Layer[];
  /** Source layer id → index of the placed layer it was fused into. */
  readonly placedOf: ReadonlyMap<number, number>;
  readonly consumers: ReadonlyMap<number, readonly number[]>;
  readonly nodeByName: ReadonlyMap<string, Node>;
  /** Output fix point of placed layer `pi`, or undefined for a float tensor. */
  fpOfPlaced(pi: number): number | undefined;
}

// Ops that only move values: a head conv whose Q/DQ sits after one of them takes that fix point.
const MOVES = /^(reshape|Transpose|Flatten|Reshape|Squeeze|Unsqueeze)$/;

export function compileForSim(qdq: Model, target: Target, conversions?: Conversions): CompiledForSim {
  const dq = dequantizeModel(qdq);
  const compile = partition(layersOf({ kind: 'onnx', model: dq.qdq }), target, conversions);
  if (!compile.graph.quantized) throw new InputError('the model has no power-of-two QuantizeLinear/DequantizeLinear nodes: quantize it first');
  const L = compile.layers;
  const src0 = compile.graph.layers;
  const placedOf = new Map<number, number>();
  L.forEach((p, i) => { for (const m of p.members) placedOf.set(m, i); });
  const consumers = new Map<number, number[]>();
  for (const l of src0) for (const i of l.inputs) consumers.set(i, [...(consumers.get(i) ?? []), l.id]);
  const nodeByName = new Map<string, Node>(dq.float.graph.nodes.map((n) => [n.name, n]));
  // A layer's own fix point, else the first one downstream through ops that only move values.
  const downstreamFp = (id: number, depth = 0): number | undefined => {
    if (depth > 16) return undefined;
    for (const c of consumers.get(id) ?? []) {
      const l = src0[c];
      if (l.kind !== 'reshape' && !(l.kind === 'other' && MOVES.test(l.op))) continue;
      const fp = l.fixPoint ?? dq.tensors.get(l.tensor)?.fixPoint ?? downstreamFp(c, depth + 1);
      if (fp !== undefined) return fp;
    }
    return undefined;
  };
  const fpOfPlaced = (pi: number): number | undefined => {
    const p = L[pi];
    return p.layer.fixPoint ?? dq.tensors.get(p.layer.tensor)?.fixPoint ?? downstreamFp(p.members[p.members.length - 1]);
  };
  return { dq, compile, src0, placedOf, consumers, nodeByName, fpOfPlaced };
}

/** Integer codes of real values that must sit on the grid of their fix point. */
export function codes(values: Float32Array, fp: number, what: string, lo: number, hi: number): number[] {
  const s = 2 ** fp;
  return Array.from(values, (v) => {
    const q = Math.round(v * s);
    if (Math.abs(q - v * s) > 1e-3 || q < lo || q > hi) throw new InputError(`${what}: value ${v} is not a ${hi === 127 ? 'int8' : 'int32'} multiple of 2^-${fp}`);
    return q;
  });
}

/** Whether a nearest Resize/Upsample reads floor(y / s) (what the DPU's upsample does), for the simulator and the stand-in. */
export function floorNearest(n: Node): boolean {
  if (n.opType === 'Upsample') return true;
  if (n.opType !== 'Resize') return false;
  const ctm = attr(n, 'coordinate_transformation_mode', 'string') ?? 'half_pixel';
  const mode = attr(n, 'nearest_mode', 'string') ?? 'round_prefer_floor';
  return ctm === 'half_pixel' || ctm === 'pytorch_half_pixel' || (ctm === 'asymmetric' && mode === 'floor');
}
