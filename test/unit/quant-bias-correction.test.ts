// Sequential bias correction (src/core/quant/bias-correction.ts): each layer is corrected for the
// already-corrected quantized layers before it, so every layer's output mean matches float at once.
import { describe, expect, it } from 'vitest';
import { buildModel, tensor } from '../../src/core/onnx/build';
import type { FloatTensor } from '../../src/core/ir';
import { parseQuantConfig } from '../../src/core/quant/config';
import { fakeQuantRunOptions, quantizeModel } from '../../src/core/quant/quantize';
import { ChannelMeans, correctBiases } from '../../src/core/quant/bias-correction';
import { fakeQuant } from '../../src/core/quant/fixpoint';
import { planFloat, runFloat } from '../../src/core/sim/float/interpreter';

function rand(n: number, seed: number, scale = 1) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => (((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1) * scale);
}

// Two convs in a chain: conv1 sees conv0's quantized, corrected output through a ReLU, so conv1's
// correction depends on conv0's (the ReLU makes a mean shift upstream change conv1's mean nonlinearly).
const chain = () => buildModel({
  inputs: { x: ['float32', ['N', 2, 6, 6]] }, outputs: ['y'],
  initializers: {
    w0: tensor('float32', [4, 2, 3, 3], rand(72, 11, 0.37).map((v, i) => (i === 7 ? 3.5 : v))), b0: tensor('float32', [4], [0.05, -0.1, 0.02, 0]),
    // One large weight per tensor makes the grid coarse for the rest: a visible mean shift to correct.
    w1: tensor('float32', [3, 4, 3, 3], rand(108, 12, 0.29).map((v, i) => (i === 5 ? 7.5 : v))), b1: tensor('float32', [3], [0.1, 0, -0.05]),
  },
  nodes: [
    { op: 'Conv', inputs: ['x', 'w0', 'b0'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'Relu', inputs: ['c'], outputs: ['r'] },
    { op: 'Conv', inputs: ['r', 'w1', 'b1'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } },
  ],
});
const data = [1, 2, 3].map((k) => ({ x: { shape: [4, 2, 6, 6], data: rand(288, k, 1).map((v) => v + 1.2) } }));

/** Per-channel means of the raw conv outputs (before their own rounding) over `data`. */
function convMeans(run: (f: Record<string, FloatTensor>, observe: (n: string, t: FloatTensor) => void) => void): Map<string, Float64Array> {
  const sums = new Map<string, Float64Array>();
  for (const d of data) {
    run(d, (name, t) => {
      if (name !== 'c' && name !== 'y') return;
      const c = t.shape[1];
      const s = sums.get(name) ?? new Float64Array(c);
      sums.set(name, s);
      const inner = t.data.length / (t.shape[0] * c);
      for (let i = 0; i < t.data.length; i++) s[Math.floor(i / inner) % c] += t.data[i] / (inner * t.shape[0] * data.length);
    });
  }
  return sums;
}

async function meanErrors(biasCorr: boolean) {
  const r = await quantizeModel(chain(), data, parseQuantConfig({ include_cle: false, include_adaround: false, include_bias_corr: biasCorr }), { skipEvaluation: true });
  const f = convMeans((d, observe) => runFloat(r.floatModel, d, { observe }));
  const runner = planFloat(r.model);
  const q = convMeans((d, observe) => runner.run(d, { ...fakeQuantRunOptions(r.model, r.tensors), observe }));
  const err = (n: string) => Math.max(...f.get(n)!.map((v, c) => Math.abs(q.get(n)![c] - v)));
  return { c: err('c'), y: err('y'), biasStep: (n: string) => 2 ** -r.tensors.get(n)!.fixPoint, r };
}

describe('sequential bias correction', () => {
  it('matches every layer\'s output mean to float at once, to half a bias step', async () => {
    const off = await meanErrors(false);
    const seq = await meanErrors(true);
    expect(seq.r.prepareLog.find((l) => l.pass === 'bias_correction')?.detail).toMatch(/^2 bias/);
    expect(off.y).toBeGreaterThan(4 * seq.biasStep('b1'));
    expect(seq.c).toBeLessThanOrEqual(seq.biasStep('b0') / 2 + 1e-6);
    expect(seq.y).toBeLessThanOrEqual(seq.biasStep('b1') / 2 + 1e-6);
    // The float reference keeps the file's biases.
    expect(seq.r.floatModel.graph.initializers.get('b1')).toEqual(chain().graph.initializers.get('b1'));
  });
  it('takes the float means from the calibration pass when it observed every corrected conv, biases unchanged', async () => {
    // Without the ReLU both conv outputs are quantization points, so calibration fetches them.
    const bare = () => {
      const m = chain();
      const nodes = m.graph.nodes.filter((n) => n.opType !== 'Relu').map((n) => (n.inputs[0] === 'r' ? { ...n, inputs: ['c', ...n.inputs.slice(1)] } : n));
      return { ...m, graph: { ...m.graph, nodes } };
    };
    const cfg = (bc: boolean) => parseQuantConfig({ include_cle: false, include_adaround: false, include_bias_corr: bc });
    const reused = await quantizeModel(bare(), data, cfg(true), { skipEvaluation: true });
    // The same correction measuring the float means itself, from the uncorrected quantization.
    const r0 = await quantizeModel(bare(), data, cfg(false), { skipEvaluation: true });
    const layers = r0.session.qgraph.layers.filter((l) => l.kind === 'conv');
    const own = await correctBiases(r0.floatModel, r0.model, layers, fakeQuantRunOptions(r0.model, r0.tensors), (name, v) => {
      const t = r0.tensors.get(name)!;
      return fakeQuant(v, t.fixPoint, t.bitWidth, t.roundMode);
    }, async function* () { yield* data; });
    expect(own.corrected).toBe(2);
    for (const b of ['b0', 'b1']) expect(reused.model.graph.initializers.get(b)).toEqual(own.model.graph.initializers.get(b));
    expect(reused.model.graph.initializers.get('b1')).not.toEqual(r0.model.graph.initializers.get('b1'));
  });
  it('ChannelMeans keeps the first samples only and leaves out a tensor some run lacked', () => {
    const targets = new Map([['a', 'Conv'], ['d', 'Gemm']]);
    const m = new ChannelMeans(targets, 3);
    m.add({ a: { shape: [2, 2, 1, 2], data: Float32Array.from([1, 3, 10, 10, 5, 7, 20, 40]) }, d: { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) } }, 2);
    m.add({ a: { shape: [2, 2, 1, 2], data: Float32Array.from([0, 0, 0, 0, 0, 0, 0, 0]) } }, 2);
    m.add({ a: { shape: [1, 2, 1, 2], data: Float32Array.from([99, 99, 99, 99]) } }, 1); // past the limit: ignored
    const means = m.means();
    expect([...means.get('a')!]).toEqual([16 / 8, 80 / 8]);
    expect(means.has('d')).toBe(false);
  });
  it('the interpreter steps node by node to what run gives, and a replaced output flows on', () => {
    const m = chain();
    const p = planFloat(m);
    const it = p.steps(data[0]);
    const seen: string[] = [];
    let r = it.next();
    while (!r.done) {
      seen.push(r.value.node.opType);
      if (r.value.node.outputs[0] === 'c') r.value.outputs[0] = { shape: r.value.outputs[0].shape, data: r.value.outputs[0].data.map(() => -1) };
      r = it.next();
    }
    expect(seen).toEqual(['Conv', 'Relu', 'Conv']);
    // ReLU of −1 everywhere: y is conv1 of zeros, its bias alone.
    const b1 = [0.1, 0, -0.05];
    r.value.y.data.forEach((v, i) => expect(v).toBeCloseTo(b1[Math.floor(i / 36) % 3], 6));
    const full = p.run(data[0]).y.data;
    const again = p.steps(data[0]);
    let s = again.next();
    while (!s.done) s = again.next();
    expect([...s.value.y.data]).toEqual([...full]);
  });
});
