// Per-subgraph progress of a simulation run (what the Simulate panel shows while it runs) and Cancel between
// subgraphs, on a net with a CPU subgraph between two DPU subgraphs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dpuczdx8g } from '../../src/core/compile';
import { parseQuantConfig } from '../../src/core/quant/config';
import { exportQdq } from '../../src/core/quant/qdq';
import { quantizeModel } from '../../src/core/quant/quantize';
import { prepareSimulation, type Simulation, type SubgraphProgress } from '../../src/core/sim/dpu';
import { subgraphPhase } from '../../src/core/sim/report';
import { SampleRunner } from '../../src/core/sim/sample';
import { cpuBetweenNet, randomInputs } from './dpu-sim-nets';

describe('subgraph progress', () => {
  const inputs = randomInputs(10).map((d) => d.map((v) => v * 4 - 2));
  const feedsOf = (d: Float32Array) => ({ x: { shape: [1, 3, 16, 16], data: d } });
  let sim: Simulation;
  beforeAll(async () => {
    const r = await quantizeModel(cpuBetweenNet(), inputs.slice(0, 8).map(feedsOf), parseQuantConfig({}), { skipEvaluation: true });
    sim = await prepareSimulation({ kind: 'onnx', model: exportQdq(r.model, r.tensors).model }, dpuczdx8g(4096));
  }, 60_000);
  afterAll(async () => { await sim?.release(); });

  it('reports each DPU and CPU subgraph as it starts, k of n, in run order, and the result is unchanged', async () => {
    const seen: SubgraphProgress[] = [];
    const r = await sim.run(feedsOf(inputs[8]), { onSubgraph: (p) => seen.push({ ...p }) });
    const plain = await sim.run(feedsOf(inputs[8]));
    expect(seen.map((p) => [p.index, p.count, p.name, p.device])).toEqual(r.subgraphs.map((s, i) => [i + 1, r.subgraphs.length, s.name, s.device]));
    expect(seen.map((p) => p.device)).toEqual(['DPU', 'CPU', 'CPU', 'DPU', 'CPU']);
    for (const [k, o] of Object.entries(plain.outputs)) expect(r.outputs[k].value.data).toEqual(o.value.data);
    expect(subgraphPhase(seen[1])).toBe(`int8: subgraph 2 of 5 (CPU) ${seen[1].name}`);
  });

  it('a cancel during a subgraph stops the run before the next one (AbortError), through the sample runner too', async () => {
    const ctl = new AbortController();
    const seen: number[] = [];
    await expect(sim.run(feedsOf(inputs[9]), { signal: ctl.signal, onSubgraph: (p) => { seen.push(p.index); if (p.index === 2) ctl.abort(); } }))
      .rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual([1, 2]);
    const runner = new SampleRunner(sim, undefined);
    const ctl2 = new AbortController();
    const phases: string[] = [];
    await expect(runner.run(feedsOf(inputs[9]), {
      signal: ctl2.signal, onPhase: (p) => phases.push(p), onSubgraph: (p) => { phases.push(subgraphPhase(p)); if (p.index === 1) ctl2.abort(); },
    })).rejects.toMatchObject({ name: 'AbortError' });
    expect(phases).toEqual(['int8', expect.stringMatching(/^int8: subgraph 1 of 5 \(DPU\) /)]);
  });
});
