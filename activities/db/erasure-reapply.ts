// Erasure requests re-applied to production after a restore, inside the restore's transaction. A
// restore brings production back to the backup, from before requests that arrived since: every
// register of the plan is read again now (db: source from the Pilot, db: target from production),
// and each subject key it names (as the Pilot knows it) is applied to production's rows: the
// subject's row in the subjects table and every plan table row that reaches it through foreign
// keys (production's), children first. Each application is logged to cutover.erasure_log. The
// proof is a separate query that does not use the erased key sets: no subject row with an erased
// key is left, and no plan table holds a row whose foreign key points at a missing row — so
// nothing that reached an erased subject remains.
import type { Client } from 'pg';
import type { ErasureApplication } from '../../common/results';
import { planError } from '../errors';
import { ident, qualified } from './connect';
import { copyQuery } from './copy';
import { fkEquals, keyList, slotsEqual } from './keys';
import type { Resolved, ResolvedTable } from './resolve';

/** Rounds of "rows referencing erased rows" (one FK level each); a longer chain is refused, nothing committed. */
const MAX_ROUNDS = 100;
/** Applications listed in the result (all are logged in cutover.erasure_log). */
const LISTED = 100;

const erased = (t: ResolvedTable) => `pg_temp.${ident(`cutover_er_${t.index}`)}`;
const REQUESTS = 'pg_temp.cutover_erase';

export interface Reapplied {
  requests: number;
  applications: ErasureApplication[];
  more: number;
  rows: Record<string, number>; // table -> rows erased
}

/** Within the caller's transaction on production (`db`); `source` reads db: source registers. */
export async function reapplyErasures(db: Client, source: Client, r: Resolved, runKey: string, step: string): Promise<Reapplied> {
  const { subjects, registers } = r.rules;
  const none: Reapplied = { requests: 0, applications: [], more: 0, rows: {} };
  if (!subjects || registers.length === 0) return none;
  const type = subjects.table.columns.find((c) => c.name === subjects.key)!.type;
  await db.query(`CREATE TEMP TABLE cutover_erase (subject ${type}, register text) ON COMMIT DROP`);
  for (const reg of registers) {
    const label = `${reg.db}:${reg.table.qualified}`;
    const from = `SELECT DISTINCT r.${ident(reg.subject)} FROM ${qualified(reg.table.schema, reg.table.name)} r WHERE r.${ident(reg.subject)} IS NOT NULL`;
    if (reg.db === 'source') {
      await copyQuery(source, from, db, REQUESTS, ['subject']);
      await db.query(`UPDATE ${REQUESTS} SET register = $1 WHERE register IS NULL`, [label]);
    } else {
      await db.query(`INSERT INTO ${REQUESTS} (subject, register) SELECT s, $1 FROM (${from}) x(s)`, [label]);
    }
  }
  const requests = Number((await db.query<{ n: string }>(`SELECT count(DISTINCT subject)::text AS n FROM ${REQUESTS}`)).rows[0].n);
  if (requests === 0) return none;

  // Doomed rows per table, each tagged with the first subject that reached it.
  const byName = new Map(r.tables.map((t) => [t.name, t]));
  for (const t of r.tables) {
    const cols = t.key.map((k, i) => `k${i} ${t.columns.find((c) => c.name === k)!.type}`).join(', ');
    await db.query(`CREATE TEMP TABLE ${ident(`cutover_er_${t.index}`)} (${cols}, subject ${type}) ON COMMIT DROP`);
  }
  const s = subjects.table;
  const slots = (t: ResolvedTable) => t.key.map((_, i) => `k${i}`).join(', ');
  await db.query(
    `INSERT INTO ${erased(s)} (${slots(s)}, subject) SELECT ${keyList('p', s.key)}, p.${ident(subjects.key)}
       FROM ${qualified(s.target.schema, s.target.name)} p WHERE p.${ident(subjects.key)} IN (SELECT subject FROM ${REQUESTS})`,
  );
  for (let round = 0, moved = true; moved; round++) {
    if (round === MAX_ROUNDS) throw planError(`erasure after restore did not settle in ${MAX_ROUNDS} rounds (a chain of rows through foreign keys is longer than that); nothing committed`);
    moved = false;
    for (const child of r.tables) {
      for (const fk of child.target.foreignKeys) {
        const parent = byName.get(fk.refTable);
        if (!parent) continue;
        const res = await db.query(
          `INSERT INTO ${erased(child)} (${slots(child)}, subject)
           SELECT DISTINCT ON (${keyList('c', child.key)}) ${keyList('c', child.key)}, d.subject
             FROM ${qualified(child.target.schema, child.target.name)} c
             JOIN ${qualified(parent.target.schema, parent.target.name)} p ON ${fkEquals(fk, 'p', 'c')}
             JOIN ${erased(parent)} d ON ${slotsEqual('d', 'k', 'p', parent.key)}
            WHERE NOT EXISTS (SELECT 1 FROM ${erased(child)} o WHERE ${slotsEqual('o', 'k', 'c', child.key)})`,
        );
        if ((res.rowCount ?? 0) > 0) moved = true;
      }
    }
  }

  // Children first; cycle-closing columns of doomed rows cleared before any delete (as rollback does).
  const rows: Record<string, number> = {};
  for (const t of r.tables.filter((x) => x.deferred.length > 0)) {
    const cols = [...new Set(t.deferred.flatMap((fk) => fk.columns))];
    await db.query(
      `UPDATE ${qualified(t.target.schema, t.target.name)} p SET ${cols.map((c) => `${ident(c)} = NULL`).join(', ')} FROM ${erased(t)} d WHERE ${slotsEqual('d', 'k', 'p', t.key)}`,
    );
  }
  for (const t of [...r.tables].reverse()) {
    const res = await db.query(`DELETE FROM ${qualified(t.target.schema, t.target.name)} p USING ${erased(t)} d WHERE ${slotsEqual('d', 'k', 'p', t.key)}`);
    rows[t.name] = res.rowCount ?? 0;
  }

  // One log row per request and table it reached (a request that reached nothing: one row, 0 rows).
  const union = r.tables.map((t) => `SELECT subject, ${literal(t.name)} AS table_name, count(*)::int AS n FROM ${erased(t)} GROUP BY subject`).join(' UNION ALL ');
  const log = await db.query<{ register: string; subject: string; rows: Record<string, number> }>(
    `WITH req AS (SELECT subject, string_agg(DISTINCT register, ', ' ORDER BY register) AS register FROM ${REQUESTS} GROUP BY subject),
          hit AS (${union}),
          ins AS (INSERT INTO cutover.erasure_log (run_key, subject, table_name, rows, action, register, step)
                  SELECT $1, to_jsonb(q.subject), coalesce(h.table_name, ${literal(s.name)}), coalesce(h.n, 0), 'erased-after-restore', q.register, $2
                    FROM req q LEFT JOIN hit h ON h.subject = q.subject)
     SELECT q.register, q.subject::text AS subject, coalesce(jsonb_object_agg(h.table_name, h.n) FILTER (WHERE h.table_name IS NOT NULL), '{}') AS rows
       FROM req q LEFT JOIN hit h ON h.subject = q.subject GROUP BY q.register, q.subject ORDER BY q.subject::text LIMIT ${LISTED}`,
    [runKey, step],
  );
  return { requests, applications: log.rows.map((x) => ({ register: x.register, subject: x.subject, rows: x.rows })), more: Math.max(0, requests - LISTED), rows };
}

/**
 * Independent of the statements above: no subjects row with a requested key, and no plan table row
 * whose (non-null) foreign key into a plan table finds no row there. Returns what is wrong.
 */
export async function verifyErasures(db: Client, r: Resolved): Promise<string[]> {
  const { subjects, registers } = r.rules;
  if (!subjects || registers.length === 0) return [];
  const wrong: string[] = [];
  const s = subjects.table;
  const left = await db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${qualified(s.target.schema, s.target.name)} p WHERE EXISTS (SELECT 1 FROM ${REQUESTS} q WHERE q.subject = p.${ident(subjects.key)})`,
  );
  if (Number(left.rows[0].n) > 0) wrong.push(`${s.name}: ${left.rows[0].n} row(s) of erased subjects are still there`);
  const byName = new Map(r.tables.map((t) => [t.name, t]));
  for (const child of r.tables) {
    for (const fk of child.target.foreignKeys) {
      const parent = byName.get(fk.refTable);
      if (!parent) continue;
      const orphans = await db.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${qualified(child.target.schema, child.target.name)} c
          WHERE ${fk.columns.map((x) => `c.${ident(x)} IS NOT NULL`).join(' AND ')}
            AND NOT EXISTS (SELECT 1 FROM ${qualified(parent.target.schema, parent.target.name)} p WHERE ${fkEquals(fk, 'p', 'c')})`,
      );
      if (Number(orphans.rows[0].n) > 0) wrong.push(`${child.name}: ${orphans.rows[0].n} row(s) reference a missing ${parent.name} row (FK ${fk.name})`);
    }
  }
  return wrong;
}

/** A plan table's canonical name as an SQL string literal. */
function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
