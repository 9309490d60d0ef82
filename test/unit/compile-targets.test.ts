import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isInputError } from '../../src/core/errors';
import {
  ARCH_NAMES, BOARDS, decodeFingerprint, parseArchJson, targetByArch, targetByArchJson, targetByBoard,
} from '../../src/core/compile/targets';
import { readXModel } from '../../src/core/xmodel/codec';
import { subgraphDevice, xBig, xString } from '../../src/core/xmodel/types';

describe('DPUCZDX8G fingerprints', () => {
  it('decodes the Vitis AI 3.0 and 2.5 B4096 fingerprints field by field', () => {
    const v3 = decodeFingerprint(0x101000056010407n);
    expect(v3).toMatchObject({
      type: 1, isa: 1, archIndex: 7, pixelParallel: 8, channelParallel: 16, size: 4096, aluParallel: 4,
      imageBankGroups: 2, channelAugmentation: true, convLeakyRelu: true, depthwiseLeakyRelu: false, saveArgmax: true,
      name: 'DPUCZDX8G_ISA1_B4096',
    });
    const v25 = decodeFingerprint(0x101000016010407n);
    expect(v25).toMatchObject({ size: 4096, channelAugmentation: true, convLeakyRelu: true, saveArgmax: false });
  });

  it('decodes every arch index to the documented size', () => {
    const sizes = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => decodeFingerprint(0x101000056010400n | BigInt(i)).size);
    expect(sizes).toEqual([512, 800, 1024, 1152, 1600, 2304, 3136, 4096]);
  });

  it('names unknown fingerprints clearly', () => {
    for (const fp of [0x201000056010407n, 0x102000056010407n, 0x101000056010408n]) {
      try {
        decodeFingerprint(fp);
        throw new Error('expected failure');
      } catch (e) {
        expect(isInputError(e)).toBe(true);
        expect((e as Error).message).toContain('0x' + fp.toString(16));
        expect((e as Error).message).toMatch(/not a known DPU configuration/);
      }
    }
  });

  it('reads arch.json and rejects malformed ones', () => {
    expect(parseArchJson('{"fingerprint":"0x101000056010407"}').name).toBe('DPUCZDX8G_ISA1_B4096');
    expect(targetByArchJson('{"fingerprint":"0x101000056010405"}').name).toBe('DPUCZDX8G_ISA1_B2304');
    expect(() => parseArchJson('{"fp":1}')).toThrow(/fingerprint/);
    expect(() => parseArchJson('not json')).toThrow(/JSON/);
  });

  it('the fingerprints stored in the real compiled xmodels decode to their dpu_name (B4096)', () => {
    for (const f of ['pointpillars_compiled_B4096.xmodel', 'tf2_custom_op_compiled_B4096.xmodel']) {
      const m = readXModel(new Uint8Array(readFileSync('test/fixtures/xmodel/' + f)));
      const dpus = m.root.children.filter((s) => subgraphDevice(s) === 'DPU');
      expect(dpus.length).toBeGreaterThan(0);
      for (const s of dpus) {
        const cfg = decodeFingerprint(xBig(s.attrs, 'dpu_fingerprint')!);
        expect(cfg.name).toBe(xString(s.attrs, 'dpu_name'));
        expect(cfg.size).toBe(4096);
      }
    }
  });
});

describe('targets', () => {
  it('has presets B512…B4096 with peak ops = 2·PP·CP²', () => {
    expect(ARCH_NAMES).toHaveLength(8);
    const t = targetByArch('DPUCZDX8G_ISA1_B1152');
    expect('params' in t && t.params).toMatchObject({ pixelParallel: 4, inputChannelParallel: 12, opsPerClock: 1152, clockHz: 300e6 });
    expect(targetByArch('B4096').fingerprint).toBe(0x101000056010407n);
    expect(() => targetByArch('B999')).toThrow(/unknown DPU architecture "B999"/);
  });

  it('boards KV260, ZCU102, ZCU104 are B4096 at 300 MHz', () => {
    expect(BOARDS.map((b) => b.name)).toEqual(['KV260', 'ZCU102', 'ZCU104']);
    for (const b of BOARDS) {
      const t = targetByBoard(b.name.toLowerCase());
      expect(t.name).toBe('DPUCZDX8G_ISA1_B4096');
      expect(t.clockHz).toBe(300e6);
    }
    expect(() => targetByBoard('pynq-z2')).toThrow(/unknown board/);
  });
});
