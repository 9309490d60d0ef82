import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { memorySource, openNpy, parseNpy, parseNpz, writeNpy, writeNpz, toFloat32, type ByteSource } from '../../src/core/data/npy';
import { decodeImage } from '../../src/core/data/image';
import {
  hasPreprocess, imageToSample, inputSpecFromShape, letterbox, parsePreprocess, resizeBilinear,
} from '../../src/core/data/preprocess';
import { formDefaults, formOfPreset, specOfForm, withField } from '../../src/ui/quant/preprocessForm';
import { batches, limitSamples, samplesFromArray, samplesFromFiles, samplesFromImages } from '../../src/core/data/calib';

/** A .npy file written byte by byte, as numpy 1.x writes version 1.0. */
function handNpy(descr: string, shape: string, body: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header = header.padEnd(Math.ceil((10 + header.length + 1) / 64) * 64 - 11, ' ') + '\n';
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 255, header.length >> 8]);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

describe('npy', () => {
  it('parses uint8 (N,H,W) and float32 NCHW written by hand', () => {
    const u = parseNpy(handNpy('|u1', '(2, 2, 3)', Uint8Array.from({ length: 12 }, (_, i) => i * 20)));
    expect(u.dtype).toBe('uint8');
    expect(u.shape).toEqual([2, 2, 3]);
    expect(Array.from(u.data as Uint8Array).slice(0, 4)).toEqual([0, 20, 40, 60]);
    const f = new Float32Array([0.5, -1.25, 3, 1e-3]);
    const a = parseNpy(handNpy('<f4', '(1, 1, 2, 2)', new Uint8Array(f.buffer)));
    expect(a.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(f));
    const one = parseNpy(handNpy('<f8', '(3,)', new Uint8Array(new Float64Array([1, 2, 3]).buffer)));
    expect(one.shape).toEqual([3]);
    expect(Array.from(toFloat32(one))).toEqual([1, 2, 3]);
    const half = parseNpy(handNpy('<f2', '(2,)', new Uint8Array(new Uint16Array([0x3c00, 0xc100]).buffer)));
    expect(Array.from(half.data as Float32Array)).toEqual([1, -2.5]);
  });
  it('rejects what it cannot read, naming the problem', () => {
    expect(() => parseNpy(new Uint8Array(20), 'x.npy')).toThrow('x.npy is not a .npy file');
    expect(() => parseNpy(handNpy('<c8', '(1,)', new Uint8Array(8)))).toThrow(/unsupported .npy dtype <c8/);
    expect(() => parseNpy(handNpy('<f4', '(4,)', new Uint8Array(8)))).toThrow(/truncated/);
  });
  it('writes what it reads and reads npz (stored and deflated)', () => {
    const a = { dtype: 'uint8' as const, shape: [2, 28, 28], data: Uint8Array.from({ length: 2 * 784 }, (_, i) => i & 255) };
    const back = parseNpy(writeNpy(a));
    expect(back.shape).toEqual([2, 28, 28]);
    expect(back.data).toEqual(a.data);
    const z = parseNpz(writeNpz({ x: a, y: { dtype: 'int64', shape: [2], data: new BigInt64Array([3n, 7n]) } }));
    expect([...z.keys()]).toEqual(['x', 'y']);
    expect(Array.from(toFloat32(z.get('y')!))).toEqual([3, 7]);
    const stored = parseNpz(zipSync({ 'images.npy': handNpy('|u1', '(1, 2)', new Uint8Array([9, 8])) }, { level: 0 }));
    expect(Array.from(stored.get('images')!.data as Uint8Array)).toEqual([9, 8]);
    expect(() => parseNpz(new Uint8Array([1, 2, 3]), 'bad.npz')).toThrow(/bad.npz is not a valid .npz/);
  });
});

/** A source that hands out fresh copies (as a file read does) and records every read. */
function recording(bytes: Uint8Array): ByteSource & { reads: [number, number][] } {
  const reads: [number, number][] = [];
  return { size: bytes.length, reads, read: (o, n) => { reads.push([o, n]); return bytes.slice(o, o + n); } };
}

describe('npy over a random-access source', () => {
  it('reads the same arrays as the in-memory parser, any range, every dtype', () => {
    const cases = [
      writeNpy({ dtype: 'uint8', shape: [5, 3, 2], data: Uint8Array.from({ length: 30 }, (_, i) => (i * 37) & 255) }),
      writeNpy({ dtype: 'int16', shape: [4, 3], data: Int16Array.from({ length: 12 }, (_, i) => i * 1000 - 6000) }),
      writeNpy({ dtype: 'float32', shape: [3, 1, 2, 2], data: Float32Array.from({ length: 12 }, (_, i) => i / 7 - 1) }),
      writeNpy({ dtype: 'float64', shape: [2, 3], data: Float64Array.from({ length: 6 }, (_, i) => i * 1e-9) }),
      writeNpy({ dtype: 'int64', shape: [3], data: new BigInt64Array([-5n, 0n, 9007199254740993n]) }),
      handNpy('<f2', '(2, 2)', new Uint8Array(new Uint16Array([0x3c00, 0xc100, 0x0001, 0x7c00]).buffer)),
    ];
    for (const bytes of cases) {
      const whole = parseNpy(bytes, 'a.npy');
      const n = whole.data.length;
      // The file's bytes at an odd address in memory: every typed view of them needs a copy.
      const odd = new Uint8Array(bytes.length + 1);
      odd.set(bytes, 1);
      for (const src of [memorySource(bytes), memorySource(odd.subarray(1)), recording(bytes)]) {
        const r = openNpy(src, 'a.npy');
        expect(r.dtype).toBe(whole.dtype);
        expect(r.shape).toEqual(whole.shape);
        for (const [from, count] of [[0, n], [1, n - 1], [n - 1, 1], [0, 0], [Math.floor(n / 2), Math.ceil(n / 2)]])
          expect(r.read(from, count)).toEqual(whole.data.subarray(from, from + count));
      }
    }
  });
  it('reads the header once and then only what is asked for', () => {
    const bytes = writeNpy({ dtype: 'float32', shape: [1000, 8], data: Float32Array.from({ length: 8000 }, (_, i) => i) });
    const src = recording(bytes);
    const r = openNpy(src, 'big.npy');
    expect(src.reads.every(([, n]) => n < 200)).toBe(true);
    src.reads.length = 0;
    expect(Array.from(r.read(8 * 500, 8) as Float32Array)).toEqual([4000, 4001, 4002, 4003, 4004, 4005, 4006, 4007]);
    expect(src.reads).toEqual([[bytes.length - 8000 * 4 + 500 * 32, 32]]);
    expect(() => r.read(7990, 20)).toThrow(RangeError);
  });
  it('keeps the clear errors: Fortran order, bad headers, a file that changed size', () => {
    const fortran = new TextDecoder('latin1').decode(handNpy('|u1', '(2, 2)', new Uint8Array(4))).replace("'fortran_order': False", "'fortran_order': True ");
    const f = Uint8Array.from(fortran, (c) => c.charCodeAt(0));
    expect(() => openNpy(recording(f), 'f.npy')).toThrow('f.npy: Fortran-ordered .npy is not supported (save with np.ascontiguousarray)');
    expect(() => openNpy(recording(new Uint8Array(20)), 'x.npy')).toThrow('x.npy is not a .npy file');
    const noShape = Uint8Array.from(new TextDecoder('latin1').decode(handNpy('|u1', '(2, 2)', new Uint8Array(4))).replace("'shape'", "'shap_'"), (c) => c.charCodeAt(0));
    expect(() => openNpy(recording(noShape), 'h.npy')).toThrow('h.npy: unreadable .npy header');
    expect(() => openNpy(recording(handNpy('<f4', '(4,)', new Uint8Array(8))), 't.npy')).toThrow(/t\.npy: \.npy data is truncated/);
    const cut = handNpy('|u1', '(4,)', new Uint8Array(4));
    const shrinking: ByteSource = { size: cut.length, read: (o, n) => cut.slice(o, Math.min(o + n, cut.length - (o >= 64 ? 2 : 0))) };
    expect(() => openNpy(shrinking, 's.npy').read(0, 4)).toThrow('s.npy: the file changed while it was read (2 of 4 bytes at element 0)');
  });
  it('calibration samples from a source equal those from the bytes, read a window of samples at a time', () => {
    const images = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy')));
    const bytes = writeNpy({ dtype: 'uint8', shape: [40, 28, 28], data: (images.data as Uint8Array).slice(0, 40 * 784) });
    const spec = inputSpecFromShape('image', ['N', 1, 28, 28]);
    const src = recording(bytes);
    const lazy = samplesFromFiles([{ name: 'c.npy', source: src }], spec);
    const held = samplesFromFiles([{ name: 'c.npy', bytes }], spec);
    expect(lazy.count).toBe(40);
    expect(lazy.sampleShape).toEqual(held.sampleShape);
    expect([...batches(lazy, spec)]).toEqual([...batches(held, spec)]);
    // Header reads, then three windows of 16 samples for the three batches: never the whole file.
    const data = src.reads.filter(([o]) => o >= 128);
    expect(data.map(([, n]) => n)).toEqual([16 * 784, 16 * 784, 8 * 784]);
    expect(lazy.sample(3)).toEqual(held.sample(3));
    // Preprocessed (image) reads go through the same window.
    const pre = parsePreprocess({ scale: 1 / 255 });
    expect(samplesFromFiles([{ name: 'c.npy', source: recording(bytes) }], spec, pre).sample(17)).toEqual(samplesFromFiles([{ name: 'c.npy', bytes }], spec, pre).sample(17));
    // Other files from a source are read whole, as before.
    const z = writeNpz({ x: { dtype: 'uint8', shape: [2, 28, 28], data: (images.data as Uint8Array).slice(0, 2 * 784) } });
    expect(samplesFromFiles([{ name: 'c.npz', source: recording(z) }], spec).sample(1)).toEqual(held.sample(1));
  });
});

describe('array layouts → model samples', () => {
  const nchw = inputSpecFromShape('x', ['N', 1, 4, 4]);
  const nhwc = inputSpecFromShape('x', [1, 4, 4, 3]);
  const pix = Uint8Array.from({ length: 2 * 16 }, (_, i) => i);
  it('guesses the layout from the input shape', () => {
    expect(nchw).toMatchObject({ layout: 'NCHW', sampleShape: [1, 4, 4], fixedBatch: undefined });
    expect(nhwc).toMatchObject({ layout: 'NHWC', sampleShape: [4, 4, 3], fixedBatch: 1 });
  });
  it('(N,H,W), (N,H,W,1) and (N,1,H,W) give the same NCHW samples', () => {
    const a = samplesFromArray({ dtype: 'uint8', shape: [2, 4, 4], data: pix }, nchw);
    const b = samplesFromArray({ dtype: 'uint8', shape: [2, 4, 4, 1], data: pix }, nchw);
    const c = samplesFromArray({ dtype: 'uint8', shape: [2, 1, 4, 4], data: pix }, nchw);
    expect(a.count).toBe(2);
    expect([a.asIs, b.asIs, c.asIs]).toEqual([true, true, true]);
    expect(Array.from(a.sample(1))).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
    expect(b.sample(1)).toEqual(a.sample(1));
    expect(c.sample(1)).toEqual(a.sample(1));
  });
  it('transposes NCHW data for an NHWC model and applies scale/mean/std', () => {
    const data = Float32Array.from({ length: 48 }, (_, i) => i);
    const s = samplesFromArray({ dtype: 'float32', shape: [1, 3, 4, 4], data }, nhwc, parsePreprocess({ scale: 0.5, mean: [0, 1, 2], std: 2 }));
    const x = s.sample(0);
    // pixel (0,1) channel 2 = 32 + 1 → ((33·0.5) − 2)/2
    expect(x[(0 * 4 + 1) * 3 + 2]).toBeCloseTo((33 * 0.5 - 2) / 2);
    expect(x[0]).toBe(0);
  });
  it('feeds a matching float array as is, and names both shapes on a mismatch', () => {
    const data = Float32Array.from({ length: 16 }, (_, i) => i / 10);
    expect(samplesFromArray({ dtype: 'float32', shape: [1, 1, 4, 4], data }, nchw).sample(0)).toEqual(data);
    expect(() => samplesFromArray({ dtype: 'float32', shape: [1, 5, 7, 9], data: new Float32Array(315) }, nchw, undefined, 'd.npy'))
      .toThrow('d.npy: samples of shape (5, 7, 9) do not fit model input "x" of shape (1, 4, 4)');
  });
  it('resizes (N,H,W) images to the model size when asked, and batches them', () => {
    const big = Uint8Array.from({ length: 3 * 64 }, (_, i) => (i % 64) * 4);
    const s = samplesFromArray({ dtype: 'uint8', shape: [3, 8, 8], data: big }, nchw, { resize: 'stretch' });
    expect(s.sample(0)).toHaveLength(16);
    expect(s.asIs).toBe(false);
    expect(() => samplesFromArray({ dtype: 'uint8', shape: [3, 8, 8], data: big }, nchw)).toThrow(/are \(8, 8\) but the model input "x" is N×1×4×4; set a resize in/);
    const bs = [...batches(s, nchw, 2)];
    expect(bs.map((b) => b.x.shape)).toEqual([[2, 1, 4, 4], [1, 1, 4, 4]]);
    const fixed = [...batches(samplesFromArray({ dtype: 'uint8', shape: [2, 4, 4, 3], data: new Uint8Array(96) }, nhwc), nhwc)];
    expect(fixed.map((b) => b.x.shape)).toEqual([[1, 4, 4, 3], [1, 4, 4, 3]]);
  });
});

describe('arrays: fed as is, or converted only when asked', () => {
  const spec3 = inputSpecFromShape('x', ['N', 3, 8, 8]);
  // Normalised float NCHW data, as a PyTorch DataLoader would dump it.
  const data = Float32Array.from({ length: 2 * 3 * 8 * 8 }, (_, i) => (i % 7) / 3 - 1);
  const file = [{ name: 'dataset.npy', bytes: writeNpy({ dtype: 'float32', shape: [2, 3, 8, 8], data }) }];

  it('an array of the model\'s per-sample shape goes in unchanged with no spec or an empty one', () => {
    const cli = samplesFromFiles(file, spec3);
    const empty = samplesFromFiles(file, spec3, parsePreprocess({}));
    expect(cli.asIs).toBe(true);
    expect(empty.asIs).toBe(true);
    expect(Array.from(cli.sample(1))).toEqual(Array.from(data.subarray(192, 384)));
    expect(empty.sample(1)).toEqual(cli.sample(1));
    expect(hasPreprocess({})).toBe(false);
    expect(hasPreprocess({ description: 'only words' })).toBe(false);
    expect(hasPreprocess({ scale: 1 })).toBe(true);
  });

  it('the browser form with nothing chosen sends an empty spec, so it feeds what the CLI feeds', () => {
    const d = formDefaults(['N', 3, 8, 8]);
    expect(d).toMatchObject({ layout: 'NCHW', color: 'rgb', scale: '1', sampleShape: [3, 8, 8] });
    expect(specOfForm({})).toEqual({});
    const browser = samplesFromFiles(file, spec3, parsePreprocess(specOfForm({})));
    expect(browser.sample(0)).toEqual(samplesFromFiles(file, spec3).sample(0));
    // A sample's preset is a preprocessing file: its fields are sent, and they apply to a matching array.
    const preset = formOfPreset({ scale: 0.5, layout: 'NCHW', color: 'RGB', mean: [0, 0, 1] });
    expect(specOfForm(preset)).toEqual({ scale: 0.5, layout: 'NCHW', color: 'rgb', mean: [0, 0, 1] });
    const scaled = samplesFromFiles(file, spec3, parsePreprocess(specOfForm(preset)));
    expect(scaled.asIs).toBe(false);
    expect(scaled.sample(0)[0]).toBeCloseTo(data[0] * 0.5);
    expect(scaled.sample(0)[128]).toBeCloseTo(data[128] * 0.5 - 1);
    // Clearing a field goes back to the default; raw drops scale/mean/std.
    expect(withField(preset, 'scale', '')).not.toHaveProperty('scale');
    expect(specOfForm({ raw: true, scale: '0.1', std: '2' })).toEqual({ raw: true });
  });

  it('every shipped preset survives the form: the Calibrate step letterboxes YOLOX on 114 as the CLI does', () => {
    const presets = (JSON.parse(readFileSync('public/models/samples.json', 'utf8')) as { file: string; preprocess?: Record<string, unknown> }[])
      .filter((x) => x.preprocess);
    expect(presets.some((x) => x.preprocess!.pad_value === 114)).toBe(true);
    // A non-square photo, so a letterbox border and its value show in the tensor.
    const photo = { width: 30, height: 18, channels: 3, data: Float32Array.from({ length: 30 * 18 * 3 }, (_, i) => (i * 37) % 256) };
    for (const { file: f, preprocess } of presets) {
      const { description: _, ...fields } = preprocess!;
      const direct = parsePreprocess(fields);
      const spec = inputSpecFromShape('x', direct.layout === 'NHWC' ? ['N', 24, 24, 3] : ['N', direct.color === 'grayscale' ? 1 : 3, 24, 24]);
      const sent = imageToSample(photo, spec, parsePreprocess(specOfForm(formOfPreset(preprocess))));
      expect({ f, x: Array.from(sent) }).toEqual({ f, x: Array.from(imageToSample(photo, spec, direct)) });
    }
    expect(specOfForm(formOfPreset({ resize: 'letterbox', pad_value: 114, size: [320, 480] }))).toEqual({ resize: 'letterbox', pad_value: 114, size: [320, 480] });
    expect(formDefaults(['N', 3, 416, 416])).toMatchObject({ pad: '0', size: '416, 416' });
    expect(specOfForm({ pad: ' ', size: '' })).toEqual({});
  });

  it('a matching non-image array with a spec says why the spec cannot apply', () => {
    const spec = inputSpecFromShape('x', ['N', 5, 7, 9]);
    const a = { dtype: 'float32' as const, shape: [2, 5, 7, 9], data: new Float32Array(630) };
    expect(samplesFromArray(a, spec, {}).count).toBe(2);
    let msg = '';
    try { samplesFromArray(a, spec, { scale: 0.5 }, 'd.npy'); } catch (e) { msg = (e as Error).message; }
    expect(msg).toBe('d.npy: samples of shape (5, 7, 9) already fit model input "x" but are not images, so the preprocessing cannot apply; clear it to feed them as they are');
    expect(msg).not.toContain('do not fit');
  });

  it('refuses to resize or grey-convert an array unless the spec asks, naming both shapes', () => {
    const rgb = [{ name: 'c.npy', bytes: writeNpy({ dtype: 'uint8', shape: [2, 32, 32, 3], data: Uint8Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => i & 255) }) }];
    const mono = inputSpecFromShape('image', [1, 1, 28, 28]);
    expect(() => samplesFromFiles(rgb, mono)).toThrow('c.npy: samples are (32, 32, 3) but the model input "image" is 1×1×28×28; set a resize and a colour conversion in the preprocessing to convert them');
    expect(() => samplesFromFiles(rgb, mono, { resize: 'stretch' })).toThrow(/is 1×1×28×28; set a colour conversion in/);
    expect(() => samplesFromFiles(rgb, mono, { color: 'grayscale' })).toThrow(/; set a resize in/);
    const ok = samplesFromFiles(rgb, mono, { resize: 'stretch', color: 'grayscale' });
    expect(ok.sampleShape).toEqual([1, 28, 28]);
    expect(ok.sample(1)).toHaveLength(784);
    // Reordering axes loses nothing and needs no spec: (N,H,W,1) for an NCHW 1-channel model.
    const hw1 = writeNpy({ dtype: 'uint8', shape: [1, 28, 28, 1], data: Uint8Array.from({ length: 784 }, (_, i) => i & 255) });
    expect(Array.from(samplesFromFiles([{ name: 'g.npy', bytes: hw1 }], mono).sample(0).slice(0, 3))).toEqual([0, 1, 2]);
    // Image files are resized by default, as before.
    const png = encodePng({ width: 4, height: 4, data: new Uint8Array(16).fill(7), channels: 1, depth: 8 });
    expect(Array.from(samplesFromFiles([{ name: 'a.png', bytes: png }], inputSpecFromShape('x', ['N', 1, 2, 2])).sample(0))).toEqual([7, 7, 7, 7]);
  });
});

describe('preprocessing', () => {
  it('bilinear resize with half-pixel centres', () => {
    const img = { width: 2, height: 1, channels: 1, data: new Float32Array([0, 100]) };
    expect(Array.from(resizeBilinear(img, 1, 4).data)).toEqual([0, 25, 75, 100]);
    const down = resizeBilinear({ width: 4, height: 1, channels: 1, data: new Float32Array([0, 10, 20, 30]) }, 1, 2);
    expect(Array.from(down.data)).toEqual([5, 25]);
  });
  it('letterbox keeps the aspect ratio and pads', () => {
    const img = { width: 4, height: 2, channels: 1, data: new Float32Array(8).fill(9) };
    const l = letterbox(img, 4, 4, 1);
    expect(Array.from(l.data)).toEqual([1, 1, 1, 1, 9, 9, 9, 9, 9, 9, 9, 9, 1, 1, 1, 1]);
  });
  it('RGB→gray, BGR swap, raw pixels', () => {
    const rgb = { width: 1, height: 1, channels: 3, data: new Float32Array([100, 50, 10]) };
    expect(imageToSample(rgb, inputSpecFromShape('x', [1, 1, 1, 1]))[0]).toBeCloseTo(0.299 * 100 + 0.587 * 50 + 0.114 * 10, 4);
    expect(Array.from(imageToSample(rgb, inputSpecFromShape('x', [1, 3, 1, 1]), { color: 'bgr' }))).toEqual([10, 50, 100]);
    expect(Array.from(imageToSample(rgb, inputSpecFromShape('x', [1, 3, 1, 1]), { raw: true, scale: 0.1, mean: 5 }))).toEqual([100, 50, 10]);
  });
  it('validates the preprocess file', () => {
    expect(() => parsePreprocess({ layout: 'CHW' })).toThrow('preprocess: layout: expected one of NCHW, NHWC');
    expect(() => parsePreprocess({ scael: 1 })).toThrow('unknown field "scael"');
    expect(parsePreprocess({ color: 'Grayscale', layout: 'NCHW', scale: 1, raw: true }).color).toBe('grayscale');
    expect(() => imageToSample({ width: 1, height: 1, channels: 3, data: new Float32Array(3) }, inputSpecFromShape('x', [1, 3, 1, 1]), { mean: [1, 2] }))
      .toThrow('preprocess: mean has 2 values, the model input has 3 channels');
  });
  it('decodes PNG and JPEG with the same pure-JS decoders', () => {
    const png = encodePng({ width: 2, height: 2, data: new Uint8Array([0, 64, 128, 255]), channels: 1, depth: 8 });
    const img = decodeImage(png);
    expect(img).toMatchObject({ width: 2, height: 2, channels: 1 });
    expect(Array.from(img.data)).toEqual([0, 64, 128, 255]);
    const rgba = new Uint8Array(8 * 8 * 4).fill(200);
    const jpg = jpeg.encode({ width: 8, height: 8, data: rgba }, 95).data;
    const j = decodeImage(new Uint8Array(jpg));
    expect(j.channels).toBe(3);
    expect(Math.abs(j.data[0] - 200)).toBeLessThanOrEqual(2);
    const s = samplesFromImages([{ name: 'a.png', bytes: png }], inputSpecFromShape('x', ['N', 1, 2, 2]), { scale: 1 / 255 });
    expect(s.sample(0)[3]).toBeCloseTo(1);
    expect(() => decodeImage(new Uint8Array([1, 2, 3]), 'x.bmp')).toThrow('x.bmp: not a PNG or JPEG image');
  });
});

describe('calibration files', () => {
  const spec = inputSpecFromShape('image', ['N', 1, 2, 2]);
  const arr = { dtype: 'uint8' as const, shape: [3, 2, 2], data: Uint8Array.from({ length: 12 }, (_, i) => i) };
  it('reads one .npy, an .npz by input name, or images; limits the count', () => {
    expect(samplesFromFiles([{ name: 'a.npy', bytes: writeNpy(arr) }], spec).count).toBe(3);
    const z = writeNpz({ labels: { dtype: 'uint8', shape: [3], data: new Uint8Array(3) }, image: arr });
    expect(Array.from(samplesFromFiles([{ name: 'd.npz', bytes: z }], spec).sample(2))).toEqual([8, 9, 10, 11]);
    const png = encodePng({ width: 2, height: 2, data: new Uint8Array([1, 2, 3, 4]), channels: 1, depth: 8 });
    const imgs = samplesFromFiles([{ name: 'x.png', bytes: png }, { name: 'y.png', bytes: png }], spec);
    expect(imgs.count).toBe(2);
    expect(Array.from(imgs.sample(1))).toEqual([1, 2, 3, 4]);
    expect(limitSamples(imgs, 1).count).toBe(1);
    expect(() => samplesFromFiles([{ name: 'a.npy', bytes: writeNpy(arr) }, { name: 'b.npy', bytes: writeNpy(arr) }], spec)).toThrow(/one .npy\/.npz file/);
    expect(() => samplesFromFiles([{ name: 'notes.txt', bytes: new TextEncoder().encode('hi') }], spec)).toThrow(/no calibration data/);
  });
});
