// TFLite and Keras files in Chromium: dropped on the page they open as graphs (the HDF5 reader loads in
// the worker on demand), a vai_q quantized .h5 shows its stored fix points, a bad file keeps the model.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOnnx } from '../../src/core/onnx/reader';
import { dropFiles, openApp, type AppSession } from './browser';

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
});
afterAll(async () => {
  await app?.close();
});

const file = (p: string) => new Uint8Array(readFileSync(p));
// Null before the first model (the gallery has no graph yet).
const painted = () => app.page.evaluate(() => document.querySelector('[data-testid=graph]')?.getAttribute('data-painted') ?? null);
const ops = () => app.page.locator('.react-flow__node [data-testid=graph-node]').evaluateAll((els) => els.map((e) => e.getAttribute('data-op')!));

async function drop(name: string, bytes: Uint8Array): Promise<void> {
  const before = await painted();
  await dropFiles(app.page, [{ name, bytes }]);
  await app.page.waitForFunction(
    (prev) => {
      const v = document.querySelector('[data-testid=graph]')?.getAttribute('data-painted');
      return v && v !== prev;
    },
    before,
    { timeout: 60_000 },
  );
  expect(await app.page.getByTestId('model-name').innerText()).toBe(name);
}

describe('TFLite and Keras import', () => {
  it('opens a dropped .tflite (int8 person_detect) as an NCHW graph', async () => {
    await drop('person_detect.tflite', file('public/models/person_detect.tflite'));
    const o = await ops();
    expect(o.filter((x) => x === 'Conv')).toHaveLength(28);
    expect(o).toContain('Softmax');
    expect(await app.page.locator('[data-name="MobilenetV1/MobilenetV1/Conv2d_0/Relu6"]').innerText()).toContain('W ⟨8×1×3×3⟩');
  });

  it('saves the imported model as a float ONNX file', async () => {
    const [download] = await Promise.all([app.page.waitForEvent('download'), app.page.getByTestId('save-onnx').click()]);
    expect(download.suggestedFilename()).toBe('person_detect.onnx');
    const path = await download.path();
    const m = readOnnx(new Uint8Array(readFileSync(path)));
    expect(m.graph.nodes.filter((n) => n.opType === 'Conv')).toHaveLength(28);
    expect(m.graph.inputs[0].shape).toEqual([1, 1, 96, 96]);
  });

  it('opens a dropped Keras .h5 (tf.keras 2.x) with the layer names as node names', async () => {
    await drop('tf2_functional.h5', file('test/fixtures/keras/tf2_functional.h5'));
    for (const name of ['conv2d', 'separable_conv2d', 'conv2d_transpose', 'dense']) {
      expect(await app.page.locator(`[data-name="${name}"]`).count(), name).toBe(1);
    }
    expect(await app.page.locator('[data-name="conv2d"]').innerText()).toContain('W ⟨8×3×3×3⟩');
  });

  it('opens a vai_q_tensorflow2 quantized .h5 with its fix points, no calibration', async () => {
    await drop('vaiq_quantized.h5', file('test/fixtures/keras/vaiq_quantized.h5'));
    await app.page.waitForFunction(() => document.querySelectorAll('[data-testid=edge-fp]').length > 0, null, { timeout: 30_000 });
    const texts = await app.page.getByTestId('edge-fp').allTextContents();
    // The input quantizer's 6 and the conv's post-activation 5, as the file stores them.
    expect(texts).toContain('fp=6');
    expect(texts).toContain('fp=5');
  });

  it('a truncated .h5 gets one message and the open model stays', async () => {
    await dropFiles(app.page, [{ name: 'cut.h5', bytes: file('test/fixtures/keras/tf2_functional.h5').slice(0, 4000) }]);
    const banner = app.page.getByTestId('error-banner');
    await banner.waitFor();
    const message = await app.page.getByTestId('error-message').innerText();
    expect(message).toMatch(/^cut\.h5: .*(damaged|truncated)/);
    expect(message).not.toContain('\n');
    expect(await app.page.getByTestId('model-name').innerText()).toBe('vaiq_quantized.h5');
    await app.page.getByTestId('error-dismiss').click();
  });

  it('opens the Keras and TFLite samples from the gallery', async () => {
    for (const [sample, node] of [['keras_layer_zoo.h5', 'separable_conv2d'], ['person_detect.tflite', 'MobilenetV1/Logits/AvgPool_1a/AvgPool']]) {
      const before = await painted();
      await app.page.getByTestId('open-gallery').click();
      await app.page.locator(`[data-file="${sample}"]`).click();
      await app.page.waitForFunction(
        (prev) => {
          const v = document.querySelector('[data-testid=graph]')?.getAttribute('data-painted');
          return v && v !== prev;
        },
        before,
        { timeout: 60_000 },
      );
      expect(await app.page.getByTestId('model-name').innerText()).toBe(sample);
      expect(await app.page.locator(`[data-name="${node}"]`).count(), node).toBe(1);
    }
  });

  it('made no request to another origin and raised no page error', () => {
    expect(app.foreignRequests).toEqual([]);
    expect(app.pageErrors).toEqual([]);
  });
});
