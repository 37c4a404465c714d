// What the browser tests share: a free port for the dev server's UI, Debian chromium via
// playwright-core, every frame's text (rendered markdown may sit in a frame), a run's page with its
// current details open, and screenshots for the docs (docs/screens/) or for debugging (/tmp).
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

import { freePort } from './free-port';
import { useHarness, type Harness } from './harness';

export { freePort };

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CUTOVER_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Where screens go: the docs' (docs/screens/, committed) with CUTOVER_UPDATE_SCREENS=1, else a
 * scratch folder, so that a test run leaves the checkout as it found it.
 */
export const SCREENS =
  process.env.CUTOVER_UPDATE_SCREENS === '1' ? path.join(__dirname, '..', '..', 'docs', 'screens') : path.join(tmpdir(), 'cutover-screens');
export async function screenshot(page: Page, role: string, fullPage = true): Promise<void> {
  mkdirSync(SCREENS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENS, `${role}.png`), fullPage });
}

/** The text of every frame of the page, once `until` holds (or after a minute). */
export async function pageText(page: Page, until: (text: string) => boolean): Promise<string> {
  let text = '';
  for (let i = 0; i < 60 && !until(text); i++) {
    await page.waitForTimeout(1000);
    text = (
      await Promise.all(
        page.frames().map((f) =>
          f
            .locator('body')
            .innerText()
            .catch(() => ''),
        ),
      )
    ).join('\n');
  }
  return text;
}

/** A run's workflow page with its current details (the "User Metadata" tab) open. */
export async function runPage(
  browser: Browser,
  uiPort: number,
  id: string,
  until: (text: string) => boolean,
): Promise<{ page: Page; text: string }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/${id}`, { waitUntil: 'domcontentloaded' });
  // Current details (setCurrentDetails) live on the "User Metadata" tab; the UI asks the worker for them.
  await page.getByText('User Metadata', { exact: true }).first().click();
  return { page, text: await pageText(page, until) };
}

/** A browser test's setup: the harness with the dev server's UI on a free port, a production, a browser. */
export interface UiHarness {
  h: Harness;
  readonly port: number;
  readonly browser: Browser;
}

export function useUiHarness(prefix: string, pilotSql: string, productionSql: string): UiHarness {
  let port = 0;
  let browser: Browser | undefined;
  // Registered before the harness's hooks, so the UI port is known when the server starts.
  beforeAll(async () => {
    port = await freePort();
  });
  const h = useHarness(prefix, pilotSql, {
    get uiPort() {
      return port;
    },
  });
  beforeAll(async () => {
    await h.production(productionSql);
    browser = await launchBrowser();
  }, 120000);
  afterAll(async () => {
    await browser?.close();
  });
  return {
    h,
    get port() {
      return port;
    },
    get browser() {
      if (!browser) throw new Error('the browser is not started yet (use it inside a test)');
      return browser;
    },
  };
}
