// The generated VART script run as written (`python3 <model>_vart.py IMAGE <model>_dpu.npz`) on a machine
// without VART: dpu_standin.py runs its DPU subgraphs in int8 NumPy from the exported npz, the CPU steps are
// the generated NumPy, the image goes through the script's own loader (PIL decode, the Calibrate step's
// preprocessing). Its printed result must equal the app's simulation of the same image, and every int8 map
// of every DPU subgraph must equal the simulator's. Skipped without python3 + NumPy + PIL (Debian:
// python3-numpy, python3-pil; .ci/run installs them).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dpuczdx8g } from '../../src/core/compile';
import { cpuStubs, vartPython } from '../../src/core/compile/deploy';
import { standinNpz, standinProgram } from '../../src/core/compile/standin-npz';
import { STANDIN_MODULE, STANDIN_PY } from '../../src/core/compile/standin-py';
import { batches, samplesFromArray, samplesFromImages } from '../../src/core/data/calib';
import { decodeImage } from '../../src/core/data/image';
import { parseNpy, parseNpz, writeNpy } from '../../src/core/data/npy';
import { writeOnnx } from '../../src/core/onnx/writer';
import { inputSpecFromShape, type PreprocessSpec } from '../../src/core/data/preprocess';
import { readout } from '../../src/core/demo/readout';
import type { Model } from '../../src/core/ir';
import { readOnnx } from '../../src/core/onnx/reader';
import { parseQuantConfig } from '../../src/core/quant/config';
import { exportQdq } from '../../src/core/quant/qdq';
import { quantizeModel } from '../../src/core/quant/quantize';
import { prepareSimulation } from '../../src/core/sim/dpu';
import { hardActsNet, randomInputs, residualNet, rng } from './dpu-sim-nets';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { pythonWith } from '../python';

const PY = pythonWith('numpy', 'PIL');
const hasPython = PY !== undefined;
const dir = mkdtempSync(join(tmpdir(), 'fixpoint-standin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const target = dpuczdx8g(4096);
const npy = (p: string) => parseNpy(new Uint8Array(readFileSync(p)));

// Runs the script's own steps as main() does and keeps what the checks need: the loaded input, the
// outputs, every DPU subgraph's int8 maps (source layout) and the YOLOX boxes at a low threshold.
const HARNESS = `
import json, sys
import numpy as np
script, image, npz, out = sys.argv[1:5]
s = {"__name__": "board_script"}
exec(compile(open(script).read(), script, "exec"), s)
feeds, placement = s["load_input"](image)
x = feeds[s["GRAPH_INPUTS"][0]]
graph = s["xir"].Graph.deserialize(npz)
subgraphs = s["dpu_subgraphs"](graph)
s["check_board_xmodel"](subgraphs)
runners = [s["vart"].Runner.create_runner(g, "run") for g in subgraphs]
values = dict(feeds)
results = s["run"](runners, values)
names, arrays = [], []
for r in runners:
    for n, a in r.last.items():
        names.append(n)
        arrays.append(np.transpose(a, (0, 3, 1, 2)) if a.ndim == 4 else a)
c = np.ascontiguousarray
src = lambda a: np.transpose(a, (0, 3, 1, 2)) if a.ndim == 4 else a  # the script's maps are NHWC
np.savez(out, c(src(x)), c(src(results[s["GRAPH_OUTPUTS"][0]])), *[c(a) for a in arrays])
boxes = []
if s["TASK"] == "detect-yolox":
    shape = s["TENSORS"][s["GRAPH_INPUTS"][0]]["shape"]
    dets = s["decode_yolox"](results[s["GRAPH_OUTPUTS"][0]], shape[1], shape[2], score_threshold=0.05)
    boxes = [[c, sc, list(b)] for c, sc, b in s["to_image_boxes"](dets, placement)]
print(json.dumps({"names": names, "boxes": boxes}))
`;

interface Outcome { printed: string[]; input: Float32Array; output: Float32Array; int8: Map<string, Int8Array>; boxes: [number, number, number[]][] }

function runScript(stem: string, script: string, npz: Uint8Array, image: string): Outcome {
  const files = { script: join(dir, `${stem}_vart.py`), npz: join(dir, `${stem}_dpu.npz`), out: join(dir, `${stem}_out.npz`) };
  writeFileSync(files.script, script);
  writeFileSync(files.npz, npz);
  writeFileSync(join(dir, STANDIN_MODULE), STANDIN_PY);
  const p = spawnSync(PY!, [files.script, image, files.npz], { encoding: 'utf8', cwd: dir, maxBuffer: 1 << 26 });
  expect(p.status, p.stderr).toBe(0);
  expect(p.stderr).toContain('vart not found: the DPU subgraphs run in NumPy');
  writeFileSync(join(dir, 'harness.py'), HARNESS);
  const h = spawnSync(PY!, [join(dir, 'harness.py'), files.script, image, files.npz, files.out], { encoding: 'utf8', cwd: dir, maxBuffer: 1 << 26 });
  expect(h.status, h.stderr).toBe(0);
  const j = JSON.parse(h.stdout.trim().split('\n').pop()!) as { names: string[]; boxes: [number, number, number[]][] };
  const arrays = parseNpz(new Uint8Array(readFileSync(files.out)));
  const arr = (i: number) => arrays.get(`arr_${i}`)!;
  const int8 = new Map(j.names.map((n, i) => [n, arr(i + 2).data as Int8Array]));
  return { printed: p.stdout.trim().split('\n').filter(Boolean), input: arr(0).data as Float32Array, output: arr(1).data as Float32Array, int8, boxes: j.boxes };
}

/** The app's side: the image through the Calibrate step's preprocessing into the int8 simulator. */
async function simulate(qdq: Model, image: string, pre: PreprocessSpec) {
  const sim = await prepareSimulation({ kind: 'onnx', model: qdq }, target);
  try {
    const input = qdq.graph.inputs[0];
    const shape = (input.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
    const bytes = new Uint8Array(readFileSync(image));
    const img = decodeImage(bytes, image);
    // The app's path for a dropped image (Simulate → Samples, Calibrate).
    const data = samplesFromImages([{ name: image, bytes }], inputSpecFromShape(input.name, input.shape!), pre).sample(0);
    const run = await sim.run({ [input.name]: { shape, data } }, { keepTensors: true });
    return { sim, run, data, img };
  } finally {
    await sim.release();
  }
}

function expectSameInt8(got: Map<string, Int8Array>, want: Map<string, { q: Int8Array }>) {
  expect(got.size).toBeGreaterThan(0);
  let differing = 0;
  for (const [name, q] of got) {
    const w = want.get(name);
    if (!w) continue; // a subgraph input quantized from a CPU result: compared through the layers it feeds
    expect(q.length, name).toBe(w.q.length);
    if (q.some((v, i) => v !== w.q[i])) differing++;
  }
  expect(differing).toBe(0);
  // Every DPU layer output the simulator kept came out of the stand-in.
  for (const name of want.keys()) expect(got.has(name), name).toBe(true);
}

describe.skipIf(!hasPython)('deployment script with the NumPy stand-in runner (python3 + NumPy + PIL)', () => {
  it('Fashion-MNIST on a PNG photo: the same input, int8 maps, logits and printed top-5 as the simulator', async () => {
    const model = readOnnx(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')));
    const spec = inputSpecFromShape('image', model.graph.inputs[0].shape!);
    const calib = samplesFromArray(npy('public/calib/fmnist_calib200.npy'), spec);
    const q = await quantizeModel(model, () => batches(calib, spec), parseQuantConfig({}), { skipEvaluation: true });
    const qdq = exportQdq(q.model, q.tensors).model;
    const pre: PreprocessSpec = { scale: 1, layout: 'NCHW', color: 'grayscale', raw: true };
    const s = standinProgram(qdq, target);
    expect(cpuStubs(s.compile)).toEqual([]);
    const image = join(process.cwd(), 'public/demo/coffee.png'); // RGB 3-channel photo: luma, then bilinear down to 28×28
    const got = runScript('fmnist', vartPython(s.compile, 'fmnist.xmodel', pre), standinNpz(s), image);
    const app = await simulate(qdq, image, pre);
    expect(app.img.width).not.toBe(28);
    expect(Array.from(got.input)).toEqual(Array.from(app.data));
    expectSameInt8(got.int8, app.run.tensors);
    const logits = app.run.outputs.logits.value.data;
    expect(Array.from(got.output)).toEqual(Array.from(logits));
    const top = readout('classify', { logits: app.run.outputs.logits.value });
    if (top.task !== 'classify') throw new Error('classify');
    expect(got.printed).toEqual(top.top.map((t) => `class ${t.class} p=${t.score.toFixed(4)}`));

    // `fixpoint compile QDQ --out DIR` writes the npz and dpu_standin.py beside the scripts; the script
    // runs from there on the preprocessed .npy of the same image and prints the same top-5.
    const out = join(dir, 'cli');
    writeFileSync(join(dir, 'fmnist_qdq.onnx'), writeOnnx(qdq));
    writeFileSync(join(dir, 'coffee28.npy'), writeNpy({ dtype: 'float32', shape: [1, 1, 28, 28], data: app.data }));
    const c = spawnSync('npx', ['tsx', 'src/cli/main.ts', 'compile', join(dir, 'fmnist_qdq.onnx'), '--arch', 'DPUCZDX8G_ISA1_B4096', '--out', out], { encoding: 'utf8' });
    expect(c.status, c.stderr).toBe(0);
    expect(readFileSync(join(out, STANDIN_MODULE), 'utf8')).toBe(STANDIN_PY);
    const p = spawnSync(PY!, [join(out, 'fmnist_qdq_vart.py'), join(dir, 'coffee28.npy'), join(out, 'fmnist_qdq.xmodel')], { encoding: 'utf8', cwd: out });
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout.trim().split('\n')).toEqual(got.printed);
  }, 180_000);

  it('a residual net: max, 3×3 and global average pools (N/2^M), leaky, add + ReLU, resize, concat, dense', async () => {
    const inputs = randomInputs(17);
    const feedsOf = (d: Float32Array) => ({ x: { shape: [1, 3, 16, 16], data: d } });
    const q = await quantizeModel(residualNet(), inputs.slice(0, 16).map(feedsOf), parseQuantConfig({}), { skipEvaluation: true });
    const qdq = exportQdq(q.model, q.tensors).model;
    const s = standinProgram(qdq, target);
    const kinds = new Set(s.program.subgraphs.flatMap((g) => g.ops.map((o) => `${o.type}:${(o.act as { type?: string } | undefined)?.type ?? ''}`)));
    for (const k of ['maxpool:', 'avgpool:', 'conv:leaky', 'add:relu', 'upsample:', 'concat:', 'reshape:', 'conv:none']) expect(kinds, k).toContain(k);
    const x = inputs[16];
    writeFileSync(join(dir, 'residual_x.npy'), writeNpy({ dtype: 'float32', shape: [1, 3, 16, 16], data: x }));
    const got = runScript('residual', vartPython(s.compile, 'residual.xmodel'), standinNpz(s), join(dir, 'residual_x.npy'));
    const sim = await prepareSimulation({ kind: 'onnx', model: qdq }, target);
    try {
      const run = await sim.run(feedsOf(x), { keepTensors: true });
      expectSameInt8(got.int8, run.tensors);
      expect(Array.from(got.output)).toEqual(Array.from(Object.values(run.outputs)[0].value.data));
    } finally {
      await sim.release();
    }
  }, 180_000);

  it('hard-swish, hard-sigmoid and ReLU6 convs, a transposed conv and a bilinear resize', async () => {
    const inputs = randomInputs(17);
    const feedsOf = (d: Float32Array) => ({ x: { shape: [1, 3, 16, 16], data: d } });
    const q = await quantizeModel(hardActsNet(), inputs.slice(0, 16).map(feedsOf), parseQuantConfig({ include_cle: false }), { skipEvaluation: true });
    const qdq = exportQdq(q.model, q.tensors).model;
    const s = standinProgram(qdq, target);
    const kinds = new Set(s.program.subgraphs.flatMap((g) => g.ops.map((o) => `${o.type}:${(o.kind as string | undefined) ?? ''}:${(o.act as { type?: string } | undefined)?.type ?? ''}`)));
    for (const k of ['conv:conv:hswish', 'conv:conv:hsigmoid', 'conv:conv:relu6', 'conv:deconv:none', 'resize_linear::']) expect(kinds, k).toContain(k);
    const x = inputs[16];
    writeFileSync(join(dir, 'hard_x.npy'), writeNpy({ dtype: 'float32', shape: [1, 3, 16, 16], data: x }));
    const got = runScript('hard', vartPython(s.compile, 'hard.xmodel'), standinNpz(s), join(dir, 'hard_x.npy'));
    const sim = await prepareSimulation({ kind: 'onnx', model: qdq }, target);
    try {
      const run = await sim.run(feedsOf(x), { keepTensors: true });
      expectSameInt8(got.int8, run.tensors);
      expect(Array.from(got.output)).toEqual(Array.from(Object.values(run.outputs)[0].value.data));
    } finally {
      await sim.release();
    }
  }, 180_000);

  it('ops with a constant, zero Pad and standalone leaky / hard-swish / ReLU6 / ReLU on the DPU', async () => {
    const r = rng(21);
    const rand = (n: number, k: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * k);
    const model = buildModel({
      opset: 14,
      inputs: { x: ['float32', [1, 4, 8, 8]] },
      outputs: ['out', 'c6', 'rl'],
      initializers: {
        w1: tensor('float32', [8, 4, 3, 3], rand(288, 0.3)), b1: tensor('float32', [8], rand(8, 0.1)),
        w2: tensor('float32', [8, 8, 3, 3], rand(576, 0.2)), b2: tensor('float32', [8], rand(8, 0.1)),
        sc: tensor('float32', [1, 8, 1, 1], Float32Array.from({ length: 8 }, () => 0.5 + r())), off: tensor('float32', [], [0.3]),
        pads: tensor('int64', [8], [0, 0, 1, 1, 0, 0, 1, 1]), lo: tensor('float32', [], [0]), hi: tensor('float32', [], [6]),
      },
      nodes: [
        { op: 'Conv', name: 'conv1', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', name: 'relu1', inputs: ['c1'], outputs: ['r1'] },
        { op: 'MaxPool', name: 'pool', inputs: ['r1'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
        { op: 'Mul', name: 'scale', inputs: ['p', 'sc'], outputs: ['m'] },
        { op: 'Add', name: 'offset', inputs: ['off', 'm'], outputs: ['a'] },
        { op: 'Pad', name: 'pad', inputs: ['a', 'pads'], outputs: ['pd'] },
        { op: 'Conv', name: 'conv2', inputs: ['pd', 'w2', 'b2'], outputs: ['c2'] },
        { op: 'Concat', name: 'cat', inputs: ['a', 'c2'], outputs: ['cat'], attrs: { axis: 1 } },
        { op: 'LeakyRelu', name: 'leaky', inputs: ['cat'], outputs: ['lk'], attrs: { alpha: 26 / 256 } },
        { op: 'HardSwish', name: 'hswish', inputs: ['cat'], outputs: ['hs'] },
        { op: 'Add', name: 'sum', inputs: ['lk', 'hs'], outputs: ['out'] },
        { op: 'Clip', name: 'relu6', inputs: ['p', 'lo', 'hi'], outputs: ['c6'] },
        { op: 'Relu', name: 'relu2', inputs: ['cat'], outputs: ['rl'] },
      ],
    });
    const feeds = (i: number) => ({ x: { shape: [1, 4, 8, 8], data: rand(256, 2 + i) } });
    const q = await quantizeModel(model, [0, 1, 2, 3].map(feeds), parseQuantConfig({ include_cle: false }), { skipEvaluation: true });
    const qdq = exportQdq(q.model, q.tensors).model;
    const s = standinProgram(qdq, target);
    const kinds = new Set(s.program.subgraphs.flatMap((g) => g.ops.map((o) => `${o.type}:${(o.act as string | undefined) ?? (o.op as string | undefined) ?? ''}`)));
    for (const k of ['eltwise_const:mul', 'eltwise_const:add', 'pad:', 'activation:leaky_relu', 'activation:hard_swish', 'activation:relu6', 'activation:relu'])
      expect(kinds, `${k} in ${[...kinds].join(' ')}`).toContain(k);
    const x = feeds(9).x.data;
    writeFileSync(join(dir, 'consts_x.npy'), writeNpy({ dtype: 'float32', shape: [1, 4, 8, 8], data: x }));
    const got = runScript('consts', vartPython(s.compile, 'consts.xmodel'), standinNpz(s), join(dir, 'consts_x.npy'));
    const sim = await prepareSimulation({ kind: 'onnx', model: qdq }, target);
    try {
      const run = await sim.run({ x: { shape: [1, 4, 8, 8], data: x } }, { keepTensors: true });
      expectSameInt8(got.int8, run.tensors);
    } finally {
      await sim.release();
    }
  }, 180_000);

  it('RetinaFace (Vitis AI QDQ): leaky 26/256, nearest upsample and adds in int8; the CPU tail in NumPy', async () => {
    const qdq = readOnnx(new Uint8Array(readFileSync('public/models/retinaface_vitis_qdq.onnx')));
    const pre: PreprocessSpec = { layout: 'NCHW', color: 'bgr', resize: 'letterbox', raw: true };
    const s = standinProgram(qdq, target);
    const kinds = new Set(s.program.subgraphs.flatMap((g) => g.ops.map((o) => `${o.type}:${(o.act as { type?: string } | undefined)?.type ?? ''}`)));
    for (const k of ['conv:leaky', 'conv:relu', 'upsample:', 'add:none', 'concat:']) expect(kinds, k).toContain(k);
    expect(cpuStubs(s.compile)).toEqual([]);
    const image = join(process.cwd(), 'public/demo/chelsea.png');
    const got = runScript('retinaface', vartPython(s.compile, 'retinaface.xmodel', pre), standinNpz(s), image);
    const app = await simulate(qdq, image, pre);
    expect(Array.from(got.input)).toEqual(Array.from(app.data));
    expectSameInt8(got.int8, app.run.tensors);
    expect(got.int8.size).toBe(64); // the quantized input and 63 layer outputs
    // 'raw' task: each output's name, shape and range, as the app computes them.
    const first = Object.values(app.run.outputs)[0].value;
    let worst = 0;
    for (let i = 0; i < first.data.length; i++) worst = Math.max(worst, Math.abs(first.data[i] - got.output[i]));
    expect(worst).toBeLessThan(1e-5);
    expect(got.printed).toHaveLength(3);
  }, 300_000);

  it('YOLOX-nano (SiLU → hard-swish) on a PNG photo: same int8 maps in both DPU subgraphs, same boxes', async () => {
    const model = readOnnx(new Uint8Array(readFileSync('public/models/yolox_nano.onnx')));
    const input = model.graph.inputs[0];
    const shape = (input.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
    const pre: PreprocessSpec = { layout: 'NCHW', color: 'bgr', resize: 'letterbox', pad_value: 114, raw: true };
    // Calibrated on the shipped photos, as a user would from the Calibrate step.
    const photos = ['astronaut.png', 'chelsea.png', 'coffee.png'].map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(`public/demo/${f}`)) }));
    const calib = samplesFromImages(photos, inputSpecFromShape(input.name, input.shape!), pre);
    const q = await quantizeModel(model, () => batches(calib, inputSpecFromShape(input.name, input.shape!)), parseQuantConfig({ convert_silu_to_hswish: true, include_bias_corr: false }), { skipEvaluation: true });
    const qdq = exportQdq(q.model, q.tensors).model;
    const s = standinProgram(qdq, target);
    expect(s.compile.dpuSubgraphNumber).toBe(2);
    expect(cpuStubs(s.compile)).toEqual([]);
    const image = join(process.cwd(), 'public/demo/astronaut.png');
    const got = runScript('yolox', vartPython(s.compile, 'yolox.xmodel', pre), standinNpz(s), image);
    const app = await simulate(qdq, image, pre);
    expect(Array.from(got.input)).toEqual(Array.from(app.data));
    expectSameInt8(got.int8, app.run.tensors);
    const [outName] = Object.keys(app.run.outputs);
    const out = app.run.outputs[outName].value;
    // The CPU tail (sigmoid heads, concat, transpose) is NumPy in the script and onnxruntime in the app.
    let worst = 0;
    for (let i = 0; i < out.data.length; i++) worst = Math.max(worst, Math.abs(out.data[i] - got.output[i]));
    expect(worst).toBeLessThan(1e-5);
    const placement = { imageW: app.img.width, imageH: app.img.height, inputW: shape[3], inputH: shape[2], resize: 'letterbox' as const };
    const boxes = (threshold: number) => {
      const d = readout('detect-yolox', { [outName]: out }, { inputH: shape[2], inputW: shape[3], placement, scoreThreshold: threshold });
      return d.task === 'detect-yolox' ? d.boxes : [];
    };
    const fmt = (b: { class: number; score: number; box: number[] }) => `class ${b.class} score ${b.score.toFixed(3)} box ${b.box.map((v) => v.toFixed(1)).join(' ')}`;
    expect(got.printed).toEqual(boxes(0.3).map(fmt));
    const low = boxes(0.05);
    console.log(`YOLOX stand-in: ${got.int8.size} int8 maps identical, ${low.length} boxes ≥ 0.05, ${got.printed.length} printed ≥ 0.3`);
    expect(got.boxes.map(([c, sc, b]) => fmt({ class: c, score: sc, box: b }))).toEqual(low.map(fmt));
  }, 600_000);
});
