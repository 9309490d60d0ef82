// Kernels of ops outside ONNX that quantizer outputs carry (XIR custom ops, domain `xir.custom`): the float
// interpreter runs them where onnxruntime cannot, so an `_int.xmodel` with one still simulates.
import { attrInt } from '../../../ir';
import { bad, need, type Kernel } from '../kernel';

/**
 * PointPillars' scatter (Vitis AI's PPScatterV2, second.pytorch's PointPillarsScatter): voxel features
 * [1, C, P, 1] and coordinates [1, P, 4] as (batch, z, y, x) → a [1, C, ny, nx] canvas of zeros with voxel
 * p's C features at (y, x). Voxels whose (y, x) falls outside the canvas are padding and are dropped.
 */
const ppScatterV2: Kernel = (inp, ctx) => {
  const f = need(inp, 0, ctx), c = need(inp, 1, ctx);
  const nx = attrInt(ctx.node, 'nx', 0), ny = attrInt(ctx.node, 'ny', 0);
  if (nx <= 0 || ny <= 0) throw bad(ctx, 'nx and ny must be positive');
  if (f.shape.length !== 4 || c.shape.length !== 3 || c.shape[2] < 4 || f.shape[2] !== c.shape[1])
    throw bad(ctx, `features [${f.shape}] and coordinates [${c.shape}] are not [1, C, P, 1] and [1, P, 4]`);
  const [, C, P] = f.shape;
  const cells = nx * ny;
  const out = new Float32Array(C * cells);
  const w = c.shape[2];
  for (let p = 0; p < P; p++) {
    const y = Math.floor(c.data[p * w + 2]), x = Math.floor(c.data[p * w + 3]);
    if (!(y >= 0 && y < ny && x >= 0 && x < nx)) continue;
    const at = y * nx + x;
    for (let ch = 0; ch < C; ch++) out[ch * cells + at] = f.data[ch * P + p];
  }
  return [{ shape: [1, C, ny, nx], data: out }];
};

/** Domain of the custom ops an .xmodel defines itself (Graph.op_defs), as the model graph names them. */
export const XIR_CUSTOM_DOMAIN = 'xir.custom';

/** By op type, for nodes of the `xir.custom` domain. */
export const XIR_CUSTOM_KERNELS: Readonly<Record<string, Kernel>> = { PPScatterV2: ppScatterV2 };
