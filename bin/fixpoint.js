#!/usr/bin/env node
// Thin launcher. The CLI built by `npm run build` (dist-cli/) is what runs; in a checkout where only
// `npm ci` has run, the TypeScript source runs through tsx (a dev dependency) instead, so `npx fixpoint`
// works without a build.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist-cli', 'fixpoint.js');
const source = join(root, 'src', 'cli', 'main.ts');

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch (e) {
    if (e && (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND')) return undefined;
    throw e;
  }
}

if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  const register = existsSync(source) ? await tsxRegister() : undefined;
  if (!register) {
    process.stderr.write('error: the CLI is not built and tsx is not installed; run `npm run build` (or `npm ci` to run it from source)\n');
    process.exit(2);
  }
  register();
  await import(pathToFileURL(source).href);
}
