// The readers under fuzz: each has seed inputs (files from the repository or made here, so nothing
// outside it is needed) and a check that whatever it accepts is well-formed.
import { existsSync, readFileSync } from 'node:fs';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import type { Graph, Model } from '../../src/core/ir';
import { buildOnnx, tensor } from '../../src/core/onnx/build';
import { readOnnx } from '../../src/core/onnx/reader';
import { elementCount } from '../../src/core/onnx/values';
import { readXModel } from '../../src/core/xmodel/codec';
import { parseNpy, parseNpz, writeNpy, writeNpz, type NdArray } from '../../src/core/data/npy';
import { decodeImage } from '../../src/core/data/image';
import { parseQuantConfig } from '../../src/core/quant/config';
import { parsePreprocess } from '../../src/core/data/preprocess';
import { summarize } from '../../src/core/analysis/summary';
import { layersOf, partition, targetByArch } from '../../src/core/compile';
import { toDisplayGraph } from '../../src/core/view/display';
import { layoutInput } from '../../src/core/view/layout';
import { xmodelToModel } from '../../src/core/xmodel/to-model';

export interface FuzzTarget {
  readonly name: string;
  /** Byte-level inputs, or JSON documents for the JSON readers. */
  readonly kind: 'bytes' | 'json';
  seeds(): (Uint8Array | unknown)[];
  /** Reads one input; throws what the reader throws; returns a problem with an accepted result, if any. */
  run(input: Uint8Array): string | undefined;
}

const repoFile = (p: string): Uint8Array | undefined => (existsSync(p) ? new Uint8Array(readFileSync(p)) : undefined);
const isDim = (d: unknown) => typeof d === 'string' || (typeof d === 'number' && Number.isSafeInteger(d) && d >= 0);

/** Impossible shapes anywhere in an accepted model (every graph, bodies included). */
function modelProblem(m: Model): string | undefined {
  const graphs: Graph[] = [m.graph];
  for (let i = 0; i < graphs.length; i++) {
    const g = graphs[i];
    for (const [n, t] of g.initializers) {
      if (!t.shape.every(isDim)) return `initializer ${n} has shape [${t.shape}]`;
      if (t.dtype === 'string' ? t.values.length !== elementCount(t) : false) return `initializer ${n}: data length ≠ shape`;
    }
    for (const [n, v] of g.valueInfo) if (v.shape && !v.shape.every(isDim)) return `value ${n} has shape [${v.shape}]`;
    for (const v of [...g.inputs, ...g.outputs]) if (v.shape && !v.shape.every(isDim)) return `${v.name} has shape [${v.shape}]`;
    for (const node of g.nodes)
      for (const a of Object.values(node.attrs)) {
        if (a.kind === 'graph') graphs.push(a.value);
        else if (a.kind === 'graphs') graphs.push(...a.value);
      }
  }
  return undefined;
}

function arrayProblem(a: NdArray): string | undefined {
  if (!a.shape.every(isDim)) return `shape [${a.shape}]`;
  const n = a.shape.reduce((p, q) => p * q, 1);
  if (n !== a.data.length) return `shape [${a.shape}] holds ${n} elements but data has ${a.data.length}`;
  return undefined;
}

/** Small models that reach the readers' corners: bodies, sparse and typed initializers, shape ops. */
function builtOnnx(): Uint8Array[] {
  const body: Graph = {
    name: 'then', nodes: [{ name: 'n', opType: 'Identity', domain: '', inputs: ['x'], outputs: ['t'], attrs: {} }],
    inputs: [], outputs: [{ name: 't', dtype: 'float32', shape: [1, 4] }], initializers: new Map(), valueInfo: new Map(),
  };
  return [
    buildOnnx({
      inputs: { x: ['float32', [1, 4]], c: ['bool', []] }, outputs: ['y', 'p', 'q'],
      initializers: { s: tensor('int64', [2], [2, 2]), st: tensor('int64', [1], [1]), en: tensor('int64', [1], [3]), sh: tensor('int64', [2], [2, 2]) },
      nodes: [
        { op: 'If', inputs: ['c'], outputs: ['y'], attrs: { then_branch: body, else_branch: body } },
        { op: 'Split', inputs: ['x', 's'], outputs: ['p', 'q'], attrs: { axis: 1 } },
        { op: 'Slice', inputs: ['x', 'st', 'en', 'st'], outputs: ['sl'] },
        { op: 'ConstantOfShape', inputs: ['sh'], outputs: ['co'], attrs: { value: tensor('float32', [1], [1]) } },
        { op: 'Expand', inputs: ['x', 'sh'], outputs: ['ex'] },
        { op: 'Tile', inputs: ['x', 'sh'], outputs: ['ti'] },
        { op: 'Pad', inputs: ['x', 'sh'], outputs: ['pa'] },
        { op: 'Concat', inputs: ['x', 'x'], outputs: ['ca'], attrs: { axis: 1 } },
        { op: 'Resize', inputs: ['x', '', '', 'sh'], outputs: ['re'] },
        { op: 'Reshape', inputs: ['x', 'sh'], outputs: ['rs'] },
        { op: 'Unsqueeze', inputs: ['x', 'st'], outputs: ['un'] },
      ],
    }, ),
    buildOnnx({
      opset: 11,
      inputs: { x: ['float32', [1, 3, 8, 8]] }, outputs: ['y'],
      initializers: { w: tensor('float32', [2, 3, 3, 3], new Float32Array(54).fill(0.5)), b: tensor('float16', [2], [0.5, 1]) },
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Split', inputs: ['c'], outputs: ['y', 'z'], attrs: { axis: 1, split: [1, 1] } },
      ],
    }),
  ];
}

const B4096 = targetByArch('B4096');

/** What opening a model does after reading it: the display graph, its layout input, the summary, a compile. */
function openProblem(m: Model): string | undefined {
  const p = modelProblem(m);
  if (p) return p;
  layoutInput(toDisplayGraph(m));
  summarize(m);
  partition(layersOf({ kind: 'onnx', model: m }), B4096);
  return undefined;
}

const onnxSeeds = () => [...builtOnnx(), repoFile('public/models/mnist-8.onnx'), repoFile('public/models/light_resnet50.onnx')].filter((b): b is Uint8Array => !!b);
const xmodelSeeds = () => [repoFile('test/fixtures/xmodel/tf2_custom_op_compiled_B4096.xmodel')].filter((b): b is Uint8Array => !!b);

export const TARGETS: readonly FuzzTarget[] = [
  {
    name: 'onnx', kind: 'bytes', seeds: onnxSeeds,
    run: (b) => modelProblem(readOnnx(b)),
  },
  {
    // The reader and everything opening a model runs next: no accepted model may break them.
    name: 'onnx-open', kind: 'bytes', seeds: onnxSeeds,
    run: (b) => openProblem(readOnnx(b)),
  },
  {
    name: 'xmodel', kind: 'bytes', seeds: xmodelSeeds,
    run: (b) => {
      const m = readXModel(b);
      for (const o of m.ops) if (!o.output.shape.every(isDim)) return `op ${o.name} has shape [${o.output.shape}]`;
      return undefined;
    },
  },
  {
    name: 'xmodel-open', kind: 'bytes', seeds: xmodelSeeds,
    run: (b) => {
      const x = readXModel(b);
      partition(layersOf({ kind: 'xmodel', xmodel: x }), B4096);
      return openProblem(xmodelToModel(x));
    },
  },
  {
    name: 'npy', kind: 'bytes',
    seeds: () => {
      const arrays: NdArray[] = [
        { dtype: 'uint8', shape: [2, 3, 4], data: Uint8Array.from({ length: 24 }, (_, i) => i) },
        { dtype: 'float32', shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => i / 3) },
        { dtype: 'int64', shape: [4], data: BigInt64Array.of(1n, -2n, 3n, 4n) },
        { dtype: 'float64', shape: [], data: Float64Array.of(Math.PI) },
        { dtype: 'int16', shape: [0, 7], data: new Int16Array(0) },
      ];
      const f16 = writeNpy({ dtype: 'uint16', shape: [2, 2], data: Uint16Array.of(0x3c00, 0xc000, 0x7c00, 0x0001) });
      f16.set(new TextEncoder().encode("'<f2'"), f16.indexOf(0x27, 10)); // same header length as '<u2'
      return [...arrays.map(writeNpy), f16];
    },
    run: (b) => arrayProblem(parseNpy(b, 'fuzz.npy')),
  },
  {
    name: 'npz', kind: 'bytes',
    seeds: () => [
      writeNpz({ a: { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }, b: { dtype: 'uint8', shape: [3], data: Uint8Array.of(1, 2, 3) } }, false),
      writeNpz({ x: { dtype: 'int32', shape: [2, 3], data: Int32Array.of(1, 2, 3, 4, 5, 6) } }, true),
    ],
    run: (b) => {
      for (const a of parseNpz(b, 'fuzz.npz').values()) {
        const p = arrayProblem(a);
        if (p) return p;
      }
      return undefined;
    },
  },
  {
    name: 'image', kind: 'bytes',
    seeds: () => {
      const rgba = Uint8Array.from({ length: 6 * 5 * 4 }, (_, i) => (i * 37) & 0xff);
      return [
        encodePng({ width: 6, height: 5, data: rgba, channels: 4, depth: 8 }),
        encodePng({ width: 3, height: 3, data: Uint16Array.from({ length: 27 }, (_, i) => i * 2000), channels: 3, depth: 16 }),
        encodePng({ width: 5, height: 2, data: Uint8Array.from({ length: 20 }, (_, i) => i * 12), channels: 2, depth: 8 }),
        encodePng({ width: 4, height: 4, data: Uint8Array.from({ length: 16 }, (_, i) => i * 16), channels: 1, depth: 8 }),
        new Uint8Array(jpeg.encode({ width: 6, height: 5, data: rgba }, 80).data),
      ];
    },
    run: (b) => {
      const img = decodeImage(b, 'fuzz.png');
      if (img.data.length !== img.width * img.height * img.channels) return `image ${img.width}×${img.height}×${img.channels} holds ${img.data.length} bytes`;
      return undefined;
    },
  },
  {
    name: 'quant-config', kind: 'json',
    seeds: () => [
      {},
      {
        convert_relu6_to_relu: true, include_cle: false, target_device: 'CPU',
        overall_quantize_config: { bit_width: 8, method: 'maxmin', scale_type: 'float', per_channel: false },
        tensor_quantize_config: { activation: { method: 'percentile', percentage: 99.9 }, weights: { per_channel: true, method: 'maxmin' } },
        layer_quantize_config: [{ layer_type: 'Conv', quantizable_data_type: ['weights', 'activation'], overall_quantize_config: { bit_width: 4 } }],
      },
    ],
    run: (b) => { parseQuantConfig(new TextDecoder().decode(b)); return undefined; },
  },
  {
    name: 'preprocess', kind: 'json',
    seeds: () => [{}, { layout: 'NCHW', color: 'BGR', size: [32, 32], resize: 'letterbox', pad_value: 114, scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: 0.25 }],
    run: (b) => { parsePreprocess(new TextDecoder().decode(b)); return undefined; },
  },
];
