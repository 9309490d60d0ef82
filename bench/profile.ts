// `npx tsx bench/profile.ts` (after `npx vite build`; `--minify false` gives readable names): where the main
// thread spends an open. For each model (MODELS=a.onnx,b.onnx; default YOLOX-nano and DenseNet-121) it drops
// the file on a fresh page, then again (layout from the cache), and prints the app's marks, the long tasks
// and the functions with the most self and inclusive time. NOPROF=1 skips the CPU profile (less overhead).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { preview } from 'vite';
import { SHARED_ONNX } from '../test/shared';

const DIR = process.env.BENCH_MODELS ?? SHARED_ONNX;
const MODELS = (process.env.MODELS ?? 'yolox_nano.onnx,light_densenet121.onnx').split(',');

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples?: number[];
  timeDeltas?: number[];
}

function hot(profile: CpuProfile, top = 25): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, i) => {
    const ms = (deltas[i] ?? 0) / 1000;
    self.set(key(id), (self.get(key(id)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(cur);
      if (!seen.has(k)) inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
      seen.add(k);
    }
  });
  const print = (title: string, m: Map<string, number>) => {
    console.log(`  ${title}:`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${v.toFixed(0).padStart(6)} ms  ${k}`);
  };
  print('self', self);
  print('inclusive', inclusive);
}

async function main(): Promise<void> {
  const server = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const url = server.resolvedUrls!.local[0];
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    for (const m of MODELS) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      await context.addInitScript(`window.__lt = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lt.push([e.startTime, e.duration]); }).observe({ type: 'longtask' });`);
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForSelector('html[data-layout-warm]', { timeout: 60_000 });
      const b64 = readFileSync(join(DIR, m)).toString('base64');
      for (const round of ['first', 'reopen']) {
        await page.evaluate(({ name, b64 }) => {
          const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          (window as unknown as { __file: File }).__file = new File([bin], name);
        }, { name: m, b64 });
        const cdp = await context.newCDPSession(page);
        if (!process.env.NOPROF) {
          await cdp.send('Profiler.enable');
          await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
          await cdp.send('Profiler.start');
        }
        await page.evaluate(() => {
          const dt = new DataTransfer();
          dt.items.add((window as unknown as { __file: File }).__file);
          for (const type of ['dragenter', 'dragover', 'drop']) document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
        });
        // A function, not a string: the app's CSP has no 'unsafe-eval', which a string predicate needs.
        await page.waitForFunction(() => performance.getEntriesByName('file-to-painted').length > 0, null, { timeout: 60_000, polling: 20 });
        await page.waitForTimeout(300);
        // A string, not a function: tsx would wrap inner arrow functions in a helper the page does not have.
        const r = await page.evaluate(`(() => {
          const t0 = performance.getEntriesByName('file-received')[0].startTime;
          return {
            total: Math.round(performance.getEntriesByName('file-to-painted')[0].duration),
            marks: performance.getEntriesByType('mark').map((e) => e.name + '@' + Math.round(e.startTime - t0)).join(' '),
            longTasks: window.__lt.filter(([s, d]) => s + d > t0).map(([s, d]) => Math.round(s - t0) + '+' + Math.round(d)).join(' '),
            dom: document.querySelectorAll('*').length,
          };
        })()`);
        console.log(`${m} ${round}: ${JSON.stringify(r)}`);
        if (!process.env.NOPROF) {
          const { profile } = await cdp.send('Profiler.stop');
          writeFileSync(`/tmp/${m}.${round}.cpuprofile`, JSON.stringify(profile));
          hot(profile as CpuProfile);
        }
        await cdp.detach();
        await page.waitForTimeout(1500);
      }
      await context.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
