// The Evaluate run's work split over simulation workers: every index once, results in index order whatever
// order the workers finish in, progress as the completed prefix, Cancel stops taking samples.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { overWorkers, simWorkerCount } from '../../src/ui/sim/pool';

type Api = Parameters<typeof overWorkers>[0][number];
const fake = (id: number) => ({ id }) as unknown as Api;
const idOf = (a: Api) => (a as unknown as { id: number }).id;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('overWorkers', () => {
  it('gives the results of one worker, in index order, with a growing prefix', async () => {
    const work = async (_a: Api, i: number) => { await sleep((i * 7919) % 5); return i * i; };
    const single = await overWorkers([fake(0)], 30, work, () => true, () => {});
    const prefixes: number[] = [];
    const who = new Set<number>();
    const many = await overWorkers([fake(0), fake(1), fake(2)], 30, async (a, i) => { who.add(idOf(a)); return work(a, i); }, () => true, (d, r) => {
      prefixes.push(d);
      expect(r.slice(0, d)).toEqual(Array.from({ length: d }, (_, i) => i * i));
    });
    expect(many).toEqual(single);
    expect(who).toEqual(new Set([0, 1, 2]));
    expect(prefixes.every((p, i) => i === 0 || p > prefixes[i - 1])).toBe(true);
    expect(prefixes.at(-1)).toBe(30);
  });

  it('stops taking samples once cancelled, and reports a failure after every worker settled', async () => {
    let live = true;
    const taken: number[] = [];
    await overWorkers([fake(0), fake(1)], 100, async (_a, i) => { taken.push(i); if (i === 5) live = false; await sleep(1); return i; }, () => live, () => {});
    expect(taken.length).toBeLessThanOrEqual(7);
    const settled: number[] = [];
    await expect(overWorkers([fake(0), fake(1)], 10, async (a, i) => {
      if (idOf(a) === 0 && i === 0) throw new Error('worker died');
      await sleep(2);
      settled.push(i);
      return i;
    }, () => true, () => {})).rejects.toThrow('worker died');
    expect(settled.length).toBeGreaterThan(0);
  });
});

describe('simWorkerCount', () => {
  afterEach(() => vi.unstubAllGlobals());
  it('uses the cores (at most 4) only when the page is cross-origin isolated', () => {
    vi.stubGlobal('crossOriginIsolated', false);
    vi.stubGlobal('navigator', { hardwareConcurrency: 8 });
    expect(simWorkerCount()).toBe(1);
    vi.stubGlobal('crossOriginIsolated', true);
    expect(simWorkerCount()).toBe(4);
    vi.stubGlobal('navigator', { hardwareConcurrency: 2 });
    expect(simWorkerCount()).toBe(2);
  });
});
