// The compile part of the app store: target, what-if conversions, the last result and the node colours.
import type { Conversions } from '../../core/compile/layer';
import type { DpuConfig } from '../../core/compile/targets/fingerprint';
import type { CompileSnapshot } from './history';
import type { CompiledFileView, CompileView, Deployment, TargetChoice } from '../../../workers/protocol';

/** The target as picked: a preset or board, or an imported arch.json with its decoded fingerprint. */
export type PickedTarget =
  | { readonly kind: 'arch'; readonly arch: string }
  | { readonly kind: 'board'; readonly board: string }
  | { readonly kind: 'archJson'; readonly text: string; readonly fileName: string; readonly config: DpuConfig };

export type CompileRun =
  | { readonly state: 'idle' }
  | { readonly state: 'running' }
  | { readonly state: 'done'; readonly view: CompileView }
  | { readonly state: 'error'; readonly message: string };

export interface CompileSlice {
  compileTarget: PickedTarget;
  /** Why the last arch.json was refused; the previous target stays. */
  archError: string | null;
  conversions: Conversions;
  compileRun: CompileRun;
  /** Set when the open file is an already compiled .xmodel: its own subgraph tree. */
  compiledFile: CompiledFileView | null;
  deployment: Deployment | null;
  /** The last two compiles' settings and counts (of this model): the before → after of a change. */
  compileHistory: { readonly previous: CompileSnapshot | null; readonly current: CompileSnapshot | null };
  /** Display node id → colour, in device mode. */
  deviceColors: Readonly<Record<string, string>>;
}

export const DEFAULT_TARGET: PickedTarget = { kind: 'board', board: 'KV260' };

export const initialCompileSlice: CompileSlice = {
  compileTarget: DEFAULT_TARGET,
  archError: null,
  conversions: { siluToHardSwish: false, sigmoidToHardSigmoid: false, leakyReluToDpuSlope: false, relu6ToRelu: false },
  compileRun: { state: 'idle' },
  compiledFile: null,
  deployment: null,
  compileHistory: { previous: null, current: null },
  deviceColors: {},
};

export function targetChoice(t: PickedTarget): TargetChoice {
  return t.kind === 'archJson' ? { kind: 'archJson', text: t.text } : t;
}
