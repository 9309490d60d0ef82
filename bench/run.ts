// `npm run bench`: for each model in /work/shared/models/onnx, read and layout times in Node, and the
// time from dropping the file to the graph on screen in Chromium (the app's own performance marks),
// plus peak memory (per model, in a fresh process: see bench/memory.ts). Prints a plain table.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { preview } from 'vite';
import { readOnnx } from '../src/core/onnx/reader';
import { toDisplayGraph } from '../src/core/view/display';
import { layoutInput } from '../src/core/view/layout';
import { layoutLayered } from '../src/core/view/layered';
import { SHARED_ONNX } from '../test/shared';
import { measureInChild } from './memory';
import { appAndFloor, firstOpenTable, netronFirstOpen, netronUnavailable, serveFloor } from './first-open';

const DIR = process.env.BENCH_MODELS ?? SHARED_ONNX;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const GOALS: Record<string, number> = { 'light_densenet121.onnx': 950, 'yolox_nano.onnx': 430 };

interface Row {
  model: string;
  mb: string;
  ops: number;
  shown: number;
  read: number;
  layout: number;
  /** Peak RSS of a fresh Node process that opens the model (bench/memory.ts). */
  nodeRss: number;
  nodeRssPerFile: number;
  painted?: number;
  reopen?: number;
  /** The longest main-thread task between the drop and the paint: how long the page was frozen. */
  longest?: number;
  stages?: string;
  jsHeap?: number;
  /** A new user's first open (fresh profile, t0 = the file input's change; bench/first-open.ts), median. */
  first?: number;
  firstLongest?: number;
  /** The same clock on a page that only appends node boxes (bench/first-open.ts FLOOR_PAGE): the harness's own floor. */
  floor?: number;
  netron?: number;
}

const FIRST_OPEN_RUNS = Number(process.env.BENCH_FIRST_RUNS ?? 3);

const ms = (t0: number) => performance.now() - t0;
const mib = (b: number) => b / 2 ** 20;

async function nodeSide(file: string): Promise<Row> {
  const buf = readFileSync(join(DIR, file));
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  let t = performance.now();
  const model = readOnnx(bytes);
  const read = ms(t);
  t = performance.now();
  // The display graph and its layout, as the model worker makes them while it opens the file.
  const dg = toDisplayGraph(model);
  layoutLayered(layoutInput(dg));
  const layout = ms(t);
  // Memory in a fresh process per model: in this one, earlier models' garbage would count too.
  const mem = measureInChild(join(DIR, file));
  return {
    model: file, mb: (buf.length / 1e6).toFixed(1), ops: model.graph.nodes.length, shown: dg.nodes.length,
    read, layout, nodeRss: mib(mem.peakRss), nodeRssPerFile: mem.peakRss / mem.fileBytes,
  };
}

async function drop(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  // Hand the bytes over first, then time only the drop itself.
  await page.evaluate(async ({ name, b64 }) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    (window as unknown as { __benchFile: File }).__benchFile = new File([bin], name);
  }, { name, b64: Buffer.from(bytes).toString('base64') });
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add((window as unknown as { __benchFile: File }).__benchFile);
    for (const type of ['dragenter', 'dragover', 'drop']) document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
}

async function paintedAfterDrop(page: Page, name: string, bytes: Uint8Array): Promise<{ total: number; stages: string; longest: number }> {
  await drop(page, name, bytes);
  const deadline = Date.now() + Number(process.env.BENCH_TIMEOUT ?? 120_000);
  while (!(await page.evaluate(`performance.getEntriesByName('file-to-painted').length > 0`))) {
    if (Date.now() > deadline) {
      const banner = await page.locator('[data-testid=error-banner]').allInnerTexts();
      if (process.env.BENCH_DEBUG) await page.screenshot({ path: process.env.BENCH_DEBUG });
      const marks = await page.evaluate(`JSON.stringify([performance.getEntries().filter((e) => e.entryType === 'mark').map((e) => e.name), document.querySelector('[data-testid=graph]')?.getAttribute('data-painted'), document.querySelectorAll('.react-flow__node').length, getComputedStyle(document.querySelector('.react-flow__node')).visibility, document.visibilityState])`);
      throw new Error(`${name} was not drawn within 2 minutes (${banner.join(' ') || 'no error shown'}; marks ${marks})`);
    }
    await page.waitForTimeout(10);
  }
  // A string, not a function: tsx would wrap inner arrow functions in a helper the page does not have.
  return page.evaluate(`(() => {
    const at = (n) => performance.getEntriesByName(n)[0]?.startTime;
    const t0 = at('file-received');
    const s = (n) => (at(n) === undefined ? '-' : (at(n) - t0).toFixed(0));
    const end = at('graph-painted');
    const tasks = (window.__longTasks || []).filter((t) => t.startTime + t.duration > t0 && t.startTime < end);
    return {
      total: performance.getEntriesByName('file-to-painted')[0].duration,
      stages: 'read ' + s('model-read') + ' / layout ' + s('layout-done'),
      longest: Math.max(0, ...tasks.map((t) => t.duration)),
    };
  })()`) as Promise<{ total: number; stages: string; longest: number }>;
}

async function browserSide(rows: Row[]): Promise<void> {
  console.log('building the app…');
  execFileSync('npx', ['vite', 'build', '--logLevel', 'error'], { stdio: 'inherit' });
  const server = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const url = server.resolvedUrls!.local[0];
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--enable-precise-memory-info'] });
  try {
    const bySize = [...rows].sort((a, b) => Number(a.mb) - Number(b.mb));
    for (const row of rows) {
      // A fresh page per model, as a user opening the app would have; the workers warm up while the gallery shows.
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      // Long tasks are kept from the start: the observer sees only tasks after it is created.
      await context.addInitScript(`window.__longTasks = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push({ startTime: e.startTime, duration: e.duration }); }).observe({ type: 'longtask' });`);
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`${row.model}: page error: ${String(e)}`));
      await page.goto(url);
      await page.waitForSelector('html[data-layout-warm]', { timeout: 60_000 });
      const bytes = readFileSync(join(DIR, row.model));
      const first = await paintedAfterDrop(page, row.model, bytes);
      row.painted = first.total;
      row.stages = first.stages;
      row.longest = first.longest;
      const cdp = await context.newCDPSession(page);
      await cdp.send('Performance.enable');
      const metrics = (await cdp.send('Performance.getMetrics')).metrics;
      row.jsHeap = mib(metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0);
      // Open something else, then the same file again: its layout comes from the cache.
      await page.waitForTimeout(1500);
      const other = bySize.find((r) => r.model !== row.model)!.model;
      await paintedAfterDrop(page, other, readFileSync(join(DIR, other)));
      row.reopen = (await paintedAfterDrop(page, row.model, bytes)).total;
      await context.close();
    }
    // The first open as ../shared/bench/product.mjs times it, so it can stand beside Netron's figure, in
    // turns with the floor page (what the same clock gives a page that does nothing but draw boxes).
    const floor = await serveFloor();
    try {
      for (const row of rows) {
        const r = await appAndFloor(browser, url, floor.url, join(DIR, row.model), FIRST_OPEN_RUNS);
        row.first = r.app;
        row.firstLongest = r.appLongest;
        row.floor = r.floor;
      }
    } finally {
      floor.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

function table(rows: Row[]): void {
  const head = ['model', 'MB', 'ops', 'drawn', 'read ms', 'layout ms', 'node peak rss MiB', 'rss/file', 'file→painted ms', '(read / layout)', 'reopen ms', 'longest task ms', 'page heap MiB', 'goal ms'];
  const body = rows.map((r) => [
    r.model, r.mb, String(r.ops), String(r.shown), r.read.toFixed(0), r.layout.toFixed(0), r.nodeRss.toFixed(0), r.nodeRssPerFile.toFixed(1),
    r.painted?.toFixed(0) ?? '-', r.stages ?? '-', r.reopen?.toFixed(0) ?? '-', r.longest?.toFixed(0) ?? '-', r.jsHeap?.toFixed(0) ?? '-', GOALS[r.model] ? String(GOALS[r.model]) : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const b of body) console.log(line(b));
}

async function main(): Promise<void> {
  if (!existsSync(DIR)) {
    console.log(`bench: ${DIR} is absent, nothing to measure (set BENCH_MODELS to a folder of .onnx files)`);
    return;
  }
  const files = readdirSync(DIR).filter((f) => f.endsWith('.onnx')).sort();
  // Warm the reader and the layout up, so the columns measure them rather than JIT.
  layoutLayered(layoutInput(toDisplayGraph(readOnnx(readFileSync(join(DIR, files[0]))))));
  const rows: Row[] = [];
  for (const f of files) rows.push(await nodeSide(f));
  if (process.env.BENCH_NODE_ONLY !== '1') {
    await browserSide(rows);
    const why = netronUnavailable();
    if (why) console.log(`bench: Netron not timed (${why})`);
    else {
      const netron = netronFirstOpen(files.map((f) => join(DIR, f)), FIRST_OPEN_RUNS);
      for (const r of rows) r.netron = netron.get(r.model);
    }
  }
  table(rows);
  if (rows.some((r) => r.first !== undefined)) {
    console.log('');
    console.log(firstOpenTable(rows.map((r) => ({ model: r.model, app: r.first, appLongest: r.firstLongest, floor: r.floor, netron: r.netron }))));
    console.log(`first open: a fresh browser profile per open, 1280×800, from the file input's change to the nodes drawn and stable (as ../shared/bench/product.mjs and netron.mjs); median of ${FIRST_OPEN_RUNS}. floor: the same clock on a page that only appends 12 node boxes in its change handler, timed in turns with the app; nothing opens faster under this clock.`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
