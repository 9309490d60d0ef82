import type { DType } from './dtype';

/** A dimension: a number, or the name of a symbolic dimension ("batch", "N"). */
export type Dim = number | string;
export type Shape = readonly Dim[];

/** What is known of a tensor flowing along an edge. `shape` is undefined when even the rank is unknown. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape?: Shape;
}

/**
 * Element storage of a constant tensor, never a copy of the file: numeric types whose JS typed array
 * exists are held in it when the file's bytes are aligned for it; otherwise (misaligned raw_data, and
 * always for float16/bfloat16/float8/int4/bool) `values` is a Uint8Array of the raw little-endian bytes.
 * Read numbers through `typedValues` or `toFloat64` (onnx/values.ts), which decode on demand.
 */
export type TensorValues =
  | Float32Array | Float64Array
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array
  | readonly string[];

/** A tensor whose values are known at load time: an initializer or a Constant's value. */
export interface ConstTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly values: TensorValues;
}

export function numel(shape: readonly Dim[]): number {
  let n = 1;
  for (const d of shape) n *= typeof d === 'number' ? d : 1;
  return n;
}

/** A dimension as a number: symbolic dimensions count as 1 wherever a number is needed. */
export function dimValue(d: Dim): number {
  return typeof d === 'number' ? d : 1;
}

export function formatShape(shape: Shape | undefined): string {
  if (!shape) return '?';
  return shape.map(String).join('×');
}

/** A dense float32 activation (NCHW for images), as the float interpreter and calibrators pass them. */
export interface FloatTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}
