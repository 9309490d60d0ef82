// The tensor inspection measures with known answers: cosine vs float, the clipped fractions (int8 codes
// at −128/127, float values beyond the grid's edges), the positions where two int8 runs differ, the
// readout under the cursor and the difference overlay of the tensor view, and the graph painting's scales.
import { describe, expect, it } from 'vitest';
import { addVsFloat, cosineSimilarity, differingPositions, edgeFraction, emptyVsFloat, floatClippedFraction, positionOf, sumVsFloat, vsFloatMeasures } from '../../src/core/sim/metrics';
import { simReport, sqnrDb } from '../../src/core/sim/report';
import { readAt, tensorView } from '../../src/core/demo/tensorview';

describe('cosine similarity', () => {
  it('is 1 for a scaled copy, 0 for orthogonal, −1 for the negation, with the dequantizing scale applied', () => {
    expect(cosineSimilarity([1, 2, 3], [2, 4, 6], 0.5)).toBeCloseTo(1, 12);
    expect(cosineSimilarity([1, 0], [0, 5])).toBe(0);
    expect(cosineSimilarity([1, -2], [-4, 8], 0.25)).toBeCloseTo(-1, 12);
    // [1, 1] against [1, 0]: cos 45°
    expect(cosineSimilarity([1, 1], [4, 0], 0.25)).toBeCloseTo(Math.SQRT1_2, 12);
  });
  it('handles all-zero tensors and refuses unequal lengths', () => {
    expect(cosineSimilarity([0, 0], [0, 0])).toBe(1);
    expect(cosineSimilarity([0, 0], [1, 0])).toBe(0);
    expect(Number.isNaN(cosineSimilarity([1], [1, 2]))).toBe(true);
    expect(Number.isNaN(cosineSimilarity([], []))).toBe(true);
  });
});

describe('clipped fractions', () => {
  it('counts int8 codes at −128 and 127', () => {
    expect(edgeFraction(Int8Array.from([-128, 127, 126, -127, 0, 127, 5, 1]))).toBe(3 / 8);
    expect(edgeFraction(new Int8Array(0))).toBe(0);
  });
  it('counts float values that round beyond the grid of fix point fp', () => {
    // fp 4: step 1/16, grid [−8, 7.9375]; rounding (half up) reaches code 128 at 7.96875, code −129 below −8.03125
    const f = [-8.04, -8.03, -8, 0, 7.9375, 7.96, 7.97, 100];
    expect(floatClippedFraction(f, 4)).toBe(3 / 8);
    // fp −2: step 4, grid [−512, 508]
    expect(floatClippedFraction([-515, -514, 509, 510, 0], -2)).toBe(2 / 5);
    expect(Number.isNaN(floatClippedFraction([], 3))).toBe(true);
  });
});

describe('differing positions', () => {
  it('lists the differing flat indices, their count and the largest difference', () => {
    const a = Int8Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    const b = Int8Array.from([0, 2, 2, 3, 1, 5, 6, 8]);
    expect(differingPositions(a, b)).toEqual({ count: 3, indices: [1, 4, 7], maxLsb: 3 });
    expect(differingPositions(a, b, 2)).toEqual({ count: 3, indices: [1, 4], maxLsb: 3 });
    expect(differingPositions(a, a)).toEqual({ count: 0, indices: [], maxLsb: 0 });
    expect(() => differingPositions(a, new Int8Array(3))).toThrow(/8 values against 3/);
  });
  it('maps a flat index of [1, C, H, W] (or a vector) to channel, y, x', () => {
    expect(positionOf([1, 2, 3, 4], 0)).toEqual([0, 0, 0]);
    expect(positionOf([1, 2, 3, 4], 17)).toEqual([1, 1, 1]);
    expect(positionOf([1, 10], 7)).toEqual([0, 0, 7]);
    expect(positionOf([1, 3, 5], 7)).toEqual([1, 0, 2]);
  });
});

describe('report columns', () => {
  it('adds cosine and the clipped fractions to each tensor', () => {
    const run = {
      outputs: {},
      tensors: new Map([['t', { name: 't', shape: [1, 4], fixPoint: 1, q: new Int8Array([127, 4, -128, 0]), subgraph: 'sg0' }]]),
      subgraphs: [],
      ms: 0,
    };
    // step 0.5: codes dequantize to [63.5, 2, −64, 0]; float beyond [−64.25, 63.75): 70 and −65
    const float = { t: { shape: [1, 4], data: new Float32Array([70, 2, -65, 0]) } };
    const r = simReport(run, [{ name: 't', fixPoint: 1, identicalFraction: 1, maxLsb: 0 }], float, new Map(), { sim: 0, fakeQuant: 0, float: 0 });
    const dot = 70 * 63.5 + 4 + 65 * 64;
    expect(r.tensors[0].cosine).toBeCloseTo(dot / Math.sqrt((70 ** 2 + 4 + 65 ** 2) * (63.5 ** 2 + 4 + 64 ** 2)), 6);
    expect(r.tensors[0].clippedFraction).toBe(0.5);
    expect(r.tensors[0].floatClippedFraction).toBe(0.5);
    const none = simReport(run, [{ name: 't', fixPoint: 1, identicalFraction: 1, maxLsb: 0 }], {}, new Map(), { sim: 0, fakeQuant: 0, float: 0 });
    expect(Number.isNaN(none.tensors[0].cosine)).toBe(true);
    expect(none.tensors[0].clippedFraction).toBe(0.5);
  });
});

describe('tensor view readout and difference overlay', () => {
  // [1, 2, 2, 3] at fix point 2; two tiles side by side (cols 2), a 1-pixel gap at x = 3
  const q = Int8Array.from([0, 1, 2, 3, 4, 5, -6, -5, -4, -3, -2, -1]);
  const float = Float32Array.from(q, (v) => v / 4 + 0.1);
  it('reads float, int8 code, fix point and the dequantized value under the cursor', () => {
    const v = tensorView('t', [1, 2, 2, 3], 2, q, float);
    expect(readAt(v, 1, 1)).toEqual({ channel: 0, y: 1, x: 1, code: 4, dequantized: 1, fixPoint: 2, float: expect.closeTo(1.1, 6) });
    expect(readAt(v, 5, 0)).toMatchObject({ channel: 1, y: 0, x: 1, code: -5, dequantized: -1.25 });
    expect(readAt(v, 3, 0)).toBeUndefined();
    expect(readAt(v, 7, 0)).toBeUndefined();
    expect(readAt(v, 0, 2)).toBeUndefined();
    expect(v.differ).toBeUndefined();
  });
  it('marks where the other run differs and counts it', () => {
    const other = q.slice();
    other[4] = 3;
    other[11] = 1;
    const v = tensorView('t', [1, 2, 2, 3], 2, q, float, { name: 'fake-quant', q: other });
    expect(v.differ).toMatchObject({ against: 'fake-quant', count: 2, total: 12, maxLsb: 2, positions: [[0, 1, 1], [1, 1, 2]] });
    const alpha = (x: number, y: number) => v.differ!.overlay[(y * v.width + x) * 4 + 3];
    expect(alpha(1, 1)).toBe(255);
    expect(alpha(6, 1)).toBe(255);
    let marked = 0;
    for (let i = 3; i < v.differ!.overlay.length; i += 4) if (v.differ!.overlay[i]) marked++;
    expect(marked).toBe(2);
    expect(readAt(v, 1, 1)).toMatchObject({ code: 4, other: 3 });
    const same = tensorView('t', [1, 2, 2, 3], 2, q, float, { name: 'fake-quant', q: q.slice() });
    expect(same.differ).toMatchObject({ count: 0, positions: [] });
    expect(() => tensorView('t', [1, 2, 2, 3], 2, q, float, { name: 'fake-quant', q: new Int8Array(3) })).toThrow(/fake-quant has 3 values, int8 12/);
  });
});

describe('graph painting', () => {
  it('colour scales: green is good, grey is not measured', async () => {
    const { metricColor, metricStops, NOT_SIMULATED } = await import('../../src/ui/sim/paint');
    expect(metricColor('maxLsb', 0)).toBe('#1f8a4c');
    expect(metricColor('maxLsb', 1)).not.toBe(metricColor('maxLsb', 0));
    expect(metricColor('maxLsb', 2)).toBe(metricColor('maxLsb', 3));
    expect(metricColor('maxLsb', 9)).toBe(metricColor('maxLsb', 4));
    expect(metricColor('identical', 1)).toBe('#1f8a4c');
    expect(metricColor('identical', 0.5)).toBe(metricColor('maxLsb', 4));
    expect(metricColor('sqnr', Infinity)).toBe('#1f8a4c');
    expect(metricColor('cosine', 1)).toBe('#1f8a4c');
    expect(metricColor('cosine', 0.5)).toBe('hsl(0, 65%, 45%)');
    expect(metricColor('sqnr', NaN)).toBe(NOT_SIMULATED);
    expect(metricColor('cosine', undefined)).toBe(NOT_SIMULATED);
    for (const m of ['sqnr', 'cosine', 'maxLsb', 'identical'] as const) expect(metricStops(m).length).toBeGreaterThanOrEqual(4);
  });
  it('a node shows the tensor it produces, its fused activation\'s, or the one named like it; an edge its tensor by any alias', async () => {
    const { reportOfNode, reportOfTensor, simNodeColor } = await import('../../src/ui/sim/paint');
    const tr = (name: string, aliases: string[], maxLsb: number) => ({
      name, aliases, subgraph: 'sg', shape: [1, 1], fixPoint: 0, identicalFraction: maxLsb ? 0.5 : 1, maxLsb, sqnrDb: 30, cosine: 1, clippedFraction: 0, floatClippedFraction: 0,
    });
    const report = { outputs: [], subgraphs: [], ms: { sim: 0, fakeQuant: 0, float: 0 }, tensors: [tr('relu_out', ['relu_out_DequantizeLinear'], 0), tr('fc', [], 3)] } as never;
    const node = (id: string, label: string, outs: string[]) => ({ id, kind: 'op', label, name: id, domain: '', category: 'other', unknown: false, weights: [], summary: [], attrs: [], inputs: [], outputs: outs.map((tensor) => ({ tensor })), folded: [], subgraphs: [] });
    const graph = {
      name: 'g',
      nodes: [node('conv', 'Conv', ['conv_out']), node('relu', 'Relu', ['relu_out_DequantizeLinear']), node('fc', 'Gemm', ['y']), node('soft', 'Softmax', ['p'])],
      edges: [{ id: 'e1', source: 'conv', target: 'relu', tensor: 'conv_out', label: '' }, { id: 'e2', source: 'relu', target: 'fc', tensor: 'relu_out_DequantizeLinear', label: '' }, { id: 'e3', source: 'fc', target: 'soft', tensor: 'y', label: '' }],
    } as never;
    expect(reportOfNode(report, graph, 'relu')?.name).toBe('relu_out');
    expect(reportOfNode(report, graph, 'conv')?.name).toBe('relu_out');
    expect(reportOfNode(report, graph, 'fc')?.name).toBe('fc');
    expect(reportOfNode(report, graph, 'soft')).toBeUndefined();
    expect(reportOfTensor(report, graph, 'relu_out_DequantizeLinear')?.name).toBe('relu_out');
    expect(reportOfTensor(report, graph, 'conv_out')).toBeUndefined();
    const g = graph as { nodes: never[] };
    expect(simNodeColor(report, graph, 'maxLsb', g.nodes[2])).toBe('#e8711a');
    expect(simNodeColor(report, graph, 'maxLsb', g.nodes[3])).toBe('#cfd3d8');
  });
});

describe('measures over many samples (fixpoint simulate --json)', () => {
  it('are those of all samples as one vector, however the samples were grouped', () => {
    const fp = 3;
    const q = Int8Array.from({ length: 60 }, (_, i) => (i === 7 ? 127 : i === 8 ? -128 : ((i * 37) % 200) - 100));
    const f = Float32Array.from(q, (x, i) => x / 8 + (i % 5 - 2) * 0.05 + (i === 9 ? 40 : 0));
    const one = emptyVsFloat();
    for (let s = 0; s < 60; s += 20) addVsFloat(one, q.subarray(s, s + 20), fp, f.subarray(s, s + 20));
    const m = vsFloatMeasures(one);
    expect(m.cosine).toBeCloseTo(cosineSimilarity(f, q, 2 ** -fp), 12);
    expect(m.sqnrDb).toBeCloseTo(sqnrDb(f, q, 2 ** -fp), 10);
    expect(m.clippedInt8).toBe(edgeFraction(q));
    expect(m.clippedFloat).toBe(floatClippedFraction(f, fp));
    expect(m.clippedFloat).toBeGreaterThan(0);
    // The same samples in two shards merged in order: the same bits.
    const a = emptyVsFloat(), b = emptyVsFloat();
    addVsFloat(a, q.subarray(0, 20), fp, f.subarray(0, 20));
    for (let s = 20; s < 60; s += 20) addVsFloat(b, q.subarray(s, s + 20), fp, f.subarray(s, s + 20));
    expect(vsFloatMeasures(sumVsFloat(a, b))).toEqual(m);
  });
  it('without a float twin: the int8 clipped fraction only, the others NaN', () => {
    const s = emptyVsFloat();
    addVsFloat(s, Int8Array.of(127, 0, 0, -128), 0);
    addVsFloat(s, Int8Array.of(1, 2), 0, Float32Array.of(1, 2, 3));
    const m = vsFloatMeasures(s);
    expect(m.clippedInt8).toBe(2 / 6);
    expect([m.cosine, m.sqnrDb, m.clippedFloat].every(Number.isNaN)).toBe(true);
  });
});
