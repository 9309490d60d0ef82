// `npx tsx bench/calib-images.ts` (after `npx vite build`): how long the Calibrate step takes to read one
// photo, and what the main thread pays for it. Images are decoded and preprocessed in the model worker
// (core decoders, so the tensor is the CLI's); this checks that big photos leave the page responsive.
// For each photo — the four shipped ones and synthetic 12-megapixel JPEG and PNG — the File is built in
// the page first (outside the timing), then handed to the Calibrate step's file input; printed: wall time
// from the input's change to the first sample's digest shown, the main-thread long tasks (> 50 ms) in that
// span, and the same decode + YOLOX preprocessing in Node for comparison.
import { readFileSync } from 'node:fs';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { chromium } from 'playwright-core';
import { preview } from 'vite';
import { samplesFromFiles } from '../src/core/data/calib';
import { inputSpecFromShape, parsePreprocess } from '../src/core/data/preprocess';
import { YOLOX_PREPROCESS } from '../src/core/demo/yolox';

function synthetic(w: number, h: number): Uint8Array {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const x = i % w;
    const y = (i / w) | 0;
    rgba[i * 4] = (x * 255) / w;
    rgba[i * 4 + 1] = (y * 255) / h;
    rgba[i * 4 + 2] = ((x ^ y) * 7) & 255;
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

function nodeMs(name: string, bytes: Uint8Array): number {
  const pre = parsePreprocess({ ...YOLOX_PREPROCESS, layout: 'NCHW' });
  const spec = inputSpecFromShape('images', [1, 3, 416, 416], 'NCHW');
  const t0 = performance.now();
  samplesFromFiles([{ name, bytes }], spec, pre).sample(0);
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const [W, H] = [4032, 3024];
  const rgba = synthetic(W, H);
  const photos: [string, Uint8Array][] = [
    ...['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'].map((f): [string, Uint8Array] => [f, new Uint8Array(readFileSync(`public/demo/${f}`))]),
    ['12mp.jpg', new Uint8Array(jpeg.encode({ data: rgba, width: W, height: H }, 90).data)],
    ['12mp.png', encodePng({ width: W, height: H, data: rgba, channels: 4, depth: 8 })],
  ];
  const server = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const url = server.resolvedUrls!.local[0];
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.addInitScript(`window.__lt = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lt.push([e.startTime, e.duration]); }).observe({ type: 'longtask' });`);
    const page = await context.newPage();
    await page.goto(url);
    await page.locator('[data-file="yolox_nano.onnx"]').click();
    await page.waitForSelector('[data-testid=graph][data-painted]', { timeout: 90_000 });
    await page.getByTestId('step-calibrate').click();
    await page.waitForSelector('[data-testid=pre-color] option[value=bgr]:checked', { state: 'attached', timeout: 30_000 });
    await page.waitForTimeout(1000);
    console.log('photo        bytes       app ms  main-thread long tasks   node ms');
    for (const [name, bytes] of photos) {
      await page.evaluate(({ name, b64 }) => {
        const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        (window as unknown as { __file: File }).__file = new File([bin], name);
      }, { name, b64: Buffer.from(bytes).toString('base64') });
      await page.waitForTimeout(300);
      // Strings, not functions, for page.evaluate: tsx would wrap inner arrow functions in a helper the page does not have.
      const before = await page.evaluate(`document.querySelector('[data-testid=calib-info]')?.getAttribute('data-first-digest') ?? ''`);
      const t0 = await page.evaluate(`(() => {
        const input = document.querySelector('[data-testid=calib-input]');
        const dt = new DataTransfer();
        dt.items.add(window.__file);
        input.files = dt.files;
        const t = performance.now();
        input.dispatchEvent(new Event('change', { bubbles: true }));
        return t;
      })()`) as number;
      // (waitForFunction evaluates a string with eval, which the app's CSP refuses.)
      await page.waitForFunction((prev) => (document.querySelector('[data-testid=calib-info]')?.getAttribute('data-first-digest') ?? '') !== prev, before, { timeout: 120_000, polling: 10 });
      const r = await page.evaluate(`(() => ({
        ms: performance.now() - ${t0},
        long: window.__lt.filter(([s, d]) => s + d > ${t0}).map(([, d]) => Math.round(d)),
      }))()`) as { ms: number; long: number[] };
      await page.waitForTimeout(300);
      const lt = r.long.length ? r.long.join(', ') + ' ms' : 'none';
      console.log(`${name.padEnd(12)} ${String(bytes.length).padStart(9)}  ${r.ms.toFixed(0).padStart(7)}  ${lt.padEnd(23)}  ${nodeMs(name, bytes).toFixed(0).padStart(7)}`);
    }
    await context.close();
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
