import { describe, expect, it } from 'vitest';
import { FloatArena } from '../../src/core/quant/calibrate/arena';

const f32 = (...v: number[]) => Float32Array.from(v);

describe('FloatArena', () => {
  it('hands back what it is given until a batch has sized it, then copies into one buffer', () => {
    const a = new FloatArena();
    const x = f32(1, 2, 3);
    const y = f32(4, 5);
    // Nothing sized yet: the arrays themselves.
    expect(a.keep(x)).toBe(x);
    expect(a.keep(y)).toBe(y);
    a.reset();
    const cx = a.keep(x);
    const cy = a.keep(y);
    expect(cx).not.toBe(x);
    expect([...cx]).toEqual([1, 2, 3]);
    expect([...cy]).toEqual([4, 5]);
    expect(cx.buffer).toBe(cy.buffer);
    // A copy: changing the source leaves the kept values.
    x[0] = 9;
    expect(cx[0]).toBe(1);
  });

  it('reuses the same buffer after each reset and grows to a larger batch', () => {
    const a = new FloatArena();
    a.keep(new Float32Array(4));
    a.reset();
    const first = a.keep(f32(1, 2, 3, 4));
    a.reset();
    const again = a.keep(f32(5, 6));
    expect(again.buffer).toBe(first.buffer);
    expect(again.byteOffset).toBe(0);
    // Overflow: the rest of this batch is kept as given, the next batch gets room for all of it.
    a.keep(f32(7, 8));
    const over = f32(9);
    expect(a.keep(over)).toBe(over);
    a.reset();
    const parts = [f32(1, 2), f32(3, 4), f32(5)].map((p) => a.keep(p));
    expect(parts.map((p) => p.buffer === parts[0].buffer)).toEqual([true, true, true]);
    expect(parts.map((p) => [...p])).toEqual([[1, 2], [3, 4], [5]]);
    expect(parts[0].buffer).not.toBe(first.buffer);
  });

  it('keeps empty arrays as empty views', () => {
    const a = new FloatArena();
    a.keep(f32(1));
    a.reset();
    expect(a.keep(new Float32Array(0)).length).toBe(0);
    expect([...a.keep(f32(2))]).toEqual([2]);
  });
});
