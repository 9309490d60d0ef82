import { describe, expect, it } from 'vitest';
import { buildModel, float, tensor } from '../../src/core/onnx/build';
import { buildQGraph } from '../../src/core/quant/qgraph';
import { applyRules } from '../../src/core/quant/rules';

const W = (n: number, shape: number[]) => tensor('float32', shape, new Float32Array(n).fill(0.1));

function model(act: 'Relu' | 'LeakyRelu' = 'Relu') {
  return buildModel({
    inputs: { x: ['float32', [1, 2, 4, 4]], z: ['float32', [1, 2, 4, 4]] },
    outputs: ['y'],
    initializers: { w: W(36, [2, 2, 3, 3]), b: W(2, [2]) },
    nodes: [
      { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], name: 'conv', attrs: { pads: [1, 1, 1, 1] } },
      { op: act, inputs: ['c'], outputs: ['r'], name: 'act', attrs: act === 'LeakyRelu' ? { alpha: float(0.1015625) } : {} },
      { op: 'Add', inputs: ['r', 'z'], outputs: ['s'], name: 'add' },
      { op: 'MaxPool', inputs: ['s'], outputs: ['p'], name: 'pool', attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'MaxPool', inputs: ['z'], outputs: ['pz'], name: 'poolz', attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Concat', inputs: ['p', 'pz'], outputs: ['cat'], name: 'cat', attrs: { axis: 1 } },
      { op: 'Flatten', inputs: ['cat'], outputs: ['y'], name: 'flat' },
    ],
  });
}
const qg = (act?: 'Relu' | 'LeakyRelu') => buildQGraph(model(act).graph, () => true);

describe('quantization points', () => {
  it('fuses conv + relu into one layer and aliases shape ops', () => {
    const q = qg();
    expect([...q.points].sort()).toEqual(['cat', 'p', 'pz', 'r', 's', 'x', 'z']);
    expect(q.points.slice(0, 2)).toEqual(['x', 'z']);
    expect(q.layers[0]).toMatchObject({ kind: 'conv', output: 'r', internal: ['c'], weight: 'w', bias: 'b' });
    expect(q.alias.get('y')).toBe('cat');
  });
});

describe('§3 rules', () => {
  const base = () => new Map(Object.entries({ x: 4, z: 4, w: 7, b: 6, r: 5, s: 4, p: 4, pz: 4, cat: 4 }));
  it('leaves consistent fix points alone', () => {
    expect(applyRules(qg(), base()).adjustments).toEqual([]);
  });
  it('shift_cut < 0 lowers the output fix point; > 16 lowers the weight fix point', () => {
    const a = applyRules(qg(), new Map([...base(), ['w', 0], ['r', 6]]));
    expect(a.fps.get('r')).toBe(4);
    expect(a.adjustments[0]).toMatchObject({ tensor: 'r', from: 6, to: 4, rule: 'shift_cut' });
    const b = applyRules(qg(), new Map([...base(), ['x', 10], ['w', 12], ['r', 0], ['b', 12]]));
    expect(b.adjustments[0]).toMatchObject({ tensor: 'w', from: 12, to: 6, rule: 'shift_cut' });
  });
  it('shift_bias range: [min(0, −(24 − (8 + shift_cut))), 16], [0, 16] before LeakyReLU', () => {
    // an out-of-range bias position is first capped at 12; shift_bias = 11 − 12 = −1 is then within [−10, 16]
    const a = applyRules(qg(), new Map([...base(), ['b', 22]]));
    expect(a.adjustments).toEqual([expect.objectContaining({ tensor: 'b', from: 22, to: 12, rule: 'max_fp' }),]);
    const b = applyRules(qg(), new Map([...base(), ['x', 8], ['w', 8], ['r', 9], ['b', 0]]));
    expect(b.fps.get('b')).toBe(0); // 16 − 16 = 0: in range
    const c = applyRules(qg(), new Map([...base(), ['x', 8], ['w', 9], ['r', 9], ['b', 0]]));
    expect(c.adjustments[0]).toMatchObject({ tensor: 'b', to: 1, rule: 'shift_bias' });
    const leaky = applyRules(qg('LeakyRelu'), new Map([...base(), ['b', 12]]));
    expect(leaky.adjustments[0]).toMatchObject({ tensor: 'b', from: 12, to: 11, rule: 'shift_bias' });
    const relu = applyRules(qg('Relu'), new Map([...base(), ['b', 12]]));
    expect(relu.adjustments).toEqual([]);
  });
  it('add: shift_read ≤ 15 and shift_write within ±15', () => {
    const a = applyRules(qg(), new Map([...base(), ['z', -12], ['pz', -12], ['cat', -12], ['p', -12], ['s', -12]]));
    expect(a.adjustments.find((x) => x.rule === 'shift_read')).toMatchObject({ tensor: 'r', from: 5, to: 3 });
    const w = applyRules(qg(), new Map([...base(), ['s', -12], ['p', -12], ['cat', -12]]));
    expect(w.adjustments.find((x) => x.rule === 'shift_write')).toMatchObject({ tensor: 's', from: -12, to: -11 });
  });
  it('concat shares the smallest fix point; pool keeps fp_in = fp_out; max fp 12', () => {
    const a = applyRules(qg(), new Map([...base(), ['pz', 2], ['z', 2]]));
    expect(a.fps.get('cat')).toBe(2);
    expect(a.fps.get('p')).toBe(2);
    expect(a.fps.get('s')).toBe(2); // pool aligns its input with its output
    expect(a.adjustments.map((x) => x.rule)).toEqual(expect.arrayContaining(['concat', 'pool']));
    for (const adj of a.adjustments) expect(adj.reason.length).toBeGreaterThan(10);
    const m = applyRules(qg(), new Map([...base(), ['x', 15]]));
    expect(m.adjustments[0]).toMatchObject({ tensor: 'x', from: 15, to: 12, rule: 'max_fp' });
  });
});

describe('hard-sigmoid / hard-swish constraints (§2)', () => {
  const m = buildModel({
    opset: 14,
    inputs: { x: ['float32', [1, 4]], z: ['float32', [1, 4]] }, outputs: ['hs', 'sw'],
    nodes: [
      { op: 'HardSigmoid', inputs: ['x'], outputs: ['hs'], name: 'hsig', attrs: { alpha: 1 / 6, beta: 0.5 } },
      { op: 'HardSwish', inputs: ['z'], outputs: ['sw'], name: 'hswish' },
    ],
  });
  const q = buildQGraph(m.graph, () => true);
  it('hsigmoid: fp_in ≥ 0 and fp_out ≥ 7', () => {
    const a = applyRules(q, new Map([['x', -2], ['hs', 5], ['z', 4], ['sw', 4]]));
    expect(a.fps.get('x')).toBe(0);
    expect(a.fps.get('hs')).toBe(7);
    expect(a.adjustments.map((x) => x.rule)).toEqual(['hsigmoid', 'hsigmoid']);
  });
  it('hswish: fp_out ≤ fp_in + 7', () => {
    const a = applyRules(q, new Map([['x', 2], ['hs', 7], ['z', 1], ['sw', 10]]));
    expect(a.adjustments).toEqual([expect.objectContaining({ tensor: 'sw', from: 10, to: 8, rule: 'hswish' })]);
  });
});
