// The migration workflow end to end on a real Temporal dev server and real PostgreSQL.
import { acrossContinueAsNew } from '../client/across-continue';
import {
  approveSignal,
  approveUpdate,
  rejectSignal,
  reportQuery,
  resumeSignal,
  resumeUpdate,
  SEARCH_ATTRIBUTES,
  statusQuery,
  WORKFLOW_TYPE,
  type StatusView,
} from '../common/temporal';
import { useHarness } from './helpers/harness';
import { listQuery } from '../client/format/list';
import { rows } from './helpers/pg';
import { EXPECTED, PK, PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { atGate, paused, record, startRun, waitFor } from './helpers/run';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../client/main';
import { runResult } from './helpers/run-result';

const h = useHarness('cutover_wf', SAAS_SCHEMA + PILOT_DATA);
let prod: string;

beforeEach(async () => {
  prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
});

const count = async (url: string, sql: string) =>
  Number((await rows<{ n: string }>(url, `SELECT count(*)::text AS n FROM (${sql}) s`))[0].n);
/** Content of a row set, order-independent, computed by the test itself. */
const content = async (url: string, sql: string) =>
  (await rows<{ c: string }>(url, `SELECT coalesce(string_agg(r::text, '|' ORDER BY r::text), '') AS c FROM (${sql}) r`))[0].c;

/** A run that did not succeed closes as Failed, typed by its status; the CLI still reads its whole result. */
async function closedAsFailed(handle: Awaited<ReturnType<typeof startRun>>, status: 'rejected' | 'aborted') {
  expect((await handle.describe()).status.name).toBe('FAILED');
  const cause = await handle.result().then(
    () => null,
    (e: { cause?: { type?: string; message?: string } }) => e.cause,
  );
  expect(cause?.type).toBe(status === 'rejected' ? 'CutoverRejected' : 'CutoverAborted');
  expect(cause?.message).toContain(`ended ${status}`);
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(
      ['node', 'cutover', ...args],
      { out: (t) => void out.push(t), err: (t) => void err.push(t), isTTY: false },
      { ...process.env, TEMPORAL_ADDRESS: h.env.address },
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const st = await cli('status', handle.workflowId, '--json');
  expect(st).toMatchObject({ code: 0, err: '' });
  expect(JSON.parse(st.out)).toMatchObject({ status, planHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  const text = await cli('status', handle.workflowId);
  expect(text.code).toBe(0);
  expect(text.out).toContain(status);
  const report = await cli('report', handle.workflowId, '--format', 'json');
  expect(report.code).toBe(0);
  expect(report.out).toMatch(new RegExp(`"status": ?"${status}"`));
  const list = await cli('list', '--json');
  expect((JSON.parse(list.out) as { workflowId: string; status: string }[]).find((r) => r.workflowId === handle.workflowId)?.status).toBe(
    status,
  );
}

async function approveBoth(handle: Awaited<ReturnType<typeof startRun>>, gate: 'plan' | 'cutover') {
  await waitFor(handle, atGate(gate));
  await handle.signal(approveSignal, { gate, approver: 'bob' });
  await handle.signal(approveSignal, { gate, approver: 'carol', comment: 'looks right' });
}

test('happy path: gates, refusals, and production holds exactly the selected rows', async () => {
  const handle = await startRun(h.env, saasPlan('wf-happy'));
  const atPlan = await waitFor(handle, atGate('plan'));
  expect(atPlan.planHash).toMatch(/^[0-9a-f]{64}$/);

  // Self-approval and wrong gate are refused, recorded, and change nothing.
  await handle.signal(approveSignal, { gate: 'plan', approver: 'alice' });
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
  await handle.signal(approveSignal, { gate: 'plan', approver: 'mallory' });
  const refusedView = await waitFor(handle, (s) => s.refused.length === 3);
  expect(refusedView.refused.map((r) => r.reason)).toEqual([
    expect.stringContaining('separation of duties'),
    expect.stringContaining('wrong gate'),
    expect.stringContaining('not an approver'),
  ]);
  expect(refusedView.approvals).toHaveLength(0);
  // The update answers at once with the refusal.
  await expect(handle.executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'alice' }] })).rejects.toThrow();

  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'bob', planHash: atPlan.planHash }] });
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' }); // duplicate: refused
  await handle.signal(approveSignal, { gate: 'plan', approver: 'carol' });
  await approveBoth(handle, 'cutover');
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  expect(result.refused.some((r) => r.reason.includes('already approved'))).toBe(true);

  for (const [table, sql] of Object.entries(EXPECTED)) {
    const moved = await content(h.pilot, sql);
    expect(moved.length).toBeGreaterThan(0);
    const inProd = await content(prod, `SELECT * FROM ${table} WHERE ${PK[table as keyof typeof PK]} < 1000`);
    expect(inProd).toBe(moved);
  }
  // Test accounts and everything under them stayed behind; pre-existing rows untouched.
  expect(await count(prod, 'SELECT 1 FROM accounts WHERE is_test')).toBe(0);
  expect(await count(prod, 'SELECT 1 FROM accounts')).toBe(2 + (await count(h.pilot, EXPECTED.accounts)));
  expect(await content(prod, 'SELECT * FROM accounts WHERE account_id >= 1000')).toBe('(1000,"Prod One",pro,f)|(1001,"Prod Two",free,f)');
  // The serial sequence is ahead of every published id.
  const [seq] = await rows<{ last: string; max: string }>(
    prod,
    'SELECT (SELECT last_value FROM events_event_id_seq)::text AS last, (SELECT max(event_id) FROM events)::text AS max',
  );
  expect(Number(seq.last)).toBeGreaterThanOrEqual(Number(seq.max) - 1);

  // Control schema: manifest per moved row, evidence written, staging dropped.
  const movedTotal = (await Promise.all(Object.values(EXPECTED).map((sql) => count(h.pilot, sql)))).reduce((a, b) => a + b, 0);
  expect(await count(prod, `SELECT 1 FROM cutover.manifest WHERE run_key = '${result.runKey}' AND outcome = 'moved'`)).toBe(movedTotal);
  expect(await count(prod, `SELECT 1 FROM cutover.evidence WHERE run_key = '${result.runKey}'`)).toBe(1);
  expect(await count(prod, "SELECT 1 FROM pg_namespace WHERE nspname LIKE 'cutover_stage_%'")).toBe(0);

  const report = await handle.query(reportQuery);
  expect(report.validation?.ok).toBe(true);
  expect(report.validation?.tables.map((t) => t.table).sort()).toEqual([
    'public.accounts',
    'public.events',
    'public.projects',
    'public.users',
  ]);
  expect(report.dryRun?.order.indexOf('public.accounts')).toBeLessThan(report.dryRun!.order.indexOf('public.users'));
  expect(report.dryRun?.tables.find((t) => t.table === 'public.events')?.inScope).toBe(await count(h.pilot, EXPECTED.events));
  expect(report.approvals.map((a) => `${a.gate}:${a.approver}`)).toEqual(['plan:bob', 'plan:carol', 'cutover:bob', 'cutover:carol']);

  await record(handle, 'happy-path');
});

test('refusals: a count, the last 100 kept with payloads cut; comments over 4 KB refused', async () => {
  const handle = await startRun(h.env, saasPlan('wf-refusals'));
  await waitFor(handle, atGate('plan'));
  // More than one run records (history.maximumSignalsPerExecution): the run continues as new at the gate, the sender sends again.
  for (let i = 0; i < 150; i++)
    await acrossContinueAsNew(handle, () => handle.signal(approveSignal, { gate: 'plan', approver: `mallory${i}` }));
  const huge = 'x'.repeat(1024 * 1024 + 1);
  await expect(handle.executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'bob', comment: huge }] })).rejects.toMatchObject({
    cause: { message: expect.stringContaining('comment is too long: 1048577 characters, at most 4096 bytes') },
  });
  // The same as a signal is recorded as refused (the update's validator answered at once instead).
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob', comment: huge });
  await handle.signal(rejectSignal, { gate: 'plan', approver: 'bob', reason: huge });
  await handle.signal(resumeSignal, { action: 'retry', by: 'oncall', reason: huge });

  const view = await waitFor(handle, (s) => s.refusedCount === 153);
  expect(view.status).toBe('awaiting-approval');
  expect(view.approvals).toEqual([]);
  expect(view.refused).toHaveLength(100);
  expect(view.refused[0].by).toBe('mallory53');
  expect(view.refused.slice(-3).map((r) => `${r.signal}: ${r.reason}`)).toEqual([
    'approve: comment is too long: 1048577 characters, at most 4096 bytes',
    'reject: reason is too long: 1048577 characters, at most 4096 bytes',
    'resume: reason is too long: 1048577 characters, at most 4096 bytes',
  ]);
  // The refused payload is kept cut, with a marker; small ones are kept as sent.
  const cut = view.refused[97].input as string;
  expect(cut.length).toBeLessThan(2200);
  expect(cut).toMatch(/^\{"gate":"plan","approver":"bob","comment":"x+… \[cut: 1048\d{3} characters in all\]$/);
  expect(view.refused[0].input).toEqual({ gate: 'plan', approver: 'mallory53' });
  const report = await handle.query(reportQuery);
  expect({ count: report.refusedCount, kept: report.refused.length }).toEqual({ count: 153, kept: 100 });
  await handle.terminate('test done');
});

test('reject at the plan gate ends the run as rejected with nothing written', async () => {
  const handle = await startRun(h.env, saasPlan('wf-reject'));
  await waitFor(handle, atGate('plan'));
  await handle.signal(rejectSignal, { gate: 'plan', approver: 'bob', reason: 'wrong tenant' });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('rejected');
  await closedAsFailed(handle, 'rejected');
  expect(result.steps.some((s) => s.outcome === 'rejected' && s.detail?.includes('wrong tenant'))).toBe(true);
  expect(await count(prod, 'SELECT 1 FROM accounts')).toBe(2);
  expect(await count(prod, "SELECT 1 FROM pg_namespace WHERE nspname = 'cutover'")).toBe(0);
  await record(handle, 'reject');
});

test('a gate that times out ends the run as expired with nothing written', async () => {
  const plan = saasPlan('wf-expire', { approvals: { approvers: ['bob', 'carol'], required: 1, timeout: '2s' } });
  const handle = await startRun(h.env, plan);
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('expired');
  expect(result.gate).toBeNull();
  expect(await count(prod, 'SELECT 1 FROM accounts')).toBe(2);
  expect(await count(prod, "SELECT 1 FROM pg_namespace WHERE nspname = 'cutover'")).toBe(0);
  await record(handle, 'expire');
});

async function runIntoConflict(id: string) {
  // Production already holds account 1 with other content: ids: keep must refuse to overwrite it.
  await rows(prod, "INSERT INTO accounts VALUES (1, 'Somebody else', 'pro', false)");
  const handle = await startRun(h.env, saasPlan(id, { approvals: { approvers: ['bob'], required: 1, timeout: '1h' } }));
  await waitFor(handle, atGate('plan'));
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob', acknowledge: ['collisions:public.accounts'] });
  await waitFor(handle, atGate('cutover'));
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
  const view = await waitFor(handle, paused);
  expect(view.phase).toBe('publish');
  expect(view.error?.type).toBe('ConflictError');
  expect(view.error?.message).toContain('(account_id)=(1)');
  // Nothing was published: publish is one transaction.
  expect(await count(prod, 'SELECT 1 FROM users')).toBe(1);
  return handle;
}

test('a failing step pauses the run; resume retry after the fix completes it', async () => {
  const handle = await runIntoConflict('wf-retry');
  // Refused resumes, both recorded: skip on a step that cannot be skipped (an update: answered with
  // the reason), rollback before publish committed (a signal).
  await expect(handle.executeUpdate(resumeUpdate, { args: [{ action: 'skip', by: 'oncall', reason: 'x' }] })).rejects.toMatchObject({
    cause: { message: expect.stringContaining('cannot be skipped') },
  });
  await handle.signal(resumeSignal, { action: 'rollback', by: 'oncall', reason: 'x' });
  const refused = await waitFor(handle, (s) => s.refused.length === 2);
  expect(refused.refused[0].reason).toContain('cannot be skipped');
  expect(refused.refused[1].reason).toContain('nothing to roll back: no step with an undo has committed');
  expect(refused.status).toBe('paused');
  // Status offers exactly the actions that would be accepted now.
  expect(refused.actions).toEqual(['retry', 'roll-forward', 'abort']);
  // The UI lists a paused run as RUNNING: its current details say PAUSED first.
  const details = ((await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';
  expect(details.split('\n')[0]).toBe(`PAUSED at publish: ${refused.error?.type}: ${refused.error?.message.split('\n')[0]}`);

  await rows(prod, 'DELETE FROM accounts WHERE account_id = 1');
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'removed the stray account 1' }] });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  expect(result.steps.filter((s) => s.step === 'publish').map((s) => s.outcome)).toEqual([
    'started',
    'failed',
    'retried',
    'started',
    'completed',
  ]);
  expect(await count(prod, 'SELECT 1 FROM accounts')).toBe(2 + (await count(h.pilot, EXPECTED.accounts)));
  await record(handle, 'pause-retry');
});

test('abort ends a paused run as aborted, staging dropped, production unchanged', async () => {
  const before = await rows(prod, 'SELECT count(*) FROM users');
  const handle = await runIntoConflict('wf-abort');
  await handle.signal(resumeSignal, { action: 'abort', by: 'oncall', reason: 'not today' });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('aborted');
  await closedAsFailed(handle, 'aborted');
  expect(result.decision).toMatchObject({ action: 'abort', by: 'oncall' });
  expect(await rows(prod, 'SELECT count(*) FROM users')).toEqual(before);
  expect(await count(prod, "SELECT 1 FROM pg_namespace WHERE nspname LIKE 'cutover_stage_%'")).toBe(0);
  expect(await count(prod, `SELECT 1 FROM cutover.run WHERE run_key = '${result.runKey}' AND status = 'aborted'`)).toBe(1);
  await record(handle, 'abort');
});

test('a missing connection alias pauses the run with its name; retry after configuring it', async () => {
  delete process.env.CUTOVER_DB_ELSEWHERE;
  const handle = await startRun(h.env, saasPlan('wf-alias', { source: 'elsewhere' }));
  const view = await waitFor(handle, paused);
  expect(view.error?.type).toBe('ConfigError');
  expect(view.error?.message).toContain('CUTOVER_DB_ELSEWHERE');
  process.env.CUTOVER_DB_ELSEWHERE = h.pilot;
  await handle.signal(resumeSignal, { action: 'retry', by: 'oncall', reason: 'alias configured' });
  await waitFor(handle, atGate('plan'));
  const s = await handle.query(statusQuery);
  expect(s.error).toBeNull();
  await handle.terminate('test done');
});

test('a plan that uses an unbuilt feature fails the run with the path at fault', async () => {
  const handle = await startRun(h.env, saasPlan('wf-bad', { strategy: 'adopt', adoptFrom: '2026-12-01' }));
  await expect(handle.result()).rejects.toThrow();
  const desc = await handle.describe();
  expect(desc.status.name).toBe('FAILED');
  // `cutover list --status failed` finds it although it never set CutoverStatus (visibility lags a little).
  const query = listQuery(WORKFLOW_TYPE, SEARCH_ATTRIBUTES.status, 'failed');
  let found: string[] = [];
  for (let i = 0; i < 50 && !found.includes('cutover-wf-bad'); i++) {
    found = [];
    for await (const wf of h.env.client.workflow.list({ query })) found.push(wf.workflowId);
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(found).toContain('cutover-wf-bad');
});

test('a run whose workflow id is not cutover-<plan id> is refused before it touches anything', async () => {
  const handle = await h.env.client.workflow.start('cutoverMigration', {
    taskQueue: 'cutover',
    workflowId: 'someone-elses-id',
    args: [{ plan: saasPlan('wf-wrong-id'), initiatedBy: 'alice' }],
  });
  const failure = await handle.result().then(
    () => null,
    (e: { cause?: { message?: string; type?: string } }) => e.cause,
  );
  expect(failure?.type).toBe('PlanError');
  expect(failure?.message).toContain('workflow id must be cutover-wf-wrong-id for plan wf-wrong-id (got someone-elses-id)');
});

test("a row production refuses pauses at once with PostgreSQL's own detail, not after three retries", async () => {
  const db = await h.production(
    SAAS_SCHEMA + PRODUCTION_DATA + "ALTER TABLE users ADD CONSTRAINT no_user_seven CHECK (email <> 'user7@example.com');",
  );
  try {
    const handle = await startRun(h.env, saasPlan('wf-constraint', { approvals: { approvers: ['bob'], required: 1, timeout: '1h' } }));
    for (const gate of ['plan', 'cutover'] as const) {
      await waitFor(handle, atGate(gate));
      await handle.signal(approveSignal, { gate, approver: 'bob' });
    }
    const view = await waitFor(handle, paused, 90000);
    expect(view.phase).toBe('publish');
    expect(view.error?.type).toBe('ConstraintViolation');
    expect(view.error?.message).toContain('SQLSTATE 23514; table public.users, constraint no_user_seven');
    // The row's values stay out of the message (issue 21 #5): the constraint names what broke.
    expect(view.error?.message).toContain('DETAIL: Failing row contains (…): it breaks constraint no_user_seven.');
    expect(view.error?.message).not.toContain('user7@example.com');
    // Final at once: the publish activity ran one attempt.
    const { events } = await handle.fetchHistory();
    const attempts = (events ?? []).flatMap((e) =>
      e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 0] : [],
    );
    expect(Math.max(...attempts)).toBe(1);
    expect(await count(db, 'SELECT 1 FROM users')).toBe(1); // nothing published
    await handle.terminate('test done');
  } finally {
    process.env.CUTOVER_DB_PRODUCTION = prod;
  }
});

test('plan input prints the Start Workflow form; a run started with exactly that JSON reaches gate plan, its summary first in its details', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-input-'));
  try {
    const file = join(dir, 'plan.yaml');
    writeFileSync(file, JSON.stringify(saasPlan('wf-ui-start'), null, 2));
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(
      ['node', 'cutover', 'plan', 'input', file, '--as', 'dora'],
      { out: (t) => void out.push(t), err: (t) => void err.push(t), isTTY: false },
      {},
    );
    expect(code).toBe(0);
    // stdout is the input alone; stderr names the form's other fields, read here as a person would.
    const input = JSON.parse(out.join('\n')) as { plan: { id: string }; initiatedBy: string };
    expect(Object.keys(input).sort()).toEqual(['initiatedBy', 'plan']);
    expect(input).toMatchObject({ initiatedBy: 'dora', plan: { id: 'wf-ui-start' } });
    const guide = err.join('\n');
    const field = (name: string) => new RegExp(`${name}:\\s+(\\S+)`).exec(guide)?.[1];
    expect(field('Workflow ID')).toBe('cutover-wf-ui-start');
    expect(field('Task Queue')).toBe('cutover');
    expect(field('Workflow Type')).toBe(WORKFLOW_TYPE);
    // As the UI's form starts it: those fields, that JSON, no static summary or details.
    const handle = await h.env.client.workflow.start(field('Workflow Type')!, {
      taskQueue: field('Task Queue')!,
      workflowId: field('Workflow ID')!,
      args: [JSON.parse(out.join('\n'))],
    });
    const view = await waitFor(handle, atGate('plan'));
    expect(view.gate).toBe('plan');
    const details = ((await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';
    expect(details.split('\n')[0]).toBe('cutover wf-ui-start: selective pilot → production (4 tables), initiated by dora');
    await handle.terminate('test done');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
