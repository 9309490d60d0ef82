// Inspecting quantized tensors in Chromium after one simulation run of the Fashion-MNIST sample: the graph
// painted by each metric with its legend (foldable, followed by the overview), a click on a tensor of the
// graph (node, edge label) opening its channel grid, the values under the cursor, the count of positions
// where fake-quant and the DPU differ, and the layer table's cosine and clipped columns.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/core/data/npy';
import { openApp, type AppSession, quantizeOnSampleSet, waitGraphPainted } from './browser';

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
});
afterAll(async () => {
  await app?.close();
});

const GREEN = 'rgb(31, 138, 76)';
const header = (name: string) => app.page.locator(`[data-testid=graph-node][data-name="${name}"] .op-header`);
const bg = (name: string) => header(name).evaluate((e) => getComputedStyle(e).backgroundColor);
type Box = { x: number; y: number; width: number; height: number };
const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
/** Waits until the viewport and the nodes stop moving (a fit animates). */
async function settled(): Promise<void> {
  let last = '';
  for (let i = 0; i < 40; i++) {
    const now = await app.page.locator('.react-flow__viewport').getAttribute('style') + await app.page.locator('.react-flow__node').evaluateAll((els) => els.map((e) => (e as HTMLElement).style.transform).join());
    if (now === last) return;
    last = now;
    await app.page.waitForTimeout(150);
  }
}
const mark = (name: string) => app.page.evaluate((n) => { performance.mark(`step:${n}`); }, name);
const overviewColors = () => app.page.getByTestId('overview').locator('path').evaluateAll((ps) => ps.map((p) => p.getAttribute('fill')));

describe('inspect quantized tensors', () => {
  it('paints the graph by the run\'s error with a legend, for every metric of the picker', async () => {
    const { page } = app;
    await page.locator('[data-file="fmnist_seed000.onnx"]').click();
    await waitGraphPainted(page);
    const categoryConv = await bg('/conv/Conv');
    await quantizeOnSampleSet(page);
    await page.getByTestId('step-simulate').click();
    await page.getByTestId('sim-source').selectOption('eval');
    // Long main-thread tasks from here on (the run, the painting, the tensor views) are logged at the end
    // for the report, not asserted: no timed assertions.
    await page.evaluate(() => {
      const w = window as unknown as { __long: string[] };
      w.__long = [];
      // Each long task with the last step mark before it, so the report can say where it came from.
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) {
          const before = performance.getEntriesByType('mark').filter((m) => m.name.startsWith('step:') && m.startTime <= e.startTime).pop();
          w.__long.push(`${Math.round(e.duration)} ms after ${before?.name ?? 'start'}`);
        }
      }).observe({ type: 'longtask' });
    });
    await mark('run');
    await page.getByTestId('run-sim').click();
    await page.getByTestId('sim-results').waitFor({ timeout: 90_000 });
    await mark('results shown');
    expect(await page.getByTestId('sim-error').count()).toBe(0);

    // The first run paints by SQNR vs float: the legend says so, the conv is no longer its category colour.
    const legend = page.getByTestId('sim-legend');
    await legend.waitFor();
    expect(await legend.getAttribute('data-metric')).toBe('sqnr');
    expect(await legend.innerText()).toMatch(/SQNR vs float/);
    expect(await page.getByTestId('sim-paint').inputValue()).toBe('sqnr');
    expect(await bg('/conv/Conv')).not.toBe(categoryConv);
    // Painted edges carry their tensor's colour (the Conv → ReLU tensor inside the layer does not).
    expect(await page.locator('[data-sim-color]').count()).toBeGreaterThan(0);
    // Fitted, the graph stays clear of the legend; every colour a node shows is in the overview.
    await page.keyboard.press('f');
    await settled();
    const legendBox = (await legend.boundingBox())!;
    const nodeBoxes = await page.locator('.react-flow__node').evaluateAll((els) => els.map((e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; }));
    expect(nodeBoxes.filter((b) => overlap(b, legendBox))).toEqual([]);
    const fills = new Set(await page.getByTestId('overview').locator('path').evaluateAll((ps) => ps.map((p) => getComputedStyle(p).fill)));
    for (const c of await page.locator('.react-flow__node .op-header').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor))) expect(fills.has(c), c).toBe(true);

    // Max LSB vs fake-quant: the simulator agrees bit for bit, so every simulated layer is green, and the
    // overview shows the same green.
    await mark('paint maxLsb');
    await page.getByTestId('sim-paint').selectOption('maxLsb');
    expect(await legend.getAttribute('data-metric')).toBe('maxLsb');
    expect(await legend.innerText()).toMatch(/max LSB difference/);
    for (const n of ['/conv/Conv', '/Relu', '/fc1/Gemm', '/fc2/Gemm']) expect(await bg(n), n).toBe(GREEN);
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=overview] path')].some((p) => p.getAttribute('fill') === '#1f8a4c'));
    expect(await overviewColors()).toContain('#1f8a4c');
    const edgeColors = await page.locator('[data-sim-color]').evaluateAll((es) => es.map((e) => e.getAttribute('data-sim-color')));
    expect(new Set(edgeColors)).toEqual(new Set(['#1f8a4c']));

    await page.getByTestId('sim-paint').selectOption('identical');
    expect(await legend.getAttribute('data-metric')).toBe('identical');
    expect(await bg('/fc1/Gemm')).toBe(GREEN);
    await page.getByTestId('sim-paint').selectOption('cosine');
    expect(await legend.getAttribute('data-metric')).toBe('cosine');

    // The Quantize step's SQNR colouring is one choice of the same picker, with its own legend.
    await page.getByTestId('sim-paint').selectOption('quant');
    await page.getByTestId('sqnr-legend').waitFor();
    expect(await page.getByTestId('sim-legend').count()).toBe(0);
    await page.getByTestId('sim-paint').selectOption('category');
    expect(await bg('/conv/Conv')).toBe(categoryConv);
    expect(await page.getByTestId('sim-legend').count()).toBe(0);

    // The legend folds away and comes back.
    await page.getByTestId('sim-paint').selectOption('sqnr');
    await legend.getByTestId('legend-fold').click();
    expect(await page.getByTestId('sim-legend').count()).toBe(0);
    await page.getByTestId('legend-unfold').click();
    await legend.waitFor();
    expect(app.pageErrors).toEqual([]);
  }, 300_000);

  it('clicking a tensor after a run shows its channel grid, the values under the cursor and the differing positions', async () => {
    const { page } = app;
    expect(await page.getByTestId('tensor-view').count()).toBe(0);
    // The conv node: its layer's output (Conv + ReLU on the DPU), 16 channels of 26×26.
    await mark('graph click');
    await header('/conv/Conv').click();
    await page.getByTestId('tensor-view').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('tensor-channels').innerText()).toMatch(/^16 of 16 channel\(s\), 26×26 each/);
    for (const id of ['grid-float', 'grid-int8', 'grid-diff']) expect(await page.getByTestId(id).count()).toBe(1);
    // The simulator and fake-quant agree exactly on this model: nothing to highlight.
    expect(await page.getByTestId('tensor-differ-count').innerText()).toBe('0 positions differ between the DPU and fake-quant');
    expect(await page.getByTestId('agreement-table').locator('tr.sim-current').count()).toBe(1);

    // The readout under the cursor: position, float value, int8 code at the fix point, dequantized value.
    const grid = page.getByTestId('grid-int8');
    const box = (await grid.boundingBox())!;
    const perPx = box.width / Number(await grid.getAttribute('width'));
    await page.mouse.move(box.x + perPx * 10.5, box.y + perPx * 12.5);
    const text = await page.getByTestId('tensor-readout').innerText();
    expect(text).toMatch(/^c 0, y 12, x 10: float -?[\d.e+-]+ · int8 (-?\d+) × 2−?\d+ \(fp (-?\d+)\) = -?[\d.e+-]+ · fake-quant \1$/);
    // The dequantized value is the code times 2^-fp.
    const [, code, fp] = text.match(/int8 (-?\d+) × 2−?\d+ \(fp (-?\d+)\)/)!;
    const deq = Number(text.match(/= (-?[\d.e+-]+) ·/)![1]);
    expect(deq).toBeCloseTo(Number(code) * 2 ** -Number(fp), 5);
    await page.screenshot({ path: 'test/.tmp/inspect.png' });

    // An edge label (the fc1 layer's output shape) opens that tensor instead.
    // (The legend is folded first: with the side panel open the graph is centred on the conv, and the
    // legend in the corner may lie over that label.)
    await page.getByTestId('legend-fold').click();
    await page.locator('.edge-label', { hasText: /^1×128$/ }).first().click();
    await page.waitForFunction(() => document.querySelector('[data-testid=tensor-channels]')?.textContent?.startsWith('1 of 1 channel(s), 1×128'));
    expect(await page.getByTestId('tensor-differ-count').innerText()).toMatch(/^0 positions differ/);
    expect(app.pageErrors).toEqual([]);
  }, 120_000);

  it('where onnxruntime on the QDQ model differs from the DPU (ties to even), the positions are counted and highlighted', async () => {
    const { page } = app;
    await mark('onnxruntime compare');
    await page.getByTestId('tensor-compare').selectOption('onnxruntime');
    // The graph input: raw pixels at fix point −1, so every odd pixel value is a rounding tie.
    const rows = page.getByTestId('agreement-row');
    const n = await rows.count();
    let input = -1;
    for (let i = 0; i < n && input < 0; i++) if ((await rows.nth(i).getAttribute('title'))?.includes('1×1×28×28')) input = i;
    expect(input).toBeGreaterThanOrEqual(0);
    await rows.nth(input).click();
    // The view of the tensor open before (1×128, 0 positions differ) also names onnxruntime once the picker
    // changes: wait for the input's own count (784 positions).
    await page.waitForFunction(() => / of 784 positions differ between the DPU and onnxruntime/.test(document.querySelector('[data-testid=tensor-differ-count]')?.textContent ?? ''), null, { timeout: 60_000 });
    const text = await page.getByTestId('tensor-differ-count').innerText();
    const m = text.match(/^(\d+) of 784 positions differ between the DPU and onnxruntime \(max 1 LSB\)$/);
    expect(m, text).not.toBeNull();
    const count = Number(m![1]);
    // Known answer: the sample is evaluation image #0 as raw pixels p; at fix point −1 the DPU rounds p/2 half
    // up and QuantizeLinear half to even, which differ exactly where p ≡ 1 (mod 4).
    expect(await page.getByTestId('tensor-view').innerText()).toContain('fix point -1');
    const pixels = (parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000.npy'))).data as Uint8Array).subarray(0, 784);
    expect(count).toBe(pixels.filter((p) => p % 4 === 1).length);
    expect(count).toBeGreaterThan(0);
    // The overlay marks exactly those positions (one channel: all of them are drawn).
    const marked = await page.getByTestId('grid-diff-overlay').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let k = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) k++;
      return k;
    });
    expect(marked).toBe(count);
    expect(await page.getByTestId('tensor-differ').innerText()).toMatch(/highlighted in blue on the difference grid; first: \(0, \d+, \d+\)/);
    // Back to the bit-exact reference: nothing differs.
    await page.getByTestId('tensor-compare').selectOption('fake-quant');
    await page.waitForFunction(() => document.querySelector('[data-testid=tensor-differ-count]')?.textContent === '0 positions differ between the DPU and fake-quant');
    expect(app.pageErrors).toEqual([]);
  }, 120_000);

  it('layer table: cosine and clipped columns, sortable', async () => {
    const { page } = app;
    await mark('table');
    const table = page.getByTestId('agreement-table');
    const cosines = await table.getByTestId('cosine').allInnerTexts();
    expect(cosines.length).toBeGreaterThan(0);
    for (const c of cosines) expect(c).toMatch(/^(0\.\d{4}|1\.0000|> 0\.9999|—)$/);
    expect(cosines.some((c) => /^(0\.9|> 0\.9999|1\.0000)/.test(c))).toBe(true);
    const clipped = await table.getByTestId('clipped').allInnerTexts();
    for (const c of clipped) expect(c).toMatch(/^\d+(\.\d+)? %$/);
    await table.locator('th', { hasText: 'clipped' }).click();
    const asc = (await table.getByTestId('clipped').allInnerTexts()).map((t) => parseFloat(t));
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    await table.locator('th', { hasText: 'clipped' }).click();
    const desc = (await table.getByTestId('clipped').allInnerTexts()).map((t) => parseFloat(t));
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    await table.locator('th', { hasText: 'cosine' }).click();
    expect(await table.locator('th', { hasText: 'cosine' }).innerText()).toContain('▲');
    expect(app.foreignRequests).toEqual([]);
    const longTasks = await page.evaluate(() => (window as unknown as { __long: string[] }).__long);
    console.log(`main-thread long tasks from the run to here: ${JSON.stringify(longTasks)}`);
  });

  it('per-subgraph view: subgraphs in order, counters equal to the compile workload, a DPU subgraph opens to its layers', async () => {
    const { page } = app;
    const sg = page.getByTestId('subgraph-table');
    const rows = sg.getByTestId('subgraph-row');
    expect(await rows.count()).toBeGreaterThan(0);
    expect((await rows.locator('td:first-child').allInnerTexts()).map(Number)).toEqual(Array.from({ length: await rows.count() }, (_, i) => i + 1));
    const dpuRow = rows.filter({ hasText: 'DPU' }).first();
    expect(await dpuRow.getByTestId('subgraph-estimate').innerText()).toMatch(/^\d+\.\d{3}$/);
    // Measured ops equal the Compile step's workload: no "≠" anywhere.
    expect(await sg.getByTestId('subgraph-ops').allInnerTexts()).not.toContainEqual(expect.stringContaining('≠'));
    expect(await sg.getByTestId('subgraph-layer').count()).toBe(0);
    await dpuRow.click();
    const layers = sg.getByTestId('subgraph-layer');
    // fmnist's DPU layers: conv (+ReLU), flatten, fc1 (+ReLU), fc2 and the input's quantization are not layers here.
    expect(await layers.count()).toBeGreaterThanOrEqual(3);
    expect(await layers.filter({ hasText: '≠' }).count()).toBe(0);
    expect(await sg.getByTestId('subgraph-total').innerText()).toMatch(/total/);
    await dpuRow.click();
    expect(await layers.count()).toBe(0);
  });
});
