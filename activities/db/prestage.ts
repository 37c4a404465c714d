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
   * Per plan table, the distinct xmins at or after pilotXmin of the rows visible in the snapshot
   * (pilotTotals): those transactions had committed before it, so no row version they wrote can be
   * new. A table absent (or a marker from before this field) counts every row version at or after
   * pilotXmin as possibly new. Replaces `before` (the xids running just before the snapshot), which
   * missed a still-running transaction's released savepoints: a subtransaction drops the lock on its
   * own xid when it is released, so pg_locks no longer lists it.
   */
  seen?: Record<string, string[]>;
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

/** More distinct young xmins than this in one table: it is not recorded, and stage counts each such row as possibly new. */
const SEEN_LIMIT = 10000;

/**
 * In the dry run's snapshot (a lane joined to it), per plan table: every row (the totals stage
 * compares) and, when the dry run stages (`pilotXmin` given) and some visible row version is at or
 * after the snapshot's xmin, their distinct xmins (PrestageMarker.seen). The common case is one scan
 * with no row sent; without `pilotXmin` (nothing staged for stage to keep) only the count.
 */
export async function pilotTotals(
  lane: Client,
  r: Resolved,
  pilotXmin: string | null,
): Promise<{ totals: Map<string, number>; seen: Record<string, string[]> }> {
  const totals = new Map<string, number>();
  const seen: Record<string, string[]> = {};
  for (const t of r.tables) {
    const rel = qualified(t.source.schema, t.source.name);
    if (pilotXmin === null) {
      totals.set(t.name, Number((await lane.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${rel}`)).rows[0].n));
      continue;
    }
    const res = await lane.query<{ n: string; young: string }>(
      `SELECT count(*)::text AS n, count(*) FILTER (WHERE age(x.xmin) <= age($1::text::xid))::text AS young FROM ${rel} x`,
      [pilotXmin],
    );
    totals.set(t.name, Number(res.rows[0].n));
    if (Number(res.rows[0].young) === 0) {
      seen[t.name] = [];
      continue;
    }
    const ids = await lane.query<{ x: string }>(
      `SELECT DISTINCT x.xmin::text AS x FROM ${rel} x WHERE age(x.xmin) <= age($1::text::xid) LIMIT ${SEEN_LIMIT + 1}`,
      [pilotXmin],
    );
    if (ids.rows.length <= SEEN_LIMIT) seen[t.name] = ids.rows.map((row) => row.x);
  }
  return { totals, seen };
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
 * or a visible row version whose xmin is at or after that snapshot's xmin and is not one of the
 * xmins the snapshot itself saw (PrestageMarker.seen: committed before it). Compared by age(), so
 * xid wraparound is handled, and frozen or permanent xids are never "newer". A change always shows:
 * a delete changes the count unless a row came in too, and every insert or update writes a new row
 * version with the xid of its (sub)transaction, which had not committed at the snapshot. It can only
 * err the safe way (then stage copies again). One sequential scan of xmin per table: no row is
 * converted or sent.
 */
export async function pilotChanges(source: Client, r: Resolved, marker: PrestageMarker): Promise<PilotChange[]> {
  const out: PilotChange[] = [];
  for (const t of r.tables) {
    const seen = marker.seen?.[t.name];
    const res = await source.query<{ n: string; newer: string }>(
      `SELECT count(*)::text AS n, count(*) FILTER (WHERE age(x.xmin) <= age($1::text::xid)${
        seen ? ' AND NOT (x.xmin::text = ANY($2::text[]))' : ''
      })::text AS newer
         FROM ${qualified(t.source.schema, t.source.name)} x`,
      seen ? [marker.pilotXmin, seen] : [marker.pilotXmin],
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
      `SELECT count(*)::text AS n, coalesce(sum(hashtextextended(s::text, 0)), 0)::text AS a,
              coalesce(sum(hashtextextended(s::text, 1)), 0)::text AS b FROM ${names.data(t.index, t.name)} s`,
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
