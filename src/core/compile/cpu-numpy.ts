// NumPy code for the ops of a CPU subgraph, as the deployment scripts run them between DPU subgraphs. Values
// are float32 in the layers' layout (NHWC for 4-D maps, as the DPU tensors are), keyed by tensor name; a tensor
// the quantizer fixed gets XIR's fix (floor(x·2^fp + 0.5), saturated) as the compiled CPU subgraph applies it.
// An op with no generator becomes a named stub that raises.
import type { Layer } from './layer';
import type { CompileResult, Subgraph } from './partition';

const py = (s: string) => JSON.stringify(s);
const tuple = (v: readonly number[]) => `(${v.join(', ')}${v.length === 1 ? ',' : ''})`;

export interface CpuStepCode {
  /** Python statements (unindented), in order. */
  readonly lines: readonly string[];
  /** Ops left as stubs: `op "name"`. */
  readonly stubs: readonly string[];
}

/** Python helpers the generated steps call. */
export const NUMPY_HELPERS = `def fix(x, fix_point, bits=8):
    """XIR fix on the CPU: floor(x * 2^fp + 0.5) saturated to the signed range, back to real values."""
    s = 2.0 ** fix_point
    lim = 2 ** (bits - 1)
    return (np.clip(np.floor(x * s + 0.5), -lim, lim - 1) / s).astype(np.float32)


def sigmoid(x):
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)


def prelu(x, slope):
    return np.where(x >= 0, x, x * slope).astype(np.float32)


def gelu(x, tanh):
    """ONNX Gelu: 0.5·x·(1 + erf(x/√2)), or its tanh approximation."""
    v = x.astype(np.float64)
    if tanh:
        return (0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v ** 3)))).astype(np.float32)
    from math import erf as scalar_erf
    erf = np.vectorize(scalar_erf, otypes=[np.float64])
    return (0.5 * v * (1 + erf(v / np.sqrt(2)))).astype(np.float32)


def resize_linear(x, out_hw, mode):
    """ONNX Resize mode=linear on an NHWC map: source coordinates by coordinate_transformation_mode, clamped
    to the map, then the two neighbours per axis weighted by distance."""
    def axis(n_in, n_out):
        o = np.arange(n_out, dtype=np.float64)
        scale = n_out / n_in
        if mode == "align_corners":
            f = o * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros(n_out)
        elif mode == "asymmetric":
            f = o / scale
        elif mode == "pytorch_half_pixel" and n_out == 1:
            f = np.zeros(n_out)
        else:
            f = (o + 0.5) / scale - 0.5
        f = np.clip(f, 0, n_in - 1)
        i0 = np.floor(f).astype(np.int64)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, (f - i0).astype(np.float32)
    y0, y1, wy = axis(x.shape[1], out_hw[0])
    x0, x1, wx = axis(x.shape[2], out_hw[1])
    wx = wx[None, None, :, None]
    top = x[:, y0][:, :, x0] * (1 - wx) + x[:, y0][:, :, x1] * wx
    bot = x[:, y1][:, :, x0] * (1 - wx) + x[:, y1][:, :, x1] * wx
    wy = wy[None, :, None, None]
    return (top * (1 - wy) + bot * wy).astype(np.float32)


def pool2d(x, kernel, stride, pad, kind, out_hw):
    """NHWC max/average pool; pad = (top, left, bottom, right); an average counts the values inside the map."""
    (kh, kw), (sh, sw), (t, l, b, r) = kernel, stride, pad
    oh, ow = out_hw
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=fill)
    ones = np.pad(np.ones(x.shape[1:3], np.float32), ((t, b), (l, r)))
    acc = np.full((x.shape[0], oh, ow, x.shape[3]), fill, np.float32)
    count = np.zeros((oh, ow), np.float32)
    for i in range(kh):
        for j in range(kw):
            win = xp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]
            acc = np.maximum(acc, win) if kind == "max" else acc + win
            count += ones[i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
    return acc if kind == "max" else (acc / count[None, :, :, None]).astype(np.float32)`;

/** Coordinate transformations resize_linear implements. */
const LINEAR_MODES = new Set(['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric']);

/** A float as Python reads it back exactly (float32 constants are exact in float64 notation). */
const num = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? 'np.inf' : v < 0 ? '-np.inf' : 'np.nan');

/** A 4-D NHWC shape as ONNX's NCHW. */
const nchw = (s: readonly number[]) => [s[0], s[3], s[1], s[2]];

/** The expression computing one layer from its inputs, or undefined when there is no generator for it. */
function expression(l: Layer, ins: readonly string[], inShapes: readonly (readonly number[])[]): string | undefined {
  const [x] = ins;
  if (l.kind === 'activation' && l.activation) {
    const a = l.activation;
    switch (a.type) {
      case 'relu': return `np.maximum(${x}, 0)`;
      case 'relu6': return `np.clip(${x}, 0, 6)`;
      case 'leaky_relu': return `np.where(${x} >= 0, ${x}, ${x} * np.float32(${a.alpha ?? 0.01}))`;
      case 'sigmoid': return `sigmoid(${x})`;
      case 'silu': return `${x} * sigmoid(${x})`;
      case 'hard_swish': return `${x} * np.clip(${x} + 3, 0, 6) / 6`;
      case 'tanh': return `np.tanh(${x})`;
      case 'exp': return `np.exp(${x})`;
      case 'clip': return `np.clip(${x}, ${a.min ?? '-np.inf'}, ${a.max ?? 'np.inf'})`;
      case 'hard_sigmoid': return `np.clip(${x} * np.float32(${a.alpha ?? 0.2}) + np.float32(${a.beta ?? 0.5}), 0, 1)`;
      case 'gelu': return `gelu(${x}, ${a.approximate === 'tanh' ? 'True' : 'False'})`;
      case 'prelu': {
        if (!a.slope) return undefined;
        const slope = `np.asarray([${a.slope.values.map(num).join(', ')}], np.float32).reshape(${tuple(a.slope.shape)})`;
        // ONNX broadcasts the slope against NCHW: compute there for a 4-D map.
        return (inShapes[0] ?? []).length === 4
          ? `np.transpose(prelu(np.transpose(${x}, (0, 3, 1, 2)), ${slope}), (0, 2, 3, 1))`
          : `prelu(${x}, ${slope})`;
      }
      default: return undefined; // softmax (an 'other' layer)
    }
  }
  switch (l.kind) {
    case 'eltwise': {
      if (l.constOperand || ins.length !== 2) return undefined;
      const op = { add: '+', sub: '-', mul: '*', div: '/' }[l.eltwise ?? 'add'];
      return `${ins[0]} ${op} ${ins[1]}`;
    }
    case 'concat':
      return l.axis === undefined ? undefined : `np.concatenate([${ins.join(', ')}], axis=${l.axis})`;
    case 'reshape': {
      const from = inShapes[0] ?? [];
      const to = l.shape;
      // ONNX reshapes NCHW: go through NCHW whenever a side is a 4-D map.
      const src = from.length === 4 ? `np.transpose(${x}, (0, 3, 1, 2))` : x;
      return to.length === 4
        ? `np.transpose(${src}.reshape(${tuple(nchw(to))}), (0, 2, 3, 1))`
        : `${src}.reshape(${tuple(to)})`;
    }
    case 'upsample': {
      const u = l.upsample;
      if (!u) return undefined;
      if (u.mode === 'bilinear') {
        const mode = u.coordinate ?? (u.alignCorners ? 'align_corners' : 'half_pixel');
        if (!LINEAR_MODES.has(mode)) return undefined;
        return `resize_linear(${x}, ${tuple([l.shape[1], l.shape[2]])}, ${py(mode)})`;
      }
      if (!Number.isInteger(u.scaleH) || !Number.isInteger(u.scaleW)) return undefined;
      return `np.repeat(np.repeat(${x}, ${u.scaleH}, axis=1), ${u.scaleW}, axis=2)`;
    }
    case 'pool': {
      const k = l.kernel ?? [1, 1], s = l.stride ?? [1, 1], p = l.pad ?? [0, 0, 0, 0];
      return `pool2d(${x}, ${tuple(k)}, ${tuple(s)}, ${tuple(p)}, ${py(l.poolType ?? 'max')}, ${tuple([l.shape[1], l.shape[2]])})`;
    }
    case 'other': {
      if (l.order) return `np.transpose(${x}, ${tuple(l.order)})`;
      if (l.slice) return `${x}[${l.slice.begin.map((b, i) => `${b}:${l.slice!.end[i]}:${l.slice!.strides[i]}`).join(', ')}]`;
      if ((l.op === 'Softmax' || l.op === 'softmax') && l.axis !== undefined) return `softmax(${x}, ${l.axis})`;
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The statements of one CPU subgraph: every layer it holds (fused members one by one), in order. */
export function cpuStepCode(r: CompileResult, s: Subgraph): CpuStepCode {
  const lines: string[] = [];
  const stubs: string[] = [];
  for (const li of s.layers) {
    for (const m of r.layers[li].members) {
      const l = r.graph.layers[m];
      if (l.kind === 'output') continue; // fix2float of a DPU output: to_float did it
      const ins = l.inputs.map((id) => `values[${py(r.graph.layers[id].tensor)}]`);
      const e = expression(l, ins, l.inputShapes);
      const out = `values[${py(l.tensor)}]`;
      if (e === undefined) {
        const what = `${l.op} "${l.name}"`;
        stubs.push(what);
        lines.push(`raise NotImplementedError(${py(`no NumPy generator for ${what} (${l.kind}): write it here`)})`);
        continue;
      }
      lines.push(`${out} = np.asarray(${e}, dtype=np.float32)`);
      if (r.graph.quantized && l.fixPoint !== undefined && !l.fixInferred) lines.push(`${out} = fix(${out}, ${l.fixPoint})`);
    }
  }
  return { lines, stubs };
}
