// A run started and driven with the official `temporal` CLI (as from the Temporal UI: JSON input,
// Send Signal, Query) behaves exactly as with the cutover CLI.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { EXPECTED, PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { temporalBin } from './helpers/temporal';

const run = promisify(execFile);
const h = useHarness('cutover_tc', SAAS_SCHEMA + PILOT_DATA);
let prod: string;
beforeAll(async () => {
  prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
});

async function temporal(...args: string[]): Promise<string> {
  const { stdout } = await run(temporalBin(), [...args, '--address', h.env.address, '--namespace', 'default'], { timeout: 60000 });
  return stdout;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function queryStatus(id: string): Promise<Record<string, any>> {
  const out = JSON.parse(await temporal('workflow', 'query', '--workflow-id', id, '--type', 'status', '--output', 'json'));
  return out.queryResult[0];
}

async function until(id: string, pred: (s: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  let last: unknown;
  for (let i = 0; i < 150; i++) {
    const s = await queryStatus(id).catch(() => null);
    if (s && pred(s)) return s;
    last = s ?? last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting on ${id}; last status ${JSON.stringify(last)}`);
}

test('start, signal and query with the temporal CLI', async () => {
  const id = 'cutover-tc-official';
  const input = JSON.stringify({ plan: saasPlan('tc-official'), initiatedBy: 'alice' });
  await temporal('workflow', 'start', '--task-queue', 'cutover', '--type', 'cutoverMigration', '--workflow-id', id, '--input', input);

  await until(id, (s) => s.gate === 'plan');
  await temporal(
    'workflow',
    'signal',
    '--workflow-id',
    id,
    '--name',
    'approve',
    '--input',
    JSON.stringify({ gate: 'plan', approver: 'alice' }),
  );
  const refused = await until(id, (s) => (s.refused as unknown[]).length === 1);
  expect(JSON.stringify(refused.refused)).toContain('separation of duties');

  for (const approver of ['bob', 'carol']) {
    await temporal('workflow', 'signal', '--workflow-id', id, '--name', 'approve', '--input', JSON.stringify({ gate: 'plan', approver }));
  }
  await until(id, (s) => s.gate === 'cutover');
  // The update answers at once: a refused approval comes back as an error.
  await expect(
    temporal(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      id,
      '--name',
      'approve',
      '--input',
      JSON.stringify({ gate: 'plan', approver: 'bob' }),
    ),
  ).rejects.toThrow(/wrong gate/);
  for (const approver of ['bob', 'carol']) {
    await temporal(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      id,
      '--name',
      'approve',
      '--input',
      JSON.stringify({ gate: 'cutover', approver }),
    );
  }
  const done = await until(id, (s) => s.status === 'completed');
  expect(done.planHash).toMatch(/^[0-9a-f]{64}$/);

  // Search attributes are visible to `temporal workflow list` (and the UI's filters).
  const listed = await temporal(
    'workflow',
    'list',
    '--query',
    "CutoverPlanId = 'tc-official' AND CutoverStatus = 'completed'",
    '--output',
    'json',
  );
  expect(listed).toContain(id);

  const moved = Number((await rows<{ n: string }>(h.pilot, `SELECT count(*)::text AS n FROM (${EXPECTED.events}) x`))[0].n);
  const inProd = Number((await rows<{ n: string }>(prod, 'SELECT count(*)::text AS n FROM events WHERE event_id < 1000'))[0].n);
  expect(inProd).toBe(moved);
}, 180000);

// A Temporal reset changes the run id; the run key (staging, publish guard) must survive it.
type HistoryEvent = {
  eventId: string;
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  activityTaskCompletedEventAttributes?: { scheduledEventId: string };
};
async function history(id: string): Promise<HistoryEvent[]> {
  return JSON.parse(await temporal('workflow', 'show', '--workflow-id', id, '--output', 'json')).events;
}
/** The workflow task that completed right after `activity` finished: resetting there resumes after it. */
function afterActivity(events: HistoryEvent[], activity: string): string {
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType.name === activity).map((e) => e.eventId);
  const done = events.findIndex((e) => scheduled.includes(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? ''));
  const wft = events.slice(done).find((e) => /WorkflowTaskCompleted|WORKFLOW_TASK_COMPLETED/.test(e.eventType));
  if (done < 0 || !wft) throw new Error(`no completed ${activity} in history`);
  return wft.eventId;
}

test('temporal workflow reset to after stage, then after preflight: completes, every row once, no staging left', async () => {
  const db = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  const snapshot = () =>
    rows<{ t: string; v: string }>(
      db,
      `SELECT 'users' AS t, string_agg(x::text, ';' ORDER BY x::text) AS v FROM users x
      UNION ALL SELECT 'projects', string_agg(x::text, ';' ORDER BY x::text) FROM projects x
      UNION ALL SELECT 'events', string_agg(x::text, ';' ORDER BY x::text) FROM events x
      UNION ALL SELECT 'accounts', string_agg(x::text, ';' ORDER BY x::text) FROM accounts x`,
    );
  const staging = async () =>
    (await rows<{ n: string }>(db, "SELECT count(*)::text AS n FROM pg_namespace WHERE nspname LIKE 'cutover\\_stage\\_%'"))[0].n;
  const id = 'cutover-tc-reset';
  await temporal(
    'workflow',
    'start',
    '--task-queue',
    'cutover',
    '--type',
    'cutoverMigration',
    '--workflow-id',
    id,
    '--input',
    JSON.stringify({ plan: saasPlan('tc-reset'), initiatedBy: 'alice' }),
  );
  for (const gate of ['plan', 'cutover']) {
    await until(id, (s) => s.gate === gate);
    for (const approver of ['bob', 'carol']) {
      await temporal('workflow', 'signal', '--workflow-id', id, '--name', 'approve', '--input', JSON.stringify({ gate, approver }));
    }
  }
  const first = await until(id, (s) => s.status === 'completed');
  const after = await snapshot();
  expect(await staging()).toBe('0');

  for (const step of ['stage', 'preflight']) {
    const runBefore = JSON.parse(await temporal('workflow', 'describe', '--workflow-id', id, '--output', 'json')).workflowExecutionInfo
      .execution.runId;
    await temporal(
      'workflow',
      'reset',
      '--workflow-id',
      id,
      '--event-id',
      afterActivity(await history(id), step),
      '--reason',
      `test: reset to after ${step}`,
    );
    const runAfter = JSON.parse(await temporal('workflow', 'describe', '--workflow-id', id, '--output', 'json')).workflowExecutionInfo
      .execution.runId;
    expect(runAfter).not.toBe(runBefore);
    // The reset run re-applies the approvals sent after the reset point, all at once at that point,
    // where no gate is open yet: they are refused and recorded, and the gates are approved again.
    if (step === 'preflight') {
      for (const gate of ['plan', 'cutover']) {
        await until(id, (s) => s.gate === gate);
        for (const approver of ['bob', 'carol']) {
          await temporal('workflow', 'signal', '--workflow-id', id, '--name', 'approve', '--input', JSON.stringify({ gate, approver }));
        }
      }
    }
    const done = await until(id, (s) => s.status === 'completed' && s.runKey === first.runKey);
    expect(
      (done.steps as { step: string; outcome: string }[]).filter((x) => x.step === 'publish' && x.outcome === 'completed').length,
    ).toBeGreaterThan(0);
    expect(await snapshot()).toEqual(after);
    expect(await staging()).toBe('0');
  }
  const moved = Number((await rows<{ n: string }>(h.pilot, `SELECT count(*)::text AS n FROM (${EXPECTED.events}) x`))[0].n);
  expect(Number((await rows<{ n: string }>(db, 'SELECT count(*)::text AS n FROM events WHERE event_id < 1000'))[0].n)).toBe(moved);
}, 240000);
