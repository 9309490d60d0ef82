import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/core/ir';
import { buildModel } from '../../src/core/onnx/build';
import { isKnownOp } from '../../src/core/onnx/ops';
import { readOnnx } from '../../src/core/onnx/reader';
import { toDisplayGraph } from '../../src/core/view/display';
import { SHARED_ONNX } from '../shared';

describe('isKnownOp', () => {
  it('knows the ONNX operator set in the default domain, under either name of it', () => {
    for (const op of ['Conv', 'Relu', 'Scan', 'DequantizeLinear', 'Col2Im', 'RMSNormalization', 'Upsample']) {
      expect(isKnownOp('', op), op).toBe(true);
      expect(isKnownOp('ai.onnx', op), op).toBe(true);
    }
  });
  it('rejects made-up ops in known domains, and ops of another domain', () => {
    expect(isKnownOp('', 'NotARealOp')).toBe(false);
    expect(isKnownOp('com.microsoft', 'TotallyFake')).toBe(false);
    expect(isKnownOp('ai.onnx.ml', 'Conv')).toBe(false);
    expect(isKnownOp('com.microsoft', 'Relu')).toBe(false);
    expect(isKnownOp('', 'conv')).toBe(false); // op types are case-sensitive
    expect(isKnownOp('com.example', 'Conv')).toBe(false);
  });
  it('knows onnxruntime contrib ops, ai.onnx.ml ops and the Vitis quantizer domain', () => {
    for (const op of ['QLinearConv', 'QLinearAdd', 'FusedConv', 'MatMulNBits', 'SkipLayerNormalization']) expect(isKnownOp('com.microsoft', op), op).toBe(true);
    expect(isKnownOp('ai.onnx.ml', 'TreeEnsembleClassifier')).toBe(true);
    expect(isKnownOp('com.vai.quantize', 'VitisQuantizeLinear')).toBe(true);
  });
});

describe('the display graph marks custom ops as unknown', () => {
  it('made-up ops in the default and com.microsoft domains, but not real ones', () => {
    const m = buildModel({
      extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
      inputs: { x: ['float32', [1, 4]] },
      outputs: ['d'],
      nodes: [
        { op: 'Relu', name: 'real', inputs: ['x'], outputs: ['a'] },
        { op: 'NotARealOp', name: 'fake', inputs: ['a'], outputs: ['b'] },
        { op: 'TotallyFake', name: 'msfake', domain: 'com.microsoft', inputs: ['b'], outputs: ['c'] },
        { op: 'FastGelu', name: 'msreal', domain: 'com.microsoft', inputs: ['c'], outputs: ['d'] },
      ],
    });
    const g = toDisplayGraph(m);
    const unknown = Object.fromEntries(g.nodes.filter((n) => n.kind === 'op').map((n) => [n.name, n.unknown]));
    expect(unknown).toEqual({ real: false, fake: true, msfake: true, msreal: false });
  });
});

/** Every default-domain op (bodies included) the ONNX test data and the shared models use is in the list. */
function opsOf(g: Graph, out: Set<string>): Set<string> {
  for (const n of g.nodes) {
    if (!isKnownOp(n.domain, n.opType)) out.add(`${n.domain}::${n.opType}`);
    for (const a of Object.values(n.attrs)) {
      if (a.kind === 'graph') opsOf(a.value, out);
      else if (a.kind === 'graphs') for (const b of a.value) opsOf(b, out);
    }
  }
  return out;
}
function onnxFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) onnxFiles(p, out);
    else if (name.endsWith('.onnx')) out.push(p);
  }
  return out;
}
const TESTDATA = '/usr/share/libonnx-testdata/data';

describe('no real model has an op the list lacks', () => {
  it.skipIf(!existsSync(TESTDATA))('libonnx-testdata', () => {
    const missing = new Set<string>();
    for (const f of onnxFiles(TESTDATA)) {
      let m;
      try { m = readOnnx(new Uint8Array(readFileSync(f))); } catch { continue; }
      opsOf(m.graph, missing);
    }
    expect([...missing]).toEqual([]);
  });
  it.skipIf(!existsSync(SHARED_ONNX))('shared and bundled models', () => {
    const missing = new Set<string>();
    for (const f of [...onnxFiles(SHARED_ONNX), ...onnxFiles('public/models')]) opsOf(readOnnx(new Uint8Array(readFileSync(f))).graph, missing);
    expect([...missing]).toEqual([]);
  });
});
