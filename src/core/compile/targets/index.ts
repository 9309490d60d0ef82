// Resolving a target from what the user gives: an arch name, a board, or an arch.json.
import { InputError } from '../../errors';
import { DEFAULT_CLOCK_HZ, DPUCZDX8G_SIZES, dpuczdx8g, makeDpuczdx8g } from './dpuczdx8g';
import { parseArchJson } from './fingerprint';
import type { Target } from './target';

export type { Target, Support, CostParams } from './target';
export { decodeFingerprint, parseArchJson, hex, type DpuConfig } from './fingerprint';
export { dpuczdx8g, makeDpuczdx8g, dpuczdx8gFingerprint, DPU_LEAKY_SLOPE } from './dpuczdx8g';

export interface Board {
  readonly name: string;
  readonly arch: string;
  readonly clockHz: number;
}

export const BOARDS: readonly Board[] = [
  { name: 'KV260', arch: 'DPUCZDX8G_ISA1_B4096', clockHz: DEFAULT_CLOCK_HZ },
  { name: 'ZCU102', arch: 'DPUCZDX8G_ISA1_B4096', clockHz: DEFAULT_CLOCK_HZ },
  { name: 'ZCU104', arch: 'DPUCZDX8G_ISA1_B4096', clockHz: DEFAULT_CLOCK_HZ },
];

export const ARCH_NAMES: readonly string[] = DPUCZDX8G_SIZES.map((b) => `DPUCZDX8G_ISA1_B${b}`);

/** DPUCZDX8G_ISA1_B4096, DPUCZDX8G_B4096 or B4096. */
export function targetByArch(arch: string, clockHz = DEFAULT_CLOCK_HZ): Target {
  const m = /^(?:DPUCZDX8G_(?:ISA1_)?)?B(\d+)$/i.exec(arch.trim());
  const size = m ? Number(m[1]) : NaN;
  if (!DPUCZDX8G_SIZES.includes(size))
    throw new InputError(`unknown DPU architecture "${arch}"; known: ${ARCH_NAMES.join(', ')}`);
  return dpuczdx8g(size, clockHz);
}

export function targetByBoard(board: string): Target {
  const b = BOARDS.find((x) => x.name.toLowerCase() === board.trim().toLowerCase());
  if (!b) throw new InputError(`unknown board "${board}"; known: ${BOARDS.map((x) => x.name).join(', ')}`);
  return targetByArch(b.arch, b.clockHz);
}

export function targetByArchJson(text: string, clockHz = DEFAULT_CLOCK_HZ): Target {
  return makeDpuczdx8g(parseArchJson(text), clockHz);
}
