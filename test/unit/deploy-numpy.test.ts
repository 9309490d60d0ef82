// The deployment scripts' CPU steps are NumPy that computes the model: run in Python (NumPy) with a stand-in
// for the DPU steps (their outputs taken from this tool's own float run), every CPU tensor must equal this
// tool's float interpreter. Skipped without python3 + NumPy (Debian: python3-numpy).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layersOf, NO_CONVERSIONS, partition, targetByArch } from '../../src/core/compile';
import { cpuStepCode, NUMPY_HELPERS } from '../../src/core/compile/cpu-numpy';
import { cpuStubs, vartPython } from '../../src/core/compile/deploy';
import { parseNpy, writeNpy } from '../../src/core/data/npy';
import { deployTask } from '../../src/core/compile/deploy-io';
import { readOnnx } from '../../src/core/onnx/reader';
import { buildModel, tensor } from '../../src/core/onnx/build';
import { runFloat } from '../../src/core/sim/float/interpreter';
import { pythonWith } from '../python';

const PY = pythonWith('numpy');
const hasNumpy = PY !== undefined;
const dir = mkdtempSync(join(tmpdir(), 'fixpoint-deploy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Loads the script with stand-in vart/xir modules, runs STEPS (a DPU step fills its outputs from the
// reference), prints max |script − reference| per tensor the script computed.
const HARNESS = `
import json, sys, types
import numpy as np
sys.modules["vart"] = types.ModuleType("vart")
sys.modules["xir"] = types.ModuleType("xir")
script, ref = sys.argv[1], sys.argv[2]
ns = {"__name__": "board_script"}
exec(compile(open(script).read(), script, "exec"), ns)
index = json.load(open(ref + "/index.json"))
def load(n):
    a = np.load(ref + "/" + index[n])
    return np.transpose(a, (0, 2, 3, 1)) if a.ndim == 4 else a
values = {n: load(n) for n in ns["GRAPH_INPUTS"]}
given = set(values)
for kind, step in ns["STEPS"]:
    if kind == "dpu":
        for n in ns["DPU_SUBGRAPHS"][step]["outputs"]:
            values[n] = load(n)
            given.add(n)
    else:
        step(values)
print(json.dumps({n: float(np.max(np.abs(values[n] - load(n)))) for n in values if n not in given and n in index}))
`;

function cpuOpsNet() {
  const r = (n: number) => Float32Array.from({ length: n }, (_v, i) => Math.sin(i * 1.7) * 0.5);
  return buildModel({
    inputs: { x: ['float32', [1, 4, 8, 8]] },
    outputs: ['t', 'f', 'sm', 'y'],
    initializers: {
      st: tensor('int64', [1], [1]), en: tensor('int64', [1], [3]), ax1: tensor('int64', [1], [1]),
      s0: tensor('int64', [1], [0]), e8: tensor('int64', [1], [8]), ax2: tensor('int64', [1], [2]), two: tensor('int64', [1], [2]),
      scales: tensor('float32', [4], [1, 1, 2, 1]), shp: tensor('int64', [3], [1, 6, 64]),
      w: tensor('float32', [4, 4, 3, 3], r(144)), b: tensor('float32', [4], r(4)),
    },
    nodes: [
      { op: 'Sigmoid', name: 'sig', inputs: ['x'], outputs: ['s'] },
      { op: 'Slice', name: 'slice_c', inputs: ['s', 'st', 'en', 'ax1'], outputs: ['sl'] },
      { op: 'Slice', name: 'slice_h', inputs: ['x', 's0', 'e8', 'ax2', 'two'], outputs: ['sl2'] },
      { op: 'Resize', name: 'up', inputs: ['sl2', '', 'scales'], outputs: ['u'], attrs: { mode: 'nearest' } },
      { op: 'Mul', name: 'mul', inputs: ['s', 'x'], outputs: ['m'] },
      { op: 'Add', name: 'add', inputs: ['m', 'u'], outputs: ['a'] },
      { op: 'MaxPool', name: 'pool', inputs: ['a'], outputs: ['mp'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
      { op: 'Concat', name: 'cat', inputs: ['sl', 's'], outputs: ['c'], attrs: { axis: 1 } },
      { op: 'Transpose', name: 'tr', inputs: ['c'], outputs: ['t'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'Flatten', name: 'flat', inputs: ['mp'], outputs: ['f'] },
      { op: 'Reshape', name: 'resh', inputs: ['c', 'shp'], outputs: ['rs'] },
      { op: 'Softmax', name: 'soft', inputs: ['rs'], outputs: ['sm'], attrs: { axis: 2 } },
      // A DPU conv reading a CPU result, and a CPU op after it: CPU → DPU → CPU.
      { op: 'Conv', name: 'conv', inputs: ['a', 'w', 'b'], outputs: ['cv'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Sigmoid', name: 'sig2', inputs: ['cv'], outputs: ['y'] },
    ],
  });
}

describe.skipIf(!hasNumpy)('deployment script CPU steps (python3 + NumPy)', () => {
  it('Slice, Concat, Reshape, Flatten, Transpose, Sigmoid, Softmax, Mul, Add, Resize, MaxPool equal the float run', () => {
    const model = cpuOpsNet();
    const r = partition(layersOf({ kind: 'onnx', model }), targetByArch('B4096'), NO_CONVERSIONS);
    expect(r.dpuSubgraphNumber).toBeGreaterThanOrEqual(1);
    expect(cpuStubs(r)).toEqual([]);
    const code = vartPython(r, 'cpu_ops.xmodel');
    expect(code).not.toContain('NotImplementedError(');
    const x = Float32Array.from({ length: 256 }, (_v, i) => Math.cos(i * 0.37) * 2);
    const names = model.graph.nodes.flatMap((n) => n.outputs);
    const ref = runFloat(model, { x: { shape: [1, 4, 8, 8], data: x } }, { outputs: names });
    const index: Record<string, string> = { x: 'x.npy' };
    writeFileSync(join(dir, 'x.npy'), writeNpy({ dtype: 'float32', shape: [1, 4, 8, 8], data: x }));
    for (const [n, t] of Object.entries(ref)) {
      index[n] = `${n}.npy`;
      writeFileSync(join(dir, index[n]), writeNpy({ dtype: 'float32', shape: t.shape, data: t.data }));
    }
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
    writeFileSync(join(dir, 'script.py'), code);
    writeFileSync(join(dir, 'harness.py'), HARNESS);
    const p = spawnSync(PY!, [join(dir, 'harness.py'), join(dir, 'script.py'), dir], { encoding: 'utf8' });
    expect(p.stderr).toBe('');
    const worst = JSON.parse(p.stdout) as Record<string, number>;
    // Every op above ran on the CPU in the script (the conv on the stand-in DPU), within float32 rounding.
    for (const t of ['s', 'sl', 'sl2', 'm', 'c', 't', 'rs', 'sm', 'y']) expect(worst[t], t).toBeLessThan(1e-5);
    expect(Object.keys(worst)).not.toContain('cv');

    // Resize, Add, MaxPool and Flatten landed on the DPU here; their generators run the same way when a
    // model puts them on the CPU: the DPU subgraph's ops as one CPU step (the conv has no CPU generator).
    const dpu = r.subgraphs.find((x) => x.device === 'DPU')!;
    const ops = cpuStepCode(r, dpu);
    expect(ops.stubs).toEqual(['Conv "conv"']);
    const asCpu = ['import numpy as np', NUMPY_HELPERS, '', 'def step(values):',
      ...ops.lines.filter((l) => !l.startsWith('raise ')).map((l) => `    ${l}`), '',
      `GRAPH_INPUTS = ${JSON.stringify(dpu.inputs.map((i) => i.name))}`, 'DPU_SUBGRAPHS = []', 'STEPS = [("cpu", step)]', ''].join('\n');
    writeFileSync(join(dir, 'as_cpu.py'), asCpu);
    const a = spawnSync(PY!, [join(dir, 'harness.py'), join(dir, 'as_cpu.py'), dir], { encoding: 'utf8' });
    expect(a.stderr).toBe('');
    const w2 = JSON.parse(a.stdout) as Record<string, number>;
    for (const t of ['u', 'a', 'mp', 'f']) expect(w2[t], t).toBeLessThan(1e-5);
    // The comparison can fail: a wrong axis is caught.
    const broken = code.replace('], axis=3)', '], axis=2)');
    expect(broken).not.toBe(code);
    writeFileSync(join(dir, 'script.py'), broken);
    const q = spawnSync(PY!, [join(dir, 'harness.py'), join(dir, 'script.py'), dir], { encoding: 'utf8' });
    expect(q.status).not.toBe(0);
  });
});

/** HardSigmoid, PRelu, GELU (exact and tanh) and bilinear Resize in each coordinate mode, all on the CPU. */
function moreCpuOpsNet() {
  const modes = ['half_pixel', 'align_corners', 'asymmetric', 'pytorch_half_pixel'];
  return buildModel({
    opset: 20,
    inputs: { x: ['float32', [1, 3, 6, 8]] },
    outputs: ['hs', 'pr', 'pr1', 'ge', 'gt', ...modes.map((m) => `up_${m}`), 'down'],
    initializers: {
      slope: tensor('float32', [3, 1, 1], [0.1, -0.3, 0.7]), slope1: tensor('float32', [1], [0.25]),
      sizes: tensor('int64', [4], [1, 3, 11, 13]), sizes_down: tensor('int64', [4], [1, 3, 4, 5]),
    },
    nodes: [
      { op: 'HardSigmoid', name: 'hsig', inputs: ['x'], outputs: ['hs'], attrs: { alpha: 0.25, beta: 0.4 } },
      { op: 'PRelu', name: 'prelu', inputs: ['x', 'slope'], outputs: ['pr'] },
      { op: 'PRelu', name: 'prelu1', inputs: ['x', 'slope1'], outputs: ['pr1'] },
      { op: 'Gelu', name: 'gelu', inputs: ['x'], outputs: ['ge'] },
      { op: 'Gelu', name: 'gelu_tanh', inputs: ['x'], outputs: ['gt'], attrs: { approximate: 'tanh' } },
      ...modes.map((m) => ({ op: 'Resize', name: `resize_${m}`, inputs: ['x', '', '', 'sizes'], outputs: [`up_${m}`], attrs: { mode: 'linear', coordinate_transformation_mode: m } })),
      { op: 'Resize', name: 'resize_down', inputs: ['x', '', '', 'sizes_down'], outputs: ['down'], attrs: { mode: 'linear' } },
    ],
  });
}

describe.skipIf(!hasNumpy)('deployment script CPU steps: HardSigmoid, PRelu, GELU, bilinear Resize (python3 + NumPy)', () => {
  it('equal the float run, wherever the partition put them', () => {
    const model = moreCpuOpsNet();
    const r = partition(layersOf({ kind: 'onnx', model }), targetByArch('B4096'), NO_CONVERSIONS);
    // Every layer's generator, as one CPU step (ops the DPU would take run the same code on the CPU).
    const lines: string[] = [];
    for (const s of r.subgraphs.filter((x) => x.device !== 'USER')) {
      const c = cpuStepCode(r, s);
      expect(c.stubs).toEqual([]);
      lines.push(...c.lines);
    }
    expect(cpuStubs(r)).toEqual([]);
    const x = Float32Array.from({ length: 144 }, (_v, i) => Math.sin(i * 0.73) * 4);
    const names = model.graph.nodes.flatMap((n) => n.outputs);
    const ref = runFloat(model, { x: { shape: [1, 3, 6, 8], data: x } }, { outputs: names });
    const sub = join(dir, 'more');
    mkdirSync(sub, { recursive: true });
    const index: Record<string, string> = { x: 'x.npy' };
    writeFileSync(join(sub, 'x.npy'), writeNpy({ dtype: 'float32', shape: [1, 3, 6, 8], data: x }));
    for (const [n, t] of Object.entries(ref)) {
      index[n] = `${n}.npy`;
      writeFileSync(join(sub, index[n]), writeNpy({ dtype: 'float32', shape: t.shape, data: t.data }));
    }
    writeFileSync(join(sub, 'index.json'), JSON.stringify(index));
    const code = ['import numpy as np', NUMPY_HELPERS, '', 'def step(values):', ...lines.map((l) => `    ${l}`), '',
      'GRAPH_INPUTS = ["x"]', 'DPU_SUBGRAPHS = []', 'STEPS = [("cpu", step)]', ''].join('\n');
    writeFileSync(join(sub, 'script.py'), code);
    writeFileSync(join(sub, 'harness.py'), HARNESS);
    const p = spawnSync(PY!, [join(sub, 'harness.py'), join(sub, 'script.py'), sub], { encoding: 'utf8' });
    expect(p.stderr).toBe('');
    const worst = JSON.parse(p.stdout) as Record<string, number>;
    for (const t of names) expect(worst[t], t).toBeLessThan(2e-6 * 8);
    // The comparison can fail: asymmetric sampling in place of half_pixel is caught.
    writeFileSync(join(sub, 'script.py'), code.replace('"half_pixel")', '"asymmetric")'));
    const q = spawnSync(PY!, [join(sub, 'harness.py'), join(sub, 'script.py'), sub], { encoding: 'utf8' });
    expect((JSON.parse(q.stdout) as Record<string, number>).up_half_pixel).toBeGreaterThan(0.01);
  });
});

/** Loads a generated script with stand-in vart/xir modules and runs `body` (Python) with it as `s`; returns stdout. */
function withScript(code: string, body: string): { out: string; err: string } {
  writeFileSync(join(dir, 'io_script.py'), code);
  const runner = `import sys, types, json\nimport numpy as np\nsys.modules["vart"] = types.ModuleType("vart")\nsys.modules["xir"] = types.ModuleType("xir")\n` +
    `s = {"__name__": "board_script"}\nexec(compile(open(${JSON.stringify(join(dir, 'io_script.py'))}).read(), "script", "exec"), s)\n${body}\n`;
  const p = spawnSync(PY!, ['-c', runner], { encoding: 'utf8', cwd: dir });
  return { out: p.stdout, err: p.stderr };
}

const FMNIST = 'public/models/fmnist_seed000.onnx';
describe.skipIf(!hasNumpy || !existsSync(FMNIST))('deployment script input and read-out (python3 + NumPy)', () => {
  const model = readOnnx(new Uint8Array(readFileSync(FMNIST)));
  const r = partition(layersOf({ kind: 'onnx', model }), targetByArch('B4096'), NO_CONVERSIONS);

  it('a classifier: the .npy input goes NHWC, the read-out is the top-5 by softmax, as the float run ranks them', () => {
    expect(deployTask(r)).toBe('classify');
    const code = vartPython(r, 'fmnist.xmodel', { raw: true });
    const all = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000.npy')));
    const x = Float32Array.from((all.data as Uint8Array).subarray(0, 784));
    writeFileSync(join(dir, 'sample.npy'), writeNpy({ dtype: 'float32', shape: [1, 1, 28, 28], data: x }));
    const logits = runFloat(model, { [model.graph.inputs[0].name]: { shape: [1, 1, 28, 28], data: x } })[model.graph.outputs[0].name].data;
    const { out, err } = withScript(code, [
      'feeds, placement = s["load_input"]("sample.npy")',
      'v = feeds[s["GRAPH_INPUTS"][0]]',
      'print(json.dumps({"shape": list(v.shape), "first_row": v[0, 0, :, 0].tolist(), "placement": placement}))',
      `s["report"]({s["GRAPH_OUTPUTS"][0]: np.array(${JSON.stringify(Array.from(logits))}, np.float32).reshape(1, 10)})`,
    ].join('\n'));
    expect(err).toBe('');
    const [first, ...lines] = out.trim().split('\n');
    const j = JSON.parse(first);
    expect(j.shape).toEqual([1, 28, 28, 1]);
    expect(j.first_row).toEqual(Array.from(x.subarray(0, 28)));
    expect(j.placement).toBeNull();
    const want = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b).slice(0, 5);
    expect(lines.map((l) => Number(/^class (\d+) p=/.exec(l)![1]))).toEqual(want);
    const p = lines.map((l) => Number(/p=([\d.]+)/.exec(l)![1]));
    const m = Math.max(...logits), z = Array.from(logits).reduce((a, v) => a + Math.exp(v - m), 0);
    expect(p[0]).toBeCloseTo(Math.exp(logits[want[0]] - m) / z, 4);
  });

  it('YOLOX: decode by grid/stride, best class per anchor, score ≥ 0.3, per-class NMS at 0.45', () => {
    const yolox = 'public/models/yolox_nano.onnx';
    if (!existsSync(yolox)) return;
    const ym = readOnnx(new Uint8Array(readFileSync(yolox)));
    const yr = partition(layersOf({ kind: 'onnx', model: ym }), targetByArch('B4096'), NO_CONVERSIONS);
    expect(deployTask(yr)).toBe('detect-yolox');
    const code = vartPython(yr, 'yolox.xmodel');
    // Anchor 0 (stride 8, cell 0,0) and anchor 1 (cell 1,0, shifted back to the same box): class 3, scores
    // 0.72 and 0.63 → the second is suppressed; anchor 2: the same box for class 5 (0.5) stays; anchor 3
    // scores 0.2 < 0.3. Anchor 2704 is the first of stride 16: cx = (0.5 + 0)·16.
    const { out, err } = withScript(code, [
      'o = np.zeros((1, 3549, 85), np.float32)',
      'o[0, 0, :6] = [0.5, 0.5, 0, 0, 0.9, 0]; o[0, 0, 5 + 3] = 0.8',
      'o[0, 1, :5] = [-0.5, 0.5, 0, 0, 0.9]; o[0, 1, 5 + 3] = 0.7',
      'o[0, 2, :5] = [-1.5, 0.5, 0, 0, 1.0]; o[0, 2, 5 + 5] = 0.5',
      'o[0, 3, :5] = [0.5, 0.5, 0, 0, 0.5]; o[0, 3, 5 + 1] = 0.4',
      'o[0, 2704, :5] = [0.5, 0.5, np.log(2), 0, 0.6]; o[0, 2704, 5 + 7] = 0.6',
      `s["report"]({s["GRAPH_OUTPUTS"][0]: o})`,
    ].join('\n'));
    expect(err).toBe('');
    expect(out.trim().split('\n')).toEqual([
      'class 3 score 0.720 box 0.0 0.0 8.0 8.0',
      'class 5 score 0.500 box 0.0 0.0 8.0 8.0',
      'class 7 score 0.360 box -8.0 0.0 24.0 16.0',
    ]);
  });
});
