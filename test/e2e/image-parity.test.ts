// The same photo becomes the same input tensor in the app and in the CLI: the Calibrate step decodes and
// preprocesses in the model worker with the core's decoders (fast-png, jpeg-js) and resize, never the
// browser's canvas, so the first sample's digest the step shows equals the one Node computes. (What big
// photos cost the page is bench/calib-images.ts: Playwright's setInputFiles itself runs on the page's main
// thread, so it is no place to time the app.)
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplesFromFiles } from '../../src/core/data/calib';
import { sampleDigest } from '../../src/core/data/digest';
import { inputSpecFromShape, parsePreprocess } from '../../src/core/data/preprocess';
import { readOnnx } from '../../src/core/onnx/reader';
import { openApp, type AppSession } from './browser';

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
});
afterAll(async () => {
  await app?.close();
});

// YOLOX-nano's preset from samples.json: what the Calibrate form shows once the sample opens.
const PRESET = { layout: 'NCHW', color: 'bgr', resize: 'letterbox', pad_value: 114, raw: true };

function nodeDigest(file: string): string {
  const model = readOnnx(new Uint8Array(readFileSync('public/models/yolox_nano.onnx')));
  const inp = model.graph.inputs[0];
  const pre = parsePreprocess(PRESET);
  const spec = inputSpecFromShape(inp.name, inp.shape ?? [], pre.layout);
  const bytes = new Uint8Array(readFileSync(`public/demo/${file}`));
  return sampleDigest(samplesFromFiles([{ name: file, bytes }], spec, pre).sample(0));
}

describe('image parity', () => {
  it('astronaut.png and rocket.jpg give the Node path\'s tensor in the Calibrate step', async () => {
    const { page } = app;
    await page.locator('[data-file="yolox_nano.onnx"]').click();
    await page.waitForFunction(() => !!document.querySelector('[data-testid=graph]')?.getAttribute('data-painted'), null, { timeout: 90_000 });
    await page.getByTestId('step-calibrate').click();
    await page.waitForFunction(() => (document.querySelector('[data-testid=pre-color]') as HTMLSelectElement | null)?.value === 'bgr', null, { timeout: 30_000 });
    // The preset's letterbox border reaches the form (it was dropped once: the app padded with 0, the CLI 114).
    expect(await page.getByTestId('pre-pad').inputValue()).toBe('114');
    let previous = '';
    for (const file of ['astronaut.png', 'rocket.jpg']) {
      await page.getByTestId('calib-input').setInputFiles({
        name: file, mimeType: file.endsWith('.png') ? 'image/png' : 'image/jpeg', buffer: readFileSync(`public/demo/${file}`),
      });
      await page.waitForFunction((prev) => {
        const d = document.querySelector('[data-testid=calib-info]')?.getAttribute('data-first-digest');
        return !!d && d !== prev;
      }, previous, { timeout: 60_000 });
      const browser = await page.getByTestId('calib-info').getAttribute('data-first-digest');
      const node = nodeDigest(file);
      console.log(`${file}: browser ${browser}, node ${node}`);
      expect(browser).toBe(node);
      previous = browser!;
    }
    expect(app.pageErrors).toEqual([]);
  }, 300_000);
});
