// DPUCZDX8G configuration fingerprints: the 64-bit value in arch.json and in every compiled DPU subgraph.
// Layout (Vitis AI xcompiler): type<<56 | isa<<48 | feature bits.
import { InputError } from '../../errors';

/** Pixel and channel parallelism by arch index (feature bits [3:0]). */
const PP = [4, 4, 8, 4, 8, 8, 8, 8] as const;
const CP = [8, 10, 8, 12, 10, 12, 14, 16] as const;

export interface DpuConfig {
  readonly fingerprint: bigint;
  /** 1 = DPUCZDX8G. */
  readonly type: number;
  readonly isa: number;
  /** Index into the parallelism tables, [3:0]. */
  readonly archIndex: number;
  readonly pixelParallel: number;
  /** Input = output channel parallelism. */
  readonly channelParallel: number;
  /** Peak ops per clock: 2 · PP · ICP · OCP. */
  readonly size: number;
  /** [11:8] parallelism of the ALU (depthwise conv, pooling, element-wise). */
  readonly aluParallel: number;
  /** [25:24] image bank group setting. */
  readonly imageBankGroups: number;
  /** 26: the first layer's few input channels are packed along the kernel width. */
  readonly channelAugmentation: boolean;
  /** 28: LeakyReLU fuses into conv. */
  readonly convLeakyRelu: boolean;
  /** 29: LeakyReLU fuses into depthwise conv. */
  readonly depthwiseLeakyRelu: boolean;
  /** 30: argmax can be saved by the DPU. */
  readonly saveArgmax: boolean;
  readonly name: string;
}

export function hex(v: bigint): string {
  return '0x' + v.toString(16);
}

export function decodeFingerprint(fp: bigint): DpuConfig {
  const type = Number((fp >> 56n) & 0xffn);
  const isa = Number((fp >> 48n) & 0xffn);
  const f = Number(fp & 0xffffffffn);
  const archIndex = f & 0xf;
  if (type !== 1 || isa !== 1 || archIndex >= PP.length)
    throw new InputError(
      `fingerprint ${hex(fp)} is not a known DPU configuration (type ${type}, isa ${isa}, arch index ${archIndex}); ` +
        'supported: DPUCZDX8G ISA1 (type 1, isa 1, arch index 0–7), e.g. 0x101000056010407 for B4096',
    );
  const pp = PP[archIndex];
  const cp = CP[archIndex];
  const size = 2 * pp * cp * cp;
  return {
    fingerprint: fp, type, isa, archIndex, pixelParallel: pp, channelParallel: cp, size,
    aluParallel: (f >> 8) & 0xf,
    imageBankGroups: (f >> 24) & 0x3,
    channelAugmentation: ((f >> 26) & 1) === 1,
    convLeakyRelu: ((f >> 28) & 1) === 1,
    depthwiseLeakyRelu: ((f >> 29) & 1) === 1,
    saveArgmax: ((f >> 30) & 1) === 1,
    name: `DPUCZDX8G_ISA1_B${size}`,
  };
}

/** Reads an arch.json (`{"fingerprint": "0x…"}`). */
export function parseArchJson(text: string): DpuConfig {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new InputError('arch.json is not valid JSON (expected {"fingerprint": "0x…"})');
  }
  const v = (j as { fingerprint?: unknown })?.fingerprint;
  if (typeof v !== 'string' || !/^0x[0-9a-f]{1,16}$/i.test(v))
    throw new InputError('arch.json has no "fingerprint" field of the form "0x…" (hexadecimal, up to 16 digits)');
  return decodeFingerprint(BigInt(v));
}
