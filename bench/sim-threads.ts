// Throughput of `fixpoint simulate --threads N` (samples split over worker threads, src/cli/parallel.ts) at
// 1 and 2 threads on the Fashion-MNIST network (1000 evaluation images) and YOLOX-nano with SiLU→hard-swish
// (synthetic 416×416 inputs): samples/s over the whole parallel section, worker start and model preparation
// included, beside the per-sample latency; and whether the outputs of the two runs are byte for byte equal.
// `npx tsx bench/sim-threads.ts`; YOLOX_SAMPLES=n (default 24), FMNIST_SAMPLES=n (default 1000).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNpy, writeNpy } from '../src/core/data/npy';
import { readOnnx } from '../src/core/onnx/reader';
import { writeOnnx } from '../src/core/onnx/writer';
import { parseQuantConfig } from '../src/core/quant/config';
import { exportQdq } from '../src/core/quant/qdq';
import { quantizeModel } from '../src/core/quant/quantize';

const dir = mkdtempSync(join(tmpdir(), 'fixpoint-simthreads-'));
const nFm = Number(process.env.FMNIST_SAMPLES ?? 1000);
const nYolo = Number(process.env.YOLOX_SAMPLES ?? 24);

function pattern(n: number, per: number, seed: number): Float32Array {
  const d = new Float32Array(n * per);
  for (let k = 0; k < d.length; k++) d[k] = (((k + seed) * 7919) % 256);
  return d;
}

async function quantized(file: string, config: object, calib: Float32Array[], shape: number[], name: string): Promise<string> {
  const m = readOnnx(new Uint8Array(readFileSync(file)));
  const feeds = calib.map((data) => ({ [m.graph.inputs[0].name]: { shape, data } }));
  const r = await quantizeModel(m, feeds, parseQuantConfig(config), { skipEvaluation: true });
  const out = join(dir, `${name}_qdq.onnx`);
  writeFileSync(out, writeOnnx(exportQdq(r.model, r.tensors).model));
  return out;
}

function simulate(model: string, input: string, threads: number): { json: { samples: number; samples_per_s: number; ms_per_sample: number; threads: number; outputs: { file: string }[] }; out: string } {
  const out = join(dir, `out_${threads}_${Math.random().toString(36).slice(2)}`);
  const s = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'simulate', model, '--input', input, '--out', out, '--threads', String(threads), '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { json: JSON.parse(s.trim().split('\n').pop()!), out };
}

try {
  const fmX = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000.npy')));
  const fmIn = join(dir, 'fmnist.npy');
  writeFileSync(fmIn, writeNpy({ dtype: 'uint8', shape: [nFm, 28, 28], data: (fmX.data as Uint8Array).slice(0, nFm * 784) }));
  const cal = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy')));
  const fmCal = Array.from({ length: 32 }, (_, i) => Float32Array.from((cal.data as Uint8Array).subarray(i * 784, (i + 1) * 784)));
  const fm = await quantized('public/models/fmnist_seed000.onnx', {}, fmCal, [1, 1, 28, 28], 'fmnist');
  const per = 3 * 416 * 416;
  const yolo = await quantized('public/models/yolox_nano.onnx', { convert_silu_to_hswish: true }, [0, 1, 2, 3].map((i) => pattern(1, per, i)), [1, 3, 416, 416], 'yolox');
  const yIn = join(dir, 'yolox.npy');
  writeFileSync(yIn, writeNpy({ dtype: 'float32', shape: [nYolo, 3, 416, 416], data: pattern(nYolo, per, 17) }));
  console.log('fixpoint simulate --threads N: samples/s over the parallel section (worker start, model preparation and each sample\'s fake-quant agreement run included); ms/sample = mean int8 run');
  console.log(`${'model'.padEnd(34)} ${'samples'.padStart(7)}  ${'1 thread'.padStart(18)}  ${'2 threads'.padStart(18)}  speed-up  outputs equal`);
  for (const [name, model, input, n] of [['fmnist_seed000', fm, fmIn, nFm], ['yolox_nano (SiLU→hard-swish)', yolo, yIn, nYolo]] as const) {
    const a = simulate(model, input, 1), b = simulate(model, input, 2);
    const same = a.json.outputs.every((o) => readFileSync(join(a.out, o.file)).equals(readFileSync(join(b.out, o.file))));
    const cell = (j: typeof a.json) => `${j.samples_per_s.toPrecision(3).padStart(7)}/s ${j.ms_per_sample.toFixed(1).padStart(6)} ms`;
    console.log(`${name.padEnd(34)} ${String(n).padStart(7)}  ${cell(a.json).padStart(18)}  ${cell(b.json).padStart(18)}  ${(b.json.samples_per_s / a.json.samples_per_s).toFixed(2).padStart(7)}×  ${same}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
