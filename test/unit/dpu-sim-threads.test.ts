// The simulator with its conv kernels split over threads gives every DPU tensor of the one-thread run,
// byte for byte: the all-DPU residual net, Fashion-MNIST and YOLOX-nano (SiLU → hard-swish), each with
// every conv split and run by the helper threads alone, and as a run splits them (2 threads, default sizes).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dpuczdx8g } from '../../src/core/compile';
import { batches, samplesFromArray } from '../../src/core/data/calib';
import { parseNpy } from '../../src/core/data/npy';
import { inputSpecFromShape } from '../../src/core/data/preprocess';
import type { FloatTensor, Model } from '../../src/core/ir';
import { readOnnx } from '../../src/core/onnx/reader';
import { parseQuantConfig } from '../../src/core/quant/config';
import { exportQdq } from '../../src/core/quant/qdq';
import { quantizeModel } from '../../src/core/quant/quantize';
import { prepareSimulation, type SimOptions } from '../../src/core/sim/dpu';
import { kernelThreadsAvailable } from '../../src/core/sim/dpu/kernel-threads';
import { randomInputs, residualNet, rng } from './dpu-sim-nets';

const target = dpuczdx8g(4096);
const npy = (p: string) => parseNpy(new Uint8Array(readFileSync(p)));
type Feeds = Record<string, FloatTensor>;

/** Every DPU tensor of each run at `threaded` equals the one-thread run's. */
async function expectSameTensors(qdq: Model, feeds: Feeds[], threaded: SimOptions[]) {
  const one = await prepareSimulation({ kind: 'onnx', model: qdq }, target);
  const many = await Promise.all(threaded.map((o) => prepareSimulation({ kind: 'onnx', model: qdq }, target, o)));
  try {
    for (const f of feeds) {
      const want = await one.run(f, { keepTensors: true });
      expect(want.tensors.size).toBeGreaterThan(0);
      for (const [i, sim] of many.entries()) {
        const got = await sim.run(f, { keepTensors: true });
        expect([...got.tensors.keys()]).toEqual([...want.tensors.keys()]);
        const differ = [...want.tensors].filter(([name, t]) => {
          const q = got.tensors.get(name)!.q;
          return q.length !== t.q.length || q.some((v, k) => v !== t.q[k]);
        }).map(([name]) => name);
        expect(differ, `${JSON.stringify(threaded[i])}: tensors that differ from one thread`).toEqual([]);
      }
    }
  } finally {
    await one.release();
    for (const s of many) await s.release();
  }
}

const SPLIT_ALL: SimOptions[] = [
  { kernelThreads: 2, kernelSplit: { splitMacs: 0, helpersOnly: true } },
  { kernelThreads: 3, kernelSplit: { splitMacs: 0 } },
  { threads: 2 },
];

describe.runIf(kernelThreadsAvailable())('DPU kernels over threads: every tensor as on one thread', () => {
  it('all-DPU residual network', async () => {
    const inputs = randomInputs(20);
    const feedsOf = (d: Float32Array) => ({ x: { shape: [1, 3, 16, 16], data: d } });
    const r = await quantizeModel(residualNet(), inputs.slice(0, 16).map(feedsOf), parseQuantConfig({}), { skipEvaluation: true });
    await expectSameTensors(exportQdq(r.model, r.tensors).model, inputs.slice(16).map(feedsOf), SPLIT_ALL);
  }, 120_000);

  it('Fashion-MNIST', async () => {
    const model = readOnnx(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')));
    const spec = inputSpecFromShape('image', model.graph.inputs[0].shape!);
    const calib = samplesFromArray(npy('public/calib/fmnist_calib200.npy'), spec);
    const r = await quantizeModel(model, () => batches(calib, spec), parseQuantConfig({}), { skipEvaluation: true });
    const evalSet = samplesFromArray(npy('public/calib/fmnist_eval1000.npy'), spec);
    const feeds = [0, 1, 2, 3].map((i) => ({ image: { shape: [1, 1, 28, 28], data: evalSet.sample(i) } }));
    await expectSameTensors(exportQdq(r.model, r.tensors).model, feeds, SPLIT_ALL);
  }, 120_000);

  it('YOLOX-nano (SiLU → hard-swish)', async () => {
    const model = readOnnx(new Uint8Array(readFileSync('public/models/yolox_nano.onnx')));
    const input = model.graph.inputs[0];
    const shape = (input.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
    const r = rng(9);
    const sample = () => ({ [input.name]: { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 255) } });
    const q = await quantizeModel(model, [sample()], parseQuantConfig({ convert_silu_to_hswish: true }), { skipEvaluation: true });
    await expectSameTensors(exportQdq(q.model, q.tensors).model, [sample()], [SPLIT_ALL[0], SPLIT_ALL[2]]);
  }, 300_000);
});
