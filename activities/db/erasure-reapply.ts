// Erasure requests applied to production's rows: after a restore (inside the restore's transaction)
// and after publish (the erasure steps). Every register of the plan is read again now (db: source
// from the Pilot, db: target from production) and each request is translated to production's
// identity first (db/erasure-subjects.ts: the one place that does). An erased subject's row in the
// subjects table goes, and so does every plan table row that cannot exist without it: rows reaching
// it through a NOT NULL foreign key (deleted, children first — or, for a table in erasure.anonymize,
// kept with the named columns set). A nullable reference to an erased row (an assignee, a reviewer)
// is set to NULL and its row stays: it belongs to someone else. erasure.references overrides either
// per foreign key. A subject merged into production's own row (ids: match) keeps that row (it is
// production's person); the rows this run moved that depend on it are erased the same way.
// Each application is logged to cutover.erasure_log per subject, table and action. The proofs are
// separate queries that do not use the erased key sets: after a restore, no subject row with an
// erased key is left and no plan table holds a row whose foreign key points at a missing row; after
// publish (verifyMovedErasures), the same read from the log in a later statement, plus a fresh walk
// from kept (anonymized) rows.
import type { Client } from 'pg';
import type { ErasureApplication } from '../../common/results';
import type { AnonymizeValue, ErasureAction } from './resolve-rules';
import { PERSISTED_PAIRS, persistedInsertedKeys } from './row-identity';
import { planIssue } from '../errors';
import { ident, qualified } from './connect';
import { copyQuery } from './copy';
import { fkEquals, keyList, slotList, slotsEqual } from './keys';
import type { Resolved, ResolvedTable } from './resolve';
import { AFTER_PUBLISH_STEPS, KEPT_MERGED, REQ, REQUESTS, SUBJECTS, translateSubjects, type ErasureWhen } from './erasure-subjects';
import { inTransaction } from './transaction';

export { AFTER_PUBLISH_STEPS, KEPT_MERGED };

/** Rounds of "rows referencing erased rows" (one FK level each); a longer chain is refused, nothing committed. */
const MAX_ROUNDS = 100;
/** Applications listed in the result (all are logged in cutover.erasure_log). */
const LISTED = 100;

const erased = (t: ResolvedTable) => `pg_temp.${ident(`cutover_er_${t.index}`)}`;
const nullified = (t: ResolvedTable) => `pg_temp.${ident(`cutover_en_${t.index}`)}`;
const runRows = (t: ResolvedTable) => `pg_temp.${ident(`cutover_eo_${t.index}`)}`;
/** Subjects merged into production's own row: the row stays, the run's rows depending on it are erased. */
const MERGED = 'pg_temp.cutover_er_merged';

/** A foreign key between two plan tables (production's constraint), child → parent, and what an erasure does through it. */
export interface Edge {
  child: ResolvedTable;
  fk: ResolvedTable['target']['foreignKeys'][number];
  parent: ResolvedTable;
  action: ErasureAction;
}

/**
 * Default: delete through a NOT NULL key (the row cannot exist without its parent), nullify a
 * nullable one — except into a table in erasure.anonymize, whose reached rows the plan asks to keep
 * anonymized (its "delete"); erasure.references overrides.
 */
export function edgeAction(r: Resolved, child: ResolvedTable, fk: Edge['fk']): ErasureAction {
  const override = r.rules.references.find((x) => x.table.name === child.name && x.fk.name === fk.name);
  if (override) return override.action;
  if (r.rules.anonymize.some((a) => a.table.name === child.name)) return 'delete';
  return fk.columns.every((c) => child.target.columns.find((x) => x.name === c)?.notNull === false) ? 'nullify' : 'delete';
}

export function planEdges(r: Resolved): Edge[] {
  const byName = new Map(r.tables.map((t) => [t.name, t]));
  return r.tables.flatMap((child) =>
    child.target.foreignKeys.flatMap((fk) => {
      const parent = byName.get(fk.refTable);
      return parent ? [{ child, fk, parent, action: edgeAction(r, child, fk) }] : [];
    }),
  );
}

/** Runs `step` (rows it added) over the edges, round after round, until a round adds none; `stuck` after MAX_ROUNDS. */
async function untilSettled(edges: Edge[], stuck: string, step: (e: Edge) => Promise<number>): Promise<void> {
  for (let round = 0, grew = true; grew; round++) {
    if (round === MAX_ROUNDS) throw planIssue('erasure', stuck);
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
  applied: number; // subjects this application reached (after publish: moved or merged by this run), logged now
  applications: ErasureApplication[];
  more: number;
  rows: Record<string, number>; // table -> rows erased (deleted or anonymized)
  anonymized: Record<string, number>; // table -> rows anonymized (kept)
  nullified: Record<string, number>; // table -> rows kept with their reference to an erased row set to NULL
}

/** Within the caller's transaction on production (`db`); `source` reads db: source registers. After a restore. */
export async function reapplyErasures(db: Client, source: Client, r: Resolved, runKey: string, step: string): Promise<Reapplied> {
  return applyErasures(db, source, r, { runKey, step, when: 'restore', anonymize: anonymizeRules(r) });
}

/** The plan's erasure.anonymize, by table name. */
export const anonymizeRules = (r: Resolved) => r.rules.anonymize.map((a) => ({ table: a.table.name, columns: a.columns }));

/** Inside the transaction that applied them: the rows an application reached in `t` (deleted or anonymized). */
export const erasedRows = (t: ResolvedTable) => erased(t);
/** … and the rows it kept with a reference set to NULL. */
export const nullifiedRows = (t: ResolvedTable) => nullified(t);

export interface ErasureScope {
  runKey: string;
  step: string;
  /** publish: only subjects this run moved or merged (keys translated); restore: see erasure-subjects.ts. */
  when: ErasureWhen;
  anonymize?: { table: string; columns: Record<string, AnonymizeValue> }[];
  /** Where a table's rows are (default: production's table); the restore preview passes the backup's rows. */
  rel?: (t: ResolvedTable) => string;
  /** false: nothing is written to cutover.erasure_log (the restore preview, rolled back anyway). */
  log?: boolean;
  /** An erasure replay after a restore from before the run's publish: nothing is translated through the run (db/erasure-subjects.ts). */
  runAbsent?: boolean;
}

/** erasure_log actions, by when and what happened to the row. */
export const erasureActions = (when: ErasureWhen) => ({
  deleted: `erased-after-${when}`,
  anonymized: `anonymized-after-${when}`,
  nullified: `nullified-after-${when}`,
});

export async function applyErasures(db: Client, source: Client, r: Resolved, o: ErasureScope): Promise<Reapplied> {
  const { runKey, step } = o;
  const rel = o.rel ?? ((t: ResolvedTable) => qualified(t.target.schema, t.target.name));
  const { subjects, registers, productionRegisters } = r.rules;
  const none: Reapplied = { requests: 0, applied: 0, applications: [], more: 0, rows: {}, anonymized: {}, nullified: {} };
  if (!subjects || registers.length + productionRegisters.length === 0) return none;
  const type = subjects.table.columns.find((c) => c.name === subjects.key)!.type;
  // side: whose key the request names (pilot: translated through the run's identity; production: as it is).
  await db.query(`CREATE TEMP TABLE cutover_erase (subject ${type}, register text, side text) ON COMMIT DROP`);
  for (const [reg, side] of [
    ...registers.map((x) => [x, 'pilot'] as const),
    ...productionRegisters.map((x) => [x, 'production'] as const),
  ]) {
    const label = `${reg.db}:${reg.table.qualified}`;
    const from = `SELECT DISTINCT r.${ident(reg.subject)} FROM ${qualified(reg.table.schema, reg.table.name)} r WHERE r.${ident(reg.subject)} IS NOT NULL`;
    if (reg.db === 'source') {
      await copyQuery(source, from, db, REQUESTS, ['subject']);
      await db.query(`UPDATE ${REQUESTS} SET register = $1, side = $2 WHERE register IS NULL`, [label, side]);
    } else {
      await db.query(`INSERT INTO ${REQUESTS} (subject, register, side) SELECT s, $1, $2 FROM (${from}) x(s)`, [label, side]);
    }
  }
  const { requests, anyLogged } = await translateSubjects(db, r, runKey, o.when, rel(subjects.table), o.runAbsent);
  if (requests === 0 && !anyLogged) return none;

  // Doomed rows per table, each tagged with the first request (rid) that reached it.
  for (const t of r.tables) {
    const cols = t.key.map((k, i) => `k${i} ${t.columns.find((c) => c.name === k)!.type}`).join(', ');
    await db.query(`CREATE TEMP TABLE ${ident(`cutover_er_${t.index}`)} (${cols}, rid int) ON COMMIT DROP`);
    await db.query(`CREATE TEMP TABLE ${ident(`cutover_en_${t.index}`)} (${cols}, rid int, edge int) ON COMMIT DROP`);
  }
  const s = subjects.table;
  const prodS = rel(s);
  const slots = (t: ResolvedTable) => t.key.map((_, i) => `k${i}`).join(', ');
  // Only rows still in production (an earlier pass, or production itself, may have deleted them).
  await db.query(
    `INSERT INTO ${erased(s)} (${slots(s)}, rid) SELECT DISTINCT ON (${slotList('m', 'k', s.key)}) ${slotList('m', 'k', s.key)}, m.rid FROM ${SUBJECTS} m
      WHERE m.how = 'erase' AND EXISTS (SELECT 1 FROM ${prodS} p WHERE ${slotsEqual('m', 'k', 'p', s.key)})
      ORDER BY ${slotList('m', 'k', s.key)}, m.rid`,
  );
  await db.query(
    `CREATE TEMP TABLE cutover_er_merged ON COMMIT DROP AS SELECT DISTINCT ON (${slotList('m', 'k', s.key)}) ${slotList('m', 'k', s.key)}, m.rid FROM ${SUBJECTS} m
      WHERE m.how = 'merged' AND EXISTS (SELECT 1 FROM ${prodS} p WHERE ${slotsEqual('m', 'k', 'p', s.key)})
      ORDER BY ${slotList('m', 'k', s.key)}, m.rid`,
  );
  const edges = planEdges(r);
  const merged = Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${MERGED}`)).rows[0].n);
  // The rows this run moved into each table that references the subjects table (only needed for merged subjects).
  if (merged > 0) for (const t of new Set(edges.filter((e) => e.parent === s).map((e) => e.child))) await loadRunRows(db, runKey, t);
  const mergedChildren = (e: Edge) =>
    `SELECT ${keyList('c', e.child.key)}, d.rid FROM ${rel(e.child)} c
       JOIN ${runRows(e.child)} o ON ${slotsEqual('o', 'k', 'c', e.child.key)}
       JOIN ${MERGED} d ON ${e.fk.columns.map((col, i) => `d.k${s.key.indexOf(e.fk.refColumns[i])} = c.${ident(col)}`).join(' AND ')}`;
  const mergedWorks = (e: Edge) => merged > 0 && e.parent === s && e.fk.refColumns.every((c) => s.key.includes(c));
  for (const e of edges.filter((x) => x.action === 'delete' && mergedWorks(x))) {
    await db.query(
      `INSERT INTO ${erased(e.child)} (${slots(e.child)}, rid) SELECT DISTINCT ON (${keyList('x', e.child.key)}) * FROM (${mergedChildren(e)}) x
        WHERE NOT EXISTS (SELECT 1 FROM ${erased(e.child)} o WHERE ${slotsEqual('o', 'k', 'x', e.child.key)})`,
    );
  }
  await untilSettled(
    edges.filter((e) => e.action === 'delete'),
    `erasure did not settle in ${MAX_ROUNDS} rounds (a chain of rows through foreign keys is longer than that); nothing committed`,
    async ({ child, fk, parent }) =>
      (
        await db.query(
          `INSERT INTO ${erased(child)} (${slots(child)}, rid)
           SELECT DISTINCT ON (${keyList('c', child.key)}) ${keyList('c', child.key)}, d.rid
             FROM ${rel(child)} c
             JOIN ${rel(parent)} p ON ${fkEquals(fk, 'p', 'c')}
             JOIN ${erased(parent)} d ON ${slotsEqual('d', 'k', 'p', parent.key)}
            WHERE NOT EXISTS (SELECT 1 FROM ${erased(child)} o WHERE ${slotsEqual('o', 'k', 'c', child.key)})`,
        )
      ).rowCount ?? 0,
  );

  const anon = new Map((o.anonymize ?? []).map((a) => [a.table, a.columns]));
  // Nullable references to erased rows (deleted or anonymized), from rows that stay: set to NULL.
  const nullifyEdges = edges.map((e, i) => ({ ...e, i })).filter((e) => e.action === 'nullify');
  for (const e of nullifyEdges) {
    const { child, fk, parent } = e;
    const stays = anon.has(child.name)
      ? 'true'
      : `NOT EXISTS (SELECT 1 FROM ${erased(child)} o WHERE ${slotsEqual('o', 'k', 'c', child.key)})`;
    await db.query(
      `INSERT INTO ${nullified(child)} (${slots(child)}, rid, edge)
       SELECT DISTINCT ON (${keyList('c', child.key)}) ${keyList('c', child.key)}, d.rid, ${e.i}
         FROM ${rel(child)} c
         JOIN ${rel(parent)} p ON ${fkEquals(fk, 'p', 'c')}
         JOIN ${erased(parent)} d ON ${slotsEqual('d', 'k', 'p', parent.key)}
        WHERE ${stays}`,
    );
    if (mergedWorks(e)) {
      await db.query(
        `INSERT INTO ${nullified(child)} (${slots(child)}, rid, edge) SELECT DISTINCT ON (${keyList('x', child.key)}) x.*, ${e.i} FROM (${mergedChildren(e)}) x
          WHERE NOT EXISTS (SELECT 1 FROM ${nullified(child)} o WHERE o.edge = ${e.i} AND ${slotsEqual('o', 'k', 'x', child.key)})
            AND ${anon.has(child.name) ? 'true' : `NOT EXISTS (SELECT 1 FROM ${erased(child)} o WHERE ${slotsEqual('o', 'k', 'x', child.key)})`}`,
      );
    }
  }

  // Anonymized tables first (their rows stay; FK columns into deleted rows are set null by rule),
  // then references set to NULL, then children first; cycle-closing columns of doomed rows cleared
  // before any delete (as rollback does).
  const rows: Record<string, number> = {};
  const anonymized: Record<string, number> = {};
  const nulls: Record<string, number> = {};
  // Rows an earlier pass already anonymized were needed to reach their children (done): they are not changed again.
  for (const t of r.tables) {
    const cols = anon.get(t.name);
    if (!cols) continue;
    const { differs, values } = anonymizeSql(t, cols, 'p');
    await db.query(`DELETE FROM ${erased(t)} d USING ${rel(t)} p WHERE ${slotsEqual('d', 'k', 'p', t.key)} AND NOT ${differs}`, values);
  }
  for (const t of r.tables) {
    const cols = anon.get(t.name);
    if (!cols) continue;
    const { set, differs, values } = anonymizeSql(t, cols, 'p');
    const res = await db.query(
      `UPDATE ${rel(t)} p SET ${set} FROM ${erased(t)} d WHERE ${slotsEqual('d', 'k', 'p', t.key)} AND ${differs}`,
      values,
    );
    rows[t.name] = anonymized[t.name] = res.rowCount ?? 0;
  }
  for (const e of nullifyEdges) {
    const t = e.child;
    await db.query(
      `UPDATE ${rel(t)} p SET ${e.fk.columns.map((c) => `${ident(c)} = NULL`).join(', ')}
         FROM ${nullified(t)} n WHERE n.edge = ${e.i} AND ${slotsEqual('n', 'k', 'p', t.key)}`,
    );
  }
  for (const t of new Set(nullifyEdges.map((e) => e.child))) {
    const n = Number(
      (await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM (SELECT DISTINCT ${slots(t)} FROM ${nullified(t)}) x`)).rows[0].n,
    );
    if (n > 0) nulls[t.name] = n;
  }
  for (const t of r.tables.filter((x) => x.deferred.length > 0 && !anon.has(x.name))) {
    const cols = [...new Set(t.deferred.flatMap((fk) => fk.columns))];
    await db.query(
      `UPDATE ${rel(t)} p SET ${cols.map((c) => `${ident(c)} = NULL`).join(', ')} FROM ${erased(t)} d WHERE ${slotsEqual('d', 'k', 'p', t.key)}`,
    );
  }
  for (const t of [...r.tables].reverse().filter((x) => !anon.has(x.name))) {
    const res = await db.query(`DELETE FROM ${rel(t)} p USING ${erased(t)} d WHERE ${slotsEqual('d', 'k', 'p', t.key)}`);
    rows[t.name] = res.rowCount ?? 0;
  }

  // One log row per request, table and action it reached (a request that reached nothing: one row, 0 rows).
  // After publish, a pass that finds nothing new for a subject already logged by this run logs nothing.
  const actions = erasureActions(o.when);
  const union = [
    ...r.tables.map(
      (t) =>
        `SELECT rid, ${literal(t.name)} AS table_name, ${literal(anon.has(t.name) ? actions.anonymized : actions.deleted)} AS action, count(*)::int AS n FROM ${erased(t)} GROUP BY rid`,
    ),
    ...[...new Set(nullifyEdges.map((e) => e.child))].map(
      (t) =>
        `SELECT rid, ${literal(t.name)}, ${literal(actions.nullified)}, count(DISTINCT (${slots(t)}))::int FROM ${nullified(t)} GROUP BY rid`,
    ),
    `SELECT rid, ${literal(s.name)}, ${literal(KEPT_MERGED)}, 0 FROM ${MERGED}`,
  ].join(' UNION ALL ');
  const publish = o.when === 'publish';
  // After publish only requests for subjects this run moved or merged are logged; after a restore, every request.
  const requested = publish ? `(SELECT * FROM ${REQ} WHERE rid IN (SELECT rid FROM ${SUBJECTS}))` : REQ;
  const logged = `EXISTS (SELECT 1 FROM cutover.erasure_log l WHERE l.run_key = $1 AND l.step = ANY($3) AND l.subject = to_jsonb(q.subject))`;
  const changed = publish ? `AND NOT (${logged} AND coalesce(h.n, 0) = 0)` : '';
  const notRows = `(${literal(KEPT_MERGED)}, ${literal(actions.nullified)})`;
  const log = await db.query<{
    register: string;
    subject: string;
    production: unknown;
    rows: Record<string, number>;
    nullified: Record<string, number>;
    total: number;
  }>(
    `WITH hit AS (SELECT rid, table_name, action, n FROM (${union}) u),
          prod AS (SELECT rid, min(jsonb_build_array(${slotList('e', 'k', s.key)})::text)::jsonb AS key FROM ${SUBJECTS} e GROUP BY rid),
          todo AS (SELECT q.rid, q.subject, q.register, x.key AS production, h.table_name, h.action, h.n
                     FROM ${requested} q LEFT JOIN prod x ON x.rid = q.rid LEFT JOIN hit h ON h.rid = q.rid
                    WHERE true ${changed}),
          ${
            o.log === false
              ? ''
              : `ins AS (INSERT INTO cutover.erasure_log (run_key, subject, production_subject, table_name, rows, action, register, step)
                  SELECT $1, to_jsonb(t.subject), t.production, coalesce(t.table_name, ${literal(s.name)}), coalesce(t.n, 0), coalesce(t.action, ${literal(actions.deleted)}), t.register, $2
                    FROM todo t),`
          }
          done AS (SELECT 1)
     SELECT t.register, t.subject::text AS subject, t.production,
            coalesce(jsonb_object_agg(t.table_name, t.n) FILTER (WHERE t.table_name IS NOT NULL AND t.action NOT IN ${notRows}), '{}') AS rows,
            coalesce(jsonb_object_agg(t.table_name, t.n) FILTER (WHERE t.action = ${literal(actions.nullified)}), '{}') AS nullified,
            (count(*) OVER ())::int AS total
       FROM todo t GROUP BY t.rid, t.register, t.subject, t.production ORDER BY t.subject::text, t.register LIMIT ${LISTED}`,
    publish ? [runKey, step, AFTER_PUBLISH_STEPS] : o.log === false ? [] : [runKey, step],
  );
  const applied = log.rows[0]?.total ?? 0;
  return {
    requests,
    applied,
    applications: log.rows.map((x) => ({
      register: x.register,
      subject: x.subject,
      ...(x.production ? { productionSubject: JSON.stringify(x.production) } : {}),
      rows: x.rows,
      ...(Object.keys(x.nullified).length ? { nullified: x.nullified } : {}),
    })),
    more: Math.max(0, applied - LISTED),
    rows,
    anonymized,
    nullified: nulls,
  };
}

/** The production keys of the rows this run moved into `t` (k0…), by the one identity model (activities/db/row-identity.ts). */
async function loadRunRows(db: Client, runKey: string, t: ResolvedTable): Promise<void> {
  await db.query(`CREATE TEMP TABLE ${ident(`cutover_eo_${t.index}`)} ON COMMIT DROP AS ${persistedInsertedKeys(t)}`, [runKey, t.name]);
}

/** SET clause, "differs from the anonymized values" predicate and their bound values for one table. */
export function anonymizeSql(
  t: ResolvedTable,
  columns: Record<string, AnonymizeValue>,
  alias: string,
  first = 1,
): { set: string; differs: string; values: string[] } {
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
 * subjects table's rows of the erased subjects (by their production key) are gone — or, anonymized,
 * hold the anonymized values; a fresh walk down the foreign keys from what is left of them finds
 * only anonymized rows holding their values (and no reference left that should have been set to
 * NULL); and no plan table row has a foreign key into a plan table that finds no row.
 * Returns what is wrong.
 */
export async function verifyErasures(db: Client, r: Resolved): Promise<string[]> {
  const { subjects, registers, productionRegisters } = r.rules;
  if (!subjects || registers.length + productionRegisters.length === 0) return [];
  const s = subjects.table;
  if (!(await tempTableExists(db, 'cutover_er_subjects'))) return []; // no request: nothing was erased
  const walk = await residueWalk(db, r, new Map(anonymizeRules(r).map((a) => [a.table, a.columns])), 'cutover_rr_', (seen) =>
    db.query(`INSERT INTO ${seen(s)} SELECT ${keyList('p', s.key)} FROM ${qualified(s.target.schema, s.target.name)} p
               WHERE EXISTS (SELECT 1 FROM ${SUBJECTS} q WHERE q.how = 'erase' AND ${slotsEqual('q', 'k', 'p', s.key)})`),
  );
  for (const e of planEdges(r)) {
    const n = await orphans(db, e);
    if (n > 0) walk.problems.push(`${e.child.name}: ${n} row(s) reference a missing ${e.parent.name} row (FK ${e.fk.name})`);
  }
  return walk.problems;
}

async function tempTableExists(db: Client, name: string): Promise<boolean> {
  return (
    (await db.query(`SELECT 1 FROM pg_class WHERE relname = $1 AND relpersistence = 't' AND pg_table_is_visible(oid)`, [name])).rowCount ===
    1
  );
}

/**
 * Inside the caller's transaction: `seed` puts the subjects table rows of erased subjects still in
 * production (and, for merged subjects, the rows this run moved that reference them) into the tables
 * it is given; every row reachable from them down the plan's foreign keys is collected the same
 * way, round after round. Rows left must be anonymized tables' rows holding their values (a
 * subjects row left counts when its table is not anonymized); a row reached through a key the
 * erasure sets to NULL still references an erased row, so it counts too.
 */
async function residueWalk(
  db: Client,
  r: Resolved,
  anon: Map<string, Record<string, AnonymizeValue>>,
  prefix: string,
  seed: (seen: (t: ResolvedTable) => string) => Promise<{ rowCount: number | null }>,
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
    await db.query(
      `CREATE TEMP TABLE ${ident(`${prefix}${t.index}`)} ON COMMIT DROP AS SELECT ${t.key.map((k, i) => `p.${ident(k)} AS k${i}`).join(', ')} FROM ${qualified(t.target.schema, t.target.name)} p LIMIT 0`,
    );
  }
  await seed(seen);
  const seeded = Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${seen(s)}`)).rows[0].n);
  if (!anon.has(s.name)) found(seeded, `${s.name}: ${seeded} row(s) of erased subjects are still there`);
  await untilSettled(
    planEdges(r),
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
export async function verifyMovedErasures(
  db: Client,
  r: Resolved,
  runKey: string,
  anonymize: { table: string; columns: Record<string, AnonymizeValue> }[],
): Promise<Residue> {
  const { subjects } = r.rules;
  const none: Residue = { residue: 0, subjects: 0, problems: [], checks: [] };
  if (!subjects) return none;
  const s = subjects.table;
  const anon = new Map(anonymize.map((a) => [a.table, a.columns]));
  return inTransaction(db, async () => {
    const keyType = (k: string) => s.columns.find((c) => c.name === k)!.type;
    const keyOf = (k: string, i: number) => `(e.key->>${i})::${keyType(k)}`;
    const byKey = (alias: string) => s.key.map((k, i) => `${alias}.${ident(k)} = ${keyOf(k, i)}`).join(' AND ');
    const walk = await residueWalk(db, r, anon, 'cutover_rv_', async (seen) => {
      // Erased subjects (not merged ones: their production row stays) whose row is still there.
      await db.query(
        `WITH erased AS (SELECT DISTINCT production_subject AS key FROM cutover.erasure_log l WHERE run_key = $1 AND step = ANY($2) AND production_subject IS NOT NULL
                            AND NOT EXISTS (SELECT 1 FROM cutover.erasure_log k WHERE k.run_key = $1 AND k.production_subject = l.production_subject AND k.action = $3))
         INSERT INTO ${seen(s)} SELECT ${s.key.map(keyOf).join(', ')} FROM erased e
          WHERE EXISTS (SELECT 1 FROM ${qualified(s.target.schema, s.target.name)} p WHERE ${byKey('p')})`,
        [runKey, AFTER_PUBLISH_STEPS, KEPT_MERGED],
      );
      // Merged subjects: the rows this run moved that still reference their (kept) row.
      for (const e of planEdges(r).filter((x) => x.parent === s && x.fk.refColumns.every((c) => s.key.includes(c)))) {
        const c = e.child;
        const type = (k: string) => c.columns.find((x) => x.name === k)!.type;
        // The pairs publish recorded (activities/db/row-identity.ts), with the table bound as $4 here.
        const pairs = `(${PERSISTED_PAIRS.replaceAll('$2', '$4')})`;
        await db.query(
          `WITH merged AS (SELECT DISTINCT production_subject AS key FROM cutover.erasure_log WHERE run_key = $1 AND step = ANY($2) AND action = $3)
           INSERT INTO ${seen(c)} SELECT ${keyList('c', c.key)} FROM ${qualified(c.target.schema, c.target.name)} c
            WHERE EXISTS (SELECT 1 FROM merged e WHERE ${e.fk.columns.map((col, i) => `c.${ident(col)} = ${keyOf(e.fk.refColumns[i], s.key.indexOf(e.fk.refColumns[i]))}`).join(' AND ')})
              AND EXISTS (SELECT 1 FROM ${pairs} m WHERE m.outcome = 'moved' AND ${c.key.map((k, i) => `c.${ident(k)} = (m.new_key->>${i})::${type(k)}`).join(' AND ')})
              AND NOT EXISTS (SELECT 1 FROM ${seen(c)} o WHERE ${slotsEqual('o', 'k', 'c', c.key)})`,
          [runKey, AFTER_PUBLISH_STEPS, KEPT_MERGED, c.name],
        );
      }
      return { rowCount: null };
    });
    const subjectsLogged = Number(
      (
        await db.query<{ n: string }>(
          'SELECT count(DISTINCT production_subject)::text AS n FROM cutover.erasure_log WHERE run_key = $1 AND step = ANY($2)',
          [runKey, AFTER_PUBLISH_STEPS],
        )
      ).rows[0].n,
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
  });
}

/** A plan table's canonical name as an SQL string literal. */
function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
