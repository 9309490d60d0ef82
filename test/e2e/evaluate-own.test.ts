// Evaluate on the user's own labelled set in Chromium: quantize the Fashion-MNIST sample, then pick a
// folder per class built here from the shipped evaluation images written as PNG (Trouser/, Sneaker/,
// Bag/: the model's label file gives them indices 1, 7, 8), evaluate float and int8, and check the
// mapping, both accuracies and both confusion matrices; then a .npy pair with one label too few is
// refused in one line with the previous results kept, and a good pair evaluates.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy, writeNpy } from '../../src/core/data/npy';
import { openApp, type AppSession, quantizeOnSampleSet, waitGraphPainted } from './browser';

let app: AppSession;
const dir = mkdtempSync(join(tmpdir(), 'fixpoint-evalset-'));
beforeAll(async () => {
  app = await openApp();
});
afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const x = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000.npy'))).data as Uint8Array;
const y = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000_labels.npy'))).data as Uint8Array;
const CLASSES: Record<number, string> = { 1: 'Trouser', 7: 'Sneaker', 8: 'Bag' };
const PER_CLASS = 8;

/** fmnist_set/<class>/<index>.png: the first PER_CLASS evaluation images of each chosen class. */
function writeFolderSet(): string {
  const root = join(dir, 'fmnist_set');
  for (const [c, name] of Object.entries(CLASSES)) {
    mkdirSync(join(root, name), { recursive: true });
    let n = 0;
    for (let i = 0; i < y.length && n < PER_CLASS; i++) {
      if (y[i] !== Number(c)) continue;
      writeFileSync(join(root, name, `${String(i).padStart(4, '0')}.png`), encode({ width: 28, height: 28, channels: 1, data: x.slice(i * 784, (i + 1) * 784) }));
      n++;
    }
  }
  return root;
}

const cells = (id: string) => app.page.getByTestId(id).locator('tbody td').allInnerTexts();
const sum = (v: string[]) => v.reduce((s, t) => s + (Number(t) || 0), 0);

describe('evaluate on your own labelled set', () => {
  it('a folder per class (PNG) evaluates: the mapping, both accuracies, both confusion matrices', async () => {
    const { page } = app;
    await page.locator('[data-file="fmnist_seed000.onnx"]').click();
    await waitGraphPainted(page);
    await quantizeOnSampleSet(page);
    await page.getByTestId('step-simulate').click();
    await page.getByTestId('sim-evaluate').waitFor();

    await page.getByTestId('eval-set-folder').setInputFiles(writeFolderSet());
    await page.getByTestId('eval-set-info').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('eval-set-error').count()).toBe(0);
    expect(await page.getByTestId('eval-set-info').innerText()).toContain(`3 class folders, ${3 * PER_CLASS} images`);
    expect(await page.getByTestId('eval-set-mapping').innerText()).toContain(`by the model's label file: Bag → 8 (${PER_CLASS}), Sneaker → 7 (${PER_CLASS}), Trouser → 1 (${PER_CLASS})`);
    // The Calibrate step's form: the sample's raw grayscale pixels.
    expect(await page.getByTestId('eval-set-preprocess').innerText()).toMatch(/raw true.*the Calibrate step's form/);

    await page.getByTestId('run-eval').click();
    const total = 3 * PER_CLASS;
    await page.waitForFunction((t) => new RegExp(`${t} / ${t} done`).test(document.querySelector('[data-testid=eval-progress]')?.textContent ?? ''), total, { timeout: 300_000 });
    const f = Number((await page.getByTestId('eval-float-acc').innerText()).replace(' %', ''));
    const q = Number((await page.getByTestId('eval-int8-acc').innerText()).replace(' %', ''));
    console.log(`folder set: float top-1 ${f} %, int8 top-1 ${q} % on ${total}`);
    // These three classes are the model's easiest (trousers, sneakers, bags).
    expect(f).toBeGreaterThan(80);
    expect(q).toBeGreaterThan(80);
    for (const id of ['confusion-float', 'confusion-int8']) {
      const v = await cells(id);
      expect(v).toHaveLength(100);
      expect(sum(v)).toBe(total);
      // Only the rows of the three true classes hold counts.
      const rows = await page.getByTestId(id).locator('tbody tr').allInnerTexts();
      rows.forEach((r, i) => { if (!CLASSES[i]) expect(r.replace(/\s+/g, '')).toBe(String(i)); });
    }
  }, 600_000);

  it('a .npy pair with a label missing is refused in one line, the previous results kept; a good pair evaluates', async () => {
    const { page } = app;
    const before = await page.getByTestId('eval-float-acc').innerText();
    const N = 20;
    const imgs = { name: 'x.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(writeNpy({ dtype: 'uint8', shape: [N, 28, 28], data: x.slice(0, N * 784) })) };
    const short = { name: 'y.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(writeNpy({ dtype: 'uint8', shape: [N - 1], data: y.slice(0, N - 1) })) };
    await page.getByTestId('eval-set-files').setInputFiles([imgs, short]);
    await page.getByTestId('eval-set-error').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('eval-set-error').innerText()).toBe(`x.npy holds ${N} images but y.npy holds ${N - 1} labels`);
    expect(await page.getByTestId('eval-float-acc').innerText()).toBe(before);
    expect(await page.getByTestId('eval-set-info').innerText()).toContain('3 class folders');
    // Images of another size than the model input: named in one line too.
    const big = { ...imgs, buffer: Buffer.from(writeNpy({ dtype: 'uint8', shape: [N - 1, 32, 32], data: new Uint8Array((N - 1) * 1024) })) };
    await page.getByTestId('eval-set-files').setInputFiles([big, short]);
    await page.waitForFunction(() => /32/.test(document.querySelector('[data-testid=eval-set-error]')?.textContent ?? ''), null, { timeout: 30_000 });
    const msg = await page.getByTestId('eval-set-error').innerText();
    console.log(`wrong-size images: ${msg}`);
    expect(msg).toMatch(/^x\.npy.*28/);
    expect(msg).not.toContain('\n');
    expect(await page.getByTestId('eval-set-info').innerText()).toContain('3 class folders');

    const labels = { ...short, buffer: Buffer.from(writeNpy({ dtype: 'uint8', shape: [N], data: y.slice(0, N) })) };
    await page.getByTestId('eval-set-files').setInputFiles([imgs, labels]);
    await page.waitForFunction(() => /x\.npy \+ y\.npy/.test(document.querySelector('[data-testid=eval-set-info]')?.textContent ?? ''), null, { timeout: 30_000 });
    expect(await page.getByTestId('eval-set-error').count()).toBe(0);
    await page.getByTestId('run-eval').click();
    await page.waitForFunction((t) => new RegExp(`${t} / ${t} done`).test(document.querySelector('[data-testid=eval-progress]')?.textContent ?? ''), N, { timeout: 300_000 });
    expect(sum(await cells('confusion-int8'))).toBe(N);
    expect(await page.getByTestId('eval-accuracy').innerText()).toContain(`on ${N} samples of x.npy + y.npy`);
  }, 600_000);
});
