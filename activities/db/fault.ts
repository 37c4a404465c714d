// Test hooks, inert when unset. CUTOVER_TEST_FAIL_STAGE_AFTER="<schema.table>:<rows>[:lose-snapshot]"
// makes the FIRST stage attempt die mid-table, so tests can prove a retry neither loses nor
// duplicates rows; `lose-snapshot` also drops the held snapshot, as if the retry ran on another
// worker. CUTOVER_TEST_SLOW_STAGE_END="<seconds>" makes the FIRST stage attempt sleep that long in
// PostgreSQL where it settles the scope, as a large scope filter would (heartbeat and lost-connection tests).
// CUTOVER_TEST_SLOW_TABLES="<seconds>[:<step>,<step>…]" makes each table of those steps (default
// publish, validate, cleanup) wait that long in PostgreSQL before its work, so a test can watch per-table progress.
// CUTOVER_TEST_SPLIT_MIN_BLOCKS="<blocks>" lets lanes split a test's small tables (splitMinBlocksForTests).
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from 'pg';
import { releaseSnapshot } from './snapshot-holder';

export function failAfterRowsForTests(attempt: number, runKey: string): (table: string, rows: number) => void {
  const spec = process.env.CUTOVER_TEST_FAIL_STAGE_AFTER;
  if (!spec || attempt > 1) return () => undefined;
  const [table, limit, mode] = spec.split(':');
  return (t, rows) => {
    if (t !== table || rows < Number(limit)) return;
    if (mode === 'lose-snapshot') void releaseSnapshot(runKey); // forgets it at once, closes in the background
    throw new Error(`injected failure after ${rows} rows of ${t} (CUTOVER_TEST_FAIL_STAGE_AFTER)`);
  };
}

/**
 * Stage copies even when it could keep the dry run's staging (activities/db/prestage.ts) while a
 * test injects a fault into its copy (CUTOVER_TEST_FAIL_STAGE_AFTER), holds its tables
 * (CUTOVER_TEST_SLOW_TABLES naming stage: its live progress) or the reliability suite holds a run
 * of this plan mid-copy: the copy path still runs whenever the Pilot changed or staging is gone, and
 * those tests keep proving it survives failures and reports its progress.
 */
export function stageCopyForcedForTests(planId: string): boolean {
  if (process.env.CUTOVER_TEST_FAIL_STAGE_AFTER) return true;
  const [seconds, steps] = (process.env.CUTOVER_TEST_SLOW_TABLES ?? '').split(':');
  if (Number(seconds) && (steps ?? 'publish,validate,cleanup').split(',').includes('stage')) return true;
  const spec = process.env.CUTOVER_CHAOS_POINTS;
  return !!spec && spec.split(',').some((e) => e.replace(/!fail$/, '') === `${planId}@stage.mid-copy`);
}

export async function slowStageEndForTests(db: Client, attempt: number): Promise<void> {
  const seconds = Number(process.env.CUTOVER_TEST_SLOW_STAGE_END);
  if (!seconds || attempt > 1) return;
  await db.query('SELECT pg_sleep($1)', [seconds]);
}

export async function slowTableForTests(db: Client, step: string): Promise<void> {
  const spec = process.env.CUTOVER_TEST_SLOW_TABLES;
  if (!spec) return;
  const [seconds, steps] = spec.split(':');
  if (!(steps ?? 'publish,validate,cleanup').split(',').includes(step) || !Number(seconds)) return;
  await db.query('SELECT pg_sleep($1)', [Number(seconds)]);
}

// The reliability suite's hook (npm run chaos, chaos/): inert unless CUTOVER_CHAOS_POINTS is set.
// CUTOVER_CHAOS_POINTS="<plan id>@<point>[!fail],…" and CUTOVER_CHAOS_DIR=<dir>: the first time a run
// of that plan reaches that named point (in any worker process: the marker file <dir>/<plan id>@<point>
// says it was reached), the marker is written and the activity holds there until <marker>.release
// appears, so the driver can kill -9 the worker or end its connections at exactly that point; `!fail`
// fails the activity there instead (non-retryable), as a step that cannot go on would.
// Returns undefined when nothing holds, so synchronous callers (the COPY progress callback) stay cheap.
// Hold mid-COPY only briefly: a backend inside COPY FROM STDIN does not absorb PostgreSQL's
// ProcSignalBarrier, so every DROP DATABASE on that server waits until the stream moves again.
export function chaosPoint(planId: string, point: string): Promise<void> | undefined {
  const spec = process.env.CUTOVER_CHAOS_POINTS;
  const dir = process.env.CUTOVER_CHAOS_DIR;
  if (!spec || !dir) return undefined;
  const entry = spec.split(',').find((e) => e.replace(/!fail$/, '') === `${planId}@${point}`);
  if (!entry) return undefined;
  const marker = path.join(dir, `${planId}@${point}`);
  if (existsSync(marker)) return undefined;
  writeFileSync(marker, `${process.pid}\n`);
  if (entry.endsWith('!fail')) {
    return Promise.reject(ApplicationFailure.nonRetryable(`injected failure at ${point} (CUTOVER_CHAOS_POINTS)`, 'ChaosInjected'));
  }
  return (async () => {
    while (!existsSync(`${marker}.release`)) await new Promise((r) => setTimeout(r, 100));
  })();
}

/**
 * CUTOVER_TEST_SPLIT_MIN_BLOCKS="<blocks>": a table is split across lanes from this many blocks per
 * part (default db/table-parts.ts SPLIT_MIN_BLOCKS), so a test's small tables are split too.
 */
export function splitMinBlocksForTests(): number | undefined {
  const n = Number(process.env.CUTOVER_TEST_SPLIT_MIN_BLOCKS);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
