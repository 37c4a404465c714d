// Erasure requests applied to production's rows: after a restore (inside the restore's transaction,
// every subject a register names) and after publish (the erasure steps, only the subjects this run
// moved, their Pilot keys translated through the manifest / id map). Every register of the plan is
// read again now (db: source from the Pilot, db: target from production), and each subject's row in
// the subjects table and every plan table row that reaches it through foreign keys (production's)
// is deleted, children first — or, for a table in erasure.anonymize, kept with the named columns set.
// Each application is logged to cutover.erasure_log. The proofs are separate queries that do not use
// the erased key sets: after a restore, no subject row with an erased key is left and no plan table
// holds a row whose foreign key points at a missing row; after publish (verifyMovedErasures), the
// same read from the log in a later statement, plus a fresh walk from kept (anonymized) rows.
import type { Client } from 'pg';
import type { ErasureApplication } from '../../common/results';
import type { AnonymizeValue } from './resolve-rules';
import { PERSISTED_PAIRS } from './row-identity';
import { planError } from '../errors';
import { ident, qualified } from './connect';
import { copyQuery } from './copy';
import { fkEquals, keyList, slotList, slotsEqual } from './keys';
import type { Resolved, ResolvedTable } from './resolve';

/** Rounds of "rows referencing erased rows" (one FK level each); a longer chain is refused, nothing committed. */
const MAX_ROUNDS = 100;
/** Applications listed in the result (all are logged in cutover.erasure_log). */
const LISTED = 100;

const erased = (t: ResolvedTable) => `pg_temp.${ident(`cutover_er_${t.index}`)}`;
const REQUESTS = 'pg_temp.cutover_erase';

/** A foreign key between two plan tables (production's constraint), child → parent. */
interface Edge {
  child: ResolvedTable;
  fk: ResolvedTable['target']['foreignKeys'][number];
  parent: ResolvedTable;
}

function planEdges(r: Resolved): Edge[] {
  const byName = new Map(r.tables.map((t) => [t.name, t]));
  return r.tables.flatMap((child) =>
    child.target.foreignKeys.flatMap((fk) => {
      const parent = byName.get(fk.refTable);
      return parent ? [{ child, fk, parent }] : [];
    }),
  );
}

/** Runs `step` (rows it added) over every edge, round after round, until a round adds none; `stuck` after MAX_ROUNDS. */
async function untilSettled(r: Resolved, stuck: string, step: (e: Edge) => Promise<number>): Promise<void> {
  const edges = planEdges(r);
  for (let round = 0, grew = true; grew; round++) {
    if (round === MAX_ROUNDS) throw planError(stuck);
    grew = false;
    for (const e of edges) if ((await step(e)) > 0) grew = true;
  }
}

/** Rows of the child whose foreign key points at no parent row. */
async function orphans(db: Client, { child, fk, parent }: Edge): Promise<number> {
  const res = await db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${qualified(child.target.schema, child.target.name)} c
      WHERE ${fk.columns.map((x) => `c.${ident(x)} IS NOT NULL`).join(' AND ')}
        AND NOT EXISTS (SELECT 1 FROM ${qualified(parent.target.schema, parent.target.name)} p WHERE ${fkEquals(fk, 'p', 'c')})`,
  );
  return Number(res.rows[0].n);
}

export interface Reapplied {
  requests: number; // distinct subject keys the registers name
  applied: number; // subjects this application reached (after publish: moved by this run), logged now
  applications: ErasureApplication[];
  more: number;
  rows: Record<string, number>; // table -> rows erased (deleted or anonymized)
  anonymized: Record<string, number>; // table -> rows anonymized (kept)
}

/** Steps that apply erasures after publish: their log rows say which subjects this run already erased. */
export const AFTER_PUBLISH_STEPS = ['erasure', 'erasure-final'];

/** Within the caller's transaction on production (`db`); `source` reads db: source registers. After a restore: every subject. */
export async function reapplyErasures(db: Client, source: Client, r: Resolved, runKey: string, step: string): Promise<Reapplied> {
  return applyErasures(db, source, r, { runKey, step, scope: 'all', action: 'erased-after-restore', anonymizedAction: 'anonymized-after-restore', anonymize: anonymizeRules(r) });
}

/** The plan's erasure.anonymize, by table name. */
export const anonymizeRules = (r: Resolved) => r.rules.anonymize.map((a) => ({ table: a.table.name, columns: a.columns }));

/** Inside the transaction that applied them: the rows an application reached in `t` (deleted or anonymized). */
export const erasedRows = (t: ResolvedTable) => erased(t);

export interface ErasureScope {
  runKey: string;
  step: string;
  /** all: every production subject row a register names (restore); moved: only subjects this run moved, keys translated. */
  scope: 'all' | 'moved';
  action: string; // erasure_log.action for deleted rows
  anonymizedAction?: string; // … and for anonymized ones (default anonymized-after-publish)
  anonymize?: { table: string; columns: Record<string, AnonymizeValue> }[];
}

const MOVED = 'pg_temp.cutover_moved';

export async function applyErasures(db: Client, source: Client, r: Resolved, o: ErasureScope): Promise<Reapplied> {
  const { runKey, step } = o;
  const { subjects, registers } = r.rules;
  const none: Reapplied = { requests: 0, applied: 0, applications: [], more: 0, rows: {}, anonymized: {} };
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
  for (const t of r.tables) {
    const cols = t.key.map((k, i) => `k${i} ${t.columns.find((c) => c.name === k)!.type}`).join(', ');
    await db.query(`CREATE TEMP TABLE ${ident(`cutover_er_${t.index}`)} (${cols}, subject ${type}) ON COMMIT DROP`);
  }
  const s = subjects.table;
  const slots = (t: ResolvedTable) => t.key.map((_, i) => `k${i}`).join(', ');
  if (o.scope === 'all') {
    await db.query(
      `INSERT INTO ${erased(s)} (${slots(s)}, subject) SELECT ${keyList('p', s.key)}, p.${ident(subjects.key)}
         FROM ${qualified(s.target.schema, s.target.name)} p WHERE p.${ident(subjects.key)} IN (SELECT subject FROM ${REQUESTS})`,
    );
  } else {
    await loadMovedSubjects(db, r, runKey, type);
    // Only rows still in production (an earlier pass, or production itself, may have deleted them).
    await db.query(
      `INSERT INTO ${erased(s)} (${slots(s)}, subject) SELECT ${slotList('m', 'k', s.key)}, m.subject FROM ${MOVED} m
        WHERE m.subject IN (SELECT subject FROM ${REQUESTS})
          AND EXISTS (SELECT 1 FROM ${qualified(s.target.schema, s.target.name)} p WHERE ${slotsEqual('m', 'k', 'p', s.key)})`,
    );
  }
  await untilSettled(
    r,
    `erasure after restore did not settle in ${MAX_ROUNDS} rounds (a chain of rows through foreign keys is longer than that); nothing committed`,
    async ({ child, fk, parent }) =>
      (
        await db.query(
          `INSERT INTO ${erased(child)} (${slots(child)}, subject)
           SELECT DISTINCT ON (${keyList('c', child.key)}) ${keyList('c', child.key)}, d.subject
             FROM ${qualified(child.target.schema, child.target.name)} c
             JOIN ${qualified(parent.target.schema, parent.target.name)} p ON ${fkEquals(fk, 'p', 'c')}
             JOIN ${erased(parent)} d ON ${slotsEqual('d', 'k', 'p', parent.key)}
            WHERE NOT EXISTS (SELECT 1 FROM ${erased(child)} o WHERE ${slotsEqual('o', 'k', 'c', child.key)})`,
        )
      ).rowCount ?? 0,
  );

  // Anonymized tables first (their rows stay; FK columns into deleted rows are set null by rule),
  // then children first; cycle-closing columns of doomed rows cleared before any delete (as rollback does).
  const rows: Record<string, number> = {};
  const anonymized: Record<string, number> = {};
  const anon = new Map((o.anonymize ?? []).map((a) => [a.table, a.columns]));
  // Rows an earlier pass already anonymized were needed to reach their children (done): they are not changed again.
  for (const t of r.tables) {
    const cols = anon.get(t.name);
    if (!cols) continue;
    const { differs, values } = anonymizeSql(t, cols, 'p');
    await db.query(`DELETE FROM ${erased(t)} d USING ${qualified(t.target.schema, t.target.name)} p WHERE ${slotsEqual('d', 'k', 'p', t.key)} AND NOT ${differs}`, values);
  }
  for (const t of r.tables) {
    const cols = anon.get(t.name);
    if (!cols) continue;
    const { set, differs, values } = anonymizeSql(t, cols, 'p');
    const res = await db.query(
      `UPDATE ${qualified(t.target.schema, t.target.name)} p SET ${set} FROM ${erased(t)} d WHERE ${slotsEqual('d', 'k', 'p', t.key)} AND ${differs}`,
      values,
    );
    rows[t.name] = anonymized[t.name] = res.rowCount ?? 0;
  }
  for (const t of r.tables.filter((x) => x.deferred.length > 0 && !anon.has(x.name))) {
    const cols = [...new Set(t.deferred.flatMap((fk) => fk.columns))];
    await db.query(
      `UPDATE ${qualified(t.target.schema, t.target.name)} p SET ${cols.map((c) => `${ident(c)} = NULL`).join(', ')} FROM ${erased(t)} d WHERE ${slotsEqual('d', 'k', 'p', t.key)}`,
    );
  }
  for (const t of [...r.tables].reverse().filter((x) => !anon.has(x.name))) {
    const res = await db.query(`DELETE FROM ${qualified(t.target.schema, t.target.name)} p USING ${erased(t)} d WHERE ${slotsEqual('d', 'k', 'p', t.key)}`);
    rows[t.name] = res.rowCount ?? 0;
  }

  // One log row per request and table it reached (a request that reached nothing: one row, 0 rows).
  // After publish, a pass that finds nothing new for a subject already logged by this run logs nothing.
  const union = r.tables
    .map((t) => `SELECT subject, ${literal(t.name)} AS table_name, ${literal(anon.has(t.name) ? (o.anonymizedAction ?? 'anonymized-after-publish') : o.action)} AS action, count(*)::int AS n FROM ${erased(t)} GROUP BY subject`)
    .join(' UNION ALL ');
  const requested = o.scope === 'all' ? REQUESTS : `(SELECT * FROM ${REQUESTS} WHERE subject IN (SELECT subject FROM ${MOVED}))`;
  const logged = `EXISTS (SELECT 1 FROM cutover.erasure_log l WHERE l.run_key = $1 AND l.step = ANY($3) AND l.subject = to_jsonb(q.subject))`;
  // After publish, rows found by an earlier pass are gone: a table's count here is what this pass changed.
  const changed = o.scope === 'all' ? '' : `AND NOT (${logged} AND coalesce(h.n, 0) = 0)`;
  const prodKeys = o.scope === 'all' ? `${erased(s)} e` : `${MOVED} e`;
  const log = await db.query<{ register: string; subject: string; production: unknown; rows: Record<string, number>; total: number }>(
    `WITH req AS (SELECT subject, string_agg(DISTINCT register, ', ' ORDER BY register) AS register FROM ${requested} q GROUP BY subject),
          hit AS (SELECT subject, table_name, action, n FROM (${union}) u),
          prod AS (SELECT subject, min(jsonb_build_array(${slotList('e', 'k', s.key)})::text)::jsonb AS key FROM ${prodKeys} GROUP BY subject),
          todo AS (SELECT q.subject, q.register, x.key AS production, h.table_name, h.action, h.n
                     FROM req q LEFT JOIN prod x ON x.subject = q.subject LEFT JOIN hit h ON h.subject = q.subject
                    WHERE true ${changed}),
          ins AS (INSERT INTO cutover.erasure_log (run_key, subject, production_subject, table_name, rows, action, register, step)
                  SELECT $1, to_jsonb(t.subject), t.production, coalesce(t.table_name, ${literal(s.name)}), coalesce(t.n, 0), coalesce(t.action, ${literal(o.action)}), t.register, $2
                    FROM todo t)
     SELECT t.register, t.subject::text AS subject, t.production, coalesce(jsonb_object_agg(t.table_name, t.n) FILTER (WHERE t.table_name IS NOT NULL), '{}') AS rows,
            (count(*) OVER ())::int AS total
       FROM todo t GROUP BY t.register, t.subject, t.production ORDER BY t.subject::text LIMIT ${LISTED}`,
    o.scope === 'all' ? [runKey, step] : [runKey, step, AFTER_PUBLISH_STEPS],
  );
  const applied = log.rows[0]?.total ?? 0;
  return {
    requests,
    applied,
    applications: log.rows.map((x) => ({ register: x.register, subject: x.subject, ...(o.scope === 'moved' ? { productionSubject: JSON.stringify(x.production) } : {}), rows: x.rows })),
    more: Math.max(0, (o.scope === 'all' ? requests : applied) - LISTED),
    rows,
    anonymized,
  };
}

/**
 * The production rows of the subjects this run moved that a register names (every use of them is
 * about requested subjects; the others would only be copied here to be filtered out): their
 * production key (k0…) and their subject key as the Pilot knows it (what registers hold): the pair
 * activities/db/row-identity.ts records for every moved row. A subject key that is not a key column is copied as is:
 * read from the production row.
 */
async function loadMovedSubjects(db: Client, r: Resolved, runKey: string, type: string): Promise<void> {
  const { table: t, key } = r.rules.subjects!;
  const colType = (k: string) => t.columns.find((c) => c.name === k)!.type;
  await db.query(`CREATE TEMP TABLE cutover_moved (subject ${type}, ${t.key.map((k, i) => `k${i} ${colType(k)}`).join(', ')}) ON COMMIT DROP`);
  // Pilot key → Production key of every moved row, by the one identity model (activities/db/row-identity.ts).
  const [oldKey, newKey, from] = ['old_key', 'new_key', `(${PERSISTED_PAIRS})`];
  const prodSlots = t.key.map((k, i) => `(x.${newKey}->>${i})::${colType(k)}`);
  const at = t.key.indexOf(key);
  const subject = at >= 0 ? `(x.${oldKey}->>${at})::${type}` : `p.${ident(key)}`;
  const join = at >= 0 ? '' : `JOIN ${qualified(t.target.schema, t.target.name)} p ON ${t.key.map((k, i) => `p.${ident(k)} = ${prodSlots[i]}`).join(' AND ')}`;
  await db.query(
    `INSERT INTO ${MOVED} SELECT ${subject}, ${prodSlots.join(', ')} FROM ${from} x ${join} WHERE x.outcome = 'moved'
        AND ${subject} IN (SELECT subject FROM ${REQUESTS})`,
    [runKey, t.name],
  );
}

/** SET clause, "differs from the anonymized values" predicate and their bound values for one table. */
export function anonymizeSql(t: ResolvedTable, columns: Record<string, AnonymizeValue>, alias: string, first = 1): { set: string; differs: string; values: string[] } {
  const values: string[] = [];
  const exprs = Object.entries(columns).map(([c, v]) => {
    const type = t.columns.find((x) => x.name === c)!.type;
    if (v === null) return { c, e: `NULL::${type}` };
    values.push(String(v));
    return { c, e: `$${first + values.length - 1}::${type}` };
  });
  return {
    set: exprs.map((x) => `${ident(x.c)} = ${x.e}`).join(', '),
    differs: `(${exprs.map((x) => `${alias}.${ident(x.c)} IS DISTINCT FROM ${x.e}`).join(' OR ')})`,
    values,
  };
}

/**
 * After a restore, inside its transaction and independent of the statements that erased: the
 * subjects table's rows with a requested key are gone — or, anonymized, hold the anonymized values;
 * a fresh walk down the foreign keys from what is left of them finds only anonymized rows holding
 * their values; and no plan table row has a foreign key into a plan table that finds no row.
 * Returns what is wrong.
 */
export async function verifyErasures(db: Client, r: Resolved): Promise<string[]> {
  const { subjects, registers } = r.rules;
  if (!subjects || registers.length === 0) return [];
  const s = subjects.table;
  const walk = await residueWalk(db, r, new Map(anonymizeRules(r).map((a) => [a.table, a.columns])), 'cutover_rr_', (seen) =>
    db.query(`INSERT INTO ${seen} SELECT ${keyList('p', s.key)} FROM ${qualified(s.target.schema, s.target.name)} p
               WHERE EXISTS (SELECT 1 FROM ${REQUESTS} q WHERE q.subject = p.${ident(subjects.key)})`),
  );
  for (const e of planEdges(r)) {
    const n = await orphans(db, e);
    if (n > 0) walk.problems.push(`${e.child.name}: ${n} row(s) reference a missing ${e.parent.name} row (FK ${e.fk.name})`);
  }
  return walk.problems;
}

/**
 * Inside the caller's transaction: `seed` puts the subjects table rows of erased subjects still in
 * production into the table it is given; every row reachable from them down the plan's foreign keys
 * is collected the same way, round after round. Rows left must be anonymized tables' rows holding
 * their values (a subjects row left counts when its table is not anonymized).
 */
async function residueWalk(
  db: Client,
  r: Resolved,
  anon: Map<string, Record<string, AnonymizeValue>>,
  prefix: string,
  seed: (seen: string) => Promise<{ rowCount: number | null }>,
): Promise<{ residue: number; problems: string[] }> {
  const s = r.rules.subjects!.table;
  const seen = (t: ResolvedTable) => `pg_temp.${ident(`${prefix}${t.index}`)}`;
  const problems: string[] = [];
  let residue = 0;
  const found = (n: number, what: string) => {
    if (n > 0) problems.push(what);
    residue += n;
  };
  for (const t of r.tables) {
    await db.query(`CREATE TEMP TABLE ${ident(`${prefix}${t.index}`)} ON COMMIT DROP AS SELECT ${t.key.map((k, i) => `p.${ident(k)} AS k${i}`).join(', ')} FROM ${qualified(t.target.schema, t.target.name)} p LIMIT 0`);
  }
  const seeded = (await seed(seen(s))).rowCount ?? 0;
  if (!anon.has(s.name)) found(seeded, `${s.name}: ${seeded} row(s) of erased subjects are still there`);
  await untilSettled(
    r,
    `erasure residue walk did not settle in ${MAX_ROUNDS} rounds`,
    async ({ child, fk, parent }) =>
      (
        await db.query(
          `INSERT INTO ${seen(child)} SELECT ${keyList('c', child.key)} FROM ${qualified(child.target.schema, child.target.name)} c
            WHERE EXISTS (SELECT 1 FROM ${qualified(parent.target.schema, parent.target.name)} p JOIN ${seen(parent)} v ON ${slotsEqual('v', 'k', 'p', parent.key)} WHERE ${fkEquals(fk, 'p', 'c')})
              AND NOT EXISTS (SELECT 1 FROM ${seen(child)} o WHERE ${slotsEqual('o', 'k', 'c', child.key)})`,
        )
      ).rowCount ?? 0,
  );
  for (const t of r.tables) {
    const cols = anon.get(t.name);
    const from = `${qualified(t.target.schema, t.target.name)} p JOIN ${seen(t)} v ON ${slotsEqual('v', 'k', 'p', t.key)}`;
    if (cols) {
      const { differs, values } = anonymizeSql(t, cols, 'p');
      const n = Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${from} WHERE ${differs}`, values)).rows[0].n);
      found(n, `${t.name}: ${n} row(s) reached from erased subjects do not hold the anonymized values`);
    } else if (t !== s) {
      const n = Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${from}`)).rows[0].n);
      found(n, `${t.name}: ${n} row(s) still reach an erased subject through foreign keys`);
    }
  }
  return { residue, problems };
}

export interface Residue {
  residue: number; // rows of erased subjects still in production (or anonymized rows not holding their values)
  subjects: number; // subjects this run erased after publish, read from cutover.erasure_log
  problems: string[];
  checks: string[]; // what was checked, in words
}

/**
 * After publish, in statements of their own (after COMMIT; the erasure's temp tables are gone): the
 * subjects this run erased, read from cutover.erasure_log by their production key, (1) have no row
 * left in the subjects table — or, anonymized, their row holds the anonymized values; (2) a fresh
 * walk down the foreign keys from those rows still there finds only anonymized rows holding their
 * values; (3) no plan table row has a foreign key into a plan table that finds no row.
 */
export async function verifyMovedErasures(db: Client, r: Resolved, runKey: string, anonymize: { table: string; columns: Record<string, AnonymizeValue> }[]): Promise<Residue> {
  const { subjects } = r.rules;
  const none: Residue = { residue: 0, subjects: 0, problems: [], checks: [] };
  if (!subjects) return none;
  const s = subjects.table;
  const anon = new Map(anonymize.map((a) => [a.table, a.columns]));
  await db.query('BEGIN');
  try {
    const keyType = (k: string) => s.columns.find((c) => c.name === k)!.type;
    const walk = await residueWalk(db, r, anon, 'cutover_rv_', (seen) =>
      db.query(
        `WITH erased AS (SELECT DISTINCT production_subject AS key FROM cutover.erasure_log WHERE run_key = $1 AND step = ANY($2) AND production_subject IS NOT NULL)
         INSERT INTO ${seen} SELECT ${s.key.map((k, i) => `(e.key->>${i})::${keyType(k)}`).join(', ')} FROM erased e
          WHERE EXISTS (SELECT 1 FROM ${qualified(s.target.schema, s.target.name)} p WHERE ${s.key.map((k, i) => `p.${ident(k)} = (e.key->>${i})::${keyType(k)}`).join(' AND ')})`,
        [runKey, AFTER_PUBLISH_STEPS],
      ),
    );
    const subjectsLogged = Number(
      (await db.query<{ n: string }>('SELECT count(DISTINCT production_subject)::text AS n FROM cutover.erasure_log WHERE run_key = $1 AND step = ANY($2)', [runKey, AFTER_PUBLISH_STEPS])).rows[0].n,
    );
    const { problems } = walk;
    let { residue } = walk;
    const found = (n: number, what: string) => {
      if (n > 0) problems.push(what);
      residue += n;
    };
    for (const e of planEdges(r)) {
      // A validated constraint enforced on every partition already guarantees this (as validate
      // relies on): checking it would scan the whole production table, whatever the run moved.
      if (e.fk.validated && !e.fk.missingOn?.length) continue;
      const n = await orphans(db, e);
      found(n, `${e.child.name}: ${n} row(s) reference a missing ${e.parent.name} row (FK ${e.fk.name})`);
    }
    await db.query('COMMIT');
    return {
      residue,
      subjects: subjectsLogged,
      problems,
      checks: [
        `${subjectsLogged} subject(s) erased by this run, read from cutover.erasure_log by production key`,
        anon.has(s.name) ? `their ${s.name} rows hold the anonymized values` : `none of them has a row left in ${s.name}`,
        'a fresh walk down the foreign keys from what is left of them finds only anonymized rows holding their values',
        'no plan table row references a missing row (checked where no validated foreign key guarantees it)',
      ],
    };
  } catch (e) {
    await db.query('ROLLBACK');
    throw e;
  }
}

/** A plan table's canonical name as an SQL string literal. */
function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
