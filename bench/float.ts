// Milliseconds per float inference: the tool's interpreter and onnxruntime-web (wasm, SIMD) at 1 and 2
// threads, on the sample models. onnxruntime's thread count is fixed per process, so each setting runs in
// its own child. `npx tsx bench/float.ts [files…]`; REPS=n sets the timed runs (default 5, best kept).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FloatTensor } from '../src/core/ir';
import { readOnnx } from '../src/core/onnx/reader';
import { planFloat } from '../src/core/sim/float/interpreter';
import { createFloatSession } from '../src/core/sim/float/ort';
import { SHARED_ONNX } from '../test/shared';

const DEFAULT = [
  'public/models/fmnist_seed000.onnx',
  'public/models/yolox_nano.onnx',
  SHARED_ONNX + '/mobilenet_v2_bn_random.onnx',
  'public/models/light_resnet50.onnx',
];
const reps = Number(process.env.REPS ?? 5);

function feedsOf(file: string): Record<string, FloatTensor> {
  const model = readOnnx(new Uint8Array(readFileSync(file)));
  return Object.fromEntries(model.graph.inputs.map((i) => {
    const shape = (i.shape ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let k = 0; k < data.length; k++) data[k] = ((k * 7919) % 256) / 255;
    return [i.name, { shape, data }];
  }));
}

async function best(f: () => unknown): Promise<number> {
  await f(); // warm-up: JIT for the interpreter, session set-up for onnxruntime
  let t = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await f();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

/** One child: onnxruntime at `threads` (and the interpreter when asked) on one model. */
async function child(file: string, threads: number, interpreter: boolean): Promise<{ ort: number; interpreter?: number }> {
  const feeds = feedsOf(file);
  const session = await createFloatSession(new Uint8Array(readFileSync(file)), { threads });
  const ort = await best(() => session.run(feeds));
  await session.release();
  let mine: number | undefined;
  if (interpreter) {
    try {
      const plan = planFloat(readOnnx(new Uint8Array(readFileSync(file))));
      mine = await best(() => plan.run(feeds));
    } catch {
      mine = undefined; // an op the interpreter lacks: onnxruntime alone serves this model
    }
  }
  return { ort, interpreter: mine };
}

const self = fileURLToPath(import.meta.url);
function measure(file: string, threads: number, interpreter: boolean): { ort: number; interpreter?: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', file, String(threads), interpreter ? '1' : '0'], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

if (process.argv[2] === '--child') {
  const r = await child(process.argv[3], Number(process.argv[4]), process.argv[5] === '1');
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0); // onnxruntime's thread pool would keep the child alive
} else {
  const files = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT.filter((f) => existsSync(f));
  console.log(`float inference, ms per run (best of ${reps}, batch 1, one process per setting)`);
  console.log(`${'model'.padEnd(30)} ${'interpreter'.padStart(12)} ${'ort 1 thread'.padStart(13)} ${'ort 2 threads'.padStart(14)}`);
  for (const f of files) {
    const one = measure(f, 1, true);
    const two = measure(f, 2, false);
    const cell = (x: number | undefined, w: number) => (x === undefined ? '-' : x.toFixed(1)).padStart(w);
    console.log(`${basename(f).padEnd(30)} ${cell(one.interpreter, 12)} ${cell(one.ort, 13)} ${cell(two.ort, 14)}`);
  }
}
