// Simulation worker: holds one prepared simulation (weights packed, buffers planned) of the quantized
// model and runs samples on it. The UI gets plain reports; nothing heavy runs on the main thread.
import * as Comlink from 'comlink';
import type { Conversions } from '../src/core/compile';
import { isInputError } from '../src/core/errors';
import type { FloatTensor } from '../src/core/ir';
import { prepareSimulation } from '../src/core/sim/dpu';
import type { SimReport } from '../src/core/sim/report';
import { SampleRunner, type SamplePhase } from '../src/core/sim/sample';
import { quantizedSource } from '../src/core/sim/source';
import { resolveTarget, type TargetChoice } from './compile';
import { workerOrtOptions } from './ort-env';

export interface SimPrepared {
  readonly target: string;
  readonly inputs: readonly { name: string; shape: readonly number[]; fixPoint?: number }[];
  readonly outputs: readonly { name: string; shape: readonly number[]; fixPoint?: number }[];
  readonly subgraphs: number;
  readonly dpuSubgraphs: number;
  readonly hasFloat: boolean;
  /** wasm bytes of the DPU feature maps as planned (shared by lifetime) and one buffer per tensor. */
  readonly featureMapBytes: { readonly planned: number; readonly unshared: number };
  readonly ms: number;
}

let runner: SampleRunner | undefined;
let abort: AbortController | undefined;

function rethrow(e: unknown): never {
  const err = e instanceof Error ? e : new Error(String(e));
  throw Object.assign(new Error(err.message), { name: isInputError(err) ? 'InputError' : err.name });
}

const api = {
  /** Prepares the model for the target; a previous simulation is released first. */
  async prepare(bytes: Uint8Array, fileName: string, choice: TargetChoice, conversions: Conversions, floatBytes?: Uint8Array): Promise<SimPrepared> {
    try {
      abort?.abort();
      const old = runner;
      runner = undefined;
      await old?.release();
      const t0 = performance.now();
      const src = await quantizedSource(bytes, fileName, floatBytes);
      // One sample at a time: onnxruntime's CPU subgraphs are small, a thread pool would cost more than it saves.
      const ort = { ...workerOrtOptions(), threads: 1 };
      const sim = await prepareSimulation(src.source, resolveTarget(choice), { conversions, ...ort });
      runner = new SampleRunner(sim, src.float, ort, src.aliases);
      return {
        target: sim.compile.target.name,
        inputs: sim.inputs.map((p) => ({ ...p, shape: [...p.shape] })),
        outputs: sim.outputs.map((p) => ({ ...p, shape: [...p.shape] })),
        subgraphs: sim.compile.deviceSubgraphNumber,
        dpuSubgraphs: sim.compile.dpuSubgraphNumber,
        hasFloat: !!src.float,
        featureMapBytes: { ...sim.featureMapBytes },
        ms: performance.now() - t0,
      };
    } catch (e) { rethrow(e); }
  },

  /** One sample; a cancel (or a newer run) rejects it with an AbortError. */
  async run(feeds: Record<string, FloatTensor>, onPhase?: (p: SamplePhase) => void): Promise<SimReport> {
    try {
      if (!runner) throw new Error('no simulation prepared');
      abort?.abort();
      const ctl = new AbortController();
      abort = ctl;
      const { report } = await runner.run(feeds, { signal: ctl.signal, onPhase });
      if (ctl.signal.aborted) throw Object.assign(new Error('simulation cancelled'), { name: 'AbortError' });
      return report;
    } catch (e) { rethrow(e); }
  },

  cancel(): void {
    abort?.abort();
  },
};

export type SimApi = typeof api;
Comlink.expose(api);
