// Reductions over axes (ReduceMean, ReduceMax, …) and ArgMax/ArgMin.
import { attrInt, attrInts, type FloatTensor } from '../../../ir';
import { need, type Kernel, type KernelCtx } from '../kernel';
import { forEachIndex, ints, normAxis, size, stridesOf } from '../tensor';

interface Reducer {
  readonly init: number;
  readonly step: (acc: number, v: number) => number;
  readonly finish?: (acc: number, count: number) => number;
}

const reducers: Record<string, Reducer> = {
  ReduceSum: { init: 0, step: (a, v) => a + v },
  ReduceMean: { init: 0, step: (a, v) => a + v, finish: (a, n) => a / n },
  ReduceMax: { init: -Infinity, step: (a, v) => (v > a || Number.isNaN(v) ? v : a) },
  ReduceMin: { init: Infinity, step: (a, v) => (v < a || Number.isNaN(v) ? v : a) },
  ReduceProd: { init: 1, step: (a, v) => a * v },
  ReduceSumSquare: { init: 0, step: (a, v) => a + v * v },
  ReduceL1: { init: 0, step: (a, v) => a + Math.abs(v) },
  ReduceL2: { init: 0, step: (a, v) => a + v * v, finish: (a) => Math.sqrt(a) },
  ReduceLogSum: { init: 0, step: (a, v) => a + v, finish: (a) => Math.log(a) },
  ReduceLogSumExp: { init: 0, step: (a, v) => a + Math.exp(v), finish: (a) => Math.log(a) },
};

function reduce(x: FloatTensor, axes: readonly number[], keep: boolean, r: Reducer): FloatTensor {
  const reduced = new Set(axes);
  const kept = x.shape.map((d, i) => (reduced.has(i) ? 1 : d));
  const out = new Float32Array(size(kept)).fill(r.init);
  const ost = stridesOf(kept).map((s, i) => (reduced.has(i) ? 0 : s));
  const count = x.data.length / Math.max(out.length, 1);
  const d = x.data;
  // Walk the output offsets in input order: element i of x accumulates into out[off].
  forEachIndex(x.shape, ost, (i, off) => { out[off] = r.step(out[off], d[i]); });
  if (r.finish) for (let i = 0; i < out.length; i++) out[i] = r.finish(out[i], count);
  return { shape: keep ? kept : x.shape.filter((_, i) => !reduced.has(i)), data: out };
}

function reduceKernel(r: Reducer): Kernel {
  return (inp, ctx: KernelCtx) => {
    const x = need(inp, 0, ctx);
    const raw = inp[1] ? ints(inp[1]) : attrInts(ctx.node, 'axes');
    const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
    if (!raw || raw.length === 0) {
      if (attrInt(ctx.node, 'noop_with_empty_axes', 0) === 1) return [x];
      return [reduce(x, x.shape.map((_, i) => i), keep, r)];
    }
    return [reduce(x, raw.map((a) => normAxis(a, x.shape.length, `${ctx.node.opType} (node ${ctx.node.name})`)), keep, r)];
  };
}

function argKernel(better: (v: number, best: number) => boolean): Kernel {
  return (inp, ctx) => {
    const x = need(inp, 0, ctx);
    const axis = normAxis(attrInt(ctx.node, 'axis', 0), x.shape.length, `${ctx.node.opType} (node ${ctx.node.name})`);
    const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
    const last = attrInt(ctx.node, 'select_last_index', 0) === 1;
    const n = x.shape[axis], outer = size(x.shape.slice(0, axis)), inner = size(x.shape.slice(axis + 1));
    const out = new Float32Array(outer * inner);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      let best = x.data[o * n * inner + i], at = 0;
      for (let k = 1; k < n; k++) {
        const v = x.data[(o * n + k) * inner + i];
        if (better(v, best) || (last && v === best)) { best = v; at = k; }
      }
      out[o * inner + i] = at;
    }
    const shape = keep ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
    return [{ shape, data: out }];
  };
}

export const reduceKernels: Record<string, Kernel> = {
  ...Object.fromEntries(Object.entries(reducers).map(([op, r]) => [op, reduceKernel(r)])),
  ArgMax: argKernel((v, b) => v > b),
  ArgMin: argKernel((v, b) => v < b),
};
