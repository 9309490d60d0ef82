// The long fuzz run: `npm run fuzz -- [cases per reader] [--seed N] [--only onnx,npy] [--save DIR]`.
// Prints per reader: cases, accepted, clean rejections, crashes, hangs (> 2 s of CPU); with --save, writes each
// finding's input to DIR so it can become a fixture in test/fixtures/fuzz/. Exits 1 on any crash or hang.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HANG_MS, fuzz } from '../test/fuzz/run';
import { TARGETS } from '../test/fuzz/targets';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(i > 0 && all[i - 1].startsWith('--')));
const cases = Number(positional[0] ?? 100_000);
if (!(Number.isInteger(cases) && cases > 0)) {
  process.stderr.write('usage: npm run fuzz -- [cases per reader] [--seed N] [--only onnx,npy,...] [--save DIR]\n');
  process.exit(2);
}
const seed = Number(arg('--seed') ?? 1);
const only = arg('--only')?.split(',');
const save = arg('--save');
const CHUNK = 5000;

let bad = 0;
process.stdout.write(`reader        cases   accepted   rejected  crashes  hangs(>${HANG_MS / 1000}s cpu)  time\n`);
for (const t of TARGETS) {
  if (only && !only.includes(t.name)) continue;
  const t0 = performance.now();
  const total = { cases: 0, accepted: 0, rejected: 0, crashes: 0, hangs: 0 };
  // In chunks with their own seeds, so a long run reports progress and any chunk can be replayed.
  for (let done = 0, k = 0; done < cases; done += CHUNK, k++) {
    const c = fuzz(t, Math.min(CHUNK, cases - done), seed * 100_003 + k, 10);
    for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += c[key];
    c.findings.forEach((f, i) => {
      process.stderr.write(`  ${t.name} ${f.kind} (seed ${seed * 100_003 + k}): ${f.what.slice(0, 200)}\n`);
      if (save) {
        mkdirSync(save, { recursive: true });
        writeFileSync(join(save, `${t.name}-${seed}-${k}-${i}.bin`), f.input);
      }
    });
    if (process.stderr.isTTY) process.stderr.write(`\r  ${t.name}: ${done + c.cases}/${cases}`);
  }
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  bad += total.crashes + total.hangs;
  const s = ((performance.now() - t0) / 1000).toFixed(0);
  process.stdout.write(`${t.name.padEnd(12)} ${String(total.cases).padStart(7)} ${String(total.accepted).padStart(10)} ${String(total.rejected).padStart(10)} ${String(total.crashes).padStart(8)} ${String(total.hangs).padStart(14)}  ${s} s\n`);
}
process.exit(bad ? 1 : 0);
