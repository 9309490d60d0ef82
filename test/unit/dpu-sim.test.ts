// The int8 DPU simulator against the tool's fake-quant run (exact), onnxruntime on the QDQ model (each
// difference classified by cause), the Fashion-MNIST accuracy, the compiler's workloads and VART goldens.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dpuczdx8g } from '../../src/core/compile';
import { batches, samplesFromArray } from '../../src/core/data/calib';
import { parseNpy } from '../../src/core/data/npy';
import { inputSpecFromShape } from '../../src/core/data/preprocess';
import type { FloatTensor, Model } from '../../src/core/ir';
import { readOnnx } from '../../src/core/onnx/reader';
import { parseQuantConfig } from '../../src/core/quant/config';
import { roundHalfEven } from '../../src/core/quant/fixpoint';
import { exportQdq } from '../../src/core/quant/qdq';
import { quantizeModel } from '../../src/core/quant/quantize';
import { runFloat } from '../../src/core/sim/float/interpreter';
import {
  agreement, goldenDump, md5, prepareSimulation, qdqRuntime, vartLayerName, type SimRun, type Simulation,
} from '../../src/core/sim/dpu';
import { cpuBetweenNet, hardActsNet, randomInputs, residualNet, rng } from './dpu-sim-nets';

const target = dpuczdx8g(4096);
const npy = (p: string) => parseNpy(new Uint8Array(readFileSync(p)));

type Cause = 'exact' | 'input tie' | 'tie' | 'avg-pool factor' | 'hard-sigmoid 2731/2^14' | 'propagated' | 'unexplained';

/**
 * Each DPU tensor's agreement with onnxruntime and why they differ. A tensor whose inputs agree can only
 * differ where its own rounding met a tie (QuantizeLinear: half to even; DPU_ROUND: half up; one LSB) or
 * where the DPU approximates (average pool: N/2^M and the kernel-size divisor; hard-sigmoid and hard-swish:
 * 2731/2^14 for 1/6, hard-swish's h at fix point 7); any other difference is
 * 'unexplained'. A tensor downstream of a difference is 'propagated'. Graph inputs are quantized by both
 * (x·2^fp rounded) and differ only on ties.
 */
async function compareWithOrt(sim: Simulation, qdq: Model, run: SimRun, feeds: Record<string, FloatTensor>) {
  const fps = new Map([...run.tensors.values()].map((t) => [t.name, t.fixPoint]));
  const ort = await qdqRuntime(qdq, fps, feeds);
  const differs = new Set<string>();
  for (const i of sim.inputs) {
    const fp = i.fixPoint!;
    if (feeds[i.name].data.some((x) => Math.floor(x * 2 ** fp + 0.5) !== roundHalfEven(x * 2 ** fp))) differs.add(i.name);
  }
  const L = sim.compile.layers;
  const placedOf = new Map<number, number>();
  L.forEach((p, i) => p.members.forEach((m) => placedOf.set(m, i)));
  const rows = agreement(run, ort.codes).map((a) => {
    const p = L.find((x) => x.layer.tensor === a.name)!;
    const ins = p.layer.inputs.map((id) => L[placedOf.get(id)!].layer.tensor);
    let cause: Cause = 'exact';
    if (a.identicalFraction < 1) {
      const q = run.tensors.get(a.name)!.q;
      const o = ort.codes.get(a.name)!;
      const v = ort.values.get(a.name)!;
      const s = 2 ** a.fixPoint;
      const ties = () => q.every((x, i) => x === o[i] || (Math.abs(x - o[i]) === 1 && Math.abs(v[i] * s - Math.floor(v[i] * s)) === 0.5));
      if (p.layer.kind === 'input') cause = ties() ? 'input tie' : 'unexplained';
      else if (ins.some((t) => differs.has(t))) cause = 'propagated';
      else if (p.layer.kind === 'pool' && p.layer.poolType === 'avg') cause = 'avg-pool factor';
      else if (p.layer.activation?.type === 'hard_sigmoid' || p.layer.activation?.type === 'hard_swish') cause = 'hard-sigmoid 2731/2^14';
      else if (ties()) cause = 'tie';
      else cause = 'unexplained';
      differs.add(a.name);
    }
    return { ...a, cause };
  });
  const inputTie = sim.inputs.some((i) => differs.has(i.name));
  return { rows, inputTie };
}

function expectExact(run: SimRun, fq: Map<string, Int8Array>) {
  const a = agreement(run, fq);
  expect(a.length).toBe(run.tensors.size);
  expect(a.filter((x) => x.identicalFraction !== 1)).toEqual([]);
}

function expectWorkloads(sim: Simulation, run: SimRun) {
  for (const l of run.layers) {
    const p = sim.compile.layers.find((x) => x.layer.name === l.name)!;
    expect({ layer: l.name, ops: l.ops }).toEqual({ layer: l.name, ops: p.cost.workload });
    if (['conv', 'depthwise', 'dense'].includes(p.layer.kind)) {
      const s = p.layer.shape;
      const outPixels = s.length === 4 ? s[1] * s[2] * s[3] : s[s.length - 1];
      expect(2 * l.macs + outPixels).toBe(p.cost.workload);
      // The compiler also counts shape constants (resize scales) as weights; only convs move real ones.
      expect(l.bytesWeights).toBe(p.cost.weightBytes);
    }
    expect(l.bytesOut).toBe(p.cost.writeBytes);
  }
  for (const sg of run.subgraphs.filter((x) => x.device === 'DPU')) {
    const c = sim.compile.subgraphs.find((x) => x.name === sg.name)!;
    expect(sg.ops).toBe(c.cost.workload);
    expect(sg.macs).toBe(run.layers.filter((l) => l.subgraph === sg.name).reduce((a, l) => a + l.macs, 0));
  }
}

describe('Fashion-MNIST seed network', () => {
  const model = readOnnx(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')));
  const spec = inputSpecFromShape('image', model.graph.inputs[0].shape!);
  const evalSet = samplesFromArray(npy('public/calib/fmnist_eval1000.npy'), spec);
  const labels = npy('public/calib/fmnist_eval1000_labels.npy').data as Uint8Array;
  const feedsOf = (i: number) => ({ image: { shape: [1, 1, 28, 28], data: evalSet.sample(i) } });
  let qdq: Model;
  let sim: Simulation;
  beforeAll(async () => {
    const calib = samplesFromArray(npy('public/calib/fmnist_calib200.npy'), spec);
    const r = await quantizeModel(model, () => batches(calib, spec), parseQuantConfig({}), { skipEvaluation: true });
    qdq = exportQdq(r.model, r.tensors).model;
    sim = await prepareSimulation({ kind: 'onnx', model: qdq }, target);
  }, 120_000);
  afterAll(async () => { await sim?.release(); });

  it('places conv, flatten and both dense layers on the DPU and names the ports', () => {
    expect(sim.compile.summary).toBe('Total device subgraph number 3, DPU subgraph number 1');
    expect(sim.inputs).toEqual([{ name: 'image', shape: [1, 1, 28, 28], fixPoint: -1 }]);
    expect(sim.outputs).toEqual([{ name: 'logits', shape: [1, 10], fixPoint: expect.any(Number) }]);
  });

  it('(a) every DPU tensor equals the fake-quant run exactly, on 40 evaluation images', async () => {
    for (let i = 0; i < 40; i++) {
      const feeds = feedsOf(i);
      const run = await sim.run(feeds, { keepTensors: true });
      expectExact(run, await sim.fakeQuant(feeds));
    }
  }, 120_000);

  it('the dense reads the flatten\'s NHWC input (weights permuted): a run that keeps no tensors skips the flatten and gives the same logits', async () => {
    for (let i = 0; i < 20; i++) {
      const feeds = feedsOf(i);
      const kept = await sim.run(feeds, { keepTensors: true });
      const lean = await sim.run(feeds);
      expect(lean.outputs.logits.value.data).toEqual(kept.outputs.logits.value.data);
      // The logits are the last DPU tensor (the dense after the folded flatten), under their own name.
      const last = [...kept.tensors.values()].at(-1)!;
      expect(Int8Array.from(lean.outputs.logits.value.data, (v) => v * 2 ** last.fixPoint)).toEqual((await sim.fakeQuant(feeds)).get(last.name));
    }
  }, 120_000);

  it('(b) against onnxruntime on the QDQ export: differences only from ties, inputs first', async () => {
    const seen = new Set<Cause>();
    for (let i = 0; i < 10; i++) {
      const feeds = feedsOf(i);
      const run = await sim.run(feeds, { keepTensors: true });
      const { rows, inputTie } = await compareWithOrt(sim, qdq, run, feeds);
      if (i === 0) console.log(`fmnist vs onnxruntime (image 0, input ties: ${inputTie}):\n${rows.map((r) => `  ${r.name} fp ${r.fixPoint}: ${(100 * r.identicalFraction).toFixed(2)}% identical, max ${r.maxLsb} LSB — ${r.cause}`).join('\n')}`);
      for (const r of rows) seen.add(r.cause);
      expect(rows.filter((r) => r.cause === 'unexplained')).toEqual([]);
    }
    // Raw pixels at fp −1: every odd pixel is a tie that QuantizeLinear rounds to even and the DPU up.
    expect(seen.has('input tie')).toBe(true);
    expect(seen.has('propagated')).toBe(true);
  }, 120_000);

  it('(c) int8 top-1 on the 1000 evaluation images is within 0.5 pt of float top-1', async () => {
    const argmax = (d: Float32Array) => d.indexOf(Math.max(...d));
    let f = 0;
    let q = 0;
    for (let i = 0; i < evalSet.count; i++) {
      const feeds = feedsOf(i);
      if (argmax(runFloat(model, feeds).logits.data) === labels[i]) f++;
      if (argmax((await sim.run(feeds)).outputs.logits.value.data) === labels[i]) q++;
    }
    console.log(`fmnist top-1: float ${f / evalSet.count}, int8 DPU simulation ${q / evalSet.count}`);
    expect(f / evalSet.count).toBeGreaterThan(0.85);
    expect(Math.abs(f - q)).toBeLessThanOrEqual(0.005 * evalSet.count);
  }, 600_000);

  it('counts per layer: MACs×2 + bias adds is the compiler workload', async () => {
    const run = await sim.run(feedsOf(0));
    expectWorkloads(sim, run);
    const conv = run.layers.find((l) => l.name === '/conv/Conv')!;
    expect(conv.macs).toBe(26 * 26 * 16 * 9); // 28×28 input, 3×3 valid conv, 16 channels
    expect(conv.bytesIn).toBe(784);
  });

  it('writes VART golden files: NHWC int8 per DPU layer, named as the runner looks them up, with md5', async () => {
    const run = await sim.run(feedsOf(3), { keepTensors: true });
    const files = goldenDump(run);
    const index = JSON.parse(new TextDecoder().decode(files.find((f) => f.path === 'index.json')!.bytes)) as { name: string; file: string; shape: number[]; fix_point: number; md5: string }[];
    // The quantized input first: what `xdputil run model.xmodel image.bin` is given.
    expect(index.map((e) => e.file)).toEqual(['image.bin', '_conv_Conv.bin', '_Flatten.bin', '_fc1_Gemm.bin', '_fc2_Gemm.bin']);
    for (const e of index) {
      const bytes = files.find((f) => f.path === e.file)!.bytes;
      expect(e.md5).toBe(createHash('md5').update(bytes).digest('hex'));
      expect(bytes.length).toBe(e.shape.reduce((a, b) => a * b, 1));
    }
    const conv = [...run.tensors.values()].find((t) => t.layer === '/conv/Conv')!;
    const [, C, H, W] = conv.shape;
    const bin = new Int8Array(files.find((f) => f.path === '_conv_Conv.bin')!.bytes.buffer);
    expect(index[1].shape).toEqual([1, H, W, C]);
    expect(index[0]).toMatchObject({ name: 'image', shape: [1, 28, 28, 1], fix_point: -1 });
    for (const [c, y, x] of [[0, 0, 1], [5, 7, 3], [C - 1, H - 1, W - 1]]) expect(bin[(y * W + x) * C + c]).toBe(conv.q[(c * H + y) * W + x]);
  });
});

describe('all-DPU residual network with BatchNormalization', () => {
  const inputs = randomInputs(24);
  const feedsOf = (d: Float32Array) => ({ x: { shape: [1, 3, 16, 16], data: d } });
  let qdq: Model;
  let sim: Simulation;
  beforeAll(async () => {
    const r = await quantizeModel(residualNet(), inputs.slice(0, 16).map(feedsOf), parseQuantConfig({}), { skipEvaluation: true });
    qdq = exportQdq(r.model, r.tensors).model;
    sim = await prepareSimulation({ kind: 'onnx', model: qdq }, target);
  }, 120_000);
  afterAll(async () => { await sim?.release(); });

  it('runs every layer on one DPU subgraph', () => {
    expect(sim.compile.summary).toBe('Total device subgraph number 3, DPU subgraph number 1');
    const kinds = sim.compile.layers.filter((p) => p.device === 'DPU').map((p) => p.layer.kind);
    expect(new Set(kinds)).toEqual(new Set(['conv', 'eltwise', 'pool', 'upsample', 'concat', 'reshape', 'dense']));
  });

  it('(a) every DPU tensor equals the fake-quant run exactly', async () => {
    for (const d of inputs.slice(16)) {
      const run = await sim.run(feedsOf(d), { keepTensors: true });
      expectExact(run, await sim.fakeQuant(feedsOf(d)));
    }
  }, 60_000);

  it('(b) against onnxruntime: ties at the add and the average pools\' factor, then propagation', async () => {
    const seen = new Set<Cause>();
    for (const [k, d] of inputs.slice(16).entries()) {
      const run = await sim.run(feedsOf(d), { keepTensors: true });
      const { rows } = await compareWithOrt(sim, qdq, run, feedsOf(d));
      if (k === 0) console.log(`residual net vs onnxruntime:\n${rows.map((r) => `  ${r.name} fp ${r.fixPoint}: ${(100 * r.identicalFraction).toFixed(2)}% identical, max ${r.maxLsb} LSB — ${r.cause}`).join('\n')}`);
      for (const r of rows) seen.add(r.cause);
      expect(rows.filter((r) => r.cause === 'unexplained')).toEqual([]);
    }
    expect(seen.has('tie')).toBe(true);
    expect(seen.has('avg-pool factor') || seen.has('propagated')).toBe(true);
  }, 60_000);

  it('counts per layer match the compiler workloads', async () => {
    expectWorkloads(sim, await sim.run(feedsOf(inputs[0])));
  });

  it('shares feature-map memory between tensors whose lifetimes do not overlap, and runs repeat exactly', async () => {
    expect(sim.featureMapBytes.planned).toBeLessThan(sim.featureMapBytes.unshared / 2);
    const a = await sim.run(feedsOf(inputs[1]), { keepTensors: true });
    await sim.run(feedsOf(inputs[2]));
    const again = await sim.run(feedsOf(inputs[1]), { keepTensors: true });
    for (const [name, t] of a.tensors) expect(again.tensors.get(name)!.q).toEqual(t.q);
    expect(again.outputs.y.value.data).toEqual(a.outputs.y.value.data);
  });
});

describe('fused hard-swish, hard-sigmoid and ReLU6; transposed conv and bilinear resize', () => {
  const inputs = randomInputs(20).map((d) => d.map((v) => v * 8 - 4));
  const feedsOf = (d: Float32Array) => ({ x: { shape: [1, 3, 16, 16], data: d } });
  let qdq: Model;
  let sim: Simulation;
  beforeAll(async () => {
    const r = await quantizeModel(hardActsNet(), inputs.slice(0, 16).map(feedsOf), parseQuantConfig({ include_cle: false }), { skipEvaluation: true });
    qdq = exportQdq(r.model, r.tensors).model;
    sim = await prepareSimulation({ kind: 'onnx', model: qdq }, target);
  }, 120_000);
  afterAll(async () => { await sim?.release(); });

  it('fuses each into its conv on the DPU', () => {
    const acts = sim.compile.layers.filter((p) => p.device === 'DPU').map((p) => p.layer.activation?.type);
    expect(acts).toEqual(['hard_swish', 'hard_sigmoid', 'relu6', undefined, undefined, undefined, undefined]);
    expect(sim.compile.layers.filter((p) => p.device === 'DPU').map((p) => p.layer.kind)).toEqual(['conv', 'conv', 'conv', 'deconv', 'upsample', 'eltwise', 'conv']);
  });

  it('(a) every DPU tensor equals the fake-quant run exactly', async () => {
    for (const d of inputs.slice(16)) {
      const run = await sim.run(feedsOf(d), { keepTensors: true });
      expectExact(run, await sim.fakeQuant(feedsOf(d)));
      expectWorkloads(sim, run);
    }
  }, 60_000);

  it('(b) against onnxruntime: the hard-sigmoid approximation, ties, propagation', async () => {
    const seen = new Set<Cause>();
    for (const d of inputs.slice(16)) {
      const run = await sim.run(feedsOf(d), { keepTensors: true });
      const { rows } = await compareWithOrt(sim, qdq, run, feedsOf(d));
      for (const r of rows) seen.add(r.cause);
      expect(rows.filter((r) => r.cause === 'unexplained')).toEqual([]);
    }
    expect(seen.has('hard-sigmoid 2731/2^14')).toBe(true);
  }, 60_000);
});

describe('a CPU subgraph between two DPU subgraphs', () => {
  const inputs = randomInputs(12).map((d) => d.map((v) => v * 4 - 2));
  const feedsOf = (d: Float32Array) => ({ x: { shape: [1, 3, 16, 16], data: d } });
  let sim: Simulation;
  beforeAll(async () => {
    const r = await quantizeModel(cpuBetweenNet(), inputs.slice(0, 8).map(feedsOf), parseQuantConfig({}), { skipEvaluation: true });
    sim = await prepareSimulation({ kind: 'onnx', model: exportQdq(r.model, r.tensors).model }, target);
  }, 60_000);
  afterAll(async () => { await sim?.release(); });

  it('runs SiLU in float between fix2float and XIR fixes (the sigmoid\'s too), and the next conv equals fake-quant exactly', async () => {
    expect(sim.compile.subgraphs.map((s) => s.device)).toEqual(['USER', 'DPU', 'CPU', 'CPU', 'DPU', 'CPU']);
    for (const d of inputs.slice(8)) {
      const run = await sim.run(feedsOf(d), { keepTensors: true });
      expect(run.subgraphs.map((s) => s.device)).toEqual(['DPU', 'CPU', 'CPU', 'DPU', 'CPU']);
      expectExact(run, await sim.fakeQuant(feedsOf(d)));
    }
  }, 60_000);
});

describe('YOLOX-nano quantized with SiLU → hard-swish', () => {
  it('(a) all 146 DPU tensors of its two DPU subgraphs, fed by CPU sigmoid heads, equal fake-quant exactly', async () => {
    const model = readOnnx(new Uint8Array(readFileSync('public/models/yolox_nano.onnx')));
    const input = model.graph.inputs[0];
    const shape = (input.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
    const r = rng(9);
    const sample = () => ({ [input.name]: { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1) } });
    const q = await quantizeModel(model, [sample(), sample()], parseQuantConfig({ convert_silu_to_hswish: true }), { skipEvaluation: true });
    const sim = await prepareSimulation({ kind: 'onnx', model: exportQdq(q.model, q.tensors).model }, target);
    try {
      expect(sim.compile.dpuSubgraphNumber).toBe(2);
      const feeds = sample();
      const run = await sim.run(feeds, { keepTensors: true });
      expect(run.tensors.size).toBe(146); // its input enters through CPU slices (Focus), so no quantized input is kept
      expectExact(run, await sim.fakeQuant(feeds));
      expectWorkloads(sim, run);
    } finally {
      await sim.release();
    }
  }, 300_000);
});

describe('RetinaFace (Vitis AI QDQ)', () => {
  const qdq = readOnnx(new Uint8Array(readFileSync('public/models/retinaface_vitis_qdq.onnx')));
  let sim: Simulation;
  // Even values: the input's fix point is −1, so no input rounding tie separates the two runtimes.
  const r = rng(5);
  const feeds = { 'RetinaFace::input_0': { shape: [1, 3, 320, 320], data: Float32Array.from({ length: 3 * 320 * 320 }, () => 2 * Math.floor(r() * 128) - 128) } };
  let run: SimRun;
  beforeAll(async () => {
    sim = await prepareSimulation({ kind: 'onnx', model: qdq }, target);
    run = await sim.run(feeds, { keepTensors: true });
  }, 300_000);
  afterAll(async () => { await sim?.release(); });

  it('runs the backbone and heads on the DPU and the transposes/softmax as float CPU subgraphs', () => {
    expect(sim.compile.summary).toBe('Total device subgraph number 5, DPU subgraph number 1');
    expect(run.tensors.size).toBe(64); // the quantized input and 63 layer outputs
    expect(sim.outputs.map((o) => o.shape)).toEqual([[1, 4200, 4], [1, 4200, 2], [1, 4200, 10]]);
    // The CPU tail's softmax runs in float and is then fixed at its Q/DQ's fix point (6), as XIR's CPU fix op.
    const out = run.outputs['RetinaFace::9554'];
    expect(out.fixPoint).toBe(6);
    for (let i = 0; i < 2 * 4200; i += 2) {
      const [a, b] = [out.value.data[i] * 64, out.value.data[i + 1] * 64];
      expect(Number.isInteger(a) && Number.isInteger(b)).toBe(true);
      expect(Math.abs(a + b - 64)).toBeLessThanOrEqual(1);
    }
  });

  it('(a) every DPU tensor equals the fake-quant run exactly', async () => {
    expectExact(run, await sim.fakeQuant(feeds));
  }, 120_000);

  it('(b) against onnxruntime: differences only from ties, then propagation', async () => {
    const { rows, inputTie } = await compareWithOrt(sim, qdq, run, feeds);
    expect(inputTie).toBe(false);
    const counts = new Map<Cause, number>();
    for (const x of rows) counts.set(x.cause, (counts.get(x.cause) ?? 0) + 1);
    console.log(`RetinaFace vs onnxruntime: ${[...counts].map(([c, n]) => `${n} ${c}`).join(', ')}; first layers:\n${rows.slice(0, 6).map((x) => `  ${x.name} fp ${x.fixPoint}: ${(100 * x.identicalFraction).toFixed(2)}% identical, max ${x.maxLsb} LSB — ${x.cause}`).join('\n')}`);
    expect(rows.filter((x) => x.cause === 'unexplained')).toEqual([]);
    expect(counts.get('tie')).toBeGreaterThan(0);
  }, 120_000);

  it('counts per layer match the compiler workloads', () => {
    expectWorkloads(sim, run);
  });
});

describe('bad input', () => {
  it('refuses an unquantized model, a scale that is no power of two and a wrong feed by name', async () => {
    const float = residualNet();
    await expect(prepareSimulation({ kind: 'onnx', model: float }, target)).rejects.toThrow('no power-of-two QuantizeLinear/DequantizeLinear nodes');
    const r = await quantizeModel(float, randomInputs(2).map((d) => ({ x: { shape: [1, 3, 16, 16], data: d } })), parseQuantConfig({}), { skipEvaluation: true });
    const qdq = exportQdq(r.model, r.tensors).model;
    const scale = [...qdq.graph.initializers.values()].find((t) => t.name.endsWith('_scale') && t.name.startsWith('r1'))!;
    const bad: Model = { ...qdq, graph: { ...qdq.graph, initializers: new Map([...qdq.graph.initializers, [scale.name, { ...scale, values: Float32Array.of(0.03) }]]) } };
    await expect(prepareSimulation({ kind: 'onnx', model: bad }, target)).rejects.toThrow(/QuantizeLinear r1_QuantizeLinear: scale 0\.0\d+ is not one power of two/);
    // An _int.xmodel is a valid source now (test/unit/sim-int-xmodel.test.ts, with the compiled-file refusal).
    const sim = await prepareSimulation({ kind: 'onnx', model: qdq }, target);
    await expect(sim.run({ x: { shape: [1, 3, 8, 8], data: new Float32Array(192) } })).rejects.toThrow('input "x" has 192 values, [1,3,16,16] (batch 1) needs 768');
    await expect(sim.run({})).rejects.toThrow('no value fed for input "x"');
    await sim.release();
  }, 60_000);
});

describe('golden file names and md5', () => {
  it('follows VART layer_name(): XIR (…) affixes dropped, other characters outside [0-9A-Za-z_] become _', () => {
    expect(vartLayerName('RetinaFace::input_0')).toBe('RetinaFace__input_0');
    expect(vartLayerName('/backbone/conv1/Conv')).toBe('_backbone_conv1_Conv');
    expect(vartLayerName('conv1(fix)')).toBe('conv1');
    expect(vartLayerName('resnet_v1_50/block1/unit_2/bottleneck_v1/conv3/Conv2D(fix)')).toBe('resnet_v1_50_block1_unit_2_bottleneck_v1_conv3_Conv2D');
  });
  it('md5 matches node:crypto across block boundaries', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 70_000]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255);
      expect(md5(b)).toBe(createHash('md5').update(b).digest('hex'));
    }
  });
});
