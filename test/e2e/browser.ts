import { chromium, type Browser, type Page } from 'playwright-core';
import { inject } from 'vitest';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--no-first-run',
];

export interface AppSession {
  browser: Browser;
  page: Page;
  baseURL: string;
  /** Requests the page made to any origin other than the app's own: must stay empty. */
  foreignRequests: string[];
  /** Uncaught page errors and console errors. */
  pageErrors: string[];
  /** Content-Security-Policy violations reported on the page's console. */
  cspViolations: string[];
  close(): Promise<void>;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Opens the built app in a fresh page of a fresh Chromium. */
export async function openApp(path = '/'): Promise<AppSession> {
  const baseURL = inject('baseURL');
  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const origin = new URL(baseURL).origin;
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) foreignRequests.push(u);
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(baseURL + path);
  return { browser, page, baseURL, foreignRequests, pageErrors, cspViolations, close: () => browser.close() };
}

/** Drops files on the page the way a person drags them from the desktop. */
export async function dropFiles(page: Page, files: { name: string; bytes: Uint8Array }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, b64: Buffer.from(f.bytes).toString('base64') }));
  await page.evaluate(async (items) => {
    const dt = new DataTransfer();
    for (const it of items) {
      const bin = Uint8Array.from(atob(it.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bin], it.name));
    }
    const target = document.body;
    for (const type of ['dragenter', 'dragover', 'drop']) {
      target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }, payload);
}

/** Waits until the graph of the open model is painted. */
export async function waitGraphPainted(page: Page): Promise<void> {
  await page.waitForFunction(() => !!document.querySelector('[data-testid=graph]')?.getAttribute('data-painted'), null, { timeout: 60_000 });
}

/** What most flows start with: the open model calibrated on its bundled sample set, then quantized. */
export async function quantizeOnSampleSet(page: Page): Promise<void> {
  await page.getByTestId('step-calibrate').click();
  await page.getByTestId('use-sample-calib').click();
  await page.getByTestId('calib-info').waitFor({ timeout: 60_000 });
  await page.getByTestId('to-quantize').click();
  await page.getByTestId('run-quantize').click();
  await page.getByTestId('quant-results').waitFor({ timeout: 90_000 });
}
