// A project file round-trips (model, state, calibration files) and a damaged one is refused by name.
import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { InputError } from '../../src/core/errors';
import { packProject, unpackProject } from '../../src/ui/project/bundle';
import { lastStepOf, type SavedState } from '../../src/ui/project/saved';
import { tooBigMessage } from '../../src/ui/tabMemory';

const state: SavedState = {
  version: 1, activeStep: 'compile', quantConfig: '{"quantize_strategy":"pof2s"}', overrides: { conv1: { fixPoint: 5 } }, quantized: true,
  compileTarget: { kind: 'arch', arch: 'DPUCZDX8G_ISA1_B512' },
  conversions: { siluToHardSwish: true, sigmoidToHardSigmoid: false, leakyReluToDpuSlope: false, relu6ToRelu: false },
  compiled: true, simSource: 'eval', simIndex: 3, simReport: null, simInputLabel: null,
};

describe('project file', () => {
  it('round-trips model bytes, state and calibration files', () => {
    const model = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255);
    const calib = { files: [{ name: 'a.npy', bytes: new Uint8Array([1, 2, 3]) }, { name: 'b<script>.png', bytes: new Uint8Array([4]) }], preprocess: { scale: 0.5 } };
    const b = unpackProject(packProject({ name: 'net.onnx', model, state, calib }), 'net.fixpoint');
    expect(b.name).toBe('net.onnx');
    expect([...b.model]).toEqual([...model]);
    expect(b.state).toEqual(state);
    expect(b.calib?.preprocess).toEqual({ scale: 0.5 });
    expect(b.calib?.files.map((f) => [f.name, [...f.bytes]])).toEqual([['a.npy', [1, 2, 3]], ['b<script>.png', [4]]]);
    expect(unpackProject(packProject({ name: 'n.onnx', model, state, calib: null }), 'x').calib).toBeNull();
  });

  it('keeps an arch.json target\'s BigInt fingerprint', () => {
    const target = { kind: 'archJson', text: '{}', fileName: 'arch.json', config: { fingerprint: 0x101000016010407n } } as unknown as SavedState['compileTarget'];
    const b = unpackProject(packProject({ name: 'n.onnx', model: new Uint8Array(1), state: { ...state, compileTarget: target }, calib: null }), 'x');
    expect(b.state.compileTarget).toEqual(target);
  });

  it('refuses what is not a project, naming the file and the problem', () => {
    expect(() => unpackProject(new Uint8Array([1, 2, 3]), 'x.fixpoint')).toThrow('x.fixpoint: not a Fixpoint project (not a zip archive)');
    expect(() => unpackProject(zipSync({ model: new Uint8Array(1) }), 'y.fixpoint')).toThrow('y.fixpoint: not a Fixpoint project (project.json or model missing)');
    expect(() => unpackProject(zipSync({ model: new Uint8Array(1), 'project.json': strToU8('{') }), 'z.fixpoint')).toThrow('z.fixpoint: project.json is not valid JSON');
    expect(() => unpackProject(zipSync({ model: new Uint8Array(1), 'project.json': strToU8('{"format":"other"}') }), 'w.fixpoint')).toThrow(/not a version 1 Fixpoint project/);
    const missing = zipSync({ model: new Uint8Array(1), 'project.json': strToU8(JSON.stringify({ format: 'fixpoint-project', version: 1, name: 'm', state, calib: { names: ['a'], preprocess: null } })) });
    expect(() => unpackProject(missing, 'v.fixpoint')).toThrow('v.fixpoint: calibration file 0 is missing');
    expect(() => unpackProject(new Uint8Array([0]), 'u.fixpoint')).toThrow(InputError);
  });

  it('names the furthest step done', () => {
    expect(lastStepOf(state, true)).toBe('compiled');
    expect(lastStepOf({ ...state, compiled: false }, true)).toBe('quantized');
    expect(lastStepOf({ ...state, compiled: false, quantized: false }, true)).toBe('calibrated');
    expect(lastStepOf({ ...state, compiled: false, quantized: false }, false)).toBe('opened');
  });

  it('refuses a model too large for the tab before opening it', () => {
    expect(tooBigMessage('m.onnx', 100e6, 4e9)).toBeNull();
    expect(tooBigMessage('big.onnx', 1.5e9, 4e9)).toBe('big.onnx: 1500 MB is too large for this tab (opening it needs about 5400 MB, the tab can hold about 4000 MB); use the fixpoint command line for it');
  });
});
