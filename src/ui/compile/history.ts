// Before → after between consecutive compiles (a target switch or a what-if toggle), and which what-if
// conversion a CPU op's fix names. Pure: the panel and the unit tests share it.
import type { Conversions } from '../../core/compile/layer';

/** What one compile produced, kept so the next one can say what changed. */
export interface CompileSnapshot {
  readonly target: string;
  readonly conversions: Conversions;
  readonly deviceSubgraphNumber: number;
  readonly dpuSubgraphNumber: number;
}

export const CONVERSION_LABELS: Readonly<Record<keyof Conversions, string>> = {
  siluToHardSwish: 'SiLU → hard-swish',
  sigmoidToHardSigmoid: 'Sigmoid → hard-sigmoid',
  leakyReluToDpuSlope: 'LeakyReLU slope → 26/256',
  relu6ToRelu: 'ReLU6 → ReLU',
};

function shortTarget(t: string): string {
  return t.replace(/^DPUCZDX8G_ISA1_/, '');
}

/** What differs between two compiles' settings, e.g. "target B4096 → B512, +SiLU → hard-swish". */
export function settingsChange(prev: CompileSnapshot, cur: CompileSnapshot): string {
  const parts: string[] = [];
  if (prev.target !== cur.target) parts.push(`target ${shortTarget(prev.target)} → ${shortTarget(cur.target)}`);
  for (const k of Object.keys(CONVERSION_LABELS) as (keyof Conversions)[])
    if (prev.conversions[k] !== cur.conversions[k]) parts.push(`${cur.conversions[k] ? '+' : '−'}${CONVERSION_LABELS[k]}`);
  return parts.length ? parts.join(', ') : 'same settings (recompiled)';
}

/** "DPU subgraphs 76 → 2, device subgraphs 192 → 14". */
export function countsChange(prev: CompileSnapshot, cur: CompileSnapshot): string {
  return `DPU subgraphs ${prev.dpuSubgraphNumber} → ${cur.dpuSubgraphNumber}, device subgraphs ${prev.deviceSubgraphNumber} → ${cur.deviceSubgraphNumber}`;
}

/**
 * The conversion a CPU op's suggested fix names ("enable SiLU→hard-swish"), so the panel can apply it in
 * one click; undefined when the fix is not a what-if conversion (e.g. "use kernels of at most 16×16").
 */
export function conversionInFix(fix: string | undefined): keyof Conversions | undefined {
  if (!fix || !/\benable\b/i.test(fix)) return undefined;
  if (/silu\s*→\s*hard-?swish/i.test(fix)) return 'siluToHardSwish';
  if (/sigmoid\s*→\s*hard-?sigmoid/i.test(fix)) return 'sigmoidToHardSigmoid';
  if (/leaky\s*relu.*26\/256/i.test(fix)) return 'leakyReluToDpuSlope';
  if (/relu6\s*→\s*relu/i.test(fix)) return 'relu6ToRelu';
  return undefined;
}
