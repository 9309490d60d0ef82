import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { readOnnx } from '../../src/core/onnx/reader';
import { writeOnnx } from '../../src/core/onnx/writer';
import type { FloatTensor, Model } from '../../src/core/ir';
import { parseQuantConfig } from '../../src/core/quant/config';
import { exportQdq, importQdq, quantInfoJson } from '../../src/core/quant/qdq';
import { quantizeModel, requantize, runFakeQuant } from '../../src/core/quant/quantize';
import { toFloat64 } from '../../src/core/onnx/values';
import { parseNpy } from '../../src/core/data/npy';
import { inputSpecFromShape } from '../../src/core/data/preprocess';
import { batches, samplesFromArray } from '../../src/core/data/calib';

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
  it('the SiLU → hard-swish conversion exports at opset 14 (HardSwish), which onnxruntime loads', async () => {
    const silu = buildModel({
      inputs: { x: ['float32', ['N', 2, 8, 8]] },
      outputs: ['y'],
      initializers: { w0: tensor('float32', [4, 2, 3, 3], rand(72, 1, 0.5)), b0: tensor('float32', [4], rand(4, 2, 0.2)) },
      nodes: [
        { op: 'Conv', inputs: ['x', 'w0', 'b0'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Sigmoid', inputs: ['c'], outputs: ['s'] },
        { op: 'Mul', inputs: ['c', 's'], outputs: ['y'] },
      ],
    });
    const r = await quantizeModel(silu, [batch(10), batch(11)], parseQuantConfig({ convert_silu_to_hswish: true }), { skipEvaluation: true });
    const { model: qdq } = exportQdq(r.model, r.tensors);
    expect(qdq.graph.nodes.some((n) => n.opType === 'HardSwish')).toBe(true);
    expect(qdq.opset).toBeGreaterThanOrEqual(14);
    const session = await ort.InferenceSession.create(writeOnnx(qdq));
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

/** Largest |ORT − fake-quant (half_even)| over the output, and the fake-quant output. */
async function ortVsFakeQuant(qdq: Model, r: Awaited<ReturnType<typeof quantizeModel>>, tensors: typeof r.tensors, feeds: Record<string, FloatTensor>) {
  const session = await ort.InferenceSession.create(writeOnnx(qdq));
  try {
    const got = (await session.run({ x: new ort.Tensor('float32', feeds.x.data, [...feeds.x.shape]) })).y.data as Float32Array;
    const want = runFakeQuant(r.model, tensors, feeds, { roundMode: 'half_even' }).y.data;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    return { worst, want };
  } finally {
    await session.release();
  }
}

describe('QDQ export of other bit widths', () => {
  const twoConvs = (): Model => buildModel({
    inputs: { x: ['float32', ['N', 2, 8, 8]] }, outputs: ['y'],
    initializers: {
      w0: tensor('float32', [4, 2, 3, 3], rand(72, 1, 0.5)), b0: tensor('float32', [4], rand(4, 2, 0.2)),
      w1: tensor('float32', [3, 4, 1, 1], rand(12, 5, 0.5)),
    },
    nodes: [
      { op: 'Conv', inputs: ['x', 'w0', 'b0'], outputs: ['c'], name: 'conv0', attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'Conv', inputs: ['r', 'w1'], outputs: ['y'], name: 'conv1' },
    ],
  });
  const layerBits = (bit_width: number) => parseQuantConfig({
    layer_quantize_config: [{ layer_name: 'conv0', quantizable_data_type: ['weights', 'bias', 'activation'], overall_quantize_config: { bit_width } }],
  });
  const feeds = { x: { shape: [4, 2, 8, 8], data: rand(4 * 128, 9, 3) } };

  it('a 4-bit layer: int8 Q/DQ plus a Clip to the 4-bit range, and onnxruntime equals the fake-quant run', async () => {
    const r = await quantizeModel(twoConvs(), [feeds], layerBits(4), { skipEvaluation: true });
    expect(r.tensors.get('r')!.bitWidth).toBe(4);
    const { model: qdq, skipped } = exportQdq(r.model, r.tensors);
    expect(skipped).toEqual([]);
    const clips = qdq.graph.nodes.filter((n) => n.opType === 'Clip');
    expect(clips).toHaveLength(1);
    const s = 2 ** -r.tensors.get('r')!.fixPoint;
    const bound = (i: number) => toFloat64(qdq.graph.initializers.get(clips[0].inputs[i])!)[0];
    expect([bound(1), bound(2)]).toEqual([-8 * s, 7 * s]);
    // 4-bit weights are stored clamped to [−8, 7]
    const w0q = [...qdq.graph.initializers.values()].find((t) => t.name.startsWith('w0_quantized'))!;
    expect(Math.min(...(w0q.values as Int8Array))).toBeGreaterThanOrEqual(-8);
    expect(Math.max(...(w0q.values as Int8Array))).toBeLessThanOrEqual(7);
    expect((await ortVsFakeQuant(qdq, r, r.tensors, feeds)).worst).toBe(0);
    // A fix point that makes the 4-bit range clip hard (±1): int8 alone would let values up to ±16 through.
    const pinned = requantize(r.session, { fixPoints: { r: 3 } }).tensors;
    const { worst, want } = await ortVsFakeQuant(exportQdq(r.model, pinned).model, r, pinned, feeds);
    expect(worst).toBe(0);
    const unclipped = runFakeQuant(r.model, new Map([...pinned, ['r', { ...pinned.get('r')!, bitWidth: 8 }]]), feeds, { roundMode: 'half_even' }).y.data;
    expect(want.some((v, i) => Math.abs(v - unclipped[i]) > 1e-3)).toBe(true); // the clip matters here
    // import reads the 4-bit width back from the Clip
    const back = importQdq(readOnnx(writeOnnx(qdq)));
    expect(back.fixPoints.get('r')).toEqual({ fixPoint: r.tensors.get('r')!.fixPoint, bitWidth: 4, kind: 'activation' });
    expect(back.fixPoints.get('y')?.bitWidth).toBe(8);
  });

  it('a 16-bit layer: int16 Q/DQ at opset 21 (ReduceMean axes moved to an input), and onnxruntime equals the fake-quant run', async () => {
    const m = twoConvs();
    const net = buildModel({
      opset: 13,
      inputs: { x: ['float32', ['N', 2, 8, 8]] }, outputs: ['y'],
      initializers: Object.fromEntries(m.graph.initializers),
      nodes: [
        ...m.graph.nodes.map((n) => (n.name === 'conv1' ? { op: n.opType, inputs: [...n.inputs], outputs: ['d'], name: n.name } : { op: n.opType, inputs: [...n.inputs], outputs: [...n.outputs], name: n.name, attrs: n.attrs })),
        { op: 'ReduceMean', inputs: ['d'], outputs: ['y'], name: 'mean', attrs: { axes: [2, 3], keepdims: 0 } },
      ],
    });
    const r = await quantizeModel(net, [feeds], layerBits(16), { skipEvaluation: true });
    expect(r.tensors.get('r')!.bitWidth).toBe(16);
    expect(r.tensors.get('w0')!.bitWidth).toBe(16);
    const { model: qdq } = exportQdq(r.model, r.tensors);
    expect(qdq.opset).toBe(21);
    const mean = qdq.graph.nodes.find((n) => n.opType === 'ReduceMean')!;
    expect(mean.attrs.axes).toBeUndefined();
    expect([...(qdq.graph.initializers.get(mean.inputs[1])!.values as BigInt64Array)]).toEqual([2n, 3n]);
    const zr = qdq.graph.nodes.find((n) => n.opType === 'QuantizeLinear' && n.inputs[0] === 'r')!;
    expect(qdq.graph.initializers.get(zr.inputs[2])!.dtype).toBe('int16');
    expect(qdq.graph.initializers.get([...qdq.graph.initializers.keys()].find((k) => k.startsWith('w0_quantized'))!)!.dtype).toBe('int16');
    const { worst } = await ortVsFakeQuant(qdq, r, r.tensors, feeds);
    // ReduceMean sums in float32 in both, in possibly different orders: at most one output step
    expect(worst).toBeLessThanOrEqual(2 ** -r.tensors.get('y')!.fixPoint + 1e-6);
    const back = importQdq(readOnnx(writeOnnx(qdq)));
    expect(back.fixPoints.get('r')?.bitWidth).toBe(16);
    expect(back.fixPoints.get('w0')?.bitWidth).toBe(16);
  });
});

const FMNIST = 'public/models/fmnist_seed000.onnx';
describe.skipIf(!existsSync(FMNIST))('QDQ export of fmnist_seed000 (shipped model and calibration set)', () => {
  const model = readOnnx(new Uint8Array(readFileSync(FMNIST)));
  const spec = inputSpecFromShape('image', model.graph.inputs[0].shape!);
  const calib = samplesFromArray(parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy'))), spec);
  const evalSet = samplesFromArray(parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000.npy'))), spec);
  for (const method of ['diffs', 'maxmin', 'percentile', 'mse', 'entropy'] as const) {
    it(`${method}: onnxruntime on the QDQ export equals the fake-quant run (half_even) on 100 images`, async () => {
      const r = await quantizeModel(model, () => batches(calib, spec), parseQuantConfig({ overall_quantize_config: { method } }), { skipEvaluation: true });
      expect(r.tensors.get('image')!.method).toBe(method);
      const session = await ort.InferenceSession.create(writeOnnx(exportQdq(r.model, r.tensors).model));
      try {
        let worst = 0;
        for (let i = 0; i < 100; i++) {
          const x = evalSet.sample(i * 10);
          const got = (await session.run({ image: new ort.Tensor('float32', x, [1, 1, 28, 28]) })).logits.data as Float32Array;
          const want = runFakeQuant(r.model, r.tensors, { image: { shape: [1, 1, 28, 28], data: x } }, { roundMode: 'half_even' }).logits.data;
          for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs(got[k] - want[k]));
        }
        // same integer grids, same rounding: bit-identical logits
        expect(worst).toBe(0);
      } finally {
        await session.release();
      }
    }, 60_000);
  }
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

describe('QDQ export of a model older than opset 13', () => {
  // Split sizes, Squeeze/Unsqueeze and ReduceSum axes are attributes before 13 and inputs from 13 on.
  const opset11 = (): Model => buildModel({
    opset: 11,
    inputs: { x: ['float32', [1, 2, 8, 8]] }, outputs: ['y'],
    initializers: { w0: tensor('float32', [4, 2, 3, 3], rand(72, 5, 0.5)) },
    nodes: [
      { op: 'Conv', inputs: ['x', 'w0'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Split', inputs: ['c'], outputs: ['s1', 's2'], attrs: { axis: 1, split: [1, 3] } },
      { op: 'Unsqueeze', inputs: ['s1'], outputs: ['u'], attrs: { axes: [0] } },
      { op: 'Squeeze', inputs: ['u'], outputs: ['q'], attrs: { axes: [0] } },
      { op: 'ReduceSum', inputs: ['s2'], outputs: ['rs'], attrs: { axes: [1], keepdims: 1 } },
      { op: 'Add', inputs: ['q', 'rs'], outputs: ['y'] },
    ],
  });

  it('moves the attributes that became inputs, and onnxruntime runs it like the fake-quant run', async () => {
    const feeds = { x: { shape: [1, 2, 8, 8], data: rand(128, 21, 2) } };
    const r = await quantizeModel(opset11(), [feeds, { x: { shape: [1, 2, 8, 8], data: rand(128, 22, 2) } }], parseQuantConfig({}), { skipEvaluation: true });
    const { model: qdq } = exportQdq(r.model, r.tensors);
    expect(qdq.opset).toBe(13);
    const node = (op: string) => qdq.graph.nodes.find((n) => n.opType === op)!;
    for (const op of ['Split', 'Unsqueeze', 'Squeeze', 'ReduceSum']) {
      expect(Object.keys(node(op).attrs)).not.toContain(op === 'Split' ? 'split' : 'axes');
      expect(node(op).inputs).toHaveLength(2);
    }
    expect(Array.from(toFloat64(qdq.graph.initializers.get(node('Split').inputs[1])!))).toEqual([1, 3]);
    const { worst } = await ortVsFakeQuant(qdq, r, r.tensors, feeds);
    expect(worst).toBeLessThanOrEqual(2 ** -r.tensors.get('y')!.fixPoint + 1e-6);
  });

  it('refuses an old operator form it cannot rewrite, naming the op and the opsets', async () => {
    const m = buildModel({
      opset: 9,
      inputs: { x: ['float32', [1, 2, 4, 4]] }, outputs: ['y'],
      initializers: { w0: tensor('float32', [2, 2, 1, 1], rand(4, 6)) },
      nodes: [
        { op: 'Conv', inputs: ['x', 'w0'], outputs: ['c'] },
        { op: 'Clip', inputs: ['c'], outputs: ['y'], attrs: { min: 0, max: 6 } },
      ],
    });
    const feeds = { x: { shape: [1, 2, 4, 4], data: rand(32, 7) } };
    const r = await quantizeModel(m, [feeds], parseQuantConfig({}), { skipEvaluation: true });
    expect(() => exportQdq(r.model, r.tensors)).toThrow(/needs opset 13, but Clip "[^"]+" has an older form at opset 9 \(changed at 11\)/);
  });
});
