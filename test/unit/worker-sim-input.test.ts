// The samples the Simulate step feeds (workers/quant.ts sampleFeed): the calibration set's entries, or
// another file read with the calibration set's preprocessing, one sample at batch 1.
import { readFileSync } from 'node:fs';
import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { parseNpy, writeNpy } from '../../src/core/data/npy';
import { readOnnx } from '../../src/core/onnx/reader';
import { resetQuant, sampleFeed, setCalibration } from '../../workers/quant';

const model = readOnnx(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')));
const input = model.graph.inputs[0].name;
const file = (name: string) => ({ name, bytes: new Uint8Array(readFileSync(`public/calib/${name}`)) });

describe('simulation samples', () => {
  it('reads an entry of the calibration set, or of another file with the same preprocessing', () => {
    resetQuant();
    expect(() => sampleFeed(model, { kind: 'calib', index: 0 })).toThrow(/no calibration data loaded/);
    setCalibration(model, [file('fmnist_calib200.npy')], { scale: 0.5 });
    const a = sampleFeed(model, { kind: 'calib', index: 7 });
    expect(a.count).toBe(200);
    expect(a.feeds[input].shape).toEqual([1, 1, 28, 28]);
    const raw = parseNpy(file('fmnist_calib200.npy').bytes).data as Uint8Array;
    expect(Array.from(a.feeds[input].data.subarray(0, 784))).toEqual(Array.from(raw.subarray(7 * 784, 8 * 784), (v) => v * 0.5));
    const e = sampleFeed(model, { kind: 'files', files: [file('fmnist_eval1000.npy')], index: 999 });
    expect(e.count).toBe(1000);
    const evalRaw = parseNpy(file('fmnist_eval1000.npy').bytes).data as Uint8Array;
    expect(Array.from(e.feeds[input].data)).toEqual(Array.from(evalRaw.subarray(999 * 784), (v) => v * 0.5));
    expect(() => sampleFeed(model, { kind: 'files', files: [file('fmnist_eval1000.npy')], index: 1000 })).toThrow(/sample 1000 is out of range: the set holds 1000/);
    // An images .npy of another size (a user's evaluation set) is named at once.
    const big = { name: 'x32.npy', bytes: writeNpy({ dtype: 'uint8', shape: [5, 32, 32], data: new Uint8Array(5 * 1024) }) };
    expect(() => sampleFeed(model, { kind: 'files', files: [big], index: 0 })).toThrow(/x32\.npy.*32/);
    // The feed is a copy: handing it to another worker leaves the calibration set intact.
    a.feeds[input].data.fill(0);
    expect(sampleFeed(model, { kind: 'calib', index: 7 }).feeds[input].data[300]).toBe(raw[7 * 784 + 300] * 0.5);
    resetQuant();
  });

  it('without a calibration set, a file is read with the preset it is given (the sample\'s samples.json entry)', () => {
    resetQuant();
    const face = readOnnx(new Uint8Array(readFileSync('public/models/retinaface_vitis_qdq.onnx')));
    const preset = (JSON.parse(readFileSync('public/models/samples.json', 'utf8')) as { file: string; preprocess?: unknown }[])
      .find((s) => s.file === 'retinaface_vitis_qdq.onnx')!.preprocess;
    // A 320×320 PNG of one colour (R 200, G 100, B 50): BGR minus 104, 117, 123, channels first.
    const png = { name: 'flat.png', bytes: flatPng(320, 320, [200, 100, 50]) };
    const r = sampleFeed(face, { kind: 'files', files: [png], index: 0, preprocess: preset });
    const x = r.feeds[face.graph.inputs[0].name];
    expect(x.shape).toEqual([1, 3, 320, 320]);
    expect([x.data[0], x.data[320 * 320], x.data[2 * 320 * 320]]).toEqual([50 - 104, 100 - 117, 200 - 123]);
    expect(r.preprocess).toMatchObject({ color: 'bgr', mean: [104, 117, 123] });
    // A loaded calibration set's preprocessing wins over the preset.
    setCalibration(face, [png], { color: 'rgb' });
    const c = sampleFeed(face, { kind: 'files', files: [png], index: 0, preprocess: preset }).feeds[face.graph.inputs[0].name];
    expect(c.data[0]).toBe(200);
    resetQuant();
  });
});

function flatPng(w: number, h: number, rgb: readonly number[]): Uint8Array {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([...rgb, 255], i * 4);
  return encode({ width: w, height: h, data: rgba, channels: 4 });
}
