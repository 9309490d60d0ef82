// What a new user trips over (issue 13), each checked the way a person would notice it in the built app.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { decode as decodePng } from 'fast-png';
import { buildOnnx, tensor } from '../../src/core/onnx/build';
import { dropFiles, openApp, type AppSession } from './browser';

const mnistBytes = new Uint8Array(readFileSync('public/models/mnist-8.onnx'));
const LONG_NAME = 'mnist-8_exported_from_the_training_run_of_2026_12_04_with_a_very_long_descriptive_name.onnx';

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
  await app.page.setViewportSize({ width: 1280, height: 800 });
});
afterAll(async () => {
  await app?.close();
});

type Box = { x: number; y: number; width: number; height: number };
const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (a: Box, b: Box) => a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height;

async function waitPainted(page: Page, previous: string | null): Promise<void> {
  await page.waitForFunction((prev) => {
    const v = document.querySelector('[data-testid=graph]')?.getAttribute('data-painted');
    return !!v && v !== prev;
  }, previous, { timeout: 30_000 });
}
// Read without waiting: before the first open there is no graph element at all.
const painted = () => app.page.evaluate(() => document.querySelector('[data-testid=graph]')?.getAttribute('data-painted') ?? null);

async function openBytes(name: string, bytes: Uint8Array): Promise<void> {
  const before = await painted();
  await dropFiles(app.page, [{ name, bytes }]);
  await waitPainted(app.page, before);
}

/** The fp= and shape labels whose box reaches into a node box. */
const labelsOnNodes = (page: Page) => page.evaluate(() => {
  const nodes = [...document.querySelectorAll('.react-flow__node')].map((e) => e.getBoundingClientRect());
  const labels = [...document.querySelectorAll('[data-testid=edge-fp], [data-testid=edge-label]')].map((e) => ({ t: e.textContent, r: e.getBoundingClientRect() }));
  const hit = (a: DOMRect, b: DOMRect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  return labels.filter((l) => nodes.some((n) => hit(l.r, n))).map((l) => l.t);
});

/** The nodes (by name) that the element with this test id covers. */
const nodesUnder = (page: Page, testId: string) => page.evaluate((id) => {
  const over = document.querySelector(`[data-testid=${id}]`)!.getBoundingClientRect();
  const hit = (a: DOMRect, b: DOMRect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  return [...document.querySelectorAll<HTMLElement>('.react-flow__node')].filter((n) => hit(n.getBoundingClientRect(), over))
    .map((n) => n.querySelector<HTMLElement>('[data-testid=graph-node]')?.dataset.name ?? n.dataset.id);
}, testId);

/** A small float model no earlier test has opened, so no saved project of it restores a step. */
function freshModel(): Uint8Array {
  return buildOnnx({
    inputs: { x: ['float32', [1, 2, 6, 6]] },
    outputs: ['y'],
    initializers: { W: tensor('float32', [4, 2, 3, 3], new Array(72).fill(0.02)) },
    nodes: [
      { op: 'Conv', name: 'fresh_conv', inputs: ['x', 'W'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'Relu', name: 'fresh_relu', inputs: ['c'], outputs: ['y'] },
    ],
  });
}

/** Waits until the graph stops moving (a relayout or a viewport animation). */
async function settled(page: Page): Promise<void> {
  let last = '';
  for (let i = 0; i < 40; i++) {
    const now = await page.locator('.react-flow__viewport').getAttribute('style') + await page.locator('.react-flow__node').evaluateAll((els) => els.map((e) => (e as HTMLElement).style.transform).join());
    if (now === last) return;
    last = now;
    await page.waitForTimeout(150);
  }
}

describe('first impressions', () => {
  it('the start page says what the app does and shows the four steps; no search box before a model', async () => {
    const { page } = app;
    await page.getByTestId('gallery').waitFor();
    expect(await page.getByTestId('gallery-pitch').innerText()).toMatch(/INT8 Xilinx DPU/);
    const steps = await page.getByTestId('gallery-steps').locator('li b').allInnerTexts();
    expect(steps).toEqual(['Open', 'Calibrate', 'Quantize', 'Compile']);
    expect(await page.getByTestId('search-input').isVisible()).toBe(false);
  });

  it('the header fits at 1280 px with a long file name: every step stays clear of the search box', async () => {
    const { page } = app;
    await openBytes(LONG_NAME, mnistBytes);
    expect(await page.getByTestId('search-input').isVisible()).toBe(true);
    const search = (await page.getByTestId('search-input').boundingBox())!;
    const header = (await page.locator('header.topbar').boundingBox())!;
    expect(header.width).toBeLessThanOrEqual(1280);
    for (const step of ['model', 'calibrate', 'quantize', 'compile', 'simulate']) {
      const b = (await page.getByTestId(`step-${step}`).boundingBox())!;
      expect(b, step).not.toBeNull();
      expect(inside(b, { x: 0, y: 0, width: 1280, height: header.height }), `${step} on screen`).toBe(true);
      expect(overlap(b, search), `${step} under the search box`).toBe(false);
      // Not scrolled away inside the pipeline bar either: the pipeline shows the whole button.
      const shown = await page.getByTestId(`step-${step}`).evaluate((el) => {
        const r = el.getBoundingClientRect();
        const p = el.closest('nav')!.getBoundingClientRect();
        return r.left >= p.left - 0.5 && r.right <= p.right + 0.5;
      });
      expect(shown, `${step} inside the pipeline`).toBe(true);
    }
    expect(await page.getByTestId('model-name').getAttribute('title')).toBe(LONG_NAME);
    // Every item of the bar, not only the steps: on screen, whole, and clear of one another.
    const items = ['open-file', 'open-gallery', 'model-name', 'model-meta', 'open-summary', 'search-input',
      ...['model', 'calibrate', 'quantize', 'compile', 'simulate'].map((s) => `step-${s}`)];
    const boxes: [string, Box][] = [['brand', (await page.locator('header.topbar .brand').boundingBox())!]];
    for (const id of items) boxes.push([id, (await page.getByTestId(id).boundingBox())!]);
    for (const [id, b] of boxes) {
      expect(b, id).not.toBeNull();
      expect(b.width, `${id} has a width`).toBeGreaterThan(8);
      expect(inside(b, { x: 0, y: 0, width: 1280, height: header.height }), `${id} on screen`).toBe(true);
    }
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) expect(overlap(boxes[i][1], boxes[j][1]), `${boxes[i][0]} over ${boxes[j][0]}`).toBe(false);
    }
    // The search box's placeholder is read whole, not cut at the box's right edge.
    const placeholderFits = await page.getByTestId('search-input').evaluate((el) => {
      const input = el as HTMLInputElement;
      const cs = getComputedStyle(input);
      const ctx = document.createElement('canvas').getContext('2d')!;
      ctx.font = `${cs.fontSize} ${cs.fontFamily}`;
      const room = input.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      return ctx.measureText(input.placeholder).width <= room;
    });
    expect(placeholderFits).toBe(true);
    await page.screenshot({ path: 'test/.tmp/polish-header-1280.png' });
  });

  it('Deploy with a long file name: the commands, notes and download buttons wrap inside the panel', async () => {
    const { page } = app;
    await page.getByTestId('step-compile').click();
    const deploy = page.getByTestId('deploy');
    await deploy.waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('vai-c-command').innerText()).toContain(LONG_NAME.replace(/\.onnx$/, ''));
    const clipped = await deploy.evaluate((root) => {
      const edge = root.getBoundingClientRect().right + 1;
      return [...root.querySelectorAll<HTMLElement>('*')]
        .filter((el) => el.getBoundingClientRect().right > edge || (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1))
        .map((el) => `${el.tagName.toLowerCase()}[${el.dataset.testid ?? el.className}]`);
    });
    expect(clipped).toEqual([]);
    expect(await page.getByTestId('step-panel').evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
    await page.screenshot({ path: 'test/.tmp/polish-deploy-long-name.png' });
    await page.getByTestId('step-compile').click();
    await page.getByTestId('step-panel').waitFor({ state: 'detached' });
  });

  it('a short file name is read whole at 1280 px, with the side panel open', async () => {
    const { page } = app;
    await openBytes('mnist-8.onnx', mnistBytes);
    await page.locator('[data-testid=graph-node][data-op=Reshape]').click();
    await page.getByTestId('side-panel').waitFor();
    const name = page.getByTestId('model-name');
    expect(await name.innerText()).toBe('mnist-8.onnx');
    expect(await name.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    await page.keyboard.press('Escape');
    await page.getByTestId('side-panel').waitFor({ state: 'detached' });
  });
});

describe('selecting and closing', () => {
  it('a click on an edge\'s shape label selects the tensor\'s producer', async () => {
    const { page } = app;
    await page.getByTestId('search-input').click();
    await page.keyboard.press('Escape');
    await settled(page);
    const label = page.getByTestId('edge-label').filter({ hasText: '1×8×28×28' }).first();
    // Playwright clicks only when the label itself is the element hit at its centre.
    await label.click();
    await page.getByTestId('side-panel').waitFor();
    expect(await page.getByTestId('side-panel').innerText()).toContain('1×8×28×28');
  });

  it('/ selects the previous query, so typing replaces it', async () => {
    const { page } = app;
    await page.keyboard.press('/');
    await page.keyboard.type('Relu');
    await page.keyboard.press('Enter');
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('/');
    await page.keyboard.type('MaxPool');
    expect(await page.getByTestId('search-input').inputValue()).toBe('MaxPool');
    await page.keyboard.press('Escape');
  });

  it('a panel opening beside the graph does not cover the selected node, and Esc closes the panels one by one', async () => {
    const { page } = app;
    const node = page.locator('.react-flow__node').filter({ has: page.locator('[data-op=Conv]') }).first();
    await node.click();
    await page.getByTestId('side-panel').waitFor();
    await page.getByTestId('step-calibrate').click();
    await page.getByTestId('step-panel').waitFor();
    await settled(page);
    const n = (await node.boundingBox())!;
    const graph = (await page.getByTestId('graph').boundingBox())!;
    const step = (await page.getByTestId('step-panel').boundingBox())!;
    const side = (await page.getByTestId('side-panel').boundingBox())!;
    expect(overlap(n, step)).toBe(false);
    expect(overlap(n, side)).toBe(false);
    expect(inside(n, graph)).toBe(true);
    // The graph area itself lies between the two panels: fit and centring use only what is free.
    expect(graph.x).toBeGreaterThanOrEqual(step.x + step.width - 1);
    expect(graph.x + graph.width).toBeLessThanOrEqual(side.x + 1);
    await page.screenshot({ path: 'test/.tmp/polish-panels.png' });

    await page.locator('body').press('Escape');
    await page.getByTestId('side-panel').waitFor({ state: 'detached' });
    expect(await page.getByTestId('step-panel').count()).toBe(1);
    await page.locator('body').press('Escape');
    await page.getByTestId('step-panel').waitFor({ state: 'detached' });
  });

  it('the legend folds away and comes back', async () => {
    const { page } = app;
    await page.getByTestId('legend').waitFor();
    await page.getByTestId('legend-fold').click();
    expect(await page.getByTestId('legend').count()).toBe(0);
    await page.getByTestId('legend-unfold').click();
    await page.getByTestId('legend').waitFor();
  });
});

describe('edge labels', () => {
  it('a shape label does not hide behind a small node (SiLU as Conv → Sigmoid → Mul)', async () => {
    const { page } = app;
    const bytes = buildOnnx({
      inputs: { x: ['float32', [1, 3, 16, 16]] },
      outputs: ['y'],
      initializers: { W: tensor('float32', [16, 3, 3, 3], new Array(432).fill(0.01)) },
      nodes: [
        { op: 'Conv', name: 'conv', inputs: ['x', 'W'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
        { op: 'Sigmoid', name: 'sig', inputs: ['c'], outputs: ['s'] },
        { op: 'Mul', name: 'silu', inputs: ['c', 's'], outputs: ['y'] },
      ],
    });
    await openBytes('silu.onnx', bytes);
    await settled(page);
    const hidden = await page.evaluate(() => {
      const nodes = [...document.querySelectorAll('.react-flow__node')].map((e) => e.getBoundingClientRect());
      const hit = (a: DOMRect, b: DOMRect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      return [...document.querySelectorAll('[data-testid=edge-label]')].filter((l) => nodes.some((n) => hit(l.getBoundingClientRect(), n))).map((l) => l.textContent);
    });
    expect(await page.getByTestId('edge-label').count()).toBeGreaterThanOrEqual(3);
    expect(hidden).toEqual([]);
  });
});

describe('the side panel', () => {
  it('names INT64_MAX instead of printing a rounded double', async () => {
    const { page } = app;
    const bytes = buildOnnx({
      opset: 9,
      inputs: { x: ['float32', [1, 3, 8, 8]] },
      outputs: ['y'],
      nodes: [{ op: 'Slice', name: 'crop', inputs: ['x'], outputs: ['y'], attrs: { starts: [1], ends: [2 ** 63], axes: [3] } }],
    });
    await openBytes('slice_int64.onnx', bytes);
    await page.locator('[data-testid=graph-node][data-op=Slice]').click();
    const attrs = await page.getByTestId('panel-attrs').innerText();
    expect(attrs).toContain('[INT64_MAX]');
    expect(attrs).not.toContain('9223372036854776000');
    // The cell wraps within the panel.
    const fits = await page.getByTestId('side-panel').evaluate((el) => el.scrollWidth <= el.clientWidth);
    expect(fits).toBe(true);
  });
});

describe('after quantize and compile', () => {
  it('fp labels and weight rows fit once quantized, the overview and legend follow the painting, what-ifs reset', async () => {
    const { page } = app;
    await page.getByTestId('open-gallery').click();
    const before = await painted();
    await page.locator('[data-file="fmnist_seed000.onnx"]').click();
    await waitPainted(page, before);
    const categoryFills = await page.locator('[data-testid=overview] path').evaluateAll((els) => els.map((e) => e.getAttribute('fill')));

    await page.getByTestId('step-calibrate').click();
    await page.getByTestId('use-sample-calib').click();
    await page.getByTestId('calib-info').waitFor();
    // Loaded is not measured.
    expect(await page.getByTestId('step-calibrate').getAttribute('data-done')).toBeNull();
    await page.getByTestId('to-quantize').click();
    await page.getByTestId('run-quantize').click();
    await page.getByTestId('quant-results').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('step-calibrate').getAttribute('data-done')).toBe('');
    await page.getByTestId('edge-fp').first().waitFor();
    // No key pressed: the graph was shown whole, so the taller quantized layout is fitted again by itself.
    await page.waitForTimeout(400);
    await settled(page);

    // No fp= or shape label reaches into a node box; no weight row is cut.
    expect(await labelsOnNodes(page)).toEqual([]);
    // The graph is kept clear of the legend.
    expect(await nodesUnder(page, 'legend')).toEqual([]);
    const cut = await page.locator('.op-row').evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent));
    expect(cut).toEqual([]);
    await page.screenshot({ path: 'test/.tmp/polish-quantized.png' });

    // A tensor is picked by its fp= label, and by a click 3 px beside its line.
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.getByTestId('side-panel').waitFor({ state: 'detached' });
    await page.getByTestId('edge-fp').filter({ hasText: 'fp=0' }).first().click();
    await page.getByTestId('side-panel').waitFor();
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.getByTestId('side-panel').waitFor({ state: 'detached' });
    // The canvas widened as the panel closed: the view shifts to keep its centre; measure after that.
    await settled(page);
    const beside = await page.evaluate(() => {
      // The longest edge, at its middle, on the left of the line: the labels sit on its right.
      const paths = [...document.querySelectorAll<SVGPathElement>('path.react-flow__edge-path')];
      const path = paths.reduce((a, b) => (b.getTotalLength() > a.getTotalLength() ? b : a));
      const p = path.getPointAtLength(path.getTotalLength() / 2).matrixTransform(path.getScreenCTM()!);
      const x = p.x - 3;
      const hit = document.elementFromPoint(x, p.y);
      return { x, y: p.y, what: hit?.getAttribute('class') ?? hit?.tagName ?? '' };
    });
    // What is there is the edge's wide invisible stroke, not its line and not a label.
    expect(beside.what).toBe('react-flow__edge-interaction');
    await page.mouse.click(beside.x, beside.y);
    await page.getByTestId('side-panel').waitFor();

    // With both panels open at 1280 px: the weight histogram's axis labels are whole (nothing drawn in the
    // canvas' outer columns or top row, where a cut label would run off), and after a fit neither the
    // legend nor the overview covers a node, nor each other.
    await page.locator('[data-testid=graph-node][data-name="/fc1/Gemm"]').click();
    const hist = page.getByTestId('side-panel').getByTestId('histogram').first().locator('canvas');
    await hist.waitFor();
    const png = decodePng(await hist.screenshot());
    const ink = (x: number, y: number) => {
      const i = (y * png.width + x) * png.channels;
      return png.data[i] < 150 && png.data[i + 1] < 150 && png.data[i + 2] < 150;
    };
    const edgeInk: string[] = [];
    for (let y = 0; y < png.height; y++) for (const x of [0, 1]) if (ink(x, y)) edgeInk.push(`${x},${y}`);
    for (let x = 0; x < png.width; x++) if (ink(x, 0)) edgeInk.push(`${x},0`);
    expect(edgeInk).toEqual([]);
    // The axis labels are there at all (dark pixels left of the plot).
    let labelInk = 0;
    for (let y = 0; y < png.height; y++) for (let x = 2; x < 34; x++) if (ink(x, y)) labelInk++;
    expect(labelInk).toBeGreaterThan(20);

    await page.keyboard.press('f');
    await settled(page);
    expect(await page.getByTestId('step-panel').count()).toBe(1);
    expect(await page.getByTestId('side-panel').count()).toBe(1);
    expect(await nodesUnder(page, 'legend')).toEqual([]);
    expect(await nodesUnder(page, 'overview')).toEqual([]);
    expect(overlap((await page.getByTestId('legend').boundingBox())!, (await page.getByTestId('overview').boundingBox())!)).toBe(false);
    await page.screenshot({ path: 'test/.tmp/polish-both-panels.png' });

    await page.getByTestId('sqnr-mode').check();
    await page.getByTestId('sqnr-legend').waitFor();
    const sqnrFills = await page.locator('[data-testid=overview] path').evaluateAll((els) => els.map((e) => e.getAttribute('fill')));
    expect(sqnrFills).not.toEqual(categoryFills);

    await page.getByTestId('step-compile').click();
    await page.getByTestId('compile-panel').waitFor();
    await page.getByTestId('device-legend').waitFor();
    await page.getByTestId('legend-summary').filter({ hasText: 'DPU subgraph number' }).waitFor({ timeout: 30_000 });
    await settled(page);
    // The subgraph legend is taller than the category one: the graph, shown whole, moves clear of it.
    expect(await nodesUnder(page, 'device-legend')).toEqual([]);
    expect(overlap((await page.getByTestId('device-legend').boundingBox())!, (await page.getByTestId('overview').boundingBox())!)).toBe(false);
    expect(await labelsOnNodes(page)).toEqual([]);
    await page.screenshot({ path: 'test/.tmp/polish-compiled.png' });
    const deviceFills = await page.locator('[data-testid=overview] path').evaluateAll((els) => els.map((e) => getComputedStyle(e).fill));
    const nodeColors = await page.locator('.react-flow__node .op-header').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
    // Every colour a node is painted in is a colour of the overview.
    const overviewRgb = new Set(deviceFills);
    for (const c of nodeColors) expect(overviewRgb.has(c), c).toBe(true);

    // The generated code wraps inside the panel instead of running off its right edge.
    const code = page.getByTestId('deploy-code');
    await code.waitFor({ timeout: 30_000 });
    expect(await code.evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
    // Every subgraph the legend counts has a node to colour.
    const legend = await page.getByTestId('device-legend').innerText();
    expect(legend).not.toMatch(/\b0 ops\b/);
    // Fashion-MNIST runs whole on the DPU; its only CPU step is the fix2float of the output, which has no
    // op to colour: the legend names it as such and counts no CPU subgraph.
    expect(await page.getByTestId('legend-cpu').innerText()).toMatch(/no CPU subgraphs/);
    expect(await page.getByTestId('legend-fix2float').innerText()).toMatch(/1 fix2float step \(CPU, no op\)/);

    // The Simulate panel, open on a quantized model, does not stay open on a model that is not quantized.
    await page.getByTestId('step-simulate').click();
    await page.getByTestId('simulate-panel').waitFor();
    // The Simulate panel is wider: with the side panel also open the canvas is some 450 px, and the
    // overview steps aside rather than sit under the legend.
    expect(await page.getByTestId('side-panel').count()).toBe(1);
    const bottomLegend = (await page.locator('.graph-area > .legend:not(.sqnr-legend)').boundingBox())!;
    const ov = await page.getByTestId('overview').boundingBox();
    if (ov) expect(overlap(bottomLegend, ov)).toBe(false);
    expect(inside(bottomLegend, (await page.locator('.graph-area').boundingBox())!)).toBe(true);
    // Nor is the legend squeezed until its entries break over several lines.
    const tall = await page.locator('.graph-area > .legend:not(.sqnr-legend) .legend-item').evaluateAll((els) => els.filter((e) => e.getBoundingClientRect().height > 20).map((e) => e.textContent));
    expect(tall).toEqual([]);
    await openBytes('fresh_after_simulate.onnx', freshModel());
    expect(await page.getByTestId('step-simulate').isDisabled()).toBe(true);
    expect(await page.getByTestId('simulate-panel').count()).toBe(0);
    expect(await page.getByTestId('step-panel').count()).toBe(0);
    // What-ifs are ticked on this model, then another model opens.
    await page.getByTestId('step-compile').click();
    await page.getByTestId('compile-panel').waitFor();

    await page.getByTestId('conv-relu6ToRelu').check();
    expect(await page.getByTestId('conv-relu6ToRelu').isChecked()).toBe(true);
    await openBytes('mnist-8.onnx', mnistBytes);
    // The step panel stays where the user was; open it only if it closed. Polled until the what-ifs have
    // been there for two polls in a row: the saved project of mnist-8 (opened earlier in this file) restores
    // its own open step just after the graph paints.
    let seen = 0;
    await expect.poll(async () => {
      const n = await page.getByTestId('conv-relu6ToRelu').count();
      if (!n && !(await page.getByTestId('compile-panel').count())) await page.getByTestId('step-compile').click();
      seen = n ? seen + 1 : 0;
      return seen;
    }, { timeout: 45_000, interval: 1000 }).toBeGreaterThanOrEqual(2);
    expect(await page.getByTestId('conv-relu6ToRelu').isChecked()).toBe(false);
  });
});
