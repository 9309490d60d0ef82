// Projects survive: the work on a model is saved in IndexedDB as the user goes, comes back after a
// reload exactly where the user was, and opening another model keeps it (the start page lists both).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type AppSession, quantizeOnSampleSet } from './browser';

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
});
afterAll(async () => {
  await app?.close();
});

const paintedNow = () => app.page.evaluate(() => document.querySelector('[data-testid=graph]')?.getAttribute('data-painted') ?? null);
const painted = (prev: string | null) => app.page.waitForFunction((p) => {
  const v = document.querySelector('[data-testid=graph]')?.getAttribute('data-painted');
  return v && v !== p;
}, prev, { timeout: 60_000 });
/** Waits until the start page lists `name` at `step` (the save is written a moment after a change). */
async function listed(name: string, step: string): Promise<void> {
  const { page } = app;
  if (await page.getByTestId('gallery').count() === 0) await page.getByTestId('open-gallery').click();
  await page.getByTestId('project-row').filter({ hasText: name }).getByTestId('project-step').filter({ hasText: step }).waitFor({ timeout: 30_000 });
}
const done = (step: string) => app.page.getByTestId(`step-${step}`).getAttribute('data-done');

describe('projects', () => {
  it('restores the project after a reload: calibration, quantization, target and the open step', async () => {
    const { page } = app;
    await page.locator('[data-file="fmnist_seed000.onnx"]').click();
    await painted(null);
    await quantizeOnSampleSet(page);
    await page.getByTestId('step-compile').click();
    await page.getByTestId('target-select').selectOption('arch:DPUCZDX8G_ISA1_B512');
    await page.getByTestId('compile-summary').filter({ hasText: 'DPU subgraph number' }).waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=compile-totals]')?.textContent?.includes('B512'), null, { timeout: 30_000 });
    const summary = await page.getByTestId('compile-summary').innerText();
    await listed('fmnist_seed000.onnx', 'compiled');

    await page.reload();
    await painted(null);
    // Back in the Compile step with the same target, the quantization run again from the saved inputs.
    await page.getByTestId('compile-panel').waitFor({ timeout: 90_000 });
    await page.getByTestId('compile-summary').filter({ hasText: 'DPU subgraph number' }).waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('target-select').inputValue()).toBe('arch:DPUCZDX8G_ISA1_B512');
    expect(await page.getByTestId('compile-summary').innerText()).toBe(summary);
    expect(await done('calibrate')).toBe('');
    expect(await done('quantize')).toBe('');
    expect(await done('compile')).toBe('');
    const measure = await page.evaluate(() => performance.getEntriesByName('project-restore')[0]?.duration ?? null);
    console.log(`project restore (calibration + quantization + compile again), ms: ${measure === null ? 'n/a' : Math.round(measure)}`);
    expect(app.foreignRequests).toEqual([]);
    expect(app.pageErrors).toEqual([]);
  });

  it('opening another model keeps the first one\'s work, which opens again from the start page', async () => {
    const { page } = app;
    const prev = await paintedNow();
    await page.getByTestId('open-gallery').click();
    await page.locator('[data-file="mnist-8.onnx"]').click();
    await painted(prev);
    expect(await done('quantize')).toBeNull();
    await listed('mnist-8.onnx', '');
    expect(await page.getByTestId('project-row').filter({ hasText: 'fmnist_seed000.onnx' }).getByTestId('project-step').innerText()).toBe('compiled');

    const prev2 = await paintedNow();
    await page.getByTestId('project-row').filter({ hasText: 'fmnist_seed000.onnx' }).getByTestId('project-open').click();
    await painted(prev2);
    // The quantization runs again from the saved calibration set and config; then Compile uses it.
    await page.locator('[data-testid=step-quantize][data-done]').waitFor({ timeout: 90_000 });
    await page.getByTestId('compile-summary').filter({ hasText: 'DPU subgraph number' }).waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('target-select').inputValue()).toBe('arch:DPUCZDX8G_ISA1_B512');
    expect(await done('quantize')).toBe('');

    // Delete removes a project from the list (and from storage).
    page.once('dialog', (d) => void d.accept());
    // (mnist-8 was compiled meanwhile: the Compile step stayed open when it opened.)
    await listed('mnist-8.onnx', '');
    await page.getByTestId('project-row').filter({ hasText: 'mnist-8.onnx' }).getByTestId('project-delete').click();
    await page.getByTestId('project-row').filter({ hasText: 'mnist-8.onnx' }).waitFor({ state: 'detached' });
    expect(await page.getByTestId('project-row').count()).toBe(1);
    expect(app.pageErrors).toEqual([]);
  });

  it('a model worker killed mid-quantize is replaced: one line says so, the project comes back, Quantize runs again', async () => {
    const { page } = app;
    if (await page.getByTestId('gallery').count()) await page.getByTestId('gallery-close').click();
    await page.getByTestId('step-quantize').click();
    await page.getByTestId('quantize-panel').waitFor();
    const prev = await paintedNow();
    await page.getByTestId('run-quantize').click();
    await page.getByTestId('quant-progress').waitFor();
    await page.evaluate(() => (window as unknown as { fixpointTest: { killModelWorker(why: string): void } }).fixpointTest.killModelWorker('terminated by the test'));
    // The progress does not freeze: the model opens again in a new worker from its last save.
    await painted(prev);
    const message = await page.getByTestId('error-message').innerText();
    expect(message).toBe('The model worker stopped during quantization (terminated by the test); the project was restored from its last save — run the step again.');
    await page.locator('[data-testid=step-quantize][data-done]').waitFor({ timeout: 90_000 });
    if (await page.getByTestId('quantize-panel').count() === 0) await page.getByTestId('step-quantize').click();
    await page.getByTestId('run-quantize').click();
    await page.getByTestId('quant-results').waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('quant-error').count()).toBe(0);

    // Cancel returns: the run ends (here the worker stops between batches; a stuck one is replaced after a second).
    await page.getByTestId('run-quantize').click();
    await page.getByTestId('quant-cancel').click();
    await page.getByTestId('quant-progress').waitFor({ state: 'detached', timeout: 10_000 });
    expect(app.pageErrors).toEqual([]);
  });

  it('exports a project as one file that another browser imports with its work', async () => {
    const { page } = app;
    await page.getByTestId('open-gallery').click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('project-row').filter({ hasText: 'fmnist_seed000.onnx' }).getByTestId('project-export').click(),
    ]);
    expect(download.suggestedFilename()).toBe('fmnist_seed000.fixpoint');
    const path = await download.path();
    expect(path).toBeTruthy();

    const other = await openApp();
    try {
      expect(await other.page.getByTestId('project-row').count()).toBe(0);
      await other.page.getByTestId('project-import-input').setInputFiles(path);
      await other.page.waitForFunction(() => !!document.querySelector('[data-testid=graph]')?.getAttribute('data-painted'), null, { timeout: 60_000 });
      await other.page.locator('[data-testid=step-quantize][data-done]').waitFor({ timeout: 90_000 });
      // The export was made with the Quantize step open; the Compile step keeps the target.
      await other.page.getByTestId('quantize-panel').waitFor();
      await other.page.getByTestId('step-compile').click();
      expect(await other.page.getByTestId('target-select').inputValue()).toBe('arch:DPUCZDX8G_ISA1_B512');
      await other.page.getByTestId('open-gallery').click();
      await other.page.getByTestId('project-row').filter({ hasText: 'fmnist_seed000.onnx' }).waitFor({ timeout: 30_000 });
      // A file that is not a project is refused in one line.
      await other.page.getByTestId('project-import-input').setInputFiles({ name: 'bad.fixpoint', mimeType: 'application/zip', buffer: Buffer.from('nope') });
      expect(await other.page.getByTestId('project-notice').innerText()).toContain('bad.fixpoint: not a Fixpoint project (not a zip archive)');
      expect(other.pageErrors).toEqual([]);
      expect(other.foreignRequests).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

describe('the same bytes under another name', () => {
  it('every name of the Deploy step is the file just opened, not the one the project was saved under', async () => {
    const own = await openApp();
    const { page } = own;
    try {
      const bytes = readFileSync('public/models/fmnist_seed000.onnx');
      const stamp = () => page.evaluate(() => document.querySelector('[data-testid=graph]')?.getAttribute('data-painted') ?? null);
      const paintedAfter = (prev: string | null) => page.waitForFunction((p) => {
        const v = document.querySelector('[data-testid=graph]')?.getAttribute('data-painted');
        return v && v !== p;
      }, prev, { timeout: 60_000 });
      const openAs = async (name: string) => {
        const prev = await stamp();
        await page.getByTestId('file-input').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: bytes });
        await paintedAfter(prev);
        expect(await page.getByTestId('model-name').innerText()).toBe(name);
      };
      const names = async () => [
        await page.getByTestId('model-name').innerText(),
        await page.getByTestId('vai-c-command').innerText(),
        await page.getByTestId('download-int-xmodel').innerText(),
        await page.getByTestId('download-xmodel').innerText(),
        await page.getByTestId('deploy-standin').innerText(),
        await page.getByTestId('deploy-code').innerText(),
      ].join('\n');
      const saysB = async () => {
        const text = await names();
        expect(text).toContain('vai_c_xir -x b_int.xmodel -a arch.json -o board -n b');
        expect(text).toContain('Download b_int.xmodel');
        expect(text).toContain('Download b.xmodel');
        expect(text).not.toMatch(/\ba(_int|_dpu)?\.(xmodel|npz|onnx)\b|-n a\b/);
      };

      // 1000 calibration images, so that the restore (which runs the quantization again) lasts long enough to be caught.
      await openAs('a.onnx');
      await page.getByTestId('step-calibrate').click();
      await page.getByTestId('calib-input').setInputFiles({ name: 'c.npy', mimeType: 'application/octet-stream', buffer: readFileSync('public/calib/fmnist_eval1000.npy') });
      await page.getByTestId('calib-info').waitFor({ timeout: 60_000 });
      await page.getByTestId('to-quantize').click();
      await page.getByTestId('run-quantize').click();
      await page.getByTestId('quant-results').waitFor({ timeout: 90_000 });
      await page.getByTestId('step-compile').click();
      await page.getByTestId('vai-c-command').filter({ hasText: 'a_int.xmodel' }).waitFor({ timeout: 60_000 });
      expect(await names()).toMatch(/-n a\b/);

      // The project (keyed by content) is restored for b.onnx: calibration, quantization and compile run
      // again. Its worker dies mid-way, before b.onnx was ever saved: the model opens again from the
      // project saved as a.onnx, and must still be b.onnx.
      await openAs('b.onnx');
      await page.getByTestId('project-notice').filter({ hasText: 'Restoring the project of b.onnx: running calibration, quantization, compile again' }).waitFor({ timeout: 60_000 });
      const prev = await stamp();
      await page.evaluate(() => (window as unknown as { fixpointTest: { killModelWorker(why: string): void } }).fixpointTest.killModelWorker('terminated by the test'));
      await paintedAfter(prev);
      expect(await page.getByTestId('error-message').innerText()).toContain('the project was restored from its last save');
      await page.locator('[data-testid=step-quantize][data-done]').waitFor({ timeout: 90_000 });
      await page.getByTestId('vai-c-command').waitFor({ timeout: 90_000 });
      await page.waitForFunction(() => document.querySelector('[data-testid=project-notice]') === null, null, { timeout: 60_000 });
      await saysB();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-int-xmodel').click()]);
      expect(download.suggestedFilename()).toBe('b_int.xmodel');

      // The start page lists the project under the name it was last open as, and it opens as that.
      await page.getByTestId('open-gallery').click();
      await page.getByTestId('project-row').filter({ hasText: 'b.onnx' }).waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('project-row').filter({ hasText: 'a.onnx' }).count()).toBe(0);
      await page.reload();
      await page.getByTestId('vai-c-command').waitFor({ timeout: 90_000 });
      await saysB();
      expect(own.pageErrors).toEqual([]);
    } finally {
      await own.close();
    }
  });
});
