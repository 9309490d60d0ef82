// Ops that move or generate data without arithmetic: reshapes, slicing, gathering, padding, constants.
import { attr, attrInt, attrInts, ONNX_DTYPE, type FloatTensor } from '../../../ir';
import { bad, isIntType, need, type Kernel, type KernelCtx } from '../kernel';
import { broadcastShapes, constToFloat, expandTo, forEachIndex, ints, normAxis, size, stridesOf } from '../tensor';

const name = (ctx: KernelCtx) => `${ctx.node.opType} (node ${ctx.node.name})`;

/** Axes from the input (newer opsets) or the attribute (older), normalised against `rank`. */
function axesOf(inp: readonly (FloatTensor | undefined)[], i: number, ctx: KernelCtx, rank: number): number[] | undefined {
  const raw = inp[i] ? ints(inp[i]!) : attrInts(ctx.node, 'axes');
  return raw?.map((a) => normAxis(a, rank, name(ctx)));
}

const reshape: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const spec = inp[1] ? ints(inp[1]) : attrInts(ctx.node, 'shape');
  if (!spec) throw bad(ctx, 'no target shape');
  const allowZero = attrInt(ctx.node, 'allowzero', 0) === 1;
  const shape = spec.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
  const unknown = shape.indexOf(-1);
  if (unknown >= 0) {
    const known = shape.reduce((p, d, i) => (i === unknown ? p : p * d), 1);
    shape[unknown] = known ? x.data.length / known : 0;
  }
  if (size(shape) !== x.data.length || shape.some((d) => d < 0 || !Number.isInteger(d)))
    throw bad(ctx, `cannot reshape [${x.shape}] to [${spec}]`);
  return [{ shape, data: x.data }];
};

const flatten: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const r = x.shape.length;
  const a = attrInt(ctx.node, 'axis', 1);
  const axis = a < 0 ? a + r : a;
  if (axis < 0 || axis > r) throw bad(ctx, `axis ${a} is out of range for rank ${r}`);
  return [{ shape: [size(x.shape.slice(0, axis)), size(x.shape.slice(axis))], data: x.data }];
};

export function transposeTensor(x: FloatTensor, perm: readonly number[]): FloatTensor {
  const st = stridesOf(x.shape);
  const shape = perm.map((p) => x.shape[p]);
  const out = new Float32Array(x.data.length);
  const d = x.data;
  forEachIndex(shape, perm.map((p) => st[p]), (o, i) => { out[o] = d[i]; });
  return { shape, data: out };
}

const transpose: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const r = x.shape.length;
  const perm = attrInts(ctx.node, 'perm') ?? x.shape.map((_, i) => r - 1 - i);
  if (perm.length !== r || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) throw bad(ctx, `perm [${perm}] is not a permutation of ${r} axes`);
  return [transposeTensor(x, perm)];
};

const squeeze: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const axes = axesOf(inp, 1, ctx, x.shape.length);
  if (axes?.some((a) => x.shape[a] !== 1)) throw bad(ctx, `cannot squeeze axes [${axes}] of [${x.shape}]`);
  const shape = x.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
  return [{ shape, data: x.data }];
};

const unsqueeze: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const raw = inp[1] ? ints(inp[1]) : attrInts(ctx.node, 'axes');
  if (!raw) throw bad(ctx, 'axes are required');
  const rank = x.shape.length + raw.length;
  const axes = new Set(raw.map((a) => normAxis(a, rank, name(ctx))));
  const shape: number[] = [];
  for (let i = 0, j = 0; i < rank; i++) shape.push(axes.has(i) ? 1 : x.shape[j++]);
  return [{ shape, data: x.data }];
};

const concat: Kernel = (inp, ctx) => {
  const ts = inp.filter((t): t is FloatTensor => !!t);
  if (!ts.length) throw bad(ctx, 'needs inputs');
  const r = ts[0].shape.length;
  const axis = normAxis(attrInt(ctx.node, 'axis', 0), r, name(ctx));
  for (const t of ts)
    if (t.shape.length !== r || t.shape.some((d, i) => i !== axis && d !== ts[0].shape[i]))
      throw bad(ctx, `shapes ${ts.map((u) => `[${u.shape}]`).join(', ')} do not concatenate on axis ${axis}`);
  const outer = size(ts[0].shape.slice(0, axis));
  const chunks = ts.map((t) => size(t.shape.slice(axis)));
  const row = chunks.reduce((a, b) => a + b, 0);
  const out = new Float32Array(outer * row);
  for (let o = 0; o < outer; o++) {
    let off = o * row;
    ts.forEach((t, q) => { out.set(t.data.subarray(o * chunks[q], (o + 1) * chunks[q]), off); off += chunks[q]; });
  }
  const shape = [...ts[0].shape];
  shape[axis] = ts.reduce((a, t) => a + t.shape[axis], 0);
  return [{ shape, data: out }];
};

const split: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const axis = normAxis(attrInt(ctx.node, 'axis', 0), x.shape.length, name(ctx));
  const n = ctx.node.outputs.length;
  const dim = x.shape[axis];
  let parts = inp[1] ? ints(inp[1]) : attrInts(ctx.node, 'split')?.slice();
  if (!parts) {
    const k = attrInt(ctx.node, 'num_outputs', n);
    const each = Math.ceil(dim / k);
    parts = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(each, dim - i * each)));
  }
  if (parts.length !== n || parts.reduce((a, b) => a + b, 0) !== dim) throw bad(ctx, `split [${parts}] does not divide axis ${axis} of [${x.shape}] into ${n}`);
  const outer = size(x.shape.slice(0, axis)), inner = size(x.shape.slice(axis + 1));
  let start = 0;
  return parts.map((len) => {
    const out = new Float32Array(outer * len * inner);
    for (let o = 0; o < outer; o++) out.set(x.data.subarray((o * dim + start) * inner, (o * dim + start + len) * inner), o * len * inner);
    start += len;
    const shape = [...x.shape];
    shape[axis] = len;
    return { shape, data: out };
  });
};

const slice: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const r = x.shape.length;
  const legacy = ctx.opset < 10;
  const starts = legacy ? attrInts(ctx.node, 'starts') : inp[1] && ints(inp[1]);
  const ends = legacy ? attrInts(ctx.node, 'ends') : inp[2] && ints(inp[2]);
  if (!starts || !ends || starts.length !== ends.length) throw bad(ctx, 'starts and ends are required and must match');
  const axes = (legacy ? attrInts(ctx.node, 'axes') : inp[3] && ints(inp[3]))?.map((a) => normAxis(a, r, name(ctx))) ?? starts.map((_, i) => i);
  const steps = (!legacy && inp[4] && ints(inp[4])) || starts.map(() => 1);
  const begin = x.shape.map(() => 0), step = x.shape.map(() => 1), shape = [...x.shape];
  axes.forEach((a, i) => {
    const n = x.shape[a], s = steps[i];
    if (s === 0) throw bad(ctx, 'a step is 0');
    let b = starts[i] < 0 ? starts[i] + n : starts[i];
    let e = ends[i] < 0 ? ends[i] + n : ends[i];
    if (s > 0) { b = Math.min(Math.max(b, 0), n); e = Math.min(Math.max(e, 0), n); }
    else { b = Math.min(Math.max(b, 0), n - 1); e = Math.min(Math.max(e, -1), n - 1); }
    begin[a] = b; step[a] = s;
    shape[a] = Math.max(0, Math.ceil((e - b) / s));
  });
  const st = stridesOf(x.shape);
  const base = begin.reduce((p, b, i) => p + b * st[i], 0);
  const out = new Float32Array(size(shape));
  const d = x.data;
  forEachIndex(shape, st.map((s, i) => s * step[i]), (o, i) => { out[o] = d[base + i]; });
  return [{ shape, data: out }];
};

const gather: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx), idx = need(inp, 1, ctx);
  const axis = normAxis(attrInt(ctx.node, 'axis', 0), x.shape.length, name(ctx));
  const n = x.shape[axis];
  const outer = size(x.shape.slice(0, axis)), inner = size(x.shape.slice(axis + 1));
  const ids = ints(idx).map((i) => {
    const j = i < 0 ? i + n : i;
    if (j < 0 || j >= n) throw bad(ctx, `index ${i} is out of range for axis of size ${n}`);
    return j;
  });
  const out = new Float32Array(outer * ids.length * inner);
  for (let o = 0; o < outer; o++)
    ids.forEach((j, k) => out.set(x.data.subarray((o * n + j) * inner, (o * n + j + 1) * inner), (o * ids.length + k) * inner));
  return [{ shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], data: out }];
};

const shapeOp: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const r = x.shape.length;
  const clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + r : a, 0), r);
  const start = clampAxis(attrInt(ctx.node, 'start', 0)), end = clampAxis(attrInt(ctx.node, 'end', r));
  const dims = x.shape.slice(start, Math.max(start, end));
  return [{ shape: [dims.length], data: Float32Array.from(dims) }];
};

const constantOfShape: Kernel = (inp, ctx) => {
  const shape = ints(need(inp, 0, ctx));
  const v = attr(ctx.node, 'value', 'tensor');
  const fill = v ? constToFloat(v).data[0] ?? 0 : 0;
  return [{ shape, data: new Float32Array(size(shape)).fill(fill) }];
};

const constant: Kernel = (_inp, ctx) => {
  const n = ctx.node;
  const t = attr(n, 'value', 'tensor');
  if (t) return [constToFloat(t)];
  const f = attr(n, 'value_float', 'float') ?? attr(n, 'value_int', 'int');
  if (f !== undefined) return [{ shape: [], data: Float32Array.of(f) }];
  const fs = attr(n, 'value_floats', 'floats') ?? attr(n, 'value_ints', 'ints');
  if (fs) return [{ shape: [fs.length], data: Float32Array.from(fs) }];
  throw bad(ctx, 'only value, value_float(s) and value_int(s) constants are supported');
};

const cast: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const to = ONNX_DTYPE[attrInt(ctx.node, 'to', 1)];
  if (!to || to === 'string') throw bad(ctx, `cannot cast to ${to ?? 'an unknown type'}`);
  if (to === 'bool') return [{ shape: x.shape, data: x.data.map((v) => (v ? 1 : 0)) }];
  // Float to integer truncates toward zero, as C casts (and onnxruntime) do.
  if (isIntType(to)) return [{ shape: x.shape, data: x.data.map(Math.trunc) }];
  return [{ shape: x.shape, data: x.data }];
};

const expand: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const shape = broadcastShapes([x.shape, ints(need(inp, 1, ctx))], name(ctx));
  const t = expandTo(x, shape);
  return [t === x ? { shape, data: x.data.slice() } : t];
};

const tile: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const reps = ints(need(inp, 1, ctx));
  if (reps.length !== x.shape.length) throw bad(ctx, `repeats [${reps}] do not match rank ${x.shape.length}`);
  const shape = x.shape.map((d, i) => d * reps[i]);
  const st = stridesOf(x.shape);
  const out = new Float32Array(size(shape));
  const idx = shape.map(() => 0);
  for (let o = 0; o < out.length; o++) {
    let off = 0;
    for (let d = 0; d < shape.length; d++) off += (idx[d] % x.shape[d]) * st[d];
    out[o] = x.data[off];
    for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
  }
  return [{ shape, data: out }];
};

const pad: Kernel = (inp, ctx) => {
  const x = need(inp, 0, ctx);
  const r = x.shape.length;
  const legacy = ctx.opset < 11;
  let pads = legacy ? attrInts(ctx.node, 'pads')?.slice() : inp[1] && ints(inp[1]);
  if (!pads) throw bad(ctx, 'pads are required');
  const value = legacy ? attr(ctx.node, 'value', 'float') ?? 0 : inp[2]?.data[0] ?? 0;
  const axes = !legacy && inp[3] ? ints(inp[3]).map((a) => normAxis(a, r, name(ctx))) : undefined;
  if (axes) {
    const full = new Array<number>(2 * r).fill(0);
    axes.forEach((a, i) => { full[a] = pads![i]; full[a + r] = pads![i + axes.length]; });
    pads = full;
  }
  if (pads.length !== 2 * r) throw bad(ctx, `pads [${pads}] do not match rank ${r}`);
  const mode = attr(ctx.node, 'mode', 'string') ?? 'constant';
  const shape = x.shape.map((d, i) => d + pads![i] + pads![i + r]);
  // For each axis, the input index each output index reads (-1: the constant).
  const maps = shape.map((n, a) => {
    const len = x.shape[a];
    return Int32Array.from({ length: n }, (_, o) => {
      let i = o - pads![a];
      if (i >= 0 && i < len) return i;
      switch (mode) {
        case 'constant': return -1;
        case 'edge': return i < 0 ? 0 : len - 1;
        case 'wrap': return ((i % len) + len) % len;
        case 'reflect': {
          if (len === 1) return 0;
          const period = 2 * (len - 1);
          i = ((i % period) + period) % period;
          return i < len ? i : period - i;
        }
        default: throw bad(ctx, `mode ${mode} is not supported`);
      }
    });
  });
  const st = stridesOf(x.shape);
  const out = new Float32Array(size(shape));
  const idx = shape.map(() => 0);
  for (let o = 0; o < out.length; o++) {
    let off = 0, inside = true;
    for (let d = 0; d < r; d++) { const m = maps[d][idx[d]]; if (m < 0) { inside = false; break; } off += m * st[d]; }
    out[o] = inside ? x.data[off] : value;
    for (let d = r - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
  }
  return [{ shape, data: out }];
};

const range: Kernel = (inp, ctx) => {
  const [start, limit, delta] = [0, 1, 2].map((i) => need(inp, i, ctx).data[0]);
  const n = Math.max(0, Math.ceil((limit - start) / delta));
  return [{ shape: [n], data: Float32Array.from({ length: n }, (_, i) => start + i * delta) }];
};

/** ScatterElements without reduction: a copy of data with updates[i] written at index i with axis `axis`
 *  replaced by indices[i] (negative indices count from the end; out of range is refused). */
const scatterElements: Kernel = (inp, ctx) => {
  const data = need(inp, 0, ctx), idx = need(inp, 1, ctx), upd = need(inp, 2, ctx);
  const red = attr(ctx.node, 'reduction', 'string') ?? 'none';
  if (red !== 'none') throw bad(ctx, `reduction ${red} is not supported`);
  const r = data.shape.length;
  const axis = normAxis(attrInt(ctx.node, 'axis', 0), r, ctx.node.name);
  if (idx.shape.length !== r || upd.shape.length !== r || idx.shape.some((d, i) => d !== upd.shape[i]))
    throw bad(ctx, `indices [${idx.shape}] and updates [${upd.shape}] must have one shape of data's rank ${r}`);
  const out = Float32Array.from(data.data);
  const ds = stridesOf(data.shape);
  const dim = data.shape[axis];
  const pos = new Array<number>(r).fill(0);
  for (let i = 0; i < upd.data.length; i++) {
    let k = idx.data[i];
    if (k < 0) k += dim;
    if (!(k >= 0 && k < dim)) throw bad(ctx, `index ${idx.data[i]} out of range for axis ${axis} of size ${dim}`);
    let off = 0;
    for (let a = 0; a < r; a++) off += (a === axis ? k : pos[a]) * ds[a];
    out[off] = upd.data[i];
    for (let a = r - 1; a >= 0; a--) { if (++pos[a] < upd.shape[a]) break; pos[a] = 0; }
  }
  return [{ shape: [...data.shape], data: out }];
};

export const shapeKernels: Record<string, Kernel> = {
  ScatterElements: scatterElements,
  Reshape: reshape,
  Flatten: flatten,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  Shape: shapeOp,
  Size: (inp, ctx) => [{ shape: [], data: Float32Array.of(need(inp, 0, ctx).data.length) }],
  ConstantOfShape: constantOfShape,
  Constant: constant,
  Cast: cast,
  CastLike: (inp, ctx) => [isIntType(ctx.dtype(ctx.node.inputs[1])) ? { shape: need(inp, 0, ctx).shape, data: need(inp, 0, ctx).data.map(Math.trunc) } : need(inp, 0, ctx)],
  // Inference mode: the data passes unchanged and the optional mask is all true.
  Dropout: (inp, ctx) => {
    const x = need(inp, 0, ctx);
    return ctx.node.outputs.length > 1 ? [x, { shape: x.shape, data: new Float32Array(x.data.length).fill(1) }] : [x];
  },
  Expand: expand,
  Tile: tile,
  Pad: pad,
  Range: range,
};
