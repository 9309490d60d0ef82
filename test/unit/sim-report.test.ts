// The Simulate step's pure pieces: the float reference behind a QDQ model, the refusal of a float model,
// and the report's top-5, SQNR and file names.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { batches, limitSamples, samplesFromArray } from '../../src/core/data/calib';
import { parseNpy } from '../../src/core/data/npy';
import { inputSpecFromShape } from '../../src/core/data/preprocess';
import type { FloatTensor } from '../../src/core/ir';
import { openModel } from '../../src/core/open';
import { parseQuantConfig } from '../../src/core/quant/config';
import { exportQdq } from '../../src/core/quant/qdq';
import { quantizeModel } from '../../src/core/quant/quantize';
import { createFloatSession } from '../../src/core/sim/float/ort';
import { probabilities, safeName, simReport, sqnrDb, topK } from '../../src/core/sim/report';
import { quantizedSource } from '../../src/core/sim/source';
import { prepareSimulation } from '../../src/core/sim/dpu';
import { SampleRunner } from '../../src/core/sim/sample';
import { targetByBoard } from '../../src/core/compile';
import { writeOnnx } from '../../src/core/onnx/writer';

const FMNIST = 'public/models/fmnist_seed000.onnx';

describe('report helpers', () => {
  it('names output files with [A-Za-z0-9_.-] only', () => {
    expect(safeName('/fc2/Gemm_output_0')).toBe('_fc2_Gemm_output_0');
    expect(safeName('face rpn:0.bbox')).toBe('face_rpn_0.bbox');
  });
  it('top-5 ranks by value with softmax probabilities, or the values when they already are a distribution', () => {
    const t = topK([1, 3, 2, 3, -1, 0], 5);
    expect(t.map((r) => r.index)).toEqual([1, 3, 2, 0, 5]);
    const p = probabilities([1, 3, 2, 3, -1, 0]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(t[0].p).toBeCloseTo(p[1], 12);
    expect(Array.from(probabilities([0.25, 0.75]))).toEqual([0.25, 0.75]);
  });
  it('SQNR of dequantized codes against float', () => {
    expect(sqnrDb([1, 2, 3], [2, 4, 6], 0.5)).toBe(Infinity);
    // error power 0.25·3 against signal 14: 10·log10(14/0.75)
    expect(sqnrDb([1, 2, 3], [3, 5, 7], 0.5)).toBeCloseTo(10 * Math.log10(14 / 0.75), 10);
    expect(Number.isNaN(sqnrDb([1], [1, 2]))).toBe(true);
  });
  it('builds the report from a run, its agreement, the float values and the compile estimates', () => {
    const run = {
      outputs: { y: { value: { shape: [1, 3], data: new Float32Array([0.5, 2, -1]) }, fixPoint: 2 } },
      tensors: new Map([['t', { name: 't', shape: [1, 4], fixPoint: 1, q: new Int8Array([2, 4, -2, 0]), subgraph: 'sg0' }]]),
      subgraphs: [{ name: 'sg0', device: 'DPU', macs: 12, bytesIn: 4, bytesWeights: 12, bytesOut: 3, ms: 0.5 }],
      ms: 0.6,
    };
    const float: Record<string, FloatTensor> = { y: { shape: [1, 3], data: new Float32Array([0.4, 2.1, -1]) }, t: { shape: [1, 4], data: new Float32Array([1, 2, -1, 0]) } };
    const r = simReport(run, [{ name: 't', fixPoint: 1, identicalFraction: 1, maxLsb: 0 }], float, new Map([['sg0', 0.002]]), { sim: 1, fakeQuant: 2, float: 3 });
    expect(r.outputs[0].top!.int8.map((x) => x.index)).toEqual([1, 0, 2]);
    expect(r.outputs[0].top!.float.map((x) => x.index)).toEqual([1, 0, 2]);
    expect(r.outputs[0].maxAbsDiff).toBeCloseTo(0.1, 6);
    expect(r.tensors[0]).toMatchObject({ name: 't', subgraph: 'sg0', identicalFraction: 1, sqnrDb: Infinity });
    expect(r.subgraphs[0].estimateMs).toBeCloseTo(2, 12);
  });
});

describe('quantized source', () => {
  it('refuses a float model, naming fixpoint quantize', async () => {
    await expect(quantizedSource(new Uint8Array(readFileSync(FMNIST)), 'fmnist_seed000.onnx')).rejects.toThrow(/float model.*fixpoint quantize/);
  });
  it('the float model behind a QDQ model (weights on their grid): close to the float model it was quantized from', async () => {
    const model = openModel(new Uint8Array(readFileSync(FMNIST)), 'fmnist_seed000.onnx');
    const input = model.graph.inputs[0];
    const spec = inputSpecFromShape(input.name, input.shape ?? []);
    const samples = limitSamples(samplesFromArray(parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy'))), spec), 16);
    const r = await quantizeModel(model, () => batches(samples, spec), parseQuantConfig({}), { skipEvaluation: true });
    const qdqBytes = writeOnnx(exportQdq(r.model, r.tensors).model);
    const src = await quantizedSource(qdqBytes, 'fmnist_qdq.onnx');
    expect(src.source.kind).toBe('onnx');
    expect(src.float!.graph.nodes.some((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear')).toBe(false);
    const feeds = { [input.name]: { shape: [1, ...samples.sampleShape], data: samples.sample(3) } };
    const a = await createFloatSession(r.model);
    const b = await createFloatSession(src.float!, { extraOutputs: ['/Relu_output_0'] });
    const [ya, yb] = [await a.run(feeds), await b.run(feeds)];
    const out = model.graph.outputs[0].name;
    // Only the weights' rounding remains: far from the int8 error, but not zero.
    // The float model names a graph output after the tensor its Q/DQ pair quantized.
    const floatOut = src.aliases(out).find((n) => yb[n])!;
    expect(src.aliases(floatOut)).toContain(out);
    const db = sqnrDb(ya[out].data, yb[floatOut].data);
    expect(db).toBeGreaterThan(25);
    expect(db).toBeLessThan(Infinity);
    expect(yb['/Relu_output_0'].data.length).toBeGreaterThan(0);
    await Promise.all([a.release(), b.release()]);
  });
  it('reads the Vitis AI RetinaFace QDQ with a float model behind it', async () => {
    const src = await quantizedSource(new Uint8Array(readFileSync('public/models/retinaface_vitis_qdq.onnx')), 'retinaface_vitis_qdq.onnx');
    expect(src.float!.graph.nodes.filter((n) => n.opType === 'DequantizeLinear' || n.opType === 'QuantizeLinear')).toEqual([]);
  });
});

describe('sample runner', () => {
  it('one fmnist sample: int8 vs float top-5, every DPU tensor exact vs fake-quant with an SQNR, the compile estimate; cancel rejects', async () => {
    const model = openModel(new Uint8Array(readFileSync(FMNIST)), 'fmnist_seed000.onnx');
    const input = model.graph.inputs[0];
    const spec = inputSpecFromShape(input.name, input.shape ?? []);
    const samples = limitSamples(samplesFromArray(parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy'))), spec), 32);
    const r = await quantizeModel(model, () => batches(samples, spec), parseQuantConfig({}), { skipEvaluation: true });
    // As the app does: the QDQ export plus the float model that was quantized.
    const src = await quantizedSource(writeOnnx(exportQdq(r.model, r.tensors).model), 'fmnist_qdq.onnx', writeOnnx(r.model));
    const sim = await prepareSimulation(src.source, targetByBoard('KV260'));
    const runner = new SampleRunner(sim, src.float, {}, src.aliases);
    try {
      const feeds = { [input.name]: { shape: [1, ...samples.sampleShape], data: samples.sample(5) } };
      const phases: string[] = [];
      const { report } = await runner.run(feeds, { onPhase: (p) => phases.push(p) });
      expect(phases).toEqual(['int8', 'fake-quant', 'float']);
      const out = report.outputs[0];
      expect(out.shape).toEqual([1, 10]);
      expect(out.top!.int8).toHaveLength(5);
      expect(out.top!.float).toHaveLength(5);
      expect(out.top!.int8[0].index).toBe(out.top!.float[0].index);
      expect(out.sqnrDb).toBeGreaterThan(15);
      // Every DPU layer's output, and the graph input as quantized for the DPU.
      expect(report.tensors.length).toBe(sim.compile.layers.filter((l) => l.device === 'DPU').length + sim.inputs.length);
      for (const t of report.tensors) {
        expect(t.identicalFraction, t.name).toBe(1);
        expect(t.maxLsb).toBe(0);
        // Every DPU tensor has its float twin, under one of its names.
        expect(Number.isFinite(t.sqnrDb) && t.sqnrDb > 10, `${t.name}: ${t.sqnrDb}`).toBe(true);
        expect(t.cosine, t.name).toBeGreaterThan(0.95);
        expect(t.cosine).toBeLessThanOrEqual(1 + 1e-12);
        expect(t.clippedFraction).toBeGreaterThanOrEqual(0);
        expect(t.clippedFraction).toBeLessThan(1);
        expect(t.floatClippedFraction).toBeGreaterThanOrEqual(0);
      }
      // The exported output's producer is renamed `logits_float`; the graph shows it as `logits`.
      const out0 = model.graph.outputs[0].name;
      expect(report.tensors.find((t) => t.name === `${out0}_float`)?.aliases).toContain(out0);
      const dpu = report.subgraphs.filter((sg) => sg.device === 'DPU');
      expect(dpu.length).toBe(sim.compile.dpuSubgraphNumber);
      // DPU subgraphs and CPU steps in the compiled (topological) order.
      expect(report.subgraphs.map((sg) => sg.name)).toEqual(sim.compile.subgraphs.filter((c) => c.device !== 'USER').map((c) => c.name));
      for (const sg of dpu) {
        expect(sg.macs).toBeGreaterThan(0);
        const compiled = sim.compile.subgraphs.find((c) => c.name === sg.name)!;
        expect(sg.estimateMs).toBeCloseTo(compiled.cost.seconds * 1e3, 9);
        // The simulator's counters equal the compiler's workload, per subgraph and per layer, in execution order.
        expect(sg.ops).toBe(compiled.cost.workload);
        expect(sg.estimateOps).toBe(compiled.cost.workload);
        expect(sg.layers!.length).toBe(compiled.layers.length);
        expect(sg.layers!.map((l) => l.name)).toEqual(compiled.layers.map((i) => sim.compile.layers[i].layer.name));
        for (const l of sg.layers!) {
          expect(l.ops, l.name).toBe(l.estimateOps);
          expect(l.estimateMs).toBeGreaterThanOrEqual(0);
        }
        expect(sg.layers!.reduce((a, l) => a + l.macs, 0)).toBe(sg.macs);
      }
      const ctl = new AbortController();
      ctl.abort();
      await expect(runner.run(feeds, { signal: ctl.signal })).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await runner.release();
    }
  });
});
