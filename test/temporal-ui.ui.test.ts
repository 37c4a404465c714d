// The Temporal Web UI, in a real browser (Debian chromium via playwright-core), tells an approver
// what the run waits for: the workflow's current details name the gate, the approvals so far and
// the signal to send; the search attributes show its status and phase. It also shows on-call a
// paused run's error and accepted actions, an auditor a finished run's steps and result, and ops
// the runs list; each person's screen is saved as <role>.png (docs/screens/ with CUTOVER_UPDATE_SCREENS=1: docs/operating.md and the role docs show them),
// taken only after the test has checked what the screen says.
import { pageText, runPage as openRun, screenshot, useUiHarness } from './helpers/ui';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { acknowledging, atGate, paused, startRun, waitFor } from './helpers/run';
import { rows } from './helpers/pg';
import { approveSignal } from '../common/temporal';

/** A run's workflow page with its current details open. */
const runPage = (id: string, until: (text: string) => boolean) => openRun(u.browser, u.port, id, until);

const u = useUiHarness('cutover_ui', SAAS_SCHEMA + PILOT_DATA, SAAS_SCHEMA + PRODUCTION_DATA);
const h = u.h;

test('the workflow page shows the gate, approvals so far and what to send', async () => {
  const handle = await startRun(h.env, saasPlan('ui-gate'), 'alice');
  await waitFor(handle, atGate('plan'));
  await handle.signal(approveSignal, { gate: 'plan', approver: 'alice' }); // refused: she started it
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(handle, (s) => s.approvals.length === 1 && s.refused.length === 1);

  const { page, text } = await runPage('cutover-ui-gate', (t) => t.includes('Awaiting approval of gate'));
  expect(text).toMatch(/status\s+awaiting-approval/);
  expect(text).toMatch(/Awaiting approval of gate\s+plan\s*: 1 of 2 approvals \(bob\)/);
  expect(text).toMatch(/Send an Update\s+approve/);
  // What is being approved, per table, and the run's own facts; the refused self-approval is visible.
  expect(text).toMatch(/initiated by alice/);
  expect(text).toMatch(/in scope[\s\S]*to move[\s\S]*merged[\s\S]*left behind[\s\S]*Predicted conflicts/);
  expect(text).toMatch(/public\.accounts[\s|]+16[\s|]+16/);
  expect(text).toMatch(/Refused: 1 signal\(s\) or update\(s\); last: approve by alice: separation of duties/);
  await screenshot(page, 'approver');

  await page.goto(
    `http://127.0.0.1:${u.port}/namespaces/default/workflows?query=${encodeURIComponent("CutoverStatus='awaiting-approval'")}`,
  );
  await page.getByText('cutover-ui-gate').first().waitFor({ timeout: 60000 });
  await page.close();
}, 180000);

test('auditor: a finished run shows its steps done (tables, rows) and its result', async () => {
  const handle = await startRun(h.env, saasPlan('ui-done'), 'alice');
  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate));
    await handle.signal(approveSignal, { gate, approver: 'bob' });
    await handle.signal(approveSignal, { gate, approver: 'carol', comment: 'checked' });
  }
  await handle.result();
  // What the run moved, by the test's own SQL on Production.
  const [{ n }] = await rows<{ n: string }>(
    process.env.CUTOVER_DB_PRODUCTION!,
    "SELECT count(*)::text AS n FROM cutover.manifest WHERE outcome = 'moved'",
  );
  const { page, text } = await runPage('cutover-ui-done', (t) => /step done/.test(t) && /Completed/i.test(t));
  expect(text).toMatch(/status\s+completed/);
  expect(text).toMatch(/step done[\s|]+tables[\s|]+rows/);
  // The UI's markdown typesets 4/4 with a fraction slash.
  expect(text).toMatch(/publish[\s|]+4[/⁄]4[\s|]+\d+ inserted/);
  expect(text).toMatch(/validate[\s|]+4[/⁄]4 ok/);
  const inserted = /publish[\s|]+4[/⁄]4[\s|]+(\d+) inserted/.exec(text)![1];
  expect(Number(inserted)).toBe(Number(n));
  const hash = /plan hash\s+([0-9a-f]{64})/.exec(text)![1];
  // The evidence pack: the `report` query on the Queries tab (answered by a worker replaying the closed run).
  await page.getByText('Queries', { exact: true }).first().click();
  await page.getByText('Run Query', { exact: true }).first().click();
  const report = await pageText(page, (t) => t.includes('"finishedAt"'));
  // The evidence pack's own fields (the status query has no finishedAt): the report, of this run.
  expect(report).toMatch(/"workflowId":\s*"cutover-ui-done"/);
  expect(report).toMatch(new RegExp(`"planHash":\\s*"${hash}"`));
  expect(report).toMatch(/"status":\s*"completed"/);
  expect(report).toMatch(/"initiatedBy":\s*"alice"/);
  await screenshot(page, 'auditor', false);
  await page.close();
}, 240000);

test('on-call: a paused run shows the error and only the actions it accepts now', async () => {
  // Production already holds account 1 with other content: ids: keep refuses to overwrite it.
  await rows(process.env.CUTOVER_DB_PRODUCTION!, "INSERT INTO accounts VALUES (1, 'Somebody else', 'pro', false) ON CONFLICT DO NOTHING");
  // An earlier test moved these rows already: only a deliberate re-run copies them again (and collides).
  const handle = await startRun(
    h.env,
    saasPlan('ui-oncall', { decision: { reason: 'UI test', rerun: { reason: 'copy again on purpose: publish collides' } } }),
    'alice',
  );
  for (const gate of ['plan', 'cutover'] as const) {
    // The dry run predicts the collision: approving gate plan acknowledges what status says it must.
    const ack = acknowledging(await waitFor(handle, atGate(gate)));
    await handle.signal(approveSignal, { gate, approver: 'bob', ...ack });
    await handle.signal(approveSignal, { gate, approver: 'carol', ...ack });
  }
  const view = await waitFor(handle, paused, 120000);
  const { page, text } = await runPage('cutover-ui-oncall', (t) => t.includes('Resume — accepted now'));
  expect(text).toMatch(/status\s+paused/);
  expect(text).toMatch(/Paused on\s+publish\s*:/);
  expect(text).toMatch(/already exist in production/);
  expect(text).toContain('public.accounts');
  // Exactly the actions the run accepts (the status query says the same).
  const accepted = /Resume — accepted now: ([^.]*)\./.exec(text)![1];
  expect(
    accepted
      .split(',')
      .map((a) => a.trim())
      .sort(),
  ).toEqual([...view.actions!].sort());
  expect(text).toMatch(/Send an Update\s+resume/);
  await screenshot(page, 'on-call');
  await page.close();
}, 240000);

test("ops: a running step's per-table progress is in Pending Activities, and the current details point there", async () => {
  process.env.CUTOVER_TEST_SLOW_TABLES = '8:stage'; // each table's copy waits 8 s, as a large table would
  try {
    const handle = await startRun(h.env, saasPlan('ui-progress'), 'alice');
    for (const gate of ['plan', 'cutover'] as const) {
      await waitFor(handle, atGate(gate));
      await handle.signal(approveSignal, { gate, approver: 'bob' });
      await handle.signal(approveSignal, { gate, approver: 'carol' });
    }
    await waitFor(handle, (v) => v.phase === 'stage');
    const { page, text } = await runPage('cutover-ui-progress', (t) => t.includes('Running'));
    expect(text).toMatch(/Running\s+stage\s*: per-table rows done \/ total and elapsed time are in Pending Activities → Heartbeat Details/);
    await page
      .locator('a, button, [role=tab]', { hasText: /^\s*Pending Activities/ })
      .first()
      .click();
    // The heartbeat details as the worker sent them: readable JSON, per table rows done / total.
    const details = await pageText(page, (t) => /"phase":\s*"done"/.test(t) && t.includes('"elapsedMs"'));
    expect(details).toMatch(/"kind":\s*"cutover\.progress"/);
    expect(details).toMatch(/"step":\s*"stage"/);
    expect(details).toMatch(/"table":\s*"public\.accounts"/);
    expect(details).toMatch(/"done":\s*\d+/);
    expect(details).toMatch(/"total":\s*\d+/);
    expect(details).toMatch(/"phase":\s*"done"/);
    await screenshot(page, 'progress', false);
    await page.close();
    await handle.terminate('ui test done');
  } finally {
    delete process.env.CUTOVER_TEST_SLOW_TABLES;
  }
}, 240000);

test("ops: the runs list shows every run with its status, and filters by the run's own search attributes", async () => {
  const page = await u.browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`http://127.0.0.1:${u.port}/namespaces/default/workflows`, { waitUntil: 'domcontentloaded' });
  const text = await pageText(page, (t) => ['cutover-ui-gate', 'cutover-ui-done', 'cutover-ui-oncall'].every((id) => t.includes(id)));
  for (const id of ['cutover-ui-gate', 'cutover-ui-done', 'cutover-ui-oncall']) expect(text).toContain(id);
  expect(text).toMatch(/Completed/i);
  expect(text).toMatch(/Running/i);
  await screenshot(page, 'ops');
  // The paused run, found by the status the workflow keeps in its search attributes.
  await page.goto(`http://127.0.0.1:${u.port}/namespaces/default/workflows?query=${encodeURIComponent("CutoverStatus='paused'")}`);
  const paused = await pageText(page, (t) => t.includes('cutover-ui-oncall'));
  expect(paused).toContain('cutover-ui-oncall');
  expect(paused).not.toContain('cutover-ui-done');
  await page.close();
  for (const id of ['cutover-ui-gate', 'cutover-ui-oncall']) await h.env.client.workflow.getHandle(id).terminate('ui test done');
}, 180000);
