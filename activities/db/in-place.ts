// Cleanup of the Pilot in place, for strategy adopt (its cleanup step and the erasures its rollback
// re-applies). The selective cleanup's own rules (db/cleanup-rules.ts) decide what goes, on session
// temp copies of the deciding columns filled from the Pilot by the same connection, inside the
// caller's transaction (so the copies see the rows the transaction itself restored); then the rows
// whose keys the rules removed are deleted from the Pilot's tables, children first. What the
// transaction did is proved from pg_stat_xact_user_tables before COMMIT.
import type { Client } from 'pg';
import { decidingColumns } from './deciding-columns';
import { planIssue } from '../errors';
import { allConditions, Binder } from './conditions';
import { ident, qualified } from './connect';
import { keyEquals } from './keys';
import type { Resolved, ResolvedTable } from './resolve';
import { createStagingTables } from './stage-copy';
import { StagingNames } from './staging';
import { countsSince, xactCounts, type Counts } from './xact-counts';
import type { TransactionCount } from '../../common/results';

export const pilotTable = (t: ResolvedTable) => qualified(t.source.schema, t.source.name);

/** Temp names in this session; the manifest is the Pilot's cutover.manifest (or a temp one). */
export const inPlaceNames = (manifest: string) => new StagingNames('pg_temp', manifest);

/** Writers kept out of the plan tables and the registers the rules read (readers go on) until COMMIT. */
export async function lockForCleanup(db: Client, r: Resolved): Promise<void> {
  for (const t of r.tables) await db.query(`LOCK TABLE ${pilotTable(t)} IN EXCLUSIVE MODE`);
  const regs = [...r.rules.registers.map((x) => x.table), ...(r.rules.consent ? [r.rules.consent.table] : [])];
  for (const x of regs) await db.query(`LOCK TABLE ${qualified(x.schema, x.name)} IN SHARE MODE`);
}

/**
 * Fill temp copies of the deciding columns and the registers from the Pilot, in this transaction.
 * Every register is read in the Pilot (supported.ts refuses `db: target` for adopt).
 */
export async function stageInPlace(db: Client, r: Resolved, names: StagingNames): Promise<{ consented: number; erased: number }> {
  await createStagingTables(db, { resolved: r, names, temp: true, columnsFor: (t) => decidingColumns(t, r) });
  for (const t of r.tables) {
    const cols = decidingColumns(t, r)
      .map((c) => ident(c.name))
      .join(', ');
    await db.query(`INSERT INTO ${names.data(t.index, t.name)} (${cols}) SELECT ${cols} FROM ${pilotTable(t)}`);
  }
  let consented = 0;
  let erased = 0;
  const { subjects, consent, registers } = r.rules;
  if (!subjects) return { consented, erased };
  if (consent) {
    const b = new Binder();
    const typeOf = (c: string) => consent.table.columns.find((x) => x.name === c)!.type;
    const sql = `SELECT DISTINCT c.${ident(consent.subject)} FROM ${qualified(consent.table.schema, consent.table.name)} c
      WHERE c.${ident(consent.subject)} IS NOT NULL AND ${allConditions(b, 'c', consent.granted, typeOf)}`;
    await b.apply(db);
    consented = (await db.query(`INSERT INTO ${names.consented()} (subject) ${sql}`)).rowCount ?? 0;
  }
  for (const x of registers) {
    const from = `SELECT DISTINCT r.${ident(x.subject)} FROM ${qualified(x.table.schema, x.table.name)} r WHERE r.${ident(x.subject)} IS NOT NULL`;
    erased +=
      (
        await db.query(`INSERT INTO ${names.erased()} (subject, register) SELECT s, $1 FROM (${from}) x(s)`, [
          `${x.db}:${x.table.qualified}`,
        ])
      ).rowCount ?? 0;
  }
  return { consented, erased };
}

/** Delete from the Pilot the rows whose keys the rules removed (names.gone), children first. */
export async function deleteGone(db: Client, r: Resolved, names: StagingNames): Promise<Map<string, number>> {
  const deleted = new Map<string, number>();
  try {
    for (const t of [...r.tables].reverse()) {
      const gone = Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${names.gone(t.index)}`)).rows[0].n);
      const res = await db.query(`DELETE FROM ${pilotTable(t)} p USING ${names.gone(t.index)} g WHERE ${keyEquals('g', 'p', t.key)}`);
      const n = res.rowCount ?? 0;
      if (n !== gone)
        throw planIssue(
          'tables',
          `adopt: ${t.name}: the rules removed ${gone} key(s) but ${n} row(s) matched them in the Pilot; nothing committed`,
        );
      deleted.set(t.name, n);
    }
  } catch (e) {
    if ((e as { code?: string }).code === '23503')
      throw planIssue('tables', `adopt: a removed row is still referenced; nothing committed: ${(e as Error).message}`);
    throw e;
  }
  return deleted;
}

/**
 * What this transaction did since `baseline`, per relation: plan tables (a partition counts for its
 * root) only as `expected` says, the control schema `cutover` only inserting or updating, nothing
 * else at all. Returns the counts, or the list of what is wrong.
 */
export async function provenCounts(
  db: Client,
  r: Resolved,
  baseline: Counts,
  expected: Map<string, { inserted: number; deleted: number }>,
): Promise<{ counts: TransactionCount[]; wrong: string[] }> {
  const diff = countsSince(baseline, await xactCounts(db));
  const oids = [...diff.keys()];
  const roots = await db.query<{ oid: number; schema: string; name: string }>(
    `SELECT o.oid::int AS oid, n.nspname AS schema, c.relname AS name
       FROM unnest($1::oid[]) o(oid) JOIN pg_class c ON c.oid = coalesce(pg_partition_root(o.oid), o.oid) JOIN pg_namespace n ON n.oid = c.relnamespace`,
    [oids],
  );
  const byName = new Map(r.tables.map((t) => [`${t.source.schema}\u0000${t.source.name}`, t.name]));
  const seen = new Map<string, { inserted: number; updated: number; deleted: number }>();
  const wrong: string[] = [];
  for (const row of roots.rows) {
    const c = diff.get(row.oid)!;
    if (row.schema === 'cutover') {
      if (c.deleted > 0) wrong.push(`${c.relation}: ${c.deleted} row(s) deleted from the control schema`);
      continue;
    }
    const table = byName.get(`${row.schema}\u0000${row.name}`);
    if (!table) {
      wrong.push(`${c.relation}: changed (${c.inserted} inserted, ${c.updated} updated, ${c.deleted} deleted) but is no plan table`);
      continue;
    }
    const s = seen.get(table) ?? { inserted: 0, updated: 0, deleted: 0 };
    seen.set(table, { inserted: s.inserted + c.inserted, updated: s.updated + c.updated, deleted: s.deleted + c.deleted });
  }
  for (const t of r.tables) {
    const got = seen.get(t.name) ?? { inserted: 0, updated: 0, deleted: 0 };
    const want = expected.get(t.name) ?? { inserted: 0, deleted: 0 };
    if (got.inserted !== want.inserted || got.deleted !== want.deleted || got.updated !== 0) {
      wrong.push(
        `${t.name}: the transaction inserted ${got.inserted}, updated ${got.updated}, deleted ${got.deleted}; expected ${want.inserted} inserted, 0 updated, ${want.deleted} deleted`,
      );
    }
  }
  return { counts: [...diff.values()].sort((a, b) => a.relation.localeCompare(b.relation)), wrong };
}
