// dpu_standin.py: a stand-in for the board runner. It gives the deployment scripts the parts of VART/XIR they
// call (xir.Graph.deserialize, the DPU child subgraphs, vart.Runner with get_input_tensors / execute_async /
// wait) and runs each DPU subgraph in NumPy from `<model>_dpu.npz` (standin-npz.ts) with the DPU's integer
// semantics of docs/simulator.md: int8 maps, exact integer sums, shift_bias / shift_cut with DPU_ROUND
// (floor(x + 0.5)), saturation, the fused nonlinearities, pools with N/2^M, adds with input alignment. Its
// int8 results equal the app's simulator (src/core/sim/dpu) bit for bit.

export const STANDIN_MODULE = 'dpu_standin.py';

export const STANDIN_PY = `"""Runs the DPU subgraphs of a Fixpoint Studio deployment script in NumPy, without a DPU or VART.

The script imports vart and xir; where they are missing it takes them from this module. Put this file and
<model>_dpu.npz (Deploy panel) beside the script and run it as on the board:

    python3 <model>_vart.py IMAGE <model>_dpu.npz

Each DPU subgraph computes in int8 as the DPU does (the app's simulator gives the same int8 values).
"""
import json
import os
import types

import numpy as np


def _round(x, s):
    """round(x, s) on int64: s > 0 -> (x + 2^(s-1)) >> s (DPU_ROUND, half up), s < 0 -> x * 2^-s."""
    if s > 0:
        if s > 62:
            return np.zeros_like(x)
        return (x + (np.int64(1) << np.int64(s - 1))) >> np.int64(s)
    if s == 0:
        return x
    # Any |x| >= 256 saturates anyway: clamping first keeps the shift in range.
    return np.clip(x, -256, 256) << np.int64(min(-s, 16))


def _sat(x):
    return np.clip(x, -128, 127)


def _epilogue(z, shift, act, fp_out):
    """Nonlinearity, one rounding and saturation of the exact sum z (units 2^-(shift + fp_out))."""
    t = act["type"]
    if t == "none":
        return _sat(_round(z, shift))
    if t == "relu":
        return _sat(_round(np.maximum(z, 0), shift))
    if t == "relu6":
        return _sat(np.minimum(_round(np.maximum(z, 0), shift), act["relu6_max"]))
    if t == "leaky":
        return _sat(np.where(z < 0, _round(z * 26, shift + 8), _round(z, shift)))
    # hard-sigmoid / hard-swish: the pre-activation is first quantized at its own fix point (hsigmoid_in).
    fp_pre = act["fp_pre"]
    p = _sat(_round(z, shift + fp_out - fp_pre))
    h6 = np.clip(p + 3 * 2 ** fp_pre, 0, 6 * 2 ** fp_pre)
    if t == "hsigmoid":
        return _sat(_round(h6 * 2731, 14 + fp_pre - fp_out))
    h = _sat(_round(h6 * 2731, 14 + fp_pre - 7))
    return _sat(_round(p * h, fp_pre + 7 - fp_out))


def _source(x):
    """NHWC (the DPU's layout) -> the source model's NCHW; other ranks as they are."""
    return np.transpose(x, (0, 3, 1, 2)) if x.ndim == 4 else x


def _nhwc(x):
    return np.transpose(x, (0, 2, 3, 1)) if x.ndim == 4 else x


def _nchw_shape(s):
    return (s[0], s[3], s[1], s[2]) if len(s) == 4 else tuple(s)


def _windows(x, op, fill):
    """Padded NHWC int64 map and a function giving the strided window slice at kernel tap (i, j)."""
    kh, kw = op["kernel"]
    sh, sw = op["stride"]
    dh, dw = op.get("dilation", (1, 1))
    t, l, b, r = op["pad"]
    _, H, W, _ = x.shape
    oh, ow = op["out_shape"][1], op["out_shape"][2]
    # Taps past the bottom/right edge read padding (the kernels skip them), however the pads were written.
    b = max(b, (oh - 1) * sh + (kh - 1) * dh + 1 - t - H, 0)
    r = max(r, (ow - 1) * sw + (kw - 1) * dw + 1 - l - W, 0)
    xp = np.pad(x.astype(np.int64), ((0, 0), (t, b), (l, r), (0, 0)), constant_values=fill)
    return lambda i, j: xp[0, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw, :]


def _conv(x, op, w, bias):
    """Exact integer sums of a conv / depthwise conv / dense layer (float64 products are exact here:
    |int8 * int8| < 2^15 summed far below 2^53), then shift_bias and the epilogue."""
    if op["kind"] == "deconv":
        acc = _deconv_sums(x, op, w)
    elif op["kind"] == "dense":
        acc = (x.reshape(1, -1).astype(np.float64) @ w.reshape(w.shape[0], -1).T.astype(np.float64)).reshape(op["out_shape"])
    else:
        kh, kw = op["kernel"]
        g = op["group"]
        oh, ow, oc = op["out_shape"][1:4]
        c = x.shape[3]
        win = _windows(x, op, 0)
        wf = w.astype(np.float64)
        acc = np.zeros((oh, ow, oc), np.float64)
        for i in range(kh):
            for j in range(kw):
                v = win(i, j).astype(np.float64)
                if g == 1:
                    acc += v @ wf[:, i, j, :].T
                elif g == c and oc == c:
                    acc += v * wf[:, i, j, 0]
                else:
                    icg, ocg = c // g, oc // g
                    acc += np.einsum("hwgi,goi->hwgo", v.reshape(oh, ow, g, icg), wf[:, i, j, :].reshape(g, ocg, icg)).reshape(oh, ow, oc)
        acc = acc.reshape(op["out_shape"])
    acc = np.rint(acc).astype(np.int64)
    s = op["fp_acc"]
    if bias is None:
        return _epilogue(acc, s - op["fp_out"], op["act"], op["fp_out"])
    sb = s - op["fp_b"]
    up = max(0, -sb)
    z = (acc << np.int64(up)) + (bias.astype(np.int64) << np.int64(sb + up))
    return _epilogue(z, s + up - op["fp_out"], op["act"], op["fp_out"])


def _deconv_sums(x, op, w):
    """Transposed conv as a scatter: input pixel (i, j) adds x·w[tap] at output (i·s − pad + tap·d)."""
    kh, kw = op["kernel"]
    sh, sw = op["stride"]
    dh, dw = op["dilation"]
    t, l = op["pad"][0], op["pad"][1]
    g = op["group"]
    _, H, W, c = x.shape
    oh, ow, oc = op["out_shape"][1:4]
    icg, ocg = c // g, oc // g
    full = np.zeros((max((H - 1) * sh + (kh - 1) * dh + 1, t + oh), max((W - 1) * sw + (kw - 1) * dw + 1, l + ow), oc), np.float64)
    v = x[0].astype(np.float64).reshape(H, W, g, icg)
    wf = w.astype(np.float64)
    for i in range(kh):
        for j in range(kw):
            part = np.einsum("hwgi,goi->hwgo", v, wf[:, i, j, :].reshape(g, ocg, icg)).reshape(H, W, oc)
            full[i * dh:i * dh + sh * (H - 1) + 1:sh, j * dw:j * dw + sw * (W - 1) + 1:sw] += part
    return full[t:t + oh, l:l + ow].reshape(op["out_shape"])


def _hsigmoid(v):
    return np.clip(v + 3, 0, 6) * 2731 / 2 ** 14


def _activation(v, op):
    """A nonlinearity the DPU runs on its own, in its DPU form, on exact reals (exact in float64)."""
    a = op["act"]
    if a == "relu":
        return np.maximum(v, 0)
    if a == "relu6":
        return np.clip(v, 0, 6)
    if a == "clip":
        lo = -np.inf if op["min"] is None else np.float32(op["min"])
        hi = np.inf if op["max"] is None else np.float32(op["max"])
        return np.clip(v, lo, hi)
    if a == "leaky_relu":
        return np.where(v < 0, v * 26 / 256, v)
    if a == "hard_sigmoid":
        return _hsigmoid(v)
    # hard-swish: h is the hard-sigmoid quantized at fix point 7 (half up)
    h = np.clip(np.floor(_hsigmoid(v) * 128 + 0.5), -128, 127) / 128
    return v * h


def _resize_linear(x, op):
    """Bilinear resize (ONNX coordinate modes) of the exact reals q·2^-fp, rounded once at fp_out."""
    mode = op["mode"]
    def axis(n_in, n_out):
        o = np.arange(n_out, dtype=np.float64)
        if mode == "align_corners":
            f = o * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros(n_out)
        elif mode == "asymmetric":
            f = o * n_in / n_out
        elif mode == "pytorch_half_pixel" and n_out == 1:
            f = np.zeros(n_out)
        else:
            f = (o + 0.5) * n_in / n_out - 0.5
        f = np.clip(f, 0, n_in - 1)
        i0 = np.floor(f).astype(np.int64)
        return i0, np.minimum(i0 + 1, n_in - 1), f - i0
    v = x.astype(np.float64) * 2.0 ** -op["fp_in"][0]
    y0, y1, wy = axis(x.shape[1], op["out_shape"][1])
    x0, x1, wx = axis(x.shape[2], op["out_shape"][2])
    wx = wx[None, None, :, None]
    top = v[:, y0][:, :, x0] * (1 - wx) + v[:, y0][:, :, x1] * wx
    bot = v[:, y1][:, :, x0] * (1 - wx) + v[:, y1][:, :, x1] * wx
    r = top * (1 - wy[None, :, None, None]) + bot * wy[None, :, None, None]
    return _sat(np.floor(r * 2.0 ** op["fp_out"] + 0.5))


def _pool(x, op):
    kh, kw = op["kernel"]
    shift = op["fp_in"][0] - op["fp_out"]
    if op["type"] == "maxpool":
        win = _windows(x, op, -1000)
        m = win(0, 0)
        for i in range(kh):
            for j in range(kw):
                m = np.maximum(m, win(i, j))
        m = np.where(m == -1000, 0, m)  # a window entirely in the padding reads zeros
        return _sat(_round(m, shift))[None]
    win = _windows(x, op, 0)
    total = sum(win(i, j) for i in range(kh) for j in range(kw))
    return _sat(_round(total * op["n"], op["m"] + shift))[None]


def _layer(op, values, arrays):
    ins = [values[n] for n in op["inputs"]]
    fp_in, fp_out = op["fp_in"], op["fp_out"]
    t = op["type"]
    if t == "conv":
        return _conv(ins[0], op, arrays[op["weights"]], arrays[op["bias"]] if op["bias"] else None)
    if t in ("maxpool", "avgpool"):
        return _pool(ins[0], op)
    if t == "add":
        f = max(fp_in)
        z = (ins[0].astype(np.int64) << np.int64(f - fp_in[0])) + (ins[1].astype(np.int64) << np.int64(f - fp_in[1]))
        return _epilogue(z.reshape(op["out_shape"]), f - fp_out, op["act"], fp_out)
    if t == "concat":
        parts = [_sat(_round(_source(x).astype(np.int64), fp - fp_out)) for x, fp in zip(ins, fp_in)]
        return _nhwc(np.concatenate(parts, axis=op["axis"]))
    if t == "upsample":
        sh, sw = op["scale"]
        y = _sat(_round(ins[0].astype(np.int64), fp_in[0] - fp_out))
        return np.repeat(np.repeat(y, sh, axis=1), sw, axis=2)
    if t == "eltwise_const":
        # float32 as the float kernel computes it (one correctly rounded op), then DPU_ROUND at fp_out.
        a = (_source(ins[0]).astype(np.float64) * 2.0 ** -fp_in[0]).astype(np.float32)
        c = arrays[op["const"]]
        a, b = (c, a) if op["const_first"] else (a, c)
        f = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op["op"]]
        y = f(a, b).astype(np.float32).astype(np.float64)
        return _nhwc(_sat(np.floor(y * 2.0 ** fp_out + 0.5)).reshape(_nchw_shape(op["out_shape"])))
    if t == "activation":
        return _sat(np.floor(_activation(ins[0].astype(np.float64) * 2.0 ** -fp_in[0], op) * 2.0 ** fp_out + 0.5))
    if t == "pad":
        y = np.pad(_sat(_round(_source(ins[0]).astype(np.int64), fp_in[0] - fp_out)), op["pads"])
        return _nhwc(y)
    if t == "resize_linear":
        return _resize_linear(ins[0], op)
    if t == "reshape":
        y = _sat(_round(_source(ins[0]).astype(np.int64), fp_in[0] - fp_out))
        return _nhwc(y.reshape(_nchw_shape(op["out_shape"])))
    raise NotImplementedError(f"{op['name']}: {t} has no NumPy stand-in")


class Tensor:
    """What the deployment script reads of a runner tensor: name, dims, the fix_point attribute."""

    def __init__(self, port):
        self.name = port["name"]
        self.dims = list(port["shape"])
        self.dtype = "xint8"
        self._attrs = {"fix_point": port["fix_point"]}

    def has_attr(self, key):
        return key in self._attrs

    def get_attr(self, key):
        return self._attrs[key]


class Subgraph:
    def __init__(self, program, arrays):
        self.program = program
        self.arrays = arrays
        self.name = program["name"]
        self._attrs = {"device": "DPU", "mc_code": b"numpy stand-in"}

    def has_attr(self, key):
        return key in self._attrs

    def get_attr(self, key):
        return self._attrs[key]

    def toposort_child_subgraph(self):
        return []


class _Root:
    def __init__(self, children):
        self._children = children
        self.name = "root"

    def has_attr(self, key):
        return False

    def toposort_child_subgraph(self):
        return list(self._children)


class Graph:
    def __init__(self, path):
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        program = json.loads(arrays.pop("program").tobytes().decode("utf-8"))
        if program.get("format") != "fixpoint-dpu-standin":
            raise SystemExit(f"{path}: not a Fixpoint Studio DPU stand-in file (<model>_dpu.npz)")
        self._root = _Root([Subgraph(s, arrays) for s in program["subgraphs"]])

    @staticmethod
    def deserialize(path):
        """A <model>_dpu.npz, or the .xmodel path the script names: its <stem>_dpu.npz beside it is read."""
        if not path.endswith(".npz"):
            path = os.path.splitext(path)[0] + "_dpu.npz"
        if not os.path.exists(path):
            raise SystemExit(f"{path}: not found (download <model>_dpu.npz from the Deploy panel)")
        return Graph(path)

    def get_root_subgraph(self):
        return self._root


class Runner:
    """VART's runner API over one DPU subgraph: int8 NHWC buffers in, int8 NHWC buffers out."""

    def __init__(self, subgraph):
        self.subgraph = subgraph
        self._inputs = [Tensor(p) for p in subgraph.program["inputs"]]
        self._outputs = [Tensor(p) for p in subgraph.program["outputs"]]
        self._jobs = {}

    @staticmethod
    def create_runner(subgraph, mode="run"):
        return Runner(subgraph)

    def get_input_tensors(self):
        return list(self._inputs)

    def get_output_tensors(self):
        return list(self._outputs)

    def execute_async(self, inputs, outputs):
        values = {}
        for t, buf in zip(self._inputs, inputs):
            values[t.name] = np.asarray(buf, dtype=np.int8).reshape(t.dims)
        for op in self.subgraph.program["ops"]:
            values[op["output"]] = _layer(op, values, self.subgraph.arrays).astype(np.int8).reshape(op["out_shape"])
        for t, buf in zip(self._outputs, outputs):
            buf[...] = values[t.name].reshape(buf.shape)
        job = len(self._jobs) + 1
        self._jobs[job] = values
        return job

    def wait(self, job):
        """Every job has finished when execute_async returns; the intermediate int8 maps stay on self.last."""
        self.last = self._jobs.pop(job, None)
        return 0


vart = types.SimpleNamespace(Runner=Runner)
xir = types.SimpleNamespace(Graph=Graph)
`;
