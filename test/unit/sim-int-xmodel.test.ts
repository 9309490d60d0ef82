// The simulator on a quantizer `_int.xmodel`: read as the QDQ model it stands for (fix points, float weights
// → int codes, NHWC ops → NCHW ONNX), compiled and simulated. The fmnist export gives the int8 outputs of the
// QDQ model it came from, bit for bit; pointpillars (with its PPScatterV2 custom op) runs; a compiled .xmodel
// is refused naming the `_int.xmodel` to give instead.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dpuczdx8g, NO_CONVERSIONS } from '../../src/core/compile';
import { batches, samplesFromArray } from '../../src/core/data/calib';
import { parseNpy } from '../../src/core/data/npy';
import { inputSpecFromShape } from '../../src/core/data/preprocess';
import type { FloatTensor, Model } from '../../src/core/ir';
import { readOnnx } from '../../src/core/onnx/reader';
import { writeOnnx } from '../../src/core/onnx/writer';
import { parseQuantConfig } from '../../src/core/quant/config';
import { exportQdq } from '../../src/core/quant/qdq';
import { quantizeModel } from '../../src/core/quant/quantize';
import { agreement, prepareSimulation, type Simulation } from '../../src/core/sim/dpu';
import { feedsForPorts, quantizedSource } from '../../src/core/sim/source';
import { readXModel, writeXModel } from '../../src/core/xmodel/codec';
import { intXModelOf } from '../../src/core/xmodel/int-export';
import { compiledFrom } from '../../src/core/xmodel/to-qdq';

const target = dpuczdx8g(4096);
const npy = (p: string) => parseNpy(new Uint8Array(readFileSync(p)));
const opts = { conversions: NO_CONVERSIONS, threads: 1 };
const codes = (t: { data: Float32Array }, fp: number) => Int8Array.from(t.data, (v) => v * 2 ** fp);

describe('fmnist: the _int.xmodel simulates like the QDQ model it was exported from', () => {
  const model = readOnnx(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')));
  const spec = inputSpecFromShape('image', model.graph.inputs[0].shape!);
  const evalSet = samplesFromArray(npy('public/calib/fmnist_eval1000.npy'), spec);
  let fromQdq: Simulation;
  let fromInt: Simulation;
  let exported: Model;
  beforeAll(async () => {
    const calib = samplesFromArray(npy('public/calib/fmnist_calib200.npy'), spec);
    const r = await quantizeModel(model, () => batches(calib, spec), parseQuantConfig({}), { skipEvaluation: true });
    const qdq = exportQdq(r.model, r.tensors).model;
    exported = qdq;
    // Both through the bytes a user would give: the QDQ file and the _int.xmodel file.
    const a = await quantizedSource(writeOnnx(qdq), 'fmnist_qdq.onnx');
    const b = await quantizedSource(writeXModel(intXModelOf(qdq)), 'fmnist_seed000_int.xmodel');
    fromQdq = await prepareSimulation(a.source, target, opts);
    fromInt = await prepareSimulation(b.source, target, opts);
  }, 120_000);
  afterAll(async () => { await fromQdq?.release(); await fromInt?.release(); });

  it('has the same input (NCHW, fix point) and output fix point, and the same partition', () => {
    expect(fromInt.inputs).toEqual(fromQdq.inputs);
    expect(fromInt.outputs.map((o) => [o.shape, o.fixPoint])).toEqual(fromQdq.outputs.map((o) => [o.shape, o.fixPoint]));
    expect(fromInt.compile.summary).toBe(fromQdq.compile.summary);
  });

  it('prepareSimulation also takes the parsed _int.xmodel itself', async () => {
    const qdqIn = fromQdq.inputs;
    const direct = await prepareSimulation({ kind: 'xmodel', xmodel: readXModel(writeXModel(intXModelOf(exported))) }, target, opts);
    try {
      expect(direct.inputs).toEqual(qdqIn);
      const feeds: Record<string, FloatTensor> = { image: { shape: [1, 1, 28, 28], data: evalSet.sample(3) } };
      expect(Object.values((await direct.run(feeds)).outputs)[0].value.data).toEqual(Object.values((await fromQdq.run(feeds)).outputs)[0].value.data);
    } finally {
      await direct.release();
    }
  });

  it('gives identical int8 outputs on 30 evaluation images, and matches its own fake-quant run', async () => {
    for (let i = 0; i < 30; i++) {
      const feeds: Record<string, FloatTensor> = { image: { shape: [1, 1, 28, 28], data: evalSet.sample(i) } };
      const [q, x] = [await fromQdq.run(feeds), await fromInt.run(feeds, { keepTensors: true })];
      const [oq] = Object.values(q.outputs), [ox] = Object.values(x.outputs);
      const fp = ox.fixPoint!;
      expect(codes(ox.value, fp)).toEqual(codes(oq.value, fp));
      const a = agreement(x, await fromInt.fakeQuant(feeds));
      expect(a.filter((t) => t.identicalFraction !== 1)).toEqual([]);
    }
  }, 120_000);
});

describe('the _int.xmodel export of YOLOX-nano (SiLU→hard-swish) and of the shipped RetinaFace QDQ', () => {
  /** Every DPU tensor (in run order) and every output of the QDQ model and of its _int.xmodel, on one input. */
  async function compare(qdqBytes: Uint8Array) {
    const a = await quantizedSource(qdqBytes, 'm_qdq.onnx');
    const b = await quantizedSource(writeXModel(intXModelOf(readOnnx(qdqBytes))), 'm_int.xmodel');
    const [sa, sb] = [await prepareSimulation(a.source, target, opts), await prepareSimulation(b.source, target, opts)];
    try {
      expect(sb.compile.summary).toBe(sa.compile.summary);
      expect(sb.inputs.map((i) => [i.shape, i.fixPoint])).toEqual(sa.inputs.map((i) => [i.shape, i.fixPoint]));
      const n = sa.inputs[0].shape.reduce((x, d) => x * d, 1);
      const data = Float32Array.from({ length: n }, (_, j) => (((j * 2654435761) >>> 24) - 128) / 128);
      const ra = await sa.run({ [sa.inputs[0].name]: { shape: sa.inputs[0].shape, data } }, { keepTensors: true });
      const rb = await sb.run({ [sb.inputs[0].name]: { shape: sb.inputs[0].shape, data } }, { keepTensors: true });
      const [ta, tb] = [[...ra.tensors.values()], [...rb.tensors.values()]];
      expect(tb.length).toBe(ta.length);
      const differing = ta.flatMap((t, k) => (t.fixPoint !== tb[k].fixPoint || t.q.some((v, j) => v !== tb[k].q[j]) ? [`${t.name} / ${tb[k].name}`] : []));
      expect(differing).toEqual([]);
      const [oa, ob] = [Object.values(ra.outputs), Object.values(rb.outputs)];
      expect(ob.map((o) => o.value.shape)).toEqual(oa.map((o) => o.value.shape));
      oa.forEach((o, k) => expect(ob[k].value.data).toEqual(o.value.data));
      return ta.length;
    } finally {
      await sa.release();
      await sb.release();
    }
  }

  it('YOLOX-nano: the same partition, every DPU tensor and the output identical (SPP pools stay 13×13)', async () => {
    const m = readOnnx(new Uint8Array(readFileSync('public/models/yolox_nano.onnx')));
    const n = 3 * 416 * 416;
    const calib = [0, 1].map((s) => ({ images: { shape: [1, 3, 416, 416], data: Float32Array.from({ length: n }, (_, k) => ((k + s) * 7919) % 256) } }));
    const r = await quantizeModel(m, calib, parseQuantConfig({ convert_silu_to_hswish: true }), { skipEvaluation: true });
    expect(await compare(writeOnnx(exportQdq(r.model, r.tensors).model))).toBeGreaterThan(100);
  }, 180_000);

  it('YOLOX-nano: its consecutive CPU subgraphs (Focus slices, head sigmoids) in one onnxruntime call, with no fix on what only DPU layers read, give what one call each with every fix gives', async () => {
    const m = readOnnx(new Uint8Array(readFileSync('public/models/yolox_nano.onnx')));
    const n = 3 * 416 * 416;
    const images = { shape: [1, 3, 416, 416], data: Float32Array.from({ length: n }, (_, k) => (k * 7919) % 256) };
    const r = await quantizeModel(m, [{ images }], parseQuantConfig({ convert_silu_to_hswish: true }), { skipEvaluation: true });
    const qdq = exportQdq(r.model, r.tensors).model;
    const grouped = await prepareSimulation({ kind: 'onnx', model: qdq }, target, { threads: 1 });
    const single = await prepareSimulation({ kind: 'onnx', model: qdq }, target, { threads: 1, groupCpu: false, fixCpuOutputs: true });
    try {
      const a = await grouped.run({ images }, { keepTensors: true }), b = await single.run({ images }, { keepTensors: true });
      // Every DPU tensor, those the head sigmoids feed included.
      expect(a.tensors.size).toBeGreaterThan(100);
      expect([...a.tensors.keys()]).toEqual([...b.tensors.keys()]);
      for (const [k, t] of a.tensors) expect(Buffer.from(t.q.buffer, t.q.byteOffset, t.q.length).equals(Buffer.from(b.tensors.get(k)!.q.buffer, b.tensors.get(k)!.q.byteOffset, t.q.length)), k).toBe(true);
      // Still one row per compiled subgraph, in the same order.
      expect(a.subgraphs.map((s) => `${s.device} ${s.name}`)).toEqual(b.subgraphs.map((s) => `${s.device} ${s.name}`));
      expect(a.subgraphs.filter((s) => s.device === 'CPU').length).toBeGreaterThanOrEqual(10);
      expect(Object.keys(a.outputs)).toEqual(Object.keys(b.outputs));
      for (const [k, t] of Object.entries(a.outputs)) expect(Buffer.from(t.value.data.buffer).equals(Buffer.from(b.outputs[k].value.data.buffer)), k).toBe(true);
    } finally {
      await grouped.release();
      await single.release();
    }
  }, 180_000);

  it('mnist-8 (auto_pad SAME convs: their pads reach the layers, the _int.xmodel and the simulator)', async () => {
    const m = readOnnx(new Uint8Array(readFileSync('public/models/mnist-8.onnx')));
    const calib = [0, 1].map((s) => ({ Input3: { shape: [1, 1, 28, 28], data: Float32Array.from({ length: 784 }, (_, k) => ((k + s) * 7919) % 256) } }));
    const r = await quantizeModel(m, calib, parseQuantConfig({}), { skipEvaluation: true });
    const qdq = exportQdq(r.model, r.tensors).model;
    const conv = intXModelOf(qdq).ops.find((o) => o.type === 'conv2d')!;
    expect(conv.attrs.pad).toEqual({ kind: 'int32_vec', value: [2, 2, 2, 2] });
    expect(await compare(writeOnnx(qdq))).toBe(7);
    const sim = await prepareSimulation({ kind: 'onnx', model: qdq }, target, opts);
    try {
      const feeds = { Input3: { shape: [1, 1, 28, 28], data: Float32Array.from({ length: 784 }, (_, k) => (k * 31) % 255) } };
      const a = agreement(await sim.run(feeds, { keepTensors: true }), await sim.fakeQuant(feeds));
      expect(a.filter((t) => t.identicalFraction !== 1)).toEqual([]);
    } finally {
      await sim.release();
    }
  }, 180_000);

  it('RetinaFace (Vitis AI QDQ): the same partition, DPU tensors and three outputs', async () => {
    expect(await compare(new Uint8Array(readFileSync('public/models/retinaface_vitis_qdq.onnx')))).toBeGreaterThan(50);
  }, 180_000);
});

describe('pointpillars_int.xmodel (PPScatterV2 on the CPU between two DPU subgraphs)', () => {
  const file = ['test/fixtures/xmodel/pointpillars_int.xmodel', '/work/shared/models/xmodel/pointpillars_int.xmodel'].find(existsSync);
  it.skipIf(!file)('simulates a random input of its shape', async () => {
    const src = await quantizedSource(new Uint8Array(readFileSync(file!)), 'pointpillars_int.xmodel');
    const sim = await prepareSimulation(src.source, target, opts);
    try {
      // 4-D inputs are NCHW (the source model's layout); the coordinates keep theirs.
      expect(sim.inputs.map((i) => i.shape)).toEqual([[1, 4, 12000, 100], [1, 12000, 4]]);
      expect(sim.compile.subgraphs.filter((s) => s.device === 'DPU').length).toBe(2);
      let s = 7;
      const rnd = () => { s = (s * 1103515245 + 12345) % 2 ** 31; return s / 2 ** 31; };
      const feeds: Record<string, FloatTensor> = {};
      for (const i of sim.inputs) {
        const n = i.shape.reduce((a, d) => a * d, 1);
        // Coordinates as the voxelizer gives them: (batch, z, y, x) cells, some outside the canvas.
        const data = i.shape.length === 3 ? Float32Array.from({ length: n }, (_, k) => Math.floor(rnd() * (k % 4 === 3 ? 440 : 500))) : Float32Array.from({ length: n }, () => rnd() * 2 - 1);
        feeds[i.name] = { shape: i.shape, data };
      }
      const r = await sim.run(feeds);
      const outs = Object.values(r.outputs);
      expect(outs.map((o) => o.value.shape)).toEqual([[1, 42, 248, 216], [1, 18, 248, 216], [1, 12, 248, 216]]);
      for (const o of outs) {
        const fp = o.fixPoint!;
        expect(o.value.data.every((v) => Number.isInteger(v * 2 ** fp) && Math.abs(v * 2 ** fp) <= 128)).toBe(true);
        expect(o.value.data.some((v) => v !== 0)).toBe(true);
      }
    } finally {
      await sim.release();
    }
  }, 180_000);
});

describe('a compiled .xmodel', () => {
  it('is refused, naming the _int.xmodel it was compiled from', async () => {
    const bytes = new Uint8Array(readFileSync('test/fixtures/xmodel/pointpillars_compiled_B4096.xmodel'));
    expect(compiledFrom(readXModel(bytes))).toBe('VoxelNet_int.xmodel');
    await expect(quantizedSource(bytes, 'pointpillars_compiled_B4096.xmodel')).rejects.toThrow(
      'pointpillars_compiled_B4096.xmodel is already compiled for a DPU (device subgraphs, machine code); simulate takes the quantizer output it was compiled from: VoxelNet_int.xmodel (or a QDQ ONNX)');
  });
});

describe('feedsForPorts', () => {
  it('puts an NHWC sample (what an opened _int.xmodel declares) in the NCHW order the simulator takes', () => {
    const nhwc = { shape: [1, 2, 2, 3], data: Float32Array.from({ length: 12 }, (_, i) => i) };
    const r = feedsForPorts({ x: nhwc, y: nhwc }, [{ name: 'x', shape: [1, 3, 2, 2] }, { name: 'y', shape: [1, 2, 2, 3] }]);
    // Channel 0 of pixel (0,0), (0,1), (1,0), (1,1) first.
    expect(Array.from(r.x.data)).toEqual([0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
    expect(r.x.shape).toEqual([1, 3, 2, 2]);
    expect(r.y).toBe(nhwc);
  });
});
