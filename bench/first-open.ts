// The first open as a new user has it, timed the way ../shared/bench/product.mjs and netron.mjs time the
// app and Netron side by side: a fresh browser profile per open (no IndexedDB layout cache), 1280×800,
// t0 = the file input's `change` event, end = graph nodes on screen and unchanged for two frames, then two
// more frames; the longest main-thread task in between. Netron's figure comes from ../shared/bench/netron.mjs
// when it and Netron's source ($NETRON_GIT, a clone of lutzroeder/netron) are there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, copyFileSync, symlinkSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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

/**
 * One first open of `file` in a fresh context of `browser` on the app served at `url`; in `shared` instead,
 * a context kept across opens (a new page each time, the IndexedDB layout cache kept): product.mjs's REUSE=1.
 */
export async function firstOpen(browser: Browser, url: string, file: string, shared?: BrowserContext): Promise<FirstOpen> {
  const context = shared ?? await browser.newContext({ viewport: { width: 1280, height: 800 } });
  let page: Page | undefined;
  try {
    page = await context.newPage();
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
    if (shared) await page?.close();
    else await context.close();
  }
}

/**
 * The fastest page this harness can time: its file input's `change` handler appends 12 empty
 * `.react-flow__node` boxes to `[data-testid=graph]` at once and does nothing else. What it measures is the
 * harness's own end condition (the count stable for two frames, then two more frames: about five frame
 * intervals), so no app can open a file faster than this under the same clock.
 */
export const FLOOR_PAGE = `<!doctype html><html><body><input type=file data-testid=file-input>
<div data-testid=graph></div>
<script>
document.querySelector('input').addEventListener('change', () => {
  const g = document.querySelector('[data-testid=graph]');
  for (let i = 0; i < 12; i++) { const d = document.createElement('div'); d.className = 'react-flow__node'; d.textContent = 'n' + i; g.appendChild(d); }
});
</script></body></html>`;

/** Serves FLOOR_PAGE on a loopback port (the same origin setup as the app: COOP/COEP). */
export async function serveFloor(): Promise<{ url: string; close(): void }> {
  const server = createServer((_, res) => {
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store',
      'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
    }).end(FLOOR_PAGE);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
}

/**
 * Medians of `runs` first opens of `file` in the app and in the floor page, taken in turns (app, floor, app, …);
 * with `before` (another build of the app, served at that URL) in the same turns (app, before, floor, …).
 * REUSE=1 in the environment: each app's opens share one browser profile, i.e. reopens.
 */
export async function appAndFloor(browser: Browser, app: string, floor: string, file: string, runs: number, before?: string): Promise<{
  app: number; appLongest: number; floor: number; before?: number; beforeLongest?: number;
}> {
  const a: FirstOpen[] = [];
  const b: FirstOpen[] = [];
  const f: FirstOpen[] = [];
  const reuse = !!process.env.REUSE;
  const ctx = () => (reuse ? browser.newContext({ viewport: { width: 1280, height: 800 } }) : Promise.resolve(undefined));
  const [sa, sb] = [await ctx(), before ? await ctx() : undefined];
  try {
    for (let r = 0; r < runs; r++) {
      a.push(await firstOpen(browser, app, file, sa));
      if (before) b.push(await firstOpen(browser, before, file, sb));
      f.push(await firstOpen(browser, floor, file));
    }
  } finally {
    await sa?.close();
    await sb?.close();
  }
  const longest = (xs: FirstOpen[]) => Math.max(...xs.map((x) => x.longest));
  return {
    app: median(a.map((x) => x.ms)), appLongest: longest(a), floor: median(f.map((x) => x.ms)),
    ...(before ? { before: median(b.map((x) => x.ms)), beforeLongest: longest(b) } : {}),
  };
}

export interface FirstOpenRow {
  readonly model: string;
  readonly app?: number;
  readonly appLongest?: number;
  /** Another build timed in the same turns (--before). */
  readonly before?: number;
  readonly beforeLongest?: number;
  readonly floor?: number;
  readonly netron?: number;
}

/** The first-open table: the app, the floor page and Netron, their ratios, and the app's time above the floor. */
export function firstOpenTable(rows: readonly FirstOpenRow[]): string {
  const f = (x?: number) => (x === undefined ? '-' : x.toFixed(0));
  const ratio = (x?: number, y?: number) => (x === undefined || y === undefined ? '-' : `${(x / y).toFixed(2)}×`);
  const withBefore = rows.some((r) => r.before !== undefined);
  const head = ['model', 'app ms', 'longest task', ...(withBefore ? ['before ms', 'before longest', 'before ÷ Netron'] : []),
    'floor ms', 'Netron ms', 'app ÷ Netron', 'floor ÷ Netron', 'app − floor ms'];
  const body = rows.map((r) => [
    r.model, f(r.app), f(r.appLongest), ...(withBefore ? [f(r.before), f(r.beforeLongest), ratio(r.before, r.netron)] : []),
    f(r.floor), f(r.netron), ratio(r.app, r.netron), ratio(r.floor, r.netron),
    r.app === undefined || r.floor === undefined ? '-' : (r.app - r.floor).toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
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
  // A directory of its own: another run (or another person's) may be using a copy at the same time.
  const dir = mkdtempSync(join(tmpdir(), 'fixpoint-netron-bench-'));
  let out: string;
  try {
    for (const f of ['netron.mjs', 'lib.mjs']) copyFileSync(join(HARNESS, f), join(dir, f));
    symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
    out = execFileSync('node', [join(dir, 'netron.mjs'), '--runs', String(runs), ...files], {
      env: { ...process.env, NETRON_GIT: process.env.NETRON_GIT ?? NETRON_MIRROR }, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26,
    }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

/**
 * `npx tsx bench/first-open.ts [--runs 5] [--before OLD_DIST] [MODEL.onnx…]` (after `npm run build`): only the
 * first-open table, for the built app in ./dist, the floor page and Netron, all in one run; `--before` also
 * times another build (say the previous commit's dist, built with `npx vite build --outDir DIR`) in the same
 * turns. REUSE=1: each app's opens share one browser profile (reopening, as product.mjs REUSE=1 times it).
 * Models default to every .onnx in ../shared/models/onnx.
 */
async function main(): Promise<void> {
  const { chromium } = await import('playwright-core');
  const { preview } = await import('vite');
  const { readdirSync } = await import('node:fs');
  const args = process.argv.slice(2);
  let runs = 5;
  let before: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') runs = Number(args[++i]);
    else if (args[i] === '--before') before = resolve(args[++i]);
    else files.push(resolve(args[i]));
  }
  if (!files.length) {
    const dir = join(SHARED_DIR, 'models/onnx');
    if (!existsSync(dir)) {
      console.log(`first-open: ${dir} is absent; name the models to open`);
      return;
    }
    files.push(...readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort().map((f) => join(dir, f)));
  }
  if (!existsSync('dist/index.html')) throw new Error('no dist/index.html: run `npm run build` first');
  if (before && !existsSync(join(before, 'index.html'))) throw new Error(`--before ${before}: no index.html there (a built dist/)`);
  const server = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const older = before ? await preview({ build: { outDir: before }, preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' }) : undefined;
  const floor = await serveFloor();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  const rows: FirstOpenRow[] = [];
  try {
    for (const file of files) {
      const r = await appAndFloor(browser, server.resolvedUrls!.local[0], floor.url, file, runs, older?.resolvedUrls!.local[0]);
      rows.push({ model: basename(file), ...r });
    }
  } finally {
    await browser.close();
    await server.close();
    await older?.close();
    floor.close();
  }
  const why = netronUnavailable();
  const netron = why ? new Map<string, number>() : netronFirstOpen(files, runs);
  console.log(firstOpenTable(rows.map((r) => ({ ...r, netron: netron.get(r.model) }))));
  console.log(`median of ${runs} opens each, app${before ? `, before (${before})` : ''} and floor in turns, then Netron${why ? ` (not timed: ${why})` : ''}${process.env.REUSE ? '; REUSE=1: the app\'s opens share one browser profile (reopens)' : ''}`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
