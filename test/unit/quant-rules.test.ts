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
  it('shift_bias below its lower bound without LeakyReLU: bound −(24 − (8 + shift_cut))', () => {
    // shift_cut = 2 + 0 − (−6) = 8, so shift_bias ≥ min(0, −(24 − 16)) = −8; 2 + 0 − 12 = −10 → b = 10
    const a = applyRules(qg(), new Map([...base(), ['x', 0], ['w', 2], ['r', -6], ['b', 12], ['z', -6], ['s', -6], ['p', -6], ['pz', -6], ['cat', -6]]));
    expect(a.adjustments).toEqual([expect.objectContaining({ tensor: 'b', from: 12, to: 10, rule: 'shift_bias' })]);
    expect(a.adjustments[0].reason).toContain('shift_bias = -10 < -8');
    // at the bound itself nothing moves
    expect(applyRules(qg(), new Map([...base(), ['x', 0], ['w', 2], ['r', -6], ['b', 10], ['z', -6], ['s', -6], ['p', -6], ['pz', -6], ['cat', -6]])).adjustments).toEqual([]);
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

describe('hard-sigmoid / hard-swish fused into a conv (§2)', () => {
  const fused = (act: 'HardSigmoid' | 'HardSwish') => buildQGraph(buildModel({
    opset: 14,
    inputs: { x: ['float32', [1, 2, 4, 4]] }, outputs: ['y'],
    initializers: { w: W(4, [2, 2, 1, 1]), b: W(2, [2]) },
    nodes: [
      { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], name: 'conv' },
      { op: act, inputs: ['c'], outputs: ['y'], name: 'act', attrs: act === 'HardSigmoid' ? { alpha: float(1 / 6), beta: float(0.5) } : {} },
    ],
  }).graph, () => true);
  const fps = (o: Record<string, number>) => new Map(Object.entries({ x: 4, w: 7, b: 7, c: 5, y: 7, ...o }));
  it('keeps the conv output before the nonlinearity as its own quantization point (hsigmoid_in)', () => {
    const q = fused('HardSigmoid');
    expect(q.layers).toHaveLength(1);
    expect(q.layers[0]).toMatchObject({ kind: 'conv', output: 'y', preActivation: 'c', internal: [] });
    expect(q.layers[0].activation?.opType).toBe('HardSigmoid');
    expect(q.points).toEqual(['x', 'c', 'y']);
  });
  it('hsigmoid output fix point ≥ 7: 6 → 7, 7 stays', () => {
    const a = applyRules(fused('HardSigmoid'), fps({ y: 6 }));
    expect(a.adjustments).toEqual([expect.objectContaining({ tensor: 'y', from: 6, to: 7, rule: 'hsigmoid' })]);
    expect(a.adjustments[0].reason).toContain('conv');
    expect(applyRules(fused('HardSigmoid'), fps({ y: 7 })).adjustments).toEqual([]);
  });
  it('hsigmoid input (the conv output) fix point ≥ 0: −1 → 0, 0 stays; shift_cut is taken against it', () => {
    // fp_in + fp_w = −2 + 3 = 1, so the raised position still has shift_cut = 1 − 0 ≥ 0
    const a = applyRules(fused('HardSigmoid'), fps({ x: -2, w: 3, b: 3, c: -1 }));
    expect(a.adjustments).toEqual([expect.objectContaining({ tensor: 'c', from: -1, to: 0, rule: 'hsigmoid' })]);
    expect(applyRules(fused('HardSigmoid'), fps({ x: -2, w: 3, b: 3, c: 0 })).adjustments).toEqual([]);
    // shift_cut against the pre-activation, not the output: 4 + 7 − 12 < 0 lowers c, y ≥ 7 is untouched
    const cut = applyRules(fused('HardSigmoid'), fps({ x: 2, w: 9, b: 9, c: 12, y: 7 }));
    expect(cut.adjustments).toEqual([expect.objectContaining({ tensor: 'c', from: 12, to: 11, rule: 'shift_cut' })]);
  });
  it('hsigmoid shift 14 + fp_in − fp_out ≥ 0 (reachable with a 16-bit output): 15 → 14, 14 stays', () => {
    const bitWidth = (t: string) => (t === 'y' ? 16 : 8);
    const a = applyRules(fused('HardSigmoid'), fps({ x: -2, w: 2, b: 2, c: 0, y: 15 }), { bitWidth });
    expect(a.adjustments).toEqual([expect.objectContaining({ tensor: 'y', from: 15, to: 14, rule: 'hsigmoid' })]);
    expect(applyRules(fused('HardSigmoid'), fps({ x: -2, w: 2, b: 2, c: 0, y: 14 }), { bitWidth }).adjustments).toEqual([]);
  });
  it('hswish fp_out ≤ fp(conv output) + 7: 13 → 12 with c = 5 (16-bit output), 12 stays', () => {
    const bitWidth = (t: string) => (t === 'y' ? 16 : 8);
    const a = applyRules(fused('HardSwish'), fps({ c: 5, y: 13 }), { bitWidth });
    expect(a.adjustments).toEqual([expect.objectContaining({ tensor: 'y', from: 13, to: 12, rule: 'hswish' })]);
    expect(applyRules(fused('HardSwish'), fps({ c: 5, y: 12 }), { bitWidth }).adjustments).toEqual([]);
    // hard-swish has no fp_out ≥ 7 floor
    expect(applyRules(fused('HardSwish'), fps({ c: 2, y: 3 })).adjustments).toEqual([]);
  });
  it('fused into an add: shift_write is taken against the sum (hsigmoid_in), the limits against the output', () => {
    const q = buildQGraph(buildModel({
      opset: 14,
      inputs: { a: ['float32', [1, 4]], b: ['float32', [1, 4]] }, outputs: ['y'],
      nodes: [
        { op: 'Add', inputs: ['a', 'b'], outputs: ['s'], name: 'add' },
        { op: 'HardSigmoid', inputs: ['s'], outputs: ['y'], name: 'hs', attrs: { alpha: float(1 / 6), beta: float(0.5) } },
      ],
    }).graph, () => true);
    expect(q.layers[0]).toMatchObject({ kind: 'add', preActivation: 's', output: 'y' });
    const a = applyRules(q, new Map([['a', 4], ['b', 4], ['s', 5], ['y', 6]]));
    expect(a.adjustments).toEqual([expect.objectContaining({ tensor: 'y', from: 6, to: 7, rule: 'hsigmoid' })]);
    // shift_write = −12 − 4 = −16 < −15 moves the sum's position, not the output's
    const w = applyRules(q, new Map([['a', -12], ['b', -12], ['s', 4], ['y', 7]]));
    expect(w.adjustments[0]).toMatchObject({ tensor: 's', from: 4, to: 3, rule: 'shift_write' });
    expect(w.fps.get('y')).toBe(7);
  });
  it('Conv → Sigmoid with the hard-sigmoid conversion: the output gets fp 7 and the change is recorded', async () => {
    const { parseQuantConfig } = await import('../../src/core/quant/config');
    const { quantizeModel } = await import('../../src/core/quant/quantize');
    const rand = (n: number, seed: number, scale = 1) => {
      let s = seed >>> 0;
      return Float32Array.from({ length: n }, () => (((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1) * scale);
    };
    const m = buildModel({
      inputs: { x: ['float32', ['N', 2, 8, 8]] }, outputs: ['s'],
      initializers: { w0: tensor('float32', [4, 2, 3, 3], rand(72, 1, 5)), b0: tensor('float32', [4], rand(4, 2, 0.2)) },
      nodes: [
        { op: 'Conv', inputs: ['x', 'w0', 'b0'], outputs: ['c'], name: 'conv', attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Sigmoid', inputs: ['c'], outputs: ['s'], name: 'sig' },
      ],
    });
    const batch = { x: { shape: [8, 2, 8, 8], data: rand(8 * 128, 9, 3) } };
    const r = await quantizeModel(m, [batch], parseQuantConfig({ convert_sigmoid_to_hsigmoid: true }), { skipEvaluation: true });
    expect(r.model.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'HardSigmoid']);
    const s = r.tensors.get('s')!;
    // calibration alone picks 6 for values in (0, 1); the DPU needs 7
    expect(s.calibratedFixPoint).toBe(6);
    expect(s.fixPoint).toBe(7);
    expect(r.adjustments).toContainEqual(expect.objectContaining({ tensor: 's', from: 6, to: 7, rule: 'hsigmoid' }));
    const c = r.tensors.get('c')!;
    expect(c.dataType).toBe('activation');
    expect(c.fixPoint).toBeGreaterThanOrEqual(0);
  });
});

describe('global pools keep fp_in = fp_out (§3)', () => {
  for (const op of ['GlobalAveragePool', 'GlobalMaxPool', 'AveragePool']) {
    it(op, () => {
      const m = buildModel({
        inputs: { x: ['float32', [1, 2, 4, 4]] }, outputs: ['y'],
        nodes: [{ op, inputs: ['x'], outputs: ['y'], name: 'pool', attrs: op === 'AveragePool' ? { kernel_shape: [2, 2] } : {} }],
      });
      const q = buildQGraph(m.graph, () => true);
      const a = applyRules(q, new Map([['x', 4], ['y', 6]]));
      expect(a.fps.get('y')).toBe(4);
      expect(a.adjustments).toEqual([expect.objectContaining({ tensor: 'y', from: 6, to: 4, rule: 'pool' })]);
      const b = applyRules(q, new Map([['x', 5], ['y', 3]]));
      expect(b.adjustments).toEqual([expect.objectContaining({ tensor: 'x', from: 5, to: 3, rule: 'pool' })]);
      expect(applyRules(q, new Map([['x', 4], ['y', 6]]), { alignPool: false }).adjustments).toEqual([]);
    });
  }
});
