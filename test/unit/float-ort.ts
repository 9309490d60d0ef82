// Shared by the float-interpreter agreement tests: onnxruntime-web (its Node build, wasm backend) as
// the reference, deterministic pseudo-random feeds, and a scale-relative comparison.
import * as ort from 'onnxruntime-web';
import type { FloatTensor, Model } from '../../src/core/ir';

// One thread: the wasm backend would otherwise start workers, and CI has two cores for everything.
ort.env.wasm.numThreads = 1;

/** Uniform [lo, hi) numbers from a fixed LCG, so every run feeds the same input. */
export function pseudoRandom(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

/** A feed for every graph input, symbolic dimensions taken as 1. */
export function randomFeeds(model: Model, seed: number, lo = 0, hi = 1): Record<string, FloatTensor> {
  const feeds: Record<string, FloatTensor> = {};
  model.graph.inputs.forEach((info, k) => {
    const shape = (info.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
    feeds[info.name] = { shape, data: pseudoRandom(shape.reduce((a, b) => a * b, 1), seed + k, lo, hi) };
  });
  return feeds;
}

export async function runOrt(bytes: Uint8Array, feeds: Record<string, FloatTensor>, outputs?: readonly string[]): Promise<Record<string, FloatTensor>> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  try {
    const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor('float32', t.data, [...t.shape])]));
    const res = await session.run(ortFeeds, outputs ? [...outputs] : session.outputNames);
    return Object.fromEntries(Object.entries(res).map(([k, t]) => [k, { shape: t.dims.map(Number), data: Float32Array.from(t.data as ArrayLike<number | bigint>, Number) }]));
  } finally {
    await session.release();
  }
}

/** Largest |a - b| and largest |b|. */
export function compare(a: FloatTensor, b: FloatTensor): { maxDiff: number; scale: number } {
  let maxDiff = 0, scale = 0;
  for (let i = 0; i < b.data.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - b.data[i]));
    scale = Math.max(scale, Math.abs(b.data[i]));
  }
  return { maxDiff, scale };
}
