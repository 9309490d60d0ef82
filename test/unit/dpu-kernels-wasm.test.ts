// The committed wasm (src/core/sim/dpu/kernels.gen.ts) must be the build of the AssemblyScript source.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { compileKernels, GEN_FILE, genSource } from '../../scripts/build-wasm';

it('kernels.gen.ts is up to date with src/core/sim/dpu/asm (else run `npm run build:wasm`)', async () => {
  const fresh = genSource(await compileKernels());
  const committed = readFileSync(GEN_FILE, 'utf8');
  expect(committed === fresh, 'kernels.gen.ts is stale: run `npm run build:wasm`').toBe(true);
});
