import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readOnnx } from '../../src/core/onnx/reader';
import { parseNpy } from '../../src/core/data/npy';
import { inputSpecFromShape } from '../../src/core/data/preprocess';
import { batches, samplesFromArray } from '../../src/core/data/calib';
import { parseQuantConfig } from '../../src/core/quant/config';
import { quantizeModel, runFakeQuant } from '../../src/core/quant/quantize';
import { runFloat } from '../../src/core/sim/float/interpreter';

describe('accuracy on Fashion-MNIST', () => {
  it('fmnist_seed000 (raw pixels) calibrated on 200 images keeps top-1 within 1 point of float on 1000 others', async () => {
    const model = readOnnx(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')));
    const spec = inputSpecFromShape('image', model.graph.inputs[0].shape!);
    const calib = samplesFromArray(parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy'))), spec);
    const r = await quantizeModel(model, () => batches(calib, spec), parseQuantConfig({}), { skipEvaluation: true });
    expect(r.tensors.get('image')!.fixPoint).toBe(-1);
    const evalSet = samplesFromArray(parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000.npy'))), spec);
    const labels = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000_labels.npy'))).data as Uint8Array;
    const argmax = (d: Float32Array) => d.indexOf(Math.max(...d));
    let f = 0;
    let q = 0;
    for (let i = 0; i < evalSet.count; i++) {
      const feeds = { image: { shape: [1, 1, 28, 28], data: evalSet.sample(i) } };
      if (argmax(runFloat(model, feeds).logits.data) === labels[i]) f++;
      if (argmax(runFakeQuant(r.model, r.tensors, feeds).logits.data) === labels[i]) q++;
    }
    expect(f / 10).toBeGreaterThan(80); // the float model is a working classifier
    expect(Math.abs(f - q) / 10).toBeLessThanOrEqual(1);
  }, 180_000);
});
