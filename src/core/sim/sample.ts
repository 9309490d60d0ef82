// One sample through a prepared simulation, its fake-quant twin and (optionally) the float model with
// every DPU tensor as an extra output: what the Simulate panel and `fixpoint simulate` both show.
import { isAccelerator } from '../compile';
import type { FloatTensor, Model } from '../ir';
import { agreement, type Simulation, type SimRun, type SubgraphProgress, type TensorAgreement } from './dpu';
import { createFloatSession, type FloatSession, type OrtOptions } from './float/ort';
import { simReport, type CostLike, type SimReport } from './report';

export type SamplePhase = 'int8' | 'fake-quant' | 'float';

export interface SampleResult {
  readonly run: SimRun;
  readonly agreement: TensorAgreement[];
  readonly report: SimReport;
  /** The float model's outputs and DPU tensors by the simulator's names (empty without a float run). */
  readonly float: Readonly<Record<string, FloatTensor>>;
  /** The fake-quant run's codes of every DPU tensor (what `agreement` compared with). */
  readonly fakeQuant: ReadonlyMap<string, Int8Array>;
}

const aborted = () => Object.assign(new Error('simulation cancelled'), { name: 'AbortError' });

export class SampleRunner {
  private float: Promise<{ session: FloatSession; names: Map<string, string> }> | undefined;
  private readonly estimates: ReadonlyMap<string, number>;
  private readonly costs: { subgraphs: ReadonlyMap<string, CostLike>; layers: ReadonlyMap<string, CostLike> };

  /**
   * `floatModel`: the float reference (src/core/sim/source.ts); without it no float run. `aliases` gives
   * the other names of a tensor (its Q/DQ copies, the float tensor behind them) for names the float model lacks.
   */
  constructor(
    readonly sim: Simulation, private readonly floatModel: Model | undefined, private readonly ort: OrtOptions = {},
    private readonly aliases: (name: string) => readonly string[] = (n) => [n],
  ) {
    const acc = sim.compile.subgraphs.filter((s) => isAccelerator(s.device));
    this.estimates = new Map(acc.map((s) => [s.name, s.cost.seconds]));
    // The simulator names each DPU layer after the compiled layer, so the per-layer costs key the same way.
    this.costs = {
      subgraphs: new Map(acc.map((s) => [s.name, s.cost])),
      layers: new Map(sim.compile.layers.filter((l) => isAccelerator(l.device)).map((l) => [l.layer.name, l.cost])),
    };
  }

  async run(
    feeds: Readonly<Record<string, FloatTensor>>,
    o: { signal?: AbortSignal; float?: boolean; onPhase?: (p: SamplePhase) => void; onSubgraph?: (p: SubgraphProgress) => void } = {},
  ): Promise<SampleResult> {
    const check = () => { if (o.signal?.aborted) throw aborted(); };
    o.onPhase?.('int8');
    let t = performance.now();
    const run = await this.sim.run(feeds, { signal: o.signal, keepTensors: true, onSubgraph: o.onSubgraph });
    const simMs = performance.now() - t;
    check();
    o.onPhase?.('fake-quant');
    t = performance.now();
    const fq = await this.sim.fakeQuant(feeds);
    const fqMs = performance.now() - t;
    check();
    const agree = agreement(run, fq);
    const float: Record<string, FloatTensor> = {};
    let floatMs = 0;
    if (o.float !== false && this.floatModel) {
      o.onPhase?.('float');
      t = performance.now();
      const { session, names } = await this.floatSession(run);
      const got = await session.run(feeds, [...session.outputNames]);
      // Keyed by the simulator's names (a graph output may be the dequantized copy of a float tensor).
      for (const [simName, floatName] of names) if (got[floatName]) float[simName] = got[floatName];
      // A graph input quantized for the DPU: its float twin is the feed itself.
      for (const n of run.tensors.keys()) if (!float[n] && feeds[n]) float[n] = feeds[n];
      floatMs = performance.now() - t;
      check();
    }
    return { run, agreement: agree, float, fakeQuant: fq, report: simReport(run, agree, float, this.estimates, { sim: simMs, fakeQuant: fqMs, float: floatMs }, this.aliases, this.costs) };
  }

  /** The int8 simulation and the float model's outputs only: what an accuracy evaluation needs. */
  async classify(feeds: Readonly<Record<string, FloatTensor>>): Promise<{ run: SimRun; float: Record<string, FloatTensor> }> {
    // The float session is built from the first run's tensor list: keep them until it exists.
    const run = await this.sim.run(feeds, { keepTensors: !this.float });
    const float: Record<string, FloatTensor> = {};
    if (this.floatModel) {
      const { session, names } = await this.floatSession(run);
      const got = await session.run(feeds, [...session.outputNames]);
      for (const [simName, floatName] of names) if (got[floatName]) float[simName] = got[floatName];
    }
    return { run, float };
  }

  /** Built once, after the first run tells which DPU tensors exist: each simulator name → its float tensor. */
  private floatSession(run: SimRun): Promise<{ session: FloatSession; names: Map<string, string> }> {
    if (!this.float) {
      const m = this.floatModel!;
      const produced = new Set([...m.graph.nodes.flatMap((n) => n.outputs), ...m.graph.outputs.map((o) => o.name)]);
      const names = new Map<string, string>();
      for (const n of [...Object.keys(run.outputs), ...run.tensors.keys()]) {
        const f = this.aliases(n).find((a) => produced.has(a));
        if (f) names.set(n, f);
      }
      const p = createFloatSession(m, { ...this.ort, extraOutputs: [...new Set(names.values())] }).then((session) => ({ session, names }));
      p.catch(() => { if (this.float === p) this.float = undefined; });
      this.float = p;
    }
    return this.float;
  }

  async release(): Promise<void> {
    const f = this.float;
    this.float = undefined;
    await Promise.allSettled([f?.then((s) => s.session.release()), this.sim.release()]);
  }
}
