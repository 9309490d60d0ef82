// The float interpreter against onnxruntime-web on the committed sample models.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readOnnx } from '../../src/core/onnx/reader';
import { writeOnnx } from '../../src/core/onnx/writer';
import { planFloat } from '../../src/core/sim/float/interpreter';
import { compare, randomFeeds, runOrt } from './float-ort';

const MODELS = 'public/models/';

async function agree(file: string, tol: number, range: [number, number] = [0, 1]): Promise<void> {
  const bytes = new Uint8Array(readFileSync(MODELS + file));
  const model = readOnnx(bytes);
  const feeds = randomFeeds(model, 7, ...range);
  const mine = planFloat(model).run(feeds);
  const ref = await runOrt(bytes, feeds);
  expect(Object.keys(mine).sort()).toEqual(Object.keys(ref).sort());
  for (const [name, r] of Object.entries(ref)) {
    expect([...mine[name].shape], name).toEqual(r.shape);
    const { maxDiff, scale } = compare(mine[name], r);
    expect(scale, `${name} is all zeros: the comparison would prove nothing`).toBeGreaterThan(0);
    expect(maxDiff, `${name}: max |diff| ${maxDiff} at scale ${scale}`).toBeLessThanOrEqual(tol * scale);
  }
}

describe('float interpreter agrees with onnxruntime-web', () => {
  it('mnist-8', () => agree('mnist-8.onnx', 1e-5));
  it('fmnist_seed000 (raw 0..255 pixels)', () => agree('fmnist_seed000.onnx', 1e-5, [0, 255]));
  it('retinaface_vitis_qdq (QuantizeLinear/DequantizeLinear, Resize, computed Reshape)', () => agree('retinaface_vitis_qdq.onnx', 1e-5));
  it('yolox_nano at 416×416', () => agree('yolox_nano.onnx', 1e-4));

  it('every intermediate tensor of mnist-8', async () => {
    const bytes = new Uint8Array(readFileSync(MODELS + 'mnist-8.onnx'));
    const model = readOnnx(bytes);
    const plan = planFloat(model);
    const names = plan.activations.filter((n) => !model.graph.inputs.some((i) => i.name === n));
    // Exposing every tensor as a graph output makes onnxruntime report it.
    const exposed = writeOnnx({ ...model, graph: { ...model.graph, outputs: names.map((name) => ({ name, dtype: plan.dtypes.get(name) ?? 'float32' })) } });
    const feeds = randomFeeds(model, 3);
    const mine = plan.run(feeds, { outputs: names });
    const ref = await runOrt(exposed, feeds, names);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) {
      const { maxDiff, scale } = compare(mine[name], ref[name]);
      expect([...mine[name].shape], name).toEqual(ref[name].shape);
      expect(maxDiff, name).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1e-6));
    }
  });
});
