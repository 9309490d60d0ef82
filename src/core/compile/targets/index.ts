// Resolving a target from what the user gives: an arch name, a board, or an arch.json.
import { InputError } from '../../errors';
import { DEFAULT_CLOCK_HZ, makeDpuczdx8g } from './dpuczdx8g';
import { parseArchJson } from './fingerprint';
import { DPUCZDX8G_FAMILY, targetByArch } from './registry';
import type { Target } from './target';

export type { Target, Support, CostParams } from './target';
export { SUPPORTED } from './target';
export { decodeFingerprint, parseArchJson, hex, type DpuConfig } from './fingerprint';
export { dpuczdx8g, makeDpuczdx8g, dpuczdx8gFingerprint, DPU_LEAKY_SLOPE, type DpuTarget } from './dpuczdx8g';
export {
  targetByArch, targetFamilies, targetPresets, registerTargetFamily, DPUCZDX8G_FAMILY,
  type TargetFamily, type TargetPreset,
} from './registry';

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

/** The DPUCZDX8G presets (see targetPresets() for every registered family's). */
export const ARCH_NAMES: readonly string[] = DPUCZDX8G_FAMILY.presets.map((p) => p.id);

export function targetByBoard(board: string): Target {
  const b = BOARDS.find((x) => x.name.toLowerCase() === board.trim().toLowerCase());
  if (!b) throw new InputError(`unknown board "${board}"; known: ${BOARDS.map((x) => x.name).join(', ')}`);
  return targetByArch(b.arch, b.clockHz);
}

export function targetByArchJson(text: string, clockHz = DEFAULT_CLOCK_HZ): Target {
  return makeDpuczdx8g(parseArchJson(text), clockHz);
}
