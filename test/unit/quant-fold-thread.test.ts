// Calibration statistics folded in a thread while onnxruntime runs the next batch (calibrate/folder.ts,
// src/cli/fold-thread.ts): the same statistics and fix points as folding between runs, batches' arrays
// moved (not copied) to the thread except the caller's feeds, and a failure in the thread reported.
import { readFileSync } from 'node:fs';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { nodeFoldThread } from '../../src/cli/fold-thread';
import { batches, limitSamples, samplesFromArray } from '../../src/core/data/calib';
import { parseNpy } from '../../src/core/data/npy';
import { inputSpecFromShape } from '../../src/core/data/preprocess';
import { readOnnx } from '../../src/core/onnx/reader';
import { folderThread, localFolder, remoteFolder, type FoldItem, type FolderPort } from '../../src/core/quant/calibrate/folder';
import { parseQuantConfig } from '../../src/core/quant/config';
import { quantizeModel } from '../../src/core/quant/quantize';

/** Both ends over a MessageChannel in this thread: real structured clone and transfer. */
function channel(): FolderPort & { other: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  port2.on('message', folderThread((m) => port2.postMessage(m)));
  return {
    other: port2,
    post: (m, transfer) => port1.postMessage(m, transfer),
    onMessage: (f) => { port1.on('message', f); },
    onError: () => {},
    terminate: () => { port1.close(); port2.close(); },
  };
}

function values(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, (_, i) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const g = (s / 2 ** 32 - 0.5) * 8;
    return i % 9 === 0 ? 0 : g / (1 + Math.exp(-g));
  });
}

const batch = (k: number): FoldItem[] => [
  { name: 'a', parts: [values(70_001, k), values(20_000, k + 50)], bitWidth: 8, mode: 'half_up' },
  { name: 'b', parts: [values(3000, k + 100)], bitWidth: 8, mode: 'half_up' },
  { name: 'c', parts: [values(5000, k + 200)], bitWidth: 6, mode: 'half_even' },
];

describe('calibration statistics in a thread', () => {
  it('folds to the statistics folding here gives, moving all but the feeds\' arrays', async () => {
    const here = localFolder();
    for (let k = 1; k <= 3; k++) await here.fold(batch(k));
    const want = await here.finish();
    const port = channel();
    const fed = new Set<ArrayBufferLike>();
    const there = remoteFolder(port, (a) => !fed.has(a.buffer));
    const sent: FoldItem[][] = [];
    for (let k = 1; k <= 3; k++) {
      const items = batch(k);
      fed.add(items[1].parts[0].buffer); // as a graph input's feed array would be
      sent.push(items);
      await there.fold(items);
    }
    const got = await there.finish();
    there.close();
    expect(got).toEqual(want);
    for (const items of sent) {
      expect(items[0].parts[0].length).toBe(0); // moved: detached here
      expect(items[2].parts[0].length).toBe(0);
      expect(items[1].parts[0].length).toBe(3000); // copied: still the caller's
    }
  });

  it('reports a failure in the thread at the next fold or at finish', async () => {
    const there = remoteFolder(channel(), () => false);
    // A rounding mode the statistics have no rounder for throws in the thread.
    await there.fold([{ name: 'x', parts: [values(100, 1)], bitWidth: 8, mode: 'bogus' as 'half_up' }]);
    await expect(there.finish()).rejects.toThrow(/calibration statistics thread/);
    await expect(there.fold(batch(1))).rejects.toThrow(/calibration statistics thread/);
    there.close();
  });

  it('gives quantizeModel the same fix points and statistics from a Node worker thread (YOLOX-nano)', async () => {
    // A model with enough values per run for the thread (fmnist's few thousand fold here).
    const model = readOnnx(new Uint8Array(readFileSync('public/models/yolox_nano.onnx')));
    const name = model.graph.inputs[0].name;
    const feeds = Array.from({ length: 3 }, (_, k) => {
      const d = new Float32Array(3 * 416 * 416);
      for (let i = 0; i < d.length; i++) d[i] = (i * 7919 + k * 104729 + ((i / 416) | 0) * 31) % 256;
      return { [name]: { shape: [1, 3, 416, 416], data: d } };
    });
    const cfg = parseQuantConfig({ include_bias_corr: false });
    const here = await quantizeModel(model, () => feeds, cfg, { skipEvaluation: true });
    const events: boolean[] = [];
    let started = 0;
    const there = await quantizeModel(model, () => feeds, cfg, {
      skipEvaluation: true, foldThread: () => { started++; return nodeFoldThread(); }, onProgress: (p) => events.push(!!p.done),
    });
    expect(started).toBe(1);
    const fps = (r: typeof here) => Object.fromEntries([...r.tensors.values()].map((t) => [t.name, t.fixPoint]));
    expect(fps(there)).toEqual(fps(here));
    expect(there.session.stats).toEqual(here.session.stats);
    expect(events).toEqual([false, false, false, true]);
    // The feeds (the observed graph input) were copied to the thread, not moved.
    for (const f of feeds) expect(f[name].data.length).toBe(3 * 416 * 416);
  }, 120_000);

  it('keeps a small model\'s statistics in this thread', async () => {
    const model = readOnnx(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')));
    const spec = inputSpecFromShape('image', model.graph.inputs[0].shape!);
    const calib = limitSamples(samplesFromArray(parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_calib200.npy'))), spec), 8);
    let started = 0;
    await quantizeModel(model, () => batches(calib, spec), parseQuantConfig({ include_bias_corr: false }), {
      skipEvaluation: true, foldThread: () => { started++; return nodeFoldThread(); },
    });
    expect(started).toBe(0);
  });
});
