// Ideal-cycle cost model. Workload formulas match the `workload` / `workload_on_arch` attributes vai_c_xir
// stores (checked exactly on pointpillars_compiled_B4096.xmodel, see "cost model vs the workloads vai_c_xir stored" in test/unit/compile-conformance.test.ts):
//   conv / dense:      Ho·Wo·Co·(2·Kh·Kw·Ci + 1)
//   transposed conv:   Hi·Wi·Co·Kh·Kw·(2·Ci + 1)      (per input pixel)
//   max/avg pool:      Ho·Wo·C·Kh·Kw
// workload_on_arch pads Co to OCP, Ci to ICP and the output HEIGHT (input height for transposed conv) to
// the pixel parallelism — the real file contradicts the reference's "Wo padded to PP": Wo=100 stays 100,
// Ho=124 becomes 128.
import type { Layer } from './layer';
import type { CostParams } from './targets/target';

export interface LayerCost {
  readonly workload: number;
  readonly workloadOnArch: number;
  /** workload_on_arch / ops per clock. */
  readonly cycles: number;
  readonly seconds: number;
  readonly weightBytes: number;
  readonly readBytes: number;
  readonly writeBytes: number;
}

export const ZERO_COST: LayerCost = { workload: 0, workloadOnArch: 0, cycles: 0, seconds: 0, weightBytes: 0, readBytes: 0, writeBytes: 0 };

const up = (x: number, m: number) => Math.ceil(x / m) * m;
const numel = (s: readonly number[]) => s.reduce((a, x) => a * x, 1);

/** [H, W, C] of an NHWC (or N,C / flat) shape. */
function hwc(s: readonly number[]): [number, number, number] {
  if (s.length === 4) return [s[1], s[2], s[3]];
  if (s.length === 3) return [s[1], 1, s[2]];
  if (s.length === 2) return [1, 1, s[1]];
  return [1, 1, s.length ? s[0] : 1];
}

export function workloads(l: Layer, p: CostParams): { workload: number; workloadOnArch: number } {
  const [ho, wo, co] = hwc(l.shape);
  const [hi, wi, ci] = l.inputShapes.length ? hwc(l.inputShapes[0]) : [1, 1, 1];
  const [kh, kw] = l.kernel ?? [1, 1];
  const icp = p.inputChannelParallel;
  const ocp = p.outputChannelParallel;
  switch (l.kind) {
    case 'conv': case 'dense': {
      const cin = l.inChannels ?? ci;
      const cout = l.outChannels ?? co;
      const w = ho * wo * cout * (2 * kh * kw * cin + 1);
      // With channel augmentation a layer with few input channels packs them along the kernel width.
      const macs = p.channelAugmentation && cin < icp ? kh * up(kw * cin, icp) : kh * kw * up(cin, icp);
      const wa = up(ho, p.pixelParallel) * wo * up(cout, ocp) * (2 * macs + 1);
      return { workload: w, workloadOnArch: wa };
    }
    case 'deconv': {
      const cin = l.inChannels ?? ci;
      const cout = l.outChannels ?? co;
      const w = hi * wi * cout * kh * kw * (2 * cin + 1);
      const wa = up(hi, p.pixelParallel) * wi * up(cout, ocp) * kh * kw * (2 * up(cin, icp) + 1);
      return { workload: w, workloadOnArch: wa };
    }
    case 'depthwise': {
      const w = ho * wo * co * (2 * kh * kw + 1);
      return { workload: w, workloadOnArch: up(ho, p.aluPixelParallel) * wo * up(co, icp) * (2 * kh * kw + 1) };
    }
    case 'pool': {
      const w = ho * wo * co * kh * kw;
      return { workload: w, workloadOnArch: up(ho, p.aluPixelParallel) * wo * up(co, icp) * kh * kw };
    }
    case 'eltwise': {
      const n = Math.max(1, l.inputs.length);
      const w = ho * wo * co * n;
      return { workload: w, workloadOnArch: up(ho, p.aluPixelParallel) * wo * up(co, icp) * n };
    }
    default:
      return { workload: 0, workloadOnArch: 0 };
  }
}

export function layerCost(l: Layer, p: CostParams): LayerCost {
  const { workload, workloadOnArch } = workloads(l, p);
  const cycles = workloadOnArch / p.opsPerClock;
  return {
    workload, workloadOnArch, cycles, seconds: cycles / p.clockHz,
    weightBytes: l.weightElements,
    readBytes: l.inputShapes.reduce((s, x) => s + numel(x), 0),
    writeBytes: numel(l.shape),
  };
}

export function sumCosts(cs: Iterable<LayerCost>): LayerCost {
  let workload = 0, workloadOnArch = 0, cycles = 0, seconds = 0, weightBytes = 0, readBytes = 0, writeBytes = 0;
  for (const c of cs) {
    workload += c.workload; workloadOnArch += c.workloadOnArch; cycles += c.cycles; seconds += c.seconds;
    weightBytes += c.weightBytes; readBytes += c.readBytes; writeBytes += c.writeBytes;
  }
  return { workload, workloadOnArch, cycles, seconds, weightBytes, readBytes, writeBytes };
}
