// The first open from the start page: the graph canvas (React Flow) mounts while the model worker is still
// reading the file, under the start page, and the model's nodes are drawn into that same canvas. The model
// worker's code is held back here so that "while reading" lasts long enough to be looked at.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { dropFiles, launch, waitGraphPainted } from './browser';

const yolox = new Uint8Array(readFileSync('public/models/yolox_nano.onnx'));

let browser: Browser | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

/** The app on a fresh page, with its model worker's script held back until `release()`. */
async function appWithSlowWorker(): Promise<{ page: Page; errors: string[]; release(): void }> {
  let release = () => undefined as void;
  const held = new Promise<void>((r) => { release = r; });
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.route(/\/assets\/model\.worker-[^/]*\.js$/, async (route) => {
    await held;
    await route.continue();
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(inject('baseURL') + '/');
  await page.getByTestId('sample').first().waitFor();
  return { page, errors, release };
}

/** What the page shows while the worker is held: polled until the graph canvas appears, or 5 s. */
async function canvasWhileReading(page: Page) {
  await page.waitForFunction(() => !!document.querySelector('[data-testid=graph] .react-flow'), null, { timeout: 5_000 });
  return page.evaluate(() => {
    const flow = document.querySelector('[data-testid=graph] .react-flow') as HTMLElement & { __first?: boolean };
    flow.__first = true;
    return {
      busy: !!document.querySelector('[data-testid=progress]'),
      modelName: !!document.querySelector('[data-testid=model-name]'),
      gallery: !!document.querySelector('[data-testid=gallery]'),
      nodes: document.querySelectorAll('[data-testid=graph] .react-flow__node').length,
    };
  });
}

describe('first open', () => {
  it('mounts the canvas while the file is read and draws the big graph into it', async () => {
    const { page, errors, release } = await appWithSlowWorker();
    await dropFiles(page, [{ name: 'yolox_nano.onnx', bytes: yolox }]);
    // The start page stays, the canvas is up under it, empty, before the model is known.
    expect(await canvasWhileReading(page)).toEqual({ busy: true, modelName: false, gallery: true, nodes: 0 });
    release();
    await waitGraphPainted(page);
    const after = await page.evaluate(() => {
      const flow = document.querySelector('[data-testid=graph] .react-flow') as HTMLElement & { __first?: boolean };
      const input = document.querySelector('[data-testid=graph] .react-flow__node-io') as HTMLElement | null;
      const canvas = document.querySelector('[data-testid=graph]')!.getBoundingClientRect();
      const box = input?.getBoundingClientRect();
      return {
        same: flow.__first === true,
        gallery: !!document.querySelector('[data-testid=gallery]'),
        name: document.querySelector('[data-testid=model-name]')?.textContent,
        nodes: document.querySelectorAll('[data-testid=graph] .react-flow__node').length,
        // Like any big graph: at 100 % zoom, the first input at the top, centred.
        inputTop: box ? Math.round(box.top - canvas.top) : null,
        inputCentre: box ? Math.round(box.left + box.width / 2 - canvas.left - canvas.width / 2) : null,
      };
    });
    expect(after.same).toBe(true);
    expect(after.gallery).toBe(false);
    expect(after.name).toBe('yolox_nano.onnx');
    expect(after.nodes).toBeGreaterThan(5);
    expect(after.inputTop).toBe(24);
    expect(Math.abs(after.inputCentre!)).toBeLessThanOrEqual(1);
    expect(errors).toEqual([]);
  });

  it('takes the early canvas away again when the file is not a model, and the start page stays', async () => {
    const { page, errors, release } = await appWithSlowWorker();
    await dropFiles(page, [{ name: 'noise.onnx', bytes: Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff) }]);
    expect((await canvasWhileReading(page)).busy).toBe(true);
    release();
    await page.getByTestId('error-banner').waitFor();
    expect(await page.getByTestId('error-message').innerText()).toMatch(/^noise\.onnx: /);
    expect(await page.locator('[data-testid=graph]').count()).toBe(0);
    expect(await page.getByTestId('gallery').isVisible()).toBe(true);
    // The next file opens as usual.
    await dropFiles(page, [{ name: 'yolox_nano.onnx', bytes: yolox }]);
    await waitGraphPainted(page);
    expect(await page.getByTestId('model-name').innerText()).toBe('yolox_nano.onnx');
    expect(errors).toEqual([]);
  });
});
