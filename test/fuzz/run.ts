// Runs mutated inputs through one reader and sorts what happens: accepted, cleanly rejected (one-line
// InputError), crashed (anything else, an accepted result with impossible shapes, or a message that is not
// one line), or hung (more than HANG_MS of CPU time; measured, since a synchronous reader cannot be
// interrupted). CPU time rather than wall time: on a shared machine a case waiting for a core is not a hang.
import { isInputError } from '../../src/core/errors';
import { mutateBytes, mutateJson, rng } from './mutate';
import type { FuzzTarget } from './targets';

export const HANG_MS = 2000;

export interface Finding {
  readonly kind: 'crash' | 'hang';
  readonly input: Uint8Array;
  readonly what: string;
}

export interface FuzzCounts {
  readonly reader: string;
  cases: number;
  accepted: number;
  rejected: number;
  crashes: number;
  hangs: number;
  readonly findings: Finding[];
}

const enc = new TextEncoder();

/** Milliseconds of this process' CPU time (user + system) where Node tells it, else of wall time. */
function cpuMs(): number {
  const usage = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process?.cpuUsage?.();
  return usage ? (usage.user + usage.system) / 1000 : performance.now();
}

/** `cases` mutations of the target's seeds starting from `seed`; keeps up to `keep` findings. */
export function fuzz(target: FuzzTarget, cases: number, seed = 1, keep = 20): FuzzCounts {
  const r = rng(seed);
  const seeds = target.seeds();
  const out: FuzzCounts = { reader: target.name, cases: 0, accepted: 0, rejected: 0, crashes: 0, hangs: 0, findings: [] };
  const note = (f: Finding) => { if (out.findings.length < keep) out.findings.push(f); };
  for (let c = 0; c < cases; c++) {
    const s = seeds[c % seeds.length];
    let input: Uint8Array;
    if (target.kind === 'json') {
      const text = JSON.stringify(mutateJson(s, r));
      input = r() < 0.3 ? mutateBytes(enc.encode(text), r) : enc.encode(text);
    } else input = mutateBytes(s as Uint8Array, r);
    const t0 = cpuMs();
    let what: string | undefined;
    let clean = false;
    try {
      what = target.run(input);
      if (what) what = `accepted with ${what}`;
    } catch (e) {
      if (isInputError(e) && !/[\u0000-\u001f\u007f]/.test(e.message)) clean = true;
      else what = `${(e as Error)?.name ?? typeof e}: ${String((e as Error)?.message ?? e).slice(0, 300)}`;
    }
    const ms = cpuMs() - t0;
    out.cases++;
    if (ms > HANG_MS) {
      out.hangs++;
      note({ kind: 'hang', input, what: `${Math.round(ms)} ms of CPU time` });
    } else if (what) {
      out.crashes++;
      note({ kind: 'crash', input, what });
    } else if (clean) out.rejected++;
    else out.accepted++;
  }
  return out;
}
