// Hostile signals and updates, as the Temporal UI can send them (any JSON: wrong types, missing and
// extra fields, huge strings, null) and as people misuse them (unknown approver, self-approval, the
// wrong gate, a replayed approval, resume with an unknown action, approve when no gate waits). Each
// is refused with a clear reason — a signal is recorded as refused in the run's state, an update is
// rejected by its validator (never entering history) — with zero writes in either database and the
// run's state bounded. A flood of large refused signals makes the run continue as new (the server
// here suggests it at 400 KB of history) and it still completes, with status and report working,
// also through the first run's id. Plans sent straight to the workflow (the UI's Start form) are
// refused at acceptPlan, again with nothing written.
/* eslint-disable @typescript-eslint/no-explicit-any -- payloads are any JSON on purpose */
import { acrossContinueAsNew } from '../client/across-continue';
import {
  SEARCH_ATTRIBUTES,
  WORKFLOW_TYPE,
  TASK_QUEUE,
  approveSignal,
  approveUpdate,
  rejectSignal,
  rejectUpdate,
  resumeSignal,
  resumeUpdate,
  reportQuery,
  statusQuery,
  workflowIdFor,
  type StatusView,
} from '../common/temporal';
import { readEvidence, readStatus, runHandle } from '../client/commands/read-run';
import { listQuery } from '../client/format/list';
import { dbChecksum } from './helpers/checksum';
import { useHarness } from './helpers/harness';
import { atGate, record, startRun, waitFor } from './helpers/run';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { pacedFlood } from './helpers/flood';
import { runResult } from './helpers/run-result';

const h = useHarness('cutover_hostile_sig', SAAS_SCHEMA + PILOT_DATA, {
  // Continue-as-new is suggested once a run's history passes 400 KB (the server default is 4 MB).
  // And a run whose history passes 10 MB is terminated by the server (default 50 MB): the signals
  // below add up to 23 MB, so only continuing as new keeps the run alive. (The headroom between the
  // two limits is what a burst must fit in: continuing takes one workflow task.)
  dynamicConfig: { 'limit.historySize.suggestContinueAsNew': 400_000, 'limit.historySize.error': 10_000_000 },
});

const MB = 'x'.repeat(1024 * 1024);
type Def = typeof approveSignal | typeof rejectSignal | typeof resumeSignal;
interface Hostile {
  name: string;
  signal: Def;
  payload: unknown;
  reason: string;
}

// initiator alice; approvers alice, bob, carol; 2 required; the run waits at gate plan.
const HOSTILE: Hostile[] = [
  {
    name: 'unknown approver',
    signal: approveSignal,
    payload: { gate: 'plan', approver: 'mallory' },
    reason: '"mallory" is not an approver of this plan (approvers: alice, bob, carol)',
  },
  {
    name: 'look-alike approver (Cyrillic о)',
    signal: approveSignal,
    payload: { gate: 'plan', approver: 'bоb' },
    reason: '"bоb" is not an approver of this plan',
  },
  {
    name: 'self-approval by the initiator',
    signal: approveSignal,
    payload: { gate: 'plan', approver: 'alice' },
    reason: 'separation of duties: "alice" initiated this run and cannot approve it',
  },
  {
    name: 'wrong gate',
    signal: approveSignal,
    payload: { gate: 'cutover', approver: 'bob' },
    reason: 'wrong gate: "cutover" is not awaiting approval, "plan" is',
  },
  {
    name: 'no such gate',
    signal: approveSignal,
    payload: { gate: 'everything', approver: 'bob' },
    reason: 'gate must be one of plan, cutover, restore',
  },
  { name: 'null payload', signal: approveSignal, payload: null, reason: 'payload must be an object {gate, approver' },
  { name: 'a list as payload', signal: approveSignal, payload: ['plan', 'bob'], reason: 'payload must be an object {gate, approver' },
  { name: 'a string as payload', signal: approveSignal, payload: 'approve please', reason: 'payload must be an object {gate, approver' },
  {
    name: 'approver of the wrong type',
    signal: approveSignal,
    payload: { gate: 'plan', approver: 123 },
    reason: 'approver must be a string, got number',
  },
  {
    name: 'comment of the wrong type',
    signal: approveSignal,
    payload: { gate: 'plan', approver: 'bob', comment: { html: '<script>' } },
    reason: 'comment must be a string, got object',
  },
  {
    name: 'an extra field',
    signal: approveSignal,
    payload: { gate: 'plan', approver: 'bob', admin: true },
    reason: 'unknown field "admin" (allowed: gate, approver, comment, planHash, rehearsalHash, signature, acknowledge)',
  },
  { name: 'missing approver', signal: approveSignal, payload: { gate: 'plan' }, reason: 'approver is required' },
  {
    name: '1 MB comment from an approver',
    signal: approveSignal,
    payload: { gate: 'plan', approver: 'bob', comment: MB },
    reason: 'comment is too long: 1048576 characters, at most 4096 bytes',
  },
  { name: '1 MB approver name', signal: approveSignal, payload: { gate: 'plan', approver: MB }, reason: 'is not an approver of this plan' },
  {
    name: 'stale plan hash',
    signal: approveSignal,
    payload: { gate: 'plan', approver: 'bob', planHash: 'f'.repeat(64) },
    reason: 'plan hash mismatch',
  },
  {
    name: 'rehearsal hash without a rehearsal',
    signal: approveSignal,
    payload: { gate: 'plan', approver: 'bob', rehearsalHash: 'abc' },
    reason: 'this run has no rehearsal report',
  },
  {
    name: 'resume when not paused',
    signal: resumeSignal,
    payload: { action: 'retry', by: 'bob', reason: 'try again' },
    reason: 'the run is not paused (status awaiting-approval)',
  },
  {
    name: 'resume with an unknown action',
    signal: resumeSignal,
    payload: { action: 'drop-production', by: 'bob', reason: 'x' },
    reason: 'action must be one of retry, skip, rollback, roll-forward, abort',
  },
  {
    name: 'resume with fromStep of the wrong type',
    signal: resumeSignal,
    payload: { action: 'roll-forward', by: 'bob', reason: 'x', fromStep: 3 },
    reason: 'fromStep must be a string, got number',
  },
  { name: 'reject without a reason', signal: rejectSignal, payload: { gate: 'plan', approver: 'bob' }, reason: 'reason is required' },
  {
    name: 'reject by a stranger',
    signal: rejectSignal,
    payload: { gate: 'plan', approver: 'mallory', reason: 'because' },
    reason: '"mallory" is neither an approver of this plan nor its initiator',
  },
  {
    name: 'reject with a null reason',
    signal: rejectSignal,
    payload: { gate: 'plan', approver: 'bob', reason: null },
    reason: 'reason must be a string, got null',
  },
  {
    name: 'reject with a 1 MB reason',
    signal: rejectSignal,
    payload: { gate: 'plan', approver: 'bob', reason: MB },
    reason: 'reason is too long: 1048576 characters, at most 4096 bytes',
  },
];

/** Reasons that say the payload itself is malformed: refused by the update validator, not recorded. */
const MALFORMED = /payload must be an object|must be a string, got|unknown field|is too long/;

const updateOf = (d: Def) => (d === approveSignal ? approveUpdate : d === rejectSignal ? rejectUpdate : resumeUpdate);

let prod: string;
beforeAll(async () => {
  prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
}, 120000);

test(`${HOSTILE.length} hostile signals and updates are refused with their reason, nothing is written, state stays bounded; a flood continues the run as new and it completes`, async () => {
  expect(HOSTILE.length).toBeGreaterThanOrEqual(20);
  const handle = await startRun(h.env, saasPlan('hostile-signals'));
  const firstRunId = (await handle.describe()).runId; // the chain has one run yet
  const atPlan = await waitFor(handle, atGate('plan'), 120000);
  const before = { pilot: await dbChecksum(h.pilot), prod: await dbChecksum(prod) };

  // Updates first. A malformed payload is rejected by the validator (never in history, not
  // recorded); a well-formed refused decision is answered with its reason and recorded for the audit.
  for (const c of HOSTILE) {
    await expect(handle.executeUpdate(updateOf(c.signal) as any, { args: [c.payload] })).rejects.toMatchObject({
      cause: { message: expect.stringContaining(c.reason) },
    });
  }
  const decided = HOSTILE.filter((c) => !MALFORMED.test(c.reason));
  expect(decided.length).toBeGreaterThanOrEqual(10);
  const afterUpdates = await handle.query(statusQuery);
  expect(afterUpdates.refusedCount).toBe(decided.length);
  decided.forEach((c, i) => expect([c.name, afterUpdates.refused[i].reason]).toEqual([c.name, expect.stringContaining(c.reason)]));

  // Signals: each recorded as refused, with its reason, in order.
  for (const c of HOSTILE) await acrossContinueAsNew(handle, () => handle.signal(c.signal as any, c.payload as any));
  const refused = await waitFor(handle, (s) => s.refusedCount === decided.length + HOSTILE.length);
  const bySignal = refused.refused.slice(-HOSTILE.length);
  HOSTILE.forEach((c, i) => expect([c.name, bySignal[i].reason]).toEqual([c.name, expect.stringContaining(c.reason)]));
  expect(refused.approvals).toEqual([]);
  // Bounded: a refused payload is kept cut to 2 KB, its reason too; the status answer stays small.
  for (const r of refused.refused) expect(JSON.stringify(r).length).toBeLessThan(5000);
  expect(JSON.stringify(refused).length).toBeLessThan(200_000);

  // A replayed approval: accepted once, refused (and recorded) the second time, signal and update alike.
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'bob', planHash: atPlan.planHash }] });
  await expect(handle.executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'bob' }] })).rejects.toMatchObject({
    cause: { message: '"bob" already approved gate "plan"' },
  });
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(handle, (s) => s.refusedCount === decided.length + HOSTILE.length + 2);

  // Zero writes in either database.
  expect(await dbChecksum(h.pilot)).toEqual(before.pilot);
  expect(await dbChecksum(prod)).toEqual(before.prod);

  // The case: 5 refused 1 MB signals from a non-approver once broke status and report for good.
  for (let i = 0; i < 5; i++)
    await acrossContinueAsNew(handle, () => handle.signal(approveSignal, { gate: 'plan', approver: 'mallory', comment: MB }));
  const afterBig = await waitFor(handle, (s) => s.refusedCount === decided.length + HOSTILE.length + 7, 120000);
  expect(afterBig.refused.at(-1)!.reason).toContain('comment is too long');
  expect((await handle.query(reportQuery)).refusedCount).toBe(decided.length + HOSTILE.length + 7);

  // A flood: 150 refused signals of 100 KB each (15 MB of history; once ~46 of 1 MB ended a run).
  const big = 'y'.repeat(100 * 1024);
  // Paced to what the worker continues as new in time (test/helpers/flood.ts): under 5 MB per run.
  await pacedFlood(handle, 150, 10_000_000, (i) => handle.signal(approveSignal, { gate: 'plan', approver: `mallory${i}`, comment: big }));
  const flooded = await waitFor(handle, (s) => s.refusedCount === decided.length + HOSTILE.length + 157, 300000);
  expect(flooded.continuedAsNew).toBeGreaterThanOrEqual(1);
  expect(flooded.status).toBe('awaiting-approval');
  expect(flooded.gate).toBe('plan');
  expect(flooded.refused).toHaveLength(100); // the last 100 kept, all counted
  expect(flooded.approvals.map((a) => a.approver)).toEqual(['bob']); // carried across
  expect(flooded.runKey).toBe(atPlan.runKey);
  expect((await h.env.client.workflow.getHandle(workflowIdFor('hostile-signals'), firstRunId).describe()).status.name).toBe(
    'CONTINUED_AS_NEW',
  );
  expect(await dbChecksum(prod)).toEqual(before.prod);
  // `cutover list` shows it once (the continued executions are the same run).
  const listed = async () => {
    const ids: string[] = [];
    for await (const wf of h.env.client.workflow.list({
      query: `${listQuery(WORKFLOW_TYPE, SEARCH_ATTRIBUTES.status, 'awaiting-approval')} AND WorkflowId = '${workflowIdFor('hostile-signals')}'`,
    }))
      ids.push(wf.runId);
    return ids;
  };
  let ids = await listed();
  for (let tries = 0; ids.length !== 1 && tries < 40; tries++) ids = await new Promise((r) => setTimeout(r, 250)).then(listed); // visibility lags a little
  expect(ids).toHaveLength(1);

  // The run goes on where it was and completes.
  await handle.signal(approveSignal, { gate: 'plan', approver: 'carol' });
  await waitFor(handle, atGate('cutover'), 180000);
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'carol' });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  expect(result.runKey).toBe(atPlan.runKey);
  expect(result.refusedCount).toBe(decided.length + HOSTILE.length + 157);
  expect(await dbChecksum(prod)).not.toEqual(before.prod); // the cutover itself did write

  // status and report through the CLI's readers, by workflow id and by the first run's id.
  const wid = workflowIdFor('hostile-signals');
  for (const runId of [undefined, firstRunId]) {
    const status = await readStatus(runHandle(h.env.client, wid, runId), wid);
    expect(status).toMatchObject({ status: 'completed', runKey: atPlan.runKey });
    const report = await readEvidence(runHandle(h.env.client, wid, runId), wid);
    expect(report.runId).toBe(firstRunId);
    expect(report.approvals.map((a) => `${a.gate}:${a.approver}`)).toEqual(['plan:bob', 'plan:carol', 'cutover:bob', 'cutover:carol']);
    expect(report.steps.filter((s) => s.outcome === 'completed').map((s) => s.step)).toEqual(
      expect.arrayContaining(['preflight', 'stage', 'publish', 'validate']),
    );
  }
}, 900000);

test('a flood while paused continues the run as new, still paused at the same step with its error; retry resumes it', async () => {
  delete process.env.CUTOVER_DB_HOSTILE_ELSEWHERE;
  const handle = await startRun(h.env, saasPlan('hostile-paused', { source: 'hostile_elsewhere' }));
  const first = await waitFor(handle, (s) => s.status === 'paused', 120000);
  expect(first.error?.message).toContain('CUTOVER_DB_HOSTILE_ELSEWHERE');
  const big = 'z'.repeat(100 * 1024);
  // Until the run continues as new (then stop: the next run's history, recorded below, stays small).
  let sent = 0;
  while (sent < 200 && !(await handle.query(statusQuery)).continuedAsNew) {
    await handle.signal(approveSignal, { gate: 'plan', approver: 'bob', comment: big });
    sent++;
  }
  const after = await waitFor(handle, (s) => s.refusedCount === sent && (s.continuedAsNew ?? 0) >= 1, 300000);
  expect(after).toMatchObject({ status: 'paused', phase: 'preflight', error: first.error, actions: first.actions, runKey: first.runKey });
  expect(after.refused[0].reason).toContain('comment is too long');
  // The step is not run again by continuing: only once, failed, so far.
  expect(after.steps.filter((s) => s.step === 'preflight').map((s) => s.outcome)).toEqual(['started', 'failed']);
  process.env.CUTOVER_DB_HOSTILE_ELSEWHERE = h.pilot;
  await handle.signal(resumeSignal, { action: 'retry', by: 'oncall', reason: 'alias configured' });
  const gate = await waitFor(handle, atGate('plan'), 120000);
  expect(gate.steps.filter((s) => s.step === 'preflight').map((s) => s.outcome)).toEqual([
    'started',
    'failed',
    'retried',
    'started',
    'completed',
  ]);
  // The run after continuing as new (resumed paused, retried, at the gate): replayed by test/replay.
  await record(handle, 'paused.continued');
  await handle.terminate('test done');
}, 600000);

test('a run started with a forged continue-as-new state is refused (approvals cannot be smuggled in)', async () => {
  const plan = saasPlan('hostile-forged');
  const handle = await h.env.client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: TASK_QUEUE,
    workflowId: workflowIdFor('hostile-forged'),
    args: [{ plan, initiatedBy: 'alice', continued: { at: 5, state: { plan, approvals: [{ gate: 'plan', approver: 'bob' }] } } }],
  });
  await expect(handle.result()).rejects.toMatchObject({
    cause: {
      type: 'PlanError',
      message: expect.stringContaining('continued: is set only by the workflow itself'),
      details: [[expect.objectContaining({ path: 'continued' })]],
    },
  });
});

describe('hostile plans sent straight to the workflow are refused at acceptPlan, nothing written', () => {
  const cases: Array<[string, (p: any) => void, string]> = [
    ['SQL in a table name', (p) => (p.tables[0].table = 'events; DROP TABLE accounts; --'), 'tables[0].table: must be a table name'],
    [
      'look-alike approvers',
      (p) => (p.approvals.approvers = ['bob', 'bоb', 'carol']),
      'approvals.approvers[1]: approver "bоb" looks like approvers[0] "bob"',
    ],
    [
      '10 001 conditions',
      (p) => (p.tables[1].select.where = Array.from({ length: 10_001 }, () => ({ column: 'is_test', op: 'eq', value: false }))),
      'tables[1].select.where: must have at most 10000 items',
    ],
    [
      'nesting 40 deep',
      (p) => (p.tables[1].select.where[0].value = JSON.parse('['.repeat(40) + ']'.repeat(40))),
      '(plan): nesting is too deep',
    ],
    ['a 1.5 MB plan', (p) => (p.decision = { reason: 'z'.repeat(1_500_000) }), '(plan): plan JSON is too large: 15'],
    ['a wrong type', (p) => (p.approvals.required = '2'), 'approvals.required: must be a number, got "2"'],
  ];
  test.each(cases)('%s', async (name, mutate, message) => {
    const before = { pilot: await dbChecksum(h.pilot), prod: await dbChecksum(prod) };
    const plan = saasPlan(`hostile-start-${cases.findIndex((c) => c[0] === name)}`);
    mutate(plan);
    const handle = await startRun(h.env, plan);
    // One PlanError shape (common/plan-failure.ts): the message's `path: message` line, and the issue itself in the details.
    const path = message.slice(0, message.indexOf(': '));
    await expect(handle.result()).rejects.toMatchObject({
      cause: {
        type: 'PlanError',
        message: expect.stringContaining(message),
        details: [expect.arrayContaining([expect.objectContaining({ path })])],
      },
    });
    expect(await dbChecksum(h.pilot)).toEqual(before.pilot);
    expect(await dbChecksum(prod)).toEqual(before.prod);
  });
});
