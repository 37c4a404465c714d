// One place for what every end-to-end test file sets up: a Pilot database, a Temporal dev server
// with a worker, production databases made on demand, and teardown of all of it.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createDb, dropDb, uniqueName } from './pg';
import { startTemporal, startWorker, type TemporalOptions } from './temporal';

export interface Harness {
  env: TestWorkflowEnvironment;
  pilot: string;
  /** A new production database (schema + data), set as CUTOVER_DB_PRODUCTION. */
  production(sql: string): Promise<string>;
}

export function useHarness(prefix: string, pilotSql: string, opts: TemporalOptions = {}): Harness {
  const base = uniqueName(prefix);
  const made: string[] = [];
  let worker: Worker | undefined;
  let done: Promise<void> | undefined;
  const h = {
    env: undefined as unknown as TestWorkflowEnvironment,
    pilot: '',
    async production(sql: string) {
      const name = `${base}_prod${made.length}`;
      made.push(name);
      const url = await createDb(name, sql);
      process.env.CUTOVER_DB_PRODUCTION = url;
      return url;
    },
  };
  beforeAll(async () => {
    h.pilot = await createDb(`${base}_pilot`, pilotSql);
    process.env.CUTOVER_DB_PILOT = h.pilot;
    h.env = await startTemporal(opts);
    ({ worker, done } = await startWorker(h.env));
  }, 180000);
  afterAll(async () => {
    worker?.shutdown();
    await done;
    await h.env?.teardown();
    await dropDb(`${base}_pilot`);
    for (const name of made) await dropDb(name);
  });
  return h;
}
