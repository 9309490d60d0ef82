// The int8 DPU kernels: WebAssembly SIMD128 (compiled from ./asm by scripts/build-wasm.ts) behind a small
// engine that owns one linear memory. Semantics: docs/simulator.md — every kernel returns the exact
// result rounded once with DPU_ROUND and saturated to int8. The JS side plans all memory (a bump
// allocator plus per-call scratch above it); the wasm holds no allocator.
import { InputError } from '../../errors';
import { KERNELS_WASM_BASE64 } from './kernels.gen';
import { KERNELS_SHARED_WASM_BASE64 } from './kernels-shared.gen';
import { wasmBytes } from '../../wasm';
import { KERNEL_FNS, kernelThreadsAvailable, slotBytes, SLOT_WORDS, startKernelCrew, type KernelCrew, type KernelFn } from './kernel-threads';

export interface ConvGeometry {
  inH: number; inW: number; inC: number; outH: number; outW: number; outC: number;
  kH: number; kW: number; strideH: number; strideW: number; dilH: number; dilW: number; padT: number; padL: number;
  group: number;
}
export type Act = 'none' | 'relu' | 'relu6' | 'leaky' | 'hsigmoid' | 'hswish';
/** The epilogue of docs/simulator.md: z = acc·2^accUp + bias·2^biasUp (exact, int64), then act, round, saturate. */
export interface Epilogue {
  accUp: number; biasUp: number; shift: number /* s: to the output fp (may be <0) */;
  act: Act; relu6Max?: number /* round(6·2^fp_out) */;
  preShift?: number /* hsig/hswish: shift from z to fp_pre */; fpPre?: number; fpOut?: number;
}
export type DeconvGeometry = ConvGeometry & { outPadH?: number; outPadW?: number };

export interface Int8Engine {
  /** Threads the conv kernels split their big layers over (1: this one only, as after dispose). */
  readonly threads: number;
  /** Ends the helper threads (the engine then runs on this thread only). */
  dispose(): void;
  /** Bytes in wasm memory (8-byte aligned by default); returns a byte offset. Memory grows as needed. */
  alloc(bytes: number, align?: number): number;
  reset(): void;
  /** Fresh views. Memory may grow on alloc and on any kernel call (scratch): re-fetch views after either. */
  i8(ptr: number, len: number): Int8Array;
  i32(ptr: number, len: number): Int32Array;
  f32(ptr: number, len: number): Float32Array;
  /** Packs [OC, KH, KW, IC/group] int8 weights into the layout conv2d/deconv2d use for g; returns its pointer. */
  packConvWeights(w: Int8Array, g: ConvGeometry): number;
  /** out[oh][ow][oc] int8 (NHWC, one sample) = epilogue(Σ in·w, bias[oc]); padding reads 0. bias: int32 ptr or 0. */
  conv2d(inPtr: number, wPacked: number, biasPtr: number, outPtr: number, g: ConvGeometry, e: Epilogue): void;
  /** Transposed conv (ONNX ConvTranspose semantics), weights [OC, KH, KW, IC/group] (XIR layout) packed by
   *  packConvWeights with the same g; g.outH/outW already include output_padding. */
  deconv2d(inPtr: number, wPacked: number, biasPtr: number, outPtr: number, g: DeconvGeometry, e: Epilogue): void;
  /** conv2d (or deconv2d when `transposed`) planned once for a simulator step: checks, tap offsets and bias
   *  terms (persistent memory; the bias must be in place) are done here, so each sample only runs kernels. */
  planConv(wPacked: number, biasPtr: number, g: DeconvGeometry, e: Epilogue, transposed?: boolean): (inPtr: number, outPtr: number) => void;
  /** y = sat(round(max(window), shift)), shift = fp_in − fp_out; padding never wins. */
  maxPool(inPtr: number, outPtr: number, g: ConvGeometry, shift: number): void;
  /** sum over the window (pad = 0), ×N, rounded with shift M + fp_in − fp_out. */
  avgPool(inPtr: number, outPtr: number, g: ConvGeometry, n: number, shift: number): void;
  /** Element-wise add of two int8 maps of `len` values with the epilogue (align shifts upA/upB to F). */
  add(aPtr: number, bPtr: number, outPtr: number, len: number, upA: number, upB: number, e: Epilogue): void;
  /** y = sat(round(a·b, shift)), shift = fp_a + fp_b − fp_out. */
  mul(aPtr: number, bPtr: number, outPtr: number, len: number, shift: number): void;
  /** y = sat(round(q, shift)): concat/resize alignment. */
  requantize(inPtr: number, outPtr: number, len: number, shift: number): void;
  /** Channel concat of NHWC maps with `pixels` pixels each: input i's channels land after those of inputs
   *  before it, each rounded with its own shift (fp_i − fp_out; 0 when the rules aligned them). */
  concat(ins: readonly { ptr: number; channels: number; shift: number }[], outPtr: number, pixels: number): void;
  /** Nearest upsampling of an NHWC map by integer factors: out[oh][ow] = sat(round(in[⌊oh/sh⌋][⌊ow/sw⌋], shift)).
   *  (ONNX Resize nearest with integer scales gives this for every coordinate mode but align_corners.) */
  upsampleNearest(inPtr: number, outPtr: number, inH: number, inW: number, C: number, sh: number, sw: number, shift: number): void;
  /** Graph inputs: q = sat(floor(x·2^fp + 0.5)) from float32 (computed in float64, exact). */
  quantize(f32Ptr: number, outPtr: number, len: number, fp: number): void;
  /** x = q·2^-fp. */
  dequantize(inPtr: number, f32Ptr: number, len: number, fp: number): void;
  /** quantize of a [C][P] float32 map (NCHW) into [P][C] int8 (NHWC); `tmpPtr` is C·P bytes of scratch. */
  quantizeToNhwc(f32Ptr: number, outPtr: number, P: number, C: number, fp: number, tmpPtr: number): void;
  /** dequantize of a [P][C] int8 map (NHWC) into [C][P] float32 (NCHW); `tmpPtr` is C·P bytes of scratch. */
  dequantizeToNchw(inPtr: number, f32Ptr: number, P: number, C: number, fp: number, tmpPtr: number): void;
  /** out[c][r] = in[r][c] for an R×C int8 matrix (NHWC ↔ NCHW of one sample: R = H·W, C channels, or back). */
  transpose8(inPtr: number, outPtr: number, R: number, C: number): void;
}

/** How conv2d computes a geometry; packConvWeights lays the weights out for the same path. */
export type ConvPath = 'depthwise' | 'im2col' | 'direct';

/** A direct or im2col conv whose groups have a multiple of 16 output channels runs the 16-channel kernel
 *  on int16 input. */
const isWide = (g: ConvGeometry): boolean => convPath(g) !== 'depthwise' && (g.outC / g.group) % 16 === 0;

export function convPath(g: ConvGeometry): ConvPath {
  if (g.group > 1 && g.group === g.inC && g.group === g.outC) return 'depthwise';
  // Few input channels: padding them to 8 per tap would waste most multiplies; pack the receptive field.
  if (g.group === 1 && g.kH * g.kW > 1 && g.inC % 8 !== 0 && g.inC < 32) return 'im2col';
  return 'direct';
}

const ACT_CODE: Record<Act, number> = { none: 0, relu: 1, relu6: 2, leaky: 3, hsigmoid: 4, hswish: 5 };

/** Python's round(): ties to even (the quantizer computes N with it). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

/**
 * The DPU's average-pool factor N/2^M standing in for 1/(kh·kw) (dpu-reference §2): the fixed table, else
 * the first M < ceil(log2(n·128)) minimising |round(2^M/n)/2^M − 1/n| (vai_q's search).
 */
export function avgPoolFactor(kh: number, kw: number): { n: number; m: number } {
  if (!Number.isInteger(kh) || !Number.isInteger(kw) || kh < 1 || kw < 1) {
    throw new InputError(`average pool kernel ${kh}×${kw} is not a positive integer size`);
  }
  if (kh === 3 && kw === 3) return { n: 7, m: 6 };
  if (kh === 5 && kw === 5) return { n: 10, m: 8 };
  if (kh === 6 && kw === 6) return { n: 7, m: 8 };
  if (kh === 7 && kw === 7) return { n: 21, m: 10 };
  if (kh === 14 && kw === 14) return { n: 21, m: 12 };
  if ((kh === 3 && kw === 6) || (kh === 6 && kw === 3)) return { n: 7, m: 8 };
  const rec = kh * kw;
  const maxM = Math.ceil(Math.log2(rec * 128));
  let best = { n: 0, m: 0 };
  let diff = 1;
  for (let m = 0; m < maxM; m++) {
    const n = roundHalfEven(2 ** m / rec);
    const d = Math.abs(n / 2 ** m - 1 / rec);
    if (d < diff) { diff = d; best = { n, m }; }
  }
  return best;
}

interface Exports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  setEpilogue(accUp: number, biasUp: number, shift: number, act: number, relu6Max: number,
    preShift: number, fpPre: number, fpOut: number): void;
  fitsI32(maxAcc: number, maxBias: number): number;
  prepareBias(bias: number, C: number, bt: number): number;
  epilogueRows(acc: number, accStride: number, out: number, P: number, C: number, bt: number, fast: number, maxBias: number): void;
  buildV(inp: number, inH: number, inW: number, C: number, group: number, Cg: number, Cp: number,
    uh: number, uw: number, offT: number, offL: number, V: number, Hp: number, Wp: number): void;
  im2col(V: number, rowStride: number, sH: number, sW: number, kH: number, kW: number, dH: number, dW: number,
    IC: number, outH: number, outW: number, Kp: number, dst: number): void;
  im2col16(V: number, rowStride: number, sH: number, sW: number, kH: number, kW: number, dH: number, dW: number,
    IC: number, outH: number, outW: number, Kp: number, dst: number): void;
  im2colTaps16(V: number, rowStride: number, pixStride: number, sH: number, sW: number, taps: number, tapOff: number,
    IC: number, outH: number, outW: number, Kp: number, dst: number): void;
  im2colTaps(V: number, rowStride: number, pixStride: number, sH: number, sW: number, taps: number, tapOff: number,
    IC: number, outH: number, outW: number, Kp: number, dst: number): void;
  buildV16(inp: number, inH: number, inW: number, C: number, group: number, Cg: number, Cp: number,
    uh: number, uw: number, offT: number, offL: number, V: number, Hp: number, Wp: number): void;
  convWide(V: number, rowStride: number, pixStride: number, sH: number, sW: number, taps: number, tapOff: number,
    pairs: number, W: number, blocks: number, outW: number, oh0: number, oh1: number, acc: number,
    accStride: number, col0: number, out: number, outStride: number, bt32: number, accUp: number): void;
  convCore(V: number, rowStride: number, pixStride: number, sH: number, sW: number, taps: number, tapOff: number,
    chunks: number, W: number, ocBlocks: number, outW: number, oh0: number, oh1: number, acc: number,
    accStride: number, col0: number, out: number, outStride: number, bt32: number, accUp: number): void;
  dwCore(V: number, rowStride: number, pixStride: number, sH: number, sW: number, taps: number, tapOff: number,
    W: number, Cp: number, outW: number, oh0: number, oh1: number, acc: number, out: number, C: number,
    bt32: number, accUp: number): void;
  dw3x3(V: number, rowStride: number, pixStride: number, sH: number, sW: number, dH: number, dW: number,
    W: number, Cp: number, outW: number, oh0: number, oh1: number, acc: number, out: number, C: number,
    bt32: number, accUp: number): void;
  maxPool(inp: number, out: number, inH: number, inW: number, C: number, outH: number, outW: number, kH: number,
    kW: number, sH: number, sW: number, dH: number, dW: number, padT: number, padL: number, shift: number, rows: number): void;
  avgPool(inp: number, out: number, inH: number, inW: number, C: number, outH: number, outW: number, kH: number,
    kW: number, sH: number, sW: number, dH: number, dW: number, padT: number, padL: number, n: number,
    shift: number, sums: number): void;
  add(a: number, b: number, out: number, len: number, upA: number, upB: number): void;
  add16(a: number, b: number, out: number, len: number, upA: number, upB: number, shift: number, relu: number): void;
  mul(a: number, b: number, out: number, len: number): void;
  requantize(inp: number, out: number, len: number, shift: number): void;
  quantize(x: number, out: number, len: number, fp: number): void;
  dequantize(q: number, x: number, len: number, fp: number): void;
  quantizeToNhwc(x: number, out: number, P: number, C: number, fp: number, tmp: number): void;
  dequantizeToNchw(q: number, x: number, P: number, C: number, fp: number, tmp: number): void;
  transpose8(inp: number, out: number, R: number, C: number): void;
  concatInto(inp: number, out: number, P: number, Ci: number, Cout: number, off: number, shift: number): void;
  upsampleNearest(inp: number, out: number, inH: number, inW: number, C: number, sh: number, sw: number, shift: number): void;
}

let modulePromise: Promise<WebAssembly.Module> | undefined;
let sharedModulePromise: Promise<WebAssembly.Module> | undefined;

/** At most this many threads split a layer (the engine's own plus helpers). */
export const MAX_KERNEL_THREADS = 8;

/**
 * Instantiates the embedded wasm (WebAssembly API only; the module is compiled once per realm). With
 * `threads` > 1 where threads can run (kernelThreadsAvailable), the shared-memory build is used and
 * threads − 1 helpers take their share of each big conv layer's rows; otherwise one thread, as before.
 * `splitMacs`: the smallest layer split (default SPLIT_MACS; the tests split every layer with 0);
 * `helpersOnly` (tests): split layers run on the helpers alone, so their path is always taken.
 */
export async function loadInt8Engine(o: { threads?: number; splitMacs?: number; helpersOnly?: boolean } = {}): Promise<Int8Engine> {
  const threads = Math.min(MAX_KERNEL_THREADS, Math.max(1, Math.floor(o.threads ?? 1)));
  if (threads > 1 && kernelThreadsAvailable()) {
    const engine = await threadedEngine(threads, o).catch(() => undefined);
    // No 4 GB shared memory to reserve, or no helper would start: the same kernels on this thread alone.
    if (engine) return engine;
  }
  modulePromise ??= WebAssembly.compile(wasmBytes(KERNELS_WASM_BASE64));
  const instance = await WebAssembly.instantiate(await modulePromise, {});
  const engine = createEngine(instance.exports as unknown as Exports);
  warmUp(engine);
  return engine;
}

async function threadedEngine(threads: number, o: { splitMacs?: number; helpersOnly?: boolean }): Promise<Int8Engine> {
  sharedModulePromise ??= WebAssembly.compile(wasmBytes(KERNELS_SHARED_WASM_BASE64));
  const module = await sharedModulePromise;
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  const x = (await WebAssembly.instantiate(module, { env: { memory } })).exports as unknown as Exports;
  const first = roundUp(x.heapBase(), 16);
  const end = first + slotBytes(threads - 1);
  if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  const fns = KERNEL_FNS.map((n) => x[n] as (...a: number[]) => unknown);
  const crew = await startKernelCrew(module, memory, first, threads - 1, fns);
  const engine = createEngine(x, crew, end, o.splitMacs ?? SPLIT_MACS, o.helpersOnly);
  warmUp(engine);
  return engine;
}

/**
 * A conv layer is split over the threads from this many multiply-accumulates (~40 µs of kernel): a helper
 * that takes part costs a wake-up and a join (a 4×4×16 1×1 conv run by a helper alone: 45 µs against 1.4 µs
 * here, on a loaded machine), one that wakes too late only the posting (6 µs).
 */
export const SPLIT_MACS = 1 << 21;
/** Row chunks per thread of a split layer. */
const CHUNKS_PER_THREAD = 4;

/**
 * V8 first runs wasm in its baseline tier and compiles the optimizing tier in the background once a
 * function has run enough; a long kernel call never switches mid-way, so the first sample would run ~15×
 * slower. A few tiny calls of every kernel (a few ms) start that compile while the caller prepares.
 */
function warmUp(eng: Int8Engine): void {
  const geo = (inC: number, outC: number, k: number, group = 1): ConvGeometry => ({
    inH: 6, inW: 6, inC, outH: 6, outW: 6, outC, kH: k, kW: k, strideH: 1, strideW: 1, dilH: 1, dilW: 1,
    padT: k >> 1, padL: k >> 1, group,
  });
  const e: Epilogue = { accUp: 0, biasUp: 0, shift: 4, act: 'relu' };
  const convs = [geo(16, 16, 3), geo(16, 16, 1), geo(16, 8, 1), geo(16, 6, 3), geo(3, 8, 3), geo(3, 16, 3), geo(16, 16, 3, 16), geo(16, 16, 5, 16), geo(12, 12, 3, 12)];
  const inp = eng.alloc(6 * 6 * 16, 16), out = eng.alloc(6 * 6 * 16, 16), f = eng.alloc(6 * 6 * 16 * 4, 16);
  const packed = convs.map((g) => eng.packConvWeights(new Int8Array(g.outC * g.kH * g.kW * (g.inC / g.group)), g));
  for (let r = 0; r < 5; r++) {
    convs.forEach((g, i) => eng.conv2d(inp, packed[i], 0, out, g, e));
    eng.deconv2d(inp, packed[0], 0, out, convs[0], e);
    eng.maxPool(inp, out, geo(16, 16, 3), 0);
    eng.avgPool(inp, out, geo(16, 16, 3), 7, 6);
    eng.add(inp, inp, out, 64, 0, 1, e);
    eng.mul(inp, inp, out, 64, 7);
    eng.requantize(inp, out, 64, 1);
    eng.concat([{ ptr: inp, channels: 8, shift: 0 }, { ptr: inp, channels: 8, shift: 1 }], out, 9);
    eng.upsampleNearest(inp, out, 3, 3, 16, 2, 2, 0);
    eng.quantize(f, out, 64, 4);
    eng.dequantize(inp, f, 64, 4);
    eng.quantizeToNhwc(f, out, 36, 3, 4, inp);
    eng.dequantizeToNchw(out, f, 36, 3, 4, inp);
  }
  eng.reset();
}

const SLACK = 64; // kept free above the last allocation
const roundUp = (x: number, m: number): number => Math.ceil(x / m) * m;

function checkInt(name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new InputError(`${name} = ${String(v)} is not an integer in [${lo}, ${hi}]`);
  }
  return v;
}

function checkGeometry(g: ConvGeometry, what: string): void {
  for (const k of ['inH', 'inW', 'inC', 'outH', 'outW', 'outC', 'kH', 'kW', 'strideH', 'strideW', 'dilH', 'dilW', 'group'] as const) {
    checkInt(`${what} ${k}`, g[k], 1, 1 << 24);
  }
  checkInt(`${what} padT`, g.padT, 0, 1 << 16);
  checkInt(`${what} padL`, g.padL, 0, 1 << 16);
  if (g.inC % g.group !== 0 || g.outC % g.group !== 0) {
    throw new InputError(`${what}: group ${g.group} does not divide inC ${g.inC} and outC ${g.outC}`);
  }
}

function createEngine(x: Exports, crew?: KernelCrew, reserved = 0, splitMacs = SPLIT_MACS, helpersOnly = false): Int8Engine {
  const base = roundUp(Math.max(x.heapBase(), reserved), 16);
  let top = base;
  const fns = KERNEL_FNS.map((n) => x[n] as (...a: number[]) => void);
  /** Set by dispose: from then on every layer runs on this thread. */
  let ended = false;
  const fnIndex = new Map<KernelFn, number>(KERNEL_FNS.map((n, i) => [n, i]));

  const ensure = (end: number): void => {
    const have = x.memory.buffer.byteLength;
    if (end + SLACK > have) x.memory.grow(Math.ceil((end + SLACK - have) / 65536));
  };
  const alloc = (bytes: number, align = 8): number => {
    checkInt('alloc bytes', bytes, 0, 2 ** 31);
    checkInt('alloc align', align, 1, 65536);
    const p = roundUp(top, align);
    ensure(p + bytes);
    top = p + bytes;
    return p;
  };
  /** Per-call scratch: allocated above everything and released when f returns. */
  const scratch = <T>(sizes: number[], f: (ptrs: number[]) => T): T => {
    const mark = top;
    try {
      return f(sizes.map((s) => alloc(s, 16)));
    } finally {
      top = mark;
    }
  };

  /** The checked arguments of the wasm setEpilogue. */
  const epilogueArgs = (e: Epilogue): [number, number, number, number, number, number, number, number] => {
    const act = ACT_CODE[e.act];
    if (act === undefined) throw new InputError(`unknown activation '${String(e.act)}'`);
    const accUp = checkInt('epilogue accUp', e.accUp, 0, 24);
    const biasUp = checkInt('epilogue biasUp', e.biasUp, 0, 24);
    const shift = checkInt('epilogue shift', e.shift, -32, 62);
    let relu6Max = 0, preShift = 0, fpPre = 0, fpOut = 0;
    if (e.act === 'relu6') relu6Max = checkInt('epilogue relu6Max', e.relu6Max, 0, 1 << 24);
    if (e.act === 'hsigmoid' || e.act === 'hswish') {
      preShift = checkInt('epilogue preShift', e.preShift, -32, 62);
      fpPre = checkInt('epilogue fpPre (hard-sigmoid input fix point)', e.fpPre, 0, 16);
      fpOut = checkInt('epilogue fpOut', e.fpOut, -32, 32);
    }
    return [accUp, biasUp, shift, act, relu6Max, preShift, fpPre, fpOut];
  };
  const setEpilogue = (e: Epilogue): void => {
    const a = epilogueArgs(e);
    x.setEpilogue(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
  };

  const i8 = (ptr: number, len: number): Int8Array => new Int8Array(x.memory.buffer, ptr, len);

  const packConvWeights = (w: Int8Array, g: ConvGeometry): number => {
    checkGeometry(g, 'conv');
    const icg = g.inC / g.group, ocg = g.outC / g.group, taps = g.kH * g.kW;
    if (w.length !== g.outC * taps * icg) {
      throw new InputError(`conv weights have ${w.length} values, expected ${g.outC}×${g.kH}×${g.kW}×${icg} = ${g.outC * taps * icg}`);
    }
    const path = convPath(g);
    if (path === 'depthwise') {
      // [8-channel slice][tap pair (a, b)][c0..3 then c4..7][wa, wb] int16; an odd last tap pairs with 0.
      const slices = roundUp(g.inC, 8) / 8, pairs = (taps + 1) >> 1;
      const len = slices * pairs * 16;
      const p = alloc(len * 2, 16);
      const v = new Int16Array(x.memory.buffer, p, len);
      v.fill(0);
      for (let c = 0; c < g.inC; c++) {
        for (let t = 0; t < taps; t++) {
          v[((c >> 3) * pairs + (t >> 1)) * 16 + (c & 7) * 2 + (t & 1)] = w[c * taps + t];
        }
      }
      return p;
    }
    if (isWide(g)) {
      // [group][16-oc block][tap][channel pair][16 oc][2 ch] int16; im2col: one tap of taps·IC channels.
      const [nt, k] = path === 'im2col' ? [1, taps * icg] : [taps, icg];
      const pairs = Math.ceil(k / 2), blocks = ocg / 16;
      const len = g.group * blocks * nt * pairs * 32;
      const p = alloc(len * 2, 16);
      const v = new Int16Array(x.memory.buffer, p, len);
      v.fill(0);
      for (let oc = 0; oc < g.outC; oc++) {
        const gi = Math.floor(oc / ocg), b = (oc % ocg) >> 4, j = oc & 15;
        for (let t = 0; t < nt; t++) {
          for (let c = 0; c < k; c++) {
            v[((((gi * blocks + b) * nt + t) * pairs + (c >> 1)) * 16 + j) * 2 + (c & 1)] = w[(oc * nt + t) * k + c];
          }
        }
      }
      return p;
    }
    // [group][ocBlock][tap][chunk of 8 ch][4 oc][8 ch]; im2col is the same with one tap of taps·IC channels.
    const k = path === 'im2col' ? taps * icg : icg;
    const ntaps = path === 'im2col' ? 1 : taps;
    const cp = roundUp(k, 8), chunks = cp / 8, blocks = Math.ceil(ocg / 4);
    const len = g.group * blocks * ntaps * cp * 4;
    const p = alloc(len, 16);
    const v = i8(p, len);
    v.fill(0);
    for (let gi = 0; gi < g.group; gi++) {
      for (let b = 0; b < blocks; b++) {
        for (let j = 0; j < 4; j++) {
          const oc = b * 4 + j;
          if (oc >= ocg) continue;
          const src = (gi * ocg + oc) * ntaps * k;
          for (let t = 0; t < ntaps; t++) {
            for (let c = 0; c < k; c++) {
              const ch = c >> 3;
              v[((((gi * blocks + b) * ntaps + t) * chunks + ch) * 4 + j) * 8 + (c & 7)] = w[src + t * k + c];
            }
          }
        }
      }
    }
    return p;
  };

  /**
   * The shared conv / transposed-conv pipeline over a zero-padded int8 copy V of the input, planned once:
   * the checks, the path, the tap offsets and the bias terms (persistent memory, allocated here) do not
   * change from sample to sample; the returned function only sets the epilogue and runs the kernels, with
   * V, the im2col rows and the accumulators as scratch above everything.
   */
  const planConvLike = (wp: number, biasPtr: number, g: DeconvGeometry, e: Epilogue, transposed: boolean): ((inPtr: number, outPtr: number) => void) => {
    checkGeometry(g, transposed ? 'deconv' : 'conv');
    const ep = epilogueArgs(e);
    const path = convPath(g);
    const icg = g.inC / g.group, ocg = g.outC / g.group, taps = g.kH * g.kW;
    const { outH, outW, kH, kW, dilH, dilW } = g;
    const P = outH * outW;
    // Transposed: V is the zero-inserted input and the conv runs at stride 1 with the kernel flipped.
    const sH = transposed ? 1 : g.strideH, sW = transposed ? 1 : g.strideW;
    let Hp = (outH - 1) * sH + (kH - 1) * dilH + 1;
    let Wp = (outW - 1) * sW + (kW - 1) * dilW + 1;
    const offT = transposed ? (kH - 1) * dilH - g.padT : g.padT;
    const offL = transposed ? (kW - 1) * dilW - g.padL : g.padL;
    const wide = isWide(g);
    const [vGroup, vCg, vCp] = path === 'depthwise' ? [1, g.inC, roundUp(g.inC, 8)]
      : path === 'im2col' ? [1, g.inC, g.inC] : [g.group, icg, roundUp(icg, wide ? 2 : 8)];
    const cs = vGroup * vCp;
    const eb = wide && path === 'direct' ? 2 : 1; // bytes per V element (im2col rows carry the int16 instead)
    // The input already is V when no padding (spatial or channel) is needed: read it in place.
    const inPlace = !transposed && eb === 1 && path !== 'im2col' && vCg === vCp && g.padT === 0 && g.padL === 0 && Hp <= g.inH && Wp <= g.inW;
    if (inPlace) { Hp = g.inH; Wp = g.inW; }
    const Kp = roundUp(taps * g.inC, wide ? 2 : 8);
    const accStride = path === 'depthwise' ? vCp : g.outC + 4;
    const maxAcc = 16384 * taps * icg;
    const rowStride = Wp * cs * eb, pixStride = cs * eb;
    const tapOff = alloc(taps * 4 + 16, 16);
    const tv = new Int32Array(x.memory.buffer, tapOff, taps + 1);
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        const fh = transposed ? kH - 1 - kh : kh, fw = transposed ? kW - 1 - kw : kw;
        tv[kh * kW + kw] = fh * dilH * rowStride + fw * dilW * pixStride;
      }
    }
    tv[taps] = 0; // the single tap of the im2col rows; also the zero-weight partner of an odd last dw tap
    const bt = alloc(g.outC * 12 + 16, 16);
    x.setEpilogue(ep[0], ep[1], ep[2], ep[3], ep[4], ep[5], ep[6], ep[7]);
    const maxBias = x.prepareBias(biasPtr, g.outC, bt);
    const bt32 = bt + g.outC * 8;
    const fast = x.fitsI32(maxAcc, maxBias) !== 0;
    // Fused epilogue: only when the int32 form applies and every vector store stays inside its pixel.
    const fused = fast && (path === 'depthwise' ? g.outC % 8 === 0 : path === 'im2col' ? g.outC % 4 === 0 : ocg % 4 === 0);
    const vBytes = inPlace ? 0 : Hp * Wp * cs * eb + 16;
    const patchBytes = path === 'im2col' ? P * Kp * (wide ? 2 : 1) + 32 : 0;
    const accBytes = fused ? 0 : P * accStride * 4;
    const vUp = transposed ? g.strideH : 1, vUw = transposed ? g.strideW : 1;

    /** The calls computing output rows [oh0, oh1) once V is built: each to `call`, the engine's own
     *  exports or a helper's job. Every part only writes its own rows (im2col rows, accumulators, output). */
    const rows = (V: number, patches: number, acc: number, outPtr: number, oh0: number, oh1: number,
      call: (f: KernelFn, ...a: number[]) => void): void => {
      const out = fused ? outPtr : 0;
      call('setEpilogue', ...ep);
      if (path === 'depthwise') {
        if (kH === 3 && kW === 3 && !transposed) {
          call('dw3x3', V, rowStride, pixStride, sH, sW, dilH, dilW, wp, vCp, outW, oh0, oh1, acc, out, g.outC, bt32, ep[0]);
        } else {
          call('dwCore', V, rowStride, pixStride, sH, sW, taps, tapOff, wp, vCp, outW, oh0, oh1, acc, out, g.outC, bt32, ep[0]);
        }
      } else if (path === 'im2col') {
        // The im2col rows of [oh0, oh1) alone: V and the row matrix shifted to oh0.
        const v0 = V + oh0 * sH * rowStride, n = oh1 - oh0, e16 = wide ? 2 : 1, d0 = patches + oh0 * outW * Kp * e16;
        if (wide && dilW === 1 && !transposed) call('im2col16', v0, rowStride, sH, sW, kH, kW, dilH, dilW, g.inC, n, outW, Kp, d0);
        else if (wide) call('im2colTaps16', v0, rowStride, pixStride, sH, sW, taps, tapOff, g.inC, n, outW, Kp, d0);
        else if (dilW === 1 && !transposed) call('im2col', v0, rowStride, sH, sW, kH, kW, dilH, dilW, g.inC, n, outW, Kp, d0);
        else call('im2colTaps', v0, rowStride, pixStride, sH, sW, taps, tapOff, g.inC, n, outW, Kp, d0);
        if (wide) {
          call('convWide', patches, outW * Kp * 2, Kp * 2, 1, 1, 1, tapOff + taps * 4, Kp / 2, wp, g.outC / 16,
            outW, oh0, oh1, acc, accStride, 0, out, g.outC, bt32, ep[0]);
        } else {
          call('convCore', patches, outW * Kp, Kp, 1, 1, 1, tapOff + taps * 4, Kp / 8, wp, Math.ceil(g.outC / 4),
            outW, oh0, oh1, acc, accStride, 0, out, g.outC, bt32, ep[0]);
        }
      } else if (wide) {
        const pairs = vCp / 2, blocks = ocg / 16;
        for (let gi = 0; gi < g.group; gi++) {
          call('convWide', V + gi * vCp * 2, rowStride, pixStride, sH, sW, taps, tapOff, pairs,
            wp + gi * blocks * taps * pairs * 64, blocks, outW, oh0, oh1, acc, accStride, gi * ocg, out, g.outC, bt32, ep[0]);
        }
      } else {
        const chunks = vCp / 8, blocks = Math.ceil(ocg / 4);
        for (let gi = 0; gi < g.group; gi++) {
          call('convCore', V + gi * vCp, rowStride, pixStride, sH, sW, taps, tapOff, chunks,
            wp + gi * blocks * taps * chunks * 32, blocks, outW, oh0, oh1, acc, accStride, gi * ocg, out, g.outC, bt32, ep[0]);
        }
      }
      if (!fused) {
        call('epilogueRows', acc + oh0 * outW * accStride * 4, accStride, outPtr + oh0 * outW * g.outC, (oh1 - oh0) * outW,
          g.outC, bt, fast ? 1 : 0, maxBias);
      }
    };
    const direct = (f: KernelFn, ...a: number[]): void => fns[fnIndex.get(f)!](...a);
    // Chunks of rows for this layer: big enough to pay for the hand-off; CHUNKS_PER_THREAD per thread (the
    // threads take them in turn, so a thread slowed by the machine's load takes fewer), and a job that fits.
    const callsPerPart = 1 + (path === 'im2col' ? 2 : path === 'depthwise' ? 1 : g.group) + (fused ? 0 : 1);
    let parts = crew && P * g.outC * taps * icg >= splitMacs ? Math.min(outH, (crew.size + 1) * CHUNKS_PER_THREAD) : 1;
    while (parts > 1 && parts * (callsPerPart * 25 + 2) + 1 > SLOT_WORDS) parts--;

    return (inPtr, outPtr) => {
      const mark = top;
      try {
        const V = inPlace ? inPtr : alloc(vBytes, 16);
        const patches = patchBytes ? alloc(patchBytes, 16) : 0;
        const acc = fused ? 0 : alloc(accBytes, 16);
        const build = () => {
          if (eb === 2) x.buildV16(inPtr, g.inH, g.inW, g.inC, vGroup, vCg, vCp, vUp, vUw, offT, offL, V, Hp, Wp);
          else if (!inPlace) x.buildV(inPtr, g.inH, g.inW, g.inC, vGroup, vCg, vCp, vUp, vUw, offT, offL, V, Hp, Wp);
        };
        if (parts === 1 || !crew || ended) {
          build();
          rows(V, patches, acc, outPtr, 0, outH, direct);
          return;
        }
        const cut = (i: number) => Math.round((outH * i) / parts);
        const chunks = Array.from({ length: parts }, (_, i) => {
          const list: number[] = [0];
          rows(V, patches, acc, outPtr, cut(i), cut(i + 1), (f, ...a) => { list[0]++; list.push(fnIndex.get(f)!, a.length, ...a); });
          return list;
        });
        // The helpers wake while V is built.
        crew.run(chunks, build, helpersOnly);
      } finally {
        top = mark;
      }
    };
  };

  /** One call, unplanned: the plan's memory is released with the call's scratch. */
  const convLike = (inPtr: number, wp: number, biasPtr: number, outPtr: number, g: DeconvGeometry, e: Epilogue, transposed: boolean): void => {
    const mark = top;
    try {
      planConvLike(wp, biasPtr, g, e, transposed)(inPtr, outPtr);
    } finally {
      top = mark;
    }
  };

  const poolArgs = (g: ConvGeometry, what: string): number[] => {
    checkGeometry(g, what);
    if (g.inC !== g.outC) throw new InputError(`${what}: inC ${g.inC} ≠ outC ${g.outC}`);
    return [g.inH, g.inW, g.inC, g.outH, g.outW, g.kH, g.kW, g.strideH, g.strideW, g.dilH, g.dilW, g.padT, g.padL];
  };
  const checkLen = (len: number): number => checkInt('length', len, 0, 2 ** 31 - 1);

  return {
    get threads() { return crew && !ended ? crew.size + 1 : 1; },
    dispose: () => { ended = true; crew?.end(); },
    alloc,
    reset: () => { top = base; },
    i8,
    i32: (ptr, len) => new Int32Array(x.memory.buffer, ptr, len),
    f32: (ptr, len) => new Float32Array(x.memory.buffer, ptr, len),
    packConvWeights,
    conv2d: (i, w, b, o, g, e) => convLike(i, w, b, o, g, e, false),
    deconv2d: (i, w, b, o, g, e) => convLike(i, w, b, o, g, e, true),
    planConv: (w, b, g, e, transposed = false) => planConvLike(w, b, g, e, transposed),
    maxPool: (i, o, g, shift) => {
      const a = poolArgs(g, 'max pool');
      checkInt('max pool shift', shift, -32, 62);
      scratch([g.inH * g.outW * g.inC + 16], ([rows]) => x.maxPool(i, o, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
        a[8], a[9], a[10], a[11], a[12], shift, rows));
    },
    avgPool: (i, o, g, n, shift) => {
      const a = poolArgs(g, 'average pool');
      checkInt('average pool factor N', n, 0, 1 << 20);
      checkInt('average pool shift', shift, -32, 62);
      scratch([g.inC * 4 + 16], ([sums]) => x.avgPool(i, o, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
        a[9], a[10], a[11], a[12], n, shift, sums));
    },
    add: (a, b, o, len, upA, upB, e) => {
      // No nonlinearity or a ReLU, small alignment and shift: int16 lanes hold every intermediate exactly.
      if ((e.act === 'none' || e.act === 'relu') && Number.isInteger(e.shift) && e.shift >= 0 && e.shift <= 14 &&
        Number.isInteger(upA) && Number.isInteger(upB) && upA >= 0 && upA <= 7 && upB >= 0 && upB <= 7 && (upA === 0 || upB === 0)) {
        x.add16(a, b, o, checkLen(len), upA, upB, e.shift, e.act === 'relu' ? 1 : 0);
        return;
      }
      setEpilogue({ ...e, accUp: 0, biasUp: 0 });
      x.add(a, b, o, checkLen(len), checkInt('add upA', upA, 0, 24), checkInt('add upB', upB, 0, 24));
    },
    mul: (a, b, o, len, shift) => {
      setEpilogue({ accUp: 0, biasUp: 0, shift, act: 'none' });
      x.mul(a, b, o, checkLen(len));
    },
    requantize: (i, o, len, shift) => x.requantize(i, o, checkLen(len), checkInt('requantize shift', shift, -32, 62)),
    concat: (ins, o, pixels) => {
      checkLen(pixels);
      const cout = ins.reduce((s, i) => s + checkInt('concat channels', i.channels, 0, 1 << 24), 0);
      let off = 0;
      for (const i of ins) {
        x.concatInto(i.ptr, o, pixels, i.channels, cout, off, checkInt('concat shift', i.shift, -32, 62));
        off += i.channels;
      }
    },
    upsampleNearest: (i, o, inH, inW, C, sh, sw, shift) => {
      for (const [k, v] of Object.entries({ inH, inW, C, sh, sw })) checkInt(`upsample ${k}`, v, 1, 1 << 24);
      x.upsampleNearest(i, o, inH, inW, C, sh, sw, checkInt('upsample shift', shift, -32, 62));
    },
    quantize: (f, o, len, fp) => x.quantize(f, o, checkLen(len), checkInt('quantize fix point', fp, -64, 64)),
    dequantize: (i, f, len, fp) => x.dequantize(i, f, checkLen(len), checkInt('dequantize fix point', fp, -64, 64)),
    quantizeToNhwc: (f, o, P, C, fp, tmp) => {
      checkLen(P * C);
      x.quantizeToNhwc(f, o, P, C, checkInt('quantize fix point', fp, -64, 64), tmp);
    },
    dequantizeToNchw: (i, f, P, C, fp, tmp) => {
      checkLen(P * C);
      x.dequantizeToNchw(i, f, P, C, checkInt('dequantize fix point', fp, -64, 64), tmp);
    },
    transpose8: (i, o, R, C) => { checkLen(R * C); x.transpose8(i, o, R, C); },
  };
}
