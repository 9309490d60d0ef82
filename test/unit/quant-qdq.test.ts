import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { readOnnx } from '../../src/core/onnx/reader';
import { writeOnnx } from '../../src/core/onnx/writer';
import type { FloatTensor, Model } from '../../src/core/ir';
import { parseQuantConfig } from '../../src/core/quant/config';
import { exportQdq, importQdq, quantInfoJson } from '../../src/core/quant/qdq';
import { quantizeModel, runFakeQuant } from '../../src/core/quant/quantize';

ort.env.wasm.numThreads = 1;

function rand(n: number, seed: number, scale = 1) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => (((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1) * scale);
}

function smallNet(): Model {
  return buildModel({
    inputs: { x: ['float32', ['N', 2, 8, 8]] },
    outputs: ['y'],
    initializers: {
      w0: tensor('float32', [4, 2, 3, 3], rand(72, 1, 0.5)), b0: tensor('float32', [4], rand(4, 2, 0.2)),
      w1: tensor('float32', [6, 64], rand(384, 3, 0.3)), b1: tensor('float32', [6], rand(6, 4, 0.1)),
      flat: tensor('int64', [2], [0, -1]),
    },
    nodes: [
      { op: 'Conv', inputs: ['x', 'w0', 'b0'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'MaxPool', inputs: ['r'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Reshape', inputs: ['p', 'flat'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'w1', 'b1'], outputs: ['y'], attrs: { transB: 1 } },
    ],
  });
}

const batch = (seed: number, n = 4): Record<string, FloatTensor> => ({ x: { shape: [n, 2, 8, 8], data: rand(n * 128, seed, 3) } });

describe('QDQ export', () => {
  it('onnxruntime runs the exported model and matches the fake-quant run', async () => {
    const r = await quantizeModel(smallNet(), [batch(10), batch(11), batch(12)], parseQuantConfig({}), { skipEvaluation: true });
    const { model: qdq, skipped } = exportQdq(r.model, r.tensors);
    expect(skipped).toEqual([]);
    const counts = (op: string) => qdq.graph.nodes.filter((n) => n.opType === op).length;
    // x, r, p, y activations + 4 weight/bias tensors
    expect(counts('QuantizeLinear')).toBe(4);
    expect(counts('DequantizeLinear')).toBe(8);
    const bytes = writeOnnx(qdq);
    expect(readOnnx(bytes).graph.outputs.map((o) => o.name)).toEqual(['y']);
    const session = await ort.InferenceSession.create(bytes);
    const feeds = batch(99);
    const out = await session.run({ x: new ort.Tensor('float32', feeds.x.data, feeds.x.shape) });
    const got = out.y.data as Float32Array;
    const want = runFakeQuant(r.model, r.tensors, feeds, { roundMode: 'half_even' }).y.data;
    const step = 2 ** -r.tensors.get('y')!.fixPoint;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    // Identical integer grids; only float accumulation order may flip a rounding by one step.
    expect(worst).toBeLessThanOrEqual(step + 1e-6);
    let exact = 0;
    for (let i = 0; i < want.length; i++) if (Math.abs(got[i] - want[i]) < 1e-6) exact++;
    expect(exact / want.length).toBeGreaterThan(0.95);
    await session.release();
  });
  it('per-channel float-scale weights (non-DPU target) export as per-axis DequantizeLinear that onnxruntime runs', async () => {
    const cfg = parseQuantConfig({ target_device: 'CPU', tensor_quantize_config: { weights: { per_channel: true, scale_type: 'float', method: 'maxmin' }, activation: { scale_type: 'float', method: 'percentile', percentage: 99.9 } } });
    const r = await quantizeModel(smallNet(), [batch(30)], cfg, { skipEvaluation: true });
    const w0 = r.tensors.get('w0')!;
    expect(w0.channel?.axis).toBe(0);
    expect(w0.channel?.scales).toHaveLength(4);
    const w1 = r.tensors.get('w1')!;
    expect(w1.channel?.scales).toHaveLength(6);
    const { model: qdq } = exportQdq(r.model, r.tensors);
    const session = await ort.InferenceSession.create(writeOnnx(qdq));
    const feeds = batch(31);
    const got = (await session.run({ x: new ort.Tensor('float32', feeds.x.data, feeds.x.shape) })).y.data as Float32Array;
    const want = runFakeQuant(r.model, r.tensors, feeds, { roundMode: 'half_even' }).y.data;
    const step = r.tensors.get('y')!.scale;
    expect(step).not.toBe(2 ** -r.tensors.get('y')!.fixPoint);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(step + 1e-6);
    await session.release();
  });
  it('quant_info.json maps each tensor to [bit_width, fix_point], and import reads the export back', async () => {
    const r = await quantizeModel(smallNet(), [batch(20)], parseQuantConfig({}), { skipEvaluation: true });
    const info = quantInfoJson(r.tensors);
    expect(Object.keys(info).sort()).toEqual(['b0', 'b1', 'p', 'r', 'w0', 'w1', 'x', 'y']);
    for (const [bw, fp] of Object.values(info)) { expect(bw).toBe(8); expect(Number.isInteger(fp)).toBe(true); }
    const back = importQdq(readOnnx(writeOnnx(exportQdq(r.model, r.tensors).model)));
    for (const [name, [, fp]] of Object.entries(info)) expect(back.fixPoints.get(name)?.fixPoint).toBe(fp);
  });
  it('rejects a non-power-of-two scale with a clear message', () => {
    const m = buildModel({
      inputs: { x: ['float32', [1, 4]] }, outputs: ['y'],
      initializers: { s: tensor('float32', [], [0.0123]), z: tensor('int8', [], [0]) },
      nodes: [
        { op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'], name: 'q0' },
        { op: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'] },
      ],
    });
    expect(() => importQdq(m)).toThrow('QuantizeLinear q0: scale 0.012299999594688416 is not a power of two');
  });
});

const RETINA = 'public/models/retinaface_vitis_qdq.onnx';
describe.skipIf(!existsSync(RETINA))('QDQ import of a Vitis AI model', () => {
  it('gives integer fix points for all 324 scales of RetinaFace', () => {
    const model = readOnnx(new Uint8Array(readFileSync(RETINA)));
    const { fixPoints, scales } = importQdq(model);
    expect(scales).toBe(324);
    // 162 QuantizeLinear inputs, plus the graph outputs that a DequantizeLinear produces
    const dqOutputs = model.graph.outputs.filter((o) => model.graph.nodes.some((n) => n.opType === 'DequantizeLinear' && n.outputs[0] === o.name));
    expect(fixPoints.size).toBe(162 + dqOutputs.length);
    for (const o of dqOutputs) expect(fixPoints.has(o.name)).toBe(true);
    for (const f of fixPoints.values()) {
      expect(Number.isInteger(f.fixPoint)).toBe(true);
      expect(f.bitWidth).toBe(8);
    }
    expect(fixPoints.get('RetinaFace::input_0')?.kind).toBe('activation');
    expect(fixPoints.get('module_1.weight')?.kind).toBe('weights');
  });
});
