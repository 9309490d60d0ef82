// Milliseconds per sample of the int8 DPU simulator beside onnxruntime-web on the same model: the float
// model and the exported QDQ model, each at 1 and 2 threads (onnxruntime's thread count is fixed per
// process, so each setting runs in its own child; the simulator is single-threaded and measured in both).
// The parent quantizes each model once and hands the QDQ file to the children.
// `npx tsx bench/dpu-sim.ts`; REPS=n timed runs (default 5, best kept).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dpuczdx8g } from '../src/core/compile';
import { samplesFromArray } from '../src/core/data/calib';
import { parseNpy } from '../src/core/data/npy';
import { inputSpecFromShape } from '../src/core/data/preprocess';
import type { FloatTensor } from '../src/core/ir';
import { readOnnx } from '../src/core/onnx/reader';
import { writeOnnx } from '../src/core/onnx/writer';
import { parseQuantConfig } from '../src/core/quant/config';
import { exportQdq } from '../src/core/quant/qdq';
import { quantizeModel, type Feeds } from '../src/core/quant/quantize';
import { prepareSimulation } from '../src/core/sim/dpu';
import { dequantizeModel } from '../src/core/sim/dpu/source';
import { createFloatSession } from '../src/core/sim/float/ort';
import { SHARED_ONNX } from '../test/shared';

const reps = Number(process.env.REPS ?? 5);
const SELF = fileURLToPath(import.meta.url);

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

interface Case { name: string; qdq: string; feeds: string }
interface Row { sim: number; dpu: number; cpu: number; macs: number; float: number; qdq: number }

/** Child: every case at `threads`. Prints one JSON line. */
async function child(cases: Case[], threads: number): Promise<void> {
  const rows: Record<string, Row> = {};
  for (const c of cases) {
    const qdq = readOnnx(new Uint8Array(readFileSync(c.qdq)));
    const feeds = Object.fromEntries(Object.entries(JSON.parse(readFileSync(c.feeds, 'utf8')) as Record<string, { shape: number[]; data: number[] }>)
      .map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }])) as Feeds;
    const sim = await prepareSimulation({ kind: 'onnx', model: qdq }, dpuczdx8g(4096), { threads });
    await sim.run(feeds);
    let run = await sim.run(feeds);
    for (let r = 1; r < reps; r++) { const x = await sim.run(feeds); if (x.ms < run.ms) run = x; }
    await sim.release();
    const float = await createFloatSession(dequantizeModel(qdq).float, { threads });
    const tf = await best(() => float.run(feeds));
    await float.release();
    // The QDQ model as a deployment would run it: graph optimisations on (onnxruntime fuses Q/DQ into int8 kernels).
    const q = await createFloatSession(qdq, { threads });
    const tq = await best(() => q.run(feeds));
    await q.release();
    rows[c.name] = {
      sim: run.ms,
      dpu: run.subgraphs.filter((s) => s.device === 'DPU').reduce((a, s) => a + s.ms, 0),
      cpu: run.subgraphs.filter((s) => s.device === 'CPU').reduce((a, s) => a + s.ms, 0),
      macs: run.layers.reduce((a, l) => a + l.macs, 0),
      float: tf, qdq: tq,
    };
  }
  process.stdout.write(JSON.stringify(rows) + '\n');
}

async function prepareCases(dir: string): Promise<Case[]> {
  const cases: Case[] = [];
  const save = (name: string, qdqBytes: Uint8Array, feeds: Feeds) => {
    const qdq = join(dir, `${name}.onnx`), f = join(dir, `${name}.json`);
    writeFileSync(qdq, qdqBytes);
    writeFileSync(f, JSON.stringify(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }]))));
    cases.push({ name, qdq, feeds: f });
  };
  const quantized = async (name: string, file: string, config: object, calib: Feeds[]) => {
    const t0 = performance.now();
    const model = readOnnx(new Uint8Array(readFileSync(file)));
    const r = await quantizeModel(model, calib, parseQuantConfig(config), { skipEvaluation: true });
    save(name, writeOnnx(exportQdq(r.model, r.tensors).model), calib[0]);
    process.stderr.write(`quantized ${name} on ${calib.length} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  };
  const fm = readOnnx(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')));
  const spec = inputSpecFromShape('image', fm.graph.inputs[0].shape!);
  const set = samplesFromArray(parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy'))), spec);
  await quantized('fmnist_seed000', 'public/models/fmnist_seed000.onnx', {},
    Array.from({ length: 32 }, (_, i) => ({ image: { shape: [1, 1, 28, 28], data: set.sample(i) } })));
  const synthetic = (file: string, scale: number, offset: number, n: number): Feeds[] => {
    const input = readOnnx(new Uint8Array(readFileSync(file))).graph.inputs[0];
    const shape = (input.shape ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    return Array.from({ length: n }, (_, i) => ({ [input.name]: pattern(shape, scale, offset + i * 0.01) }));
  };
  await quantized('yolox_nano (SiLU→hard-swish)', 'public/models/yolox_nano.onnx', { convert_silu_to_hswish: true },
    synthetic('public/models/yolox_nano.onnx', 255, 0, 4));
  const mobilenet = SHARED_ONNX + '/mobilenet_v2_bn_random.onnx';
  if (existsSync(mobilenet)) await quantized('mobilenet_v2_bn_random', mobilenet, {}, synthetic(mobilenet, 2, -1, 4));
  await quantized('light_resnet50', 'public/models/light_resnet50.onnx', {}, synthetic('public/models/light_resnet50.onnx', 2, -1, 2));
  save('retinaface_vitis_qdq (as shipped)', new Uint8Array(readFileSync('public/models/retinaface_vitis_qdq.onnx')),
    { 'RetinaFace::input_0': pattern([1, 3, 320, 320], 255, -128) });
  return cases;
}

if (process.argv[2] === '--child') {
  await child(JSON.parse(readFileSync(process.argv[3], 'utf8')) as Case[], Number(process.argv[4]));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'fixpoint-simbench-'));
  try {
    const cases = await prepareCases(dir);
    const list = join(dir, 'cases.json');
    writeFileSync(list, JSON.stringify(cases));
    const by: Record<number, Record<string, Row>> = {};
    for (const t of [1, 2]) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', SELF, '--child', list, String(t)], { encoding: 'utf8', maxBuffer: 1 << 26 });
      by[t] = JSON.parse(out.trim().split('\n').pop()!);
    }
    const f = (x: number) => x.toFixed(1).padStart(7);
    console.log('ms per sample, best of REPS; int8 sim single-threaded (measured in both children); ratio = sim / onnxruntime float');
    console.log(`${'model'.padEnd(36)} ${'int8 sim'.padStart(8)} (DPU / CPU)      ${'float 1t'.padStart(8)} ${'float 2t'.padStart(8)} ${'QDQ 1t'.padStart(8)} ${'QDQ 2t'.padStart(8)}  ratio 1t  ratio 2t`);
    for (const c of cases) {
      const a = by[1][c.name], b = by[2][c.name];
      const sim = Math.min(a.sim, b.sim);
      console.log(`${c.name.padEnd(36)} ${f(sim)} (${a.dpu.toFixed(1)} / ${a.cpu.toFixed(1)})`.padEnd(64) +
        ` ${f(a.float)}  ${f(b.float)}  ${f(a.qdq)}  ${f(b.qdq)}   ${(sim / a.float).toFixed(2).padStart(6)}×  ${(sim / b.float).toFixed(2).padStart(6)}×   ${(a.macs / 1e6).toFixed(0)} M MACs`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
