// A new user drives a run from the Temporal Web UI in a real browser (Debian chromium via
// playwright-core), clicking what a person clicks: ops starts the run with the UI's Start Workflow
// form, filled with what `cutover plan input <plan> --as NAME` prints (reusing an earlier run's
// form, which copies its summary, or an empty one), the approver reads the whole decision and
// sends the `approve` Update (a refused one shows its reason inline; valid ones move the run on; a
// refused Signal shows only under Refused in the current details) or `reject`s a run (it ends
// Failed in the runs list), on-call resumes a paused run with the `resume` Update, and ops adds
// CutoverStatus and CutoverPhase as columns of the runs list. The run's facts are read from the
// workflow's current details, and what the run did from the databases by the test's own SQL. Each
// role's screen is saved (docs/screens/ with CUTOVER_UPDATE_SCREENS=1; docs/operating-ui.md shows them).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { planInput } from '../client/commands/plan';
import type { CommandContext } from '../client/commands/context';
import { startSummary, startDetails } from '../client/format/plan';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES, TASK_QUEUE, WORKFLOW_TYPE, workflowIdFor, approveSignal } from '../common/temporal';
import { parsePlanText } from '../plan/load';
import { planHash } from '../plan/canonical';
import { rows } from './helpers/pg';
import { acknowledging, atGate, paused, waitFor } from './helpers/run';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { pageText, runPage, screenshot, useUiHarness } from './helpers/ui';

const u = useUiHarness('cutover_uidrive', SAAS_SCHEMA + PILOT_DATA, SAAS_SCHEMA + PRODUCTION_DATA);
const h = u.h;

const ui = (p: string) => `http://127.0.0.1:${u.port}/namespaces/default/${p}`;
const prod = () => process.env.CUTOVER_DB_PRODUCTION!;

/** Replace the text of the UI's JSON editor (a code editor: typed text is handed to the form on blur). */
async function typeJson(page: Page, editor: ReturnType<Page['getByRole']>, value: unknown): Promise<void> {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(JSON.stringify(value));
  await page.keyboard.press('Tab');
  await page.waitForTimeout(500);
}

/**
 * On a run's page: More Actions → Send an Update → name → Data → Submit. Returns the refusal the UI
 * shows inline in the dialog, or null when the dialog closed (the update was accepted).
 */
async function sendUpdate(page: Page, name: string, data: unknown): Promise<string | null> {
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: 'Send an Update' }).click();
  const dialog = page.getByRole('dialog', { name: 'Send an Update' });
  // The names come from the workflow's own metadata (its update handlers).
  await dialog.getByRole('button', { name: 'Select an Update' }).click();
  await page.getByRole('option', { name, exact: true }).click();
  await typeJson(page, dialog.getByRole('textbox', { name: 'Data' }), data);
  await dialog.getByRole('button', { name: 'Submit' }).click();
  const refusal = dialog.getByRole('alert').locator('p').first();
  await Promise.race([dialog.waitFor({ state: 'hidden', timeout: 60000 }), refusal.waitFor({ timeout: 60000 })]);
  if (await dialog.isHidden()) return null;
  return refusal.innerText();
}

/** What `cutover plan input <plan> --as NAME` prints: the Input JSON (stdout) and the form's other fields (stderr). */
async function planInputFor(plan: Record<string, unknown>, as: string): Promise<{ input: unknown; fields: Record<string, string> }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'cutover-ui-plan-')), 'plan.json');
  writeFileSync(file, JSON.stringify(plan));
  const out: string[] = [];
  const err: string[] = [];
  const ctx = {
    io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), isTTY: false },
    env: {},
    exitCode: 0,
  } as unknown as CommandContext;
  await planInput(ctx, file, { as });
  const fields = Object.fromEntries(
    [...err.join('\n').matchAll(/^ {2}(Workflow ID|Task Queue|Workflow Type): +(\S+)/gm)].map((m) => [m[1], m[2]]),
  );
  return { input: JSON.parse(out.join('\n')), fields };
}

/** The Start Workflow form, filled with what `cutover plan input` printed (as docs/operating.md says); `shot`: its screen before submitting. */
async function fillStartForm(page: Page, plan: Record<string, unknown>, initiatedBy: string, shot?: string): Promise<void> {
  const { input, fields } = await planInputFor(plan, initiatedBy);
  // The fields it names are the ones the run needs.
  expect(fields).toEqual({ 'Workflow ID': workflowIdFor(String(plan.id)), 'Task Queue': TASK_QUEUE, 'Workflow Type': WORKFLOW_TYPE });
  expect(input).toMatchObject({ initiatedBy, plan: { id: plan.id } });
  const form = page.getByRole('main');
  await form.getByRole('textbox', { name: 'Workflow ID' }).fill(fields['Workflow ID']);
  await form.getByRole('textbox', { name: 'Task Queue' }).fill(fields['Task Queue']);
  await form.getByRole('textbox', { name: 'Workflow Type' }).fill(fields['Workflow Type']);
  await typeJson(page, form.getByRole('textbox', { name: 'Data' }), input);
  if (shot) {
    // The whole form, from its Workflow ID down (the page scrolls inside its main pane).
    await page.setViewportSize({ width: 1400, height: 2000 });
    await form.getByRole('textbox', { name: 'Workflow ID' }).scrollIntoViewIfNeeded();
    await page.getByRole('heading', { name: 'Start Workflow' }).scrollIntoViewIfNeeded();
    await screenshot(page, shot, false);
    await page.setViewportSize({ width: 1400, height: 1000 });
  }
  await form.getByRole('button', { name: 'Start Workflow' }).click();
}

/** The plan hash and initiator the current details state (not the static summary or details). */
function facts(text: string): { hash: string; initiator: string } {
  const m = /plan hash\s+([0-9a-f]{64})\s*· strategy \S+ · initiated by (\S+)/.exec(text);
  if (!m) throw new Error(`no run facts in current details:\n${text}`);
  return { hash: m[1], initiator: m[2] };
}

test('ops starts a run with the Start Workflow form; approvers approve with Send an Update, a refusal shown inline', async () => {
  // An earlier run of another plan, started as `cutover start` does: with a summary and details
  // naming its plan hash and initiator (zed). Ops reuses its form, which copies those.
  const prevPlan = saasPlan('ui-prev', {
    approvals: { approvers: ['zed', 'bob', 'carol'], required: 2, separationOfDuties: true, timeout: '1h' },
  });
  const prevHash = planHash(parsePlanText(JSON.stringify(prevPlan)));
  const prev = await h.env.client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: TASK_QUEUE,
    workflowId: workflowIdFor('ui-prev'),
    args: [{ plan: prevPlan, initiatedBy: 'zed' }],
    staticSummary: startSummary(parsePlanText(JSON.stringify(prevPlan)), 'zed'),
    staticDetails: startDetails(parsePlanText(JSON.stringify(prevPlan)), prevHash, 'zed'),
  });
  await waitFor(prev, atGate('plan'));
  await prev.terminate('superseded');

  // Ops: the earlier run's page → More Actions → Start Workflow Like This One; new id and input.
  const plan = saasPlan('ui-drive');
  const hash = planHash(parsePlanText(JSON.stringify(plan)));
  expect(hash).not.toBe(prevHash);
  const ops = await u.browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await ops.goto(ui(`workflows/${workflowIdFor('ui-prev')}`), { waitUntil: 'domcontentloaded' });
  await ops.getByRole('button', { name: 'More Actions' }).click();
  await ops.getByRole('menuitem', { name: 'Start Workflow Like This One' }).click();
  await ops.getByRole('heading', { name: 'Start Workflow' }).waitFor();
  await fillStartForm(ops, plan, 'alice', 'ops-start');
  const handle = h.env.client.workflow.getHandle(workflowIdFor('ui-drive'));
  await waitFor(handle, atGate('plan'), 120000);
  const desc = await handle.describe();
  expect(desc.type).toBe(WORKFLOW_TYPE);
  expect(desc.taskQueue).toBe(TASK_QUEUE);
  // What the form copied: the earlier run's summary and details, naming zed and the earlier plan's hash.
  expect(await desc.staticSummary()).toBe(startSummary(parsePlanText(JSON.stringify(prevPlan)), 'zed'));
  expect(await desc.staticDetails()).toContain(prevHash);
  // The search attributes the form copied too are the run's own from its first task.
  expect(desc.typedSearchAttributes.get(defineSearchAttributeKey(SEARCH_ATTRIBUTES.planId, SearchAttributeType.KEYWORD))).toBe('ui-drive');
  expect(desc.typedSearchAttributes.get(defineSearchAttributeKey(SEARCH_ATTRIBUTES.status, SearchAttributeType.KEYWORD))).toBe(
    'awaiting-approval',
  );
  await ops.close();

  // Approver: the run's page; the current details carry this run's facts, whatever the copied summary says.
  const opened = await runPage(u.browser, u.port, workflowIdFor('ui-drive'), (t) => t.includes('Awaiting approval of gate'));
  const text = opened.text;
  let page = opened.page;
  expect(facts(text)).toEqual({ hash, initiator: 'alice' });
  expect(text).toMatch(/Awaiting approval of gate\s+plan\s*: 0 of 2 approvals \(none yet\)/);
  expect(text).toMatch(/Send an Update\s+approve/);
  // The whole decision: what approving does, who approves (and how many), the backup and rehearsal,
  // the dry run per table with its reasons, the rules in words.
  expect(text).toMatch(/The decision at gate plan/);
  expect(text).toMatch(/approvers\W+alice, bob, carol: 2 required; the initiator may not approve/);
  expect(text).toMatch(/rehearsal\W+skip: no rehearsal/);
  expect(text).toMatch(/What moves \(the dry run\)[\s\S]*public\.accounts[\s|]+16[\s|]+16/);
  expect(text).toMatch(
    /The plan.s rules in words[\s\S]*public\.accounts: selects rows where is_test = false; rows move keeping their keys/,
  );
  expect(text).toMatch(/as parent-left-behind:<the parent.s table>/); // plain text, not HTML entities

  // Refused: mallory is not among the plan's approvers; the UI shows the run's reason inline.
  const refusal = await sendUpdate(page, 'approve', { gate: 'plan', approver: 'mallory' });
  expect(refusal).toBe('"mallory" is not an approver of this plan (approvers: alice, bob, carol)');
  // And so is the initiator: separation of duties.
  await page.getByRole('dialog', { name: 'Send an Update' }).getByRole('button', { name: 'Cancel' }).last().click();
  expect(await sendUpdate(page, 'approve', { gate: 'plan', approver: 'alice' })).toMatch(/separation of duties/);
  // Just the reason: no stack trace of the worker's code under it.
  expect(await page.getByRole('dialog', { name: 'Send an Update' }).getByRole('textbox', { name: 'Stack Trace' }).count()).toBe(0);
  await screenshot(page, 'approver-refused', false);
  await page.getByRole('dialog', { name: 'Send an Update' }).getByRole('button', { name: 'Cancel' }).last().click();
  // Refused: an approval of the plan hash the copied summary names is not an approval of this run's plan.
  expect(await sendUpdate(page, 'approve', { gate: 'plan', approver: 'bob', planHash: prevHash })).toBe(
    `plan hash mismatch: you approved ${prevHash}, this run's plan is ${hash}`,
  );
  await page.getByRole('dialog', { name: 'Send an Update' }).getByRole('button', { name: 'Cancel' }).last().click();
  // A Signal is fire-and-forget: the UI's dialog closes whatever the run makes of it; the refusal
  // (here: the wrong gate) shows only in the run, under Refused in the current details.
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
  const signalDialog = page.getByRole('dialog', { name: 'Send a Signal' });
  await signalDialog.waitFor();
  await signalDialog.getByRole('button', { name: /Select a signal/i }).click();
  await page.getByRole('option', { name: 'approve', exact: true }).click();
  await typeJson(page, signalDialog.getByRole('textbox', { name: 'Data' }), { gate: 'cutover', approver: 'bob' });
  await signalDialog.getByRole('button', { name: 'Submit' }).click();
  await signalDialog.waitFor({ state: 'hidden' });
  let view = await waitFor(handle, (s) => s.refused.length === 4);
  expect(view.approvals).toEqual([]);
  await page.close();
  ({ page } = await runPage(u.browser, u.port, workflowIdFor('ui-drive'), (t) => t.includes('Refused: 4')));
  const refusedText = await pageText(page, (t) => t.includes('Refused: 4'));
  expect(refusedText).toMatch(/Refused: 4 signal\(s\) or update\(s\); last: .*approve by bob: .*cutover/);
  // The decision names who was refused at this gate, and why (the signal for gate cutover is not among them).
  expect(refusedText).toMatch(/refused\W+mallory: .mallory. is not an approver[^\n]*; alice: separation of duties/);

  // Accepted: bob and carol approve the plan gate, then the cutover gate; the run completes.
  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate), 120000);
    expect(await sendUpdate(page, 'approve', { gate, approver: 'bob', comment: 'checked the dry run', planHash: hash })).toBeNull();
    if (gate === 'plan') {
      // The approver's screen: bob's approval counted, the whole decision below it.
      await page.close();
      ({ page } = await runPage(u.browser, u.port, workflowIdFor('ui-drive'), (t) => /approved\W+bob/.test(t)));
      // Tall enough to hold the whole decision (the details pane scrolls inside the page).
      await page.setViewportSize({ width: 1400, height: 2600 });
      await screenshot(page, 'approver-approved', false);
      await page.setViewportSize({ width: 1400, height: 1000 });
    }
    expect(await sendUpdate(page, 'approve', { gate, approver: 'carol' })).toBeNull();
  }
  await handle.result();
  view = await waitFor(handle, (s) => s.status === 'completed');
  expect(view.approvals.map((a) => `${a.gate}:${a.approver}`)).toEqual(['plan:bob', 'plan:carol', 'cutover:bob', 'cutover:carol']);
  // What the run published, by the test's own SQL: Pilot's non-test accounts are in Production.
  const moved = await rows<{ n: string }>(prod(), "SELECT count(*)::text AS n FROM accounts WHERE name LIKE 'Account %'");
  expect(Number(moved[0].n)).toBe(16);
  await page.close();
  // The finished run's page, opened afresh, says so in its current details.
  const after = await runPage(u.browser, u.port, workflowIdFor('ui-drive'), (t) => /status\s+completed/.test(t));
  expect(after.text).toMatch(/status\s+completed/);
  expect(facts(after.text)).toEqual({ hash, initiator: 'alice' });
  await after.page.close();
}, 420000);

test('on-call resumes a paused run with the resume Update: a refused action shown inline, then retry', async () => {
  // A fresh Production (the worker resolves the alias at each use) already holding account 1 with
  // other content: ids: keep refuses to overwrite it, so publish pauses.
  await h.production(SAAS_SCHEMA + PRODUCTION_DATA + "INSERT INTO accounts VALUES (1, 'Somebody else', 'pro', false);");
  // Ops starts it from the runs list's Start Workflow button, on an empty form this time.
  const ops = await u.browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await ops.goto(ui('workflows'), { waitUntil: 'domcontentloaded' });
  await ops.getByRole('link', { name: 'Start Workflow' }).click();
  await ops.getByRole('heading', { name: 'Start Workflow' }).waitFor();
  await fillStartForm(ops, saasPlan('ui-resume'), 'alice');
  const handle = h.env.client.workflow.getHandle(workflowIdFor('ui-resume'));
  await waitFor(handle, (v) => v.status !== undefined, 120000);
  expect((await handle.describe()).taskQueue).toBe(TASK_QUEUE);
  await ops.close();
  for (const gate of ['plan', 'cutover'] as const) {
    // The dry run predicts the collision: approving gate plan acknowledges what status says it must.
    const ack = acknowledging(await waitFor(handle, atGate(gate), 120000));
    await handle.signal(approveSignal, { gate, approver: 'bob', ...ack });
    await handle.signal(approveSignal, { gate, approver: 'carol', ...ack });
  }
  const view = await waitFor(handle, paused, 180000);
  expect(view.actions).toContain('retry');
  expect(view.actions).not.toContain('skip');

  const { page, text } = await runPage(u.browser, u.port, workflowIdFor('ui-resume'), (t) => t.includes('Resume — accepted now'));
  expect(text).toMatch(/Paused on\s+publish\s*:/);
  expect(text).toMatch(/Send an Update\s+resume/);
  // Refused: publish cannot be skipped; the reason is inline and the run stays paused.
  expect(text.split('\n').find((l) => /\S/.test(l) && /PAUSED at/.test(l))).toMatch(/PAUSED at publish: /);
  expect(await sendUpdate(page, 'resume', { action: 'skip', by: 'oncall', reason: 'try skipping' })).toBe(
    'step "publish" cannot be skipped',
  );
  await screenshot(page, 'on-call-refused', false);
  await page.getByRole('dialog', { name: 'Send an Update' }).getByRole('button', { name: 'Cancel' }).last().click();
  expect((await waitFor(handle, (s) => s.refused.length === 1)).status).toBe('paused');

  // On-call frees the key (the other row was a leftover), then retries from the UI.
  await rows(prod(), 'DELETE FROM accounts WHERE account_id = 1');
  expect(await sendUpdate(page, 'resume', { action: 'retry', by: 'oncall', reason: 'freed the key' })).toBeNull();
  await handle.result();
  const [account] = await rows<{ name: string }>(prod(), 'SELECT name FROM accounts WHERE account_id = 1');
  expect(account.name).toBe('Account 1');
  const decided = await waitFor(handle, (s) => s.status === 'completed');
  expect(JSON.stringify(decided)).toMatch(/freed the key/);
  await page.close();
  // On-call's screen after the resume: the run completed, its steps say publish was retried.
  const done = await runPage(u.browser, u.port, workflowIdFor('ui-resume'), (t) => /status\s+completed/.test(t));
  expect(done.text).toMatch(/publish[\s|]+4[/⁄]4[\s|]+\d+ inserted/);
  await screenshot(done.page, 'on-call-resumed');
  await done.page.close();
}, 420000);

test('an approver rejects a run; ops sees every outcome in the runs list with CutoverStatus and CutoverPhase as columns', async () => {
  const ops = await u.browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await ops.goto(ui('workflows'), { waitUntil: 'domcontentloaded' });
  await ops.getByRole('link', { name: 'Start Workflow' }).click();
  await ops.getByRole('heading', { name: 'Start Workflow' }).waitFor();
  await fillStartForm(ops, saasPlan('ui-reject'), 'alice');
  const handle = h.env.client.workflow.getHandle(workflowIdFor('ui-reject'));
  await waitFor(handle, atGate('plan'), 120000);
  const { page } = await runPage(u.browser, u.port, workflowIdFor('ui-reject'), (t) => t.includes('Awaiting approval of gate'));
  expect(await sendUpdate(page, 'reject', { gate: 'plan', approver: 'carol', reason: 'not before the audit' })).toBeNull();
  await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'CutoverRejected' } });
  await page.close();

  // The runs list: Configure Columns → add CutoverStatus and CutoverPhase (the UI keeps the choice in the browser).
  await ops.goto(ui('workflows'), { waitUntil: 'domcontentloaded' });
  await ops.getByRole('button', { name: 'Configure Columns' }).click();
  await ops.getByRole('button', { name: 'Add CutoverStatus column' }).click();
  await ops.getByRole('button', { name: 'Add CutoverPhase column' }).click();
  // Room for them at half width: the run id and type say nothing a cutover run's id does not.
  await ops.getByRole('button', { name: 'Remove Run ID column' }).click();
  await ops.getByRole('button', { name: 'Remove Type column' }).click();
  await ops.getByRole('button', { name: 'Remove End column' }).click();
  await ops.keyboard.press('Escape');
  await ops.reload({ waitUntil: 'domcontentloaded' });
  const ids = ['cutover-ui-drive', 'cutover-ui-resume', 'cutover-ui-reject'];
  const list = await pageText(ops, (t) => ids.every((id) => t.includes(id)) && t.includes('CutoverStatus') && t.includes('rejected'));
  expect(list).toMatch(/CutoverStatus[\s\S]*CutoverPhase/);
  expect(list).not.toContain('Run ID');
  // Each run's row: the UI's own status (a rejected run is Failed, not a green Completed), then cutover's.
  const rowOf = async (id: string) => (await ops.getByRole('row').filter({ hasText: id }).first().innerText()).replace(/\s+/g, ' ');
  expect(await rowOf('cutover-ui-reject')).toMatch(/Failed.*cutover-ui-reject.*rejected.*gate:plan/i);
  expect(await rowOf('cutover-ui-drive')).toMatch(/Completed.*cutover-ui-drive.*completed.*finalize/i);
  await screenshot(ops, 'runs-list-columns', false);
  await ops.close();
}, 300000);
