// The compiled .xmodel we write, against the one vai_c_xir wrote for the same quantizer output.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { layersOf, partition, targetByArch } from '../../src/core/compile';
import { compiledXModel } from '../../src/core/compile/emit';
import { openModel } from '../../src/core/open';
import { readXModel, writeXModel } from '../../src/core/xmodel/codec';
import {
  opDevices, subgraphDevice, subgraphOps, tensorFixPoint, xInt, type XModel, type XOp, type XSubgraph,
} from '../../src/core/xmodel/types';

const load = (f: string) => readXModel(new Uint8Array(readFileSync('test/fixtures/xmodel/' + f)));
const target = targetByArch('B4096');
const exported = (r: Parameters<typeof compiledXModel>[0]) => readXModel(writeXModel(compiledXModel(r)));

/** type, device, data type and fix point of every op (the fix point of a fix/fix2float is an op attribute). */
function signature(m: XModel): Map<string, string> {
  const d = opDevices(m);
  const fp = (o: XOp) => tensorFixPoint(o.output) ?? xInt(o.attrs, 'fix_point');
  return new Map(m.ops.map((o) => [o.name, `${o.type} ${d.get(o.name)} ${o.output.dataType}${o.output.bitWidth} fp=${fp(o)}`]));
}

const dpuOf = (m: XModel) => m.root.children.filter((s) => subgraphDevice(s) === 'DPU');
const typesOf = (m: XModel, s: XSubgraph) => subgraphOps(s).map((n) => m.ops.find((o) => o.name === n)!.type);

describe('export of pointpillars_int.xmodel → B4096 vs pointpillars_compiled_B4096.xmodel', () => {
  const ours = exported(partition(layersOf({ kind: 'xmodel', xmodel: load('pointpillars_int.xmodel') }), target));
  const real = load('pointpillars_compiled_B4096.xmodel');
  const a = signature(ours);
  const b = signature(real);
  const POOL = 'VoxelNet__VoxelNet_PillarFeatureNet_voxel_feature_extractor__PFNLayer_pfn_layers__ModuleList_0__Max_max__voxel_features';

  it('gives every op both files have the same type, device, data type and fix point', () => {
    const common = [...a.keys()].filter((n) => b.has(n));
    expect(common.length).toBe(real.ops.length - 2);
    expect(common.filter((n) => a.get(n) !== b.get(n)).map((n) => [n, a.get(n), b.get(n)])).toEqual([]);
    // Known naming difference: vai_c_xir names the pool it makes of reduction_max after the fix that follows
    // it (and its download after that); we keep the reduction's own name.
    expect([...a.keys()].filter((n) => !b.has(n))).toEqual([POOL, `${POOL}_download_0`]);
    expect([...b.keys()].filter((n) => !a.has(n))).toEqual([`${POOL}_fix`, `${POOL}_fix_download_0`]);
    expect(a.get(POOL)).toBe(b.get(`${POOL}_fix`));
  });

  it('converts at every DPU/CPU boundary as vai_c_xir does (upload, download, fix2float, float2fix, fix)', () => {
    const boundary = (s: Map<string, string>) =>
      [...s.entries()].filter(([, v]) => /^(upload|download|fix2float|float2fix|fix) /.test(v)).map(([k, v]) => `${k.replace(POOL + '_fix', POOL)}: ${v}`).sort();
    expect(boundary(a)).toEqual(boundary(b));
    expect(boundary(a)).toHaveLength(2 + 4 + 4 + 1 + 2);
    // CPU ops compute in float: no int8 tensor and no fix point on them except the float2fix feeding the DPU
    for (const o of ours.ops.filter((x) => opDevices(ours).get(x.name) === 'CPU' && x.type !== 'float2fix')) {
      expect([o.name, o.output.dataType]).toEqual([o.name, 'FLOAT']);
      expect(tensorFixPoint(o.output)).toBeUndefined();
    }
  });

  it('has the real CPU subgraph: fix2float → transpose → fix → PPScatterV2 → fix → transpose → float2fix', () => {
    const cpu = (m: XModel) => m.root.children.find((s) => subgraphDevice(s) === 'CPU' && subgraphOps(s).length > 1)!;
    expect(typesOf(ours, cpu(ours))).toEqual(['fix2float', 'transpose', 'fix', 'PPScatterV2', 'fix', 'transpose', 'float2fix']);
    expect(typesOf(ours, cpu(ours))).toEqual(typesOf(real, cpu(real)));
    expect(cpu(ours).name).toBe(cpu(real).name);
  });

  it('nests one child per DPU layer (a pool with its conv), uploads and concats without code', () => {
    const shape = (m: XModel) => dpuOf(m).map((s) => ({
      children: s.children.length,
      sorted: s.attrs.children_topological_sort?.kind === 'string_vec' ? s.attrs.children_topological_sort.value.length : -1,
      perChild: s.children.map((c) => `${c.ops.length}${c.attrs.skip_code_gen ? ' skip' : ''} ${xInt(c.attrs, 'workload')}`).sort(),
    }));
    expect(shape(ours)).toEqual(shape(real));
    expect(shape(ours).map((s) => [s.children, s.sorted])).toEqual([[3, 1], [27, 23]]);
    // the DPU subgraphs' workloads are the sums of their children's
    for (const s of dpuOf(ours))
      expect(s.children.reduce((t, c) => t + xInt(c.attrs, 'workload')!, 0)).toBe(xInt(s.attrs, 'workload'));
  });

  it('names the subgraphs as vai_c_xir does, but for the second DPU subgraph', () => {
    const names = (m: XModel) => m.root.children.map((s) => s.name);
    // Known difference: vai_c_xir names a merged DPU subgraph after its concat; ours after its first layer.
    expect(names(ours).filter((n) => !names(real).includes(n))).toEqual(['subgraph_VoxelNet__VoxelNet_RPN_rpn__SequentialModule_block1__DefaultArgLayer_1__input_5']);
    expect(names(real).filter((n) => !names(ours).includes(n))).toEqual(['subgraph_VoxelNet__VoxelNet_RPN_rpn__Cat_cat__input']);
    expect(dpuOf(ours)[0].name).toBe(dpuOf(real)[0].name);
  });

  it('declares every op type it uses in op_defs, custom PPScatterV2 as the quantizer output did', () => {
    const types = [...new Set(ours.ops.map((o) => o.type))];
    expect(ours.opDefs!.map((d) => d.name)).toEqual(types);
    const defs = load('pointpillars_int.xmodel').opDefs!;
    for (const t of ['PPScatterV2', 'conv2d-fix', 'fix2float']) {
      expect(defs.find((d) => d.name === t)).toBeDefined();
      expect(ours.opDefs!.find((d) => d.name === t)).toEqual(defs.find((d) => d.name === t));
    }
    // the same signature vai_c_xir declares for the custom op
    expect(ours.opDefs!.find((d) => d.name === 'PPScatterV2')!.inputArgs).toEqual(real.opDefs!.find((d) => d.name === 'PPScatterV2')!.inputArgs);
  });

  it('is re-read by our compiler into the same partition', () => {
    const again = partition(layersOf({ kind: 'xmodel', xmodel: ours }), target);
    expect(again.summary).toBe('Total device subgraph number 8, DPU subgraph number 2');
  });
});

describe('export of a float ONNX model', () => {
  const m = openModel(new Uint8Array(readFileSync('public/models/yolox_nano.onnx')).slice(), 'yolox_nano.onnx');
  const r = partition(layersOf({ kind: 'onnx', model: m }), target);
  const x = exported(r);
  const nodes = new Map(m.graph.nodes.map((n) => [n.name, n]));

  it('writes each op of a SiLU on the CPU as its own XIR op (sigmoid, then mul of x and it)', () => {
    expect(x.ops.filter((o) => o.type.includes('+'))).toEqual([]);
    const sig = x.ops.filter((o) => o.type === 'sigmoid');
    expect(sig.length).toBeGreaterThan(50);
    for (const s of sig.slice(0, 5)) {
      expect(nodes.get(s.name)?.opType).toBe('Sigmoid');
      const mul = x.ops.find((o) => o.type === 'mul' && o.args[0].ops.includes(s.name))!;
      expect(nodes.get(mul.name)?.opType).toBe('Mul');
      expect(mul.args[0].ops).toEqual([...s.args[0].ops, s.name]);
    }
  });

  it('derives op_defs from the ops when the source had none', () => {
    expect(new Set(x.opDefs!.map((d) => d.name))).toEqual(new Set(x.ops.map((o) => o.type)));
    expect(x.opDefs!.find((d) => d.name === 'sigmoid')!.inputArgs).toEqual([{ name: 'input', occurType: 0, dataType: 4 }]);
    expect(x.opDefs!.find((d) => d.name === 'mul')!.inputArgs).toEqual([{ name: 'input', occurType: 3, dataType: 4 }]);
    const conv = x.opDefs!.find((d) => d.name === 'conv2d-fix')!;
    expect(conv.inputArgs.map((a) => [a.name, a.dataType])).toEqual([['input', 2], ['weights', 2], ['bias', 2]]);
    expect(conv.attrs.find((a) => a.name === 'kernel')).toEqual({ name: 'kernel', occurType: 0, defaultValue: { kind: 'int32_vec', value: [] } });
  });

  it('leaves no op outside a subgraph and no argument dangling', () => {
    const names = new Set(x.ops.map((o) => o.name));
    expect(names.size).toBe(x.ops.length);
    expect(x.ops.flatMap((o) => o.args.flatMap((g) => g.ops)).filter((n) => !names.has(n))).toEqual([]);
    const placed = x.root.children.flatMap(subgraphOps);
    expect(placed.length).toBe(x.ops.length);
    expect(new Set(placed).size).toBe(x.ops.length);
    expect(x.root.children.map(subgraphDevice)).toEqual(r.subgraphs.map((s) => s.device));
  });
});
