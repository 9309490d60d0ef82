// The wasm int8 kernels against plain references written here from docs/simulator.md: straightforward
// loops, BigInt for every integer step, one DPU_ROUND at the end.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  avgPoolFactor, convPath, loadInt8Engine, type Act, type ConvGeometry, type DeconvGeometry, type Epilogue,
  type Int8Engine,
} from '../../src/core/sim/dpu/kernels';
import { isInputError } from '../../src/core/errors';

// ---- reference semantics -------------------------------------------------------------------------------
function rnd(x: bigint, s: number): bigint {
  if (s > 0) return (x + (1n << BigInt(s - 1))) >> BigInt(s); // BigInt >> floors, as the DPU's shifter
  return s === 0 ? x : x << BigInt(-s);
}
const sat = (x: bigint): number => Number(x > 127n ? 127n : x < -128n ? -128n : x);

function epiRef(z: bigint, e: Epilogue): number {
  switch (e.act) {
    case 'none': return sat(rnd(z, e.shift));
    case 'relu': return sat(rnd(z > 0n ? z : 0n, e.shift));
    case 'relu6': {
      const r = rnd(z > 0n ? z : 0n, e.shift);
      const m = BigInt(e.relu6Max!);
      return sat(r < m ? r : m);
    }
    case 'leaky': return z < 0n ? sat(rnd(z * 26n, e.shift + 8)) : sat(rnd(z, e.shift));
    default: {
      const fpPre = e.fpPre!, fpOut = e.fpOut!;
      const p = BigInt(sat(rnd(z, e.preShift!)));
      let t = p + (3n << BigInt(fpPre));
      const six = 6n << BigInt(fpPre);
      t = t < 0n ? 0n : t > six ? six : t;
      if (e.act === 'hsigmoid') return sat(rnd(t * 2731n, 14 + fpPre - fpOut));
      const h = BigInt(sat(rnd(t * 2731n, 14 + fpPre - 7)));
      return sat(rnd(p * h, fpPre + 7 - fpOut));
    }
  }
}

function convRef(inp: Int8Array, w: Int8Array, bias: Int32Array | null, g: ConvGeometry, e: Epilogue): Int8Array {
  const out = new Int8Array(g.outH * g.outW * g.outC);
  const icg = g.inC / g.group, ocg = g.outC / g.group;
  for (let oh = 0; oh < g.outH; oh++) for (let ow = 0; ow < g.outW; ow++) for (let oc = 0; oc < g.outC; oc++) {
    const gi = Math.floor(oc / ocg);
    let acc = 0;
    for (let kh = 0; kh < g.kH; kh++) for (let kw = 0; kw < g.kW; kw++) {
      const ih = oh * g.strideH - g.padT + kh * g.dilH, iw = ow * g.strideW - g.padL + kw * g.dilW;
      if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
      for (let c = 0; c < icg; c++) {
        acc += inp[(ih * g.inW + iw) * g.inC + gi * icg + c] * w[((oc * g.kH + kh) * g.kW + kw) * icg + c];
      }
    }
    const z = (BigInt(acc) << BigInt(e.accUp)) + (bias ? BigInt(bias[oc]) << BigInt(e.biasUp) : 0n);
    out[(oh * g.outW + ow) * g.outC + oc] = epiRef(z, e);
  }
  return out;
}

/** ONNX ConvTranspose, written as the scatter its definition gives. */
function deconvRef(inp: Int8Array, w: Int8Array, bias: Int32Array | null, g: DeconvGeometry, e: Epilogue): Int8Array {
  const acc = new Array<number>(g.outH * g.outW * g.outC).fill(0);
  const icg = g.inC / g.group, ocg = g.outC / g.group;
  for (let ih = 0; ih < g.inH; ih++) for (let iw = 0; iw < g.inW; iw++) for (let ic = 0; ic < g.inC; ic++) {
    const gi = Math.floor(ic / icg);
    for (let j = 0; j < ocg; j++) for (let kh = 0; kh < g.kH; kh++) for (let kw = 0; kw < g.kW; kw++) {
      const oh = ih * g.strideH - g.padT + kh * g.dilH, ow = iw * g.strideW - g.padL + kw * g.dilW;
      if (oh < 0 || oh >= g.outH || ow < 0 || ow >= g.outW) continue;
      const oc = gi * ocg + j;
      acc[(oh * g.outW + ow) * g.outC + oc] += inp[(ih * g.inW + iw) * g.inC + ic] * w[((oc * g.kH + kh) * g.kW + kw) * icg + ic - gi * icg];
    }
  }
  return Int8Array.from(acc, (a, i) => epiRef((BigInt(a) << BigInt(e.accUp)) + (bias ? BigInt(bias[i % g.outC]) << BigInt(e.biasUp) : 0n), e));
}

function poolRef(inp: Int8Array, g: ConvGeometry, kind: 'max' | 'avg', n: number, shift: number): Int8Array {
  const out = new Int8Array(g.outH * g.outW * g.inC);
  for (let oh = 0; oh < g.outH; oh++) for (let ow = 0; ow < g.outW; ow++) for (let c = 0; c < g.inC; c++) {
    let m = -Infinity, s = 0;
    for (let kh = 0; kh < g.kH; kh++) for (let kw = 0; kw < g.kW; kw++) {
      const ih = oh * g.strideH - g.padT + kh * g.dilH, iw = ow * g.strideW - g.padL + kw * g.dilW;
      if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
      const v = inp[(ih * g.inW + iw) * g.inC + c];
      m = Math.max(m, v);
      s += v;
    }
    // A max window with no tap in bounds reads the DPU's zeros.
    out[(oh * g.outW + ow) * g.inC + c] = kind === 'max' ? (m === -Infinity ? 0 : sat(rnd(BigInt(m), shift))) : sat(rnd(BigInt(s) * BigInt(n), shift));
  }
  return out;
}

// ---- helpers -----------------------------------------------------------------------------------------
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const randI8 = (r: () => number, n: number, lo = -128, hi = 127): Int8Array =>
  Int8Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
const randI32 = (r: () => number, n: number, lo: number, hi: number): Int32Array =>
  Int32Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));

type GeomSpec = Partial<ConvGeometry> & { inH: number; inW: number; inC: number; outC: number; kH: number; kW: number; padB?: number; padR?: number };
function geom(p: GeomSpec): ConvGeometry {
  const { padB = 0, padR = 0, ...rest } = p;
  const g = { strideH: 1, strideW: 1, dilH: 1, dilW: 1, padT: 0, padL: 0, group: 1, ...rest };
  const outH = p.outH ?? Math.floor((g.inH + g.padT + padB - ((g.kH - 1) * g.dilH + 1)) / g.strideH) + 1;
  const outW = p.outW ?? Math.floor((g.inW + g.padL + padR - ((g.kW - 1) * g.dilW + 1)) / g.strideW) + 1;
  return { ...g, outH, outW };
}

let eng: Int8Engine;
beforeAll(async () => { eng = await loadInt8Engine(); });

function put8(a: Int8Array): number {
  const p = eng.alloc(a.length);
  eng.i8(p, a.length).set(a);
  return p;
}
function put32(a: Int32Array): number {
  const p = eng.alloc(a.length * 4, 4);
  eng.i32(p, a.length).set(a);
  return p;
}
const get8 = (p: number, n: number): Int8Array => eng.i8(p, n).slice();

function runConv(inp: Int8Array, w: Int8Array, bias: Int32Array | null, g: ConvGeometry, e: Epilogue, transposed = false): Int8Array {
  eng.reset();
  const ip = put8(inp), bp = bias ? put32(bias) : 0;
  const wp = eng.packConvWeights(w, g);
  const n = g.outH * g.outW * g.outC;
  const op = eng.alloc(n);
  // Guard bytes after the output: a kernel writing past its end would change them.
  const guard = eng.alloc(32);
  eng.i8(guard, 32).fill(0x55);
  if (transposed) eng.deconv2d(ip, wp, bp, op, g, e); else eng.conv2d(ip, wp, bp, op, g, e);
  expect(Array.from(eng.i8(guard, 32)).every((v) => v === 0x55)).toBe(true);
  return get8(op, n);
}

const ACTS: Act[] = ['none', 'relu', 'relu6', 'leaky', 'hsigmoid', 'hswish'];
/** An epilogue for a layer with fix points chosen so that outputs spread over the int8 range. */
function epilogueFor(act: Act, r: () => number, s: number): Epilogue {
  const accUp = r() < 0.3 ? 1 + Math.floor(r() * 3) : 0;
  const biasUp = Math.floor(r() * 8);
  const fpOut = 3 + Math.floor(r() * 5);
  if (act === 'hsigmoid' || act === 'hswish') {
    const fpPre = 2 + Math.floor(r() * 4);
    return { accUp, biasUp, shift: s + accUp, act, preShift: s + accUp, fpPre, fpOut: act === 'hsigmoid' ? 7 : Math.min(fpOut, fpPre + 7) };
  }
  return { accUp, biasUp, shift: s + accUp, act, relu6Max: act === 'relu6' ? Math.floor(6 * 2 ** fpOut + 0.5) : undefined };
}
/** A shift that maps the layer's typical |acc| (~128·64·√K) to about ±64. */
const shiftFor = (k: number): number => Math.max(0, Math.round(Math.log2(128 * 64 * Math.sqrt(k) / 64)));

// ---- tests -----------------------------------------------------------------------------------------
describe('epilogue', () => {
  const e0: Epilogue = { accUp: 0, biasUp: 0, shift: 1, act: 'none' };
  /**
   * 1×1 conv of a 1×1×1 map with weight 1: the output is the epilogue of acc = x (+ bias). 21 output
   * channels run the 16-wide, the 4-wide and the scalar epilogue; all must agree.
   */
  const one = (xv: number, e: Epilogue, b = 0): number => {
    const y = runConv(Int8Array.of(xv), new Int8Array(21).fill(1), new Int32Array(21).fill(b),
      geom({ inH: 1, inW: 1, inC: 1, outC: 21, kH: 1, kW: 1 }), e);
    expect(new Set(y).size, `x=${xv}: ${Array.from(y).join(',')}`).toBe(1);
    return y[0];
  };

  it('rounds ties toward +∞ (DPU_ROUND) and saturates at both ends', () => {
    expect([5, -5, 3, -3, 1, -1].map((v) => one(v, e0))).toEqual([3, -2, 2, -1, 1, 0]);
    expect(one(127, { ...e0, shift: 0 }, 1)).toBe(127);
    expect(one(127, { ...e0, shift: 0 }, 10)).toBe(127);
    expect(one(-128, { ...e0, shift: 0 }, -10)).toBe(-128);
  });
  it('shifts left for a negative shift, saturating', () => {
    expect(one(3, { ...e0, shift: -2 })).toBe(12);
    expect(one(-40, { ...e0, shift: -2 })).toBe(-128);
    expect(one(40, { ...e0, shift: -2 })).toBe(127);
    expect(one(1, { ...e0, shift: -30 })).toBe(127);
  });
  it('adds the bias at its own scale', () => {
    // z = 3·2^2 + 5·2^1 = 22, shift 2 → 5.5 → 6
    expect(one(3, { accUp: 2, biasUp: 1, shift: 2, act: 'none' }, 5)).toBe(6);
  });
  it('applies each nonlinearity by the book', () => {
    expect(one(-100, { ...e0, shift: 0, act: 'relu' })).toBe(0);
    expect(one(100, { ...e0, shift: 1, act: 'relu6', relu6Max: 48 })).toBe(48);
    expect(one(90, { ...e0, shift: 1, act: 'relu6', relu6Max: 48 })).toBe(45);
    // leaky: round(−100·26, 8) = floor(−10.156 + 0.5) = −10
    expect(one(-100, { ...e0, shift: 0, act: 'leaky' })).toBe(-10);
    expect(one(100, { ...e0, shift: 0, act: 'leaky' })).toBe(100);
    // hard-sigmoid at fp_pre 4 → fp_out 7: x = 0 → t = 48, round(48·2731 / 2^11) = 64 (0.5)
    const hs: Epilogue = { accUp: 0, biasUp: 0, shift: 0, act: 'hsigmoid', preShift: 0, fpPre: 4, fpOut: 7 };
    expect(one(0, hs)).toBe(64);
    expect(one(48, hs)).toBe(127); // x = 3 → 1.0, saturated
    expect(one(-48, hs)).toBe(0);
    // hard-swish x = 1 (16 at fp 4): h = round(64·2731 / 2^11) = 85, y = round(16·85 / 2^7) = 11 (fp 4)
    expect(one(16, { ...hs, act: 'hswish', fpOut: 4 })).toBe(11);
    // the pre-activation is quantized (and saturated) at fp_pre first: 127 → p = 64 at preShift 1
    expect(one(127, { ...hs, act: 'hswish', preShift: 1, fpOut: 2 })).toBe(sat(rnd(64n * BigInt(sat(rnd(112n * 2731n, 11))), 9)));
  });
  it('hard-sigmoid and hard-swish over every int8 input, fix points at and beyond the int16 form\'s limits', () => {
    // A 16×16 map of all 256 values, 1×1 conv with weights 1: each output is the epilogue of its input.
    const inp = Int8Array.from({ length: 256 }, (_, i) => i - 128);
    for (const outC of [16, 8, 3]) {
      const g = geom({ inH: 16, inW: 16, inC: 1, outC, kH: 1, kW: 1 });
      const w = new Int8Array(outC).fill(1), bias = Int32Array.from({ length: outC }, (_, i) => i * 3 - 7);
      for (const fpPre of [0, 1, 4, 8, 9, 12]) {
        for (const fpOut of [fpPre + 7, fpPre + 6, fpPre, fpPre - 8, 7]) {
          for (const preShift of [0, 2, -1]) {
            for (const act of ['hswish', 'hsigmoid'] as Act[]) {
              const e: Epilogue = { accUp: 0, biasUp: 1, shift: 0, act, preShift, fpPre, fpOut };
              expect(Array.from(runConv(inp, w, bias, g, e)), `${act} OC ${outC} ${JSON.stringify(e)}`).toEqual(Array.from(convRef(inp, w, bias, g, e)));
            }
          }
        }
      }
    }
  });
  it('is exact for accumulators near 2^31 and with accUp > 0 (int64 path)', () => {
    // dense: 1×1×K map, K products of ±128·±128
    for (const [k, xv, wv, e] of [
      [131071, -128, -128, { accUp: 3, biasUp: 0, shift: 34, act: 'none' }],
      [131071, -128, 127, { accUp: 2, biasUp: 5, shift: 31, act: 'none' }],
      [65536, -128, -128, { accUp: 0, biasUp: 0, shift: 31, act: 'none' }], // 2^30: tie at 0.5 → 1
      [65536, 127, -128, { accUp: 0, biasUp: 0, shift: 31, act: 'none' }],
      [65536, -128, -128, { accUp: 0, biasUp: 0, shift: 16, act: 'none' }],
      [131071, -128, -128, { accUp: 1, biasUp: 0, shift: 30, act: 'leaky' }],
      [131071, -128, 127, { accUp: 1, biasUp: 0, shift: 30, act: 'leaky' }],
    ] as [number, number, number, Epilogue][]) {
      const g = geom({ inH: 1, inW: 1, inC: k, outC: 2, kH: 1, kW: 1 });
      const inp = new Int8Array(k).fill(xv), w = new Int8Array(2 * k).fill(wv);
      const bias = Int32Array.of(-77, 1000);
      expect(Array.from(runConv(inp, w, bias, g, e))).toEqual(Array.from(convRef(inp, w, bias, g, e)));
    }
    const g = geom({ inH: 1, inW: 1, inC: 65536, outC: 1, kH: 1, kW: 1 });
    expect(runConv(new Int8Array(65536).fill(-128), new Int8Array(65536).fill(-128), null, g,
      { accUp: 0, biasUp: 0, shift: 31, act: 'none' })[0]).toBe(1);
  });
  it('gives the same answers on the int32 fast path and the int64 path', () => {
    const r = rng(7);
    for (const outC of [20, 32]) { // the 4-channel and the 16-channel kernel
      const g = geom({ inH: 5, inW: 6, inC: 24, outC, kH: 3, kW: 3, padT: 1, padL: 1, padB: 1, padR: 1 });
      const inp = randI8(r, 5 * 6 * 24), w = randI8(r, outC * 9 * 24), bias = randI32(r, outC, -3000, 3000);
      for (const act of ACTS) {
        for (const accUp of [0, 17]) { // accUp 17 makes the int32 bound fail: the int64 path runs
          const e = { ...epilogueFor(act, r, 11), accUp, shift: 11 + accUp };
          if (e.preShift !== undefined) e.preShift = 11 + accUp;
          expect(Array.from(runConv(inp, w, bias, g, e)), `${act} accUp ${accUp}`).toEqual(Array.from(convRef(inp, w, bias, g, e)));
        }
      }
    }
  });
  it('accUp > 0 with small actual accumulators (the worst-case bound fails, the actual range passes)', () => {
    const r = rng(9);
    for (const outC of [7, 32]) {
      const g = geom({ inH: 6, inW: 5, inC: 24, outC, kH: 3, kW: 3, padT: 1, padL: 1, padB: 1, padR: 1 });
      const inp = randI8(r, 6 * 5 * 24, -4, 4), w = randI8(r, outC * 9 * 24), bias = randI32(r, outC, -100, 100);
      for (const act of ACTS) {
        const e = { ...epilogueFor(act, r, 6), accUp: 12, biasUp: 3, shift: 18 };
        if (e.preShift !== undefined) e.preShift = 18;
        expect(Array.from(runConv(inp, w, bias, g, e)), act).toEqual(Array.from(convRef(inp, w, bias, g, e)));
      }
    }
    // an accumulator of exactly −2^31 + 16384·k (all −128·127 products): its |·| must not wrap
    const k = 131071;
    const g = geom({ inH: 1, inW: 1, inC: k, outC: 5, kH: 1, kW: 1 });
    const inp = new Int8Array(k).fill(-128), w = new Int8Array(5 * k).fill(127);
    const e: Epilogue = { accUp: 1, biasUp: 0, shift: 30, act: 'none' };
    expect(Array.from(runConv(inp, w, null, g, e))).toEqual(Array.from(convRef(inp, w, null, g, e)));
  });
  it('shift limits 0, 16, 31 on random layers', () => {
    const r = rng(8);
    const g = geom({ inH: 3, inW: 3, inC: 40, outC: 7, kH: 1, kW: 1 });
    const inp = randI8(r, 9 * 40), w = randI8(r, 7 * 40), bias = randI32(r, 7, -100000, 100000);
    for (const shift of [0, 16, 31]) {
      for (const act of ['none', 'relu', 'leaky'] as Act[]) {
        const e: Epilogue = { accUp: 0, biasUp: 4, shift, act };
        expect(Array.from(runConv(inp, w, bias, g, e))).toEqual(Array.from(convRef(inp, w, bias, g, e)));
      }
    }
  });
});

describe('conv2d', () => {
  const cases: [string, GeomSpec][] = [];
  for (const inC of [1, 3, 17, 33]) for (const outC of [1, 5]) {
    cases.push([`3×3 pad 1 IC ${inC} OC ${outC}`, { inH: 7, inW: 6, inC, outC, kH: 3, kW: 3, padT: 1, padL: 1, padB: 1, padR: 1 }]);
    cases.push([`1×1 IC ${inC} OC ${outC}`, { inH: 3, inW: 5, inC, outC, kH: 1, kW: 1 }]);
  }
  cases.push(['stride 2 5×5', { inH: 11, inW: 10, inC: 8, outC: 6, kH: 5, kW: 5, strideH: 2, strideW: 2, padT: 2, padL: 2, padB: 2, padR: 2 }]);
  cases.push(['stride 3 asymmetric', { inH: 13, inW: 9, inC: 16, outC: 9, kH: 3, kW: 2, strideH: 3, strideW: 2, padT: 1, padL: 0, padB: 0, padR: 1 }]);
  cases.push(['dilation 2', { inH: 9, inW: 9, inC: 20, outC: 13, kH: 3, kW: 3, dilH: 2, dilW: 2, padT: 2, padL: 2, padB: 2, padR: 2 }]);
  cases.push(['dilation 2 IC 3 (im2col)', { inH: 9, inW: 8, inC: 3, outC: 4, kH: 3, kW: 3, dilH: 2, dilW: 2, padT: 1, padL: 3 }]);
  cases.push(['stride 2 IC 3 7×7 (im2col)', { inH: 16, inW: 15, inC: 3, outC: 8, kH: 7, kW: 7, strideH: 2, strideW: 2, padT: 3, padL: 3, padB: 3, padR: 3 }]);
  cases.push(['groups 2, IC 4 → OC 6', { inH: 5, inW: 5, inC: 4, outC: 6, kH: 3, kW: 3, group: 2, padT: 1, padL: 1, padB: 1, padR: 1 }]);
  cases.push(['groups 3, IC 24 → OC 15', { inH: 4, inW: 6, inC: 24, outC: 15, kH: 3, kW: 1, group: 3, padT: 1, padB: 1 }]);
  cases.push(['groups 4, OC multiplier 2', { inH: 5, inW: 4, inC: 4, outC: 8, kH: 3, kW: 3, group: 4 }]);
  for (const c of [5, 16, 17, 33]) {
    cases.push([`depthwise 3×3 C ${c}`, { inH: 6, inW: 7, inC: c, outC: c, kH: 3, kW: 3, group: c, padT: 1, padL: 1, padB: 1, padR: 1 }]);
  }
  cases.push(['depthwise 5×5 stride 2', { inH: 10, inW: 9, inC: 24, outC: 24, kH: 5, kW: 5, group: 24, strideH: 2, strideW: 2, padT: 2, padL: 2, padB: 2, padR: 2 }]);
  cases.push(['depthwise dilation 2 stride 3', { inH: 12, inW: 11, inC: 9, outC: 9, kH: 3, kW: 3, group: 9, dilH: 2, dilW: 2, strideH: 3, strideW: 3, padT: 2, padL: 1 }]);
  cases.push(['dense 1×1×300 → 10', { inH: 1, inW: 1, inC: 300, outC: 10, kH: 1, kW: 1 }]);
  // Input read in place (no padding, channels a multiple of 8) and the epilogue fused into the core.
  cases.push(['1×1 in place IC 16 OC 8', { inH: 5, inW: 7, inC: 16, outC: 8, kH: 1, kW: 1 }]);
  cases.push(['1×1 stride 2 in place IC 32 OC 12', { inH: 7, inW: 6, inC: 32, outC: 12, kH: 1, kW: 1, strideH: 2, strideW: 2 }]);
  cases.push(['3×3 no padding in place IC 16 OC 20', { inH: 6, inW: 7, inC: 16, outC: 20, kH: 3, kW: 3 }]);
  cases.push(['3×3 pad 1 IC 40 OC 16', { inH: 5, inW: 5, inC: 40, outC: 16, kH: 3, kW: 3, padT: 1, padL: 1, padB: 1, padR: 1 }]);
  // Groups with a multiple of 16 output channels: the 16-channel kernel on int16 input.
  cases.push(['1×1 IC 33 OC 32', { inH: 4, inW: 5, inC: 33, outC: 32, kH: 1, kW: 1 }]);
  cases.push(['1×1 stride 2 IC 5 OC 16', { inH: 7, inW: 7, inC: 5, outC: 16, kH: 1, kW: 1, strideH: 2, strideW: 2 }]);
  cases.push(['3×3 stride 2 IC 24 OC 48', { inH: 9, inW: 8, inC: 24, outC: 48, kH: 3, kW: 3, strideH: 2, strideW: 2, padT: 1, padL: 1, padB: 1, padR: 1 }]);
  cases.push(['1×1 stride 2 IC 16 OC 16 (int16 copy without padding)', { inH: 8, inW: 9, inC: 16, outC: 16, kH: 1, kW: 1, strideH: 2, strideW: 2 }]);
  cases.push(['3×3 no padding IC 12 OC 32 (im2col)', { inH: 6, inW: 7, inC: 12, outC: 32, kH: 3, kW: 3 }]);
  cases.push(['3×3 no padding stride 2 IC 16 OC 32 (int16 copy without padding)', { inH: 8, inW: 7, inC: 16, outC: 32, kH: 3, kW: 3, strideH: 2, strideW: 2 }]);
  cases.push(['groups 2 3×3 IC 6 OC 32', { inH: 5, inW: 6, inC: 6, outC: 32, kH: 3, kW: 3, group: 2, padT: 1, padL: 1, padB: 1, padR: 1 }]);
  cases.push(['im2col IC 3 OC 32 3×3 stride 2', { inH: 9, inW: 10, inC: 3, outC: 32, kH: 3, kW: 3, strideH: 2, strideW: 2, padT: 1, padL: 1, padB: 1, padR: 1 }]);
  cases.push(['im2col IC 1 OC 16 5×5 dilation 2', { inH: 11, inW: 10, inC: 1, outC: 16, kH: 5, kW: 5, dilH: 2, dilW: 2, padT: 3, padL: 2 }]);
  cases.push(['groups 2 1×1 in place IC 16 OC 16', { inH: 3, inW: 5, inC: 16, outC: 16, kH: 1, kW: 1, group: 2 }]);
  cases.push(['dilation 2 OC 16', { inH: 8, inW: 9, inC: 8, outC: 16, kH: 3, kW: 3, dilH: 2, dilW: 2, padT: 2, padL: 2, padB: 2, padR: 2 }]);
  cases.push(['depthwise 3×3 stride 2 in place C 16', { inH: 9, inW: 8, inC: 16, outC: 16, kH: 3, kW: 3, group: 16, strideH: 2, strideW: 2 }]);
  cases.push(['depthwise 5×5 C 16', { inH: 7, inW: 7, inC: 16, outC: 16, kH: 5, kW: 5, group: 16, padT: 2, padL: 2, padB: 2, padR: 2 }]);
  cases.push(['depthwise 3×3 dilation 2 C 24', { inH: 7, inW: 8, inC: 24, outC: 24, kH: 3, kW: 3, group: 24, dilH: 2, dilW: 2, padT: 2, padL: 2, padB: 2, padR: 2 }]);

  cases.forEach(([name, p], i) => {
    it(name, () => {
      const r = rng(100 + i);
      const g = geom(p);
      const icg = g.inC / g.group;
      const inp = randI8(r, g.inH * g.inW * g.inC), w = randI8(r, g.outC * g.kH * g.kW * icg);
      const bias = r() < 0.8 ? randI32(r, g.outC, -128, 127) : null;
      for (const act of ACTS) {
        const e = epilogueFor(act, r, shiftFor(g.kH * g.kW * icg));
        expect(Array.from(runConv(inp, w, bias, g, e)), `${act} ${JSON.stringify(e)}`).toEqual(Array.from(convRef(inp, w, bias, g, e)));
      }
    });
  });

  it('random geometries (fixed seed): every path, tail and epilogue against the reference', () => {
    const r = rng(4242);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    for (let i = 0; i < 60; i++) {
      const kH = pick([1, 1, 2, 3, 3, 5]), kW = pick([kH, kH, 1, 3]);
      const dilH = pick([1, 1, 2]), dilW = pick([1, 1, 2]);
      const kind = pick(['dense', 'dense', 'group', 'dw']);
      const base = pick([1, 2, 3, 4, 5, 8, 12, 16, 17, 24, 32, 33, 40]);
      const group = kind === 'dw' ? base : kind === 'group' ? pick([2, 3, 4]) : 1;
      const inC = kind === 'dw' ? base : kind === 'group' ? group * pick([1, 3, 8, 9]) : base;
      const outC = kind === 'dw' ? base : group * pick([1, 2, 4, 5, 8, 13, 16, 32]);
      const padT = Math.floor(r() * kH), padL = Math.floor(r() * kW);
      const inH = (kH - 1) * dilH + 1 + Math.floor(r() * 6), inW = (kW - 1) * dilW + 1 + Math.floor(r() * 7);
      const g = geom({ inH, inW, inC, outC, kH, kW, dilH, dilW, padT, padL, padB: Math.floor(r() * kH), padR: Math.floor(r() * kW),
        strideH: pick([1, 1, 2, 3]), strideW: pick([1, 1, 2, 3]), group });
      const icg = inC / group;
      const inp = randI8(r, inH * inW * inC), w = randI8(r, outC * kH * kW * icg);
      const bias = r() < 0.8 ? randI32(r, outC, -2000, 2000) : null;
      const e = epilogueFor(pick(ACTS), r, shiftFor(kH * kW * icg));
      expect(Array.from(runConv(inp, w, bias, g, e)), `${JSON.stringify(g)} ${JSON.stringify(e)}`).toEqual(Array.from(convRef(inp, w, bias, g, e)));
    }
  });

  it('takes the path the geometry calls for', () => {
    expect(convPath(geom({ inH: 4, inW: 4, inC: 8, outC: 8, kH: 3, kW: 3, group: 8 }))).toBe('depthwise');
    expect(convPath(geom({ inH: 4, inW: 4, inC: 3, outC: 8, kH: 3, kW: 3 }))).toBe('im2col');
    expect(convPath(geom({ inH: 4, inW: 4, inC: 3, outC: 8, kH: 1, kW: 1 }))).toBe('direct');
    expect(convPath(geom({ inH: 4, inW: 4, inC: 64, outC: 8, kH: 3, kW: 3 }))).toBe('direct');
  });
  it('refuses weights of the wrong size and bad geometry with one line', () => {
    const g = geom({ inH: 2, inW: 2, inC: 3, outC: 2, kH: 1, kW: 1 });
    expect(() => eng.packConvWeights(new Int8Array(5), g)).toThrow(/conv weights have 5 values, expected 2×1×1×3 = 6/);
    let err: unknown;
    try { eng.packConvWeights(new Int8Array(6), { ...g, group: 2 }); } catch (e) { err = e; }
    expect(isInputError(err)).toBe(true);
    const wp = eng.packConvWeights(new Int8Array(6), g);
    expect(() => eng.conv2d(0, wp, 0, 0, g, { accUp: 0, biasUp: 0, shift: 0, act: 'relu6' })).toThrow(/relu6Max/);
    expect(() => eng.conv2d(0, wp, 0, 0, g, { accUp: 0, biasUp: 0, shift: 0, act: 'hswish', preShift: 0, fpPre: -1, fpOut: 0 })).toThrow(/fpPre/);
  });
});

describe('planned convs (the simulator\'s steps)', () => {
  it('a plan run on many inputs, with other layers\' epilogues set in between, equals the reference each time', () => {
    const r = rng(77);
    const specs: [GeomSpec, Act, boolean][] = [
      [{ inH: 9, inW: 8, inC: 3, outC: 16, kH: 3, kW: 3, padT: 1, padL: 1, padB: 1, padR: 1 }, 'relu', false], // im2col, 16-wide
      [{ inH: 7, inW: 6, inC: 8, outC: 12, kH: 3, kW: 3, strideH: 2, strideW: 2 }, 'leaky', false], // direct
      [{ inH: 6, inW: 6, inC: 16, outC: 16, kH: 3, kW: 3, group: 16, padT: 1, padL: 1, padB: 1, padR: 1 }, 'hswish', false], // depthwise
      [{ inH: 1, inW: 1, inC: 40, outC: 32, kH: 1, kW: 1 }, 'none', false], // dense
      [{ inH: 3, inW: 3, inC: 8, outC: 4, kH: 2, kW: 2, outH: 4, outW: 4 }, 'relu6', true], // transposed
    ];
    eng.reset();
    const layers = specs.map(([p, act, transposed]) => {
      const g = geom(p);
      const icg = g.inC / g.group;
      const w = randI8(r, g.outC * g.kH * g.kW * icg);
      const bias = randI32(r, g.outC, -4000, 4000);
      const e = epilogueFor(act, r, shiftFor(g.kH * g.kW * icg));
      const bp = put32(bias);
      const run = eng.planConv(eng.packConvWeights(w, g), bp, g, e, transposed);
      return { g, w, bias, e, transposed, run, ip: eng.alloc(g.inH * g.inW * g.inC), op: eng.alloc(g.outH * g.outW * g.outC) };
    });
    for (let k = 0; k < 3; k++) {
      for (const l of layers) {
        const inp = randI8(r, l.g.inH * l.g.inW * l.g.inC);
        eng.i8(l.ip, inp.length).set(inp);
        l.run(l.ip, l.op);
        const want = l.transposed ? deconvRef(inp, l.w, l.bias, l.g, l.e) : convRef(inp, l.w, l.bias, l.g, l.e);
        expect(Array.from(get8(l.op, want.length)), `${l.e.act} run ${k}`).toEqual(Array.from(want));
      }
    }
  });
});

describe('deconv2d', () => {
  const cases: [string, DeconvGeometry][] = [];
  const dg = (inH: number, inW: number, inC: number, outC: number, k: number, s: number, pad: number, opad: number, dil = 1, group = 1): DeconvGeometry => {
    const out = (n: number) => (n - 1) * s - 2 * pad + dil * (k - 1) + 1 + opad;
    return { inH, inW, inC, outC, kH: k, kW: k, strideH: s, strideW: s, dilH: dil, dilW: dil, padT: pad, padL: pad, group, outH: out(inH), outW: out(inW), outPadH: opad, outPadW: opad };
  };
  cases.push(['2×2 stride 2', dg(4, 5, 16, 8, 2, 2, 0, 0)]);
  cases.push(['3×3 stride 2 pad 1 output_padding 1', dg(5, 4, 17, 5, 3, 2, 1, 1)]);
  cases.push(['4×4 stride 2 pad 1 IC 3', dg(4, 4, 3, 4, 4, 2, 1, 0)]);
  cases.push(['3×3 stride 3 dilation 2', dg(3, 4, 8, 3, 3, 3, 1, 2, 2)]);
  cases.push(['groups 2', dg(4, 4, 8, 6, 3, 2, 1, 1, 1, 2)]);
  cases.push(['OC 16 (16-channel kernel)', dg(3, 4, 9, 16, 3, 2, 1, 1)]);
  cases.push(['IC 3 OC 16 (im2col, 16-channel kernel)', dg(4, 3, 3, 16, 4, 2, 1, 0)]);
  cases.push(['depthwise 4×4 stride 2', dg(5, 5, 12, 12, 4, 2, 1, 0, 1, 12)]);
  cases.push(['depthwise 3×3 stride 2 C 16', dg(4, 5, 16, 16, 3, 2, 1, 1, 1, 16)]);
  cases.push(['IC 3 dilation 2 (im2col)', dg(4, 3, 3, 8, 3, 2, 0, 1, 2)]);
  it('random geometries (fixed seed)', () => {
    const r = rng(4343);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    for (let i = 0; i < 30; i++) {
      const k = pick([1, 2, 3, 4, 5]), s = pick([1, 2, 3]), dil = pick([1, 1, 2]);
      const pad = Math.floor(r() * k), opad = Math.floor(r() * Math.max(s, dil));
      const kind = pick(['dense', 'group', 'dw']);
      const base = pick([1, 3, 5, 8, 16, 17]);
      const group = kind === 'dw' ? base : kind === 'group' ? 2 : 1;
      const inC = kind === 'dw' ? base : group * pick([1, 3, 8]), outC = kind === 'dw' ? base : group * pick([1, 4, 5, 16]);
      const g = dg(1 + Math.floor(r() * 4), 1 + Math.floor(r() * 5), inC, outC, k, s, pad, Math.min(opad, s - 1 + dil - 1), dil, group);
      if (g.outH < 1 || g.outW < 1) continue;
      const inp = randI8(r, g.inH * g.inW * g.inC), w = randI8(r, g.outC * k * k * (g.inC / group));
      const bias = randI32(r, g.outC, -500, 500);
      const e = epilogueFor(pick(ACTS), r, shiftFor(k * k * g.inC / group / 2));
      expect(Array.from(runConv(inp, w, bias, g, e, true)), JSON.stringify(g)).toEqual(Array.from(deconvRef(inp, w, bias, g, e)));
    }
  });
  cases.forEach(([name, g], i) => {
    it(name, () => {
      const r = rng(300 + i);
      const inp = randI8(r, g.inH * g.inW * g.inC), w = randI8(r, g.outC * g.kH * g.kW * (g.inC / g.group));
      const bias = randI32(r, g.outC, -128, 127);
      for (const act of ['none', 'relu', 'leaky', 'hswish'] as Act[]) {
        const e = epilogueFor(act, r, shiftFor(g.kH * g.kW * g.inC / g.group / 2));
        expect(Array.from(runConv(inp, w, bias, g, e, true))).toEqual(Array.from(deconvRef(inp, w, bias, g, e)));
      }
    });
  });
});

describe('pooling', () => {
  it('avgPoolFactor: the DPU table and vai_q search', () => {
    expect(avgPoolFactor(3, 3)).toEqual({ n: 7, m: 6 });
    expect(avgPoolFactor(5, 5)).toEqual({ n: 10, m: 8 });
    expect(avgPoolFactor(6, 6)).toEqual({ n: 7, m: 8 });
    expect(avgPoolFactor(7, 7)).toEqual({ n: 21, m: 10 });
    expect(avgPoolFactor(14, 14)).toEqual({ n: 21, m: 12 });
    expect(avgPoolFactor(3, 6)).toEqual({ n: 7, m: 8 });
    expect(avgPoolFactor(6, 3)).toEqual({ n: 7, m: 8 });
    // from vai_q_pytorch's calculate_op_scale (Python round, first minimum)
    expect(avgPoolFactor(1, 1)).toEqual({ n: 1, m: 0 });
    expect(avgPoolFactor(2, 2)).toEqual({ n: 1, m: 2 });
    expect(avgPoolFactor(2, 3)).toEqual({ n: 85, m: 9 });
    expect(avgPoolFactor(4, 5)).toEqual({ n: 51, m: 10 });
    expect(avgPoolFactor(10, 10)).toEqual({ n: 41, m: 12 });
    expect(avgPoolFactor(13, 13)).toEqual({ n: 97, m: 14 });
    expect(avgPoolFactor(20, 20)).toEqual({ n: 41, m: 14 });
    expect(() => avgPoolFactor(0, 3)).toThrow(/kernel 0×3/);
  });

  const pools: [string, GeomSpec][] = [
    ['2×2 stride 2 C 16', { inH: 8, inW: 6, inC: 16, outC: 16, kH: 2, kW: 2, strideH: 2, strideW: 2 }],
    ['3×3 stride 2 pad 1 C 33', { inH: 9, inW: 7, inC: 33, outC: 33, kH: 3, kW: 3, strideH: 2, strideW: 2, padT: 1, padL: 1, padB: 1, padR: 1 }],
    ['3×3 stride 1 pad 1 C 5', { inH: 4, inW: 5, inC: 5, outC: 5, kH: 3, kW: 3, padT: 1, padL: 1, padB: 1, padR: 1 }],
    ['5×5 stride 3 C 17', { inH: 11, inW: 11, inC: 17, outC: 17, kH: 5, kW: 5, strideH: 3, strideW: 3, padT: 2, padL: 2 }],
    ['global 7×7 C 40', { inH: 7, inW: 7, inC: 40, outC: 40, kH: 7, kW: 7 }],
    ['global 13×13 C 24', { inH: 13, inW: 13, inC: 24, outC: 24, kH: 13, kW: 13 }],
    ['dilation 2 C 8', { inH: 7, inW: 7, inC: 8, outC: 8, kH: 3, kW: 3, dilH: 2, dilW: 2 }],
    // YOLOX's SPP: 13×13 stride 1 pad 6 keeps the size; C 40 takes the 16-, 8- and 1-channel paths.
    ['SPP 13×13 stride 1 pad 6 C 40', { inH: 13, inW: 13, inC: 40, outC: 40, kH: 13, kW: 13, padT: 6, padL: 6, padB: 6, padR: 6 }],
    // Windows entirely in the padding (rows and columns): the DPU reads zeros there.
    ['2×2 pad 3 C 19', { inH: 3, inW: 4, inC: 19, outC: 19, kH: 2, kW: 2, padT: 3, padL: 3, padB: 3, padR: 3 }],
  ];
  pools.forEach(([name, p], i) => {
    it(`max and average ${name}`, () => {
      const r = rng(500 + i);
      const g = geom(p);
      // Mostly negative values: padding (never a max candidate, 0 in a sum) must not win.
      const inp = randI8(r, g.inH * g.inW * g.inC, -128, 20);
      const n = g.outH * g.outW * g.inC;
      for (const shift of [0, 1, 3, -1, -2]) {
        eng.reset();
        const ip = put8(inp), op = eng.alloc(n);
        eng.maxPool(ip, op, g, shift);
        expect(Array.from(get8(op, n)), `max shift ${shift}`).toEqual(Array.from(poolRef(inp, g, 'max', 0, shift)));
      }
      const f = avgPoolFactor(g.kH, g.kW);
      for (const d of [0, 1, -1, 2]) {
        eng.reset();
        const ip = put8(inp), op = eng.alloc(n);
        eng.avgPool(ip, op, g, f.n, f.m + d);
        expect(Array.from(get8(op, n)), `avg shift ${f.m + d}`).toEqual(Array.from(poolRef(inp, g, 'avg', f.n, f.m + d)));
      }
    });
  });
  it('3×3 average of a tie: sum 64·… rounds half up', () => {
    // nine 1s: 9·7 = 63 → /64 → 0.98 → 1; nine −1s → −0.98 → −1; sum 32·7/64·... exact ties
    const g = geom({ inH: 3, inW: 3, inC: 2, outC: 2, kH: 3, kW: 3 });
    eng.reset();
    const inp = Int8Array.from({ length: 18 }, (_, i) => (i % 2 ? -1 : 1));
    const ip = put8(inp), op = eng.alloc(2);
    eng.avgPool(ip, op, g, 7, 6);
    expect(Array.from(get8(op, 2))).toEqual([1, -1]);
    // N = 32, M = 6 on nine 1s: 288/64 = 4.5 → 5; nine −1s: −4.5 → −4
    eng.avgPool(ip, op, g, 32, 6);
    expect(Array.from(get8(op, 2))).toEqual([5, -4]);
  });
});

describe('element-wise', () => {
  const len = 103; // not a multiple of 4 or 16: tails run
  it('add aligns both inputs, applies the nonlinearity and rounds once', () => {
    const r = rng(900);
    const a = randI8(r, len), b = randI8(r, len);
    a.set([-128, 127, -128, 127]); b.set([-128, 127, 127, -128]); // the int16 path's extremes
    // The int16 lanes (no act or ReLU, ups ≤ 7, 0 ≤ shift ≤ 14) at their limits, and past them (int32 path).
    for (const [upA, upB, shift] of [[0, 0, 0], [0, 2, 1], [3, 0, 2], [1, 0, -1], [0, 15, 15], [5, 0, -3],
      [7, 0, 14], [0, 7, 8], [7, 0, 0], [0, 0, 14], [0, 8, 1], [0, 0, 15]]) {
      for (const act of ['none', 'relu', 'relu6', 'leaky', 'hsigmoid', 'hswish'] as Act[]) {
        const e: Epilogue = act === 'hsigmoid' || act === 'hswish'
          ? { accUp: 0, biasUp: 0, shift, act, preShift: shift, fpPre: 3, fpOut: act === 'hsigmoid' ? 7 : 5 }
          : { accUp: 0, biasUp: 0, shift, act, relu6Max: 40 };
        eng.reset();
        const ap = put8(a), bp = put8(b), op = eng.alloc(len);
        eng.add(ap, bp, op, len, upA, upB, e);
        const want = Array.from(a, (v, i) => epiRef((BigInt(v) << BigInt(upA)) + (BigInt(b[i]) << BigInt(upB)), e));
        expect(Array.from(get8(op, len)), `${act} ${upA} ${upB} ${shift}`).toEqual(want);
      }
    }
  });
  it('add rounds ties up: (1 + 2)/2 → 2, (−1 − 2)/2 → −1', () => {
    eng.reset();
    const ap = put8(Int8Array.of(1, -1)), bp = put8(Int8Array.of(2, -2)), op = eng.alloc(2);
    eng.add(ap, bp, op, 2, 0, 0, { accUp: 0, biasUp: 0, shift: 1, act: 'none' });
    expect(Array.from(get8(op, 2))).toEqual([2, -1]);
  });
  it('mul', () => {
    const r = rng(901);
    const a = randI8(r, len), b = randI8(r, len);
    for (const shift of [0, 1, 7, 8, 14, -1, 31]) {
      eng.reset();
      const ap = put8(a), bp = put8(b), op = eng.alloc(len);
      eng.mul(ap, bp, op, len, shift);
      expect(Array.from(get8(op, len)), `shift ${shift}`).toEqual(Array.from(a, (v, i) => sat(rnd(BigInt(v * b[i]), shift))));
    }
  });
  it('requantize', () => {
    const a = Int8Array.from({ length: 256 }, (_, i) => i - 128);
    for (const shift of [0, 1, 2, 7, 8, 9, 12, 40, -1, -3, -8, -9, -20]) {
      eng.reset();
      const ap = put8(a), op = eng.alloc(256);
      eng.requantize(ap, op, 256, shift);
      expect(Array.from(get8(op, 256)), `shift ${shift}`).toEqual(Array.from(a, (v) => sat(rnd(BigInt(v), shift))));
    }
  });
  it('quantize (DPU_ROUND ties up, saturation, negative fix point) and dequantize', () => {
    const x = Float32Array.of(2.5 / 4, -2.5 / 4, 0.49999997 / 4, 200, -200, 127.5 / 4, -128.5 / 4, 0, NaN, 1e-30);
    eng.reset();
    const xp = eng.alloc(x.length * 4, 4);
    eng.f32(xp, x.length).set(x);
    const qp = eng.alloc(x.length);
    eng.quantize(xp, qp, x.length, 2);
    expect(Array.from(get8(qp, x.length))).toEqual([3, -2, 0, 127, -128, 127, -128, 0, 0, 0]);
    eng.quantize(xp, qp, 5, -1); // 255 → 127.5 → 128 → 127; 200·2^-1 = 100
    expect(Array.from(get8(qp, 5))).toEqual([0, 0, 0, 100, -100]);
    const fp = eng.alloc(5 * 4, 4);
    eng.dequantize(qp, fp, 5, -1);
    expect(Array.from(eng.f32(fp, 5))).toEqual([0, 0, 0, 200, -200]);
  });
  it('quantize and dequantize on sixteen lanes equal the float64 reference, also into and out of NHWC', () => {
    // Values where float32 shortcuts go wrong: just below a half (0.5 − 2^-25 + 0.5 rounds up to 1 in
    // float32), exact halves of either sign, the saturation edges, huge, infinite, NaN and subnormal values.
    const r0 = rng(977);
    const r = () => Math.floor(r0() * 2 ** 32);
    const edge = [0.5 - 2 ** -25, -(0.5 - 2 ** -25), 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, 127.5, -128.5, -127.5,
      0.49999997, -0.50000006, 1e-45, -1e-45, 3e38, -3e38, Infinity, -Infinity, NaN, 0, -0, 1 - 2 ** -24, -(1 - 2 ** -24)];
    const x = new Float32Array(16 * 40 + 7);
    for (let i = 0; i < x.length; i++) {
      const k = r() % 4;
      x[i] = k === 0 ? edge[r() % edge.length] : k === 1 ? ((r() % 600) - 300) / 2 + (r() % 2 ? 2 ** -20 : -(2 ** -20)) : ((r() % 2000000) - 1000000) / 4096;
    }
    const ref = (v: number, fp: number) => { const q = Math.floor(v * 2 ** fp + 0.5); return Number.isNaN(q) ? 0 : q < -128 ? -128 : q > 127 ? 127 : q; };
    for (const fp of [0, 1, 3, 7, -1, -4, 24, -64, 64]) {
      eng.reset();
      const xp = eng.alloc(x.length * 4, 16);
      eng.f32(xp, x.length).set(x);
      const qp = eng.alloc(x.length, 16), tp = eng.alloc(x.length, 16);
      eng.quantize(xp, qp, x.length, fp);
      const want = Array.from(x, (v) => ref(v, fp));
      expect(Array.from(get8(qp, x.length)), `fp ${fp}`).toEqual(want);
      // [C][P] float → [P][C] int8, for odd C and P.
      const C = 7, P = 92;
      eng.quantizeToNhwc(xp, qp, P, C, fp, tp);
      const q = get8(qp, P * C);
      for (let c = 0; c < C; c++) for (let p = 0; p < P; p++) if (q[p * C + c] !== want[c * P + p]) expect([c, p, q[p * C + c]]).toEqual([c, p, want[c * P + p]]);
      // and back: [P][C] int8 → [C][P] float = q·2^-fp
      const fo = eng.alloc(P * C * 4, 16);
      eng.dequantizeToNchw(qp, fo, P, C, fp, tp);
      const f = eng.f32(fo, P * C);
      for (let c = 0; c < C; c++) for (let p = 0; p < P; p++) expect(f[c * P + p]).toBe(Math.fround(want[c * P + p] * 2 ** -fp));
      eng.dequantize(qp, fo, x.length > P * C ? P * C : x.length, fp);
      expect(Array.from(eng.f32(fo, P * C))).toEqual(Array.from(get8(qp, P * C), (v) => Math.fround(v * 2 ** -fp)));
    }
  });
  it('transpose8 swaps the axes of a byte matrix of any size', () => {
    const r = rng(978);
    for (const [R, C] of [[1, 1], [1, 17], [17, 1], [16, 16], [33, 80], [40, 35], [2704, 3], [3, 5], [3, 16], [3, 83], [80, 2704]]) {
      const a = randI8(r, R * C);
      eng.reset();
      const ap = put8(a), op = eng.alloc(R * C);
      eng.transpose8(ap, op, R, C);
      const want = new Int8Array(R * C);
      for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) want[j * R + i] = a[i * C + j];
      expect(Array.from(get8(op, R * C)), `${R}×${C}`).toEqual(Array.from(want));
    }
  });
});

describe('data movement', () => {
  it('concat places each input after the previous ones, aligning its fix point', () => {
    const r = rng(950);
    const P = 7, chans = [3, 16, 5, 37, 1, 2, 4, 3], shifts = [0, 1, -1, 2, 0, 0, 0, 1];
    const ins = chans.map((c) => randI8(r, P * c));
    eng.reset();
    const ptrs = ins.map(put8);
    const cout = 71;
    const op = eng.alloc(P * cout);
    eng.concat(ptrs.map((ptr, i) => ({ ptr, channels: chans[i], shift: shifts[i] })), op, P);
    const want: number[] = [];
    for (let p = 0; p < P; p++) chans.forEach((c, i) => { for (let k = 0; k < c; k++) want.push(sat(rnd(BigInt(ins[i][p * c + k]), shifts[i]))); });
    expect(Array.from(get8(op, P * cout))).toEqual(want);
    eng.concat([{ ptr: ptrs[1], channels: 16, shift: 0 }], op, P); // one input: a copy
    expect(Array.from(get8(op, P * 16))).toEqual(Array.from(ins[1]));
  });
  it('upsampleNearest repeats each pixel sh × sw times', () => {
    const r = rng(951);
    for (const [H, W, C, sh, sw] of [[3, 4, 5, 2, 3], [2, 3, 29, 2, 2]]) {
    const inp = randI8(r, H * W * C);
    for (const shift of [0, 1, -1, 9, -9]) {
      eng.reset();
      const ip = put8(inp), op = eng.alloc(H * sh * W * sw * C);
      eng.upsampleNearest(ip, op, H, W, C, sh, sw, shift);
      const want: number[] = [];
      for (let y = 0; y < H * sh; y++) for (let x = 0; x < W * sw; x++) for (let c = 0; c < C; c++) {
        want.push(sat(rnd(BigInt(inp[(Math.floor(y / sh) * W + Math.floor(x / sw)) * C + c]), shift)));
      }
      expect(Array.from(get8(op, want.length)), `shift ${shift}`).toEqual(want);
    }
    }
  });
});

describe('engine memory', () => {
  it('grows on demand and keeps earlier data; reset frees everything', () => {
    eng.reset();
    const p = put8(Int8Array.of(1, 2, 3));
    const big = eng.alloc(64 << 20);
    eng.i8(big + (64 << 20) - 1, 1)[0] = 9;
    expect(Array.from(eng.i8(p, 3))).toEqual([1, 2, 3]);
    expect(eng.alloc(16, 16) % 16).toBe(0);
    eng.reset();
    expect(eng.alloc(1)).toBe(p);
  });
});
