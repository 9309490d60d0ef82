// The committed wasm (src/core/sim/dpu/kernels.gen.ts) must be the build of the AssemblyScript source.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { compileKernels, compileModule, GEN_FILE, genSource, MODULES } from '../../scripts/build-wasm';

it('kernels.gen.ts is up to date with src/core/sim/dpu/asm (else run `npm run build:wasm`)', async () => {
  const fresh = genSource(await compileKernels());
  const committed = readFileSync(GEN_FILE, 'utf8');
  expect(committed === fresh, 'kernels.gen.ts is stale: run `npm run build:wasm`').toBe(true);
});

it('stats-wasm.gen.ts is up to date with src/core/quant/calibrate/asm (else run `npm run build:wasm`)', async () => {
  const m = MODULES[1];
  const fresh = genSource(await compileModule(m.entry), m);
  expect(readFileSync(m.gen, 'utf8') === fresh, `${m.gen} is stale: run \`npm run build:wasm\``).toBe(true);
});

it('kernels-shared.gen.ts (the kernels on a shared memory, for threads) is up to date (else run `npm run build:wasm`)', async () => {
  const m = MODULES.find((x) => x.constant === 'KERNELS_SHARED_WASM_BASE64')!;
  const fresh = genSource(await compileModule(m.entry, m.flags), m);
  expect(readFileSync(m.gen, 'utf8') === fresh, `${m.gen} is stale: run \`npm run build:wasm\``).toBe(true);
});
