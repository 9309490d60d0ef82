// Compiling the real quantizer output here must reproduce what vai_c_xir made of it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { layersOf, partition, targetByArch } from '../../src/core/compile';
import { readXModel } from '../../src/core/xmodel/codec';
import { opDevices, subgraphDevice, subgraphOps, xInt, type XModel } from '../../src/core/xmodel/types';

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

  it('puts every source op on the device vai_c_xir put it on', () => {
    const theirs = opDevices(real);
    const realOp = new Map<string, string>(); // op name, and the name of its output tensor → op
    for (const o of real.ops) realOp.set(o.name, o.name);
    for (const o of real.ops) if (!realOp.has(o.output.name)) realOp.set(o.output.name, o.name);
    const byName = new Map(src.ops.map((o) => [o.name, o]));
    const fixAfter = new Map(src.ops.filter((o) => o.type === 'fix').map((o) => [o.args[0].ops[0], o.name]));
    // vai_c_xir renames: a fused op disappears into the op it fused with, whose output tensor keeps the name
    // of the last fix (conv2d → relu → fix becomes conv2d-fix "<conv>" with tensor "<relu>_fix"); an op it
    // converts takes the name of the fix after it (reduction_max → pool-fix "<max>_fix"); a graph output's
    // fix becomes fix2float "<fix>_". Returns the real op and which of these rules found it.
    const find = (n: string): [string, string] | undefined => {
      if (real.ops.some((o) => o.name === n)) return [n, 'same name'];
      if (real.ops.some((o) => o.name === `${n}_` && o.type === 'fix2float')) return [`${n}_`, 'output fix2float'];
      const f = fixAfter.get(n);
      if (f && realOp.has(f)) return [realOp.get(f)!, 'fix after it'];
      if (realOp.has(n)) return [realOp.get(n)!, 'output tensor'];
      const ins = byName.get(n)?.args[0]?.ops ?? [];
      const p = ins.length ? find(ins[0]) : undefined;
      return p && [p[0], 'fused into its producer'];
    };
    const via = new Map<string, number>();
    const rows = src.ops.map((o) => {
      const r = find(o.name);
      if (r) via.set(r[1], (via.get(r[1]) ?? 0) + 1);
      return { name: o.name, type: o.type, ours: ours.opDevice.get(o.name), real: r && theirs.get(r[0]) };
    });
    expect(rows).toHaveLength(166);
    expect(rows.filter((x) => x.real === undefined)).toEqual([]);
    expect(rows.filter((x) => x.ours === undefined)).toEqual([]);
    // Every source op is compared (77 keep their name, 89 are renamed); a new difference fails here.
    const EXPECTED_DIFFERENCES: string[] = [];
    expect(rows.filter((x) => x.ours !== x.real).map((x) => `${x.type} ${x.name}: ours ${x.ours}, vai_c_xir ${x.real}`)).toEqual(EXPECTED_DIFFERENCES);
    // relu → its fix (the conv's tensor), reduction_max → its fix, the deconvs' relus → their deconv
    expect(Object.fromEntries(via)).toEqual({
      'same name': 77, 'output fix2float': 3, 'fix after it': 17 + 1, 'output tensor': 65, 'fused into its producer': 3,
    });
    for (const n of ['VoxelNet__VoxelNet_input_4', 'VoxelNet__input_1', 'VoxelNet__rpn_block1_1_weight'])
      expect(ours.opDevice.get(n)).toBe(theirs.get(n));
  });

  it('differs from vai_c_xir in the subgraphs only where named', () => {
    // Source ops per subgraph: vai_c_xir lists the compiled ops instead, so its CPU subgraph holds 7
    // (fix2float, transpose, fix, PPScatterV2, fix, transpose, float2fix — reproduced op for op by the
    // export, see xmodel-export.test.ts) where ours holds the 4 source ops transpose, PPScatterV2, its fix,
    // transpose; its USER subgraph holds the data-fix op where ours holds data and fix.
    const cpu = ours.subgraphs.find((s) => s.device === 'CPU' && s.ops.length > 1)!;
    expect(cpu.ops.map((n) => src.ops.find((o) => o.name === n)!.type)).toEqual(['transpose', 'PPScatterV2', 'fix', 'transpose']);
    expect(subgraphOps(realSubs.find((s) => subgraphDevice(s) === 'CPU' && subgraphOps(s).length > 1)!)).toHaveLength(7);
    expect(ours.subgraphs[0].ops).toEqual(['VoxelNet__input_0', 'VoxelNet__input_0_fix']);
    // Names: ours are subgraph_<first layer>; vai_c_xir names CPU subgraphs after their first compiled op
    // (a fix2float, which the export reproduces) and the merged DPU subgraph after its concat.
    const differ = ours.subgraphs.map((s) => s.name).filter((n) => !realSubs.some((x) => x.name === n));
    expect(differ).toEqual([
      'subgraph_VoxelNet__VoxelNet__VoxelNet_PillarFeatureNet_voxel_feature_extractor__PFNLayer_pfn_layers__ModuleList_0__Max_max__voxel_features_sink_tranpose_0',
      'subgraph_VoxelNet__VoxelNet_RPN_rpn__SequentialModule_block1__DefaultArgLayer_1__input_5',
      'subgraph_VoxelNet__VoxelNet_RPN_rpn__Conv2d_conv_box__486_fix',
      'subgraph_VoxelNet__VoxelNet_RPN_rpn__Conv2d_conv_cls__496_fix',
      'subgraph_VoxelNet__VoxelNet_RPN_rpn__Conv2d_conv_dir_cls__514_fix',
    ]);
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
