import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isInputError } from '../../src/core/errors';
import { readXModel, writeXModel } from '../../src/core/xmodel/codec';
import {
  deviceSubgraphs, opFixPoint, subgraphDevice, subgraphOps, tensorFixPoint, xBig, xInt, xString, xBytes,
  type XModel,
} from '../../src/core/xmodel/types';

const FIX = 'test/fixtures/xmodel/';
const load = (f: string) => readXModel(new Uint8Array(readFileSync(FIX + f)));

/** The model with every byte array replaced by its length and a hash (deep equality on MBs of bytes is slow). */
function digest(m: XModel): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v) => {
    if (v instanceof Uint8Array) {
      let h = 2166136261;
      for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v[i], 16777619);
      return `bytes:${v.length}:${h >>> 0}`;
    }
    return typeof v === 'bigint' ? `big:${v}` : v;
  }));
}

function typeCounts(m: XModel): Record<string, number> {
  const c: Record<string, number> = {};
  for (const o of m.ops) c[o.type] = (c[o.type] ?? 0) + 1;
  return c;
}

function expectInputError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isInputError(e)).toBe(true);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected an InputError');
}

describe('xmodel reader: quantizer output (_int)', () => {
  const m = load('pointpillars_int.xmodel');

  it('has float ops plus fix ops under one root subgraph', () => {
    expect(m.name).toBe('VoxelNet');
    expect(m.ops).toHaveLength(166);
    expect(typeCounts(m)).toEqual({
      data: 2, fix: 70, const: 46, conv2d: 20, relu: 20, reduction_max: 1, transpose: 2, PPScatterV2: 1,
      'transposed-conv2d': 3, concat: 1,
    });
    expect(m.root.children).toHaveLength(0);
    expect(m.root.ops).toHaveLength(166);
    expect(deviceSubgraphs(m)).toEqual([m.root]);
  });

  it('reads fix ops, conv attributes and float weights', () => {
    const inFix = m.ops.find((o) => o.name === 'VoxelNet__input_0_fix')!;
    expect(opFixPoint(inFix)).toBe(6);
    expect(xString(inFix.attrs, 'round_mode')).toBe('DPU_ROUND');
    const w = m.ops.find((o) => o.name === 'VoxelNet__rpn_conv_box_weight')!;
    expect(w.type).toBe('const');
    expect(w.output.shape).toEqual([42, 1, 1, 192]);
    // float32 weights: 4 bytes per element
    expect(xBytes(w.attrs, 'data')!.length).toBe(42 * 192 * 4);
    const conv = m.ops.find((o) => o.type === 'conv2d')!;
    expect(conv.args.map((a) => a.name)).toEqual(['input', 'weights', 'bias']);
    expect(xInt(conv.attrs, 'in_dim')).toBe(4);
  });
});

describe('xmodel reader: compiled model', () => {
  const m = load('pointpillars_compiled_B4096.xmodel');

  it('has the USER/DPU/CPU subgraph tree with dpu_name, fingerprint and workloads', () => {
    const subs = m.root.children;
    expect(subs.map(subgraphDevice)).toEqual(['USER', 'USER', 'DPU', 'CPU', 'DPU', 'CPU', 'CPU', 'CPU']);
    const dpus = subs.filter((s) => subgraphDevice(s) === 'DPU');
    for (const d of dpus) {
      expect(xString(d.attrs, 'dpu_name')).toBe('DPUCZDX8G_ISA1_B4096');
      // Exact 64-bit value: a double would read 0x101000056010400.
      expect(xBig(d.attrs, 'dpu_fingerprint')).toBe(0x101000056010407n);
    }
    expect(dpus.map((d) => xInt(d.attrs, 'workload'))).toEqual([768000000, 10159064064]);
    expect(dpus.map((d) => xInt(d.attrs, 'workload_on_arch'))).toEqual([2611200000, 10767181824]);
    expect(subgraphOps(dpus[1])).toHaveLength(71);
  });

  it('keeps fix points on tensors, int8 weights', () => {
    const up = m.ops.find((o) => o.name === 'VoxelNet__input_0_upload_0')!;
    expect(tensorFixPoint(up.output)).toBe(6);
    expect(up.output.dataType).toBe('XINT');
    const w = m.ops.find((o) => o.name === 'VoxelNet__rpn_block1_1_weight')!;
    expect(w.type).toBe('const-fix');
    expect(tensorFixPoint(w.output)).toBe(7);
    // The real compiled file keeps an empty `data` on its const-fix ops: the weights live in the DPU
    // subgraph's parameter blob, not on the op (the reference does not say so).
    expect(xBytes(w.attrs, 'data')!.length).toBe(0);
  });

  it('reads a negative input fix point (tf2 custom op model)', () => {
    const t = load('tf2_custom_op_compiled_B4096.xmodel');
    const input = t.ops.find((o) => o.type === 'data-fix')!;
    expect(tensorFixPoint(input.output)).toBe(-2);
    expect(t.root.children.map(subgraphDevice)).toEqual(['USER', 'DPU', 'CPU', 'DPU', 'CPU']);
    expect(t.ops.find((o) => o.type === 'Mylayer')).toBeDefined();
  });

  it('reads the op_defs (field 101), which declare custom ops such as Mylayer', () => {
    const t = load('tf2_custom_op_compiled_B4096.xmodel');
    expect(t.opDefs).toHaveLength(107);
    const my = t.opDefs!.find((d) => d.name === 'Mylayer')!;
    expect(my.inputArgs).toEqual([{ name: 'input', occurType: 2, dataType: 4 }]);
    expect(my.attrs.find((a) => a.name === 'shape')!.defaultValue).toEqual({ kind: 'int32_vec', value: [] });
    const conv = t.opDefs!.find((d) => d.name === 'conv2d-fix')!;
    expect(conv.inputArgs.map((a) => [a.name, a.occurType, a.dataType])).toEqual([['input', 0, 2], ['weights', 0, 2], ['bias', 1, 2]]);
  });
});

describe('xmodel writer', () => {
  for (const f of ['pointpillars_int.xmodel', 'pointpillars_compiled_B4096.xmodel', 'tf2_custom_op_compiled_B4096.xmodel']) {
    it(`round-trips ${f}: same ops, attributes, subgraphs, fix points, weights`, () => {
      const a = load(f);
      const bytes = writeXModel(a);
      const b = readXModel(bytes);
      expect(digest(b)).toEqual(digest(a));
      expect(b.ops.length).toBe(a.ops.length);
      expect(b.opDefs).toEqual(a.opDefs);
      // and a second write is byte-identical (stable encoding)
      expect(Buffer.from(writeXModel(b)).equals(Buffer.from(bytes))).toBe(true);
    });
  }
});

describe('xmodel reader: bad input', () => {
  const bytes = new Uint8Array(readFileSync(FIX + 'pointpillars_compiled_B4096.xmodel'));

  it('rejects a truncated file with one line', () => {
    expectInputError(() => readXModel(bytes.subarray(0, 5000)));
  });

  it('rejects an empty file', () => {
    expect(expectInputError(() => readXModel(new Uint8Array(0)))).toMatch(/xmodel/);
  });

  it('rejects a foreign file (an ONNX model, text)', () => {
    expectInputError(() => readXModel(new Uint8Array(readFileSync('public/models/mnist-8.onnx'))));
    expectInputError(() => readXModel(new TextEncoder().encode('{"fingerprint": "0x1"}')));
  });
});
