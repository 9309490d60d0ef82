// The int8 wasm kernels (src/core/sim/dpu/kernels.ts) against onnxruntime-web float (wasm, same thread
// count) on the same conv shapes, then every Conv of whole sample models summed against the float model.
// `npx tsx bench/kernels.ts [--threads N]`; REPS=n sets the timed runs (default 5, best kept).
import { existsSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { attrInt, attrInts, type Node } from '../src/core/ir/graph';
import { buildOnnx, tensor } from '../src/core/onnx/build';
import { readOnnx } from '../src/core/onnx/reader';
import { convPath, loadInt8Engine, type Act, type ConvGeometry, type Int8Engine } from '../src/core/sim/dpu/kernels';
import { SHARED_ONNX } from '../test/shared';

const threadsArg = process.argv.indexOf('--threads');
const threads = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : 1;
ort.env.wasm.numThreads = threads;
const reps = Number(process.env.REPS ?? 5);

async function best(f: () => unknown, n = reps): Promise<number> {
  await f();
  let b = Infinity;
  for (let r = 0; r < n; r++) {
    const t0 = performance.now();
    await f();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

let seed = 12345;
const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const randI8 = (n: number): Int8Array => Int8Array.from({ length: n }, () => Math.floor(rand() * 256) - 128);

function conv(name: string, inH: number, inW: number, inC: number, outC: number, k: number, stride = 1, group = 1): [string, ConvGeometry] {
  const pad = (k - 1) >> 1;
  const out = (n: number) => Math.floor((n + 2 * pad - k) / stride) + 1;
  return [name, { inH, inW, inC, outC, kH: k, kW: k, strideH: stride, strideW: stride, dilH: 1, dilW: 1, padT: pad, padL: pad, group, outH: out(inH), outW: out(inW) }];
}

const SHAPES: [string, ConvGeometry][] = [
  conv('yolox stem 3×3 12→16 @208', 208, 208, 12, 16, 3),
  conv('yolox dw 3×3 s2 16 @208', 208, 208, 16, 16, 3, 2, 16),
  conv('yolox 1×1 64→64 @52', 52, 52, 64, 64, 1),
  conv('yolox dw 3×3 64 @52', 52, 52, 64, 64, 3, 1, 64),
  conv('yolox 1×1 128→128 @26', 26, 26, 128, 128, 1),
  conv('mbv2 first 3×3 s2 3→32 @224', 224, 224, 3, 32, 3, 2),
  conv('mbv2 dw 3×3 32 @112', 112, 112, 32, 32, 3, 1, 32),
  conv('mbv2 1×1 32→16 @112', 112, 112, 32, 16, 1),
  conv('mbv2 1×1 24→144 @56', 56, 56, 24, 144, 1),
  conv('mbv2 dw 3×3 s2 144 @56', 56, 56, 144, 144, 3, 2, 144),
  conv('mbv2 1×1 576→96 @14', 14, 14, 576, 96, 1),
  conv('mbv2 1×1 320→1280 @7', 7, 7, 320, 1280, 1),
  conv('resnet50 first 7×7 s2 3→64 @224', 224, 224, 3, 64, 7, 2),
  conv('resnet50 1×1 64→256 @56', 56, 56, 64, 256, 1),
  conv('resnet50 3×3 256→256 @14', 14, 14, 256, 256, 3),
  conv('dense 2048→1000', 1, 1, 2048, 1000, 1),
];

/** onnxruntime-web float time of one Conv with this geometry. */
async function ortConv(g: ConvGeometry): Promise<number> {
  const icg = g.inC / g.group;
  const w = Float32Array.from({ length: g.outC * icg * g.kH * g.kW }, () => rand() - 0.5);
  const padB = (g.outH - 1) * g.strideH + (g.kH - 1) * g.dilH + 1 - g.inH - g.padT;
  const padR = (g.outW - 1) * g.strideW + (g.kW - 1) * g.dilW + 1 - g.inW - g.padL;
  const bytes = buildOnnx({
    inputs: { x: ['float32', [1, g.inC, g.inH, g.inW]] }, outputs: ['y'],
    initializers: { w: tensor('float32', [g.outC, icg, g.kH, g.kW], w), b: tensor('float32', [g.outC], new Float32Array(g.outC)) },
    nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: {
      kernel_shape: [g.kH, g.kW], strides: [g.strideH, g.strideW], dilations: [g.dilH, g.dilW],
      pads: [g.padT, g.padL, Math.max(0, padB), Math.max(0, padR)], group: g.group } },
    { op: 'Relu', inputs: ['c'], outputs: ['y'] }],
  });
  const s = await ort.InferenceSession.create(bytes);
  const x = new ort.Tensor('float32', Float32Array.from({ length: g.inC * g.inH * g.inW }, () => rand()), [1, g.inC, g.inH, g.inW]);
  const t = await best(() => s.run({ x }));
  await s.release();
  return t;
}

/** int8 kernel time of one conv2d (weights packed beforehand, as the executor does once per model). */
function int8Conv(eng: Int8Engine, g: ConvGeometry, act: Act): Promise<number> {
  eng.reset();
  const icg = g.inC / g.group;
  const ip = eng.alloc(g.inH * g.inW * g.inC);
  eng.i8(ip, g.inH * g.inW * g.inC).set(randI8(g.inH * g.inW * g.inC));
  const bp = eng.alloc(g.outC * 4, 4);
  eng.i32(bp, g.outC).set(Int32Array.from({ length: g.outC }, () => Math.floor(rand() * 256) - 128));
  const wp = eng.packConvWeights(randI8(g.outC * g.kH * g.kW * icg), g);
  const op = eng.alloc(g.outH * g.outW * g.outC);
  const e = act === 'hswish'
    ? { accUp: 0, biasUp: 2, shift: 8, act, preShift: 8, fpPre: 4, fpOut: 5 }
    : { accUp: 0, biasUp: 2, shift: 8, act, relu6Max: 96 };
  return best(() => eng.conv2d(ip, wp, bp, op, g, e));
}

const fmt = (x: number): string => x.toFixed(2).padStart(8);

async function shapes(eng: Int8Engine): Promise<void> {
  console.log(`conv shapes, ${threads} thread(s): int8 wasm kernels vs onnxruntime-web float (best of ${reps})`);
  console.log(`${'shape'.padEnd(34)} ${'MMAC'.padStart(7)} ${'int8 ms'.padStart(8)} ${'ort ms'.padStart(8)} ${'ratio'.padStart(6)} ${'GMAC/s'.padStart(7)}`);
  for (const [name, g] of SHAPES) {
    const macs = g.outH * g.outW * g.outC * g.kH * g.kW * (g.inC / g.group);
    const mine = await int8Conv(eng, g, 'relu');
    const ref = await ortConv(g);
    console.log(`${name.padEnd(34)} ${(macs / 1e6).toFixed(1).padStart(7)} ${fmt(mine)} ${fmt(ref)} ${(mine / ref).toFixed(2).padStart(6)} ${(macs / mine / 1e6).toFixed(1).padStart(7)}`);
  }
}

/** Every Conv of a model (geometry from shape inference), timed with the int8 kernels, summed. */
async function model(eng: Int8Engine, file: string, act: Act): Promise<void> {
  const bytes = new Uint8Array(readFileSync(file));
  const m = readOnnx(bytes);
  const shapeOf = (t: string): readonly number[] | undefined => {
    const s = m.graph.valueInfo.get(t)?.shape ?? m.graph.inputs.find((i) => i.name === t)?.shape;
    // a symbolic batch is 1 here
    const dims = s?.map((d, i) => (i === 0 && typeof d !== 'number' ? 1 : d));
    return dims?.every((d) => typeof d === 'number') ? (dims as number[]) : undefined;
  };
  let total = 0, macs = 0, n = 0;
  const byPath = new Map<string, { ms: number; macs: number }>();
  for (const node of m.graph.nodes as Node[]) {
    if (node.opType !== 'Conv') continue;
    const xs = shapeOf(node.inputs[0]), ys = shapeOf(node.outputs[0]), ws = m.graph.initializers.get(node.inputs[1])?.shape ?? shapeOf(node.inputs[1]);
    if (!xs || !ys || !ws || xs.length !== 4) continue;
    const k = attrInts(node, 'kernel_shape') ?? ws.slice(2);
    const s = attrInts(node, 'strides') ?? [1, 1], d = attrInts(node, 'dilations') ?? [1, 1], p = attrInts(node, 'pads') ?? [0, 0, 0, 0];
    const g: ConvGeometry = { inH: xs[2], inW: xs[3], inC: xs[1], outH: ys[2], outW: ys[3], outC: ys[1], kH: k[0], kW: k[1],
      strideH: s[0], strideW: s[1], dilH: d[0], dilW: d[1], padT: p[0], padL: p[1], group: attrInt(node, 'group', 1) };
    const ms = await int8Conv(eng, g, act);
    const mac = g.outH * g.outW * g.outC * g.kH * g.kW * (g.inC / g.group);
    total += ms;
    macs += mac;
    n++;
    const key = `${convPath(g)} ${g.kH}×${g.kW}`;
    const e = byPath.get(key) ?? { ms: 0, macs: 0 };
    byPath.set(key, { ms: e.ms + ms, macs: e.macs + mac });
  }
  const session = await ort.InferenceSession.create(bytes);
  const feeds = Object.fromEntries(session.inputNames.map((name) => {
    const shape = (m.graph.inputs.find((i) => i.name === name)!.shape ?? []).map((v) => (typeof v === 'number' ? v : 1));
    return [name, new ort.Tensor('float32', Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand()), shape)];
  }));
  const ref = await best(() => session.run(feeds));
  await session.release();
  console.log(`${file.split('/').pop()!.padEnd(30)} ${String(n).padStart(4)} convs ${(macs / 1e6).toFixed(0).padStart(6)} MMAC   int8 convs ${fmt(total)} ms   ort float model ${fmt(ref)} ms   ratio ${(total / ref).toFixed(2)}`);
  console.log('    ' + [...byPath].map(([k, v]) => `${k}: ${v.ms.toFixed(2)} ms ${(v.macs / v.ms / 1e6).toFixed(1)} GMAC/s`).join(' | '));
}

const eng = await loadInt8Engine();
await shapes(eng);
console.log(`\nwhole models: sum of every Conv on the int8 kernels vs the float model on onnxruntime-web`);
for (const [file, act] of [
  ['public/models/fmnist_seed000.onnx', 'relu'], ['public/models/yolox_nano.onnx', 'hswish'],
  [SHARED_ONNX + '/mobilenet_v2_bn_random.onnx', 'relu6'], ['public/models/light_resnet50.onnx', 'relu'],
] as [string, Act][]) {
  if (existsSync(file)) await model(eng, file, act);
}
