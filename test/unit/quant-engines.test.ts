// Calibration and evaluation run on onnxruntime; the interpreter serves where onnxruntime refuses a model.
// Both must reach the same quantization: the float values differ only by summation order.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { batches, limitSamples, samplesFromArray } from '../../src/core/data/calib';
import { parseNpy } from '../../src/core/data/npy';
import { inputSpecFromShape } from '../../src/core/data/preprocess';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { readOnnx } from '../../src/core/onnx/reader';
import { parseQuantConfig } from '../../src/core/quant/config';
import { quantizeModel } from '../../src/core/quant/quantize';

describe('float engines of the quantizer', () => {
  const model = readOnnx(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')));
  const spec = inputSpecFromShape('image', model.graph.inputs[0].shape!);
  const calib = limitSamples(samplesFromArray(parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy'))), spec), 16);
  const source = () => batches(calib, spec);

  it('onnxruntime and the interpreter give fmnist the same fix points, bias correction and SQNR', async () => {
    const cfg = parseQuantConfig({});
    const ort = await quantizeModel(model, source, cfg, { evalSamples: 8 });
    const mine = await quantizeModel(model, source, cfg, { engine: 'interpreter', evalSamples: 8 });
    expect(ort.engine).toBe('onnxruntime');
    expect(mine.engine).toBe('interpreter');
    const fps = (r: typeof ort) => Object.fromEntries([...r.tensors.values()].map((t) => [t.name, t.fixPoint]));
    expect(fps(ort)).toEqual(fps(mine));
    for (const [name, init] of mine.model.graph.initializers) {
      const a = ort.model.graph.initializers.get(name)!.values as Float32Array;
      (init.values as Float32Array).forEach((v, i) => expect(Math.abs(a[i] - v)).toBeLessThan(1e-4 * Math.max(1, Math.abs(v))));
    }
    // SQNR: the fake-quant graph on onnxruntime rounds as runFakeQuant does (raw pixels at fp -1 are all
    // ties: a half-to-even QDQ run would be 0.7 dB off here).
    expect(ort.layers.map((l) => l.output)).toEqual(mine.layers.map((l) => l.output));
    ort.layers.forEach((l, i) => expect(Math.abs(l.sqnrDb - mine.layers[i].sqnrDb), l.layer).toBeLessThan(0.01));
  }, 120_000);

  it('large tensors (min/max reduced inside onnxruntime, diffs from the cells) quantize as on the interpreter', async () => {
    let seed = 5;
    const rnd = (n: number, scale: number) => Float32Array.from({ length: n }, () => (((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1) * scale);
    const m = buildModel({
      inputs: { x: ['float32', [1, 1, 128, 128]] },
      outputs: ['y'],
      initializers: { w: tensor('float32', [4, 1, 3, 3], rnd(36, 0.7)), b: tensor('float32', [4], [0.1, -0.3, 0.2, 0]) },
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Sigmoid', inputs: ['c'], outputs: ['s'] },
        { op: 'Mul', inputs: ['c', 's'], outputs: ['y'] },
      ],
    });
    const feeds = Array.from({ length: 3 }, () => ({ x: { shape: [1, 1, 128, 128], data: rnd(128 * 128, 3) } }));
    const cfg = parseQuantConfig({ include_cle: false });
    const ort = await quantizeModel(m, feeds, cfg, { evalSamples: 2 });
    const mine = await quantizeModel(m, feeds, cfg, { engine: 'interpreter', evalSamples: 2 });
    expect(ort.engine).toBe('onnxruntime');
    const fps = (r: typeof ort) => Object.fromEntries([...r.tensors.values()].map((t) => [t.name, [t.fixPoint, t.clippedFraction]]));
    expect(fps(ort)).toEqual(fps(mine));
    // The two engines' conv outputs differ in the last bits: a value may land in the next histogram bin.
    const [a, b] = [ort, mine].map((r) => r.session.stats.get('c')!);
    expect(a.hist.range).toBe(b.hist.range);
    expect(a.count).toBe(3 * 4 * 128 * 128);
    let moved = 0;
    a.hist.counts.forEach((n, i) => { moved += Math.abs(n - b.hist.counts[i]); });
    expect(moved).toBeLessThan(1e-3 * a.count);
  });

  it('falls back to the interpreter, with a warning, when onnxruntime refuses the model', async () => {
    // An opset from the future: onnxruntime refuses to load it, the interpreter runs MatMul as ever.
    const broken = buildModel({
      opset: 99,
      inputs: { x: ['float32', ['N', 4]] },
      outputs: ['y'],
      initializers: { w: tensor('float32', [4, 3], Float32Array.from({ length: 12 }, (_, i) => (i - 6) / 8)) },
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    });
    const feeds = [{ x: { shape: [2, 4], data: Float32Array.from({ length: 8 }, (_, i) => i / 4 - 1) } }];
    const r = await quantizeModel(broken, feeds, parseQuantConfig({}), { skipEvaluation: true });
    expect(r.engine).toBe('interpreter');
    expect(r.warnings.some((w) => w.startsWith('float runs use the built-in interpreter: onnxruntime could not load the model'))).toBe(true);
    expect(r.tensors.get('y')?.fixPoint).toBeTypeOf('number');
    await expect(quantizeModel(broken, feeds, parseQuantConfig({}), { skipEvaluation: true, engine: 'onnxruntime' })).rejects.toThrow(/onnxruntime could not load the model/);
  });
});
