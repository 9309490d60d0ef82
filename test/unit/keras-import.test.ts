// Keras .h5 (tf.keras 2.x, Keras 3), .keras zips and vai_q_tensorflow2 quantized .h5 → NCHW graphs of
// ONNX ops. Fixtures and their NumPy reference outputs come from test/fixtures/keras/make.py.
import { readFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/core/data/npy';
import { isInputError } from '../../src/core/errors';
import { attr, type Model } from '../../src/core/ir';
import { openH5 } from '../../src/core/keras/hdf5';
import { snakeCase } from '../../src/core/keras/read';
import { readOnnx } from '../../src/core/onnx/reader';
import { writeOnnx } from '../../src/core/onnx/writer';
import { openModelAsync } from '../../src/core/open';
import { importQdq } from '../../src/core/quant/qdq';
import { runFloat } from '../../src/core/sim/float/interpreter';
import { layersOf, partition, targetByArch } from '../../src/core/compile';

const DIR = 'test/fixtures/keras/';
const file = (n: string) => new Uint8Array(readFileSync(DIR + n));
const open = (n: string) => openModelAsync(file(n), n);

/** Runs every sample of the fixture's NHWC input through the model (as NCHW); returns outputs and the reference. */
function compare(m: Model, base: string): { got: Float32Array; want: Float32Array } {
  const x = parseNpy(file(`${base}.input.npy`));
  const want = parseNpy(file(`${base}.output.npy`)).data as Float32Array;
  const [n, h, w, c] = x.shape as number[];
  const xd = x.data as Float32Array;
  const got = new Float32Array(want.length);
  const per = want.length / n;
  for (let s = 0; s < n; s++) {
    const d = new Float32Array(c * h * w);
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) d[(k * h + i) * w + j] = xd[((s * h + i) * w + j) * c + k];
    const out = Object.values(runFloat(m, { [m.graph.inputs[0].name]: { shape: [1, c, h, w], data: d } }))[0];
    got.set(out.data, s * per);
  }
  return { got, want };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function inputError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(isInputError(e)).toBe(true);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('Keras import', () => {
  it('tf.keras 2.x Functional .h5: every layer kind, equal to the NumPy forward pass', async () => {
    const m = await open('tf2_functional.h5');
    expect(m.format).toBe('keras-h5');
    expect(m.producerVersion).toBe('2.11.0');
    expect(m.graph.inputs[0]).toMatchObject({ name: 'input_1', shape: [1, 3, 8, 8] });
    const names = new Set(m.graph.nodes.map((n) => n.name));
    for (const l of ['conv2d', 'batch_normalization', 'depthwise_conv2d', 'separable_conv2d', 'max_pooling2d', 'average_pooling2d',
      'add', 'multiply', 'leaky_re_lu', 'up_sampling2d', 'conv2d_transpose', 'concatenate', 'global_average_pooling2d', 'dense']) {
      expect(names.has(l), l).toBe(true);
    }
    const conv = m.graph.nodes.find((n) => n.name === 'conv2d')!;
    // HWIO [3, 3, 3, 8] → OIHW; SAME with stride 2 on 8: TensorFlow pads 0 before, 1 after.
    expect(m.graph.initializers.get(conv.inputs[1])!.shape).toEqual([8, 3, 3, 3]);
    expect(attr(conv, 'pads', 'ints')).toEqual([0, 0, 1, 1]);
    const dw = m.graph.nodes.find((n) => n.name === 'depthwise_conv2d')!;
    expect(m.graph.initializers.get(dw.inputs[1])!.shape).toEqual([16, 1, 3, 3]);
    expect(attr(dw, 'group', 'int')).toBe(8);
    const { got, want } = compare(m, 'tf2_functional');
    expect(maxDiff(got, want)).toBeLessThan(1e-5);
  });

  it('reads the newest HDF5 layout too (superblock v3, dense attribute storage, chunked gzip+shuffle weights)', async () => {
    const bytes = file('tf2_functional_latest.h5');
    expect(bytes[8]).toBe(3); // superblock version
    const m = await openModelAsync(bytes, 'tf2_functional_latest.h5');
    const { got, want } = compare(m, 'tf2_functional');
    expect(maxDiff(got, want)).toBeLessThan(1e-5);
    expect(file('tf2_functional.h5')[8]).toBe(0);
  });

  it('Keras 3 Sequential .h5 (names without :0, layer_names split in two) with Flatten heads', async () => {
    const m = await open('k3_sequential.h5');
    expect(m.producerVersion).toBe('3.6.0');
    // hard_sigmoid is Keras 3's relu6(x + 3) / 6.
    expect(attr(m.graph.nodes.find((n) => n.opType === 'HardSigmoid')!, 'alpha', 'float')).toBeCloseTo(1 / 6, 6);
    // The channels-last Flatten is folded into the Dense rows: no Transpose for the DPU to refuse.
    expect(m.graph.nodes.filter((n) => n.opType === 'Transpose').map((n) => n.name)).toEqual(['reshape/to_nchw']);
    const { got, want } = compare(m, 'k3_sequential');
    expect(maxDiff(got, want)).toBeLessThan(1e-5);
  });

  it('the Flatten fixture tells HWC from CHW order: the file\'s unpermuted Dense rows give another answer', async () => {
    const m = await open('k3_sequential.h5');
    const h5 = await openH5(file('k3_sequential.h5'), 'k3_sequential.h5');
    const stored = h5.dataset('model_weights/dense/dense/kernel')!;
    h5.close();
    const folded = m.graph.initializers.get('dense/kernel')!;
    expect(folded.shape).toEqual(stored.shape);
    const naive: Model = {
      ...m,
      graph: { ...m.graph, initializers: new Map([...m.graph.initializers, ['dense/kernel', { ...folded, values: Float32Array.from(stored.values) }]]) },
    };
    const { got, want } = compare(naive, 'k3_sequential');
    expect(maxDiff(got, want)).toBeGreaterThan(1e-2);
  });

  it('Keras 3 .keras zip: layers/<snake_case class>[_n]/vars/<i>, Functional with Keras 3 inbound nodes', async () => {
    const m = await open('k3_functional.keras');
    expect(m.format).toBe('keras');
    expect(m.graph.nodes.map((n) => n.name)).toEqual(expect.arrayContaining(['rescale', 'stem_conv', 'stem', 'branch', 'bn', 'sum', 'pool', 'flat', 'logits', 'probs']));
    const { got, want } = compare(m, 'k3_functional');
    expect(maxDiff(got, want)).toBeLessThan(1e-5);
    expect(['Conv2D', 'DepthwiseConv2D', 'Conv2DTranspose', 'BatchNormalization', 'GlobalAveragePooling2D'].map(snakeCase))
      .toEqual(['conv2d', 'depthwise_conv2d', 'conv2d_transpose', 'batch_normalization', 'global_average_pooling2d']);
  });

  it('vai_q_tensorflow2 quantized .h5 opens as a QDQ model with the stored fix points, and computes the quantized result', async () => {
    const m = await open('vaiq_quantized.h5');
    expect(m.metadata.quantized_by).toMatch(/vai_q/);
    const { fixPoints } = importQdq(m);
    const fp = (t: string) => fixPoints.get(t)?.fixPoint;
    expect(fp('input_1')).toBe(6);
    expect(fp('quant_conv2d/kernel')).toBe(7);
    expect(fp('quant_conv2d/bias')).toBe(8);
    expect(fp('quant_conv2d/relu')).toBe(5);
    expect(fp('quant_dense/kernel')).toBe(7);
    expect(fp('quant_dense/bias')).toBe(7);
    expect(fp(m.graph.outputs[0].name)).toBe(4);
    const { got, want } = compare(m, 'vaiq_quantized');
    expect(maxDiff(got, want)).toBe(0);
    // Compile takes the fix points as they are: one DPU subgraph, no calibration.
    const p = partition(layersOf({ kind: 'onnx', model: m }), targetByArch('DPUCZDX8G_ISA1_B4096'));
    expect(p.subgraphs.filter((s) => s.device === 'DPU')).toHaveLength(1);
  });

  it('a backbone model used as a layer (tf.keras .h5 and Keras 3 .keras): its layers join the graph', async () => {
    for (const f of ['nested_backbone.h5', 'nested_backbone.keras']) {
      const m = await open(f);
      expect(m.graph.nodes.map((n) => n.name)).toEqual(expect.arrayContaining(['norm', 'conv1', 'bn1', 'relu1', 'gap', 'head']));
      const { got, want } = compare(m, 'nested_backbone');
      expect(maxDiff(got, want), f).toBeLessThan(1e-5);
    }
  });

  it('an unknown layer is drawn (keras domain) with its config, not refused', async () => {
    const m = await open('custom_layer.h5');
    const n = m.graph.nodes.find((x) => x.name === 'blur')!;
    expect(n.opType).toBe('MyBlurPool');
    expect(n.domain).toBe('keras');
    expect(JSON.parse(attr(n, 'config', 'string')!)).toMatchObject({ strength: 0.5 });
  });

  it('exports as float ONNX that reads back and computes the same', async () => {
    const m = await open('k3_functional.keras');
    const back = readOnnx(writeOnnx(m));
    const a = compare(m, 'k3_functional').got;
    const b = compare(back, 'k3_functional').got;
    expect(maxDiff(a, b)).toBe(0);
  });

  it('bad files: truncated HDF5, HDF5 without a model, zip without config.json — one clear message', async () => {
    const h5 = file('tf2_functional.h5');
    expect(await inputError(openModelAsync(h5.subarray(0, 4000), 'cut.h5'))).toMatch(/cut\.h5.*(damaged|truncated)/);
    expect(await inputError(openModelAsync(h5.subarray(0, 40000), 'cut.h5'))).toMatch(/cut\.h5.*(damaged|truncated)/);
    const zip = file('k3_functional.keras');
    const { unzipSync } = await import('fflate');
    const parts = unzipSync(zip);
    // model.weights.h5 is an HDF5 file with weights only.
    expect(await inputError(openModelAsync(parts['model.weights.h5'], 'weights.h5'))).toMatch(/without a Keras model_config/);
    const noConfig = zipSync({ 'metadata.json': parts['metadata.json'], 'model.weights.h5': parts['model.weights.h5'] });
    expect(await inputError(openModelAsync(noConfig, 'm.keras'))).toMatch(/m\.keras is a zip without config\.json/);
    const pt = zipSync({ 'archive/data.pkl': new Uint8Array([0x80, 2]), 'archive/version': new TextEncoder().encode('3') });
    expect(await inputError(openModelAsync(pt, 'resnet.pt'))).toMatch(/resnet\.pt is a PyTorch checkpoint/);
    const badJson = zipSync({ 'config.json': new TextEncoder().encode('{"class_name": "Sequential", '), 'model.weights.h5': parts['model.weights.h5'] });
    expect(await inputError(openModelAsync(badJson, 'm.keras'))).toMatch(/not valid JSON/);
  });
});
