// Data-aware weight rounding: AdaRound's objective (Nagel et al. 2020) without its gradient descent.
// Rounding each weight to the nearest grid point minimises the weight error, but what matters is the
// layer's output error E‖(Ŵ − W)·x‖² = Σ_o Δ_oᵀ C Δ_o, with C = E[x xᵀ] the second moment of the
// layer's input patches. Each weight may round down or up (never further, as in AdaRound); a
// coordinate descent over those choices with the gradient C·Δ kept up to date finds a local minimum in
// a few sweeps. It matters most where per-tensor power-of-two weights are coarse for a channel: a
// depthwise filter whose weights all lie below half a step rounds to zero at the nearest grid point,
// while rounding some of them up keeps the filter's response to the (correlated) patch, its DC gain
// first. C is estimated on the float model's inputs of each layer, a sample of output positions.
import { attrInt, attrInts, type FloatTensor, type Model } from '../ir';
import { activationRunner, type Engine } from './activations';
import { intRange } from './fixpoint';
import { constValues } from './prepare/edit';
import type { OrtOptions } from '../sim/float/ort';
import type { QLayer } from './qgraph';

type Feeds = Record<string, FloatTensor>;

/** Filters up to this many weights also get the pair moves (K² work per sweep). */
const PAIR_LIMIT = 1200;

export interface RoundingTarget {
  readonly layer: QLayer;
  readonly fixPoint: number;
  readonly bitWidth: number;
}

export interface AdaroundOptions {
  readonly ort?: OrtOptions;
  readonly engine?: Engine;
  readonly signal?: AbortSignal;
  /**
   * Samples C is estimated on (default 8): C needs patches, not images, and a few images give
   * thousands; its cost (one float run and the moments per sample) then stays flat in the set's size.
   */
  readonly samples?: number;
  /** Multiply-adds spent on one layer's C over those samples (default 2e8; bounds the positions). */
  readonly budget?: number;
}

/** A 2-D conv's geometry, or undefined for forms this pass leaves to nearest rounding. */
interface ConvGeometry {
  readonly group: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly dh: number;
  readonly dw: number;
  readonly pt: number;
  readonly pl: number;
  readonly pb: number;
  readonly pr: number;
}

function geometry(l: QLayer, wShape: readonly number[]): ConvGeometry | undefined {
  const n = l.node;
  if (n.opType !== 'Conv' || wShape.length !== 4) return undefined;
  const autoPad = n.attrs.auto_pad;
  if (autoPad && autoPad.kind === 'string' && autoPad.value !== 'NOTSET') return undefined;
  const s = attrInts(n, 'strides') ?? [1, 1];
  const d = attrInts(n, 'dilations') ?? [1, 1];
  const p = attrInts(n, 'pads') ?? [0, 0, 0, 0];
  return { group: attrInt(n, 'group', 1), kh: wShape[2], kw: wShape[3], sh: s[0], sw: s[1], dh: d[0], dw: d[1], pt: p[0], pl: p[1], pb: p[2], pr: p[3] };
}

/** Deterministic positions: the same calibration set gives the same rounding. */
function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Adds the patch second moments of one input sample to `grams` (one K×K upper triangle per group,
 * K = Cin/group · kh · kw, in the weight's [ci, ky, kx] order). Returns the patches added.
 */
export function addPatchMoments(
  x: Float32Array, c: number, h: number, w: number, g: ConvGeometry, grams: Float64Array[], positions: number, rand: () => number,
): number {
  const cg = c / g.group;
  const k = cg * g.kh * g.kw;
  const oh = Math.floor((h + g.pt + g.pb - g.dh * (g.kh - 1) - 1) / g.sh) + 1;
  const ow = Math.floor((w + g.pl + g.pr - g.dw * (g.kw - 1) - 1) / g.sw) + 1;
  if (oh <= 0 || ow <= 0) return 0;
  const all = oh * ow;
  const take = Math.min(all, positions);
  const v = new Float64Array(k);
  for (let t = 0; t < take; t++) {
    const pos = take === all ? t : Math.floor(rand() * all);
    const oy = Math.floor(pos / ow);
    const ox = pos % ow;
    for (let gi = 0; gi < g.group; gi++) {
      let i = 0;
      for (let ci = 0; ci < cg; ci++) {
        const plane = (gi * cg + ci) * h * w;
        for (let ky = 0; ky < g.kh; ky++) {
          const iy = oy * g.sh - g.pt + ky * g.dh;
          for (let kx = 0; kx < g.kw; kx++, i++) {
            const ix = ox * g.sw - g.pl + kx * g.dw;
            v[i] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[plane + iy * w + ix] : 0;
          }
        }
      }
      const gram = grams[gi];
      for (let a = 0; a < k; a++) {
        const va = v[a];
        if (va === 0) continue;
        const row = a * k;
        for (let b = a; b < k; b++) gram[row + b] += va * v[b];
      }
    }
  }
  return take;
}

/**
 * Integer codes of one filter `w` (K values) at step `step`, each rounded down or up, minimising
 * Δᵀ C Δ with Δ = q·step − w (C: K×K, full symmetric). `q` holds the starting codes (nearest
 * rounding) and is updated in place.
 */
export function roundFilter(w: Float32Array | Float64Array, q: Int32Array, step: number, c: Float64Array, lo: number, hi: number, sweeps = 16): void {
  const k = w.length;
  const delta = new Float64Array(k);
  for (let i = 0; i < k; i++) delta[i] = q[i] * step - w[i];
  const grad = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    let s = 0;
    const row = a * k;
    for (let b = 0; b < k; b++) s += c[row + b] * delta[b];
    grad[a] = s;
  }
  const altOf = (i: number): number => {
    const down = Math.floor(w[i] / step);
    // The other of the two grid points around w_i (an exact grid value has no other).
    const alt = q[i] === down ? down + 1 : down;
    return alt === q[i] || alt < lo || alt > hi || down * step === w[i] ? NaN : alt;
  };
  const apply = (i: number, alt: number) => {
    const d = (alt - q[i]) * step;
    q[i] = alt;
    delta[i] += d;
    for (let a = 0; a < k; a++) grad[a] += d * c[a * k + i];
  };
  const tol = (i: number) => 1e-12 * Math.abs(c[i * k + i] * step * step);
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let changed = false;
    for (let i = 0; i < k; i++) {
      const alt = altOf(i);
      if (Number.isNaN(alt)) continue;
      const d = (alt - q[i]) * step;
      if (2 * d * grad[i] + d * d * c[i * k + i] < -tol(i)) { apply(i, alt); changed = true; }
    }
    // Single flips are stuck: try flipping two at once (one up, one down keeps a correlated filter's
    // sum), which single flips cannot reach when each alone costs. Quadratic in K, so bounded.
    if (!changed && k <= PAIR_LIMIT) {
      for (let i = 0; i < k; i++) {
        const ai = altOf(i);
        if (Number.isNaN(ai)) continue;
        const di = (ai - q[i]) * step;
        const gi = 2 * di * grad[i] + di * di * c[i * k + i];
        for (let j = i + 1; j < k; j++) {
          const aj = altOf(j);
          if (Number.isNaN(aj)) continue;
          const dj = (aj - q[j]) * step;
          const gain = gi + 2 * dj * grad[j] + dj * dj * c[j * k + j] + 2 * di * dj * c[i * k + j];
          if (gain < -tol(i) - tol(j)) { apply(i, ai); apply(j, aj); changed = true; break; }
        }
      }
    }
    if (!changed) break;
  }
}

/**
 * New on-grid values (codes · 2^-fp) of each target's weight. Layers whose geometry this pass does not
 * handle, or whose input never reached it, keep nearest rounding (they are absent from the result).
 */
export async function adaroundWeights(
  floatModel: Model, model: Model, targets: readonly RoundingTarget[], round: (x: number, mode: string) => number,
  roundMode: (weight: string) => string, read: () => AsyncGenerator<Feeds>, o: AdaroundOptions = {},
): Promise<Map<string, Float32Array>> {
  const jobs = targets.flatMap((t) => {
    const w = model.graph.initializers.get(t.layer.weight!);
    const geo = w && geometry(t.layer, w.shape);
    if (!w || !geo) return [];
    const k = (w.shape[1] * w.shape[2] * w.shape[3]);
    return [{ t, w, geo, k, grams: Array.from({ length: geo.group }, () => new Float64Array(k * k)), patches: 0, rand: lcg(k * 7919 + w.shape[0]) }];
  });
  if (jobs.length === 0) return new Map();
  const inputs = [...new Set(jobs.map((j) => j.t.layer.node.inputs[0]))];
  const runner = await activationRunner(floatModel, inputs, { ort: o.ort, engine: o.engine });
  const limit = o.samples ?? 8;
  const budget = (o.budget ?? 2e8) / limit;
  try {
    let n = 0;
    for await (const feeds of read()) {
      if (o.signal?.aborted) { const e = new Error('quantization cancelled'); e.name = 'AbortError'; throw e; }
      if (n >= limit) break;
      const out = await runner.run(feeds);
      for (const j of jobs) {
        const x = out[j.t.layer.node.inputs[0]];
        if (!x || x.shape.length !== 4) continue;
        const [b, c, h, w] = x.shape;
        if (c !== j.k / (j.geo.kh * j.geo.kw) * j.geo.group) continue;
        const positions = Math.max(64, Math.floor(budget / (j.k * j.k * j.geo.group / 2 + j.k * j.geo.group)));
        for (let s = 0; s < b; s++) j.patches += addPatchMoments(x.data.subarray(s * c * h * w, (s + 1) * c * h * w), c, h, w, j.geo, j.grams, positions, j.rand);
      }
      n += Object.values(feeds)[0]?.shape[0] ?? 1;
    }
  } finally {
    await runner.release();
  }
  const result = new Map<string, Float32Array>();
  for (const j of jobs) {
    if (j.patches === 0) continue;
    const name = j.t.layer.weight!;
    const values = constValues(j.w);
    const step = 2 ** -j.t.fixPoint;
    const { lo, hi } = intRange(j.t.bitWidth);
    const mode = roundMode(name);
    const oc = j.w.shape[0];
    const perGroup = oc / j.geo.group;
    for (const gram of j.grams) {
      // Mirror the upper triangle.
      for (let a = 0; a < j.k; a++) for (let b2 = a + 1; b2 < j.k; b2++) gram[b2 * j.k + a] = gram[a * j.k + b2];
    }
    const q = new Int32Array(j.k);
    for (let oi = 0; oi < oc; oi++) {
      const w = values.subarray(oi * j.k, (oi + 1) * j.k);
      for (let i = 0; i < j.k; i++) q[i] = Math.min(hi, Math.max(lo, round(w[i] / step, mode)));
      roundFilter(w, q, step, j.grams[Math.floor(oi / perGroup)], lo, hi);
      for (let i = 0; i < j.k; i++) w[i] = q[i] * step;
    }
    result.set(name, values);
  }
  return result;
}
