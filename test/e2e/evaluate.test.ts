// The Evaluate section in Chromium: quantize the Fashion-MNIST sample, evaluate the shipped 1000-image
// set through float and int8 from the Simulate panel, and check both accuracies, both confusion matrices
// (counts add up to the set) and that a disagreeing sample runs as the demo input when clicked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type AppSession, quantizeOnSampleSet, waitGraphPainted } from './browser';

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
});
afterAll(async () => {
  await app?.close();
});

const cells = (id: string) => app.page.getByTestId(id).locator('tbody td').allInnerTexts();

describe('evaluate', () => {
  it('Fashion-MNIST evaluation: both accuracies, both confusion matrices, disagreements runnable', async () => {
    const { page } = app;
    await page.locator('[data-file="fmnist_seed000.onnx"]').click();
    await waitGraphPainted(page);
    await quantizeOnSampleSet(page);
    await page.getByTestId('step-simulate').click();
    // Long main-thread tasks during the evaluation are logged for the report (not asserted: no timed assertions).
    await page.evaluate(() => {
      const w = window as unknown as { __long: number[] };
      w.__long = [];
      new PerformanceObserver((l) => { for (const e of l.getEntries()) w.__long.push(e.duration); }).observe({ type: 'longtask' });
    });
    const t0 = Date.now();
    await page.getByTestId('run-eval').click();
    // The samples go over several simulation workers when the page is cross-origin isolated (src/ui/sim/pool.ts).
    const expected = await page.evaluate(() => (crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency) : 1));
    let most = 0;
    while (most < expected && !/1000 \/ 1000 done/.test(await page.getByTestId('eval-progress').innerText().catch(() => ''))) {
      most = Math.max(most, page.workers().filter((w) => /sim\.worker/.test(w.url())).length);
      await page.waitForTimeout(50);
    }
    console.log(`simulation workers seen during the evaluation: ${most} (expected ${expected})`);
    expect(most).toBe(expected);
    await page.waitForFunction(() => /1000 \/ 1000 done/.test(document.querySelector('[data-testid=eval-progress]')?.textContent ?? ''), null, { timeout: 400_000 });
    const longTasks = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
    console.log(`evaluation of 1000 samples: ${Date.now() - t0} ms; main-thread long tasks (ms): ${JSON.stringify(longTasks.map((d) => Math.round(d)))}`);
    const f = Number((await page.getByTestId('eval-float-acc').innerText()).replace(' %', ''));
    const q = Number((await page.getByTestId('eval-int8-acc').innerText()).replace(' %', ''));
    console.log(`float top-1 ${f} %, int8 top-1 ${q} %`);
    expect(f).toBeGreaterThan(80);
    expect(q).toBeGreaterThan(80);
    for (const id of ['confusion-float', 'confusion-int8']) {
      const v = await cells(id);
      expect(v).toHaveLength(100);
      expect(v.reduce((s, x) => s + (Number(x) || 0), 0)).toBe(1000);
    }
    // Results survive a step switch.
    await page.getByTestId('step-compile').click();
    await page.getByTestId('step-simulate').click();
    expect(await page.getByTestId('eval-progress').innerText()).toMatch(/1000 \/ 1000 done/);
    const items = page.getByTestId('eval-disagree-item');
    if (await items.count() > 0) {
      const idx = (await items.first().innerText()).match(/#(\d+)/)![1];
      await items.first().click();
      await page.getByTestId('sim-results').waitFor({ timeout: 90_000 });
      expect(await page.getByTestId('sim-input-label').innerText()).toContain(`evaluation sample #${idx}`);
    }
  }, 600_000);

  it('clicking a tensor in the layer table after a run shows its channel grid and histograms', async () => {
    const { page } = app;
    if (await page.getByTestId('sim-results').count() === 0) {
      await page.getByTestId('sim-source').selectOption('eval');
      await page.getByTestId('run-sim').click();
      await page.getByTestId('sim-results').waitFor({ timeout: 90_000 });
    }
    // The first conv's output: a 16-channel 26×26 feature map (sorted by name it may not be first: pick by shape).
    const rows = page.getByTestId('agreement-row');
    const n = await rows.count();
    let picked = false;
    for (let i = 0; i < n && !picked; i++) {
      if ((await rows.nth(i).getAttribute('title'))?.includes('1×16×')) {
        await rows.nth(i).click();
        picked = true;
      }
    }
    expect(picked).toBe(true);
    await page.getByTestId('tensor-view').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('tensor-channels').innerText()).toMatch(/^16 of 16 channel\(s\), \d+×\d+ each/);
    for (const id of ['grid-float', 'grid-int8', 'grid-diff']) expect(await page.getByTestId(id).count()).toBe(1);
    // The int8 grid is painted: some pixel differs from the first.
    const varied = await page.getByTestId('grid-int8').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 4; i < d.length; i += 4) if (d[i] !== d[0]) return true;
      return false;
    });
    expect(varied).toBe(true);
    expect(await page.getByTestId('tensor-hist').locator('rect').count()).toBeGreaterThan(0);
  }, 600_000);
});
