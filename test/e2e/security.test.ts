// The app under its own Content-Security-Policy and security headers: a whole session (open, calibrate,
// quantize, compile, simulate) runs with no policy violation and no request outside the app's origin,
// and a model whose names are HTML renders them as text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnnx, tensor } from '../../src/core/onnx/build';
import { dropFiles, openApp, type AppSession, quantizeOnSampleSet } from './browser';

let app: AppSession;
beforeAll(async () => {
  app = await openApp();
  // Violations inside the page also fire this event; the console catches the workers'.
  await app.page.evaluate(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
});
afterAll(async () => {
  await app?.close();
});

const painted = (prev: string | null) => app.page.waitForFunction((p) => {
  const v = document.querySelector('[data-testid=graph]')?.getAttribute('data-painted');
  return v && v !== p;
}, prev, { timeout: 60_000 });
const paintedNow = () => app.page.evaluate(() => document.querySelector('[data-testid=graph]')?.getAttribute('data-painted') ?? null);

describe('security', () => {
  it('serves the app, workers and model files with the security headers', async () => {
    const res = await app.page.request.get(app.baseURL + '/');
    const h = res.headers();
    const csp = h['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).not.toContain("'unsafe-eval'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(csp).toContain("frame-ancestors 'none'");
    // Worker scripts get the same policy: the .xmodel codec is static protobuf code, nothing evaluates strings.
    const w = await app.page.request.get(app.baseURL + '/', { headers: { 'sec-fetch-dest': 'worker' } });
    expect(w.headers()['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(w.headers()['content-security-policy']).not.toContain("'unsafe-eval'");
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['referrer-policy']).toBe('no-referrer');
    for (const [path, type] of [['/models/fmnist_seed000.onnx', 'application/octet-stream'], ['/calib/fmnist_calib200.npy', 'application/octet-stream']]) {
      const r = await app.page.request.get(app.baseURL + path);
      expect(r.headers()['content-type'], path).toBe(type);
      expect(r.headers()['x-content-type-options'], path).toBe('nosniff');
    }
  });

  it('opens, calibrates, quantizes, compiles and simulates under the policy, talking to no other origin', async () => {
    const { page } = app;
    await page.locator('[data-file="fmnist_seed000.onnx"]').click();
    await painted(null);
    await quantizeOnSampleSet(page);
    await page.getByTestId('step-compile').click();
    await page.getByTestId('compile-summary').filter({ hasText: 'DPU subgraph number' }).waitFor({ timeout: 60_000 });
    await page.getByTestId('step-simulate').click();
    await page.getByTestId('sim-source').selectOption('eval');
    await page.getByTestId('run-sim').click();
    await page.getByTestId('sim-results').waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('sim-error').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    expect(app.cspViolations).toEqual([]);
    expect(app.foreignRequests).toEqual([]);
    expect(app.pageErrors).toEqual([]);
  });

  it('renders a model whose names are HTML as text', async () => {
    const { page } = app;
    const evil = '<img src=x onerror="window.__pwned=1">';
    const script = '<script>window.__pwned=2</script>';
    const bytes = buildOnnx({
      name: evil,
      inputs: { [evil]: ['float32', [1, 4]] },
      outputs: [script],
      initializers: { [`${evil}_w`]: tensor('float32', [4, 4], new Float32Array(16).fill(0.5)) },
      nodes: [
        { op: 'MatMul', name: evil, inputs: [evil, `${evil}_w`], outputs: ['mm'] },
        { op: 'Relu', name: script, inputs: ['mm'], outputs: [script] },
      ],
    });
    const prev = await paintedNow();
    await dropFiles(page, [{ name: '<b>evil</b>.onnx', bytes }]);
    await painted(prev);
    // The names are on screen as characters; no element was made from them and nothing ran.
    await page.getByText(evil).first().waitFor();
    expect(await page.locator('[data-testid=graph] img').count()).toBe(0);
    expect(await page.locator('[data-testid=graph] script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(app.pageErrors).toEqual([]);
    expect(app.foreignRequests).toEqual([]);
  });
});
