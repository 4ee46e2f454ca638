// A real browser for tests that look at what people look at: Debian's chromium (apt; installed here
// when missing, as on a fresh CI machine) driven by playwright-core, which downloads no browser of its
// own. Pages are opened offline: every request that is not the file itself is blocked and recorded,
// so a page that needs the network shows it.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { aptInstall } from './stack.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface OpenedPage {
  page: Page;
  /** Console errors, uncaught page errors and failed requests, in order. */
  errors: string[];
  /** Every URL the page tried to load besides itself (all blocked). */
  blocked: string[];
  close: () => Promise<void>;
}

let browser: Browser | undefined;

async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) aptInstall(['chromium']);
  // Root in a container has no user namespace for chromium's sandbox; the page is our own file.
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'], timeout: 120_000 });
  return browser;
}

/** Opens a local file offline, at a desktop size. */
export async function openFile(file: string, viewport = { width: 1200, height: 900 }): Promise<OpenedPage> {
  const context = await (await launch()).newContext({ offline: true, viewport });
  const page = await context.newPage();
  const url = pathToFileURL(file).href;
  const errors: string[] = [];
  const blocked: string[] = [];
  await page.route('**/*', (route) => {
    if (route.request().url() === url) return route.continue();
    blocked.push(route.request().url());
    return route.abort();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors, blocked, close: () => context.close() };
}

/** How many distinct colours a PNG has, counted by the browser itself (canvas), on a blank offline page. */
export async function distinctColours(png: Buffer): Promise<number> {
  const context = await (await launch()).newContext({ offline: true });
  try {
    const page = await context.newPage();
    return await page.evaluate(async (data) => {
      const img = new Image();
      img.src = `data:image/png;base64,${data}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      [canvas.width, canvas.height] = [img.width, img.height];
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, img.width, img.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < px.length; i += 4) seen.add((px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!);
      return seen.size;
    }, png.toString('base64'));
  } finally {
    await context.close();
  }
}

export async function closeBrowser(): Promise<void> {
  await browser?.close();
  browser = undefined;
}
