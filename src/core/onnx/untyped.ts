// Value infos whose file gives no element type. TensorInfo must carry a dtype, so the reader assumes
// float32 for them; inference must not trust that guess, so the reader marks them here.
import type { TensorInfo } from '../ir';

const untyped = new WeakSet<TensorInfo>();

export function markUntyped<T extends TensorInfo>(info: T): T {
  untyped.add(info);
  return info;
}

export function isUntyped(info: TensorInfo): boolean {
  return untyped.has(info);
}
