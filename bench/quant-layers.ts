// Where does quantization hurt? Per-layer SQNR against float of: weights only, activations only, both,
// and (when the model has SiLU) the float model after the SiLU→hard-swish conversion alone.
// npx tsx bench/quant-layers.ts [MODEL] [CALIB_DIR] [pre.json] [config.json]
// Defaults: YOLOX-nano on the four demo photographs with its samples.json preprocessing. The float
// reference is the prepared model before bias correction; weights only and both run the quantized
// model (weights on their grid, biases corrected). Environment: LAYERS=N rows (default 60; outputs
// always), ONLY=layer,… quantizes only those layers' weights in the weights-only run, BC_SAMPLES=N
// the samples bias correction is estimated on, SCORE=t the detection threshold (YOLOX outputs), DEBUG=1 lists the weights.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { batches, samplesFromFiles } from '../src/core/data/calib';
import { inputSpecFromShape, parsePreprocess } from '../src/core/data/preprocess';
import { openModelAsync } from '../src/core/open';
import type { FloatTensor, Model } from '../src/core/ir';
import { activationRunner } from '../src/core/quant/activations';
import { parseQuantConfig } from '../src/core/quant/config';
import { fakeQuantGraph } from '../src/core/quant/fakequant-graph';
import { quantizeModel, quantizedWeights, type TensorQuant } from '../src/core/quant/quantize';
import { siluToHardSwish } from '../src/core/quant/prepare';

const modelPath = process.argv[2] ?? 'public/models/yolox_nano.onnx';
const calibDir = process.argv[3] ?? 'public/demo';
const preText = process.argv[4] ? readFileSync(process.argv[4], 'utf8') : '{"layout":"NCHW","color":"bgr","resize":"letterbox","pad_value":114,"raw":true}';
const cfgText = process.argv[5] ? readFileSync(process.argv[5], 'utf8') : '{}';

const model = await openModelAsync(new Uint8Array(readFileSync(modelPath)), basename(modelPath));
const pre = parsePreprocess(preText);
const inp = model.graph.inputs[0];
const spec = inputSpecFromShape(inp.name, inp.shape ?? [], pre.layout);
const files = readdirSync(calibDir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(calibDir, f))) }));
const samples = samplesFromFiles(files, spec, pre);
const feeds = [...batches(samples, spec, 1)];
const config = parseQuantConfig(cfgText);
const r = await quantizeModel(model, () => feeds, config, { skipEvaluation: true, biasCorrSamples: process.env.BC_SAMPLES ? Number(process.env.BC_SAMPLES) : undefined });
const m = r.model;
const points = r.session.qgraph.layers.filter((l) => r.tensors.has(l.output)).map((l) => l.output);
const graphOutputs = m.graph.outputs.map((o) => o.name);
const wanted = [...new Set([...points, ...graphOutputs])];

const pick = (f: (t: TensorQuant) => boolean) => new Map([...r.tensors].filter(([, t]) => f(t)));
// ONLY=layer,layer restricts the quantized weights to those layers (which layer's rounding costs what).
const only = process.env.ONLY?.split(',');
const isW = (t: TensorQuant) => (t.dataType === 'weights' || t.dataType === 'bias') && (!only || only.includes(t.layer));

/** `wanted` of the fake-quant run of `mm` (nothing quantized: its float run). */
async function outputsOf(mm: Model, tensors: ReadonlyMap<string, TensorQuant>): Promise<Record<string, FloatTensor>[]> {
  const fq = fakeQuantGraph(mm, tensors);
  const names = wanted.map((p) => fq.quantized.get(p) ?? p);
  const run = await activationRunner(fq.model, names, { engine: 'onnxruntime', optimize: false, weights: quantizedWeights(mm, tensors) });
  const res: Record<string, FloatTensor>[] = [];
  for (const f of feeds) {
    const o = await run.run(f);
    res.push(Object.fromEntries(wanted.map((p, i) => [p, o[names[i]]])));
  }
  await run.release();
  return res;
}

function sqnr(a: Record<string, FloatTensor>[], b: Record<string, FloatTensor>[], name: string): number {
  let ff = 0;
  let ee = 0;
  for (let s = 0; s < a.length; s++) {
    const x = a[s][name]?.data;
    const y = b[s][name]?.data;
    if (!x || !y) return NaN;
    for (let i = 0; i < x.length; i++) { ff += x[i] * x[i]; ee += (x[i] - y[i]) ** 2; }
  }
  return ee === 0 ? Infinity : 10 * Math.log10(ff / ee);
}

// The float reference is the prepared model before bias correction (bias correction moves only `m`).
const floatRef = await outputsOf(r.floatModel, new Map());
const wOnly = await outputsOf(m, pick(isW));
if (process.env.DEBUG) console.log([...pick(isW).values()].map((t) => `${t.name}:${t.layer}`).join(' '));
// Activations only: the float weights and biases (the quantized model's are on their grid, corrected).
const aOnly = await outputsOf(r.floatModel, pick((t) => t.dataType === 'activation' || t.dataType === 'input'));
const both = await outputsOf(m, r.tensors);
let hsw: Record<string, FloatTensor>[] | undefined;
const hm = siluToHardSwish(r.floatModel);
if (hm !== r.floatModel) {
  // HardSwish needs opset 14, so this one runs on the interpreter. The converted graph keeps the Mul outputs' names (HardSwish replaces Mul): compare tensor by name.
  const run = await activationRunner(hm, wanted.filter((n) => hm.graph.nodes.some((nd) => nd.outputs.includes(n)) || hm.graph.inputs.some((i) => i.name === n)), { engine: 'interpreter' });
  hsw = [];
  for (const f of feeds) hsw.push(await run.run(f));
  await run.release();
}
const byOut = new Map(r.session.qgraph.layers.map((l) => [l.output, l]));
const fmt = (x: number) => (Number.isNaN(x) ? '   -  ' : x.toFixed(1).padStart(6));
console.log(`${basename(modelPath)}: ${feeds.length} samples; prepare: ${r.prepareLog.map((l) => l.pass).join(', ')}`);
console.log('layer                         op        fp   w-only  a-only   both   hswish');
const limit = Number(process.env.LAYERS ?? 60);
let k = 0;
for (const p of wanted) {
  const l = byOut.get(p);
  const isOut = graphOutputs.includes(p);
  if (!isOut && k++ >= limit) continue;
  const t = r.tensors.get(p);
  const wfp = l?.weight ? ` w${r.tensors.get(l.weight)?.fixPoint}` : '';
  console.log(`${(l?.node.name ?? p).padEnd(30)}${(l?.node.opType ?? 'output').padEnd(9)}${String(t?.fixPoint ?? '').padStart(3)}${wfp.padEnd(5)}${fmt(sqnr(floatRef, wOnly, p))}${fmt(sqnr(floatRef, aOnly, p))}${fmt(sqnr(floatRef, both, p))}${hsw ? fmt(sqnr(floatRef, hsw, p)) : ''}${isOut ? '  (output)' : ''}`);
}

// A YOLOX output ([1, A, 5+C]): the detections per sample, float and int8 (fake-quant), score ≥ 0.3.
const out0 = graphOutputs[0];
const shape = floatRef[0][out0]?.shape ?? [];
if (shape.length === 3 && shape[2] > 5 && inp.shape?.length === 4) {
  const { decodeYolox } = await import('../src/core/demo/yolox');
  const names = readFileSync('public/labels/coco80.txt', 'utf8').split('\n');
  const [h, w] = [Number(inp.shape[2]), Number(inp.shape[3])];
  const show = (o: Record<string, FloatTensor>) => decodeYolox(o[out0].data, o[out0].shape, { inputH: h, inputW: w, scoreThreshold: Number(process.env.SCORE ?? 0.3) })
    .slice(0, 6).map((d) => `${names[d.classId]} ${d.score.toFixed(2)}`).join(', ') || 'nothing';
  files.forEach((f, s) => console.log(`${f.name}\n  float: ${show(floatRef[s])}\n  int8:  ${show(both[s])}\n  weights only: ${show(wOnly[s])}\n  activations only: ${show(aOnly[s])}`));
}
