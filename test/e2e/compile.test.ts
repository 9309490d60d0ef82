// The Compile step in Chromium, on the built app: YOLOX-nano for KV260, the what-if, a CPU op's reason,
// a compiled .xmodel's own subgraphs, and a bad arch.json. Expected numbers come from the core run in Node.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layersOf, NO_CONVERSIONS, partition, targetByArch, targetByBoard, type CompileResult } from '../../src/core/compile';
import { boardCompile } from '../../src/core/compile/deploy';
import { readOnnx } from '../../src/core/onnx/reader';
import { readXModel } from '../../src/core/xmodel/codec';
import { deviceSubgraphs, subgraphDevice, subgraphOps } from '../../src/core/xmodel/types';
import { dropFiles, openApp, type AppSession, quantizeOnSampleSet } from './browser';

const yoloxBytes = new Uint8Array(readFileSync('public/models/yolox_nano.onnx'));
const layers = layersOf({ kind: 'onnx', model: readOnnx(yoloxBytes.slice()) });
const kv260 = targetByBoard('KV260');
const plain = partition(layers, kv260, NO_CONVERSIONS);
const hswish = partition(layers, kv260, { ...NO_CONVERSIONS, siluToHardSwish: true });
const b512 = partition(layers, targetByArch('B512'), NO_CONVERSIONS);
/** The panel's before → after line between two compiles, from the core results. */
const change = (a: CompileResult, b: CompileResult) =>
  `DPU subgraphs ${a.dpuSubgraphNumber} → ${b.dpuSubgraphNumber}, device subgraphs ${a.deviceSubgraphNumber} → ${b.deviceSubgraphNumber}`;
const compiledName = 'pointpillars_compiled_B4096.xmodel';
const compiledBytes = new Uint8Array(readFileSync(`test/fixtures/xmodel/${compiledName}`));

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
});
afterAll(async () => {
  await app?.close();
});

async function waitPainted(previous?: string | null): Promise<string> {
  await app.page.waitForFunction(
    (prev) => {
      const v = document.querySelector('[data-testid=graph]')?.getAttribute('data-painted');
      return v && v !== prev ? v : null;
    },
    previous ?? null,
    { timeout: 60_000 },
  );
  return (await app.page.getAttribute('[data-testid=graph]', 'data-painted'))!;
}

async function openSample(file: string): Promise<void> {
  const previous = await app.page.getAttribute('[data-testid=graph]', 'data-painted');
  await app.page.getByTestId('open-gallery').click();
  await app.page.locator(`[data-file="${file}"]`).click();
  await waitPainted(previous);
}

/**
 * Waits until the search's 300 ms centring animation has ended: on a loaded machine a click computed
 * mid-animation lands on the pane and deselects.
 */
async function viewportStill(): Promise<void> {
  await app.page.waitForFunction(() => {
    const w = window as unknown as { __vp?: { t: string; since: number } };
    const t = document.querySelector<HTMLElement>('.react-flow__viewport')?.style.transform ?? '';
    const now = performance.now();
    if (!w.__vp || w.__vp.t !== t) w.__vp = { t, since: now };
    return now - w.__vp.since > 200;
  }, undefined, { polling: 50, timeout: 10_000 });
}

/** Finds a node with the search box (it centres it), then clicks it. */
async function focusNode(name: string, detail = true): Promise<void> {
  // Near the pane's top-left corner: the step and side panels sit beside the pane, which can be narrow.
  await app.page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
  await app.page.keyboard.press('/');
  await app.page.keyboard.press('Control+A'); // replace the previous query
  await app.page.keyboard.type(name);
  await app.page.getByTestId('search-result').first().waitFor();
  await app.page.keyboard.press('Enter');
  const node = app.page.locator(`[data-testid=graph-node][data-name="${name}"]`);
  await node.waitFor();
  await viewportStill();
  await node.click();
  if (detail) await app.page.getByTestId('subgraph-detail').waitFor();
}

/** The step buttons toggle: open the Compile panel only when it is not already open. */
async function openCompileStep(): Promise<void> {
  if (await app.page.getByTestId('compile-panel').count()) return;
  await app.page.getByTestId('step-compile').click();
  await app.page.getByTestId('compile-panel').waitFor();
}

const firstConv = () => app.page.locator('[data-testid=graph-node][data-op=Conv]').first().getAttribute('data-name').then((n) => n!);

const summaryText = () => app.page.getByTestId('compile-summary').innerText();
async function waitSummary(text: string): Promise<void> {
  await app.page.getByTestId('compile-summary').filter({ hasText: text }).waitFor({ timeout: 30_000 });
}
/** Header colours of the op nodes React Flow has rendered. */
const headerColors = () => app.page.locator('.react-flow__node .op-header').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));

describe('compile step', () => {
  it('features YOLOX-nano in the gallery as the compile sample', async () => {
    const card = app.page.locator('[data-testid=sample][data-file="yolox_nano.onnx"]');
    await card.waitFor();
    expect(await card.getByTestId('sample-highlight').innerText()).toMatch(/Compile/);
  });

  it('compiles YOLOX-nano for KV260: the summary line, device colours and legend', async () => {
    expect(plain.deviceSubgraphNumber).toBeGreaterThan(hswish.deviceSubgraphNumber);
    await app.page.locator('[data-file="yolox_nano.onnx"]').click();
    await waitPainted();
    const before = await headerColors();
    await app.page.getByTestId('step-compile').click();
    await waitSummary(plain.summary);
    expect(await app.page.getByTestId('legend-summary').innerText()).toBe(plain.summary);
    expect(await app.page.getByTestId('target-select').inputValue()).toBe('board:KV260');
    // Repainted by device: blue (DPU) and orange (CPU) hues replace the category colours.
    await app.page.waitForFunction((b) => {
      const now = [...document.querySelectorAll('.react-flow__node .op-header')].map((e) => getComputedStyle(e).backgroundColor);
      return now.join() !== b.join();
    }, before);
    expect(new Set(await headerColors()).size).toBeGreaterThan(1);
    expect(await app.page.getByTestId('device-legend').innerText()).toContain('DPU subgraphs');
    // One shade per DPU subgraph, and the legend says how many.
    expect(await app.page.getByTestId('legend-dpu').innerText()).toContain(`${plain.dpuSubgraphNumber} DPU subgraphs, ${plain.dpuSubgraphNumber} shades of blue`);
  });

  it('SiLU → hard-swish re-partitions at once and shows before → after', async () => {
    await app.page.getByTestId('conv-siluToHardSwish').check();
    await waitSummary(hswish.summary);
    const counts = await app.page.getByTestId('whatif-counts').innerText();
    expect(counts).toContain(`${plain.deviceSubgraphNumber} / ${plain.dpuSubgraphNumber}`);
    expect(counts).toContain(`${hswish.deviceSubgraphNumber} / ${hswish.dpuSubgraphNumber}`);
    expect(await app.page.getByTestId('legend-summary').innerText()).toBe(hswish.summary);
    expect(await app.page.getByTestId('compile-change').innerText()).toBe(`+SiLU → hard-swish: ${change(plain, hswish)}`);
    await app.page.getByTestId('conv-siluToHardSwish').uncheck();
    await waitSummary(plain.summary);
    // Relative to the previous result (hard-swish), not to "no conversions".
    expect(await app.page.getByTestId('compile-change').innerText()).toBe(`−SiLU → hard-swish: ${change(hswish, plain)}`);
  });

  it('switching the target shows before → after against the previous compile', async () => {
    await app.page.getByTestId('target-select').selectOption('arch:DPUCZDX8G_ISA1_B512');
    await app.page.getByTestId('compile-change').filter({ hasText: 'target B4096 → B512' }).waitFor({ timeout: 30_000 });
    expect(await app.page.getByTestId('compile-change').innerText()).toBe(`target B4096 → B512: ${change(plain, b512)}`);
    expect(await app.page.getByTestId('compile-totals').innerText()).toContain('DPUCZDX8G_ISA1_B512');
    await app.page.getByTestId('target-select').selectOption('board:KV260');
    await app.page.getByTestId('compile-change').filter({ hasText: 'target B512 → B4096' }).waitFor({ timeout: 30_000 });
    expect(await app.page.getByTestId('compile-change').innerText()).toBe(`target B512 → B4096: ${change(b512, plain)}`);
  });

  it('a clicked CPU op says why it is on the CPU and which conversion would move it', async () => {
    const cpu = plain.cpuOps.find((c) => c.fix && /sigmoid/i.test(c.op)) ?? plain.cpuOps.find((c) => c.fix)!;
    expect(cpu).toBeDefined();
    await focusNode(cpu.name);
    const reason = app.page.getByTestId('cpu-reason');
    await reason.waitFor();
    expect(await reason.innerText()).toContain(cpu.reason);
    expect(await app.page.getByTestId('cpu-fix').innerText()).toContain(cpu.fix!);
    expect(await app.page.getByTestId('subgraph-device').innerText()).toBe('CPU');
  });

  it('the CPU op\'s conversion applies from its panel and the counts drop', async () => {
    const cpu = plain.cpuOps.find((c) => c.fix === 'enable SiLU→hard-swish')!;
    await focusNode(cpu.name);
    const apply = app.page.getByTestId('apply-conversion');
    expect(await apply.innerText()).toBe('Apply SiLU → hard-swish');
    await apply.click();
    await waitSummary(hswish.summary);
    expect(await app.page.getByTestId('compile-change').innerText()).toBe(`+SiLU → hard-swish: ${change(plain, hswish)}`);
    expect(hswish.dpuSubgraphNumber).toBeLessThan(plain.dpuSubgraphNumber);
    expect(await app.page.getByTestId('conv-siluToHardSwish').isChecked()).toBe(true);
    await app.page.getByTestId('subgraph-device').filter({ hasText: 'DPU' }).waitFor();
    expect(await apply.count()).toBe(0);
    await app.page.getByTestId('conv-siluToHardSwish').uncheck();
    await waitSummary(plain.summary);
  });

  it('offers the VART and pynq_dpu scripts and the compiled .xmodel', async () => {
    const code = app.page.getByTestId('deploy-code');
    await code.waitFor();
    // The deployment follows the summary by one worker call: wait for the plain compile's script.
    await code.filter({ hasText: `("dpu", ${plain.dpuSubgraphNumber - 1}),` }).waitFor({ timeout: 30_000 });
    const vart = await code.innerText();
    expect(vart).toContain('vart.Runner.create_runner');
    // Every DPU subgraph is a step, the last one included.
    expect(vart).toContain(`("dpu", ${plain.dpuSubgraphNumber - 1}),`);
    expect(vart).toContain('NO DPU machine code');
    const board = boardCompile(plain, 'yolox_nano.xmodel');
    expect(await app.page.getByTestId('deploy-limitation').innerText()).toContain('This .xmodel is for inspection');
    const cmd = await app.page.getByTestId('vai-c-command').innerText();
    expect(cmd).toContain(`echo '{"fingerprint": "0x101000056010407"}' > arch.json`);
    expect(cmd).toContain(board.command);
    await app.page.getByTestId('deploy-tab-pynq').click();
    expect(await code.innerText()).toContain('DpuOverlay');
    const [download] = await Promise.all([app.page.waitForEvent('download'), app.page.getByTestId('download-xmodel').click()]);
    expect(download.suggestedFilename()).toBe('yolox_nano.xmodel');
    const x = readXModel(new Uint8Array(readFileSync(await download.path())));
    expect(deviceSubgraphs(x)).toHaveLength(plain.deviceSubgraphNumber);
  });

  it('a bad arch.json gives a clear message and keeps the target and graph', async () => {
    await app.page.getByTestId('arch-json-input').setInputFiles({ name: 'arch.json', mimeType: 'application/json', buffer: Buffer.from('{"fingerprint":"0x2000000000000"}') });
    const err = app.page.getByTestId('arch-error');
    await err.waitFor();
    expect(await err.innerText()).toMatch(/arch\.json: fingerprint 0x2000000000000 is not a known DPU configuration/);
    expect(await summaryText()).toBe(plain.summary);
    expect(await app.page.getByTestId('target-select').inputValue()).toBe('board:KV260');
    expect(await app.page.locator('.react-flow__node').count()).toBeGreaterThan(0);
  });

  it('a good arch.json is decoded field by field and becomes the target', async () => {
    await app.page.getByTestId('arch-json-input').setInputFiles({ name: 'arch.json', mimeType: 'application/json', buffer: Buffer.from('{"fingerprint":"0x101000056010407"}') });
    const fp = app.page.getByTestId('fingerprint');
    await fp.waitFor();
    const text = await fp.innerText();
    expect(text).toContain('0x101000056010407');
    expect(text).toMatch(/peak ops \/ clock\s+4096/);
    expect(await app.page.getByTestId('arch-error').count()).toBe(0);
    await waitSummary(plain.summary);
  });

  it('a dropped compiled .xmodel shows its own subgraph tree and devices', async () => {
    const x = readXModel(compiledBytes.slice());
    const devices = deviceSubgraphs(x).map((s) => subgraphDevice(s));
    const previous = await app.page.getAttribute('[data-testid=graph]', 'data-painted');
    await dropFiles(app.page, [{ name: compiledName, bytes: compiledBytes }]);
    await waitPainted(previous);
    const tree = app.page.getByTestId('xmodel-tree');
    await tree.waitFor({ timeout: 30_000 });
    const top = tree.locator(':scope > [data-testid=xsubgraph]');
    expect(await top.count()).toBe(devices.length);
    expect(await top.evaluateAll((els) => els.map((e) => e.getAttribute('data-device')))).toEqual(devices);
    const dpu = devices.filter((d) => d === 'DPU').length;
    expect(await summaryText()).toBe(`Total device subgraph number ${devices.length}, DPU subgraph number ${dpu}`);
    expect(await app.page.getByTestId('legend-summary').innerText()).toBe(await summaryText());
    // The DPU subgraph carries its fingerprint and fix points.
    const dpuNode = top.filter({ has: app.page.locator('summary .cp-dpu') }).first();
    await dpuNode.locator(':scope > summary').click();
    const children = dpuNode.locator(':scope > .cp-tree-body > details > summary');
    for (let i = 0; i < await children.count(); i++) await children.nth(i).click();
    expect(await dpuNode.innerText()).toMatch(/fingerprint 0x[0-9a-f]+/);
    expect(await dpuNode.innerText()).toMatch(/fix_point -?\d+/);
    // Clicking a graph node selects its subgraph in the tree.
    const cpuIndex = devices.lastIndexOf('CPU');
    const cpuOp = subgraphOps(deviceSubgraphs(x)[cpuIndex])[0];
    await focusNode(cpuOp, false);
    const sel = tree.locator('[data-testid=xsubgraph][data-selected]');
    await sel.waitFor();
    expect(await sel.getAttribute('data-device')).toBe('CPU');
    expect(await sel.locator(':scope > summary').innerText()).toContain(deviceSubgraphs(x)[cpuIndex].name.slice(0, 30));
  });

  it('a quantizer-output .xmodel opens as a graph and compiles here', async () => {
    const name = 'pointpillars_int.xmodel';
    const bytes = new Uint8Array(readFileSync(`test/fixtures/xmodel/${name}`));
    const r = partition(layersOf({ kind: 'xmodel', xmodel: readXModel(bytes.slice()) }), targetByBoard('ZCU102'));
    const previous = await app.page.getAttribute('[data-testid=graph]', 'data-painted');
    await app.page.getByTestId('file-input').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await waitPainted(previous);
    await openCompileStep();
    await app.page.getByTestId('target-select').selectOption('board:ZCU102');
    await waitSummary(r.summary);
    expect(await app.page.getByTestId('xmodel-tree').count()).toBe(0);
    expect(await app.page.getByTestId('compile-source').innerText()).toContain('QDQ');
  });

  it('a QDQ model compiles with its own fix points on the subgraph ports', async () => {
    const qdq = readOnnx(new Uint8Array(readFileSync('public/models/retinaface_vitis_qdq.onnx')));
    const r = partition(layersOf({ kind: 'onnx', model: qdq }), kv260);
    const dpu = r.subgraphs.find((sg) => sg.device === 'DPU' && sg.inputs.some((p) => p.fixPoint !== undefined))!;
    expect(dpu).toBeDefined();
    await openSample('retinaface_vitis_qdq.onnx');
    await openCompileStep();
    await waitSummary(r.summary);
    expect(await app.page.getByTestId('compile-source').innerText()).toContain('QDQ');
    await focusNode(dpu.ops.find((o) => qdq.graph.nodes.some((n) => n.name === o && n.opType === 'Conv'))!);
    const ports = await app.page.getByTestId('subgraph-port').allInnerTexts();
    const p = dpu.inputs.find((x) => x.fixPoint !== undefined)!;
    expect(ports.some((t) => t.includes(p.name) && t.includes(`fix_point ${p.fixPoint}`))).toBe(true);
    expect(await app.page.getByTestId('subgraph-cost').innerText()).toContain('workload_on_arch');
  });

  it('after Quantize, Compile uses the quantized model: fix points on the ports', async () => {
    await openSample('fmnist_seed000.onnx');
    await openCompileStep();
    await app.page.getByTestId('compile-source').filter({ hasText: 'Float model' }).waitFor();
    await focusNode(await firstConv());
    expect((await app.page.getByTestId('subgraph-port').allInnerTexts()).join()).not.toMatch(/fix_point \d/);
    await quantizeOnSampleSet(app.page);
    await openCompileStep();
    await app.page.getByTestId('compile-source').filter({ hasText: 'Quantize step' }).waitFor({ timeout: 30_000 });
    await focusNode(await firstConv());
    expect((await app.page.getByTestId('subgraph-port').allInnerTexts()).join()).toMatch(/fix_point -?\d/);
  });

  it('made no request to another origin and raised no page error', () => {
    expect(app.foreignRequests).toEqual([]);
    expect(app.pageErrors).toEqual([]);
  });
});
