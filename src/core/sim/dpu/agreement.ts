// Per-tensor agreement between the simulator's int8 values and another run's (the fake-quant run, or
// onnxruntime on the QDQ model): the fraction of identical codes and the largest difference in LSB.
import type { FloatTensor, Model } from '../../ir';
import { roundHalfEven } from '../../quant/fixpoint';
import { createFloatSession, type OrtOptions } from '../float/ort';
import type { SimRun, TensorAgreement } from './types';

export function agreement(run: SimRun, other: Map<string, Int8Array>): TensorAgreement[] {
  const out: TensorAgreement[] = [];
  for (const t of run.tensors.values()) {
    const o = other.get(t.name);
    if (!o) continue;
    if (o.length !== t.q.length) throw new Error(`agreement: ${t.name} has ${t.q.length} values here, ${o.length} there`);
    let same = 0;
    let max = 0;
    for (let i = 0; i < o.length; i++) {
      const d = Math.abs(o[i] - t.q[i]);
      if (d === 0) same++;
      else if (d > max) max = d;
    }
    out.push({ name: t.name, fixPoint: t.fixPoint, identicalFraction: o.length ? same / o.length : 1, maxLsb: max });
  }
  return out;
}

/**
 * What onnxruntime computes for the same tensors on the QDQ model, with graph optimisations off so it runs
 * the model as written (float ops on dequantized values, QuantizeLinear rounding half to even): `codes` from
 * the DequantizeLinear copy of each tensor (or the float value rounded half to even where the model has no
 * Q/DQ on it), `values` the float value before that rounding. `fixPoints` are the simulator's.
 */
export async function qdqRuntime(
  qdq: Model, fixPoints: ReadonlyMap<string, number>, feeds: Readonly<Record<string, FloatTensor>>, o: OrtOptions = {},
): Promise<{ codes: Map<string, Int8Array>; values: Map<string, Float32Array> }> {
  const g = qdq.graph;
  const readers = new Map<string, string[]>();
  for (const n of g.nodes) for (const i of n.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), n.name]);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const dqOf = (t: string): string | undefined => {
    for (const r of readers.get(t) ?? []) {
      const q = byName.get(r)!;
      if (q.opType !== 'QuantizeLinear') continue;
      for (const r2 of readers.get(q.outputs[0]) ?? []) if (byName.get(r2)!.opType === 'DequantizeLinear') return byName.get(r2)!.outputs[0];
    }
    return undefined;
  };
  const names = new Map([...fixPoints.keys()].map((t) => [t, dqOf(t) ?? t]));
  // A graph input's value is the feed itself (onnxruntime cannot return an input as an output).
  const isInput = (t: string) => g.inputs.some((i) => i.name === t);
  const wanted = [...new Set([...names.values(), ...names.keys()])].filter((t) => !isInput(t));
  const session = await createFloatSession(qdq, { ...o, extraOutputs: wanted, optimize: false });
  try {
    const r = await session.run(feeds, wanted);
    const codes = new Map<string, Int8Array>();
    const values = new Map<string, Float32Array>();
    for (const [t, n] of names) {
      const fp = fixPoints.get(t)!;
      codes.set(t, Int8Array.from(r[n].data, (v) => Math.max(-128, Math.min(127, roundHalfEven(v * 2 ** fp)))));
      values.set(t, isInput(t) ? feeds[t].data : r[t].data);
    }
    return { codes, values };
  } finally {
    await session.release();
  }
}
