// The detection demo in Chromium: open the YOLOX-nano sample (its BGR / letterbox-114 preprocessing
// comes from samples.json), calibrate on the four shipped photographs, quantize, then simulate the
// astronaut photo from the Simulate panel's samples: boxes of float and int8 drawn over the photo.
// The screenshot of the panes goes to docs/demo.png for the README.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type AppSession } from './browser';

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
});
afterAll(async () => {
  await app?.close();
});

const PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'];

describe('detection demo', () => {
  // A person box in both panes. The float pane is the opened model on onnxruntime (person 0.93). The int8
  // pane is the DPU simulation of per-tensor power-of-two YOLOX-nano: with data-aware weight rounding
  // it finds the person in the same place, but at a low score (0.07, as from the CLI on the same photos
  // and preprocessing), so it is read at the slider's lowest threshold. Its SiLU layers block cross-layer equalization, which
  // is what per-tensor quantization of its BN-folded depthwise convs needs (bench/quant-layers.ts).
  it('YOLOX on the astronaut photo: a person box in the float pane and in the int8 pane', async () => {
    const { page } = app;
    await page.locator('[data-file="yolox_nano.onnx"]').click();
    await page.waitForFunction(() => !!document.querySelector('[data-testid=graph]')?.getAttribute('data-painted'), null, { timeout: 90_000 });
    await page.getByTestId('step-calibrate').click();
    // The sample's preset (samples.json) fills the form asynchronously: load the photos after it.
    await page.waitForFunction(() => (document.querySelector('[data-testid=pre-color]') as HTMLSelectElement | null)?.value === 'bgr', null, { timeout: 30_000 });
    expect(await page.getByTestId('pre-resize').inputValue()).toBe('letterbox');
    await page.getByTestId('calib-input').setInputFiles(PHOTOS.map((f) => ({
      name: f, mimeType: f.endsWith('.png') ? 'image/png' : 'image/jpeg', buffer: readFileSync(`public/demo/${f}`),
    })));
    await page.getByTestId('calib-info').waitFor({ timeout: 60_000 });
    await page.getByTestId('to-quantize').click();
    // Data-aware weight rounding on (off by default, as vai_q's fast finetune). Bias correction off: its corrections of all layers at once, estimated together, move YOLOX-nano's
    // int8 output further from float (output SQNR 6.3 dB without, 0.3 dB with; bench/quant-layers.ts).
    await page.getByTestId('config-input').setInputFiles({ name: 'q.json', mimeType: 'application/json', buffer: Buffer.from('{"include_adaround": true, "include_bias_corr": false}') });
    await page.waitForFunction(() => (document.querySelector('[data-testid=quant-config]') as HTMLTextAreaElement | null)?.value.includes('include_bias_corr'));
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    await page.getByTestId('run-quantize').click();
    await page.getByTestId('quant-results').waitFor({ timeout: 300_000 });
    // Cross-origin isolated with 2+ cores: YOLOX-nano's statistics (31 M values a sample) fold in their own worker.
    if (await page.evaluate(() => navigator.hardwareConcurrency > 1)) expect(workers.some((u) => /fold\.worker/.test(u))).toBe(true);

    await page.getByTestId('step-simulate').click();
    await page.getByTestId('simulate-panel').waitFor();
    await page.getByTestId('demo-input-astronaut.png').click();
    await page.waitForFunction(() => (document.querySelector('[data-testid=sim-source]') as HTMLSelectElement | null)?.value === 'file');
    await page.getByTestId('run-sim').click();
    await page.getByTestId('sim-detections').waitFor({ timeout: 300_000 });
    expect(await page.getByTestId('sim-error').count()).toBe(0);
    await page.getByTestId('det-float').waitFor();
    const float = await page.getByTestId('det-float').innerText();
    const int8 = await page.getByTestId('det-int8').innerText();
    console.log(`float boxes: ${float.replace(/\n/g, '; ')}\nint8 boxes: ${int8.replace(/\n/g, '; ')}`);
    expect(float).toMatch(/^person 0\.\d\d/m);
    await page.getByTestId('sim-score').fill('0.05');
    await page.waitForFunction(() => document.querySelector('[data-testid=sim-score]')?.parentElement?.textContent?.includes('0.05'));
    const int8Low = await page.getByTestId('det-int8').locator('li').allInnerTexts();
    console.log(`int8 boxes at 0.05: ${int8Low.join('; ')}`);
    expect(int8Low.some((t) => /^person 0\.\d\d$/.test(t.trim()))).toBe(true);
    await page.getByTestId('sim-detections').screenshot({ path: 'docs/demo.png' });
    // The slider filters: at 0.95 fewer (or no) boxes remain in the float pane.
    await page.getByTestId('sim-score').fill('0.95');
    const high = await page.getByTestId('det-float').locator('li').allInnerTexts();
    expect(high.every((t) => t === 'no box above the threshold' || Number(t.split(' ').pop()) >= 0.95)).toBe(true);
  }, 600_000);
});
