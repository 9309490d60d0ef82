// The model worker's quantization session (workers/quant.ts) in Node: what the UI gets after a pin or a
// method change, the layer map for fused nodes, and the exported config.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readOnnx } from '../../src/core/onnx/reader';
import { parseQuantConfig, resolveParams } from '../../src/core/quant';
import {
  applyOverrides, exportArtifacts, runQuantize, setCalibration,
} from '../../workers/quant';

const model = readOnnx(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')));
const calib = [{ name: 'fmnist_calib200.npy', bytes: new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy')) }];
const conv = model.graph.nodes.find((n) => n.opType === 'Conv')!;
const relu = model.graph.nodes.find((n) => n.opType === 'Relu' && n.inputs[0] === conv.outputs[0])!;

describe('quant worker session', () => {
  it('measures the layers again after a pin, and clearing it restores the first measurement', async () => {
    setCalibration(model, calib, {}, 64);
    const first = await runQuantize(model, '{}');
    const act = relu.outputs[0];
    const before = first.layers.find((l) => l.output === act)!;
    expect(before.layer).toBe(conv.name);
    const calibrated = first.tensors[act].fixPoint;
    // fp=5 spans ±4: the ReLU output (tens, in raw-pixel units) clips wherever it is not near zero.
    const pinned = await applyOverrides({ fixPoints: { [act]: 5 } });
    expect(pinned.tensors[act].fixPoint).toBe(5);
    expect(pinned.tensors[act].clippedFraction).toBeGreaterThan(0.05);
    const after = pinned.layers.find((l) => l.output === act)!;
    expect(after.sqnrDb).toBeLessThan(before.sqnrDb - 10);
    expect(after.cosine).toBeLessThan(before.cosine);
    // The layer after it sees the clipped input too.
    const i = first.layers.findIndex((l) => l.output === act);
    expect(pinned.layers[i + 1].sqnrDb).not.toBe(first.layers[i + 1].sqnrDb);
    const cleared = await applyOverrides({});
    expect(cleared.tensors[act].fixPoint).toBe(calibrated);
    expect(cleared.layers).toEqual(first.layers);
  });

  it('a newer change cancels the measurement of an older one', async () => {
    const act = relu.outputs[0];
    const older = applyOverrides({ fixPoints: { [act]: 4 } });
    const newer = applyOverrides({ fixPoints: { [act]: 3 } });
    await expect(older).rejects.toMatchObject({ name: 'AbortError' });
    expect((await newer).tensors[act].fixPoint).toBe(3);
    await applyOverrides({});
  });

  it('maps a fused Relu to its Conv, the name layer configs use', async () => {
    const s = await applyOverrides({});
    expect(s.layerOf[relu.name]).toBe(conv.name);
    expect(s.layerOf[conv.name]).toBe(conv.name);
    // The Relu's output is governed by the Conv's layer config.
    expect(s.tensors[relu.outputs[0]].layer).toBe(conv.name);
  });

  it('writes method changes into the exported config; importing it gives the same methods', async () => {
    const w = conv.inputs[1];
    const act = relu.outputs[0];
    await runQuantize(model, JSON.stringify({ layer_quantize_config: [{ layer_type: 'Conv', quantizable_data_type: ['weights', 'bias', 'activation'], overall_quantize_config: { bit_width: 8 } }] }));
    await applyOverrides({ methods: { [w]: 'maxmin', [act]: 'percentile', [model.graph.inputs[0].name]: 'mse' }, fixPoints: { [act]: 2 } });
    const text = new TextDecoder().decode(exportArtifacts('config').bytes);
    const cfg = parseQuantConfig(text);
    const ref = { name: conv.name, opType: 'Conv' };
    expect(resolveParams(cfg, 'weights', ref)?.method).toBe('maxmin');
    expect(resolveParams(cfg, 'activation', ref)?.method).toBe('percentile');
    expect(resolveParams(cfg, 'bias', ref)?.method).toBe('diffs');
    expect(resolveParams(cfg, 'input')?.method).toBe('mse');
    // The by-type entry it replaced for this layer is kept in the new one, and still governs the others.
    const entry = cfg.layer_quantize_config.find((l) => l.layer_name === conv.name)!;
    expect(entry.overall_quantize_config).toEqual({ bit_width: 8 });
    expect(cfg.layer_quantize_config.some((l) => l.layer_type === 'Conv')).toBe(true);
    const dense = model.graph.nodes.find((n) => n.opType === 'Gemm' || n.opType === 'MatMul')!;
    expect(resolveParams(cfg, 'weights', { name: dense.name, opType: dense.opType })?.method).toBe('diffs');
  });
});
