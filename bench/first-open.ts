// The first open as a new user has it, timed the way ../shared/bench/product.mjs and netron.mjs time the
// app and Netron side by side: a fresh browser profile per open (no IndexedDB layout cache), 1280×800,
// t0 = the file input's `change` event, end = graph nodes on screen and unchanged for two frames, then two
// more frames; the longest main-thread task in between. Netron's figure comes from ../shared/bench/netron.mjs
// when it and Netron's source ($NETRON_GIT, a clone of lutzroeder/netron) are there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, copyFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { SHARED_DIR } from '../test/shared';

/** Runs in the page before the app: records long tasks and resolves window.__bench at the end condition. */
export const PROBE = `(() => {
  window.__long = [];
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push({ start: e.startTime, ms: e.duration }); })
      .observe({ type: 'longtask', buffered: true });
  } catch {}
  window.__bench = new Promise((resolve) => {
    let t0 = null;
    window.addEventListener('change', () => { t0 = performance.now(); }, { capture: true, once: true });
    const tick = () => {
      if (t0 === null) { requestAnimationFrame(tick); return; }
      let last = -1, stable = 0;
      const frame = () => {
        const n = document.querySelectorAll('[data-testid=graph] .react-flow__node').length;
        const busy = document.querySelector('[data-testid=progress]');
        const err = document.querySelector('[data-testid=error-banner]');
        if (err) { resolve({ error: err.innerText }); return; }
        if (n > 0 && !busy && n === last) stable++; else stable = 0;
        last = n;
        if (stable >= 2) {
          requestAnimationFrame(() => requestAnimationFrame(() => {
            const longs = window.__long.filter((e) => e.start + e.ms >= t0);
            resolve({ ms: performance.now() - t0, longest: Math.max(0, ...longs.map((e) => e.ms)) });
          }));
          return;
        }
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(tick);
  });
})()`;

export interface FirstOpen {
  readonly ms: number;
  readonly longest: number;
}

/** One first open of `file` in a fresh context of `browser` on the app served at `url`. */
export async function firstOpen(browser: Browser, url: string, file: string): Promise<FirstOpen> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.addInitScript(PROBE);
    await page.goto(url);
    await page.waitForLoadState('networkidle');
    await page.waitForSelector('[data-testid=file-input]', { state: 'attached' });
    await page.waitForTimeout(300);
    await page.setInputFiles('[data-testid=file-input]', file);
    const r = await page.evaluate('window.__bench') as FirstOpen & { error?: string };
    if (r.error) throw new Error(`${basename(file)}: ${r.error}`);
    return r;
  } finally {
    await context.close();
  }
}

const HARNESS = process.env.NETRON_BENCH ?? join(SHARED_DIR, 'bench');
/** Where the fetch tool and the lead keep a clone of Netron when NETRON_GIT is not set. */
const NETRON_MIRROR = '/work/.mirror/lutzroeder+netron/repo';

/** Why Netron cannot be timed here, or null when it can. */
export function netronUnavailable(): string | null {
  if (!existsSync(join(HARNESS, 'netron.mjs'))) return `no ${join(HARNESS, 'netron.mjs')}`;
  if (!process.env.NETRON_GIT && !existsSync(NETRON_MIRROR)) return 'NETRON_GIT is not set (a clone of lutzroeder/netron)';
  return null;
}

/**
 * Netron's median first open of each model (runs per model), from its own harness. The harness is copied
 * next to this project's node_modules (it needs playwright-core, which ../shared/bench may not have installed).
 */
export function netronFirstOpen(files: readonly string[], runs: number): Map<string, number> {
  const dir = join(tmpdir(), 'fixpoint-netron-bench');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of ['netron.mjs', 'lib.mjs']) copyFileSync(join(HARNESS, f), join(dir, f));
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  const out = execFileSync('node', [join(dir, 'netron.mjs'), '--runs', String(runs), ...files], {
    env: { ...process.env, NETRON_GIT: process.env.NETRON_GIT ?? NETRON_MIRROR }, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26,
  }).toString();
  const times = new Map<string, number>();
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line) as { model: string; median_ms?: number };
    if (r.median_ms !== undefined) times.set(r.model, r.median_ms);
  }
  return times;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
