// The deployment scripts' ends: the input read from an image (the Calibrate step's preprocessing) or a .npy,
// and the result printed as the app's demo reads it: top-5 for a classifier, YOLOX boxes (grid/stride
// decode, best class per anchor, score ≥ 0.3, per-class NMS at IoU 0.45, boxes back through the resize),
// else each output's range.
import type { PreprocessSpec } from '../data/preprocess';
import { pyString as py } from '../text';
import type { CompileResult } from './partition';

export type DeployTask = 'classify' | 'detect-yolox' | 'raw';

const STRIDES = [8, 16, 32];

/** What the graph's outputs are: one [1, N] → classify; one [1, A, 5 + C] matching YOLOX's grids → detect. */
export function deployTask(r: CompileResult): DeployTask {
  const outs = r.layers.filter((p) => p.layer.graphOutput).map((p) => p.layer.shape);
  const ins = r.layers.filter((p) => p.layer.kind === 'input').map((p) => p.layer.shape);
  if (outs.length !== 1 || ins.length !== 1) return 'raw';
  const [o] = outs;
  if (o.length === 2 && o[0] === 1 && o[1] > 1) return 'classify';
  const i = ins[0];
  if (o.length === 3 && o[0] === 1 && o[2] >= 6 && i.length === 4) {
    const anchors = STRIDES.reduce((n, s) => n + Math.floor(i[1] / s) * Math.floor(i[2] / s), 0);
    if (anchors === o[1]) return 'detect-yolox';
  }
  return 'raw';
}

export function ioBlock(r: CompileResult, pre: PreprocessSpec | undefined): string {
  const spec = { ...(pre ?? {}) };
  delete spec.description;
  return `# The Calibrate step's preprocessing (src/core/data/preprocess.ts): size, resize (stretch | letterbox),
# pad_value, color (rgb | bgr | grayscale), scale, mean, std, raw. Each pixel becomes ((x * scale) - mean) / std.
PREPROCESS = json.loads(${py(JSON.stringify(spec))})
TASK = ${py(deployTask(r))}


def load_input(path):
    """The model input from an image (PIL, with PREPROCESS) or a .npy already preprocessed (NCHW or NHWC)."""
    name = GRAPH_INPUTS[0]
    shape = tuple(TENSORS[name]["shape"])
    if path.endswith(".npy"):
        x = np.load(path).astype(np.float32)
        if x.ndim == len(shape) - 1:
            x = x[None]
        if x.ndim == 4 and x.shape[1:] != shape[1:] and (x.shape[0], x.shape[2], x.shape[3], x.shape[1]) == shape:
            x = np.transpose(x, (0, 2, 3, 1))
        if x.size != int(np.prod(shape)):
            raise SystemExit(f"{path}: shape {x.shape} does not fit the model input {shape}")
        return {name: x.reshape(shape)}, None
    h, w, c = shape[1], shape[2], shape[3]
    if PREPROCESS.get("size"):
        h, w = PREPROCESS["size"]
    img = read_image(path)
    placement = {"image_w": img.shape[1], "image_h": img.shape[0], "input_w": w, "input_h": h, "resize": PREPROCESS.get("resize", "stretch")}
    x = to_channels(img, c)
    if PREPROCESS.get("color") == "bgr" and c == 3:
        x = x[..., ::-1]
    x = letterbox(x, h, w, PREPROCESS.get("pad_value", 0)) if placement["resize"] == "letterbox" else resize_bilinear(x, h, w)
    if not PREPROCESS.get("raw"):
        x = (x * PREPROCESS.get("scale", 1.0) - np.asarray(PREPROCESS.get("mean", 0.0), np.float64)) / np.asarray(PREPROCESS.get("std", 1.0), np.float64)
    return {name: x[None].astype(np.float32)}, placement


def read_image(path):
    """Pixels as [H, W, C] float64 in 0..255 (C = 1 or 3; alpha dropped), decoded by PIL."""
    from PIL import Image
    img = Image.open(path)
    if img.mode in ("1", "L", "LA", "I", "I;16", "I;16B"):
        a = np.asarray(img.convert("L") if img.mode != "L" else img)
        return a.astype(np.float64)[..., None]
    return np.asarray(img.convert("RGB")).astype(np.float64)


def to_channels(x, c):
    """RGB -> gray by ITU-R 601 luma, gray -> RGB by copying (preprocess.ts toChannels)."""
    if x.shape[2] == c:
        return x
    if c == 1:
        return (0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]).astype(np.float32).astype(np.float64)[..., None]
    return np.repeat(x, c, axis=2)


def resize_bilinear(x, out_h, out_w):
    """Bilinear with half-pixel centres and edge clamping, no antialiasing (preprocess.ts resizeBilinear),
    each pixel rounded to float32 as the app stores it."""
    h, w = x.shape[:2]
    if (h, w) == (out_h, out_w):
        return x
    def axis(n_in, n_out):
        f = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0)
        i0 = np.minimum(np.floor(f).astype(np.int64), n_in - 1)
        return i0, np.minimum(i0 + 1, n_in - 1), f - i0
    y0, y1, wy = axis(h, out_h)
    x0, x1, wx = axis(w, out_w)
    wx = wx[None, :, None]
    top = x[y0][:, x0] + (x[y0][:, x1] - x[y0][:, x0]) * wx
    bot = x[y1][:, x0] + (x[y1][:, x1] - x[y1][:, x0]) * wx
    return (top + (bot - top) * wy[:, None, None]).astype(np.float32).astype(np.float64)


def letterbox(x, out_h, out_w, pad):
    """Fit inside out_h x out_w keeping the aspect ratio, centred on a pad border (preprocess.ts letterbox)."""
    h, w, c = x.shape
    r = min(out_h / h, out_w / w)
    nh, nw = max(1, int(np.floor(h * r + 0.5))), max(1, int(np.floor(w * r + 0.5)))
    out = np.full((out_h, out_w, c), float(pad), np.float64)
    top, left = (out_h - nh) // 2, (out_w - nw) // 2
    out[top:top + nh, left:left + nw] = resize_bilinear(x, nh, nw)
    return out


def top5(y):
    """Indices and probabilities of the five largest: softmax of logits (kept when y already sums to 1)."""
    y = y.reshape(-1).astype(np.float64)
    p = y if (y.min() >= 0 and abs(y.sum() - 1) < 1e-3) else np.exp(y - y.max()) / np.exp(y - y.max()).sum()
    order = sorted(range(len(p)), key=lambda i: (-p[i], i))[:5]
    return [(i, float(p[i])) for i in order]


def iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def decode_yolox(out, input_h, input_w, strides=(8, 16, 32), score_threshold=0.3, nms_threshold=0.45):
    """[1, A, 5 + C] → [(class, score, (x1, y1, x2, y2))] in input pixels: grid/stride decode, best class per
    anchor, score = obj * cls >= threshold (sigmoid applied only if the scores are logits), per-class NMS."""
    rows = out.reshape(-1, out.shape[-1]).astype(np.float64)
    scores = rows[:, 4:]
    if scores.min() < 0 or scores.max() > 1:
        rows = rows.copy()
        rows[:, 4:] = 1 / (1 + np.exp(-scores))
    found = []
    a = 0
    for s in strides:
        for gy in range(input_h // s):
            for gx in range(input_w // s):
                p = rows[a]
                cls = int(np.argmax(p[5:]))
                score = p[4] * p[5 + cls]
                if score >= score_threshold:
                    cx, cy = (p[0] + gx) * s, (p[1] + gy) * s
                    w, h = np.exp(p[2]) * s, np.exp(p[3]) * s
                    found.append((cls, float(score), (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), a))
                a += 1
    found.sort(key=lambda d: (-d[1], d[3]))
    kept = []
    for d in found:
        if all(k[0] != d[0] or iou(k[2], d[2]) <= nms_threshold for k in kept):
            kept.append(d)
    return [(c, sc, box) for c, sc, box, _ in kept]


def to_image_boxes(dets, placement):
    """Input-pixel boxes back to the image's pixels through the resize, clipped (preprocess.ts letterbox)."""
    if placement is None:
        return dets
    iw, ih, w, h = placement["image_w"], placement["image_h"], placement["input_w"], placement["input_h"]
    if placement["resize"] == "letterbox":
        r = min(h / ih, w / iw)
        nh, nw = max(1, int(np.floor(ih * r + 0.5))), max(1, int(np.floor(iw * r + 0.5)))
        top, left, sx, sy = (h - nh) // 2, (w - nw) // 2, nw / iw, nh / ih
    else:
        top, left, sx, sy = 0, 0, w / iw, h / ih
    clip = lambda v, hi: min(max(v, 0.0), float(hi))
    return [(c, s, (clip((b[0] - left) / sx, iw), clip((b[1] - top) / sy, ih), clip((b[2] - left) / sx, iw), clip((b[3] - top) / sy, ih)))
            for c, s, b in dets]


def report(results, placement=None):
    if TASK == "classify":
        for i, p in top5(results[GRAPH_OUTPUTS[0]]):
            print(f"class {i} p={p:.4f}")
    elif TASK == "detect-yolox":
        shape = TENSORS[GRAPH_INPUTS[0]]["shape"]
        for c, s, b in to_image_boxes(decode_yolox(results[GRAPH_OUTPUTS[0]], shape[1], shape[2]), placement):
            print(f"class {c} score {s:.3f} box {b[0]:.1f} {b[1]:.1f} {b[2]:.1f} {b[3]:.1f}")
    else:
        for n, y in results.items():
            print(n, y.shape, float(y.min()), float(y.max()))`;
}
