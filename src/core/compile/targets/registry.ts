// Every accelerator the compiler knows, by family: its presets (what a picker lists) and how an arch name
// becomes a Target. Adding an accelerator = one module implementing Target + one line in FAMILIES.
import { InputError } from '../../errors';
import { DEFAULT_CLOCK_HZ, DPUCZDX8G_SIZES, dpuczdx8g } from './dpuczdx8g';
import type { Target } from './target';

export interface TargetPreset {
  /** What --arch takes and targetByArch resolves, e.g. DPUCZDX8G_ISA1_B4096. */
  readonly id: string;
  /** For a picker, e.g. "B4096 (4096 ops/clock)". */
  readonly label: string;
}

export interface TargetFamily {
  /** e.g. DPUCZDX8G. */
  readonly id: string;
  readonly label: string;
  readonly presets: readonly TargetPreset[];
  /** Whether an arch name is this family's (then `create` either builds it or names what is wrong). */
  matches(arch: string): boolean;
  create(arch: string, clockHz?: number): Target;
}

const DPU_ARCH = /^(?:DPUCZDX8G_(?:ISA1_)?)?B(\d+)$/i;

export const DPUCZDX8G_FAMILY: TargetFamily = {
  id: 'DPUCZDX8G',
  label: 'Xilinx DPUCZDX8G (Zynq UltraScale+: KV260, ZCU102, ZCU104)',
  presets: DPUCZDX8G_SIZES.map((b) => ({ id: `DPUCZDX8G_ISA1_B${b}`, label: `B${b} (${b} ops/clock)` })),
  matches: (arch) => DPU_ARCH.test(arch.trim()) || /^DPUCZDX8G/i.test(arch.trim()),
  create(arch, clockHz = DEFAULT_CLOCK_HZ) {
    const size = Number(DPU_ARCH.exec(arch.trim())?.[1]);
    if (!DPUCZDX8G_SIZES.includes(size))
      throw new InputError(`unknown DPU architecture "${arch}"; known: ${this.presets.map((p) => p.id).join(', ')}`);
    return dpuczdx8g(size, clockHz);
  },
};

const FAMILIES: TargetFamily[] = [DPUCZDX8G_FAMILY];

export function targetFamilies(): readonly TargetFamily[] {
  return FAMILIES;
}

/** Adds a family (a plug-in, or a test's toy accelerator); returns the function that removes it again. */
export function registerTargetFamily(f: TargetFamily): () => void {
  if (FAMILIES.some((x) => x.id === f.id)) throw new Error(`target family ${f.id} is already registered`);
  FAMILIES.push(f);
  return () => {
    const i = FAMILIES.indexOf(f);
    if (i >= 0) FAMILIES.splice(i, 1);
  };
}

/** Every preset of every family, for a target picker. */
export function targetPresets(): { family: string; familyLabel: string; id: string; label: string }[] {
  return FAMILIES.flatMap((f) => f.presets.map((p) => ({ family: f.id, familyLabel: f.label, ...p })));
}

/** An arch name of any registered family: DPUCZDX8G_ISA1_B4096, DPUCZDX8G_B4096, B4096, or another family's. */
export function targetByArch(arch: string, clockHz?: number): Target {
  const f = FAMILIES.find((x) => x.matches(arch));
  if (!f) {
    const known = FAMILIES.flatMap((x) => x.presets.map((p) => p.id));
    throw new InputError(`unknown architecture "${arch}"; known: ${known.join(', ')}`);
  }
  return f.create(arch, clockHz);
}
