// The compile step's pure UI helpers: one distinct shade per subgraph, the before → after line between
// compiles, and which conversion a CPU op's fix names.
import { describe, expect, it } from 'vitest';
import { NO_CONVERSIONS } from '../../src/core/compile';
import { HUE_RANGE, deviceShade, subgraphColors } from '../../src/ui/compile/colors';
import { conversionInFix, countsChange, settingsChange, type CompileSnapshot } from '../../src/ui/compile/history';

function hsl(c: string): [number, number, number] {
  const m = /^hsl\(([\d.]+), ([\d.]+)%, ([\d.]+)%\)$/.exec(c);
  if (!m) throw new Error(`not an hsl() colour: ${c}`);
  return [+m[1], +m[2], +m[3]];
}

describe('device shades', () => {
  it('n DPU subgraphs get n distinct blues, for every n up to 100', () => {
    for (let n = 1; n <= 100; n++) {
      const shades = Array.from({ length: n }, (_, i) => deviceShade('DPU', i, n));
      expect(new Set(shades).size).toBe(n);
      for (const c of shades) {
        const [h, s, l] = hsl(c);
        expect(h).toBeGreaterThanOrEqual(196);
        expect(h).toBeLessThanOrEqual(236);
        expect(s).toBeGreaterThanOrEqual(50);
        expect(l).toBeGreaterThanOrEqual(30);
        expect(l).toBeLessThanOrEqual(70);
      }
      // Neighbouring subgraphs (consecutive in topological order) differ visibly in lightness.
      for (let i = 1; i < n; i++) expect(Math.abs(hsl(shades[i])[2] - hsl(shades[i - 1])[2])).toBeGreaterThanOrEqual(8);
    }
  });

  it('CPU shades stay orange and distinct; colours per subgraph follow each device\'s count', () => {
    const cpu = Array.from({ length: 115 }, (_, i) => deviceShade('CPU', i, 115));
    expect(new Set(cpu).size).toBe(115);
    for (const c of cpu) expect(hsl(c)[0]).toBeGreaterThanOrEqual(HUE_RANGE.CPU[0]);
    for (const c of cpu) expect(hsl(c)[0]).toBeLessThanOrEqual(HUE_RANGE.CPU[1]);
    const devices = ['USER', ...Array.from({ length: 191 }, (_, i) => (i % 3 === 1 ? 'DPU' : 'CPU'))];
    const colors = subgraphColors(devices);
    const dpu = colors.filter((_, i) => devices[i] === 'DPU');
    expect(dpu.length).toBe(64);
    expect(new Set(dpu).size).toBe(64);
    expect(new Set(colors.filter((_, i) => devices[i] === 'CPU')).size).toBe(127);
    expect(dpu.every((c) => !colors.filter((_, i) => devices[i] === 'CPU').includes(c))).toBe(true);
  });
});

describe('compile history', () => {
  const kv260: CompileSnapshot = { target: 'DPUCZDX8G_ISA1_B4096', conversions: NO_CONVERSIONS, deviceSubgraphNumber: 192, dpuSubgraphNumber: 76 };
  it('says what changed and the counts before → after', () => {
    const hs = { ...kv260, conversions: { ...NO_CONVERSIONS, siluToHardSwish: true }, deviceSubgraphNumber: 14, dpuSubgraphNumber: 2 };
    expect(countsChange(kv260, hs)).toBe('DPU subgraphs 76 → 2, device subgraphs 192 → 14');
    expect(settingsChange(kv260, hs)).toBe('+SiLU → hard-swish');
    expect(settingsChange(hs, kv260)).toBe('−SiLU → hard-swish');
    expect(settingsChange(kv260, { ...kv260, target: 'DPUCZDX8G_ISA1_B512' })).toBe('target B4096 → B512');
    expect(settingsChange(kv260, kv260)).toBe('same settings (recompiled)');
  });

  it('finds the conversion named by each fix the DPUCZDX8G target gives', () => {
    expect(conversionInFix('enable SiLU→hard-swish')).toBe('siluToHardSwish');
    expect(conversionInFix('enable Sigmoid→hard-sigmoid')).toBe('sigmoidToHardSigmoid');
    expect(conversionInFix('enable "LeakyReLU slope → 26/256" (or retrain with slope 0.1015625)')).toBe('leakyReluToDpuSlope');
    expect(conversionInFix('use kernels of at most 16×16')).toBeUndefined();
    expect(conversionInFix(undefined)).toBeUndefined();
  });
});
