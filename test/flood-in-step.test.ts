// A flood of signals while a step runs must not end the run either. Here publish is held a few
// seconds per table (a test hook, as a large publish would take) and, while it runs, refused
// signals add up to more history than the server allows one run: the run continues as new inside
// the step, the publish activity finishes detached instead of being thrown away, the next run's
// publish waits for it (the step lock) and returns its recorded commit. The run completes with
// every selected row in Production exactly once, counted by our own SQL.
import { approveSignal, statusQuery, workflowIdFor, type StatusView } from '../common/temporal';
import { acrossContinueAsNew } from '../client/across-continue';
import { LOCK_APP_NAME, stepLockTally } from '../activities/db/step-lock';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { atGate, record, startRun, waitFor } from './helpers/run';
import { EXPECTED, PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';

const ERROR_LIMIT = 1_500_000;
const h = useHarness('cutover_flood_step', SAAS_SCHEMA + PILOT_DATA, {
  // Continue-as-new suggested at 150 KB of history; a run past 1.5 MB is terminated by the server.
  dynamicConfig: { 'limit.historySize.suggestContinueAsNew': 150_000, 'limit.historySize.error': ERROR_LIMIT },
});
const TABLES = ['accounts', 'users', 'projects', 'events'] as const;

afterAll(() => {
  delete process.env.CUTOVER_TEST_SLOW_TABLES;
});

async function counts(url: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = Number((await rows<{ n: string }>(url, `SELECT count(*)::text AS n FROM ${t}`))[0].n);
  return out;
}

test('signals flooding in while publish runs: the run continues as new inside the step, publish commits once, the run completes', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  const before = await counts(prod);
  const expected = Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, (await rows(h.pilot, EXPECTED[t])).length] as const)));
  process.env.CUTOVER_TEST_SLOW_TABLES = '4:publish';

  const handle = await startRun(h.env, saasPlan('flood-in-step'));
  const firstRunId = (await handle.describe()).runId;
  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate), 120000);
    await handle.signal(approveSignal, { gate, approver: 'bob' });
    await handle.signal(approveSignal, { gate, approver: 'carol' });
  }
  await waitFor(handle, (s) => s.status === 'running' && s.phase === 'publish', 120000);

  // 30 KB refused signals while publish runs, until twice what the server allows one run's history.
  const big = 'f'.repeat(30 * 1024);
  let sent = 0;
  const query = () => acrossContinueAsNew(handle, () => handle.query(statusQuery));
  while (sent * big.length < 2 * ERROR_LIMIT) {
    await acrossContinueAsNew(handle, () => handle.signal(approveSignal, { gate: 'cutover', approver: `mallory${sent}`, comment: big }));
    sent++;
  }
  const during = await query();
  expect(during.phase).toBe('publish'); // the whole flood reached the run while publish ran

  const result = (await handle.result()) as StatusView;
  delete process.env.CUTOVER_TEST_SLOW_TABLES;
  expect(result.status).toBe('completed');
  expect(result.refusedCount).toBe(sent);
  expect(result.continuedAsNew).toBeGreaterThanOrEqual(2);
  // It continued inside publish; publish ran again after, and completed once.
  const publish = result.steps.filter((s) => s.step === 'publish');
  expect(publish.some((s) => s.outcome === 'retried' && s.detail?.includes('continued as new while this step ran'))).toBe(true);
  expect(publish.filter((s) => s.outcome === 'completed')).toHaveLength(1);
  expect(publish.filter((s) => s.outcome === 'failed')).toHaveLength(0);
  expect((await h.env.client.workflow.getHandle(workflowIdFor('flood-in-step'), firstRunId).describe()).status.name).toBe('CONTINUED_AS_NEW');

  // The first publish finished detached (not thrown away) and a later run's publish waited for it.
  expect(stepLockTally.detached).toBeGreaterThanOrEqual(1);
  expect(stepLockTally.waited).toBeGreaterThanOrEqual(1);
  // Every selected row once (a second publish would have doubled them, or been refused by the keys).
  expect(await counts(prod)).toEqual(Object.fromEntries(TABLES.map((t) => [t, before[t] + expected[t]])));
  const published = await rows<{ n: string }>(prod, `SELECT count(*)::text AS n FROM cutover.run WHERE run_key = $1 AND published_at IS NOT NULL`, [result.runKey]);
  expect(published[0].n).toBe('1');
  expect(result.evidence?.validation?.ok).toBe(true);
  // No step lock is left behind on the Pilot.
  expect(await rows(h.pilot, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [LOCK_APP_NAME])).toEqual([]);
  await record(h.env.client.workflow.getHandle(workflowIdFor('flood-in-step'), firstRunId), 'continue-in-step');
}, 600000);
