// .tflite → NCHW graph of ONNX ops: structure, weight layouts, quantization shown as stored, float runs,
// and one clear message for a bad FlatBuffer. Fixtures: tflite-micro (Apache-2.0), see ATTRIBUTION.md.
import { readFileSync } from 'node:fs';
import * as flatbuffers from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { isInputError } from '../../src/core/errors';
import { attr, topoSort, type Model } from '../../src/core/ir';
import { readOnnx } from '../../src/core/onnx/reader';
import { toFloat64 } from '../../src/core/onnx/values';
import { writeOnnx } from '../../src/core/onnx/writer';
import { openModel, openModelAsync } from '../../src/core/open';
import { runFloat } from '../../src/core/sim/float/interpreter';
import { Conv2DOptions, DepthwiseConv2DOptions, Model as TflModel } from '../../src/core/tflite/schema/schema_generated';
import { readTflite } from '../../src/core/tflite/to-model';
import { layersOf, partition, targetByArch } from '../../src/core/compile';

const bytes = (p: string) => new Uint8Array(readFileSync(p));
const HELLO_F = bytes('test/fixtures/tflite/hello_world_float.tflite');
const HELLO_Q = bytes('test/fixtures/tflite/hello_world_int8.tflite');
const PERSON = bytes('public/models/person_detect.tflite');

function run1(m: Model, x: number): number {
  const out = runFloat(m, { [m.graph.inputs[0].name]: { shape: [1, 1], data: Float32Array.of(x) } });
  return Object.values(out)[0].data[0];
}

function inputError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isInputError(e)).toBe(true);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('TFLite import', () => {
  it('opens hello_world (float) as three Gemms that compute ~sin(x)', () => {
    const m = openModel(HELLO_F, 'hello_world_float.tflite');
    expect(m.format).toBe('tflite');
    expect(m.producer).toContain('TFLite');
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
    // Node names are the file's tensor names.
    expect(m.graph.nodes[0].name).toBe('sequential/dense/MatMul;sequential/dense/Relu;sequential/dense/BiasAdd');
    expect(m.graph.outputs[0]).toMatchObject({ name: 'StatefulPartitionedCall:0', shape: [1, 1] });
    let worst = 0;
    for (let x = 0; x <= 2 * Math.PI; x += 0.1) worst = Math.max(worst, Math.abs(run1(m, x) - Math.sin(x)));
    // The model is a small trained approximation: within 0.1 of sin everywhere on [0, 2π].
    expect(worst).toBeLessThan(0.1);
    expect(worst).toBeGreaterThan(0);
  });

  it('FULLY_CONNECTED weights stay [out, in] (Gemm transB) with the values of the file', () => {
    const m = readTflite(HELLO_F);
    const tm = TflModel.getRootAsModel(new flatbuffers.ByteBuffer(HELLO_F));
    const sg = tm.subgraphs(0)!;
    let t = sg.tensors(0)!;
    for (let i = 0; i < sg.tensorsLength(); i++) if (sg.tensors(i)!.name() === 'sequential/dense_1/MatMul') t = sg.tensors(i)!;
    const raw = tm.buffers(t.buffer())!.dataArray()!;
    const stored = new Float32Array(raw.slice().buffer);
    const w = m.graph.initializers.get('sequential/dense_1/MatMul')!;
    expect(w.shape).toEqual([16, 16]);
    expect(Array.from(toFloat64(w))).toEqual(Array.from(stored));
    expect(attr(m.graph.nodes[2], 'transB', 'int')).toBe(1);
  });

  it('opens hello_world int8: dequantized weights, the file\'s scales and zero points on the nodes', () => {
    const q = readTflite(HELLO_Q);
    const f = readTflite(HELLO_F);
    const first = q.graph.nodes[0];
    expect(attr(first, 'tflite_input_scale', 'floats')?.[0]).toBeCloseTo(0.024480115622282028, 12);
    expect(attr(first, 'tflite_input_zero_point', 'ints')).toEqual([-128]);
    expect(attr(first, 'tflite_weight_scale', 'floats')?.[0]).toBeCloseTo(0.004039009101688862, 12);
    expect(attr(first, 'tflite_output_scale_vs_pow2', 'string')).toMatch(/^2\^-6\.23, nearest 2\^-6/);
    expect(q.metadata.tflite_quantized).toMatch(/re-quantize/);
    // Weights are float now: scale · (q − zero point), each an integer multiple of the scale.
    const w = toFloat64(q.graph.initializers.get('sequential/dense/MatMul')!);
    for (const v of w) expect(Math.abs(v / 0.004039009101688862 - Math.round(v / 0.004039009101688862))).toBeLessThan(1e-3);
    // The dequantized network follows the float one within its 8-bit error.
    for (const x of [0.3, 1.2, 2.5, 4, 5.5]) expect(Math.abs(run1(q, x) - run1(f, x))).toBeLessThan(0.1);
  });

  it('opens person_detect: NCHW input, OIHW / depthwise weights, TensorFlow SAME pads, no transpose before the head', () => {
    const m = openModel(PERSON, 'person_detect.tflite');
    expect(m.graph.inputs[0]).toMatchObject({ name: 'input', shape: [1, 1, 96, 96] });
    expect(m.graph.outputs[0]).toMatchObject({ name: 'MobilenetV1/Predictions/Reshape_1', shape: [1, 2] });
    const ops: Record<string, number> = {};
    for (const n of m.graph.nodes) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
    expect(ops).toEqual({ Conv: 28, Clip: 27, AveragePool: 1, Reshape: 1, Softmax: 1 });
    expect(topoSort(m.graph)).toHaveLength(m.graph.nodes.length);
    const conv0 = m.graph.nodes[0];
    // DEPTHWISE_CONV_2D [1, 3, 3, 8] on a 1-channel input (depth multiplier 8) → [8, 1, 3, 3], one group.
    expect(m.graph.initializers.get(conv0.inputs[1])!.shape).toEqual([8, 1, 3, 3]);
    expect(attr(conv0, 'group', 'int')).toBe(1);
    // 96 → 48 with a 3×3 stride-2 SAME window: TensorFlow pads 0 before, 1 after.
    expect(attr(conv0, 'pads', 'ints')).toEqual([0, 0, 1, 1]);
    expect(attr(conv0, 'auto_pad', 'string')).toBeUndefined();
    expect(attr(conv0, 'tflite_weight_scale', 'floats')).toHaveLength(8);
    const dw = m.graph.nodes.find((n) => n.name === 'MobilenetV1/MobilenetV1/Conv2d_1_depthwise/Relu6')!;
    expect(attr(dw, 'group', 'int')).toBe(8);
    const pw = m.graph.nodes.find((n) => n.name === 'MobilenetV1/MobilenetV1/Conv2d_1_pointwise/Relu6')!;
    expect(m.graph.initializers.get(pw.inputs[1])!.shape).toEqual([16, 8, 1, 1]);
    // Every shape is known, so the compiler sees fixed sizes.
    for (const n of m.graph.nodes) expect(m.graph.valueInfo.get(n.outputs[0])?.shape?.every((d) => typeof d === 'number')).toBe(true);
  });

  it('CONV_2D OHWI filters become OIHW: element [o, i, h, w] is the file\'s [o, h, w, i], dequantized per channel', () => {
    const m = readTflite(PERSON);
    const tm = TflModel.getRootAsModel(new flatbuffers.ByteBuffer(PERSON));
    const sg = tm.subgraphs(0)!;
    const name = 'MobilenetV1/Conv2d_2_pointwise/weights/read';
    let idx = -1;
    for (let i = 0; i < sg.tensorsLength(); i++) if (sg.tensors(i)!.name() === name) idx = i;
    const t = sg.tensors(idx)!;
    const [O, H, W, I] = Array.from(t.shapeArray()!);
    const raw = new Int8Array(tm.buffers(t.buffer())!.dataArray()!.slice().buffer);
    const scale = Array.from(t.quantization()!.scaleArray()!);
    const w = m.graph.initializers.get(name)!;
    expect(w.shape).toEqual([O, I, H, W]);
    const v = toFloat64(w);
    for (const [o, i] of [[0, 0], [5, 3], [O - 1, I - 1], [17, 11]]) {
      const want = scale[o] * raw[((o * H) * W) * I + i];
      expect(v[((o * I + i) * H) * W]).toBeCloseTo(Math.fround(want), 7);
    }
  });

  it('person_detect in float equals a plain NHWC reference over the file\'s dequantized tensors', () => {
    const m = readTflite(PERSON);
    const tm = TflModel.getRootAsModel(new flatbuffers.ByteBuffer(PERSON));
    const sg = tm.subgraphs(0)!;
    const tensor = (i: number) => {
      const t = sg.tensors(i)!;
      const q = t.quantization()!;
      const shape = Array.from(t.shapeArray()!);
      const buf = tm.buffers(t.buffer())!.dataArray();
      const sc = Array.from(q.scaleArray() ?? []);
      const zp = Array.from({ length: q.zeroPointLength() }, (_, k) => Number(q.zeroPoint(k)));
      const qd = q.quantizedDimension();
      const raw = buf && buf.length ? (t.type() === 2 ? new Int32Array(buf.slice().buffer) : new Int8Array(buf.slice().buffer)) : undefined;
      const inner = shape.slice(qd + 1).reduce((a, b) => a * b, 1);
      const data = raw && Float64Array.from(raw, (v, k) => { const c = sc.length <= 1 ? 0 : shape.length === 1 ? k : Math.floor(k / inner) % shape[qd]; return sc[c] * (v - (zp[c] ?? 0)); });
      return { shape, data };
    };
    // NHWC tensors as [h][w][c] flat arrays.
    type T = { h: number; w: number; c: number; d: Float64Array };
    const conv = (x: T, wi: number, bi: number, stride: number, depthwise: boolean): T => {
      const w = tensor(wi), b = tensor(bi).data!;
      const [, kh, kw] = w.shape;
      const oc = depthwise ? w.shape[3] : w.shape[0];
      const oh = Math.ceil(x.h / stride), ow = Math.ceil(x.w / stride);
      const ph = Math.floor(Math.max(0, (oh - 1) * stride + kh - x.h) / 2), pw = Math.floor(Math.max(0, (ow - 1) * stride + kw - x.w) / 2);
      const y = new Float64Array(oh * ow * oc);
      const mult = depthwise ? oc / x.c : 1;
      for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let o = 0; o < oc; o++) {
        let acc = b[o];
        for (let a = 0; a < kh; a++) for (let e = 0; e < kw; e++) {
          const r = i * stride + a - ph, s = j * stride + e - pw;
          if (r < 0 || s < 0 || r >= x.h || s >= x.w) continue;
          if (depthwise) acc += x.d[(r * x.w + s) * x.c + Math.floor(o / mult)] * w.data![(a * kw + e) * oc + o];
          else for (let c = 0; c < x.c; c++) acc += x.d[(r * x.w + s) * x.c + c] * w.data![((o * kh + a) * kw + e) * x.c + c];
        }
        y[(i * ow + j) * oc + o] = acc;
      }
      return { h: oh, w: ow, c: oc, d: y };
    };
    const relu6 = (x: T): T => ({ ...x, d: x.d.map((v) => Math.min(6, Math.max(0, v))) });
    const img = new Float32Array(96 * 96).map((_, i) => Math.sin(i / 97) * 0.8);
    let x: T = { h: 96, w: 96, c: 1, d: Float64Array.from(img) };
    for (let i = 0; i < sg.operatorsLength(); i++) {
      const op = sg.operators(i)!;
      const ins = Array.from(op.inputsArray()!);
      const code = tm.operatorCodes(op.opcodeIndex())!;
      const k = Math.max(code.deprecatedBuiltinCode(), code.builtinCode());
      if (k === 3 || k === 4) {
        const stride = op.builtinOptions(new (k === 4 ? DepthwiseConv2DOptions : Conv2DOptions)())!.strideH();
        x = conv(x, ins[1], ins[2], stride, k === 4);
        if (i < 27) x = relu6(x);
      } else if (k === 1) {
        // AVERAGE_POOL_2D 3×3 VALID over the 3×3 map.
        const d = new Float64Array(x.c);
        for (let c = 0; c < x.c; c++) for (let p = 0; p < 9; p++) d[c] += x.d[p * x.c + c] / 9;
        x = { h: 1, w: 1, c: x.c, d };
      }
    }
    const e = Array.from(x.d).map(Math.exp);
    const want = e.map((v) => v / (e[0] + e[1]));
    const got = Object.values(runFloat(m, { input: { shape: [1, 1, 96, 96], data: img } }))[0].data;
    expect(got).toHaveLength(2);
    expect(got[0]).toBeCloseTo(want[0], 4);
    expect(got[1]).toBeCloseTo(want[1], 4);
  });

  it('exports as float ONNX that reads back and computes the same', () => {
    const m = readTflite(HELLO_F);
    const back = readOnnx(writeOnnx(m));
    for (const x of [0.5, 2, 5]) expect(run1(back, x)).toBeCloseTo(run1(m, x), 6);
  });

  it('partitions for a DPU like an ONNX model', () => {
    const m = readTflite(PERSON);
    const p = partition(layersOf({ kind: 'onnx', model: m }), targetByArch('DPUCZDX8G_ISA1_B4096'));
    const dpu = p.subgraphs.filter((s) => s.device === 'DPU');
    expect(dpu).toHaveLength(1);
  });

  it('refuses a wrong identifier, out-of-range offsets and truncation with one clear message', async () => {
    const wrongId = HELLO_F.slice();
    wrongId.set([0x58, 0x58, 0x58, 0x58], 4);
    expect(inputError(() => openModel(wrongId, 'model.tflite'))).toMatch(/identifier is "XXXX", not "TFL3"/);
    const badRoot = HELLO_F.slice();
    new DataView(badRoot.buffer).setUint32(0, 0x7fffff00, true);
    expect(inputError(() => readTflite(badRoot))).toMatch(/root table offset .* outside the file/);
    for (const cut of [12, 200, 1000, HELLO_F.length - 400]) {
      expect(inputError(() => readTflite(HELLO_F.subarray(0, cut)))).toMatch(/TensorFlow Lite|buffer|tensor|outside|damaged|operator/);
    }
    expect(inputError(() => readTflite(new Uint8Array(4)))).toMatch(/too short/);
    // The async opener (used by the app and the CLI) gives the same.
    await expect(openModelAsync(wrongId, 'model.tflite')).rejects.toThrow(/not "TFL3"/);
  });
});
