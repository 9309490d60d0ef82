// DPUCZDX8G support rules, one by one at their limits.
import { describe, expect, it } from 'vitest';
import {
  NO_CONVERSIONS, partition, targetByArch, layersOf, type Conversions, type Layer,
} from '../../src/core/compile';
import { buildModel, float, tensor } from '../../src/core/onnx/build';

const b4096 = targetByArch('B4096');

function layer(p: Partial<Layer>): Layer {
  return {
    id: 1, name: 'l', kind: 'conv', op: 'Conv', sourceOps: ['l'], inputs: [0], shape: [1, 8, 8, 16],
    inputShapes: [[1, 8, 8, 16]], tensor: 'l', weightElements: 0, graphOutput: false,
    kernel: [3, 3], stride: [1, 1], inChannels: 16, outChannels: 16, ...p,
  };
}

const check = (p: Partial<Layer>, c: Conversions = NO_CONVERSIONS) => b4096.supports(layer(p), c);
const reason = (p: Partial<Layer>, c: Conversions = NO_CONVERSIONS) => {
  const s = check(p, c);
  return s.ok ? 'ok' : s.reason;
};

describe('conv limits (B4096)', () => {
  it('kernel 16 ok, 17 not', () => {
    expect(reason({ kernel: [16, 16] })).toBe('ok');
    expect(reason({ kernel: [17, 17] })).toBe('Conv kernel 17×17 exceeds 16');
    expect(reason({ kernel: [1, 17] })).toMatch(/kernel 1×17 exceeds 16/);
  });

  it('stride 8 ok, 9 not', () => {
    expect(reason({ stride: [8, 8] })).toBe('ok');
    expect(reason({ stride: [9, 1] })).toMatch(/stride 9×1 exceeds 8/);
  });

  it('weight bank depth: kw·kh·ceil(ic/16) 2048 ok, 2049+ not', () => {
    // 16·16·ceil(128/16) = 2048
    expect(reason({ kernel: [16, 16], inChannels: 128 })).toBe('ok');
    // 16·16·ceil(129/16) = 2304
    expect(reason({ kernel: [16, 16], inChannels: 129 })).toBe('Conv: kw·kh·ceil(ic/16)=2304 > weight bank depth 2048');
    // 1·2049·ceil(16/16): the kernel limit speaks first, so use a shape that only breaks the bank: 3·3·ceil(3648/16)=2052
    expect(reason({ kernel: [3, 3], inChannels: 3632 })).toBe('ok'); // 9·227 = 2043
    expect(reason({ kernel: [3, 3], inChannels: 3648 })).toMatch(/=2052 > weight bank depth 2048/);
  });

  it('channels up to 256·16', () => {
    expect(reason({ kernel: [1, 1], inChannels: 4096, outChannels: 4096 })).toBe('ok');
    expect(reason({ kernel: [1, 1], inChannels: 16, outChannels: 4097 })).toMatch(/exceed 4096/);
    expect(reason({ kernel: [1, 1], inChannels: 4097, outChannels: 16 })).toMatch(/exceed 4096/);
  });

  it('a dense layer is bounded by the weight bank, not by 256·16 input channels', () => {
    const dense = { kind: 'dense' as const, op: 'Gemm', kernel: [1, 1] as [number, number] };
    // VGG-16 fc6 and the Fashion-MNIST tutorial's Flatten→Dense run on the DPU.
    expect(reason({ ...dense, inChannels: 25088, outChannels: 4096 })).toBe('ok');
    expect(reason({ ...dense, inChannels: 10816, outChannels: 128 })).toBe('ok');
    // ceil(32784/16) = 2049
    expect(reason({ ...dense, inChannels: 32784, outChannels: 10 })).toBe('Dense: kw·kh·ceil(ic/16)=2049 > weight bank depth 2048');
    expect(reason({ ...dense, inChannels: 64, outChannels: 4097 })).toMatch(/exceed 4096/);
  });

  it('padding up to (kernel−1)·dilation', () => {
    expect(reason({ kernel: [3, 3], pad: [2, 2, 2, 2] })).toBe('ok');
    expect(reason({ kernel: [3, 3], pad: [3, 0, 0, 0] })).toMatch(/padding 3,0,0,0 exceeds/);
  });

  it('a smaller DPU has a smaller weight bank reach', () => {
    // B1024: CP 8 → 16·16·ceil(72/8) = 2304
    expect(targetByArch('B1024').supports(layer({ kernel: [16, 16], inChannels: 72 }), NO_CONVERSIONS).ok).toBe(false);
    expect(b4096.supports(layer({ kernel: [16, 16], inChannels: 72 }), NO_CONVERSIONS).ok).toBe(true);
  });
});

describe('ALU limits: depthwise conv and pooling', () => {
  it('kernel and stride up to 256, pad top/left up to 15', () => {
    expect(reason({ kind: 'pool', poolType: 'max', kernel: [256, 1], stride: [256, 1] })).toBe('ok');
    expect(reason({ kind: 'pool', poolType: 'max', kernel: [257, 1] })).toMatch(/Max pool kernel 257×1 exceeds 256/);
    expect(reason({ kind: 'depthwise', kernel: [32, 32], pad: [15, 15, 15, 15] })).toBe('ok');
    expect(reason({ kind: 'depthwise', kernel: [32, 32], pad: [16, 0, 0, 0] })).toMatch(/padding top\/left 16\/0 exceeds 15/);
  });
});

describe('nonlinearities', () => {
  it('LeakyReLU: only slope 26/256', () => {
    expect(reason({ kind: 'activation', activation: { type: 'leaky_relu', alpha: 26 / 256 } })).toBe('ok');
    const s = check({ kind: 'activation', op: 'LeakyRelu', activation: { type: 'leaky_relu', alpha: 0.01 } });
    expect(s).toEqual({
      ok: false, reason: 'LeakyRelu slope 0.01 ≠ 26/256 (the only slope DPUCZDX8G computes)',
      fix: 'enable "LeakyReLU slope → 26/256" (or retrain with slope 0.1015625)',
    });
    expect(check({ kind: 'activation', activation: { type: 'leaky_relu', alpha: 0.01 } },
      { ...NO_CONVERSIONS, leakyReluToDpuSlope: true }).ok).toBe(true);
  });

  it('Sigmoid needs the hard-sigmoid conversion, SiLU the hard-swish one', () => {
    expect(check({ kind: 'activation', activation: { type: 'sigmoid' } })).toEqual({
      ok: false, reason: 'Sigmoid: not supported by DPUCZDX8G', fix: 'enable Sigmoid→hard-sigmoid',
    });
    expect(check({ kind: 'activation', activation: { type: 'sigmoid' } }, { ...NO_CONVERSIONS, sigmoidToHardSigmoid: true }).ok).toBe(true);
    expect(check({ kind: 'activation', activation: { type: 'silu' } })).toMatchObject({ ok: false, fix: 'enable SiLU→hard-swish' });
    expect(check({ kind: 'activation', activation: { type: 'silu' } }, { ...NO_CONVERSIONS, siluToHardSwish: true }).ok).toBe(true);
  });

  it('Clip other than (0, 6) stays on the CPU', () => {
    expect(reason({ kind: 'activation', activation: { type: 'relu6' } })).toBe('ok');
    expect(reason({ kind: 'activation', activation: { type: 'clip', min: -1, max: 1 } })).toMatch(/only Clip\(0, 6\)/);
  });
});

describe('element-wise, upsample, shape ops', () => {
  it('Mul by a constant runs (as a 1×1 depthwise conv), Mul of two tensors does not', () => {
    expect(reason({ kind: 'eltwise', eltwise: 'mul', constOperand: true })).toBe('ok');
    expect(reason({ kind: 'eltwise', eltwise: 'mul', constOperand: false })).toMatch(/Mul of two tensors/);
    expect(reason({ kind: 'eltwise', eltwise: 'add' })).toBe('ok');
  });

  it('bilinear upsample ×2 ok, ×3 not, align_corners not; nearest ×3 ok', () => {
    const up = (scale: number, mode: 'nearest' | 'bilinear', alignCorners = false) =>
      reason({ kind: 'upsample', op: 'Resize', upsample: { scaleH: scale, scaleW: scale, mode, alignCorners } });
    expect(up(2, 'bilinear')).toBe('ok');
    expect(up(8, 'bilinear')).toBe('ok');
    expect(up(3, 'bilinear')).toMatch(/only ×2, ×4, ×8/);
    expect(up(2, 'bilinear', true)).toMatch(/align_corners/);
    expect(up(3, 'nearest')).toBe('ok');
    expect(up(1.5, 'nearest')).toMatch(/only integer upsampling/);
  });

  it('transpose, softmax and custom ops run on the CPU with a reason', () => {
    expect(reason({ kind: 'other', op: 'Transpose' })).toMatch(/Transpose: transposes are shape operations/);
    expect(reason({ kind: 'other', op: 'Softmax' })).toMatch(/softmax runs on the CPU/);
    expect(reason({ kind: 'other', op: 'PPScatterV2' })).toBe('PPScatterV2: not supported by DPUCZDX8G');
  });
});

describe('ONNX front end', () => {
  const w = (oc: number, ic: number, k: number) => tensor('float32', [oc, ic, k, k], new Float32Array(oc * ic * k * k).fill(0.01));

  it('fuses Relu into Conv and rejects a 17×17 kernel with its name', () => {
    const model = buildModel({
      inputs: { x: ['float32', [1, 8, 40, 40]] },
      outputs: ['y'],
      initializers: { w1: w(8, 8, 3), w2: w(8, 8, 17) },
      nodes: [
        { op: 'Conv', name: 'c1', inputs: ['x', 'w1'], outputs: ['a'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', name: 'r1', inputs: ['a'], outputs: ['b'] },
        { op: 'Conv', name: 'big', inputs: ['b', 'w2'], outputs: ['y'] },
      ],
    });
    const r = partition(layersOf({ kind: 'onnx', model }), b4096);
    const c1 = r.layers.find((l) => l.layer.name === 'c1')!;
    expect(c1.layer.activation).toEqual({ type: 'relu' });
    expect(c1.layer.sourceOps).toEqual(['c1', 'r1']);
    expect(c1.device).toBe('DPU');
    expect(r.cpuOps[0]).toMatchObject({ name: 'big', op: 'Conv', reason: 'Conv kernel 17×17 exceeds 16' });
    expect(r.opDevice.get('r1')).toBe('DPU');
  });

  it('reads LeakyRelu slopes, and QDQ pairs as fix points rather than ops', () => {
    const q = (name: string, fp: number) => tensor('float32', [], [2 ** -fp], name);
    const model = buildModel({
      inputs: { x: ['float32', [1, 8, 8, 8]] },
      outputs: ['y'],
      initializers: { w1: w(8, 8, 1), s6: q('s6', 6), s4: q('s4', 4), z: tensor('int8', [], [0]) },
      nodes: [
        { op: 'QuantizeLinear', name: 'qx', inputs: ['x', 's6', 'z'], outputs: ['xq'] },
        { op: 'DequantizeLinear', name: 'dqx', inputs: ['xq', 's6', 'z'], outputs: ['xd'] },
        { op: 'Conv', name: 'c', inputs: ['xd', 'w1'], outputs: ['a'] },
        { op: 'LeakyRelu', name: 'lr', inputs: ['a'], outputs: ['b'], attrs: { alpha: float(0.01) } },
        { op: 'QuantizeLinear', name: 'qb', inputs: ['b', 's4', 'z'], outputs: ['bq'] },
        { op: 'DequantizeLinear', name: 'dqb', inputs: ['bq', 's4', 'z'], outputs: ['y'] },
      ],
    });
    const g = layersOf({ kind: 'onnx', model });
    expect(g.quantized).toBe(true);
    expect(g.layers.map((l) => l.kind)).toEqual(['input', 'conv', 'activation', 'output']);
    expect(g.layers[0].fixPoint).toBe(6);
    expect(g.layers[2].fixPoint).toBe(4);
    const r = partition(g, b4096);
    expect(r.cpuOps.map((c) => c.reason)).toContain('LeakyRelu slope 0.01 ≠ 26/256 (the only slope DPUCZDX8G computes)');
    const fixed = partition(g, b4096, { ...NO_CONVERSIONS, leakyReluToDpuSlope: true });
    expect(fixed.layers.find((l) => l.layer.name === 'c')!.layer.sourceOps).toEqual(['c', 'lr', 'qb', 'dqb']);
    expect(fixed.summary).toBe('Total device subgraph number 3, DPU subgraph number 1');
    const dpu = fixed.subgraphs.find((s) => s.device === 'DPU')!;
    expect(dpu.inputs).toEqual([{ name: 'x', shape: [1, 8, 8, 8], fixPoint: 6 }]);
    expect(dpu.outputs.map((p) => p.fixPoint)).toEqual([4]);
  });
});
