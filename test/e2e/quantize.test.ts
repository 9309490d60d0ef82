// Calibration and quantization in Chromium: fmnist with its sample data, badges, SQNR mode, the
// worst-layers table, a bad config, and a QDQ model's imported fix points.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/core/data/npy';
import { importQdq } from '../../src/core/quant';
import { openModel } from '../../src/core/open';
import { openApp, type AppSession } from './browser';

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
});
afterAll(async () => {
  await app?.close();
});

async function openSample(file: string, previous?: string | null): Promise<void> {
  await app.page.getByTestId('open-gallery').click().catch(() => undefined);
  await app.page.locator(`[data-file="${file}"]`).click();
  await app.page.waitForFunction(
    (prev) => {
      const v = document.querySelector('[data-testid=graph]')?.getAttribute('data-painted');
      return v && v !== prev;
    },
    previous ?? null,
    { timeout: 60_000 },
  );
}
const painted = () => app.page.getAttribute('[data-testid=graph]', 'data-painted');

describe('calibrate and quantize', () => {
  it('quantizes fmnist on its sample data: fp badges, SQNR colours, worst layers', async () => {
    await openSample('fmnist_seed000.onnx');
    const { page } = app;
    expect(await page.getByTestId('step-simulate').isDisabled()).toBe(true);
    await page.getByTestId('step-calibrate').click();
    await page.getByTestId('use-sample-calib').click();
    await page.getByTestId('calib-info').waitFor();
    expect(await page.getByTestId('calib-info').innerText()).toContain('200 samples of ⟨1×28×28⟩');
    expect(await page.getByTestId('calib-preview').locator('canvas').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('step-calibrate').getAttribute('data-done')).toBe('');
    await page.screenshot({ path: 'test/.tmp/calibrate.png' });

    await page.getByTestId('to-quantize').click();
    await page.getByTestId('run-quantize').click();
    await page.getByTestId('quant-results').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('quant-error').count()).toBe(0);

    // The graph input is raw 0..255 pixels in int8: fp=-1 (step 2, range −256..254).
    const model = openModel(new Uint8Array(readFileSync('public/models/fmnist_seed000.onnx')), 'fmnist_seed000.onnx');
    const input = model.graph.inputs[0].name;
    const edgeTexts = await page.getByTestId('edge-fp').allTextContents();
    expect(edgeTexts.length).toBeGreaterThan(2);
    expect(edgeTexts.every((t) => /^fp=-?\d+$|^float$/.test(t))).toBe(true);
    await page.locator(`[data-testid=graph-node][data-name="${input}"]`).click();
    const nq = page.getByTestId('node-quant');
    await nq.waitFor();
    expect(await nq.innerText()).toContain(`${input}: fp=-1`);
    // Weights inside a Conv carry their fix points.
    const conv = model.graph.nodes.find((n) => n.opType === 'Conv')!;
    const wfp = page.locator(`[data-testid=graph-node][data-name="${conv.name}"] [data-testid=weight-fp]`);
    expect(await wfp.count()).toBe(2); // W and B
    expect(await wfp.first().innerText()).toMatch(/^fp=-?\d+$/);

    // The tensor detail of an activation: histogram with the range, clipping, alternatives.
    await page.getByTestId('tensor-detail').waitFor();
    expect(await page.getByTestId('clipped').innerText()).toMatch(/%$/);
    await page.getByTestId('alternatives').waitFor();
    await page.getByTestId('node-quant').screenshot({ path: 'test/.tmp/node-quant.png' });
    await page.getByTestId('alternatives').waitFor();
    expect(await page.getByTestId('range-histogram').count()).toBe(1);

    await page.getByTestId('sqnr-mode').check();
    await page.getByTestId('sqnr-legend').waitFor();
    const rows = page.getByTestId('worst-row');
    expect(await rows.count()).toBeGreaterThan(1);
    // Sorted ascending by SQNR: the first row is the worst.
    const db = (await page.getByTestId('worst-layers').locator('tbody tr td:nth-child(2)').allInnerTexts()).map((t) => (t.startsWith('∞') ? Infinity : parseFloat(t)));
    expect(db).toEqual([...db].sort((a, b) => a - b));
    await rows.first().click();
    await page.getByTestId('node-quant').waitFor();
    expect(await page.getByTestId('node-quant').innerText()).toContain('SQNR');
    // The worst layer opens on its weight: float and quantized histograms.
    await page.getByTestId('tensor-detail').getByTestId('weight-histograms').waitFor();
    // A weight: float values above their quantized values, on one range.
    await page.locator(`[data-testid=graph-node][data-name="${conv.name}"]`).click();
    await page.getByTestId('node-quant').locator('.fp-chip', { hasText: conv.inputs[1].length > 18 ? conv.inputs[1].slice(-16) : conv.inputs[1] }).click();
    const wh = page.getByTestId('weight-histograms');
    await wh.waitFor();
    expect(await wh.getByTestId('histogram').count()).toBe(2);
    expect(await wh.innerText()).toMatch(/quantized \(fp=-?\d+/);
    const header = await page.locator(`[data-testid=graph-node][data-name="${conv.name}"] .op-header`).evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(header).toMatch(/^rgb/);
    expect(header).not.toBe('rgb(207, 211, 216)'); // measured, so not the "not measured" grey
    await page.screenshot({ path: 'test/.tmp/quantize.png' });

    // quant_info.json downloads from a Blob URL: [bit width, fix point] per tensor.
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-info').click()]);
    expect(dl.suggestedFilename()).toBe('quant_info.json');
    const info = JSON.parse(readFileSync(await dl.path(), 'utf8')) as Record<string, [number, number]>;
    expect(info[input]).toEqual([8, -1]);
    expect(info[conv.inputs[1]]?.[0]).toBe(8);
    const [qdq] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-qdq').click()]);
    expect(qdq.suggestedFilename()).toBe('fmnist_seed000_qdq.onnx');
    const q = openModel(new Uint8Array(readFileSync(await qdq.path())), 'qdq.onnx');
    expect(importQdq(q).fixPoints.get(input)?.fixPoint).toBe(-1);

    // Clicking an edge shows its tensor's quantization in the side panel.
    await page.locator('.react-flow__edge', { has: page.getByTestId('edge-fp') }).first().locator('.react-flow__edge-interaction').dispatchEvent('click');
    await page.getByTestId('tensor-detail').waitFor();
    expect(await page.getByTestId('tensor-detail').innerText()).toContain(input);

    // Pinning a fix point re-solves at once.
    await page.locator(`[data-testid=graph-node][data-name="${input}"]`).click();
    await page.getByTestId('overrides').locator('input').fill('-2');
    await page.getByTestId('pin-fp').click();
    await page.waitForFunction((name) => document.querySelector('[data-testid=node-quant]')?.textContent?.includes(`${name}: fp=-2`), input);
  });

  it('names both shapes when calibration data does not fit, and keeps the loaded set', async () => {
    const { page } = app;
    await page.getByTestId('step-calibrate').click();
    const bad = writeNpy({ dtype: 'float32', shape: [4, 5], data: new Float32Array(20) });
    await page.getByTestId('calib-input').setInputFiles({ name: 'wrong.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(bad) });
    const err = page.getByTestId('calib-error');
    await err.waitFor();
    expect(await err.innerText()).toContain('(5)');
    expect(await err.innerText()).toContain('(1, 28, 28)');
    expect(await page.getByTestId('calib-info').innerText()).toContain('200 samples');
    expect(await page.getByTestId('quant-results').count()).toBe(0); // the Quantize panel is closed, not the result lost
    await page.getByTestId('step-quantize').click();
    expect(await page.getByTestId('quant-results').count()).toBe(1);
  });

  it('names the bad field of an invalid config and keeps the model', async () => {
    const { page } = app;
    const before = await painted();
    if (!(await page.getByTestId('quantize-panel').isVisible())) await page.getByTestId('step-quantize').click();
    await page.locator('.config-json summary').click();
    await page.getByTestId('quant-config').fill('{"overall_quantize_config": {"method": "best"}}');
    await page.getByTestId('run-quantize').click();
    const err = page.getByTestId('config-error');
    await err.waitFor();
    expect(await err.innerText()).toContain('overall_quantize_config.method');
    expect(await painted()).toBe(before);
    expect(await page.getByTestId('model-name').innerText()).toBe('fmnist_seed000.onnx');
    expect(await page.getByTestId('quant-results').count()).toBe(1);
  });

  it('cancels a run in the worker and keeps the previous result', async () => {
    const { page } = app;
    await page.getByTestId('quant-config').fill('{"overall_quantize_config": {"method": "maxmin"}}');
    await page.getByTestId('run-quantize').click();
    await page.getByTestId('quant-cancel').click();
    await page.getByTestId('quant-error').waitFor();
    expect(await page.getByTestId('quant-error').innerText()).toBe('quantization cancelled');
    expect(await page.getByTestId('run-quantize').isEnabled()).toBe(true);
    expect(await page.getByTestId('quant-results').count()).toBe(1);
  });

  it('opens the Vitis AI QDQ retinaface with its fix points, no calibration', async () => {
    const bytes = new Uint8Array(readFileSync('public/models/retinaface_vitis_qdq.onnx'));
    const { fixPoints } = importQdq(openModel(bytes, 'retinaface_vitis_qdq.onnx'));
    await openSample('retinaface_vitis_qdq.onnx', await painted());
    const { page } = app;
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=edge-fp]').length > 0, null, { timeout: 30_000 });
    const texts = await page.getByTestId('edge-fp').allTextContents();
    const fps = new Set([...fixPoints.values()].map((f) => `fp=${f.fixPoint}`));
    expect(texts.some((t) => fps.has(t))).toBe(true);
    await page.screenshot({ path: 'test/.tmp/retinaface-qdq.png' });
    expect(await page.getByTestId('step-quantize').getAttribute('data-done')).toBe('');
    // The SQNR colouring belonged to fmnist's run: the new model opens in category colours.
    expect(await page.getByTestId('sqnr-legend').count()).toBe(0);
    expect(app.foreignRequests).toEqual([]);
    expect(app.pageErrors).toEqual([]);
  });
});
