// A database that legitimately moved (restored onto a new server, copied) is refused by the run's
// identity check like a misconfigured worker's; on-call accepts it with `resume --action retry
// --accept-database <alias>`: the run records the move (from, to, who, why) in status and the
// evidence, checks the new database from then on, and finishes there. A plain retry, another alias
// or another action is refused; the original database is left untouched (the test's own SQL).
import { approveSignal, reportQuery, resumeUpdate, type StatusView } from '../common/temporal';
import { buildReportModel } from '../client/format/report-model';
import { formatStatus } from '../client/format/status';
import { useHarness } from './helpers/harness';
import { admin, dbUrl, dropDb, rows, uniqueName } from './helpers/pg';
import { atGate, paused, startRun, waitFor } from './helpers/run';
import { expectedMoves, PILOT_DATA, plusMoved, PRODUCTION_DATA, SAAS_SCHEMA, saasCounts, saasPlan } from './helpers/saas';
import { runResult } from './helpers/run-result';

const h = useHarness('cutover_moved', SAAS_SCHEMA + PILOT_DATA);
const moved = uniqueName('cutover_moved_copy');

afterAll(async () => {
  await dropDb(moved);
});

const oid = async (url: string) =>
  Number((await rows<{ oid: string }>(url, 'SELECT oid::text FROM pg_database WHERE datname = current_database()'))[0].oid);
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: { cause?: { message?: string } }) => e.cause?.message ?? String(e),
  );

test('a moved Production is refused until on-call accepts it; the run records the move and finishes on the moved database', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  const before = await saasCounts(prod);
  const expected = await expectedMoves(h.pilot);
  const handle = await startRun(h.env, saasPlan('moved-db'));
  await waitFor(handle, atGate('plan'), 120000); // preflight recorded Production's identity

  // Production "moves": the same contents in a new database (a restore elsewhere would also change the server).
  const name = new URL(prod).pathname.slice(1);
  await admin((c) => c.query(`CREATE DATABASE "${moved}" TEMPLATE "${name}"`));
  const copy = dbUrl(moved);
  process.env.CUTOVER_DB_PRODUCTION = copy;

  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate), 120000);
    await handle.signal(approveSignal, { gate, approver: 'bob' });
    await handle.signal(approveSignal, { gate, approver: 'carol' });
  }
  const stopped = await waitFor(handle, paused, 120000);
  expect(stopped.error?.type).toBe('ConfigError');
  expect(stopped.error?.message).toContain(`connection alias "production" on this worker points at database ${moved}`);
  expect(stopped.error?.message).toContain('retry with --accept-database production');
  const pausedAt = stopped.phase;
  // The Temporal UI's current details say how to accept it.
  const details = ((await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';
  expect(details).toContain('retry with `"acceptDatabase":"production"`');

  // Refused: another alias, another action; a plain retry pauses again on the same check.
  const retry = { action: 'retry', by: 'oncall', reason: 'production was restored onto a new server' } as const;
  expect(await refusal(handle.executeUpdate(resumeUpdate, { args: [{ ...retry, acceptDatabase: 'pilot' }] }))).toBe(
    'acceptDatabase: the database that moved is alias "production", not "pilot"',
  );
  expect(await refusal(handle.executeUpdate(resumeUpdate, { args: [{ ...retry, action: 'abort', acceptDatabase: 'production' }] }))).toBe(
    'acceptDatabase applies to retry only',
  );
  await handle.executeUpdate(resumeUpdate, { args: [retry] });
  const again = await waitFor(handle, (s) => s.status === 'paused' && s.steps.filter((x) => x.outcome === 'failed').length === 2, 120000);
  expect(again.error?.message).toContain(`points at database ${moved}`);

  // Accepting while the alias reaches nothing: the identity cannot be read, the run stays paused (the step did not run).
  process.env.CUTOVER_DB_PRODUCTION = dbUrl(`${moved}_nowhere`);
  await handle.executeUpdate(resumeUpdate, { args: [{ ...retry, acceptDatabase: 'production' }] });
  const unread = await waitFor(handle, (s) => s.status === 'paused' && s.steps.filter((x) => x.outcome === 'failed').length === 3, 120000);
  expect(unread.error?.message).toContain(`database "${moved}_nowhere" does not exist`);
  expect(unread.databaseMoves).toBeUndefined();
  process.env.CUTOVER_DB_PRODUCTION = copy;
  expect(await refusal(handle.executeUpdate(resumeUpdate, { args: [{ ...retry, acceptDatabase: 'production' }] }))).toContain(
    'the run did not pause because a database moved',
  );
  await handle.executeUpdate(resumeUpdate, { args: [retry] }); // the check names the moved database again
  await waitFor(handle, (s) => s.status === 'paused' && s.steps.filter((x) => x.outcome === 'failed').length === 4, 120000);

  await handle.executeUpdate(resumeUpdate, { args: [{ ...retry, acceptDatabase: 'production' }] });
  const end = await waitFor(
    handle,
    (s) => s.status === 'completed' || (s.status === 'paused' && s.steps.filter((x) => x.outcome === 'failed').length > 4),
    180000,
  );
  expect([end.status, end.error?.message]).toEqual(['completed', undefined]);
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  expect(result.databaseMoves).toHaveLength(1);
  expect(result.databaseMoves![0]).toMatchObject({
    alias: 'production',
    by: 'oncall',
    reason: retry.reason,
    from: { database: name, databaseOid: await oid(prod) },
    to: { database: moved, databaseOid: await oid(copy) },
  });
  expect(result.steps.filter((s) => s.step === pausedAt).map((s) => s.outcome)).toEqual([
    'started',
    'failed',
    'retried',
    'started',
    'failed', // refused, then a plain retry refused again
    'failed', // the accept that could not read the alias (the step did not start)
    'retried',
    'started',
    'failed', // a plain retry: refused again, naming the moved database
    'retried',
    'started',
    'completed', // accepted
  ]);

  // The moved database got the rows; the one the run started on was never written.
  expect(await saasCounts(copy)).toEqual(plusMoved(before, expected));
  expect(await saasCounts(prod)).toEqual(before);
  // Status and the report say so.
  expect(formatStatus(result)).toContain(`moved:        production accepted as ${moved}`);
  const report = buildReportModel(await handle.query(reportQuery));
  const section = report.sections.find((s) => s.title === 'Databases accepted as moved');
  expect(section?.blocks[1].table?.rows[0]).toEqual(expect.arrayContaining(['production', 'oncall', retry.reason]));
}, 600000);
