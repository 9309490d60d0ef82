// One sample through a prepared simulation, its fake-quant twin and (optionally) the float model with
// every DPU tensor as an extra output: what the Simulate panel and `fixpoint simulate` both show.
import { isAccelerator } from '../compile';
import type { FloatTensor, Model } from '../ir';
import { agreement, type Simulation, type SimRun, type TensorAgreement } from './dpu';
import { createFloatSession, type FloatSession, type OrtOptions } from './float/ort';
import { simReport, type SimReport } from './report';

export type SamplePhase = 'int8' | 'fake-quant' | 'float';

export interface SampleResult {
  readonly run: SimRun;
  readonly agreement: TensorAgreement[];
  readonly report: SimReport;
}

const aborted = () => Object.assign(new Error('simulation cancelled'), { name: 'AbortError' });

export class SampleRunner {
  private float: Promise<FloatSession> | undefined;
  private readonly estimates: ReadonlyMap<string, number>;

  /** `floatModel`: the de-QDQ'd model (src/core/sim/strip-qdq.ts); without it no float reference is run. */
  constructor(readonly sim: Simulation, private readonly floatModel: Model | undefined, private readonly ort: OrtOptions = {}) {
    this.estimates = new Map(sim.compile.subgraphs.filter((s) => isAccelerator(s.device)).map((s) => [s.name, s.cost.seconds]));
  }

  async run(
    feeds: Readonly<Record<string, FloatTensor>>,
    o: { signal?: AbortSignal; float?: boolean; onPhase?: (p: SamplePhase) => void } = {},
  ): Promise<SampleResult> {
    const check = () => { if (o.signal?.aborted) throw aborted(); };
    o.onPhase?.('int8');
    let t = performance.now();
    const run = await this.sim.run(feeds, { signal: o.signal, keepTensors: true });
    const simMs = performance.now() - t;
    check();
    o.onPhase?.('fake-quant');
    t = performance.now();
    const fq = await this.sim.fakeQuant(feeds);
    const fqMs = performance.now() - t;
    check();
    const agree = agreement(run, fq);
    let float: Record<string, FloatTensor> = {};
    let floatMs = 0;
    if (o.float !== false && this.floatModel) {
      o.onPhase?.('float');
      t = performance.now();
      const session = await this.floatSession(run);
      float = await session.run(feeds, [...session.outputNames]);
      floatMs = performance.now() - t;
      check();
    }
    return { run, agreement: agree, report: simReport(run, agree, float, this.estimates, { sim: simMs, fakeQuant: fqMs, float: floatMs }) };
  }

  /** Built once, after the first run tells which DPU tensors exist. */
  private floatSession(run: SimRun): Promise<FloatSession> {
    if (!this.float) {
      const m = this.floatModel!;
      const produced = new Set(m.graph.nodes.flatMap((n) => n.outputs));
      const extra = [...run.tensors.keys()].filter((n) => produced.has(n));
      this.float = createFloatSession(m, { ...this.ort, extraOutputs: extra });
      this.float.catch(() => { this.float = undefined; });
    }
    return this.float;
  }

  async release(): Promise<void> {
    const f = this.float;
    this.float = undefined;
    await Promise.allSettled([f?.then((s) => s.release()), this.sim.release()]);
  }
}
