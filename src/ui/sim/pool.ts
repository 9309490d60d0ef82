// Many samples over several simulation workers (the Evaluate run): the worker that serves the panel plus
// helpers prepared with the same model, each taking the next sample index as it frees up. A sample's result
// depends only on the sample, so the predictions are those of one worker; callers see them in index order
// (the longest completed prefix), as a single worker would have delivered them.
import * as Comlink from 'comlink';
import type { SimApi } from '../../../workers/sim.worker';

/** How many simulation workers a many-sample run uses: the cores when the page is cross-origin isolated
 *  (wasm threads and SharedArrayBuffer are on, so the machine is ours to use), at most 4; else one. */
export function simWorkerCount(): number {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  if (!g.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, g.navigator?.hardwareConcurrency ?? 1));
}

export interface Helper {
  readonly api: Comlink.Remote<SimApi>;
  end(): void;
}

/** A fresh simulation worker (not yet prepared). */
export function startHelper(): Helper {
  const worker = new Worker(new URL('../../../workers/sim.worker.ts', import.meta.url), { type: 'module', name: 'sim-helper' });
  return { api: Comlink.wrap<SimApi>(worker), end: () => worker.terminate() };
}

/**
 * Runs `work(api, i)` for i in [0, count) over the given workers, each pulling the next index; `onPrefix`
 * hears the number of leading indices done whenever it grows. Stops taking indices once `live()` is false.
 */
export async function overWorkers<T>(
  apis: readonly Comlink.Remote<SimApi>[], count: number, work: (api: Comlink.Remote<SimApi>, i: number) => Promise<T>,
  live: () => boolean, onPrefix: (done: number, results: readonly T[]) => void,
): Promise<T[]> {
  const results = new Array<T>(count);
  const have = new Uint8Array(count);
  let next = 0;
  let prefix = 0;
  const loop = async (api: Comlink.Remote<SimApi>) => {
    while (live() && next < count) {
      const i = next++;
      results[i] = await work(api, i);
      have[i] = 1;
      const was = prefix;
      while (prefix < count && have[prefix]) prefix++;
      if (prefix > was) onPrefix(prefix, results);
    }
  };
  // Every loop settles before a failure is reported, so no worker is left mid-call.
  const all = await Promise.allSettled(apis.map(loop));
  const bad = all.find((r) => r.status === 'rejected');
  if (bad) throw (bad as PromiseRejectedResult).reason;
  return results;
}
