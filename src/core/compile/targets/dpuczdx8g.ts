// DPUCZDX8G (Zynq UltraScale+ MPSoC: KV260, ZCU102, ZCU104): limits from the Vitis AI DPU product guide
// and xcompiler as summarised in docs/dpu-reference.md §6.
import type { Activation, Conversions, Layer } from '../layer';
import { convertedActivation } from '../layer';
import { decodeFingerprint, type DpuConfig } from './fingerprint';
import { layerCost } from '../cost';
import { SUPPORTED, type CostParams, type Support, type Target } from './target';

export const DPU_LEAKY_SLOPE = 26 / 256;
export const DEFAULT_CLOCK_HZ = 300e6;

/** Feature bits of the Vitis AI 3.0 builds (ALU parallelism 4, channel augmentation, conv LeakyReLU, argmax). */
const VAI3_FEATURES = 0x56010400n;
const ARCH_INDEX: Readonly<Record<number, number>> = { 512: 0, 800: 1, 1024: 2, 1152: 3, 1600: 4, 2304: 5, 3136: 6, 4096: 7 };
export const DPUCZDX8G_SIZES = Object.keys(ARCH_INDEX).map(Number);

export function dpuczdx8gFingerprint(size: number): bigint {
  return (1n << 56n) | (1n << 48n) | VAI3_FEATURES | BigInt(ARCH_INDEX[size]);
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : String(+x.toFixed(6));
}

function no(reason: string, fix?: string): Support {
  return fix ? { ok: false, reason, fix } : { ok: false, reason };
}

const FUSABLE = new Set(['relu', 'relu6', 'leaky_relu', 'prelu', 'hard_sigmoid', 'hard_swish']);

const ACT_NAMES: Record<string, string> = {
  sigmoid: 'Sigmoid', silu: 'SiLU (x·Sigmoid(x))', tanh: 'Tanh', gelu: 'GELU', exp: 'Exp', softmax: 'Softmax',
  clip: 'Clip', relu: 'ReLU', relu6: 'ReLU6', leaky_relu: 'LeakyReLU', prelu: 'PReLU',
  hard_sigmoid: 'HardSigmoid', hard_swish: 'HardSwish',
};

const OTHER_REASONS: Record<string, string> = {
  transpose: 'transposes are shape operations the DPU does not perform',
  slice: 'strided slices are shape operations the DPU does not perform',
  gather: 'gathers are shape operations the DPU does not perform',
  split: 'splits are shape operations the DPU does not perform',
  softmax: 'softmax runs on the CPU (the DPUCZDX8G has no softmax engine)',
  lstm: 'recurrent layers run on the CPU',
};

/** A DPUCZDX8G target: its cost model's parameters are open for tools that show them. */
export interface DpuTarget extends Target {
  readonly params: CostParams;
}

export function makeDpuczdx8g(config: DpuConfig, clockHz = DEFAULT_CLOCK_HZ): DpuTarget {
  const { pixelParallel: pp, channelParallel: cp, name } = config;
  const family = 'DPUCZDX8G';
  const maxChannels = 256 * cp;

  function activationSupport(a: Activation, where: string): Support {
    switch (a.type) {
      case 'relu': case 'relu6': case 'prelu': case 'hard_sigmoid': case 'hard_swish':
        return SUPPORTED;
      case 'leaky_relu': {
        const alpha = a.alpha ?? 0.01;
        if (Math.abs(alpha - DPU_LEAKY_SLOPE) < 1e-6) return SUPPORTED;
        return no(`LeakyRelu slope ${fmt(alpha)} ≠ 26/256 (the only slope ${family} computes)${where}`,
          'enable "LeakyReLU slope → 26/256" (or retrain with slope 0.1015625)');
      }
      case 'sigmoid':
        return no(`Sigmoid: not supported by ${family}${where}`, 'enable Sigmoid→hard-sigmoid');
      case 'silu':
        return no(`SiLU (Sigmoid·Mul): not supported by ${family}${where}`, 'enable SiLU→hard-swish');
      case 'clip':
        return no(`Clip(${a.min ?? '-∞'}, ${a.max ?? '∞'}): only Clip(0, 6) (ReLU6) runs on ${family}${where}`);
      default:
        return no(`${ACT_NAMES[a.type] ?? a.type}: not supported by ${family}${where}`);
    }
  }

  function convLimits(l: Layer, label: string, kMax: number, sMax: number): Support {
    const [kh, kw] = l.kernel ?? [1, 1];
    const [sh, sw] = l.stride ?? [1, 1];
    const [dh, dw] = l.dilation ?? [1, 1];
    if (kh > kMax || kw > kMax || kh < 1 || kw < 1)
      return no(`${label} kernel ${kh}×${kw} exceeds ${kMax}`, `use kernels of at most ${kMax}×${kMax}`);
    if (sh > sMax || sw > sMax || sh < 1 || sw < 1)
      return no(`${label} stride ${sh}×${sw} exceeds ${sMax}`, `use strides of at most ${sMax}`);
    if (l.pad) {
      const [pt, pl, pb, pr] = l.pad;
      const maxH = (kh - 1) * dh;
      const maxW = (kw - 1) * dw;
      if (pt > maxH || pb > maxH || pl > maxW || pr > maxW)
        return no(`${label} padding ${pt},${pl},${pb},${pr} exceeds (kernel−1)·dilation = ${maxH}×${maxW}`);
    }
    return SUPPORTED;
  }

  function supports(l: Layer, c: Conversions): Support {
    const act = convertedActivation(l.activation, c);
    switch (l.kind) {
      case 'input':
        return SUPPORTED;
      case 'output':
        return no('graph output: converting int8 to float (fix2float) runs on the CPU');
      case 'conv': case 'deconv': case 'dense': {
        const label = l.kind === 'dense' ? 'Dense' : l.kind === 'deconv' ? 'Transposed conv' : 'Conv';
        if (l.kind !== 'dense') {
          const lim = convLimits(l, label, 16, 8);
          if (!lim.ok) return lim;
          if (l.kind === 'conv' && l.group && l.group > 1)
            return no(`Conv with ${l.group} groups: grouped convolution (other than depthwise) is not supported by ${family}`);
        }
        const ic = l.inChannels ?? 0;
        const oc = l.outChannels ?? 0;
        // A dense layer's input channels are bounded by the weight bank depth below, not by 256·cp: VGG-16's
        // fc6 (25088→4096) and the Vitis AI Fashion-MNIST tutorial's Flatten→Dense (10816→128) run on the DPU.
        if ((l.kind !== 'dense' && ic > maxChannels) || oc > maxChannels)
          return no(`${label} channels ${ic}→${oc} exceed ${maxChannels} (256·${cp})`);
        const [kh, kw] = l.kernel ?? [1, 1];
        const depth = kw * kh * Math.ceil(ic / cp);
        if (depth > 2048)
          return no(`${label}: kw·kh·ceil(ic/${cp})=${depth} > weight bank depth 2048`, 'split the layer or reduce its input channels');
        return act ? activationSupport(act, ` (fused after ${l.op})`) : SUPPORTED;
      }
      case 'depthwise': case 'pool': {
        const label = l.kind === 'pool' ? `${l.poolType === 'avg' ? 'Average' : 'Max'} pool` : 'Depthwise conv';
        const lim = convLimits(l, label, 256, 256);
        if (!lim.ok) return lim;
        if (l.pad && (l.pad[0] > 15 || l.pad[1] > 15))
          return no(`${label} padding top/left ${l.pad[0]}/${l.pad[1]} exceeds 15`);
        if (l.kind === 'depthwise' && (l.inChannels ?? 0) > maxChannels)
          return no(`${label} channels ${l.inChannels} exceed ${maxChannels}`);
        if (act) {
          if (act.type === 'leaky_relu' && l.kind === 'depthwise' && !config.depthwiseLeakyRelu)
            return no(`LeakyRelu after depthwise conv: this ${name} build has no depthwise LeakyReLU (fingerprint bit 29)`);
          return activationSupport(act, ` (fused after ${l.op})`);
        }
        return SUPPORTED;
      }
      case 'eltwise': {
        if (l.eltwise === 'mul' && !l.constOperand)
          return no(`Mul of two tensors: not supported by ${family} (only multiplication by a constant)`,
            l.op.includes('Sigmoid') ? 'enable SiLU→hard-swish' : undefined);
        if (l.eltwise === 'div' && !l.constOperand) return no(`Div of two tensors: not supported by ${family}`);
        if (l.eltwise === 'sub' && !l.constOperand) return no(`Sub of two tensors: not supported by ${family}`);
        return act ? activationSupport(act, ` (fused after ${l.op})`) : SUPPORTED;
      }
      case 'concat': case 'pad':
        return SUPPORTED;
      case 'reshape':
        return SUPPORTED;
      case 'upsample': {
        const u = l.upsample;
        if (!u) return no(`${l.op}: scale unknown (run shape inference or give static sizes)`);
        if (!Number.isInteger(u.scaleH) || !Number.isInteger(u.scaleW) || u.scaleH < 1 || u.scaleW < 1)
          return no(`${l.op} scale ${fmt(u.scaleH)}×${fmt(u.scaleW)}: only integer upsampling runs on ${family}`);
        if (u.mode === 'bilinear') {
          if (u.alignCorners) return no(`${l.op}: bilinear with align_corners is not supported by ${family}`);
          if (u.scaleH !== u.scaleW || ![2, 4, 8].includes(u.scaleH))
            return no(`${l.op}: bilinear ×${fmt(u.scaleH)}×${fmt(u.scaleW)} — only ×2, ×4, ×8 run on ${family}`);
        }
        return SUPPORTED;
      }
      case 'activation':
        return activationSupport(act ?? l.activation ?? { type: 'relu' }, '');
      case 'other': {
        const key = l.op.toLowerCase().replace(/-/g, '');
        const why = OTHER_REASONS[key] ?? `${l.op}: not supported by ${family}`;
        return no(OTHER_REASONS[key] ? `${l.op}: ${why}` : why);
      }
    }
  }

  function fuses(producer: Layer, a: Activation): boolean {
    if (!FUSABLE.has(a.type)) return false;
    // A slope the DPU cannot compute must not drag its conv to the CPU: it stays a CPU layer of its own.
    if (a.type === 'leaky_relu' && Math.abs((a.alpha ?? 0.01) - DPU_LEAKY_SLOPE) > 1e-6) return false;
    switch (producer.kind) {
      case 'conv': case 'deconv': case 'dense':
        return a.type !== 'leaky_relu' || config.convLeakyRelu;
      case 'depthwise':
        return a.type !== 'leaky_relu' || config.depthwiseLeakyRelu;
      case 'eltwise':
        return a.type === 'relu' || a.type === 'relu6' || a.type === 'hard_sigmoid' || a.type === 'hard_swish';
      default:
        return false;
    }
  }

  const params: CostParams = {
    pixelParallel: pp, inputChannelParallel: cp, outputChannelParallel: cp,
    channelAugmentation: config.channelAugmentation, aluPixelParallel: Math.max(1, config.aluParallel), opsPerClock: config.size, clockHz,
  };
  return {
    name, family, fingerprint: config.fingerprint, device: 'DPU', clockHz, params,
    cost: (l) => layerCost(l, params),
    supports, fuses,
  };
}

export function dpuczdx8g(size: number, clockHz = DEFAULT_CLOCK_HZ): DpuTarget {
  return makeDpuczdx8g(decodeFingerprint(dpuczdx8gFingerprint(size)), clockHz);
}
