import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isInputError } from '../../src/core/errors';
import { layersOf, partition, type Layer, type LayerCost } from '../../src/core/compile';
import { compiledXModel } from '../../src/core/compile/emit';
import { vartPython } from '../../src/core/compile/deploy';
import {
  ARCH_NAMES, BOARDS, decodeFingerprint, parseArchJson, registerTargetFamily, SUPPORTED, targetByArch, targetByArchJson,
  targetByBoard, targetFamilies, targetPresets, type Target, type TargetFamily,
} from '../../src/core/compile/targets';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { readXModel, writeXModel } from '../../src/core/xmodel/codec';
import { subgraphDevice, xBig, xString } from '../../src/core/xmodel/types';

describe('DPUCZDX8G fingerprints', () => {
  it('decodes the Vitis AI 3.0 and 2.5 B4096 fingerprints field by field', () => {
    const v3 = decodeFingerprint(0x101000056010407n);
    expect(v3).toMatchObject({
      type: 1, isa: 1, archIndex: 7, pixelParallel: 8, channelParallel: 16, size: 4096, aluParallel: 4,
      imageBankGroups: 2, channelAugmentation: true, convLeakyRelu: true, depthwiseLeakyRelu: false, saveArgmax: true,
      name: 'DPUCZDX8G_ISA1_B4096',
    });
    const v25 = decodeFingerprint(0x101000016010407n);
    expect(v25).toMatchObject({ size: 4096, channelAugmentation: true, convLeakyRelu: true, saveArgmax: false });
  });

  it('decodes every arch index to the documented size', () => {
    const sizes = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => decodeFingerprint(0x101000056010400n | BigInt(i)).size);
    expect(sizes).toEqual([512, 800, 1024, 1152, 1600, 2304, 3136, 4096]);
  });

  it('names unknown fingerprints clearly', () => {
    for (const fp of [0x201000056010407n, 0x102000056010407n, 0x101000056010408n]) {
      try {
        decodeFingerprint(fp);
        throw new Error('expected failure');
      } catch (e) {
        expect(isInputError(e)).toBe(true);
        expect((e as Error).message).toContain('0x' + fp.toString(16));
        expect((e as Error).message).toMatch(/not a known DPU configuration/);
      }
    }
  });

  it('reads arch.json and rejects malformed ones', () => {
    expect(parseArchJson('{"fingerprint":"0x101000056010407"}').name).toBe('DPUCZDX8G_ISA1_B4096');
    expect(targetByArchJson('{"fingerprint":"0x101000056010405"}').name).toBe('DPUCZDX8G_ISA1_B2304');
    expect(() => parseArchJson('{"fp":1}')).toThrow(/fingerprint/);
    expect(() => parseArchJson('not json')).toThrow(/JSON/);
  });

  it('the fingerprints stored in the real compiled xmodels decode to their dpu_name (B4096)', () => {
    for (const f of ['pointpillars_compiled_B4096.xmodel', 'tf2_custom_op_compiled_B4096.xmodel']) {
      const m = readXModel(new Uint8Array(readFileSync('test/fixtures/xmodel/' + f)));
      const dpus = m.root.children.filter((s) => subgraphDevice(s) === 'DPU');
      expect(dpus.length).toBeGreaterThan(0);
      for (const s of dpus) {
        const cfg = decodeFingerprint(xBig(s.attrs, 'dpu_fingerprint')!);
        expect(cfg.name).toBe(xString(s.attrs, 'dpu_name'));
        expect(cfg.size).toBe(4096);
      }
    }
  });
});

describe('targets', () => {
  it('has presets B512…B4096 with peak ops = 2·PP·CP²', () => {
    expect(ARCH_NAMES).toHaveLength(8);
    const t = targetByArch('DPUCZDX8G_ISA1_B1152');
    expect('params' in t && t.params).toMatchObject({ pixelParallel: 4, inputChannelParallel: 12, opsPerClock: 1152, clockHz: 300e6 });
    expect(targetByArch('B4096').fingerprint).toBe(0x101000056010407n);
    expect(() => targetByArch('B999')).toThrow(/unknown DPU architecture "B999"/);
  });

  it('boards KV260, ZCU102, ZCU104 are B4096 at 300 MHz', () => {
    expect(BOARDS.map((b) => b.name)).toEqual(['KV260', 'ZCU102', 'ZCU104']);
    for (const b of BOARDS) {
      const t = targetByBoard(b.name.toLowerCase());
      expect(t.name).toBe('DPUCZDX8G_ISA1_B4096');
      expect(t.clockHz).toBe(300e6);
    }
    expect(() => targetByBoard('pynq-z2')).toThrow(/unknown board/);
  });
});

describe('a second accelerator, written against Target only', () => {
  // A toy VTA-like GEMM core: 16×16 int8 MACs per clock, convs/dense/eltwise/max pools, ReLU fused.
  // Its cost formula and device label are its own; nothing in partition.ts or emit.ts knows of it.
  const BLOCK = 16;
  const ceil = (a: number, b: number) => Math.ceil(a / b);
  const toyCost = (l: Layer): LayerCost => {
    const [, ho = 1, wo = 1, co = 1] = l.shape;
    const ci = l.inChannels ?? l.inputShapes[0]?.[3] ?? 1;
    const [kh, kw] = l.kernel ?? [1, 1];
    const gemm = l.kind === 'conv' || l.kind === 'dense';
    const workload = gemm ? 2 * ho * wo * co * ci * kh * kw : ho * wo * co;
    const cycles = gemm ? ho * wo * kh * kw * ceil(ci, BLOCK) * ceil(l.outChannels ?? co, BLOCK) : ho * wo * ceil(co, BLOCK);
    return { workload, workloadOnArch: cycles * BLOCK * BLOCK * 2, cycles, seconds: cycles / 100e6, weightBytes: l.weightElements, readBytes: 0, writeBytes: 0 };
  };
  const vta = (): Target => ({
    name: 'VTA_1x16x16', family: 'VTA', device: 'VTA', clockHz: 100e6, cost: toyCost,
    supports: (l) => ['input', 'conv', 'dense', 'eltwise'].includes(l.kind) || (l.kind === 'pool' && l.poolType === 'max')
      ? SUPPORTED : { ok: false, reason: `${l.op}: not on VTA`, fix: 'write it as a conv' },
    fuses: (_p, a) => a.type === 'relu',
  });
  const family: TargetFamily = {
    id: 'VTA', label: 'Apache TVM VTA (toy)', presets: [{ id: 'VTA_1x16x16', label: '1×16×16 GEMM' }],
    matches: (a) => /^VTA_/i.test(a), create: () => vta(),
  };
  const W = tensor('float32', [8, 8, 3, 3], new Float32Array(8 * 8 * 9).fill(0.01));
  const model = buildModel({
    inputs: { x: ['float32', [1, 8, 16, 16]] },
    outputs: ['y'],
    initializers: { w: W },
    nodes: [
      { op: 'Conv', name: 'c1', inputs: ['x', 'w'], outputs: ['a'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', name: 'r1', inputs: ['a'], outputs: ['b'] },
      { op: 'Sigmoid', name: 's', inputs: ['b'], outputs: ['c'] },
      { op: 'Conv', name: 'c2', inputs: ['c', 'w'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } },
    ],
  });

  it('is one registry entry: targetByArch and the preset list find it, removal forgets it', () => {
    const remove = registerTargetFamily(family);
    try {
      expect(targetByArch('VTA_1x16x16').name).toBe('VTA_1x16x16');
      expect(targetPresets().map((p) => `${p.family}:${p.id}`)).toEqual([...ARCH_NAMES.map((a) => `DPUCZDX8G:${a}`), 'VTA:VTA_1x16x16']);
      expect(targetByArch('B4096').device).toBe('DPU');
      expect(() => registerTargetFamily(family)).toThrow(/already registered/);
      expect(() => targetByArch('TPU_v4')).toThrow(/known: DPUCZDX8G_ISA1_B512, .*VTA_1x16x16$/);
    } finally {
      remove();
    }
    expect(() => targetByArch('VTA_1x16x16')).toThrow(/unknown architecture "VTA_1x16x16"/);
    expect(targetFamilies().map((f) => f.id)).toEqual(['DPUCZDX8G']);
  });

  it('partitions, costs and labels its subgraphs through the interface', () => {
    const r = partition(layersOf({ kind: 'onnx', model }), vta());
    expect(r.subgraphs.map((s) => s.device)).toEqual(['USER', 'VTA', 'CPU', 'VTA', 'CPU']);
    expect(r.summary).toBe('Total device subgraph number 5, VTA subgraph number 2');
    expect(r.dpuSubgraphNumber).toBe(2);
    expect(r.cpuOps.find((c) => c.name === 's')).toEqual({ name: 's', op: 'Sigmoid', reason: 'Sigmoid: not on VTA', fix: 'write it as a conv' });
    // the toy formula, not the DPU's: 16·16 pixels · 3·3 taps · ⌈8/16⌉² blocks = 2304 cycles per conv
    const acc = r.subgraphs.filter((s) => s.device === 'VTA');
    expect(acc.map((s) => s.cost.cycles)).toEqual([2304, 2304]);
    expect(r.totals.seconds).toBeCloseTo(2 * 2304 / 100e6, 12);
    expect(acc[0].ops).toEqual(['c1', 'r1']); // ReLU fused by the toy's own rule
    const dpuCycles = targetByArch('B4096').cost(r.layers[acc[0].layers[0]].layer).cycles;
    expect(dpuCycles).not.toBe(2304);
  });

  it('exports with its own device label and name', () => {
    const x = readXModel(writeXModel(compiledXModel(partition(layersOf({ kind: 'onnx', model }), vta()))));
    expect(x.root.children.map(subgraphDevice)).toEqual(['USER', 'VTA', 'CPU', 'VTA', 'CPU']);
    const acc = x.root.children.filter((s) => subgraphDevice(s) === 'VTA');
    expect(acc.map((s) => xString(s.attrs, 'dpu_name'))).toEqual(['VTA_1x16x16', 'VTA_1x16x16']);
    expect(x.ops.filter((o) => o.type === 'conv2d-fix').map((o) => xString(o.attrs, 'device'))).toEqual(['VTA', 'VTA']);
    expect(x.ops.find((o) => o.name === 's')!.type).toBe('sigmoid');
  });

  it('its deployment script runs both accelerator subgraphs with the CPU step between them', () => {
    const py = vartPython(partition(layersOf({ kind: 'onnx', model }), vta()), 'toy.xmodel');
    const steps = py.slice(py.indexOf('STEPS = ['), py.indexOf(']', py.indexOf('STEPS = [')));
    expect(steps.match(/\("dpu", \d+\)/g)).toEqual(['("dpu", 0)', '("dpu", 1)']);
    expect(steps).toMatch(/\("dpu", 0\)[\s\S]*cpu_step[\s\S]*\("dpu", 1\)/);
    expect(py).toContain('the 2 DPU subgraph(s) run in order');
  });

  it('refuses USER or CPU as an accelerator label', () => {
    expect(() => partition(layersOf({ kind: 'onnx', model }), { ...vta(), device: 'CPU' })).toThrow(/device label "CPU" is reserved/);
  });
});
