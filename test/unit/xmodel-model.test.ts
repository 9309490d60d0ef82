// .xmodel in the graph IR (for the viewer), and the compiled xmodel written for an ONNX QDQ model.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attr, topoSort } from '../../src/core/ir';
import { layersOf, partition, targetByArch } from '../../src/core/compile';
import { compiledXModel } from '../../src/core/compile/emit';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { openModel } from '../../src/core/open';
import { readXModel, writeXModel } from '../../src/core/xmodel/codec';
import { xmodelToModel } from '../../src/core/xmodel/to-model';
import { subgraphDevice, tensorFixPoint, xBytes } from '../../src/core/xmodel/types';

const FIX = 'test/fixtures/xmodel/';

describe('xmodel → graph IR', () => {
  it('shows a quantizer output: ops as nodes, consts as float weights, fix points on fix ops', () => {
    const m = openModel(new Uint8Array(readFileSync(FIX + 'pointpillars_int.xmodel')), 'pointpillars_int.xmodel');
    expect(m.format).toBe('xmodel');
    expect(m.graph.inputs.map((i) => i.name)).toEqual(['VoxelNet__input_0', 'VoxelNet__input_1']);
    expect(m.graph.initializers.size).toBe(46);
    const w = m.graph.initializers.get('VoxelNet__rpn_conv_box_weight')!;
    expect(w.dtype).toBe('float32');
    expect(w.shape).toEqual([42, 1, 1, 192]);
    expect(m.graph.nodes).toHaveLength(166 - 46 - 2);
    const fix = m.graph.nodes.find((n) => n.name === 'VoxelNet__input_0_fix')!;
    expect(attr(fix, 'fix_point', 'int')).toBe(6);
    expect(topoSort(m.graph)).toHaveLength(m.graph.nodes.length);
    expect(m.graph.outputs).toHaveLength(3);
  });

  it('shows a compiled model with each op\'s device; weights without data stay ops', () => {
    const x = readXModel(new Uint8Array(readFileSync(FIX + 'pointpillars_compiled_B4096.xmodel')));
    const m = xmodelToModel(x);
    const conv = m.graph.nodes.find((n) => n.opType === 'conv2d-fix')!;
    expect(attr(conv, 'device', 'string')).toBe('DPU');
    expect(attr(conv, 'nonlinear', 'string')).toBe('RELU');
    expect(m.graph.nodes.find((n) => n.opType === 'PPScatterV2')!.attrs.device).toEqual({ kind: 'string', value: 'CPU' });
    expect(m.metadata.dpu_name).toBe('DPUCZDX8G_ISA1_B4096');
    // data-fix input is int8 (XINT 8), the float side input stays float32
    expect(m.graph.inputs.map((i) => i.dtype).sort()).toEqual(['float32', 'int8']);
  });
});

describe('compiled xmodel written for an ONNX QDQ model', () => {
  it('holds int8 weights in XIR layout with the QDQ fix points', () => {
    // Conv weights [OC=2, IC=3, 1, 2], quantized with fp 4: values q·2^-4.
    const q = Int8Array.from({ length: 12 }, (_, i) => i - 6);
    const model = buildModel({
      inputs: { x: ['float32', [1, 3, 4, 4]] },
      outputs: ['y'],
      initializers: {
        wq: tensor('int8', [2, 3, 1, 2], q), sw: tensor('float32', [], [1 / 16]), sx: tensor('float32', [], [1 / 8]),
        sy: tensor('float32', [], [1 / 4]), z: tensor('int8', [], [0]),
      },
      nodes: [
        { op: 'QuantizeLinear', name: 'qx', inputs: ['x', 'sx', 'z'], outputs: ['xq'] },
        { op: 'DequantizeLinear', name: 'dqx', inputs: ['xq', 'sx', 'z'], outputs: ['xd'] },
        { op: 'DequantizeLinear', name: 'dqw', inputs: ['wq', 'sw', 'z'], outputs: ['w'] },
        { op: 'Conv', name: 'conv', inputs: ['xd', 'w'], outputs: ['c'], attrs: { kernel_shape: [1, 2] } },
        { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['r'] },
        { op: 'QuantizeLinear', name: 'qy', inputs: ['r', 'sy', 'z'], outputs: ['yq'] },
        { op: 'DequantizeLinear', name: 'dqy', inputs: ['yq', 'sy', 'z'], outputs: ['y'] },
      ],
    });
    const r = partition(layersOf({ kind: 'onnx', model }), targetByArch('B4096'));
    expect(r.summary).toBe('Total device subgraph number 3, DPU subgraph number 1');
    const back = readXModel(writeXModel(compiledXModel(r)));
    expect(back.root.children.map(subgraphDevice)).toEqual(['USER', 'DPU', 'CPU']);
    const w = back.ops.find((o) => o.name === 'w')!;
    expect(w.type).toBe('const-fix');
    expect(tensorFixPoint(w.output)).toBe(4);
    expect(w.output.shape).toEqual([2, 1, 2, 3]);
    // OIHW [o][i][0][x] → OHWI [o][0][x][i]
    const data = new Int8Array(xBytes(w.attrs, 'data')!.slice().buffer);
    const expected: number[] = [];
    for (let o = 0; o < 2; o++) for (let x = 0; x < 2; x++) for (let i = 0; i < 3; i++) expected.push(q[(o * 3 + i) * 2 + x]);
    expect(Array.from(data)).toEqual(expected);
    const conv = back.ops.find((o) => o.name === 'conv')!;
    expect(conv.type).toBe('conv2d-fix');
    expect(conv.attrs.nonlinear).toEqual({ kind: 'string', value: 'RELU' });
    expect(tensorFixPoint(conv.output)).toBe(2);
    const input = back.ops.find((o) => o.type === 'data-fix')!;
    expect(tensorFixPoint(input.output)).toBe(3);
  });
});
