// `npx tsx bench/trace-open.ts MODEL.onnx [--runs 1]` (after `npx vite build`): the timeline of a first
// open as bench/first-open.ts times it (fresh profile, 1280×800, the file input's `change` = 0 ms), from a
// Chrome trace: per thread (the page's main thread, the model worker…) every task of 2 ms or more with
// what ran inside it, and the app's performance marks. REUSE=1 opens every run in one profile (the reopen).
import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { preview } from 'vite';
import { PROBE } from './first-open';

interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: { type?: string; functionName?: string; url?: string } };
}

const CATEGORIES = [
  'devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'toplevel', 'v8.execute', 'blink',
].join(',');

/** What ran inside one task, by event name, the longest first ("FunctionCall 31, Layout 6…"). */
function inside(events: readonly TraceEvent[], task: TraceEvent): string {
  const end = task.ts + (task.dur ?? 0);
  const by = new Map<string, number>();
  for (const e of events) {
    if (e === task || e.ph !== 'X' || e.ts < task.ts || e.ts >= end || !e.dur) continue;
    if (e.name === 'ThreadControllerImpl::RunTask' || e.name === 'RunTask') continue;
    let key = e.name;
    if (e.name === 'EventDispatch' || e.name === 'TimerFire' || e.name === 'FireAnimationFrame') key += e.args?.data?.type ? `(${e.args.data.type})` : '';
    if (e.name === 'FunctionCall' && e.args?.data?.functionName) key += `(${e.args.data.functionName})`;
    by.set(key, Math.max(by.get(key) ?? 0, e.dur / 1000));
  }
  return [...by].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
}

function report(events: TraceEvent[]): void {
  const names = new Map<string, string>();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args?.name ?? '?');
  const change = events.find((e) => e.name === 'EventDispatch' && e.args?.data?.type === 'change');
  if (!change) { console.log('  no change event in the trace'); return; }
  const main = `${change.pid}:${change.tid}`;
  const t0 = change.ts;
  const ms = (ts: number) => ((ts - t0) / 1000).toFixed(1).padStart(7);
  const marks = events.filter((e) => e.cat.includes('blink.user_timing') && e.pid === change.pid && e.ts >= t0 - 1000 && (e.ph === 'R' || e.ph === 'I' || e.ph === 'n' || e.ph === 'b'));
  console.log(`  marks: ${marks.map((e) => `${e.name}@${((e.ts - t0) / 1000).toFixed(0)}`).join(' ')}`);
  const threads = new Map<string, TraceEvent[]>();
  for (const e of events) {
    if (e.pid !== change.pid) continue;
    const k = `${e.pid}:${e.tid}`;
    let a = threads.get(k);
    if (!a) threads.set(k, (a = []));
    a.push(e);
  }
  const order = [...threads.keys()].sort((a, b) => (a === main ? -1 : b === main ? 1 : a.localeCompare(b)));
  for (const k of order) {
    const evs = threads.get(k)!;
    // Top-level tasks only (RunTask nests inside ThreadControllerImpl::RunTask); BEFORE=ms also shows that much
    // of what ran before the change (a worker still warming up).
    const from = t0 - Number(process.env.BEFORE ?? 0) * 1000;
    const all = evs.filter((e) => e.ph === 'X' && (e.name === 'ThreadControllerImpl::RunTask' || e.name === 'RunTask') && e.ts + (e.dur ?? 0) >= from && (e.dur ?? 0) >= 2000);
    const tasks = all.filter((e) => !all.some((o) => o !== e && o.ts <= e.ts && o.ts + (o.dur ?? 0) >= e.ts + (e.dur ?? 0) && (o.ts < e.ts || o.name === 'ThreadControllerImpl::RunTask')));
    if (!tasks.length) continue;
    const busy = tasks.reduce((s, e) => s + (e.dur ?? 0), 0) / 1000;
    console.log(`  ${names.get(k) ?? k}${k === main ? ' (main)' : ''}: ${tasks.length} tasks ≥ 2 ms, ${busy.toFixed(0)} ms`);
    for (const t of tasks) console.log(`    ${ms(t.ts)} +${((t.dur ?? 0) / 1000).toFixed(1).padStart(6)}  ${inside(evs, t)}`);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let runs = 1;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') runs = Number(args[++i]);
    else files.push(resolve(args[i]));
  }
  const server = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const url = server.resolvedUrls!.local[0];
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  const shared = process.env.REUSE ? await browser.newContext({ viewport: { width: 1280, height: 800 } }) : undefined;
  try {
    for (const file of files) {
      for (let r = 0; r < runs; r++) {
        const context = shared ?? await browser.newContext({ viewport: { width: 1280, height: 800 } });
        const page = await context.newPage();
        await page.addInitScript(PROBE);
        // BEFORE: traced from the page's start, to see what a fresh page is still doing when the file comes.
        if (process.env.BEFORE) await browser.startTracing(page, { categories: CATEGORIES.split(',') });
        await page.goto(url);
        await page.waitForLoadState('networkidle');
        await page.waitForSelector('[data-testid=file-input]', { state: 'attached' });
        await page.waitForTimeout(300);
        if (!process.env.BEFORE) await browser.startTracing(page, { categories: CATEGORIES.split(',') });
        await page.setInputFiles('[data-testid=file-input]', file);
        const res = await page.evaluate('window.__bench') as { ms: number; longest: number };
        const buf = await browser.stopTracing();
        const trace = JSON.parse(buf.toString()) as { traceEvents: TraceEvent[] };
        if (process.env.TRACE_OUT) writeFileSync(`${process.env.TRACE_OUT}.${basename(file)}.${r}.json`, buf);
        console.log(`${basename(file)} run ${r}: ${res.ms.toFixed(0)} ms, longest task ${res.longest.toFixed(0)} ms`);
        report(trace.traceEvents);
        await page.close();
        if (!shared) await context.close();
      }
    }
  } finally {
    await shared?.close();
    await browser.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
