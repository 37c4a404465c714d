// The worker survives what production throws at it: the end of stage (a large scope filter, here a
// test-only slow statement) keeps heartbeating under a short heartbeat timeout, a database
// connection the server ends fails the activity (which retries) instead of crashing the process,
// and a stopped worker lets go of its Temporal connection.
import { arrayFromPayloads, defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { liveProgress } from '../client/commands/status';
import { connect } from '../activities/db/connect';
import type { StageInput } from '../common/results';
import type { StepProgress } from '../common/progress';
import { validatePlan } from '../plan/validate';
import { runWorker } from '../worker/run';
import { createWorker } from '../runtime/worker';
import { stageOnly } from './helpers/stage-workflow';
import { admin, createDb, dropDb, PG_ADMIN, uniqueName } from './helpers/pg';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { startTemporal } from './helpers/temporal';
import { setTimeout as sleep } from 'node:timers/promises';
import { runResult } from './helpers/run-result';

const base = uniqueName('cutover_res');
const taskQueue = 'cutover-test-stage';
const TABLES = ['public.accounts', 'public.events', 'public.projects', 'public.users'];
let env: TestWorkflowEnvironment;
let worker: Worker | undefined;
let done: Promise<void> | undefined;

beforeAll(async () => {
  process.env.CUTOVER_DB_PILOT = await createDb(`${base}_pilot`, SAAS_SCHEMA + PILOT_DATA);
  process.env.CUTOVER_DB_PRODUCTION = await createDb(`${base}_prod`, SAAS_SCHEMA + PRODUCTION_DATA);
  env = await startTemporal();
  ({ worker } = await createWorker({
    connection: env.nativeConnection,
    config: { address: env.address, namespace: env.namespace ?? 'default' },
    taskQueue,
    workflowsPath: require.resolve('./helpers/stage-workflow'),
  }));
  done = worker.run();
}, 180000);

afterAll(async () => {
  delete process.env.CUTOVER_TEST_SLOW_STAGE_END;
  worker?.shutdown();
  await done;
  await env?.teardown();
  await dropDb(`${base}_pilot`);
  await dropDb(`${base}_prod`);
});

const input = (id: string): StageInput => ({
  plan: validatePlan(saasPlan(id)),
  runKey: id.replace(/[^a-z0-9]/g, ''),
  workflowId: `stage-${id}`,
  runId: 'r1',
});

/** The backend of plan `id`'s stage sleeping in the test-only slow statement. */
const sleeper = (id: string) =>
  admin(async (c) =>
    (
      await c.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE 'SELECT pg_sleep%'",
        [`cutover:${id}:target`],
      )
    ).rows.map((r) => r.pid),
  );
async function waitForSleeper(id: string): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const [pid] = await sleeper(id);
    if (pid) return pid;
    await sleep(100);
  }
  throw new Error('stage never reached its slow end');
}

test('a connection the server ends fails its queries, not the process', async () => {
  const idle = await connect(PG_ADMIN, 'cutover:test-idle');
  const busy = await connect(PG_ADMIN, 'cutover:test-busy');
  const running = busy.query('SELECT pg_sleep(30)');
  await sleep(200);
  await admin((c) =>
    c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name IN ('cutover:test-idle', 'cutover:test-busy')"),
  );
  await expect(running).rejects.toThrow('terminating connection');
  await sleep(500); // the idle client learns of it from the socket
  await expect(idle.query('SELECT 1')).rejects.toThrow(/not queryable|terminat/);
  await Promise.allSettled([idle.end(), busy.end()]);
});

test('the end of stage keeps heartbeating its per-table progress past a short heartbeat timeout', async () => {
  process.env.CUTOVER_TEST_SLOW_STAGE_END = '12';
  try {
    const handle = await env.client.workflow.start(stageOnly, {
      taskQueue,
      workflowId: 'stage-slow-end',
      args: [input('res-slow'), '3s', 1],
    });
    await waitForSleeper('res-slow');
    await sleep(6000); // two heartbeat timeouts into the slow statement
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    expect(pending).toHaveLength(1);
    // The keep-alive carries the progress a retry rejoins with, not a bare beat that would erase it.
    const [details] = arrayFromPayloads(defaultPayloadConverter, pending[0].heartbeatDetails?.payloads) as (StepProgress & {
      snapshot?: string;
    })[];
    expect(details).toMatchObject({ step: 'stage', phase: 'settling the scope' });
    expect(details.snapshot).toMatch(/\S/);
    expect(details.tables.map((p) => `${p.table}:${p.phase}`).sort()).toEqual(TABLES.map((t) => `${t}:done`));
    expect(details.tables.every((p) => p.done > 0 && p.done === p.total)).toBe(true);
    // `cutover status --watch` decodes the same details for its live progress.
    expect((await liveProgress(env.client, handle)).map((p) => p.table).sort()).toEqual(TABLES);
    const result = await runResult(handle);
    expect(result.attempt).toBe(1);
    expect(result.tables.map((t) => t.table).sort()).toEqual(TABLES);
  } finally {
    delete process.env.CUTOVER_TEST_SLOW_STAGE_END;
  }
}, 120000);

test('a stage connection ended by the server mid-statement fails that attempt; the retry completes in the same worker', async () => {
  process.env.CUTOVER_TEST_SLOW_STAGE_END = '60';
  try {
    const handle = await env.client.workflow.start(stageOnly, {
      taskQueue,
      workflowId: 'stage-killed',
      args: [input('res-killed'), '2 minutes', 3],
    });
    const pid = await waitForSleeper('res-killed');
    await admin((c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
    const result = await runResult(handle);
    expect(result.attempt).toBe(2);
    // Same worker, same held snapshot: the retry kept every table the first attempt staged.
    expect(result.resumedTables.sort()).toEqual(TABLES);
    expect(result.restaged).toBeNull();
  } finally {
    delete process.env.CUTOVER_TEST_SLOW_STAGE_END;
  }
}, 120000);

test('a stopped worker closes its Temporal connection', async () => {
  const close = jest.spyOn(NativeConnection.prototype, 'close');
  const said = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const stop = new AbortController();
    const running = runWorker({ address: env.address, taskQueue: 'cutover-test-stop', signal: stop.signal });
    while (!said.mock.calls.some(([line]) => String(line).includes('task queue cutover-test-stop'))) await sleep(100);
    stop.abort();
    await running;
    expect(close).toHaveBeenCalledTimes(1);
  } finally {
    close.mockRestore();
    said.mockRestore();
  }
}, 120000);
