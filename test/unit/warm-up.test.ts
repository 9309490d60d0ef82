// The model worker's warm-up models must open, draw and lay out, or the warm-up stops at its first error and
// leaves the code a user's first file runs cold, without anyone noticing.
import { describe, expect, it } from 'vitest';
import { openModel } from '../../src/core/open';
import { toDisplayGraph } from '../../src/core/view/display';
import { layoutInput } from '../../src/core/view/layout';
import { layoutLayered } from '../../src/core/view/layered';
import { warmUpModels } from '../../workers/warm-up';

describe('model worker warm-up', () => {
  it('opens, draws and lays out every warm-up model, with every output shape known', () => {
    const ops = new Set<string>();
    for (const { name, bytes } of warmUpModels()) {
      const m = openModel(bytes, name);
      const g = toDisplayGraph(m);
      const l = layoutLayered(layoutInput(g));
      for (const n of g.nodes) expect(l.boxes[n.id], `${name}: ${n.id}`).toBeDefined();
      for (const n of m.graph.nodes) {
        ops.add(n.opType);
        for (const o of n.outputs) expect(m.graph.valueInfo.get(o)?.shape, `${name}: ${n.opType} ${o}`).toBeDefined();
      }
    }
    // The ops of the sample models (issue 13's first-open set), each run at least once.
    for (const op of ['Conv', 'Relu', 'Add', 'Mul', 'Sigmoid', 'GlobalAveragePool', 'Gemm', 'BatchNormalization', 'Clip', 'MaxPool',
      'AveragePool', 'Concat', 'Resize', 'Slice', 'Reshape', 'Transpose', 'Softmax', 'QuantizeLinear', 'DequantizeLinear', 'LeakyRelu', 'Flatten']) {
      expect(ops.has(op), op).toBe(true);
    }
  });
});
