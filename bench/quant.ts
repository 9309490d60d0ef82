// Calibration throughput and memory: `npx tsx bench/quant.ts`. Quantizes the Fashion-MNIST sample on 100 and
// on 1000 of the shipped images, each in its own process so peak RSS is that run's own, and prints images/s of
// calibration (the whole quantizeModel: prepare, statistics pass, evaluation) next to plain float inference on
// the same images. Peak memory must not grow with the image count.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { batches, limitSamples, samplesFromFiles } from '../src/core/data/calib';
import { inputSpecFromShape } from '../src/core/data/preprocess';
import { readOnnx } from '../src/core/onnx/reader';
import { defaultQuantConfig, quantizeModel } from '../src/core/quant';
import { planFloat } from '../src/core/sim/float/interpreter';

const MODEL = 'public/models/fmnist_seed000.onnx';
const DATA = 'public/calib/fmnist_eval1000.npy';

async function one(count: number): Promise<Record<string, number>> {
  const model = readOnnx(new Uint8Array(readFileSync(MODEL)));
  const input = model.graph.inputs[0];
  const spec = inputSpecFromShape(input.name, input.shape ?? []);
  const samples = limitSamples(samplesFromFiles([{ name: 'fmnist_eval1000.npy', bytes: new Uint8Array(readFileSync(DATA)) }], spec), count);

  const plan = planFloat(model);
  let t0 = performance.now();
  for (const feeds of batches(samples, spec, 1)) plan.run(feeds);
  const floatMs = performance.now() - t0;

  t0 = performance.now();
  await quantizeModel(model, () => batches(samples, spec), defaultQuantConfig());
  const quantMs = performance.now() - t0;
  return {
    images: samples.count,
    float_img_s: samples.count / (floatMs / 1000),
    calib_img_s: samples.count / (quantMs / 1000),
    peak_rss_mib: process.resourceUsage().maxRSS / 1024,
  };
}

const arg = process.argv[2];
if (arg) {
  process.stdout.write(JSON.stringify(await one(Number(arg))));
} else {
  const self = fileURLToPath(import.meta.url);
  console.log('quantize fmnist_seed000 (in-house float interpreter, one process per row)');
  console.log('images  float img/s  calibrate+quantize img/s  peak RSS MiB');
  for (const n of [100, 1000]) {
    const r = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', self, String(n)], { encoding: 'utf8' }));
    console.log(`${String(r.images).padStart(6)}  ${r.float_img_s.toFixed(0).padStart(11)}  ${r.calib_img_s.toFixed(0).padStart(24)}  ${r.peak_rss_mib.toFixed(0).padStart(12)}`);
  }
}
