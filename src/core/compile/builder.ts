// Shared bookkeeping of the two front ends: tensor → producing layer, fix points, graph outputs, and the
// passes that only look at layers (SiLU pattern, output conversion layers).
import type { XOpDef } from '../xmodel/types';
import type { Layer } from './layer';

export interface LayerGraph {
  readonly name: string;
  readonly layers: readonly Layer[];
  /** Whether fix points are known (a QDQ ONNX model or an XIR quantizer output). */
  readonly quantized: boolean;
  /** Every source op, in source order, with its type: what `ops` lists refer to. */
  readonly sourceOps: readonly { readonly name: string; readonly type: string }[];
  /** The source xmodel's op type signatures (custom ops among them), passed on to an exported xmodel. */
  readonly opDefs?: readonly XOpDef[];
}

type Draft = Omit<Layer, 'id' | 'inputs' | 'graphOutput' | 'sourceOps' | 'inputShapes'> & {
  inputs: string[]; // tensor names, resolved to layer ids at the end
  sourceOps: string[];
};

const KEEPS_FIX = /^(reshape|pad|upsample|pool|concat|transpose|Transpose|slice|Slice|split|Split)$/;

export class LayerBuilder {
  private readonly drafts: Draft[] = [];
  /** Tensor name → index of the draft producing it. */
  private readonly producer = new Map<string, number>();
  /** Tensor name → the tensor it is an alias of (QDQ pairs, fix ops, Identity). */
  private readonly alias = new Map<string, string>();
  private readonly fixPoints = new Map<string, number>();

  resolve(t: string): string {
    let x = t;
    // Aliases follow the data flow, which is acyclic; the bound only guards against a malformed chain.
    for (let i = 0; i <= this.alias.size && this.alias.has(x); i++) x = this.alias.get(x)!;
    // Path compression: a chain of 10,000 Identity ops resolves in linear time overall.
    for (let y = t; y !== x && this.alias.has(y);) {
      const next = this.alias.get(y)!;
      this.alias.set(y, x);
      y = next;
    }
    return x;
  }

  /** `to` is the same values as `from` (annotation op); `op` is credited to from's producer. */
  addAlias(to: string, from: string, op?: string): void {
    this.alias.set(to, from);
    if (op) {
      const p = this.producer.get(this.resolve(from));
      if (p !== undefined) this.drafts[p].sourceOps.push(op);
      else {
        const key = this.resolve(from);
        const list = this.pendingOps.get(key);
        if (list) list.push(op);
        else this.pendingOps.set(key, [op]);
      }
    }
  }

  private readonly pendingOps = new Map<string, string[]>();

  setFixPoint(t: string, fp: number): void {
    this.fixPoints.set(this.resolve(t), fp);
  }

  producerOf(t: string): Draft | undefined {
    const i = this.producer.get(this.resolve(t));
    return i === undefined ? undefined : this.drafts[i];
  }

  add(d: Draft): void {
    this.producer.set(d.tensor, this.drafts.length);
    this.drafts.push(d);
  }

  /** Builds the layers; `outputs` are graph output tensor names, `outputOps` names the op holding each. */
  finish(name: string, outputs: readonly { tensor: string; op?: string }[], quantized: boolean,
    sourceOps: LayerGraph['sourceOps']): LayerGraph {
    const outSet = new Set(outputs.map((o) => this.resolve(o.tensor)));
    const layers: Layer[] = [];
    const idOf = (t: string) => this.producer.get(this.resolve(t));
    for (const [i, d] of this.drafts.entries()) {
      const inputs: number[] = [];
      const inputShapes: number[][] = [];
      for (const t of d.inputs) {
        const p = idOf(t);
        if (p === undefined || p === i) continue;
        inputs.push(p);
        inputShapes.push([...this.drafts[p].shape]);
      }
      const pending = this.pendingOps.get(d.tensor) ?? [];
      layers.push({
        ...d, id: i, inputs, inputShapes,
        sourceOps: [...d.sourceOps, ...pending],
        fixPoint: this.fixPoints.get(d.tensor) ?? d.fixPoint,
        graphOutput: outSet.has(d.tensor),
      });
    }
    // A layer read only by concats takes their fix point: vai_c_xir inserts a fix with the concat's fix point
    // there (pointpillars: each deconv+ReLU → Cat gets `…_inserted_fix_N` with fix point 4, the Cat's).
    if (quantized) {
      const readers = new Map<number, Layer[]>();
      for (const l of layers) for (const i of l.inputs) readers.set(i, [...(readers.get(i) ?? []), l]);
      for (const l of layers) {
        const rs = readers.get(l.id) ?? [];
        if (l.fixPoint === undefined && rs.length && rs.every((c) => c.kind === 'concat' && c.fixPoint !== undefined && c.fixPoint === rs[0].fixPoint))
          Object.assign(l, { fixPoint: rs[0].fixPoint, fixInferred: true });
      }
    }
    // Shape ops and max pools keep their input's fix point when no fix op follows them.
    if (quantized)
      for (const l of layers)
        if (l.fixPoint === undefined && l.inputs.length >= 1 && KEEPS_FIX.test(l.kind === 'other' ? l.op : l.kind) &&
          !(l.kind === 'pool' && l.poolType === 'avg'))
          Object.assign(l, { fixPoint: layers[l.inputs[0]].fixPoint, fixInferred: layers[l.inputs[0]].fixPoint !== undefined });
    // The real compiler converts each DPU-produced graph output back to float in its own CPU subgraph
    // (fix2float); a layer stands for it so subgraph counts match.
    for (const o of outputs) {
      const p = idOf(o.tensor);
      if (p === undefined || layers[p].kind === 'input') continue;
      const src = layers[p];
      layers.push({
        id: layers.length, name: o.op ?? `${o.tensor}_fix2float`, kind: 'output', op: 'fix2float',
        sourceOps: o.op ? [o.op] : [], inputs: [p], shape: src.shape, inputShapes: [src.shape],
        tensor: `${src.tensor}:float`, fixPoint: src.fixPoint, weightElements: 0, graphOutput: false,
      });
    }
    return { name, layers: mergeSilu(layers), quantized, sourceOps };
  }
}

/** x → Sigmoid → Mul(x, ·) becomes one 'silu' activation layer (how exporters write SiLU/Swish). */
function mergeSilu(layers: Layer[]): Layer[] {
  const consumers = new Map<number, number[]>();
  for (const l of layers)
    for (const i of l.inputs) {
      // Appended in place: copying the list per consumer was quadratic in a tensor's fan-out.
      const list = consumers.get(i);
      if (list) list.push(l.id);
      else consumers.set(i, [l.id]);
    }
  const drop = new Set<number>();
  const replaced = new Map<number, Layer>();
  for (const m of layers) {
    if (m.kind !== 'eltwise' || m.eltwise !== 'mul' || m.inputs.length !== 2) continue;
    for (const [si, xi] of [[0, 1], [1, 0]]) {
      const s = layers[m.inputs[si]];
      if (s.kind === 'activation' && s.activation?.type === 'sigmoid' && s.inputs[0] === m.inputs[xi] &&
        (consumers.get(s.id) ?? []).length === 1 && !drop.has(s.id)) {
        drop.add(s.id);
        replaced.set(m.id, {
          ...m, kind: 'activation', op: `${s.op}+${m.op}`, activation: { type: 'silu' },
          sourceOps: [...s.sourceOps, ...m.sourceOps], inputs: [m.inputs[xi]], inputShapes: [m.inputShapes[xi]],
          eltwise: undefined, chain: [{ name: s.name, op: s.op }, { name: m.name, op: m.op }],
        });
        break;
      }
    }
  }
  if (!drop.size) return layers;
  // Renumber so ids stay indexes.
  const kept = layers.filter((l) => !drop.has(l.id));
  const newId = new Map(kept.map((l, i) => [l.id, i]));
  return kept.map((l, i) => {
    const r = replaced.get(l.id) ?? l;
    return { ...r, id: i, inputs: r.inputs.map((x) => newId.get(x)!) };
  });
}
