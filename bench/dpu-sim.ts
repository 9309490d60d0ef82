// Milliseconds per sample of the int8 DPU simulator against onnxruntime-web float on the same model
// (single-threaded wasm both), with the DPU/CPU split. `npx tsx bench/dpu-sim.ts`; REPS=n timed runs (default 5).
import { existsSync, readFileSync } from 'node:fs';
import { dpuczdx8g } from '../src/core/compile';
import { batches, samplesFromArray } from '../src/core/data/calib';
import { parseNpy } from '../src/core/data/npy';
import { inputSpecFromShape } from '../src/core/data/preprocess';
import type { FloatTensor, Model } from '../src/core/ir';
import { readOnnx } from '../src/core/onnx/reader';
import { parseQuantConfig } from '../src/core/quant/config';
import { exportQdq } from '../src/core/quant/qdq';
import { quantizeModel, type Feeds } from '../src/core/quant/quantize';
import { prepareSimulation } from '../src/core/sim/dpu';
import { dequantizeModel } from '../src/core/sim/dpu/source';
import { createFloatSession } from '../src/core/sim/float/ort';
import { SHARED_ONNX } from '../test/shared';

const reps = Number(process.env.REPS ?? 5);

async function best(f: () => Promise<unknown>): Promise<number> {
  await f();
  let b = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await f();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

function pattern(shape: readonly number[], scale: number, offset: number): FloatTensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let k = 0; k < data.length; k++) data[k] = ((k * 7919) % 256) / 255 * scale + offset;
  return { shape, data };
}

async function bench(name: string, qdq: Model, feeds: Feeds): Promise<void> {
  const t0 = performance.now();
  const sim = await prepareSimulation({ kind: 'onnx', model: qdq }, dpuczdx8g(4096), { threads: 1 });
  const prep = performance.now() - t0;
  await sim.run(feeds);
  let run = await sim.run(feeds);
  for (let r = 1; r < reps; r++) { const x = await sim.run(feeds); if (x.ms < run.ms) run = x; }
  const ms = run.ms;
  const dpu = run.subgraphs.filter((s) => s.device === 'DPU').reduce((a, s) => a + s.ms, 0);
  const cpu = run.subgraphs.filter((s) => s.device === 'CPU').reduce((a, s) => a + s.ms, 0);
  const macs = run.layers.reduce((a, l) => a + l.macs, 0);
  const session = await createFloatSession(dequantizeModel(qdq).float, { threads: 1 });
  const ort = await best(() => session.run(feeds));
  await session.release();
  await sim.release();
  const mem = `${(sim.featureMapBytes.planned / 2 ** 20).toFixed(1)} MiB feature maps (${(sim.featureMapBytes.unshared / 2 ** 20).toFixed(1)} unshared)`;
  console.log(`${name.padEnd(28)} ${mem}   prepare ${prep.toFixed(0).padStart(6)} ms   int8 sim ${ms.toFixed(1).padStart(7)} ms/sample (DPU ${dpu.toFixed(1)}, CPU ${cpu.toFixed(1)}; ${(macs / 1e6).toFixed(1)} M MACs, ${(macs / dpu / 1e6).toFixed(2)} GMAC/s)   onnxruntime-web float ${ort.toFixed(1).padStart(7)} ms`);
}

{
  const model = readOnnx(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')));
  const spec = inputSpecFromShape('image', model.graph.inputs[0].shape!);
  const calib = samplesFromArray(parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy'))), spec);
  const r = await quantizeModel(model, () => batches(calib, spec), parseQuantConfig({}), { skipEvaluation: true });
  await bench('fmnist_seed000 (quantized)', exportQdq(r.model, r.tensors).model, { image: { shape: [1, 1, 28, 28], data: calib.sample(0) } });
}
{
  const qdq = readOnnx(new Uint8Array(readFileSync('public/models/retinaface_vitis_qdq.onnx')));
  await bench('retinaface_vitis_qdq', qdq, { 'RetinaFace::input_0': pattern([1, 3, 320, 320], 255, -128) });
}
const mobilenet = SHARED_ONNX + '/mobilenet_v2_bn_random.onnx';
if (existsSync(mobilenet)) {
  const model = readOnnx(new Uint8Array(readFileSync(mobilenet)));
  const input = model.graph.inputs[0];
  const shape = (input.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
  const calib = Array.from({ length: 4 }, (_, i) => ({ [input.name]: pattern(shape, 2, -1 + i * 0.01) }));
  const r = await quantizeModel(model, calib, parseQuantConfig({}), { skipEvaluation: true });
  await bench('mobilenet_v2_bn_random', exportQdq(r.model, r.tensors).model, calib[0]);
}
