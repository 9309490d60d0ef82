// Classification read-out: top-k with probabilities, agreement of two runs, accuracy and confusion.
import { InputError } from '../errors';
import { probabilities } from '../sim/report';
import { labelFor } from './labels';

export interface Ranked {
  readonly class: number;
  readonly label: string;
  readonly score: number;
}

/** Index of the largest value (the first on a tie). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * The k best classes, best first (ties: lower class first), with probabilities: the values as they are when
 * they already are a distribution (a final Softmax), else their softmax (src/core/sim/report.ts).
 */
export function topK(values: ArrayLike<number>, k = 5, labels?: readonly string[]): Ranked[] {
  if (values.length === 0) throw new InputError('a classifier output must hold at least one score');
  const p = probabilities(values);
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
  return order.slice(0, k).map((c) => ({ class: c, label: labelFor(c, labels), score: p[c] }));
}

/** confusion[true][predicted] counts. */
export function confusion(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[][] {
  if (truth.length !== predicted.length) throw new InputError(`${truth.length} labels for ${predicted.length} predictions`);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    if (!Number.isInteger(t) || t < 0 || t >= classes) throw new InputError(`label ${t} of sample ${i} is not a class of this ${classes}-class model`);
    m[t][predicted[i]]++;
  }
  return m;
}

export function accuracy(m: readonly (readonly number[])[]): number {
  let hit = 0;
  let all = 0;
  m.forEach((row, t) => row.forEach((v, p) => { all += v; if (t === p) hit += v; }));
  return all ? hit / all : 0;
}
