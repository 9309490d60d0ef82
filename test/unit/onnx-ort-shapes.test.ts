// Shape inference against onnxruntime: every node output is exposed as a graph output with the dtype
// we inferred; onnxruntime must accept those dtypes and report the shapes we inferred.
import { existsSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/core/ir';
import { readOnnx } from '../../src/core/onnx/reader';
import { writeOnnx } from '../../src/core/onnx/writer';
import { SHARED_ONNX } from '../shared';

ort.env.wasm.numThreads = 1;

async function check(path: string): Promise<number> {
  const model: Model = readOnnx(new Uint8Array(readFileSync(path)));
  const g = model.graph;
  const names = [...new Set(g.nodes.flatMap((n) => n.outputs).filter((o) => o && !g.initializers.has(o)))];
  const outputs = names.map((name) => {
    const info = g.valueInfo.get(name);
    expect(info?.shape, `${name} has no inferred shape`).toBeDefined();
    return info!;
  });
  const exposed = writeOnnx({ ...model, graph: { ...g, outputs } });
  const session = await ort.InferenceSession.create(exposed, { graphOptimizationLevel: 'disabled' });
  try {
    const feeds = Object.fromEntries(g.inputs.map((i) => {
      const shape = (i.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
      const n = shape.reduce((a, b) => a * b, 1);
      return [i.name, new ort.Tensor('float32', new Float32Array(n).map((_, k) => ((k * 7919) % 255) / 255), shape)];
    }));
    const res = await session.run(feeds, names);
    for (const o of outputs) expect(res[o.name].dims.map(Number), o.name).toEqual(o.shape);
  } finally {
    await session.release();
  }
  return outputs.length;
}

describe('inferred shapes match onnxruntime on every edge', () => {
  it('mnist-8', async () => expect(await check('public/models/mnist-8.onnx')).toBe(12));
  it('retinaface_vitis_qdq (QDQ, Shape→Gather→Concat→Reshape, Resize)', async () => {
    expect(await check('public/models/retinaface_vitis_qdq.onnx')).toBeGreaterThan(1000);
  });
  const shared = SHARED_ONNX + '/mobilenet_v3_small_random.onnx';
  it.skipIf(!existsSync(shared))('mobilenet_v3_small (HardSwish, HardSigmoid, squeeze-excite)', async () => {
    expect(await check(shared)).toBeGreaterThan(100);
  });
});
