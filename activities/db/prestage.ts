// The Pilot is read once: the dry run (preflight) stages the selected rows, whole, into the run's
// staging schema in its own exported snapshot, and what the approvers approve is that staging. Stage
// then only proves the Pilot has not changed since (per plan table: the row count, and no row
// version written by a transaction that was not yet finished at the dry run's snapshot) and keeps
// it; any change, or a staging that is gone or already cleaned, and stage copies again from a new
// snapshot as it always did (the drift comparison then tells what changed). This file holds the
// marker the dry run leaves in the staging and the checks stage makes against it.
import type { Client } from 'pg';
import type { CatalogSummary, KeyDigest } from '../../common/results';
import { ident, qualified } from './connect';
import type { Resolved } from './resolve';
import { stagingSchema, StagingNames } from './staging';
import { stepResult } from './staging-state';

/** The dry run stages into the run's schema; its cleanup rehearsal writes its manifest into a session temp table. */
export const prestageNames = (runKey: string) => new StagingNames(stagingSchema(runKey), 'pg_temp.manifest');

/** What the dry run records about the staging it made (step `preflight` in the staging's step log). */
export interface PrestageMarker {
  planId: string;
  planHash: string;
  /** pg_export_snapshot() of the dry run, and when it was taken (the Pilot's clock). */
  snapshot: string;
  snapshotAt: string;
  /** The snapshot's xmin (32-bit, as text): every transaction before it had finished when the rows were read. */
  pilotXmin: string;
  /**
   * Read just before the snapshot (db/prestage.ts runningBefore): the next xid then, and every xid
   * (subtransactions' too) still running then. A row version by any other xid below that next xid
   * was written by a transaction finished before the snapshot. Absent: only pilotXmin is used.
   */
  before?: { xmax: string; running: string[] };
  /** Every row of each plan table in the Pilot at the snapshot (not only the selected ones). */
  totals: Record<string, number>;
  inScope: Record<string, number>;
  digests: Record<string, KeyDigest>;
  catalog: Record<string, CatalogSummary>;
}

/** The oldest transaction still running when the caller's (REPEATABLE READ) snapshot was taken, as a 32-bit xid. */
export async function snapshotXmin(source: Client): Promise<string> {
  const r = await source.query<{ x: string }>(`SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::numeric % 4294967296)::text AS x`);
  return r.rows[0].x;
}

/**
 * On a connection outside any transaction, just before the dry run's snapshot is taken: the next xid
 * and every transaction id running on the cluster (pg_locks: each xid, a subtransaction's too, holds
 * a lock on itself until its top-level transaction ends; pg_current_snapshot() lists top-level ones
 * only). Lets stage tell a row written by a transaction still running at the snapshot from one
 * written long before, though younger than the oldest transaction then running.
 */
export async function runningBefore(source: Client): Promise<{ xmax: string; running: string[] }> {
  const r = await source.query<{ xmax: string; running: string[] }>(
    `SELECT (pg_snapshot_xmax(pg_current_snapshot())::text::numeric % 4294967296)::text AS xmax,
            coalesce(array_agg(DISTINCT l.transactionid::text) FILTER (WHERE l.transactionid IS NOT NULL), '{}') AS running
       FROM pg_locks l WHERE l.locktype = 'transactionid'`,
  );
  return r.rows[0];
}

/** The dry run's staging, when it is still as the dry run left it (not cleaned yet): stage may keep it. */
export async function prestaged(db: Client, names: StagingNames): Promise<PrestageMarker | null> {
  const exists = await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [names.steps()]);
  if (!exists.rows[0].ok) return null;
  if ((await stepResult(db, names, 'cleanup')) !== null) return null;
  return stepResult<PrestageMarker>(db, names, 'preflight');
}

/** A plan table of the Pilot that may have changed since the dry run: its rows then and now, and the row versions written since. */
export interface PilotChange {
  table: string;
  rowsThen: number;
  rowsNow: number;
  newer: number;
}

/**
 * Per plan table, whether the Pilot may differ from the dry run's snapshot: a different row count,
 * or a visible row version whose xmin may belong to a transaction not finished at that snapshot: at
 * or after the snapshot's xmin, and either at or after the next xid read just before the snapshot or
 * one of the xids running then (compared by age(), so xid wraparound is handled, and frozen or
 * permanent xids are never "newer"). A change always shows: a delete changes the count unless a row
 * came in too, and every insert or update writes a new row version with its own xid. It can only
 * err the safe way (then stage copies again). One sequential scan of xmin per table: no row is
 * converted or sent.
 */
export async function pilotChanges(source: Client, r: Resolved, marker: PrestageMarker): Promise<PilotChange[]> {
  const out: PilotChange[] = [];
  for (const t of r.tables) {
    const b = marker.before;
    const res = await source.query<{ n: string; newer: string }>(
      `SELECT count(*)::text AS n, count(*) FILTER (WHERE age(x.xmin) <= age($1::text::xid)${
        b ? ` AND (age(x.xmin) <= age($2::text::xid) OR x.xmin::text = ANY($3::text[]))` : ''
      })::text AS newer
         FROM ${qualified(t.source.schema, t.source.name)} x`,
      b ? [marker.pilotXmin, b.xmax, b.running] : [marker.pilotXmin],
    );
    const now = { n: Number(res.rows[0].n), newer: Number(res.rows[0].newer) };
    const then = marker.totals[t.name];
    if (then === undefined || now.n !== then || now.newer > 0)
      out.push({ table: t.name, rowsThen: then ?? -1, rowsNow: now.n, newer: now.newer });
  }
  return out;
}

/**
 * Per table, the count and an order-independent digest of the staged rows, every staged column
 * (two seeded hashtextextended sums of each row's text, as activities/db/drift.ts does for keys).
 * Taken only when the Pilot changed after the dry run: of the dry run's staging (what was approved)
 * just before it is replaced, and of the new one, so a changed value shows even when the keys did not.
 */
export async function rowDigests(db: Client, r: Resolved, names: StagingNames): Promise<Record<string, KeyDigest>> {
  const out: Record<string, KeyDigest> = {};
  for (const t of r.tables) {
    const res = await db.query<{ n: string; a: string; b: string }>(
      `SELECT count(*)::text AS n, coalesce(sum(hashtextextended(s::text, 0)::numeric), 0)::text AS a,
              coalesce(sum(hashtextextended(s::text, 1)::numeric), 0)::text AS b FROM ${names.data(t.index, t.name)} s`,
    );
    const x = res.rows[0];
    out[t.name] = { rows: Number(x.n), digest: `r2:${x.a}:${x.b}` };
  }
  return out;
}

/** Drop the run's staging schema (a dry run starting over, or one that failed half way). */
export async function dropStaging(db: Client, runKey: string): Promise<void> {
  await db.query(`DROP SCHEMA IF EXISTS ${ident(stagingSchema(runKey))} CASCADE`);
}
