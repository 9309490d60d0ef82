// The graph viewer in Chromium, on the built app: gallery, open, drop, panel, search, summary, bad files.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensorStats } from '../../src/core/analysis/stats';
import { summarize } from '../../src/core/analysis/summary';
import { buildOnnx, tensor } from '../../src/core/onnx/build';
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

  it('made no request to another origin and raised no page error', () => {
    expect(app.foreignRequests).toEqual([]);
    expect(app.pageErrors).toEqual([]);
  });
});
