// The fix-position constraints of §3 that the DPU's shifters impose. Each rule lowers or raises one
// fix point and records why, so the UI can show every change the quantizer made to a calibrated value.
import { maxFixPoint } from './fixpoint';
import type { QGraph, QLayer } from './qgraph';

export type RuleName = 'shift_cut' | 'shift_bias' | 'shift_read' | 'shift_write' | 'concat' | 'pool' | 'hsigmoid' | 'hswish' | 'max_fp';

export interface Adjustment {
  readonly tensor: string;
  readonly from: number;
  readonly to: number;
  readonly rule: RuleName;
  readonly reason: string;
}

export interface RuleOptions {
  /** Bit width per tensor (8 when absent). */
  readonly bitWidth?: (tensor: string) => number;
  /** Align pool inputs and outputs (vai_q `change_pool_input_fix`, default on). */
  readonly alignPool?: boolean;
  /** Give concat inputs the output's fix point (vai_q `change_concat_input_fix`, default on). */
  readonly alignConcat?: boolean;
  readonly maxPasses?: number;
}

/**
 * Enforce the rules on `fps` (activation, weight and bias fix points by tensor name; a missing entry
 * means float). Returns the adjusted map and the adjustments in the order they were made. Rules interact
 * (a concat lowers an input that a conv's shift_cut then checks), so passes repeat until nothing moves.
 */
export function applyRules(q: QGraph, fpsIn: ReadonlyMap<string, number>, o: RuleOptions = {}): { fps: Map<string, number>; adjustments: Adjustment[] } {
  const fps = new Map(fpsIn);
  const adjustments: Adjustment[] = [];
  const bits = o.bitWidth ?? (() => 8);
  const set = (tensor: string, to: number, rule: RuleName, reason: string) => {
    const from = fps.get(tensor)!;
    if (from === to) return;
    fps.set(tensor, to);
    adjustments.push({ tensor, from, to, rule, reason });
  };
  for (const [t, fp] of fps) {
    const cap = maxFixPoint(bits(t));
    if (fp > cap) set(t, cap, 'max_fp', `fix point ${fp} above the ${bits(t)}-bit maximum ${cap}`);
  }
  /** Where a layer's shifter writes: the pre-activation before a fused hard-sigmoid/hard-swish. */
  const preOf = (l: QLayer) => (l.preActivation !== undefined && fps.has(l.preActivation) ? l.preActivation : l.output);
  /**
   * The DPU's hard-sigmoid/hard-swish (§2) between the nonlinearity's input and output fix points:
   * hsigmoid fp_in ≥ 0, fp_out ≥ 7 and shift 14 + fp_in − fp_out ∈ [0, 31]; hswish fp_out ≤ fp_in + 7.
   * Fused into a conv or add (`fusedInto`), the input is that layer's pre-activation output.
   */
  const hardLimits = (layer: string, op: string, input: string, output: string, raiseInput: boolean, fusedInto?: string) => {
    const what = fusedInto ? `fused hard-${op === 'HardSigmoid' ? 'sigmoid' : 'swish'} (input: the ${fusedInto} output)` : `hard-${op === 'HardSigmoid' ? 'sigmoid' : 'swish'}`;
    const fi0 = fps.get(input)!;
    if (op === 'HardSigmoid') {
      if (fi0 < 0 && raiseInput) set(input, 0, 'hsigmoid', `${layer}: ${what} input fix point ${fi0} < 0 raised to 0 (inputs beyond ±3 saturate anyway)`);
      const fi = fps.get(input)!;
      const o0 = fps.get(output)!;
      if (o0 < 7) set(output, 7, 'hsigmoid', `${layer}: ${what} output fix point ${o0} < 7 raised to 7 (its range is [0, 1])`);
      const o1 = fps.get(output)!;
      if (14 + fi - o1 < 0) set(output, 14 + fi, 'hsigmoid', `${layer}: ${what} shift 14 + ${fi} − ${o1} < 0, output fix point lowered`);
      else if (14 + fi - o1 > 31) set(output, fi - 17, 'hsigmoid', `${layer}: ${what} shift 14 + ${fi} − ${o1} > 31, output fix point raised`);
    } else if (op === 'HardSwish') {
      const o0 = fps.get(output)!;
      if (o0 > fi0 + 7) set(output, fi0 + 7, 'hswish', `${layer}: ${what} output fix point ${o0} > fp_in ${fi0} + 7, lowered`);
    }
  };
  const maxPasses = o.maxPasses ?? 8;
  for (let pass = 0; pass < maxPasses; pass++) {
    const before = adjustments.length;
    for (const l of q.layers) {
      const out = fps.get(l.output);
      if (out === undefined) continue;
      const ins = l.inputs.map((t) => fps.get(t));
      if (ins.some((f) => f === undefined)) continue;
      const fin = ins as number[];
      switch (l.kind) {
        case 'conv': {
          const fw = l.weight ? fps.get(l.weight) : undefined;
          if (fw === undefined) break;
          const fi = fin[0];
          // With a fused hard-sigmoid/hard-swish the shifter writes the pre-activation (hsigmoid_in), not
          // the layer output: shift_cut and shift_bias are relative to it (vart conv-fix: the accumulator
          // is cut to int8 at hsigmoid_in, then shift_hsigmoid moves it to fp_out).
          const pre = preOf(l);
          let cut = fw + fi - fps.get(pre)!;
          if (cut < 0) {
            set(pre, fw + fi, 'shift_cut', `${l.node.name}: shift_cut = fp_w ${fw} + fp_in ${fi} − fp_out ${fps.get(pre)} = ${cut} < 0, output fix point lowered`);
            cut = 0;
          } else if (cut > 16) {
            set(l.weight!, 16 + fps.get(pre)! - fi, 'shift_cut', `${l.node.name}: shift_cut = ${cut} > 16, weight fix point lowered`);
            cut = 16;
          }
          // When fp_w + fp_in < 0 no pre-activation position satisfies both fp ≥ 0 and shift_cut ≥ 0:
          // shift_cut wins (the shifter cannot shift left).
          if (pre !== l.output) hardLimits(l.node.name, l.activation!.opType, pre, l.output, fw + fi >= 0, 'conv');
          const fb = l.bias ? fps.get(l.bias) : undefined;
          if (fb === undefined) break;
          const fw2 = fps.get(l.weight!)!;
          const sb = fw2 + fi - fb;
          const leaky = l.activation?.opType === 'LeakyRelu';
          const lo = leaky ? 0 : Math.min(0, -(24 - (8 + cut)));
          if (sb < lo) set(l.bias!, fw2 + fi - lo, 'shift_bias', `${l.node.name}: shift_bias = ${sb} < ${lo}${leaky ? ' (before LeakyReLU)' : ''}, bias fix point lowered`);
          else if (sb > 16) set(l.bias!, fw2 + fi - 16, 'shift_bias', `${l.node.name}: shift_bias = ${sb} > 16, bias fix point raised`);
          break;
        }
        case 'add': {
          const hi = Math.max(...fin);
          const lo = Math.min(...fin);
          if (hi - lo > 15) {
            l.inputs.forEach((t, i) => {
              if (fin[i] > lo + 15) set(t, lo + 15, 'shift_read', `${l.node.name}: shift_read = ${hi - lo} > 15, input fix point lowered`);
            });
          }
          // Before a fused hard-sigmoid the sum is written at hsigmoid_in (vart eltwise-fix: shift_write =
          // fp_min − hsigmoid_in), the pre-activation's fix point.
          const pre = preOf(l);
          const w = lo - fps.get(pre)!;
          if (w > 15) set(pre, lo - 15, 'shift_write', `${l.node.name}: shift_write = ${w} > 15, output fix point raised`);
          else if (w < -15) set(pre, lo + 15, 'shift_write', `${l.node.name}: shift_write = ${w} < −15, output fix point lowered`);
          if (pre !== l.output) hardLimits(l.node.name, l.activation!.opType, pre, l.output, true, 'add');
          break;
        }
        case 'concat': {
          if (o.alignConcat === false) break;
          const m = Math.min(out, ...fin);
          if (out !== m) set(l.output, m, 'concat', `${l.node.name}: concat output shares the smallest fix point ${m}`);
          l.inputs.forEach((t) => {
            if (fps.get(t)! !== m) set(t, m, 'concat', `${l.node.name}: concat input shares the smallest fix point ${m}`);
          });
          break;
        }
        case 'pool': {
          // Global pools too (§3 "pool: fp_in = fp_out"): a global average is the same sum × N/2^M.
          if (o.alignPool === false) break;
          const m = Math.min(out, fin[0]);
          if (out !== m) set(l.output, m, 'pool', `${l.node.name}: pool output takes its input's fix point ${m}`);
          if (fin[0] !== m) set(l.inputs[0], m, 'pool', `${l.node.name}: pool input takes its output's fix point ${m}`);
          break;
        }
        default:
          if (l.node.opType === 'HardSigmoid' || l.node.opType === 'HardSwish') hardLimits(l.node.name, l.node.opType, l.inputs[0], l.output, true);
          break;
      }
    }
    if (adjustments.length === before) break;
  }
  return { fps, adjustments };
}
