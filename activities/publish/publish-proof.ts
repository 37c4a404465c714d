// Publish proves, from inside its own transaction and before COMMIT, that it changed nothing but
// its own rows: pg_stat_xact_user_tables (triggers, cascades and rules included; other sessions
// never) must show, per plan table, exactly the rows it inserted, the cycle-closing updates it made
// on them, and no delete; in the control schema only the manifest and id map chunks it wrote; and no
// other relation touched — except Production's declared audit tables, which may receive exactly the
// inserts its triggers explain (db/audit-proof.ts). Cost: one catalog read, however large production is.
import type { Client } from 'pg';
import type { AuditProof, TransactionCount } from '../../common/results';
import { proveAudit, type AuditOp } from '../db/audit-proof';
import { validationError } from '../errors';
import { qualified } from '../db/connect';
import type { Resolved } from '../db/resolve';
import { countsSince, tablesOfRelations, xactCounts, type Counts } from '../db/xact-counts';

export interface PublishExpected {
  /** plan table (or cutover.published_keys: the manifest and id map) -> rows inserted / updated by publish's own statements */
  inserted: Map<string, number>;
  updated: Map<string, number>;
}

/**
 * The counts since `baseline` (staging leaves out: it is the run's scratch); throws when they are not exactly `want`.
 * `audit.ops`: the statements publish ran, for the declared audit tables' proof, which is put in `audit.proven`.
 */
export async function provePublishCounts(
  db: Client,
  r: Resolved,
  stagingSchema: string,
  baseline: Counts,
  want: PublishExpected,
  audit?: { ops: AuditOp[]; proven?: AuditProof },
): Promise<TransactionCount[]> {
  const counts = countsSince(baseline, await xactCounts(db));
  const schemas = await db.query<{ oid: number; schema: string }>(
    'SELECT c.oid::int AS oid, c.relnamespace::regnamespace::text AS schema FROM pg_class c WHERE c.oid = ANY($1::oid[])',
    [[...counts.keys()]],
  );
  const inStaging = new Set(schemas.rows.filter((x) => x.schema === stagingSchema || x.schema === `"${stagingSchema}"`).map((x) => x.oid));
  for (const oid of inStaging) counts.delete(oid);
  // Every relation the transaction wrote (audit tables included; staging left out), for the record.
  const recorded = [...counts.values()].sort((a, b) => (a.relation < b.relation ? -1 : 1));

  const owner = await tablesOfRelations(db, [
    ...r.tables.map((t) => ({ name: t.name, regclass: qualified(t.target.schema, t.target.name) })),
    { name: 'cutover.published_keys', regclass: 'cutover.published_keys' },
  ]);
  const got = new Map<string, { inserted: number; updated: number; deleted: number }>();
  const audited = await proveAudit(db, r, counts, audit?.ops ?? []);
  const wrong: string[] = [...audited.wrong];
  if (audit && audited.proof) audit.proven = audited.proof;
  for (const [oid, c] of counts) {
    const table = owner.get(oid);
    if (!table) {
      wrong.push(
        `${c.relation}: the transaction inserted ${c.inserted}, updated ${c.updated}, deleted ${c.deleted}; expected nothing (not a table this run publishes into)`,
      );
      continue;
    }
    const g = got.get(table) ?? { inserted: 0, updated: 0, deleted: 0 };
    got.set(table, { inserted: g.inserted + c.inserted, updated: g.updated + c.updated, deleted: g.deleted + c.deleted });
  }
  for (const table of new Set([...owner.values()])) {
    const g = got.get(table) ?? { inserted: 0, updated: 0, deleted: 0 };
    const w = { inserted: want.inserted.get(table) ?? 0, updated: want.updated.get(table) ?? 0, deleted: 0 };
    if (g.inserted !== w.inserted || g.updated !== w.updated || g.deleted !== w.deleted) {
      wrong.push(
        `${table}: the transaction inserted ${g.inserted}, updated ${g.updated}, deleted ${g.deleted}; expected ${w.inserted}, ${w.updated}, ${w.deleted}`,
      );
    }
  }
  if (wrong.length > 0) {
    throw validationError(
      `publish refused, nothing published: the publish transaction would change more than this run's rows (a trigger, rule or cascade in production?):\n  ${wrong.join('\n  ')}`,
      { counts: recorded, wrong },
    );
  }
  return recorded;
}
