// The graph viewer in Chromium, on the built app: gallery, open, drop, panel, search, summary, bad files.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensorStats } from '../../src/core/analysis/stats';
import { summarize } from '../../src/core/analysis/summary';
import { buildGraph, buildOnnx, tensor } from '../../src/core/onnx/build';
import { readOnnx } from '../../src/core/onnx/reader';
import { formatNumber } from '../../src/core/view/attrs';
import { toDisplayGraph } from '../../src/core/view/display';
import { dropFiles, openApp, type AppSession } from './browser';

const samples = JSON.parse(readFileSync('public/models/samples.json', 'utf8')) as { file: string; title: string }[];
const mnistBytes = new Uint8Array(readFileSync('public/models/mnist-8.onnx'));
const mnist = readOnnx(mnistBytes);

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
});
afterAll(async () => {
  await app?.close();
});

const ops = () => app.page.locator('.react-flow__node [data-testid=graph-node]').evaluateAll((els) => els.map((e) => e.getAttribute('data-op')!));
async function waitPainted(previous?: string | null): Promise<string> {
  await app.page.waitForFunction(
    (prev) => {
      const v = document.querySelector('[data-testid=graph]')?.getAttribute('data-painted');
      return v && v !== prev ? v : null;
    },
    previous ?? null,
    { timeout: 30_000 },
  );
  return (await app.page.getAttribute('[data-testid=graph]', 'data-painted'))!;
}

describe('graph viewer', () => {
  it('shows the sample gallery with titles, licenses and sources', async () => {
    const cards = app.page.getByTestId('sample');
    await cards.first().waitFor();
    expect(await cards.count()).toBe(samples.length);
    const text = await app.page.getByTestId('gallery').innerText();
    for (const s of samples) expect(text).toContain(s.title);
    expect(text).toContain('Apache-2.0');
  });

  it('opens mnist-8 from the gallery: one node per op, constants folded, inputs and outputs drawn', async () => {
    await app.page.locator('[data-file="mnist-8.onnx"]').click();
    await waitPainted();
    const dg = toDisplayGraph(mnist);
    const expected = dg.nodes.map((n) => (n.kind === 'op' ? n.label : n.kind));
    expect((await ops()).sort()).toEqual([...expected].sort());
    // Every op of the file is drawn except those folded into a consumer (the Reshape of a weight).
    const folded = new Set(dg.nodes.flatMap((n) => n.folded));
    const opTypes = mnist.graph.nodes.filter((n) => !folded.has(n.name)).map((n) => n.opType);
    expect(folded.size).toBeLessThan(mnist.graph.nodes.length / 2);
    expect((await ops()).filter((o) => o !== 'input' && o !== 'output').sort()).toEqual([...opTypes].sort());
    expect((await ops()).filter((o) => o === 'Conv')).toHaveLength(mnist.graph.nodes.filter((n) => n.opType === 'Conv').length);
    expect(await app.page.getByTestId('model-name').innerText()).toBe('mnist-8.onnx');
    // Edge labels carry tensor shapes.
    expect(await app.page.locator('.edge-label', { hasText: '1×8×28×28' }).count()).toBeGreaterThan(0);
    expect(await app.page.getByTestId('legend').isVisible()).toBe(true);
    // The overview draws every node in one path per colour, and a frame for the visible part.
    const colours = new Set(dg.nodes.map((n) => n.category));
    expect(await app.page.getByTestId('overview').locator('path').count()).toBe(colours.size);
    expect(await app.page.getByTestId('overview').locator('rect.overview-view').count()).toBe(1);
  });

  it('shows a Conv weight with its shape and statistics in the side panel', async () => {
    const conv = mnist.graph.nodes.find((n) => n.opType === 'Conv')!;
    const w = mnist.graph.initializers.get(conv.inputs[1])!;
    await app.page.locator(`[data-testid=graph-node][data-name="${conv.name}"]`).click();
    const panel = app.page.getByTestId('side-panel');
    await panel.waitFor();
    expect(await app.page.getByTestId('panel-op').innerText()).toBe('Conv');
    expect(await panel.getByTestId('weight-shape').first().innerText()).toBe(`W ⟨${w.shape.join('×')}⟩`);
    const stats = panel.getByTestId('weight-stats').first();
    await stats.waitFor();
    const s = tensorStats(w, 64);
    const text = await stats.innerText();
    expect(text).toContain(formatNumber(s.min));
    expect(text).toContain(formatNumber(s.max));
    expect(text).toContain(formatNumber(s.std));
    expect(await panel.getByTestId('histogram').locator('canvas').count()).toBe(1);
    expect(await app.page.getByTestId('panel-attrs').innerText()).toContain('kernel_shape');
    // The value itself, on the node and in the panel (mnist-8's convolutions are 5×5).
    const k = conv.attrs.kernel_shape;
    expect(k?.kind === 'ints' && k.value).toEqual([5, 5]);
    expect(await app.page.locator(`[data-testid=graph-node][data-name="${conv.name}"]`).innerText()).toContain('kernel 5×5');
    const attrRow = app.page.getByTestId('panel-attrs').locator('tr', { hasText: 'kernel_shape' });
    expect(await attrRow.innerText()).toMatch(/kernel_shape\s+\[5, 5\]/);
  });

  it('searches with "/" and jumps to the match on Enter', async () => {
    await app.page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await app.page.keyboard.press('/');
    const target = mnist.graph.nodes.find((n) => n.opType === 'MatMul')!;
    await app.page.keyboard.type(target.name);
    const results = app.page.getByTestId('search-result');
    await results.first().waitFor();
    expect(await results.first().innerText()).toContain(target.name);
    await app.page.keyboard.press('Enter');
    await app.page.getByTestId('panel-name').filter({ hasText: target.name }).waitFor();
    const selected = app.page.locator('.react-flow__node.selected [data-testid=graph-node]');
    expect(await selected.getAttribute('data-name')).toBe(target.name);
  });

  it('opens the summary with totals and sorts the layer table by a column', async () => {
    await app.page.getByTestId('open-summary').click();
    const table = app.page.getByTestId('summary-table');
    await table.waitFor();
    const summary = summarize(mnist);
    expect(await app.page.getByTestId('summary-row').count()).toBe(summary.layers.length);
    const params = () => app.page.getByTestId('summary-row').evaluateAll((rows) => rows.map((r) => Number(r.children[4].textContent!.replace(/,/g, ''))));
    await app.page.getByTestId('sort-params').click();
    const desc = await params();
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    expect(desc[0]).toBe(Math.max(...summary.layers.map((l) => l.params)));
    await app.page.getByTestId('sort-params').click();
    const asc = await params();
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    await app.page.getByTestId('summary-close').click();
  });

  it('opens a dropped file', async () => {
    const bytes = buildOnnx({
      inputs: { image: ['float32', [1, 3, 16, 16]] },
      outputs: ['probs'],
      initializers: { K: tensor('float32', [6, 3, 3, 3], new Array(162).fill(0).map((_, i) => Math.sin(i))) },
      nodes: [
        { op: 'Conv', name: 'dropped_conv', inputs: ['image', 'K'], outputs: ['c'], attrs: { kernel_shape: [3, 3], strides: [2, 2] } },
        { op: 'GlobalAveragePool', name: 'gap', inputs: ['c'], outputs: ['g'] },
        { op: 'Softmax', name: 'softmax', inputs: ['g'], outputs: ['probs'], attrs: { axis: 1 } },
      ],
    });
    const before = await app.page.getAttribute('[data-testid=graph]', 'data-painted');
    await dropFiles(app.page, [{ name: 'dropped.onnx', bytes }]);
    await waitPainted(before);
    expect(await app.page.getByTestId('model-name').innerText()).toBe('dropped.onnx');
    expect((await ops()).sort()).toEqual(['Conv', 'GlobalAveragePool', 'Softmax', 'input', 'output']);
    expect(await app.page.locator('[data-name=dropped_conv]').innerText()).toContain('W ⟨6×3×3×3⟩');
  });

  it('reports garbage files in a banner and keeps the open model', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
    let seed = 7;
    const random = Uint8Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
    const truncated = mnistBytes.slice(0, 5000);
    for (const [name, bytes] of [['picture.onnx', png], ['noise.onnx', random], ['empty.onnx', new Uint8Array(0)], ['cut.onnx', truncated]] as const) {
      await dropFiles(app.page, [{ name, bytes }]);
      const banner = app.page.getByTestId('error-banner');
      await banner.waitFor();
      const message = await app.page.getByTestId('error-message').innerText();
      expect(message.startsWith(`${name}: `), message).toBe(true);
      expect(message).not.toContain('\n');
      // The model opened before is still there.
      expect(await app.page.getByTestId('model-name').innerText()).toBe('dropped.onnx');
      expect(await app.page.locator('[data-name=dropped_conv]').count()).toBe(1);
      await app.page.getByTestId('error-dismiss').click();
      await banner.waitFor({ state: 'detached' });
    }
  });

  it('shows an If body inside the node and lays the graph out again so nothing overlaps', async () => {
    const branch = (name: string, ops: string[]) => buildGraph({
      name, inputs: {}, outputs: [`${name}_${ops.length}`],
      nodes: ops.map((op, i) => ({ op, name: `${name}_${op}`, inputs: [i ? `${name}_${i}` : 'outer'], outputs: [`${name}_${i + 1}`] })),
    });
    const bytes = buildOnnx({
      inputs: { x: ['float32', [1, 4]], c: ['bool', []] },
      outputs: ['z'],
      nodes: [
        { op: 'Relu', name: 'make_outer', inputs: ['x'], outputs: ['outer'] },
        { op: 'If', name: 'choose', inputs: ['c'], outputs: ['y'], attrs: { then_branch: branch('then', ['Sigmoid', 'Neg']), else_branch: branch('else', ['Tanh', 'Abs', 'Exp']) } },
        { op: 'Softmax', name: 'after', inputs: ['y'], outputs: ['z'], attrs: { axis: 1 } },
      ],
    });
    const before = await app.page.getAttribute('[data-testid=graph]', 'data-painted');
    await dropFiles(app.page, [{ name: 'branchy.onnx', bytes }]);
    await waitPainted(before);
    const wrapper = (name: string) => app.page.locator('.react-flow__node').filter({ has: app.page.locator(`[data-name="${name}"]`) });
    const box = async (name: string) => (await wrapper(name).boundingBox())!;
    // The tensor the branches read from outside comes in on an edge of its own.
    expect(await app.page.locator('.react-flow__edge[data-id="op:0>op:1>outer"]').count()).toBe(1);

    const toggle = app.page.locator('[data-name=choose] [data-testid=expand-subgraph]');
    await toggle.waitFor({ state: 'visible' });
    const t = (await toggle.boundingBox())!;
    const closed = await box('choose');
    // Not clipped: the whole button is inside the node.
    expect(t.height).toBeGreaterThanOrEqual(10);
    expect(t.y + t.height).toBeLessThanOrEqual(closed.y + closed.height + 0.5);
    await toggle.click();
    await app.page.locator('[data-name=choose] [data-testid=subgraph-body]').waitFor();
    expect(await app.page.locator('[data-name=choose] [data-testid=subgraph-op]').allInnerTexts()).toEqual(['Sigmoid', 'Neg', 'Tanh', 'Abs', 'Exp']);
    expect(await toggle.innerText()).toContain('hide body');
    // Once laid out again the node is taller, holds its whole body, and the next node sits below it.
    await expect.poll(async () => (await box('choose')).height, { timeout: 10_000 }).toBeGreaterThan(closed.height * 2);
    const open = await box('choose');
    const after = await box('after');
    const body = (await app.page.locator('[data-name=choose] [data-testid=subgraph-body]').boundingBox())!;
    expect(body.y + body.height).toBeLessThanOrEqual(open.y + open.height + 0.5);
    const overlap = open.x < after.x + after.width && after.x < open.x + open.width && open.y < after.y + after.height && after.y < open.y + open.height;
    expect(overlap, JSON.stringify({ open, after })).toBe(false);
    expect(after.y).toBeGreaterThanOrEqual(open.y + open.height);

    await toggle.click();
    await expect.poll(async () => (await box('choose')).height, { timeout: 10_000 }).toBeCloseTo(closed.height, 0);
    expect(await app.page.locator('[data-testid=subgraph-body]').count()).toBe(0);
    // A file never seen before is laid out as it is read, not taken from the cache.
    expect(await app.page.evaluate(() => performance.getEntriesByName('layout-cached').length)).toBe(0);
  });

  it('fits the graph with "f", zooming no further than the initial fit does', async () => {
    const zoom = () => app.page.locator('.react-flow__viewport').evaluate((el) => new DOMMatrix(getComputedStyle(el).transform).a);
    const canvas = (await app.page.getByTestId('graph').boundingBox())!;
    const inside = async () => {
      const boxes = await app.page.locator('.react-flow__node').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
      return boxes.every((b) => b.left >= canvas.x - 1 && b.right <= canvas.x + canvas.width + 1 && b.top >= canvas.y - 1 && b.bottom <= canvas.y + canvas.height + 1);
    };
    // Zoomed far in, part of the graph is off screen.
    for (let i = 0; i < 6; i++) await app.page.locator('.react-flow__controls-zoomin').click();
    expect(await inside()).toBe(false);
    await app.page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await app.page.keyboard.press('f');
    // Six small nodes would fit at almost 3× on this screen; the fit stops at 1.5 like the initial one.
    await expect.poll(inside, { timeout: 5_000 }).toBe(true);
    await expect.poll(zoom, { timeout: 5_000 }).toBeCloseTo(1.5, 2);
  });

  it('serves a model opened before from the layout cache', async () => {
    await app.page.getByTestId('open-gallery').click();
    const before = await app.page.getAttribute('[data-testid=graph]', 'data-painted');
    await app.page.locator('[data-file="mnist-8.onnx"]').click();
    await waitPainted(before);
    expect(await app.page.getByTestId('model-name').innerText()).toBe('mnist-8.onnx');
    // The cache is looked up once the file's hash is known, after the graph is drawn.
    await expect.poll(() => app.page.evaluate(() => performance.getEntriesByName('layout-cached').length), { timeout: 5_000 }).toBe(1);
    expect(await app.page.locator('[data-testid=graph-node]').count()).toBe(toDisplayGraph(mnist).nodes.length);
  });

  it('made no request to another origin and raised no page error', () => {
    expect(app.foreignRequests).toEqual([]);
    expect(app.pageErrors).toEqual([]);
  });
});
