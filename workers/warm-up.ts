// The small models a fresh model worker opens, draws and lays out before any file arrives, so that the code a
// real open runs is compiled and optimised by then. V8 compiles each function on its first call and optimises
// it after many: a warm-up of only Conv/Relu/Add left the shape inference and drawing of every other op cold
// for the user's first file (EfficientNet's Sigmoid·Mul, YOLOX's Slice/Resize, a QDQ model's Quantize pairs).
import { buildOnnx, float, tensor, type NodeSpec } from '../src/core/onnx/build';
import type { ConstTensor } from '../src/core/ir';

/** A residual Conv/Relu chain: long edges and crossings for the layout, many calls of the common paths. */
function convChain(): Uint8Array {
  const nodes = [];
  const initializers: Record<string, ConstTensor> = {};
  let x = 'x';
  for (let i = 0; i < 40; i++) {
    initializers[`w${i}`] = tensor('float32', [4, 4, 3, 3], new Array(144).fill(0.1));
    nodes.push({ op: 'Conv', inputs: [x, `w${i}`], outputs: [`c${i}`], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } });
    nodes.push({ op: 'Relu', inputs: [`c${i}`], outputs: [`r${i}`] });
    x = `r${i}`;
    if (i % 4 === 3) {
      nodes.push({ op: 'Add', inputs: [x, `r${i - 3}`], outputs: [`a${i}`] });
      x = `a${i}`;
    }
  }
  return buildOnnx({ inputs: { x: ['float32', [1, 4, 8, 8]] }, outputs: [x], initializers, nodes });
}

/** One of each op the sample models use beyond the chain's, wired as those models wire them. */
function opMix(): Uint8Array {
  const c = 8;
  const f = (shape: number[], v = 0.5) => tensor('float32', shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(v));
  const i64 = (vs: number[]) => tensor('int64', [vs.length], vs);
  const initializers: Record<string, ConstTensor> = {
    w: f([c, c, 3, 3], 0.01), dw: f([c, 1, 3, 3], 0.02), b: f([c], 0),
    bn_s: f([c], 1), bn_b: f([c], 0), bn_m: f([c], 0), bn_v: f([c], 1),
    lo: tensor('float32', [], [0]), hi: tensor('float32', [], [6]),
    scales: tensor('float32', [4], [1, 1, 2, 2]),
    perm_shape: i64([1, c, -1]), starts: i64([0]), ends: i64([4]), axes: i64([1]),
    qs: tensor('float32', [], [0.05]), qz: tensor('int8', [], [0]),
    fc: f([10, 2 * c], 0.1), fcb: f([10], 0), mm: f([10, 10], 0.1), idx: tensor('int64', [], [0]),
    cs: i64([2]),
  };
  const nodes: NodeSpec[] = [
    { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c0'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    { op: 'BatchNormalization', inputs: ['c0', 'bn_s', 'bn_b', 'bn_m', 'bn_v'], outputs: ['bn'] },
    { op: 'Clip', inputs: ['bn', 'lo', 'hi'], outputs: ['r6'] },
    { op: 'Conv', inputs: ['r6', 'dw'], outputs: ['dwc'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: c } },
    { op: 'Sigmoid', inputs: ['dwc'], outputs: ['sg'] },
    { op: 'Mul', inputs: ['dwc', 'sg'], outputs: ['silu'] },
    { op: 'GlobalAveragePool', inputs: ['silu'], outputs: ['gap'] },
    { op: 'Mul', inputs: ['silu', 'gap'], outputs: ['se'] },
    { op: 'LeakyRelu', inputs: ['se'], outputs: ['lr'], attrs: { alpha: float(0.1) } },
    { op: 'QuantizeLinear', inputs: ['lr', 'qs', 'qz'], outputs: ['q'] },
    { op: 'DequantizeLinear', inputs: ['q', 'qs', 'qz'], outputs: ['dq'] },
    { op: 'MaxPool', inputs: ['dq'], outputs: ['mp'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    { op: 'Resize', inputs: ['mp', '', 'scales'], outputs: ['up'], attrs: { mode: 'nearest' } },
    { op: 'Concat', inputs: ['up', 'dq'], outputs: ['cat'], attrs: { axis: 1 } },
    { op: 'Slice', inputs: ['cat', 'starts', 'ends', 'axes'], outputs: ['sl'] },
    { op: 'AveragePool', inputs: ['cat'], outputs: ['ap'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    { op: 'Reshape', inputs: ['sl', 'perm_shape'], outputs: ['rs'] },
    { op: 'Transpose', inputs: ['rs'], outputs: ['tr'], attrs: { perm: [0, 2, 1] } },
    { op: 'Softmax', inputs: ['tr'], outputs: ['sm'], attrs: { axis: -1 } },
    { op: 'Shape', inputs: ['ap'], outputs: ['shp'] },
    { op: 'Gather', inputs: ['shp', 'idx'], outputs: ['n'], attrs: { axis: 0 } },
    { op: 'Unsqueeze', inputs: ['n', 'idx'], outputs: ['n1'] },
    { op: 'Concat', inputs: ['n1', 'cs'], outputs: ['cshape'], attrs: { axis: 0 } },
    { op: 'ConstantOfShape', inputs: ['cshape'], outputs: ['zeros'] },
    { op: 'Cast', inputs: ['zeros'], outputs: ['zf'], attrs: { to: 1 } },
    { op: 'GlobalAveragePool', inputs: ['cat'], outputs: ['g2'] },
    { op: 'Flatten', inputs: ['g2'], outputs: ['fl'] },
    { op: 'Gemm', inputs: ['fl', 'fc', 'fcb'], outputs: ['fc1'], attrs: { transB: 1 } },
    { op: 'MatMul', inputs: ['fc1', 'mm'], outputs: ['mm1'] },
    { op: 'Identity', inputs: ['mm1'], outputs: ['id'] },
    { op: 'Sum', inputs: ['id', 'fc1'], outputs: ['y'] },
  ];
  return buildOnnx({ inputs: { x: ['float32', [1, c, 16, 16]] }, outputs: ['y', 'sm', 'zf'], initializers, nodes });
}

/** The warm-up models, built once per worker. */
export function warmUpModels(): { name: string; bytes: Uint8Array }[] {
  return [{ name: 'warm-up.onnx', bytes: convChain() }, { name: 'warm-up-ops.onnx', bytes: opMix() }];
}
