// The Temporal Web UI, in a real browser, with payloads encrypted (CUTOVER_CODEC_KEYS) and the dev
// server started with `--ui-codec-endpoint` pointing at `cutover codec-server`: the approver still
// reads the run's current details, its input and the approval comments, decrypted by the codec
// server the browser calls (CORS), while the history itself holds only ciphertext.
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { run as cutover } from '../client/main';
import type { Io } from '../client/io';
import { approveSignal } from '../common/temporal';
import { useHarness } from './helpers/harness';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { atGate, startRun, waitFor } from './helpers/run';
import { freePort, launchBrowser } from './helpers/ui';

process.env.CUTOVER_CODEC_KEYS = `ui:${randomBytes(32).toString('base64')}`;
const COMMENT = 'checked the dry run with Dana Whitfield';

let uiPort = 0;
let codecPort = 0;
let browser: Browser | undefined;
const stopCodec = new AbortController();
let codecExit: Promise<number> | undefined;
// Registered before the harness's hooks, so both ports are known when the server starts.
beforeAll(async () => {
  uiPort = await freePort();
  codecPort = await freePort();
});
const h = useHarness('cutover_cui', SAAS_SCHEMA + PILOT_DATA, {
  get uiPort() {
    return uiPort;
  },
  get extraArgs() {
    return ['--ui-codec-endpoint', `http://127.0.0.1:${codecPort}`];
  },
});

beforeAll(async () => {
  await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  const out: string[] = [];
  const io: Io = { out: (t) => void out.push(t), err: () => undefined, isTTY: false };
  // The UI can send only its own login's token (passAccessToken), and this dev server has no login:
  // no token, said explicitly, and only this UI's origin.
  codecExit = cutover(
    ['node', 'cutover', 'codec-server', '--port', String(codecPort), '--no-auth', '--origin', `http://127.0.0.1:${uiPort}`],
    io,
    { ...process.env },
    stopCodec.signal,
  );
  for (let i = 0; i < 200 && !out.length; i++) await new Promise((r) => setTimeout(r, 25));
  expect(out[0]).toBe(`http://127.0.0.1:${codecPort}`);
  browser = await launchBrowser();
}, 120000);

afterAll(async () => {
  await browser?.close();
  stopCodec.abort();
  await codecExit;
  delete process.env.CUTOVER_CODEC_KEYS;
});

/** Every frame's text (the details are rendered markdown, possibly in a frame), once it contains `until`. */
async function pageText(page: import('playwright-core').Page, until: RegExp): Promise<string> {
  let text = '';
  for (let i = 0; i < 60 && !until.test(text); i++) {
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

test('with --ui-codec-endpoint the UI shows decrypted current details, input and approval comments', async () => {
  const handle = await startRun(h.env, saasPlan('ui-codec'), 'alice');
  await waitFor(handle, atGate('plan'));
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob', comment: COMMENT });
  await waitFor(handle, (s) => s.approvals.length === 1);

  const context = await browser!.newContext();
  const page = await context.newPage();
  const decodeCalls: string[] = [];
  // On the context: it also sees requests made by the UI's workers.
  context.on('request', (r) => {
    if (r.url().startsWith(`http://127.0.0.1:${codecPort}/`) && r.method() === 'POST') decodeCalls.push(r.url());
  });
  await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/cutover-ui-codec`, { waitUntil: 'domcontentloaded' });
  // Current details, answered by the worker (encrypted) and decrypted through the codec server.
  await page.getByText('User Metadata', { exact: true }).first().click();
  const details = await pageText(page, /Awaiting approval of gate/);
  expect(details).toMatch(/Awaiting approval of gate\s+plan\s*: 1 of 2 approvals \(bob\)/);
  expect(details).toMatch(/initiated by alice/);
  expect(decodeCalls.some((u) => /\/decode(\?|$)/.test(u))).toBe(true);
  // The approval's comment, in the signal event of the history, decrypted.
  const runId = (await handle.describe()).runId;
  await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/cutover-ui-codec/${runId}/history`, {
    waitUntil: 'domcontentloaded',
  });
  // The workflow's input (the plan), decrypted.
  const input = await pageText(page, /separationOfDuties/);
  expect(input).toMatch(/"id": "ui-codec"[\s\S]*"separationOfDuties": true/);
  await page.getByText('Workflow Execution Signaled').first().click();
  const signal = await pageText(page, /Dana Whitfield/);
  expect(signal).toContain(COMMENT);
  await handle.terminate('ui codec test done');
}, 180000);
