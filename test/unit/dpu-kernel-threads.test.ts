// The int8 conv kernels split over helper threads (kernel-threads.ts) give the single-thread engine's
// bytes exactly: every path (direct, 16-wide, im2col, depthwise, grouped, transposed), fused and
// accumulator epilogues, on random geometries, with every layer split (splitMacs 0) at 2 and 3 threads;
// once with the chunks shared as in a run, once run by the helpers alone (so their path is always taken).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convPath, loadInt8Engine, type Act, type DeconvGeometry, type Epilogue, type Int8Engine } from '../../src/core/sim/dpu/kernels';
import { kernelThreadsAvailable } from '../../src/core/sim/dpu/kernel-threads';
import { rng } from './dpu-sim-nets';

const ACTS: Act[] = ['none', 'relu', 'relu6', 'leaky', 'hsigmoid', 'hswish'];

function epilogueFor(act: Act, r: () => number, k: number): Epilogue {
  // accUp up to 6 with a wide bias: the worst-case int32 bound fails, so the accumulator path and its
  // actual-range check (per thread's rows) are taken too.
  const accUp = r() < 0.4 ? Math.floor(r() * 7) : 0;
  const s = Math.max(0, Math.round(Math.log2(128 * Math.sqrt(k)))) + accUp;
  const fpOut = 3 + Math.floor(r() * 5);
  const biasUp = Math.floor(r() * 8);
  if (act === 'hsigmoid' || act === 'hswish') {
    const fpPre = 2 + Math.floor(r() * 4);
    return { accUp, biasUp, shift: s, act, preShift: s, fpPre, fpOut: act === 'hsigmoid' ? 7 : Math.min(fpOut, fpPre + 7) };
  }
  return { accUp, biasUp, shift: s, act, relu6Max: act === 'relu6' ? Math.floor(6 * 2 ** fpOut + 0.5) : undefined };
}

interface Case { g: DeconvGeometry; transposed: boolean; inp: Int8Array; w: Int8Array; bias: Int32Array | null; e: Epilogue }

function randomCases(seed: number, count: number): Case[] {
  const r = rng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const i8 = (n: number) => Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128);
  const cases: Case[] = [];
  while (cases.length < count) {
    const transposed = r() < 0.2;
    const kH = pick([1, 1, 2, 3, 3, 5]), kW = pick([kH, kH, 1, 3]);
    const dilH = pick([1, 1, 2]), dilW = pick([1, 1, 2]);
    const kind = pick(['dense', 'dense', 'dense', 'group', 'dw']);
    const base = pick([1, 3, 5, 8, 12, 16, 17, 24, 32, 33, 40]);
    const group = kind === 'dw' ? base : kind === 'group' ? pick([2, 3]) : 1;
    const inC = kind === 'dw' ? base : kind === 'group' ? group * pick([1, 3, 8]) : base;
    const outC = kind === 'dw' ? base : group * pick([1, 4, 5, 8, 16, 32]);
    const strideH = pick([1, 1, 2, 3]), strideW = pick([1, 1, 2]);
    const inH = 3 + Math.floor(r() * 14), inW = 3 + Math.floor(r() * 12);
    const padT = Math.floor(r() * kH), padL = Math.floor(r() * kW), padB = Math.floor(r() * kH), padR = Math.floor(r() * kW);
    let outH: number, outW: number;
    if (transposed) {
      outH = (inH - 1) * strideH - padT - padB + dilH * (kH - 1) + 1;
      outW = (inW - 1) * strideW - padL - padR + dilW * (kW - 1) + 1;
    } else {
      outH = Math.floor((inH + padT + padB - ((kH - 1) * dilH + 1)) / strideH) + 1;
      outW = Math.floor((inW + padL + padR - ((kW - 1) * dilW + 1)) / strideW) + 1;
    }
    if (outH < 2 || outW < 1) continue;
    const g: DeconvGeometry = { inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilH, dilW, padT, padL, group };
    const bias = r() < 0.8 ? Int32Array.from({ length: outC }, () => Math.floor((r() * 2 - 1) * 2 ** (8 + Math.floor(r() * 14)))) : null;
    cases.push({ g, transposed, inp: i8(inH * inW * inC), w: i8(outC * kH * kW * (inC / group)), bias, e: epilogueFor(pick(ACTS), r, kH * kW * inC / group) });
  }
  return cases;
}

/** Output bytes of a planned layer run twice (the plan is reused per sample), with guard bytes after it. */
function run(eng: Int8Engine, c: Case): Int8Array {
  eng.reset();
  const ip = eng.alloc(c.inp.length);
  eng.i8(ip, c.inp.length).set(c.inp);
  let bp = 0;
  if (c.bias) { bp = eng.alloc(4 * c.bias.length, 16); eng.i32(bp, c.bias.length).set(c.bias); }
  const layer = eng.planConv(eng.packConvWeights(c.w, c.g), bp, c.g, c.e, c.transposed);
  const n = c.g.outH * c.g.outW * c.g.outC;
  const op = eng.alloc(n);
  const guard = eng.alloc(64);
  eng.i8(guard, 64).fill(0x55);
  layer(ip, op);
  eng.i8(op, n).fill(0);
  layer(ip, op);
  expect(Array.from(eng.i8(guard, 64)).every((v) => v === 0x55), 'guard bytes after the output').toBe(true);
  return eng.i8(op, n).slice();
}

describe.runIf(kernelThreadsAvailable())('conv kernels over threads', () => {
  let one: Int8Engine;
  const threaded: Int8Engine[] = [];
  beforeAll(async () => {
    one = await loadInt8Engine();
    for (const threads of [2, 3]) for (const helpersOnly of [false, true]) threaded.push(await loadInt8Engine({ threads, splitMacs: 0, helpersOnly }));
  });
  afterAll(() => { for (const e of threaded) e.dispose(); });

  it('start the helpers asked for (one engine for threads = 1)', () => {
    expect([one.threads, ...threaded.map((e) => e.threads)]).toEqual([1, 2, 2, 3, 3]);
  });

  it('every path and epilogue: 2 and 3 threads give the one-thread bytes', () => {
    const cases = randomCases(2026, 160);
    const paths = new Set(cases.map((c) => (c.transposed ? 'deconv ' : '') + convPath(c.g)));
    expect(paths).toEqual(new Set(['direct', 'im2col', 'depthwise', 'deconv direct', 'deconv im2col', 'deconv depthwise']));
    for (const c of cases) {
      const want = Array.from(run(one, c));
      const what = `${c.transposed ? 'deconv' : 'conv'} ${JSON.stringify(c.g)} ${JSON.stringify(c.e)}`;
      threaded.forEach((e, i) => expect(Array.from(run(e, c)), `engine ${i}: ${what}`).toEqual(want));
    }
  });

  it('a disposed engine runs on its own thread and still gives the same bytes', async () => {
    const e = await loadInt8Engine({ threads: 2, splitMacs: 0 });
    const cases = randomCases(7, 10);
    e.dispose();
    e.dispose();
    for (const c of cases) expect(Array.from(run(e, c))).toEqual(Array.from(run(one, c)));
  });
});
