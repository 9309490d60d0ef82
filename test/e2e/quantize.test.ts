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
    // Data loaded is not data measured: the step is ticked once Quantize has run the statistics pass.
    expect(await page.getByTestId('step-calibrate').getAttribute('data-done')).toBeNull();
    await page.screenshot({ path: 'test/.tmp/calibrate.png' });

    await page.getByTestId('to-quantize').click();
    await page.getByTestId('run-quantize').click();
    await page.getByTestId('quant-results').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('quant-error').count()).toBe(0);
    expect(await page.getByTestId('step-calibrate').getAttribute('data-done')).toBe('');
    // onnxruntime-web ran in the worker (its wasm from this origin): no fallback to the interpreter.
    expect(await page.getByTestId('quant-results').innerText()).not.toContain('built-in interpreter');

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
    // The worst layer's weight: float and quantized histograms. (Which layer is worst depends on the
    // quantizer — fc2 against the float model — and its panel opens on its output: pick the weight.)
    await page.getByTestId('node-quant').locator('.fp-chip', { hasText: /weight/ }).first().click();
    await page.getByTestId('tensor-detail').getByTestId('weight-histograms').waitFor();
    // A weight: float values above their quantized values, on one range. The conv's row centres it.
    await rows.filter({ hasText: conv.name }).click();
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

  it('a pin re-measures SQNR and lists the rule adjustment it causes; a fused Relu\'s settings reach its Conv', async () => {
    const { page } = app;
    const convDb = async () => parseFloat(await page.getByTestId('worst-row').filter({ hasText: '/conv/Conv' }).locator('td:nth-child(2)').innerText());
    const selectedName = () => page.locator('.react-flow__node.selected [data-testid=graph-node]').getAttribute('data-name');
    const before = await convDb();
    await page.locator('[data-testid=graph-node][data-name="/Relu"]').click();
    const nq = page.getByTestId('node-quant');
    await nq.waitFor();
    expect(await page.getByTestId('layer-of').innerText()).toContain('/conv/Conv');
    // fp=8 is above fp_w + fp_in, so shift_cut lowers it; the range left (a few units) clips the ReLU output.
    await page.getByTestId('overrides').locator('input').fill('8');
    await page.getByTestId('pin-fp').click();
    const adj = page.getByTestId('adjustments');
    await adj.waitFor();
    await page.waitForFunction(() => !document.querySelector('[data-testid=remeasuring]'));
    expect(await convDb()).toBeLessThan(before - 10);
    await adj.locator('summary').click();
    const row = page.getByTestId('adjustment-row').filter({ hasText: '/Relu_output_0' }).first();
    expect(await row.innerText()).toMatch(/8→-?\d+[\s\S]*shift_cut/);
    await page.locator('[data-testid=graph-node][data-name="/conv/Conv"]').click();
    await expect.poll(selectedName).toBe('/conv/Conv');
    await row.click();
    await expect.poll(selectedName).toBe('/Relu');
    await page.screenshot({ path: 'test/.tmp/adjustments.png' });

    // A method chosen in the side panel is written into the exported config, under the layer's name.
    await page.locator('[data-testid=graph-node][data-name="/conv/Conv"]').click();
    await nq.locator('.fp-chip', { hasText: 'conv.weight' }).click();
    await page.getByTestId('override-method').selectOption('maxmin');
    await page.waitForFunction(() => document.querySelector('[data-testid=tensor-detail]')?.textContent?.includes('· maxmin'));
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-config').click()]);
    const cfg = JSON.parse(readFileSync(await dl.path(), 'utf8')) as { layer_quantize_config: { layer_name?: string; tensor_quantize_config?: Record<string, { method?: string }> }[] };
    expect(cfg.layer_quantize_config.find((l) => l.layer_name === '/conv/Conv')?.tensor_quantize_config?.weights?.method).toBe('maxmin');

    // "Keep layer in float" on the fused Relu names the Conv, so the Relu's output really goes float.
    await page.locator('[data-testid=graph-node][data-name="/Relu"]').click();
    await page.getByTestId('keep-float').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=node-quant]')?.textContent?.includes('/Relu_output_0: float'), null, { timeout: 60_000 });
    const text = await page.getByTestId('quant-config').inputValue();
    expect(text).toContain('"layer_name": "/conv/Conv"');
    expect(text).not.toContain('"layer_name": "/Relu"');
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

    // With no preprocessing chosen, an array of the model's shape goes in as it is (the CLI's default too).
    await page.getByTestId('step-calibrate').click();
    await page.getByTestId('pre-clear').click();
    expect(await page.getByTestId('preprocess-note').innerText()).toContain('⟨1×28×28⟩ samples is fed as it is');
    expect(await page.getByTestId('pre-scale').getAttribute('placeholder')).toBe('1');
    const norm = Float32Array.from({ length: 3 * 784 }, (_, i) => (i % 11) / 5 - 1);
    await page.getByTestId('calib-input').setInputFiles({ name: 'norm.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(writeNpy({ dtype: 'float32', shape: [3, 1, 28, 28], data: norm })) });
    await page.waitForFunction(() => document.querySelector('[data-testid=calib-info]')?.textContent?.includes('3 samples'));
    expect(await page.getByTestId('calib-info').innerText()).toContain('fed as is');
    expect(await page.getByTestId('calib-preview').locator('figcaption').first().innerText()).toBe('-1.00…1.00');
    // An RGB 32×32 array is not squeezed into the grey 28×28 input without being asked to.
    const rgb = writeNpy({ dtype: 'uint8', shape: [2, 32, 32, 3], data: new Uint8Array(2 * 32 * 32 * 3) });
    await page.getByTestId('calib-input').setInputFiles({ name: 'rgb.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(rgb) });
    await page.waitForFunction(() => document.querySelector('[data-testid=calib-error]')?.textContent?.includes('(32, 32, 3)'));
    expect(await err.innerText()).toMatch(/rgb\.npy: samples are \(32, 32, 3\) but the model input "[^"]+" is \S+×1×28×28; set a resize and a colour conversion/);
    await page.getByTestId('pre-resize').selectOption('stretch');
    await page.getByTestId('pre-color').selectOption('grayscale');
    await page.waitForFunction(() => document.querySelector('[data-testid=calib-info]')?.textContent?.includes('2 samples'));
    expect(await page.getByTestId('calib-info').innerText()).toContain('preprocessed');
    expect(await page.getByTestId('calib-error').count()).toBe(0);
    // A drop with nothing usable says what was expected (items without a file-system entry fall back to their file).
    await page.getByTestId('calib-drop').evaluate((el) => {
      const dt = new DataTransfer();
      dt.items.add(new File(['hello'], 'notes.txt', { type: 'text/plain' }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => document.querySelector('[data-testid=calib-error]')?.textContent?.includes('none of the 1 file(s) is calibration data'));
    expect(await page.getByTestId('calib-info').innerText()).toContain('2 samples');
    await page.getByTestId('pre-clear').click();
    await page.getByTestId('use-sample-calib').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=calib-info]')?.textContent?.includes('200 samples'));
    await page.getByTestId('step-quantize').click();
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
