import { InputError } from '../../errors';
import type { DType, FloatTensor, Node } from '../../ir';

/** What a kernel may know besides its inputs. */
export interface KernelCtx {
  readonly node: Node;
  /** Version of the default ONNX domain, for ops whose semantics changed across opsets. */
  readonly opset: number;
  /** Static element type of a tensor (float32 when nothing says otherwise). */
  dtype(name: string): DType;
  /** A temporary buffer of at least n floats, reused across nodes (contents undefined). */
  scratch(n: number): Float32Array;
}

/** Inputs in node order; undefined where an optional input is omitted. Returns one tensor per output. */
export type Kernel = (inputs: readonly (FloatTensor | undefined)[], ctx: KernelCtx) => FloatTensor[];

export function where(ctx: KernelCtx): string {
  return `${ctx.node.opType} (node ${ctx.node.name})`;
}

export function bad(ctx: KernelCtx, problem: string): InputError {
  return new InputError(`float interpreter: ${where(ctx)}: ${problem}`);
}

/** Input i, which the op requires. */
export function need(inputs: readonly (FloatTensor | undefined)[], i: number, ctx: KernelCtx): FloatTensor {
  const t = inputs[i];
  if (!t) throw bad(ctx, `input ${i} is required`);
  return t;
}

export function isIntType(d: DType): boolean {
  return !(d.startsWith('float') || d === 'bfloat16');
}
