// Erasure requests found at cleanup (and in the dry run), in staging, before the subjects are left
// behind: the rows that cannot exist without an erased subject (reached through foreign keys an
// erasure deletes through, db/erasure-reapply.ts edgeAction) are left behind by the cleanup cascade
// as before; a row that only holds a nullable reference to one of them (a colleague's task the
// person was assigned to) gets that reference set to NULL here and moves — the same rule as erasure
// in production, so erasing one person does not keep another person's data out of Production.
// Test data and missing consent keep leaving behind everything that references them.
import type { Client } from 'pg';
import { ident } from './connect';
import { edgeAction } from './erasure-reapply';
import { fkEquals, keyList, slotsEqual } from './keys';
import type { Resolved, ResolvedTable } from './resolve';
import type { StagingNames } from './staging';
import { planIssue } from '../errors';

const MAX_ROUNDS = 100;
const LOG = 'pg_temp.cutover_cn_log';

export interface StagingNullified {
  rows: Record<string, number>; // table -> staged rows whose reference to an erased subject's row was set to NULL
}

/** Inside the caller's transaction; names.erased() holds the requested subjects. Leaves LOG (subject, register, table_name, n) for the erasure log. */
export async function nullifyReferencesToErased(db: Client, r: Resolved, names: StagingNames): Promise<StagingNullified> {
  const { subjects } = r.rules;
  const rows: Record<string, number> = {};
  if (!subjects) return { rows };
  const s = subjects.table;
  const doomed = (t: ResolvedTable) => `pg_temp.${ident(`cutover_cd_${t.index}`)}`;
  const data = (t: ResolvedTable) => names.data(t.index, t.name);
  for (const t of r.tables) {
    await db.query(`DROP TABLE IF EXISTS ${doomed(t)}`);
    await db.query(
      `CREATE TEMP TABLE ${ident(`cutover_cd_${t.index}`)} (${t.key.map((k, i) => `k${i} ${t.columns.find((c) => c.name === k)!.type}`).join(', ')}, subject jsonb) ON COMMIT DROP`,
    );
  }
  await db.query(`DROP TABLE IF EXISTS ${LOG}`);
  await db.query(`CREATE TEMP TABLE cutover_cn_log (subject jsonb, register text, table_name text, n int) ON COMMIT DROP`);
  // Rows added to each doomed table so far (a version per table): an edge runs again only when its
  // parent's set grew since it last ran, so the round that only confirms nothing moves scans nothing.
  const grown = new Map<ResolvedTable, number>();
  // Statistics on each doomed set as it grows: without them PostgreSQL guesses a thousand rows of
  // 200 distinct keys and hashes the whole staged table against it instead of the few keys (a hash
  // that outgrows work_mem, and grows faster than the rows, on a large staging).
  const grew = async (t: ResolvedTable, n: number | null) => {
    if (!n) return false;
    grown.set(t, (grown.get(t) ?? 0) + 1);
    await db.query(`ANALYZE ${doomed(t)}`);
    return true;
  };
  // The child's rows (alias c) that reference a doomed parent row (alias d): straight onto the doomed keys when the FK references the parent's key.
  const parentJoin = (fk: { columns: string[]; refColumns: string[] }, parent: ResolvedTable) => {
    const direct = directSlots(fk, parent);
    if (direct) return `JOIN ${doomed(parent)} d ON ${direct}`;
    return `JOIN ${data(parent)} p ON ${fkEquals(fk, 'p', 'c')} JOIN ${doomed(parent)} d ON ${slotsEqual('d', 'k', 'p', parent.key)}`;
  };
  const first = await db.query(
    `INSERT INTO ${doomed(s)} SELECT ${keyList('x', s.key)}, to_jsonb(x.${ident(subjects.key)}) FROM ${data(s)} x
      WHERE x.${ident(subjects.key)} IN (SELECT subject FROM ${names.erased()})`,
  );
  await grew(s, first.rowCount);
  // Foreign keys (production's) between plan tables whose columns are staged on both sides.
  const byName = new Map(r.tables.map((t) => [t.name, t]));
  const edges = r.tables.flatMap((child) =>
    child.target.foreignKeys.flatMap((fk) => {
      const parent = byName.get(fk.refTable);
      const staged =
        parent &&
        fk.columns.every((c) => child.columns.some((x) => x.name === c)) &&
        fk.refColumns.every((c) => parent.columns.some((x) => x.name === c));
      return staged ? [{ child, fk, parent, action: edgeAction(r, child, fk), seen: 0 }] : [];
    }),
  );
  for (let round = 0, ran = true; ran; round++) {
    if (round === MAX_ROUNDS)
      throw planIssue(
        'erasure',
        `erasure in staging did not settle in ${MAX_ROUNDS} rounds (a chain of rows through foreign keys is longer than that)`,
      );
    ran = false;
    for (const e of edges.filter((x) => x.action === 'delete')) {
      const version = grown.get(e.parent) ?? 0;
      if (version === e.seen) continue; // its parent's doomed rows are the ones it already followed
      e.seen = version;
      ran = true;
      const { child, fk, parent } = e;
      const res = await db.query(
        `INSERT INTO ${doomed(child)} SELECT DISTINCT ON (${keyList('c', child.key)}) ${keyList('c', child.key)}, d.subject
           FROM ${data(child)} c ${parentJoin(fk, parent)}
          WHERE NOT EXISTS (SELECT 1 FROM ${doomed(child)} o WHERE ${slotsEqual('o', 'k', 'c', child.key)})`,
      );
      await grew(child, res.rowCount);
    }
  }
  for (const { child, fk, parent } of edges.filter((e) => e.action === 'nullify')) {
    if (!grown.get(parent)) continue; // no doomed parent row: nothing references one
    const direct = directSlots(fk, parent);
    const res = await db.query(
      `WITH n AS (UPDATE ${data(child)} c SET ${fk.columns.map((x) => `${ident(x)} = NULL`).join(', ')}
                    FROM ${direct ? `${doomed(parent)} d` : `${data(parent)} p JOIN ${doomed(parent)} d ON ${slotsEqual('d', 'k', 'p', parent.key)}`}
                   WHERE ${direct ?? fkEquals(fk, 'p', 'c')} AND NOT EXISTS (SELECT 1 FROM ${doomed(child)} o WHERE ${slotsEqual('o', 'k', 'c', child.key)})
                  RETURNING d.subject)
       INSERT INTO ${LOG} SELECT n.subject, (SELECT string_agg(DISTINCT e.register, ', ' ORDER BY e.register) FROM ${names.erased()} e WHERE e.subject::text = n.subject #>> '{}'), $1, count(*) FROM n GROUP BY n.subject`,
      [child.name],
    );
    if ((res.rowCount ?? 0) > 0) {
      const n = Number(
        (await db.query<{ n: string }>(`SELECT coalesce(sum(n), 0)::text AS n FROM ${LOG} WHERE table_name = $1`, [child.name])).rows[0].n,
      );
      rows[child.name] = n;
    }
  }
  return { rows };
}

/**
 * c.<fk column> = d.k<i> for each referenced column, when every one is a column of the parent's key:
 * the doomed set holds those keys, so the staged parent table need not be read. Null otherwise
 * (an FK onto another unique column goes through the parent's staged rows).
 */
function directSlots(fk: { columns: string[]; refColumns: string[] }, parent: ResolvedTable): string | null {
  const at = fk.refColumns.map((c) => parent.key.indexOf(c));
  if (at.some((i) => i < 0)) return null;
  return fk.columns.map((c, i) => `c.${ident(c)} = d.k${at[i]}`).join(' AND ');
}

/** The erasure_log rows of the references set to NULL in staging (cleanup only; the dry run logs nothing). */
export async function logStagingNullified(db: Client, runKey: string): Promise<void> {
  await db.query(
    `INSERT INTO cutover.erasure_log (run_key, subject, table_name, rows, action, register, step)
     SELECT $1, subject, table_name, sum(n)::int, 'nullified (in staging; the row moves)', min(register), 'cleanup'
       FROM ${LOG} GROUP BY subject, table_name`,
    [runKey],
  );
}
