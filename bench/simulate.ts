// The Simulate step in Chromium, on the built app: `npx tsx bench/simulate.ts` (after nothing: it builds).
// For the Fashion-MNIST sample (quantized in the app on its sample data) and the RetinaFace QDQ sample
// (simulated as opened): time to prepare + run the first sample, a second run, and the longest
// main-thread task during the runs (the panel must stay responsive: the work is in the sim worker).
import { execFileSync } from 'node:child_process';
import { chromium, type Page } from 'playwright-core';
import { preview } from 'vite';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/e2e/browser';

async function openSample(page: Page, file: string): Promise<void> {
  await page.locator(`[data-file="${file}"]`).click();
  await page.waitForFunction(() => !!document.querySelector('[data-testid=graph]')?.getAttribute('data-painted'), null, { timeout: 120_000 });
}

/** Clicks Run and waits for a new report; returns wall ms and the longest main-thread task meanwhile. */
async function timedRun(page: Page): Promise<{ ms: number; longest: number; times: string }> {
  await page.evaluate(() => { (window as unknown as { __long: number[] }).__long = []; });
  const before = await page.getByTestId('sim-times').innerText().catch(() => '');
  const t0 = Date.now();
  await page.getByTestId('run-sim').click();
  await page.waitForFunction(
    (prev) => {
      const err = document.querySelector('[data-testid=sim-error]');
      if (err) throw new Error(err.textContent ?? 'simulation error');
      const t = document.querySelector('[data-testid=sim-times]')?.textContent;
      return !!t && t !== prev && !document.querySelector('[data-testid=sim-progress]');
    },
    before,
    { timeout: 600_000, polling: 20 },
  );
  const ms = Date.now() - t0;
  const long = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
  return { ms, longest: Math.max(0, ...long), times: await page.getByTestId('sim-times').innerText() };
}

execFileSync('npx', ['vite', 'build', '--logLevel', 'error'], { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
const server = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
const url = server.resolvedUrls!.local[0];
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
try {
  for (const file of ['fmnist_seed000.onnx', 'retinaface_vitis_qdq.onnx']) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.addInitScript(`window.__long = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask' });`);
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`${file}: page error: ${String(e)}`));
    await page.goto(url);
    await openSample(page, file);
    if (file.startsWith('fmnist')) {
      await page.getByTestId('step-calibrate').click();
      await page.getByTestId('use-sample-calib').click();
      await page.getByTestId('calib-info').waitFor();
      await page.getByTestId('to-quantize').click();
      await page.getByTestId('run-quantize').click();
      await page.getByTestId('quant-results').waitFor({ timeout: 120_000 });
    }
    await page.getByTestId('step-simulate').click();
    await page.getByTestId('simulate-panel').waitFor();
    if (file.startsWith('fmnist')) await page.getByTestId('sim-source').selectOption('eval');
    else {
      // RetinaFace has no sample data: a picked .npy of one synthetic 320×320 RGB image.
      const { writeNpy } = await import('../src/core/data/npy');
      const data = Float32Array.from({ length: 3 * 320 * 320 }, (_, i) => ((i * 2654435761) >>> 24) - 128);
      const npy = writeNpy({ dtype: 'float32', shape: [1, 3, 320, 320], data });
      await page.getByTestId('sim-file-input').setInputFiles({ name: 'x.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(npy) });
      await page.waitForFunction(() => (document.querySelector('[data-testid=sim-source]') as HTMLSelectElement | null)?.value === 'file', null, { timeout: 60_000 });
    }
    const first = await timedRun(page);
    const second = await timedRun(page);
    const rows = await page.getByTestId('agreement-row').count();
    const exact = await page.getByTestId('agreement-summary').innerText();
    console.log(`${file.padEnd(28)} first run (prepare + run) ${first.ms} ms, longest main-thread task ${first.longest.toFixed(0)} ms`);
    console.log(`${''.padEnd(28)} second run ${second.ms} ms, longest main-thread task ${second.longest.toFixed(0)} ms; ${second.times}; ${rows} tensors, ${exact}`);
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
}
