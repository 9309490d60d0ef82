// Compile time per model: `npx tsx bench/compile.ts [DIR…]` (default /work/shared/models/{onnx,xmodel}).
// Prints read, layer normalisation, partition (no conversions and with SiLU→hard-swish) times and counts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { layersOf, NO_CONVERSIONS, partition, targetByArch, type CompileSource } from '../src/core/compile';
import { openModel } from '../src/core/open';
import { readXModel } from '../src/core/xmodel/codec';
import { SHARED_DIR, SHARED_ONNX } from '../test/shared';

const dirs = process.argv.slice(2).length ? process.argv.slice(2) : [SHARED_ONNX, resolve(SHARED_DIR, 'models/xmodel')];
const target = targetByArch('DPUCZDX8G_ISA1_B4096');
const ms = (t: number) => `${(performance.now() - t).toFixed(1)} ms`.padStart(10);

for (const dir of dirs.filter(existsSync)) {
  for (const f of readdirSync(dir).filter((x) => /\.(onnx|xmodel)$/.test(x)).sort()) {
    const bytes = new Uint8Array(readFileSync(join(dir, f)));
    try {
      let t = performance.now();
      const src: CompileSource = f.endsWith('.xmodel') ? { kind: 'xmodel', xmodel: readXModel(bytes) } : { kind: 'onnx', model: openModel(bytes, f) };
      const read = ms(t);
      t = performance.now();
      const g = layersOf(src);
      const norm = ms(t);
      t = performance.now();
      const r = partition(g, target);
      const part = ms(t);
      t = performance.now();
      const r2 = partition(g, target, { ...NO_CONVERSIONS, siluToHardSwish: true, sigmoidToHardSigmoid: true });
      const part2 = ms(t);
      console.log(`${f.padEnd(36)} ${(bytes.length / 1e6).toFixed(1).padStart(5)} MB  read${read}  layers${norm} (${g.layers.length})  partition${part}  what-if${part2}  ` +
        `subgraphs ${r.deviceSubgraphNumber}/${r.dpuSubgraphNumber} DPU → ${r2.deviceSubgraphNumber}/${r2.dpuSubgraphNumber}`);
    } catch (e) {
      console.log(`${f.padEnd(36)} error: ${(e as Error).message}`);
    }
  }
}
