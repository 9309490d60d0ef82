#!/usr/bin/env node
// Thin launcher: the CLI is built into dist-cli/ by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist-cli', 'fixpoint.js');
if (!existsSync(entry)) {
  process.stderr.write('error: the CLI is not built; run `npm run build` first\n');
  process.exit(2);
}
await import(pathToFileURL(entry).href);
