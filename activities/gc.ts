// `cutover gc`: what killed attempts left behind, named and (with apply) removed. A kill -9 can leave
// copies of data that no later step owns: a scratch database (cutover_verify_*, cutover_restore_*,
// cutover_rehearsal_*: copies of production's tables), a partial dump (a `.name.<hex>.tmp` file in a
// file:// store), an object whose sidecar was never written, an S3 multipart upload never completed
// nor aborted, and the staging schema (cutover_stage_*) of a run that is over. The next attempt of a
// step cleans its own (the same scratch name is dropped first; backup clears its run's prefix);
// this finds the rest. It runs where the worker runs or with the worker's environment: the plan's
// aliases (CUTOVER_DB_<ALIAS> or CUTOVER_SECRETS_DIR) and the store's AWS_* variables.
//
// Never removed: a scratch database someone is connected to (in use; dropped without FORCE, so a
// session that connects meanwhile makes the drop fail), store items younger than `minAgeMs` (a write
// may be in progress), the staging schema of a run that is not over.
import { ident, readAlias } from './db/connect';
import { connect } from './db/connect';
import { urlWithDatabase } from './db/scratch-db';
import { databaseOf } from './db/restore-tables';
import { openStore, type TemporaryItem } from './store';
import type { Plan } from '../plan/schema';

export const SCRATCH_DATABASE = /^cutover_(verify|restore|rehearsal)_[a-z0-9]+$/;
export const STAGING_SCHEMA = /^cutover_stage_([a-z0-9]+)$/;

export interface ScratchLeftover {
  server: string; // the alias whose server holds it
  database: string;
  sessions: number;
  bytes: number;
  removable: boolean;
  why: string;
}

export interface StagingLeftover {
  database: string; // production's database name
  schema: string;
  runKey: string;
  runStatus: string | null;
  removable: boolean;
  why: string;
}

export interface StoreLeftover extends TemporaryItem {
  removable: boolean;
  why: string;
}

export interface GcReport {
  apply: boolean;
  databases: ScratchLeftover[];
  staging: StagingLeftover[];
  store: StoreLeftover[];
  removed: string[]; // what --apply removed, one line each
  failed: string[]; // what --apply could not remove, and why
}

export interface GcOptions {
  apply: boolean;
  /** Store items written (or started) less than this long ago are listed but kept. */
  minAgeMs: number;
  /** Run keys of this plan's runs that are still open in Temporal: their staging stays. */
  openRunKeys?: string[];
  /** Whether this plan's workflow is open (then unfinished runs of the plan keep their staging). */
  workflowOpen: boolean;
}

export async function gc(plan: Plan, opts: GcOptions): Promise<GcReport> {
  const report: GcReport = { apply: opts.apply, databases: [], staging: [], store: [], removed: [], failed: [] };
  const runs = await planRuns(plan);
  const aliases =
    plan.strategy === 'selective' ? [plan.target, plan.source] : [plan.source, ...(plan.strategy === 'adopt' ? [] : [plan.target])];
  const seen = new Set<string>();
  for (const alias of aliases) {
    let url: string;
    try {
      url = readAlias(alias);
    } catch {
      continue; // an alias this environment does not resolve: its server is not looked at (said by the CLI)
    }
    const server = serverOf(url);
    if (seen.has(server)) continue;
    seen.add(server);
    report.databases.push(...(await scratchDatabases(alias, url, runs, opts.workflowOpen)));
  }
  if (plan.strategy === 'selective') report.staging.push(...(await stagingSchemas(plan, opts)));
  if (plan.backup) {
    const store = openStore(plan.backup.store);
    const now = Date.now();
    for (const item of await store.temporary(`${plan.id}/`)) {
      const age = now - Date.parse(item.since);
      const removable = age >= opts.minAgeMs;
      report.store.push({
        ...item,
        removable,
        why: removable
          ? `left by an unfinished write ${Math.round(age / 1000)} s ago`
          : 'written recently: a write may be in progress (--min-age)',
      });
    }
    if (opts.apply) {
      for (const item of report.store.filter((x) => x.removable)) {
        await store.removeTemporary(item).then(
          () =>
            report.removed.push(
              `${item.kind === 'upload' ? `multipart upload ${item.uploadId} of` : item.kind === 'partial' ? 'partial file' : 'incomplete object'} ${item.location}`,
            ),
          (e: Error) => report.failed.push(`${item.location}: ${e.message}`),
        );
      }
    }
  }
  if (opts.apply) {
    for (const d of report.databases.filter((x) => x.removable)) {
      await onServer(d.server, `DROP DATABASE IF EXISTS ${ident(d.database)}`).then(
        () => report.removed.push(`scratch database ${d.database} (server of ${d.server})`),
        (e: Error) => report.failed.push(`scratch database ${d.database}: ${e.message}`),
      );
    }
    for (const s of report.staging.filter((x) => x.removable)) {
      await inDatabase(readAlias(plan.target), `DROP SCHEMA IF EXISTS ${ident(s.schema)} CASCADE`).then(
        () => report.removed.push(`staging schema ${s.schema} in ${s.database}`),
        (e: Error) => report.failed.push(`staging schema ${s.schema}: ${e.message}`),
      );
    }
  }
  return report;
}

/** host:port of a URL: two aliases on one server are looked at once. */
function serverOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}`;
}

/**
 * This plan's runs by run key, with whether each is over: the run directories in the plan's store
 * (a backup writes there before it verifies or rehearses in a scratch database) and the runs
 * production's cutover.run records for the plan (finished_at: finalize ran).
 */
async function planRuns(plan: Plan): Promise<Map<string, boolean>> {
  const runs = new Map<string, boolean>();
  if (plan.backup) {
    const store = openStore(plan.backup.store);
    for (const key of [...(await store.list(`${plan.id}/`)), ...(await store.temporary(`${plan.id}/`)).map((i) => i.name)]) {
      const rk = key.split('/')[1];
      if (rk) runs.set(rk, false);
    }
  }
  if (plan.strategy === 'clean-start') return runs;
  try {
    const db = await connect(readAlias(plan.strategy === 'adopt' ? plan.source : plan.target), 'cutover:gc');
    try {
      if ((await db.query("SELECT to_regclass('cutover.run') IS NOT NULL AS x")).rows[0].x) {
        const { rows } = await db.query<{ run_key: string; over: boolean }>(
          'SELECT run_key, finished_at IS NOT NULL AS over FROM cutover.run WHERE plan_id = $1',
          [plan.id],
        );
        for (const r of rows) runs.set(r.run_key, r.over);
      }
    } finally {
      await db.end().catch(() => undefined);
    }
  } catch {
    // an alias this environment does not resolve: only the store tells the plan's runs
  }
  return runs;
}

async function scratchDatabases(alias: string, url: string, runs: Map<string, boolean>, workflowOpen: boolean): Promise<ScratchLeftover[]> {
  const admin = await connect(urlWithDatabase(url, 'postgres'), 'cutover:gc');
  try {
    const { rows } = await admin.query<{ datname: string; sessions: number; bytes: string }>(
      `SELECT d.datname::text, (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname)::int AS sessions,
              pg_database_size(d.oid)::text AS bytes
         FROM pg_database d WHERE d.datname ~ $1 ORDER BY 1`,
      [SCRATCH_DATABASE.source],
    );
    return rows.map((r) => {
      const rk = r.datname.replace(/^cutover_[a-z]+_/, '');
      const over = runs.get(rk);
      // Only this plan's runs, and only when no attempt can be using it: another plan's (or a test's on a shared server) stays.
      const [removable, why] =
        r.sessions > 0
          ? [false, `in use (${r.sessions} session(s)): kept`]
          : over === undefined
            ? [false, `run ${rk} is not a run of this plan: kept (run gc with its plan)`]
            : over
              ? [true, `run ${rk} is over: left by an attempt that did not finish`]
              : workflowOpen
                ? [false, `run ${rk} of this plan may still be open: kept (its next attempt drops it)`]
                : [true, `run ${rk} of this plan is not open in Temporal: left by an attempt that did not finish`];
      return { server: alias, database: r.datname, sessions: r.sessions, bytes: Number(r.bytes), removable, why };
    });
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function stagingSchemas(plan: Plan, opts: GcOptions): Promise<StagingLeftover[]> {
  const url = readAlias(plan.target);
  const db = await connect(url, 'cutover:gc');
  try {
    const hasRuns = (await db.query("SELECT to_regclass('cutover.run') IS NOT NULL AS x")).rows[0].x as boolean;
    const { rows } = await db.query<{
      schema: string;
      run_key: string;
      status: string | null;
      finished: boolean | null;
      plan_id: string | null;
    }>(
      `SELECT n.nspname::text AS schema, substring(n.nspname FROM $1) AS run_key, ${hasRuns ? 'r.status, r.finished_at IS NOT NULL AS finished, r.plan_id' : 'NULL::text AS status, NULL::boolean AS finished, NULL::text AS plan_id'}
         FROM pg_namespace n ${hasRuns ? 'LEFT JOIN cutover.run r ON r.run_key = substring(n.nspname FROM $1)' : ''}
        WHERE n.nspname ~ $1 ORDER BY 1`,
      [STAGING_SCHEMA.source],
    );
    // A run that never got past its dry run has no cutover.run row: its staging names its plan (activities/db/prestage.ts).
    for (const r of rows.filter((x) => x.plan_id === null)) {
      const steps = `${ident(r.schema)}.steps`;
      if (!(await db.query<{ x: boolean }>('SELECT to_regclass($1) IS NOT NULL AS x', [steps])).rows[0].x) continue;
      const found = await db.query<{ p: string | null }>(`SELECT result->>'planId' AS p FROM ${steps} WHERE step = 'preflight'`);
      if (found.rows[0]?.p) Object.assign(r, { plan_id: found.rows[0].p, status: 'dry run' });
    }
    const open = new Set(opts.openRunKeys ?? []);
    return rows.map((r) => {
      const over =
        r.finished === true ||
        (r.plan_id === plan.id && !opts.workflowOpen) ||
        (r.plan_id === plan.id && opts.openRunKeys !== undefined && !open.has(r.run_key));
      const why = r.finished
        ? `run ${r.run_key} finished (${r.status}): its staging should have been dropped`
        : r.plan_id === plan.id
          ? over
            ? `run ${r.run_key} of this plan is not open in Temporal (status in production: ${r.status})`
            : `run ${r.run_key} of this plan is still open: kept`
          : r.plan_id
            ? `run ${r.run_key} of plan ${r.plan_id}, not finished: kept (run gc with that plan)`
            : `no run ${r.run_key} is recorded in cutover.run: kept`;
      return { database: databaseOf(url), schema: r.schema, runKey: r.run_key, runStatus: r.status, removable: over, why };
    });
  } finally {
    await db.end().catch(() => undefined);
  }
}

async function onServer(alias: string, sql: string): Promise<void> {
  await inDatabase(urlWithDatabase(readAlias(alias), 'postgres'), sql);
}

async function inDatabase(url: string, sql: string): Promise<void> {
  const c = await connect(url, 'cutover:gc');
  try {
    await c.query(sql);
  } finally {
    await c.end().catch(() => undefined);
  }
}
