// .xmodel files drawn like models: XIR ops in categories from the op catalogue, weights folded into their
// consumers (const, const-fix, and the fix of a const), fix points per tensor.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openModel } from '../../src/core/open';
import { toDisplayGraph } from '../../src/core/view/display';
import { xirOpCategory } from '../../src/core/view/categories';
import { readXModel, writeXModel } from '../../src/core/xmodel/codec';
import { xmodelToModel } from '../../src/core/xmodel/to-model';
import type { XModel } from '../../src/core/xmodel/types';

const FIX = 'test/fixtures/xmodel/';
const open = (f: string) => openModel(new Uint8Array(readFileSync(FIX + f)), f);

describe('XIR op catalogue', () => {
  it('gives XIR ops and their -fix forms a category', () => {
    expect(xirOpCategory('conv2d-fix')).toBe('conv');
    expect(xirOpCategory('depthwise-conv2d')).toBe('conv');
    expect(xirOpCategory('fix')).toBe('quant');
    expect(xirOpCategory('upload')).toBe('io');
    expect(xirOpCategory('pool-fix')).toBe('pool');
    expect(xirOpCategory('concat-fix')).toBe('shape');
    expect(xirOpCategory('PPScatterV2')).toBeUndefined();
  });
});

describe('compiled pointpillars drawn', () => {
  const m = open('pointpillars_compiled_B4096.xmodel');
  const d = toDisplayGraph(m);
  const ops = d.nodes.filter((n) => n.kind === 'op');
  it('no const node, no unknown marker (PPScatterV2 is defined in the file\'s op_defs), weights inside the convs', () => {
    expect(ops.filter((n) => n.label === 'const' || n.label === 'const-fix')).toEqual([]);
    expect(ops.filter((n) => n.unknown)).toEqual([]);
    expect(ops.find((n) => n.label === 'PPScatterV2')?.domain).toBe('xir.custom');
    const conv = ops.find((n) => n.label === 'conv2d-fix')!;
    expect(conv.category).toBe('conv');
    expect(conv.weights.map((w) => w.label)).toEqual(['weights', 'bias']);
    expect(conv.weights[0].shape?.length).toBe(4);
    expect(ops.find((n) => n.label === 'upload')?.category).toBe('io');
    // Every edge joins drawn nodes: no edge from a folded weight.
    const ids = new Set(d.nodes.map((n) => n.id));
    for (const e of d.edges) expect(ids.has(e.source) && ids.has(e.target)).toBe(true);
    // The const-fix weights carry their fix points.
    expect(m.fixPoints?.get(conv.weights[0].tensor)).toBeTypeOf('number');
  });
});

describe('quantizer output drawn', () => {
  it('const → fix folds into the conv: the weight shows the const (values, statistics) and its fix point', () => {
    const m = open('pointpillars_int.xmodel');
    const d = toDisplayGraph(m);
    const ops = d.nodes.filter((n) => n.kind === 'op');
    const conv = ops.find((n) => n.name === 'VoxelNet__VoxelNet_RPN_rpn__Conv2d_conv_box__486')!;
    expect(conv.weights.map((w) => [w.label, w.tensor, w.stored])).toEqual([
      ['weights', 'VoxelNet__rpn_conv_box_weight', true], ['bias', 'VoxelNet__rpn_conv_box_bias', true],
    ]);
    expect(conv.folded).toContain('VoxelNet__rpn_conv_box_weight_fix');
    expect(m.fixPoints?.get('VoxelNet__rpn_conv_box_weight')).toBe(8);
    // The fix of an activation is folded into its edge by default; its fix point is on the tensor it
    // quantizes and its output.
    expect(m.fixPoints?.get('VoxelNet__input_0')).toBe(6);
    expect(ops.filter((n) => n.label === 'fix')).toEqual([]);
    expect(d.fixOps).toBe(70 - 46);
    expect(ops.filter((n) => n.unknown)).toEqual([]);
  });

  it('fix ops fold into the edge they quantize; shown, each is a node between producer and consumer', () => {
    const m = open('pointpillars_int.xmodel');
    const folded = toDisplayGraph(m);
    const shown = toDisplayGraph(m, { showFix: true });
    const fixes = shown.nodes.filter((n) => n.label === 'fix');
    expect(fixes).toHaveLength(24);
    expect(shown.fixOps).toBe(24);
    expect(shown.nodes.length - folded.nodes.length).toBe(24);
    const ids = new Set(folded.nodes.map((n) => n.id));
    for (const e of folded.edges) expect(ids.has(e.source) && ids.has(e.target), e.id).toBe(true);
    const nameOf = (g: typeof shown, id: string) => g.nodes.find((n) => n.id === id)!.name;
    for (const f of fixes) {
      // producer → fix → consumer becomes producer → consumer, carrying the fix's output (its fix point).
      const into = shown.edges.filter((e) => e.target === f.id);
      const out = shown.edges.filter((e) => e.source === f.id);
      expect(into).toHaveLength(1);
      for (const e of out) {
        const direct = folded.edges.find((x) => x.tensor === e.tensor && nameOf(folded, x.target) === nameOf(shown, e.target));
        expect(direct, `${f.name} → ${nameOf(shown, e.target)}`).toBeDefined();
        expect(nameOf(folded, direct!.source)).toBe(nameOf(shown, into[0].source));
        expect(m.fixPoints?.get(e.tensor), e.tensor).toBeDefined();
      }
    }
    // A model without fix ops has nothing to toggle.
    const onnx = openModel(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')), 'fmnist_seed000.onnx');
    expect(toDisplayGraph(onnx).fixOps).toBeUndefined();
  });

  it('an op type neither XIR nor the file defines is unknown', () => {
    const x = readXModel(new Uint8Array(readFileSync(FIX + 'pointpillars_int.xmodel')));
    const d = toDisplayGraph(xmodelToModel({ ...x, opDefs: (x.opDefs ?? []).filter((o) => o.name !== 'PPScatterV2') }));
    expect(d.nodes.filter((n) => n.unknown).map((n) => n.label)).toEqual(['PPScatterV2']);
  });

  it('int8 const-fix weights with data are shown as their real values q·2^-fp', () => {
    const x = readXModel(new Uint8Array(readFileSync(FIX + 'pointpillars_int.xmodel')));
    const q = Int8Array.from([-128, -1, 0, 5]);
    const one: XModel = {
      ...x,
      ops: [{ name: 'w', type: 'const-fix', attrs: { data: { kind: 'bytes', value: new Uint8Array(q.buffer) } }, args: [],
        output: { name: 'w', shape: [4], dataType: 'XINT', bitWidth: 8, attrs: { fix_point: { kind: 'int32', value: 3 } } } }],
      attrs: {}, opDefs: [],
    };
    const m = xmodelToModel(readXModel(writeXModel(one)));
    expect(Array.from(m.graph.initializers.get('w')!.values as Float32Array)).toEqual([-16, -0.125, 0, 0.625]);
    expect(m.fixPoints?.get('w')).toBe(3);
  });
});
