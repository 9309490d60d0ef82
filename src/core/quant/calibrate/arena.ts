// Where a statistics batch's values wait to be folded when the folding happens in this thread.
//
// Holding the runs' own output arrays for a statistics batch (32 runs) lets each outlive a few young-
// generation collections, so V8 promotes it and only a full collection, which V8 starts late for memory
// outside its heap, frees it: on fmnist_seed000 the dead arrays piled up through the whole pass (external
// array buffers 25 → 68 MiB over 1000 samples). Copied into one buffer reused batch after batch, the
// runs' arrays die young and are freed at the next scavenge (bench/quant.ts part 3).

/**
 * One reusable buffer of floats handed out as views, all of them valid until `reset`. It is sized by the
 * batches it sees: a batch that does not fit keeps the arrays it was given (as before) and the next
 * batch gets a buffer of that batch's size, so it holds one batch, never a spare.
 */
export class FloatArena {
  private buf = new Float32Array(0);
  private used = 0;
  /** Floats this batch asked for, fitting or not. */
  private wanted = 0;

  /** `v` itself, or a copy of it in the arena, valid until the reset. */
  keep(v: Float32Array): Float32Array {
    this.wanted += v.length;
    if (this.used + v.length > this.buf.length) return v;
    const view = this.buf.subarray(this.used, this.used + v.length);
    view.set(v);
    this.used += v.length;
    return view;
  }

  /** The views handed out so far are no longer read: their space is reused. */
  reset(): void {
    if (this.wanted > this.buf.length) this.buf = new Float32Array(this.wanted);
    this.used = 0;
    this.wanted = 0;
  }
}
