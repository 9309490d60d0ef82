// Observed tensors read off other observed tensors instead of fetched from onnxruntime (calibrate/derive.ts):
// a Concat's parts are its output's values in order, and calibration gives the same statistics as when every
// observed tensor is fetched.
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { FloatTensor } from '../../src/core/ir';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { readOnnx } from '../../src/core/onnx/reader';
import { buildQGraph, defaultQuantConfig, prepareModel } from '../../src/core/quant';
import { concatParts, derivedTensors, setDerivedTensors, valuesOf } from '../../src/core/quant/calibrate/derive';
import { parseQuantConfig } from '../../src/core/quant/config';
import { quantizeModel } from '../../src/core/quant/quantize';
import { randomInputs, residualNet, rng } from './dpu-sim-nets';

afterEach(() => setDerivedTensors(true));

const ft = (shape: number[], seed: number): FloatTensor => {
  const r = rng(seed);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1) };
};

/** numpy.concatenate, written plainly: output index by index. */
function concatRef(src: FloatTensor[], axis: number): Float32Array {
  const a = axis < 0 ? axis + src[0].shape.length : axis;
  const outer = src[0].shape.slice(0, a).reduce((x, y) => x * y, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) for (const s of src) { const b = s.data.length / outer; for (let i = 0; i < b; i++) out.push(s.data[o * b + i]); }
  return Float32Array.from(out);
}

const joined = (parts: Float32Array[]) => {
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return all;
};

/** Statistics of YOLOX-nano's calibration on `count` deterministic images. */
async function yoloxStats(count: number) {
  const model = readOnnx(new Uint8Array(readFileSync('public/models/yolox_nano.onnx')));
  const name = model.graph.inputs[0].name;
  const feeds = Array.from({ length: count }, (_, k) => {
    const d = new Float32Array(3 * 416 * 416);
    for (let i = 0; i < d.length; i++) d[i] = (i * 7919 + k * 104729 + ((i / 416) | 0) * 31) % 256;
    return { [name]: { shape: [1, 3, 416, 416], data: d } };
  });
  const r = await quantizeModel(model, () => feeds, parseQuantConfig({ include_bias_corr: false }), { skipEvaluation: true });
  return { stats: r.session.stats, fps: Object.fromEntries([...r.tensors.values()].map((t) => [t.name, t.fixPoint])) };
}

describe('tensors derived from other observed tensors', () => {
  it('reads a Concat as its inputs\' blocks in order: in place, or copied when the blocks are many', () => {
    const cases: [number[][], number][] = [
      [[[1, 3, 4, 5], [1, 2, 4, 5]], 1], // one block each: the inputs themselves
      [[[2, 3, 4, 5], [2, 1, 4, 5], [2, 2, 4, 5]], 1], // two samples: six subarrays
      [[[2, 3, 4, 5], [2, 3, 2, 5]], 2], // 6 × 2 blocks
      [[[2, 8, 4, 5], [2, 8, 4, 3]], -1], // 64 × 2 blocks: copied into one array
    ];
    cases.forEach(([shapes, axis], k) => {
      const src = shapes.map((s, i) => ft(s, 10 * k + i));
      const parts = concatParts(src, axis);
      expect(joined(parts)).toEqual(concatRef(src, axis));
      if (k === 0) expect(parts[0]).toBe(src[0].data);
      if (k === 1) { expect(parts.length).toBe(6); expect(parts[1].buffer).toBe(src[1].data.buffer); }
      if (k === 3) expect(parts.length).toBe(1);
    });
  });

  it('derives Concats and reshapes of fetched tensors only', () => {
    const m = buildModel({
      name: 'derive',
      inputs: { x: ['float32', [1, 2, 4, 4]] },
      outputs: ['z'],
      initializers: { k: tensor('float32', [1, 2, 4, 4], new Float32Array(32)), shp: tensor('int64', [2], [1, 64]) },
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['a'] },
        { op: 'Sigmoid', inputs: ['x'], outputs: ['b'] },
        { op: 'Concat', inputs: ['a', 'b'], outputs: ['c'], attrs: { axis: 1 } },
        { op: 'Concat', inputs: ['c', 'a'], outputs: ['d'], attrs: { axis: 1 } }, // from a derived one: fetched
        { op: 'Concat', inputs: ['a', 'k'], outputs: ['e'], attrs: { axis: 1 } }, // a constant input: fetched
        { op: 'Reshape', inputs: ['b', 'shp'], outputs: ['f'] },
        { op: 'Concat', inputs: ['x', 'b'], outputs: ['g'], attrs: { axis: 1 } }, // the graph input is fed
        { op: 'Relu', inputs: ['d'], outputs: ['z'] },
      ],
    });
    const d = derivedTensors(m.graph, ['x', 'a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect([...d.keys()].sort()).toEqual(['c', 'f', 'g']);
    expect(d.get('f')).toEqual({ kind: 'same', sources: ['b'], axis: 0 });
    // Not observed: nothing is derived from it.
    expect([...derivedTensors(m.graph, ['a', 'c']).keys()]).toEqual([]);
    const out = { a: ft([1, 2, 4, 4], 1), b: ft([1, 2, 4, 4], 2) };
    expect(joined(valuesOf('c', out, d)!)).toEqual(concatRef([out.a, out.b], 1));
    expect(valuesOf('f', out, d)).toEqual([out.b.data]);
    expect(valuesOf('g', out, d)).toBeUndefined(); // a source missing from the run
    setDerivedTensors(false);
    expect(derivedTensors(m.graph, ['a', 'b', 'c']).size).toBe(0);
  });

  it('gives a residual network with a Concat the statistics of fetching every tensor', async () => {
    const model = residualNet(3);
    const { model: prepared } = prepareModel(model, defaultQuantConfig());
    const g = prepared.graph;
    const points = buildQGraph(g, (n) => !g.initializers.has(n)).points;
    expect([...derivedTensors(g, points).keys()]).toEqual(['cat']);
    const feeds = randomInputs(40, 5).map((d) => ({ x: { shape: [1, 3, 16, 16], data: d } }));
    const run = async () => {
      const r = await quantizeModel(model, () => feeds, parseQuantConfig({ include_bias_corr: false }), { skipEvaluation: true, engine: 'onnxruntime' });
      return { stats: r.session.stats, fps: Object.fromEntries([...r.tensors.values()].map((t) => [t.name, t.fixPoint])) };
    };
    const derived = await run();
    setDerivedTensors(false);
    const fetched = await run();
    expect(derived.stats.get('cat')!.count).toBe(40 * 16 * 8 * 8);
    expect(derived.stats).toEqual(fetched.stats);
    expect(derived.fps).toEqual(fetched.fps);
  });

  it.runIf(existsSync('public/models/yolox_nano.onnx'))('gives YOLOX-nano (17 Concats derived) the statistics of fetching every tensor', async () => {
    const derived = await yoloxStats(2);
    setDerivedTensors(false);
    const fetched = await yoloxStats(2);
    expect(derived.stats).toEqual(fetched.stats);
    expect(derived.fps).toEqual(fetched.fps);
  }, 120_000);
});
