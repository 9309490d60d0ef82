import { describe, expect, it } from 'vitest';
import { buildModel, tensor } from '../../src/core/onnx/build';
import type { FloatTensor } from '../../src/core/ir';
import { parseQuantConfig } from '../../src/core/quant/config';
import { quantizeModel, requantize, runFakeQuant } from '../../src/core/quant/quantize';
import { runFloat } from '../../src/core/sim/float/interpreter';
import { activationRunner } from '../../src/core/quant/activations';
import { foldInto } from '../../src/core/quant/calibrate/folder';
import type { TensorStats } from '../../src/core/quant/calibrate/stats';

function rand(n: number, seed: number, scale = 1) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => (((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1) * scale);
}

const net = () => buildModel({
  inputs: { x: ['float32', ['N', 2, 6, 6]] },
  outputs: ['y'],
  initializers: {
    w0: tensor('float32', [3, 2, 3, 3], rand(54, 1, 0.5)), b0: tensor('float32', [3], [0.1, -0.2, 0.05]),
    w1: tensor('float32', [3, 3, 1, 1], rand(9, 2)), z: tensor('float32', [3, 1, 1], [0, 0, 0]),
  },
  nodes: [
    { op: 'Conv', inputs: ['x', 'w0', 'b0'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'Relu', inputs: ['c'], outputs: ['r'] },
    { op: 'Conv', inputs: ['r', 'w1'], outputs: ['d'] },
    { op: 'Mul', inputs: ['d', 'z'], outputs: ['dead'] },
    { op: 'Add', inputs: ['r', 'd'], outputs: ['s'] },
    { op: 'Add', inputs: ['s', 'dead'], outputs: ['y'] },
  ],
});

const feeds = (seed: number): Record<string, FloatTensor> => ({ x: { shape: [4, 2, 6, 6], data: rand(288, seed, 2) } });

describe('quantizeModel', () => {
  it('gives every quantized tensor a fix point, SQNR per layer, and honours per-layer overrides', async () => {
    const cfg = parseQuantConfig({ include_cle: false, layer_quantize_config: [{ layer_type: 'Mul', quantizable_data_type: [] }] });
    const data = [feeds(1), feeds(2), feeds(3)];
    const r = await quantizeModel(net(), data, cfg);
    const names = [...r.tensors.keys()].sort();
    expect(names).toEqual(['b0', 'd', 'r', 's', 'w0', 'w1', 'x', 'y']); // 'dead' (Mul) stays float
    expect(r.tensors.get('dead')).toBeUndefined();
    const x = r.tensors.get('x')!;
    expect(x.dataType).toBe('input');
    expect(x.fixPoint).toBe(6); // |x| < 2 → maxmin 5 or 6; diffs keeps the better
    expect(r.tensors.get('r')!.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(3 * 4 * 3 * 36);
    expect(r.tensors.get('r')!.alternatives.length).toBeGreaterThan(3);
    for (const l of r.layers) {
      expect(l.sqnrDb).toBeGreaterThan(20);
      expect(l.cosine).toBeGreaterThan(0.99);
    }
    expect(r.layers.map((l) => l.output)).toEqual(expect.arrayContaining(['r', 'd', 's']));
    // Quantized, the all-zero Mul output gets the sentinel fix point and a warning.
    const all = await quantizeModel(net(), data, parseQuantConfig({ include_cle: false }), { skipEvaluation: true });
    expect(all.tensors.get('dead')).toMatchObject({ allZero: true, fixPoint: 12 });
    expect(all.warnings).toEqual(['dead was all zero over the calibration set (fix point 12)']);
    // Fake-quant outputs stay close to float.
    const f = runFloat(r.model, feeds(9)).y.data;
    const q = runFakeQuant(r.model, r.tensors, feeds(9)).y.data;
    let err = 0; let sig = 0;
    for (let i = 0; i < f.length; i++) { err += (f[i] - q[i]) ** 2; sig += f[i] ** 2; }
    expect(10 * Math.log10(sig / err)).toBeGreaterThan(20);
  });
  it('bias correction cancels the mean output shift that weight quantization causes', async () => {
    const conv = () => buildModel({
      inputs: { x: ['float32', ['N', 2, 6, 6]] }, outputs: ['y'],
      initializers: { w: tensor('float32', [3, 2, 3, 3], rand(54, 41, 0.37)), b: tensor('float32', [3], [0.3, -0.1, 0]) },
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'] }],
    });
    // Inputs with a non-zero mean so rounding errors of the weights shift the output mean.
    const data = [1, 2, 3].map((k) => ({ x: { shape: [4, 2, 6, 6], data: rand(288, k, 1).map((v) => v + 1.5) } }));
    const meanShift = async (biasCorr: boolean) => {
      const r = await quantizeModel(conv(), data, parseQuantConfig({ include_cle: false, include_adaround: false, include_bias_corr: biasCorr, quantizable_data_type: ['weights'] }), { skipEvaluation: true });
      const ref = conv();
      const shift = new Float64Array(3);
      for (const d of data) {
        const f = runFloat(ref, d).y;
        const q = runFakeQuant(r.model, r.tensors, d).y;
        for (let i = 0; i < f.data.length; i++) shift[Math.floor(i / 36) % 3] += (q.data[i] - f.data[i]) / (36 * 4 * 3);
      }
      return Math.max(...shift.map(Math.abs));
    };
    const without = await meanShift(false);
    const withCorr = await meanShift(true);
    expect(without).toBeGreaterThan(1e-4);
    expect(withCorr).toBeLessThan(without / 10);
  });
  it('groups forward runs into statistics batches of statBatch samples, the same for every tensor', async () => {
    const one = (seed: number) => ({ x: { shape: [1, 2, 6, 6], data: rand(72, seed, 2) } });
    const r = await quantizeModel(net(), [1, 2, 3, 4, 5].map(one), parseQuantConfig({}), { statBatch: 2, skipEvaluation: true });
    for (const name of ['x', 'r', 's']) expect(r.session.stats.get(name)!.batchFps.diffs).toHaveLength(3); // 2 + 2 + 1
    expect(r.session.stats.get('x')!.count).toBe(5 * 72);
  });
  it('folds the statistics of the runs\' own arrays when it holds each batch in its reused buffer', async () => {
    // Batches of 2, 2, 1 runs: the first fills the buffer's sizing, the others are copied into it.
    const one = (seed: number) => ({ x: { shape: [1, 2, 6, 6], data: rand(72, seed, 2) } });
    const given = [1, 2, 3, 4, 5].map(one);
    const cfg = parseQuantConfig({});
    const r = await quantizeModel(net(), given, cfg, { statBatch: 2, skipEvaluation: true });
    const names = [...r.session.stats.keys()];
    expect(names).toEqual(expect.arrayContaining(['x', 'r', 's']));
    const runner = await activationRunner(r.floatModel, names);
    const outs: Record<string, FloatTensor>[] = [];
    for (const f of given) outs.push(await runner.run(f));
    await runner.release();
    const want = new Map<string, TensorStats>();
    for (let b = 0; b < outs.length; b += 2) {
      foldInto(want, names.map((name) => {
        const { p } = r.session.params.get(name)!;
        return { name, parts: outs.slice(b, b + 2).map((o) => o[name].data), bitWidth: p.bit_width, mode: p.round_mode };
      }));
    }
    expect(r.session.stats).toEqual(want);
    // The caller's feeds were copied, never changed.
    given.forEach((f, k) => expect(f.x.data).toEqual(one(k + 1).x.data));
  });
  it('keeps the first/last conv and add layers in float when the config asks', async () => {
    const r = await quantizeModel(net(), [feeds(1)], parseQuantConfig({ keep_first_last_layer_accuracy: true, keep_add_layer_accuracy: true }), { skipEvaluation: true });
    expect([...r.tensors.keys()].sort()).toEqual(['dead', 'x']);
  });
  it('re-solves from kept statistics without a float pass: pins, methods, rules', async () => {
    const r = await quantizeModel(net(), [feeds(4), feeds(5)], parseQuantConfig({ include_cle: false, include_bias_corr: false }), { skipEvaluation: true });
    const t0 = r.tensors.get('r')!;
    // Pinning r's fix point far above the conv's shift_cut limit is pulled back by the rule, with a reason.
    const pinned = requantize(r.session, { fixPoints: { r: 12 } });
    const fpIn = pinned.tensors.get('x')!.fixPoint;
    const fpW = pinned.tensors.get('w0')!.fixPoint;
    expect(pinned.tensors.get('r')!.fixPoint).toBe(Math.min(12, fpIn + fpW));
    expect(pinned.tensors.get('r')!.calibratedFixPoint).toBe(12);
    const m = requantize(r.session, { methods: { r: 'maxmin' } });
    expect(m.tensors.get('r')!.method).toBe('maxmin');
    expect(m.tensors.get('r')!.clippedFraction).toBe(0);
    expect(m.tensors.get('r')!.fixPoint).toBeLessThanOrEqual(t0.fixPoint);
    expect(() => requantize(r.session, { fixPoints: { nope: 1 } })).toThrow('no quantized tensor named "nope"');
  });
  it('reports progress and honours an abort signal', async () => {
    const seen: string[] = [];
    await quantizeModel(net(), () => [feeds(6), feeds(7)], parseQuantConfig({}), { onProgress: (p) => seen.push(`${p.phase}${p.batch}${p.done ? ' done' : ''}`) });
    // The last calibration event says every batch's statistics were folded (they may fold in a thread).
    expect(seen).toEqual(['calibrate1', 'calibrate2', 'calibrate2 done', 'evaluate1', 'evaluate2']);
    const ac = new AbortController();
    ac.abort();
    await expect(quantizeModel(net(), [feeds(1)], parseQuantConfig({}), { signal: ac.signal })).rejects.toThrow('cancelled');
    await expect(quantizeModel(net(), [], parseQuantConfig({}))).rejects.toThrow('the calibration set is empty');
  });
  it('float-scale methods on a non-DPU target keep their float scales', async () => {
    const cfg = parseQuantConfig({ target_device: 'CPU', overall_quantize_config: { scale_type: 'float', method: 'percentile', percentage: 99 } });
    const r = await quantizeModel(net(), [feeds(1)], cfg, { skipEvaluation: true });
    const t = r.tensors.get('r')!;
    expect(t.method).toBe('percentile');
    expect(t.scale).not.toBe(2 ** -t.fixPoint);
    expect(r.adjustments).toEqual([]);
  });
  it('maxmin with scale_type float: scale = max|x|/127 per output channel, per tensor for activations (CPU target)', async () => {
    // 1×1 conv: out_c = w_c0·x0 + w_c1·x1; with x = ±(1, 1) the ReLU output peaks at |2.54 + 0.1| = 2.64
    const w = [0.5, -1.27, 2.54, 0.1, -0.127, 0.05];
    const m = buildModel({
      inputs: { x: ['float32', ['N', 2, 1, 1]] }, outputs: ['r'],
      initializers: { w0: tensor('float32', [3, 2, 1, 1], w) },
      nodes: [
        { op: 'Conv', inputs: ['x', 'w0'], outputs: ['c'], name: 'conv' },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      ],
    });
    const batch = { x: { shape: [2, 2, 1, 1], data: Float32Array.from([1, 1, -1, -1]) } };
    const base = { target_device: 'CPU', include_cle: false, include_bias_corr: false };
    const f = Math.fround;
    const perChannel = await quantizeModel(m, [batch], parseQuantConfig({ ...base, overall_quantize_config: { per_channel: true, scale_type: 'float', method: 'maxmin' } }), { skipEvaluation: true });
    const w0 = perChannel.tensors.get('w0')!;
    expect(w0.channel).toEqual({ axis: 0, scales: [f(1.27) / 127, f(2.54) / 127, f(0.127) / 127] });
    const r = perChannel.tensors.get('r')!;
    expect(r.scale).toBeCloseTo(2.64 / 127, 7);
    expect(r.fixPoint).toBe(5); // floor(log2(127.5 / 2.64)), shown for reference only
    expect(perChannel.tensors.get('x')!.scale).toBe(1 / 127);
    // channel 1's weights quantize exactly (2.54 → 127, 0.1 → 5 steps of 0.02), so its peak is r's 127th step
    const out = runFakeQuant(perChannel.model, perChannel.tensors, batch).r.data;
    expect(out[1]).toBeCloseTo(127 * r.scale, 6);
    const perTensor = await quantizeModel(m, [batch], parseQuantConfig({ ...base, overall_quantize_config: { scale_type: 'float', method: 'maxmin' } }), { skipEvaluation: true });
    expect(perTensor.tensors.get('w0')!.channel).toBeUndefined();
    expect(perTensor.tensors.get('w0')!.scale).toBe(f(2.54) / 127);
    // a method picked later (the UI) is checked like the config
    expect(() => requantize(perTensor.session, { methods: { r: 'diffs' } })).toThrow('r: "diffs" picks power-of-two positions only');
    expect(() => requantize(perChannel.session, { methods: { w0: 'mse' } })).toThrow('w0: per-channel float-scale weights take only method "maxmin", not "mse"');
  });
});
