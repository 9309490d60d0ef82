// The face demo in Chromium: open the shipped Vitis RetinaFace (already quantized, so the Simulate step
// is open at once), pick the astronaut photo (read with the sample's BGR-means preset from samples.json,
// no calibration loaded), run: the panel recognises RetinaFace's outputs and draws a face box with five
// landmarks in the float and the int8 pane. The screenshot of the panes goes to docs/demo-retinaface.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type AppSession } from './browser';

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
});
afterAll(async () => {
  await app?.close();
});

describe('RetinaFace demo', () => {
  it('the astronaut photo shows a face box in the float and the int8 pane', async () => {
    const { page } = app;
    await page.locator('[data-file="retinaface_vitis_qdq.onnx"]').click();
    await page.waitForFunction(() => !!document.querySelector('[data-testid=graph]')?.getAttribute('data-painted'), null, { timeout: 90_000 });
    await page.getByTestId('step-simulate').click();
    await page.getByTestId('simulate-panel').waitFor();
    await page.getByTestId('demo-input-astronaut.png').click();
    await page.waitForFunction(() => (document.querySelector('[data-testid=sim-source]') as HTMLSelectElement | null)?.value === 'file');
    await page.getByTestId('run-sim').click();
    await page.getByTestId('sim-detections').waitFor({ timeout: 300_000 });
    expect(await page.getByTestId('sim-error').count()).toBe(0);
    expect(await page.getByTestId('sim-detections').getAttribute('data-kind')).toBe('retinaface');
    await page.getByTestId('det-float').waitFor();
    const float = await page.getByTestId('det-float').innerText();
    const int8 = await page.getByTestId('det-int8').innerText();
    console.log(`float faces: ${float.replace(/\n/g, '; ')}\nint8 faces: ${int8.replace(/\n/g, '; ')}`);
    expect(float).toMatch(/^face (0\.9\d|1\.00)/m);
    expect(int8).toMatch(/^face (0\.9\d|1\.00)/m);
    // Landmarks are painted: the landmark red (#e11) appears on the float canvas.
    const red = await page.getByTestId('sim-detections').locator('canvas').first().evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] === 0xee && d[i + 1] === 0x11 && d[i + 2] === 0x11) n++;
      return n;
    });
    expect(red).toBeGreaterThan(0);
    await page.getByTestId('sim-detections').screenshot({ path: 'docs/demo-retinaface.png' });
  }, 600_000);
});
