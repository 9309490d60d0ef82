// Regenerates docs/screenshot.png: the built app with a sample model open and a Conv selected.
// Run after `npm run build`: `npx tsx bench/screenshot.ts [sample.onnx] [node name]`.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { preview } from 'vite';

const [file = 'yolox_nano.onnx', nodeName = 'Conv_41'] = process.argv.slice(2);

async function main(): Promise<void> {
  const server = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 860 }, deviceScaleFactor: 1 })).newPage();
    await page.goto(server.resolvedUrls!.local[0]);
    await page.locator(`[data-file="${file}"]`).click();
    await page.waitForSelector('[data-testid=graph][data-painted]', { timeout: 60_000 });
    await page.locator(`[data-testid=graph-node][data-name="${nodeName}"]`).click();
    await page.getByTestId('histogram').first().waitFor();
    await page.waitForTimeout(400);
    mkdirSync('docs', { recursive: true });
    await page.screenshot({ path: 'docs/screenshot.png' });
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
