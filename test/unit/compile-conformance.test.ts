// Compiling the real quantizer output here must reproduce what vai_c_xir made of it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { layersOf, partition, targetByArch } from '../../src/core/compile';
import { readXModel } from '../../src/core/xmodel/codec';
import { opDevices, subgraphDevice, xInt, type XModel } from '../../src/core/xmodel/types';

const load = (f: string) => readXModel(new Uint8Array(readFileSync('test/fixtures/xmodel/' + f)));
const target = targetByArch('DPUCZDX8G_ISA1_B4096');

describe('conformance: pointpillars_int.xmodel → B4096 vs pointpillars_compiled_B4096.xmodel', () => {
  const src = load('pointpillars_int.xmodel');
  const real = load('pointpillars_compiled_B4096.xmodel');
  const ours = partition(layersOf({ kind: 'xmodel', xmodel: src }), target);
  const realSubs = real.root.children;
  const count = (d: string) => realSubs.filter((s) => subgraphDevice(s) === d).length;

  it('has the same number of device, DPU, CPU and USER subgraphs', () => {
    expect(ours.deviceSubgraphNumber).toBe(realSubs.length);
    expect(ours.dpuSubgraphNumber).toBe(count('DPU'));
    expect(ours.subgraphs.filter((s) => s.device === 'CPU').length).toBe(count('CPU'));
    expect(ours.subgraphs.filter((s) => s.device === 'USER').length).toBe(count('USER'));
    expect(ours.summary).toBe('Total device subgraph number 8, DPU subgraph number 2');
  });

  it('puts every op that exists in both files on the same device', () => {
    const theirs = opDevices(real);
    const common = [...ours.opDevice.keys()].filter((n) => theirs.has(n));
    // data ops, weights, convs, the transposes and the custom op keep their names through the compiler
    expect(common.length).toBeGreaterThanOrEqual(75);
    const differ = common.filter((n) => ours.opDevice.get(n) !== theirs.get(n));
    expect(differ).toEqual([]);
    for (const n of ['VoxelNet__VoxelNet_input_4', 'VoxelNet__input_1', 'VoxelNet__rpn_block1_1_weight'])
      expect(ours.opDevice.get(n)).toBe(theirs.get(n));
  });

  it('has the same workload and workload_on_arch per DPU subgraph (exact, not only within 1%)', () => {
    const mine = ours.subgraphs.filter((s) => s.device === 'DPU').map((s) => [s.cost.workload, s.cost.workloadOnArch]);
    const theirs = realSubs.filter((s) => subgraphDevice(s) === 'DPU').map((s) => [xInt(s.attrs, 'workload'), xInt(s.attrs, 'workload_on_arch')]);
    expect(mine).toEqual(theirs);
  });

  it('carries the fix points at the DPU subgraph boundaries', () => {
    const dpu = ours.subgraphs.filter((s) => s.device === 'DPU');
    expect(dpu[0].inputs.map((p) => p.fixPoint)).toEqual([6]);
    expect(dpu[0].outputs.map((p) => p.fixPoint)).toEqual([5]);
    // the second starts after a CPU transpose, which keeps the fix point 5 of what it moves
    expect(dpu[1].inputs.map((p) => p.fixPoint)).toEqual([5]);
    expect(dpu[1].outputs.map((p) => p.fixPoint).sort()).toEqual([3, 4, 6]);
  });

  it('names why each CPU op is there', () => {
    const ops = ours.cpuOps.map((c) => c.op).sort();
    expect(ops).toEqual(['PPScatterV2', 'fix2float', 'fix2float', 'fix2float', 'transpose', 'transpose']);
    expect(ours.cpuOps.find((c) => c.op === 'PPScatterV2')!.reason).toMatch(/not supported by DPUCZDX8G/);
  });
});

describe('cost model vs the workloads vai_c_xir stored on every DPU op', () => {
  for (const f of ['pointpillars_compiled_B4096.xmodel', 'tf2_custom_op_compiled_B4096.xmodel']) {
    it(`matches every op of ${f} exactly`, () => {
      const m: XModel = load(f);
      const layers = new Map(layersOf({ kind: 'xmodel', xmodel: m }).layers.map((l) => [l.name, l]));
      const stored = m.ops.filter((o) => xInt(o.attrs, 'workload') !== undefined);
      expect(stored.length).toBeGreaterThanOrEqual(6);
      for (const o of stored) {
        const w = target.cost(layers.get(o.name)!);
        expect([o.name, w.workload, w.workloadOnArch]).toEqual([o.name, xInt(o.attrs, 'workload'), xInt(o.attrs, 'workload_on_arch')]);
      }
    });
  }

  it('pads the output height (not the width, as the reference says) to the pixel parallelism', () => {
    // conv 124×108×32 → 124×108×32, 3×3: the real file stores 255246336 = 128·108·32·(2·9·32+1)
    const m = load('pointpillars_compiled_B4096.xmodel');
    const o = m.ops.find((x) => x.name.endsWith('block2__DefaultArgLayer_4__input_22'))!;
    expect(xInt(o.attrs, 'workload_on_arch')).toBe(128 * 108 * 32 * (2 * 9 * 32 + 1));
    expect(xInt(o.attrs, 'workload_on_arch')).not.toBe(124 * 112 * 32 * (2 * 9 * 32 + 1));
  });
});
