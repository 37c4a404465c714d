// The Temporal Web UI, in a real browser (Debian chromium via playwright-core), tells an approver
// what the run waits for: the workflow's current details name the gate, the approvals so far and
// the signal to send; the search attributes show its status and phase.
import { createServer } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { useHarness } from './helpers/harness';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { atGate, startRun, waitFor } from './helpers/run';
import { approveSignal } from '../common/temporal';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

let uiPort = 0;
let browser: Browser | undefined;
// Registered before the harness's hooks, so the UI port is known when the server starts.
beforeAll(async () => {
  uiPort = await freePort();
});
const h = useHarness('cutover_ui', SAAS_SCHEMA + PILOT_DATA, {
  get uiPort() {
    return uiPort;
  },
});

beforeAll(async () => {
  await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  browser = await chromium.launch({
    executablePath: process.env.CUTOVER_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120000);

afterAll(async () => {
  await browser?.close();
});

test('the workflow page shows the gate, approvals so far and what to send', async () => {
  const handle = await startRun(h.env, saasPlan('ui-gate'), 'alice');
  await waitFor(handle, atGate('plan'));
  await handle.signal(approveSignal, { gate: 'plan', approver: 'alice' }); // refused: she started it
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(handle, (s) => s.approvals.length === 1 && s.refused.length === 1);

  const page = await browser!.newPage();
  await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/cutover-ui-gate`, { waitUntil: 'domcontentloaded' });
  // Current details (setCurrentDetails) live on the "User Metadata" tab; the UI asks the worker for them.
  await page.getByText('User Metadata', { exact: true }).first().click();
  // The details are rendered markdown, possibly inside a frame: read every frame's text.
  let text = '';
  for (let i = 0; i < 60 && !text.includes('Awaiting approval of gate'); i++) {
    await page.waitForTimeout(1000);
    text = (await Promise.all(page.frames().map((f) => f.locator('body').innerText().catch(() => '')))).join('\n');
  }
  await page.screenshot({ path: 'test/ui-gate.png', fullPage: true });
  expect(text).toMatch(/status\s+awaiting-approval/);
  expect(text).toMatch(/Awaiting approval of gate\s+plan\s*: 1 of 2 approvals \(bob\)/);
  expect(text).toMatch(/Send Signal\s+approve/);
  // What is being approved, per table, and the run's own facts; the refused self-approval is visible.
  expect(text).toMatch(/initiated by alice/);
  expect(text).toMatch(/in scope[\s\S]*to move[\s\S]*merged[\s\S]*left behind[\s\S]*predicted conflicts/);
  expect(text).toMatch(/public\.accounts[\s|]+16[\s|]+16/);
  expect(text).toMatch(/Refused: 1 signal\(s\) or update\(s\); last: approve by alice: separation of duties/);

  await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows?query=${encodeURIComponent("CutoverStatus='awaiting-approval'")}`);
  await page.getByText('cutover-ui-gate').first().waitFor({ timeout: 60000 });
  await handle.terminate('ui test done');
}, 180000);
