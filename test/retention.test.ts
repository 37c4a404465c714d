// Retention rules end to end: a Pilot holding events and user logins older than Production's
// 13-month retention. Events past it are left behind with reason `retention` (the dry run counts
// them, the manifest holds each, the evidence says so); users past it move anonymized. The cutoff is
// measured from the run's snapshot time and recorded; the built-in check after publish passed. Every
// count is checked against the test's own SQL on the Pilot and Production.
import { MockActivityEnvironment } from '@temporalio/testing';
import { accessChecks } from '../activities/access-checks';
import { renderReport } from '../client/commands/report';
import type { EvidenceDocument } from '../common/evidence';
import type { AccessChecksResult } from '../common/results';
import { failureOf, schemaChecked } from './helpers/steps';
import { approveSignal, reportQuery, type StatusView } from '../common/temporal';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { atGate, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';

const SCHEMA = `${SAAS_SCHEMA}ALTER TABLE users ADD COLUMN last_login timestamptz;\n`;
// Every 7th event and every 4th user's last login are 14 months old (and a little more each).
const OLD = `
UPDATE events SET at = now() - interval '14 months' - event_id * interval '1 minute' WHERE event_id % 7 = 0;
UPDATE users SET last_login = CASE WHEN user_id % 4 = 0 THEN now() - interval '14 months' ELSE now() - interval '2 days' END;
`;
const h = useHarness('cutover_ret', SCHEMA + PILOT_DATA + OLD);
const n = async (url: string, sql: string, params: unknown[] = []) =>
  Number((await rows<{ n: string }>(url, `SELECT count(*)::text AS n FROM (${sql}) s`, params))[0].n);

const EXPIRED_EMAIL = 'expired@example.invalid';
const plan = saasPlan('ret-run', {
  retention: [
    { table: 'events', column: 'at', olderThan: 'P13M', action: 'leave-behind' },
    { table: 'users', column: 'last_login', olderThan: 'P13M', action: 'anonymize', columns: { full_name: null, email: EXPIRED_EMAIL } },
  ],
  // The test ages a row by editing its date after the dry run: a changed value, tolerated (time itself changes no value).
  drift: { tolerate: { rows: 1 } },
});

test('rows past a 13-month retention stay behind as retention (or move anonymized), measured from the snapshot, proven after publish', async () => {
  const prod = await h.production(SCHEMA + PRODUCTION_DATA);
  const before = Date.now();
  const handle = await startRun(h.env, plan, 'alice');
  await waitFor(handle, atGate('plan'), 120000);
  // The dry run shows what the rules will do, measured from its own snapshot.
  const dry = (await handle.query(reportQuery)).dryRun!;
  // Selected events (their project's account is not a test account, or is Production's) past 13 months, by the test's own SQL.
  const selectedEvents = `SELECT e.* FROM events e JOIN projects p USING (project_id) JOIN accounts a ON a.account_id = p.account_id WHERE (NOT a.is_test OR a.account_id IN (1000, 1001))`;
  const expiredEvents = await n(h.pilot, `${selectedEvents} AND e.at < now() - interval '13 months'`);
  expect(expiredEvents).toBeGreaterThan(10);
  expect(dry.tables.find((t) => t.table === 'public.events')?.leftBehind.retention).toBe(expiredEvents);
  const selectedUsers = `SELECT u.* FROM users u JOIN accounts a USING (account_id) WHERE (NOT a.is_test OR a.account_id IN (1000, 1001))`;
  const expiredUsers = await n(h.pilot, `${selectedUsers} AND u.last_login < now() - interval '13 months'`);
  expect(expiredUsers).toBeGreaterThan(3);
  expect(dry.retention?.map((r) => [r.table, r.action, r.rows])).toEqual([
    ['public.events', 'leave-behind', expiredEvents],
    ['public.users', 'anonymize', expiredUsers],
  ]);

  // While the gates wait, one selected event ages past the cutoff (its date moves back, as time would
  // move the cutoff): it is left behind at cleanup, honoured like a late erasure request, not a drift
  // of the kept rows. Editing the date is a changed value in the Pilot, which stage sees (the dry
  // run's staging is copied again): a drift of values, within the plan's drift.tolerate.
  const [{ id: aged }] = await rows<{ id: string }>(
    h.pilot,
    `SELECT min(e.event_id)::text AS id FROM (${selectedEvents} AND e.at > now() - interval '12 months') e`,
  );
  await rows(h.pilot, `UPDATE events SET at = now() - interval '13 months 1 day' WHERE event_id = $1`, [aged]);
  const expiredAtStage = expiredEvents + 1;

  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate), 120000);
    for (const who of ['bob', 'carol']) await handle.signal(approveSignal, { gate, approver: who });
  }
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  expect(result.drift).toEqual([
    expect.objectContaining({ at: 'stage', tolerated: true, tables: [expect.objectContaining({ table: 'public.events', values: true })] }),
  ]);

  // The cutoff: snapshot time minus 13 calendar months, recorded; the snapshot was taken during this run.
  const [pack] = (
    await rows<{ pack_text: string }>(prod, 'SELECT pack_text FROM cutover.evidence WHERE run_key = $1', [result.runKey])
  ).map((r) => JSON.parse(r.pack_text) as EvidenceDocument);
  const rules = pack.retention!;
  expect(rules).toHaveLength(2);
  const snapshotAt = Date.parse(rules[0].snapshotAt!);
  expect(snapshotAt).toBeGreaterThanOrEqual(before - 5000);
  expect(snapshotAt).toBeLessThanOrEqual(Date.now());
  const [cut] = await rows<{ c: Date }>(prod, `SELECT ($1::timestamptz - interval '13 months') AS c`, [rules[0].snapshotAt]);
  expect(rules[0].cutoff).toBe(cut.c.toISOString());

  // Events: none past the cutoff moved; each left behind is in the manifest with reason retention.
  const pastCutoff = `${selectedEvents} AND e.at < $1::timestamptz`;
  const expected = await rows<{ event_id: string }>(h.pilot, `SELECT event_id::text FROM (${pastCutoff}) x ORDER BY x.event_id`, [
    rules[0].cutoff,
  ]);
  expect(expected.length).toBe(expiredAtStage);
  expect(expected.map((r) => r.event_id)).toContain(aged);
  const manifest = await rows<{ k: string }>(
    prod,
    `SELECT (key->>0) AS k FROM cutover.manifest WHERE run_key = $1 AND table_name = 'public.events' AND reason = 'retention' ORDER BY (key->>0)::bigint`,
    [result.runKey],
  );
  expect(manifest.map((r) => r.k)).toEqual(expected.map((r) => r.event_id));
  expect(await n(prod, `SELECT 1 FROM events WHERE event_id = ANY($1::bigint[])`, [expected.map((r) => r.event_id)])).toBe(0);
  expect(await n(prod, `SELECT 1 FROM events WHERE event_id < 1000 AND at < $1::timestamptz`, [rules[0].cutoff])).toBe(0);
  // The younger selected events all moved.
  expect(await n(prod, 'SELECT 1 FROM events WHERE event_id < 1000')).toBe((await n(h.pilot, selectedEvents)) - expiredAtStage);

  // Users: the expired ones moved anonymized, everyone else as they are in the Pilot.
  const pilotUsers = await rows<{ user_id: string; email: string; full_name: string | null; expired: boolean }>(
    h.pilot,
    `SELECT user_id::text, email, full_name, last_login < $1::timestamptz AS expired FROM (${selectedUsers}) u`,
    [rules[1].cutoff],
  );
  const prodUsers = new Map(
    (
      await rows<{ user_id: string; email: string; full_name: string | null }>(
        prod,
        'SELECT user_id::text, email, full_name FROM users WHERE user_id < 1000',
      )
    ).map((u) => [u.user_id, u]),
  );
  expect(prodUsers.size).toBe(pilotUsers.length);
  for (const u of pilotUsers) {
    expect(prodUsers.get(u.user_id)).toEqual(
      u.expired
        ? { user_id: u.user_id, email: EXPIRED_EMAIL, full_name: null }
        : { user_id: u.user_id, email: u.email, full_name: u.full_name },
    );
  }
  expect(pilotUsers.filter((u) => u.expired)).toHaveLength(expiredUsers);

  // The evidence: each rule with its counts; the built-in check after publish passed.
  expect(rules.map((r) => [r.table, r.column, r.olderThan, r.action, r.dryRun, r.leftBehind, r.anonymized])).toEqual([
    ['public.events', 'at', 'P13M', 'leave-behind', expiredEvents, expiredAtStage, null],
    ['public.users', 'last_login', 'P13M', 'anonymize', expiredUsers, null, expiredUsers],
  ]);
  expect(pack.retentionCheck).toEqual({ passed: true, rowCount: 0 });
  expect(pack.accessChecks?.checks.find((c) => c.name === 'built-in:retention')).toMatchObject({ passed: true, rowCount: 0 });
  expect(pack.manifest.tables.find((t) => t.table === 'public.events')?.leftBehindByReason.retention).toBe(expiredAtStage);
  expect(pack.rules.filter((r) => r.kind === 'retention').map((r) => r.reason)).toEqual(['retention', null]);
  // The report (md and HTML render the same model) shows each rule with its cutoff.
  const md = renderReport(pack, 'md');
  expect(md).toContain('public.events.at older than P13M');
  expect(md).toContain(rules[0].cutoff!);
  expect(renderReport(pack, 'html')).toContain('public.users.last_login older than P13M');
  // No open item claims the reason is unexplained.
  expect(pack.openItems.join('\n')).not.toContain('retention');

  // The check can fail: a moved event aged past the cutoff and an expired user no longer anonymized
  // (written behind the run's back) are found by their Production keys, nothing else is shown.
  const [{ id: event }] = await rows<{ id: string }>(prod, 'SELECT min(event_id)::text AS id FROM events WHERE event_id < 1000');
  const [{ id: user }] = await rows<{ id: string }>(prod, 'SELECT min(user_id)::text AS id FROM users WHERE email = $1', [EXPIRED_EMAIL]);
  await rows(prod, `UPDATE events SET at = timestamptz '2000-01-01' WHERE event_id = $1`, [event]);
  await rows(prod, `UPDATE users SET email = 'back@example.com' WHERE user_id = $1`, [user]);
  const f = await failureOf(
    new MockActivityEnvironment().run(accessChecks, {
      plan: schemaChecked(plan),
      runKey: result.runKey,
      workflowId: 'w',
      runId: 'r',
      before: undefined as never,
    }),
  );
  expect(f.type).toBe('AccessCheckError');
  const check = (f.details[0] as AccessChecksResult).checks.find((c) => c.name === 'built-in:retention')!;
  expect(check).toMatchObject({ passed: false, rowCount: 2 });
  expect(check.rows.map((r) => r.productionKey).sort()).toEqual([`(event_id)=(${event})`, `(user_id)=(${user})`]);
  expect(JSON.stringify(check.rows)).not.toContain('back@example.com');
}, 300000);
