// Milliseconds per inference of the float interpreter (and onnxruntime-web, single-threaded wasm, for
// scale) on the sample models. `npx tsx bench/float.ts [files…]`; REPS=n sets the timed runs (default 3).
import { existsSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { readOnnx } from '../src/core/onnx/reader';
import { planFloat } from '../src/core/sim/float/interpreter';
import { SHARED_ONNX } from '../test/shared';

ort.env.wasm.numThreads = 1;
const DEFAULT = [
  'public/models/mnist-8.onnx',
  'public/models/fmnist_seed000.onnx',
  'public/models/yolox_nano.onnx',
  SHARED_ONNX + '/mobilenet_v2_bn_random.onnx',
];
const reps = Number(process.env.REPS ?? 3);

async function bench(file: string): Promise<void> {
  const bytes = new Uint8Array(readFileSync(file));
  const model = readOnnx(bytes);
  const plan = planFloat(model);
  const feeds = Object.fromEntries(model.graph.inputs.map((i) => {
    const shape = (i.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let k = 0; k < data.length; k++) data[k] = ((k * 7919) % 256) / 255;
    return [i.name, { shape, data }];
  }));
  const time = async (f: () => unknown): Promise<number> => {
    await f(); // warm-up: JIT for us, session set-up for onnxruntime
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await f();
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };
  const mine = await time(() => plan.run(feeds));
  const session = await ort.InferenceSession.create(bytes);
  const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor('float32', t.data, t.shape)]));
  const ref = await time(() => session.run(ortFeeds));
  await session.release();
  console.log(`${file.split('/').pop()!.padEnd(34)} float interpreter ${mine.toFixed(1).padStart(8)} ms   onnxruntime-web ${ref.toFixed(1).padStart(8)} ms   peak ${(plan.lastRunPeak.bytes / 2 ** 20).toFixed(1)} MiB`);
}

const files = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT.filter((f) => existsSync(f));
for (const f of files) await bench(f);
