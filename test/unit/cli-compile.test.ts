import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildOnnx, tensor } from '../../src/core/onnx/build';
import { readXModel } from '../../src/core/xmodel/codec';
import { subgraphDevice, tensorFixPoint, xBig, xBytes, xString } from '../../src/core/xmodel/types';

const INT = 'test/fixtures/xmodel/pointpillars_int.xmodel';

function cli(args: string[]) {
  const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', 'compile', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n') };
}

describe('fixpoint compile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fixpoint-compile-'));

  it('--json gives the subgraphs, ops, fix points and CPU reasons of an _int xmodel', () => {
    const out = execFileSync('npx', ['tsx', 'src/cli/main.ts', 'compile', INT, '--arch', 'DPUCZDX8G_ISA1_B4096', '--json', '--out', dir], { encoding: 'utf8' });
    const j = JSON.parse(out);
    expect(j.target).toBe('DPUCZDX8G_ISA1_B4096');
    expect(j.device_subgraph_number).toBe(8);
    expect(j.dpu_subgraph_number).toBe(2);
    const dpu = j.subgraphs.filter((s: { device: string }) => s.device === 'DPU');
    expect(dpu.map((s: { workload: number }) => s.workload)).toEqual([768000000, 10159064064]);
    expect(dpu[0].inputs).toEqual([{ name: 'VoxelNet__input_0', shape: [1, 12000, 100, 4], fix_point: 6 }]);
    // ops are the source model's op names, fix ops included
    expect(dpu[0].ops).toContain('VoxelNet__voxel_feature_extractor_pfn_layers_0_conv_weight_fix');
    expect(j.subgraphs[0]).toMatchObject({ device: 'USER', ops: ['VoxelNet__input_0', 'VoxelNet__input_0_fix'] });
    expect(j.cpu_ops.find((c: { op: string }) => c.op === 'PPScatterV2').reason).toMatch(/not supported/);

    // --out: a compiled xmodel our reader takes back, and deployment scripts with this model's fix points
    const x = readXModel(new Uint8Array(readFileSync(join(dir, 'pointpillars.xmodel'))));
    expect(x.root.children.map(subgraphDevice)).toEqual(j.subgraphs.map((s: { device: string }) => s.device));
    const d = x.root.children.find((s) => subgraphDevice(s) === 'DPU')!;
    expect(xString(d.attrs, 'dpu_name')).toBe('DPUCZDX8G_ISA1_B4096');
    expect(xBig(d.attrs, 'dpu_fingerprint')).toBe(0x101000056010407n);
    const w = x.ops.find((o) => o.name === 'VoxelNet__rpn_block1_1_weight')!;
    expect(w.type).toBe('const-fix');
    expect(w.output.shape).toEqual([32, 3, 3, 64]);
    expect(xBytes(w.attrs, 'data')!.length).toBe(32 * 3 * 3 * 64);
    expect(tensorFixPoint(w.output)).toBe(7); // the quantizer's fix point for this weight (as in the real compile)
    expect(x.ops.filter((o) => o.type === 'upload').length).toBe(2);
    const vart = readFileSync(join(dir, 'pointpillars_vart.py'), 'utf8');
    expect(vart).toContain('def main(image, xmodel="pointpillars.xmodel")');
    expect(vart).toContain('xir.Graph.deserialize(xmodel)');
    expect(vart).toContain('get_root_subgraph()');
    expect(vart).toContain('vart.Runner.create_runner');
    expect(vart).toContain('get_attr("fix_point")');
    expect(vart).toContain('input[0] VoxelNet__input_0  shape (1, 12000, 100, 4)  fix_point 6');
    const pynq = readFileSync(join(dir, 'pointpillars_pynq.py'), 'utf8');
    expect(pynq).toContain('DpuOverlay("dpu.bit")');
    expect(pynq).toContain('overlay.load_model("pointpillars.xmodel")');
  });

  it('prints the summary line and a table without --json; --board and --arch-json work', () => {
    const r = cli([INT, '--board', 'KV260']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Total device subgraph number 8, DPU subgraph number 2');
    expect(r.out).toMatch(/PPScatterV2: not supported by DPUCZDX8G/);
    const arch = join(dir, 'arch.json');
    writeFileSync(arch, '{"fingerprint":"0x101000056010407"}');
    expect(cli([INT, '--arch-json', arch]).out).toContain('DPUCZDX8G_ISA1_B4096');
  });

  it('compiles an ONNX model; --config switches conversions', () => {
    const j = JSON.parse(cli(['public/models/yolox_nano.onnx', '--arch', 'B4096', '--json']).out);
    const cfg = join(dir, 'quant.json');
    writeFileSync(cfg, JSON.stringify({ convert_silu_to_hswish: true }));
    const k = JSON.parse(cli(['public/models/yolox_nano.onnx', '--arch', 'B4096', '--json', '--config', cfg]).out);
    expect(k.dpu_subgraph_number * 10).toBeLessThan(j.dpu_subgraph_number);
    expect(j.cpu_ops.some((c: { reason: string; fix?: string }) => c.fix === 'enable SiLU→hard-swish')).toBe(true);
    // the reason itself says what to do
    expect(j.cpu_ops.filter((c: { reason: string }) => c.reason.endsWith('; enable SiLU→hard-swish')).length).toBeGreaterThan(10);
    const sig = k.cpu_ops.find((c: { op: string }) => c.op === 'Sigmoid');
    expect(sig.reason).toBe('Sigmoid: not supported by DPUCZDX8G; enable Sigmoid→hard-sigmoid');
    expect(sig.fix).toBe('enable Sigmoid→hard-sigmoid');
  });

  it('--config convert_leaky_relu_slope moves a LeakyReLU of another slope onto the DPU', () => {
    const W = tensor('float32', [8, 8, 3, 3], new Float32Array(8 * 8 * 9).fill(0.01));
    const onnx = join(dir, 'leaky.onnx');
    writeFileSync(onnx, buildOnnx({
      inputs: { x: ['float32', [1, 8, 16, 16]] }, outputs: ['y'], initializers: { w: W },
      nodes: [
        { op: 'Conv', name: 'c', inputs: ['x', 'w'], outputs: ['a'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'LeakyRelu', name: 'l', inputs: ['a'], outputs: ['b'], attrs: { alpha: 0.2 } },
        { op: 'Conv', name: 'd', inputs: ['b', 'w'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } },
      ],
    }));
    const plain = JSON.parse(cli([onnx, '--arch', 'B4096', '--json']).out);
    expect(plain.cpu_ops.map((c: { name: string }) => c.name)).toContain('l');
    expect(plain.cpu_ops.find((c: { name: string }) => c.name === 'l').reason).toMatch(/slope 0\.2 ≠ 26\/256.*; enable "LeakyReLU slope → 26\/256"/);
    const cfg = join(dir, 'leaky.json');
    writeFileSync(cfg, JSON.stringify({ convert_leaky_relu_slope: true }));
    const conv = JSON.parse(cli([onnx, '--arch', 'B4096', '--json', '--config', cfg]).out);
    expect(conv.cpu_ops.map((c: { name: string }) => c.name)).not.toContain('l');
    expect(conv.dpu_subgraph_number).toBe(1);
    expect(plain.dpu_subgraph_number).toBe(2);
  });

  it('bad input: one line, exit 2', () => {
    for (const args of [[INT], [INT, '--arch', 'B999'], ['nope.xmodel', '--board', 'KV260'], ['public/models/mnist-8.onnx', '--board', 'KV260', '--bogus']]) {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/^error: /);
    }
    const trunc = join(dir, 'trunc.xmodel');
    writeFileSync(trunc, readFileSync(INT).subarray(0, 3000));
    const r = cli([trunc, '--board', 'KV260']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/xmodel/);
  });
});
