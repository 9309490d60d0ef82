// mnist-8 through the float interpreter on real digits from the `mnist` package (the model scores
// 99.5 % on them with onnxruntime).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { readOnnx } from '../../src/core/onnx/reader';
import { planFloat } from '../../src/core/sim/float/interpreter';

interface Digit { readonly length: number; get(i: number): number[] }
const digits = createRequire(import.meta.url)('mnist') as Digit[];

describe('mnist-8 in the float interpreter', () => {
  it('classifies ≥ 98 % of 500 test digits (50 of each class)', () => {
    const model = readOnnx(new Uint8Array(readFileSync('public/models/mnist-8.onnx')));
    const plan = planFloat(model);
    const input = model.graph.inputs[0].name;
    const output = model.graph.outputs[0].name;
    let right = 0, total = 0;
    for (let label = 0; label < 10; label++) {
      const d = digits[label];
      // The last 50 of each class, a fixed deterministic subset.
      for (let i = d.length - 50; i < d.length; i++) {
        const logits = plan.run({ [input]: { shape: [1, 1, 28, 28], data: Float32Array.from(d.get(i)) } })[output].data;
        let best = 0;
        for (let k = 1; k < 10; k++) if (logits[k] > logits[best]) best = k;
        if (best === label) right++;
        total++;
      }
    }
    expect(total).toBe(500);
    expect(right / total).toBeGreaterThanOrEqual(0.98);
  });
});
