// The generated deployment scripts: every DPU subgraph in order, NumPy CPU steps (an op with no generator a named stub), per-tensor scales in
// code, the vai_c_xir limitation, and valid Python.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { layersOf, NO_CONVERSIONS, partition, targetByArch, targetByBoard } from '../../src/core/compile';
import { boardCompile, cpuStubs, pynqPython, vartPython } from '../../src/core/compile/deploy';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { readXModel } from '../../src/core/xmodel/codec';
import { pythonWith } from '../python';

// A quantizer output with real fix points whose KV260 partition has two DPU subgraphs and a CPU region
// (transpose, PPScatterV2, transpose) between them.
const pp = partition(
  layersOf({ kind: 'xmodel', xmodel: readXModel(new Uint8Array(readFileSync('test/fixtures/xmodel/pointpillars_int.xmodel'))) }),
  targetByBoard('KV260'),
);
const ppVart = vartPython(pp, 'pointpillars.xmodel');
const ppPynq = pynqPython(pp, 'pointpillars.xmodel');

const PY = pythonWith();
const hasPython = PY !== undefined;

/** ast.parse of the script: undefined when it parses, else Python's error. */
function pythonSyntaxError(code: string): string | undefined {
  const r = spawnSync(PY!, ['-c', 'import ast,sys; ast.parse(sys.stdin.read())'], { input: code, encoding: 'utf8' });
  return r.status === 0 ? undefined : r.stderr.trim().split('\n').pop();
}

describe('deployment scripts', () => {
  const dpu = pp.subgraphs.filter((s) => s.device === 'DPU');

  it('the fixture has two DPU subgraphs with a CPU step between them', () => {
    expect(dpu).toHaveLength(2);
    const [a, b] = dpu.map((s) => pp.subgraphs.indexOf(s));
    expect(pp.subgraphs.slice(a + 1, b).some((s) => s.device === 'CPU')).toBe(true);
  });

  it('runs both DPU subgraphs, in topological order, with the CPU stub between them', () => {
    for (const code of [ppVart, ppPynq]) {
      const table = code.indexOf('DPU_SUBGRAPHS = [');
      const first = code.indexOf(`{"name": "${dpu[0].name}"`, table);
      const second = code.indexOf(`{"name": "${dpu[1].name}"`, table);
      expect(first).toBeGreaterThan(table);
      expect(second).toBeGreaterThan(first);
      const steps = code.slice(code.indexOf('STEPS = ['));
      const cpuIndex = pp.subgraphs.findIndex((s, i) => s.device === 'CPU' && i > pp.subgraphs.indexOf(dpu[0]));
      expect(steps.indexOf('("dpu", 0)')).toBeLessThan(steps.indexOf(`("cpu", cpu_step_${cpuIndex})`));
      expect(steps.indexOf(`("cpu", cpu_step_${cpuIndex})`)).toBeLessThan(steps.indexOf('("dpu", 1)'));
      // One runner per DPU subgraph, not just the first.
      expect(code).toContain('runners = [vart.Runner.create_runner(s, "run") for s in subgraphs]');
      expect(code).not.toMatch(/subgraphs\[0\]/);
    }
  });

  it('each DPU input and output has its shape, fix_point and scale = 2**fix_point in code', () => {
    for (const s of dpu)
      for (const p of [...s.inputs, ...s.outputs]) {
        expect(p.fixPoint).toBeDefined();
        expect(ppVart).toContain(`"${p.name}": {"shape": (${p.shape.join(', ')}), "fix_point": ${p.fixPoint}, "scale": 2.0 ** ${p.fixPoint}}`);
      }
    expect(ppVart).toContain('"VoxelNet__input_0": {"shape": (1, 12000, 100, 4), "fix_point": 6, "scale": 2.0 ** 6}');
    // The scales are applied per tensor: inputs by 2^fp into int8, outputs by 2^-fp back to float.
    expect(ppVart).toContain('np.clip(np.floor(x * scale + 0.5), -128, 127).astype(np.int8)'); // DPU_ROUND, as the simulator quantizes inputs
    expect(ppVart).toContain('return q.astype(np.float32) / scale');
    expect(ppVart).toContain('to_int8(values[n], scale_of(n, t))');
    expect(ppVart).toContain('values[n] = to_float(b, scale_of(n, t))');
  });

  it('a CPU step with an op that has no generator (PPScatterV2) names its ops, tensors and shapes and raises there', () => {
    const cpu = pp.subgraphs.find((s) => s.layers.some((i) => pp.layers[i].layer.op === 'PPScatterV2'))!;
    const fn = `def cpu_step_${pp.subgraphs.indexOf(cpu)}(values):`;
    const body = ppVart.slice(ppVart.indexOf(fn), ppVart.indexOf('\n\n\n', ppVart.indexOf(fn)));
    expect(body).toMatch(/PPScatterV2 "VoxelNet__VoxelNet_input_4" on .* -> VoxelNet__VoxelNet_input_4 \(1, 64, 496, 432\) — PPScatterV2: not supported/);
    for (const p of [...cpu.inputs, ...cpu.outputs]) expect(body).toContain(`${p.name} (${p.shape.join(', ')})`);
    expect(body).toContain('raise NotImplementedError(');
  });

  it('states that the exported .xmodel has no machine code and gives the vai_c_xir command with the fingerprint', () => {
    const b = boardCompile(pp, 'pointpillars.xmodel');
    expect(b.archJson).toBe('{"fingerprint": "0x101000056010407"}');
    expect(b.command).toBe('vai_c_xir -x pointpillars_int.xmodel -a arch.json -o board -n pointpillars');
    for (const code of [ppVart, ppPynq]) {
      const head = code.slice(0, code.indexOf('\nimport '));
      expect(head).toContain('NO DPU machine code');
      expect(head).toContain(`echo '${b.archJson}' > arch.json`);
      expect(head).toContain(b.command);
    }
    const b512 = boardCompile(partition(pp.graph, targetByArch('B512')), 'pointpillars.xmodel');
    expect(b512.archJson).toBe('{"fingerprint": "0x101000056010400"}');
  });

  it.skipIf(!hasPython)('is valid Python (ast.parse)', () => {
    expect(pythonSyntaxError(ppVart)).toBeUndefined();
    expect(pythonSyntaxError(ppPynq)).toBeUndefined();
    // The check itself can fail.
    expect(pythonSyntaxError('def f(:\n')).toMatch(/SyntaxError/);
  });

  it('names a SiLU as Sigmoid·Mul and a float model\'s fix points as unknown', () => {
    const w = tensor('float32', [4, 4, 1, 1], new Float32Array(16).fill(0.1));
    const model = buildModel({
      inputs: { x: ['float32', [1, 4, 8, 8]] },
      outputs: ['y'],
      initializers: { w },
      nodes: [
        { op: 'Conv', name: 'c1', inputs: ['x', 'w'], outputs: ['a'] },
        { op: 'Sigmoid', name: 's', inputs: ['a'], outputs: ['sa'] },
        { op: 'Mul', name: 'm', inputs: ['a', 'sa'], outputs: ['b'] },
        { op: 'Conv', name: 'c2', inputs: ['b', 'w'], outputs: ['y'] },
      ],
    });
    const r = partition(layersOf({ kind: 'onnx', model }), targetByArch('B4096'), NO_CONVERSIONS);
    expect(r.dpuSubgraphNumber).toBe(2);
    const code = vartPython(r, 'tiny.xmodel');
    expect(code).toMatch(/Sigmoid·Mul \(SiLU\) "m" on a \(1, 8, 8, 4\) -> b \(1, 8, 8, 4\)/);
    expect(code).toContain('"a": {"shape": (1, 8, 8, 4), "fix_point": None, "scale": None}');
    if (hasPython) expect(pythonSyntaxError(code)).toBeUndefined();
  });
});

describe('CPU steps of an XIR quantizer output', () => {
  it('the transposes around PPScatterV2 are NumPy (XIR order), PPScatterV2 alone is a stub', () => {
    expect(cpuStubs(pp)).toEqual(['PPScatterV2 "VoxelNet__VoxelNet_input_4"']);
    expect(ppVart).toMatch(/values\["VoxelNet__VoxelNet__VoxelNet_input_4_swim_tranpose_0"\] = np\.asarray\(np\.transpose\(values\["VoxelNet__VoxelNet_input_4"\], \(0, 2, 3, 1\)\)/);
  });
});
