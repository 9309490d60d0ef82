// From the browser to the board: the Quantize step's _int.xmodel (downloaded, checked against XIR's op
// definitions, re-opened with the same fix points), the Deploy panel's downloads, and a compiled .xmodel drawn
// with weights folded and no unknown-op marker.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy, parseNpz, writeNpy } from '../../src/core/data/npy';
import { STANDIN_PY } from '../../src/core/compile/standin-py';
import { readXModel } from '../../src/core/xmodel/codec';
import { checkXModelOps } from '../../src/core/xmodel/opdef-check';
import { opFixPoint } from '../../src/core/xmodel/types';
import { openApp, type AppSession, quantizeOnSampleSet } from './browser';

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
});
afterAll(async () => {
  await app?.close();
});

async function waitPainted(previous: string | null): Promise<void> {
  await app.page.waitForFunction(
    (prev) => {
      const v = document.querySelector('[data-testid=graph]')?.getAttribute('data-painted');
      return v && v !== prev;
    },
    previous,
    { timeout: 60_000 },
  );
}
/** The graph's paint stamp now, without waiting for a graph to exist (the gallery shows first). */
const painted = () => app.page.evaluate(() => document.querySelector('[data-testid=graph]')?.getAttribute('data-painted') ?? null);

async function openFile(name: string, bytes: Uint8Array): Promise<void> {
  const previous = await painted();
  await app.page.getByTestId('file-input').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
  await waitPainted(previous);
}

describe('from the browser to the board', () => {
  it('quantizes fmnist, downloads its _int.xmodel, and re-opened it shows the same fix points', async () => {
    const { page } = app;
    const previous = await painted();
    await page.getByTestId('open-gallery').click().catch(() => undefined);
    await page.locator('[data-file="fmnist_seed000.onnx"]').click();
    await waitPainted(previous);
    await quantizeOnSampleSet(page);

    const [infoDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-info').click()]);
    const info = JSON.parse(readFileSync(await infoDl.path(), 'utf8')) as Record<string, [number, number]>;
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-int-xmodel').click()]);
    expect(dl.suggestedFilename()).toBe('fmnist_seed000_int.xmodel');
    const bytes = new Uint8Array(readFileSync(await dl.path()));
    const x = readXModel(bytes.slice());
    expect(checkXModelOps(x)).toEqual([]);
    expect(x.root.children).toEqual([]);
    // Each data/const op's fix is the Quantize step's fix point of that tensor (the image, every weight and bias).
    const fixed = x.ops.filter((o) => o.type === 'data' || o.type === 'const');
    expect(fixed).toHaveLength(7);
    for (const o of fixed) {
      const fix = x.ops.find((f) => f.type === 'fix' && f.args[0].ops[0] === o.name)!;
      expect(opFixPoint(fix), o.name).toBe(info[o.name][1]);
    }

    await openFile('fmnist_seed000_int.xmodel', bytes);
    expect(await page.getByTestId('model-meta').innerText()).toContain('xmodel · XIR');
    expect(await page.getByTestId('unknown-op').count()).toBe(0);
    // Weights are folded into the ops: no const node is drawn, each conv/inner-product holds its two.
    expect(await page.locator('[data-testid=graph-node][data-op=const]').count()).toBe(0);
    // Its fix ops fold into the edges they quantize: no fix node, fp= labels on the edges.
    expect(await page.locator('[data-testid=graph-node][data-op=fix]').count()).toBe(0);
    await page.getByTestId('edge-fp').filter({ hasText: /^fp=-?\d+$/ }).first().waitFor({ timeout: 30_000 });
    const conv = page.locator('[data-testid=graph-node][data-op=conv2d]');
    const wfp = conv.getByTestId('weight-fp');
    expect(await wfp.count()).toBe(2);
    const convOp = x.ops.find((o) => o.type === 'conv2d')!;
    const wName = convOp.args.find((a) => a.name === 'weights')!.ops[0].replace(/_fix$/, '');
    expect(await wfp.first().innerText()).toBe(`fp=${info[wName][1]}`);
    // The image's fix point, as the Quantize step gave it.
    await page.locator('[data-testid=graph-node][data-name="image"]').click();
    await page.getByTestId('node-quant').waitFor();
    expect(await page.getByTestId('node-quant').innerText()).toContain(`image: fp=${info.image[1]}`);
    await page.screenshot({ path: 'test/.tmp/board-int-xmodel.png' });

    // The opened _int.xmodel simulates (read as the QDQ model it stands for): its NHWC input takes the same
    // images, every DPU tensor equals the fake-quant run, and the output is the classifier's top-5.
    await page.getByTestId('step-simulate').click();
    await page.getByTestId('simulate-panel').waitFor();
    const evalSet = parseNpy(new Uint8Array(readFileSync('public/calib/fmnist_eval1000.npy')));
    const two = writeNpy({ dtype: 'uint8', shape: [2, 28, 28], data: (evalSet.data as Uint8Array).slice(0, 2 * 784) });
    await page.getByTestId('sim-file-input').setInputFiles({ name: 'two.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(two) });
    await page.waitForFunction(() => (document.querySelector('[data-testid=sim-source]') as HTMLSelectElement | null)?.value === 'file');
    await page.getByTestId('run-sim').click();
    await page.getByTestId('sim-results').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('sim-error').count()).toBe(0);
    expect(await page.getByTestId('top5-int8').locator('tbody tr').count()).toBe(5);
    const identical = await page.getByTestId('agreement-table').getByTestId('identical').allInnerTexts();
    expect(identical.length).toBeGreaterThan(0);
    expect(identical.every((t) => t.trim() === '100 %')).toBe(true);
  });

  it('Deploy names the _int.xmodel in its vai_c_xir command and offers it and arch.json', async () => {
    const { page } = app;
    const previous = await painted();
    await page.getByTestId('open-gallery').click().catch(() => undefined);
    await page.locator('[data-file="retinaface_vitis_qdq.onnx"]').click();
    await waitPainted(previous);
    await page.getByTestId('step-compile').click();
    await page.getByTestId('compile-panel').waitFor();
    await page.getByTestId('deploy').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('vai-c-command').innerText()).toContain('vai_c_xir -x retinaface_vitis_qdq_int.xmodel -a arch.json');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-int-xmodel').click()]);
    expect(dl.suggestedFilename()).toBe('retinaface_vitis_qdq_int.xmodel');
    expect(checkXModelOps(readXModel(new Uint8Array(readFileSync(await dl.path()))))).toEqual([]);
    const [arch] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-arch-json').click()]);
    expect(arch.suggestedFilename()).toBe('arch.json');
    expect(JSON.parse(readFileSync(await arch.path(), 'utf8')).fingerprint).toMatch(/^0x[0-9a-f]+$/);
    // The NumPy stand-in for the board: the npz with this compile's DPU subgraphs, and the runner module.
    const files = new Map<string, Buffer>();
    page.on('download', (d) => { void d.path().then((p) => files.set(d.suggestedFilename(), readFileSync(p))); });
    await page.getByTestId('download-standin').click();
    await expect.poll(() => files.size, { timeout: 30_000 }).toBe(2);
    const npz = parseNpz(new Uint8Array(files.get('retinaface_vitis_qdq_dpu.npz')!));
    const program = JSON.parse(new TextDecoder().decode(npz.get('program')!.data as Uint8Array));
    expect(program.format).toBe('fixpoint-dpu-standin');
    expect(program.subgraphs).toHaveLength(1);
    expect(program.subgraphs[0].ops).toHaveLength(63);
    expect(files.get('dpu_standin.py')!.toString('utf8')).toBe(STANDIN_PY);
    await page.getByTestId('deploy-standin').scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'test/.tmp/board-deploy-standin.png' });
  });

  it('pointpillars_compiled_B4096.xmodel opens with no unknown-op marker and no const node drawn', async () => {
    const name = 'pointpillars_compiled_B4096.xmodel';
    await openFile(name, new Uint8Array(readFileSync(`test/fixtures/xmodel/${name}`)));
    expect(await app.page.getByTestId('model-meta').innerText()).toContain('xmodel · XIR');
    expect(await app.page.locator('[data-testid=graph-node]').count()).toBeGreaterThan(10);
    expect(await app.page.getByTestId('unknown-op').count()).toBe(0);
    expect(await app.page.locator('[data-testid=graph-node][data-op=const-fix], [data-testid=graph-node][data-op=const]').count()).toBe(0);
    await app.page.screenshot({ path: 'test/.tmp/board-compiled-xmodel.png' });
  });

  it('pointpillars_int.xmodel: fix ops folded into fp= edge labels; the toggle draws them as nodes and folds them back', async () => {
    const { page } = app;
    await openFile('pointpillars_int.xmodel', new Uint8Array(readFileSync('test/fixtures/xmodel/pointpillars_int.xmodel')));
    const fixNodes = page.locator('[data-testid=graph-node][data-op=fix]');
    expect(await fixNodes.count()).toBe(0);
    // The file's own fix points arrive just after the paint; then the folded fixes are fp= edge labels.
    await page.getByTestId('edge-fp').filter({ hasText: /^fp=-?\d+$/ }).first().waitFor({ timeout: 30_000 });
    const folded = await page.getByTestId('edge-fp').filter({ hasText: /^fp=-?\d+$/ }).count();
    expect(folded).toBeGreaterThan(10);
    const toggle = page.getByTestId('toggle-fix').locator('input');
    expect(await toggle.isChecked()).toBe(false);
    let previous = await painted();
    await toggle.click(); // controlled: it turns on once the graph with the fix nodes is laid out
    await waitPainted(previous);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=graph-node][data-op=fix]').length > 0, null, { timeout: 30_000 });
    // 77 nodes with the 24 fixes: drawn from the top at 100%, so only those on screen are in the page.
    expect(await fixNodes.count()).toBeGreaterThan(0);
    await page.screenshot({ path: 'test/.tmp/board-int-xmodel-fix-shown.png' });
    previous = await painted();
    await toggle.click();
    await waitPainted(previous);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=graph-node][data-op=fix]').length === 0, null, { timeout: 30_000 });
    await page.getByTestId('edge-fp').filter({ hasText: /^fp=-?\d+$/ }).first().waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('edge-fp').filter({ hasText: /^fp=-?\d+$/ }).count()).toBe(folded);
  });

  it('made no request to another origin and raised no page error', () => {
    expect(app.foreignRequests).toEqual([]);
    expect(app.pageErrors).toEqual([]);
  });
});
