// A completed plan is not re-applied by accident: Pilot rows that an earlier run already published
// into this Production (same Pilot database, rows still there: not rolled back, not restored away)
// are left behind as `already-moved:<run key>` instead of being copied again. Shared by the dry run
// and cleanup, so the approvers see exactly what cleanup will do. A deliberate re-run says so in the
// plan (`decision.rerun`), and then nothing is left behind for this reason.
// A row left behind so is in Production still: a Pilot row added since that references it (a new
// order of a customer moved before) moves, its reference rewritten to the Production key that run gave
// the parent (attachedParent, earlierParents), instead of being left behind with it.
import type { Client } from 'pg';
import type { DatabaseIdentity } from '../../common/results';
import type { Plan } from '../../plan/schema';
import { Binder } from './conditions';
import { ident, qualified } from './connect';
import { fkEquals, keyJson, keyReferences, slotsEqual } from './keys';
import { PERSISTED_PAIRS } from './persisted-pairs';
import type { Resolved, ResolvedTable } from './resolve';
import { CAUSE, type StagingNames } from './staging';

const REASON = 'already-moved:';
/** Appended to the cause of a row left behind as already moved whose Production row is gone since (detachMissing). */
const DETACHED = ' (no longer in production)';

export interface EarlierRun {
  runKey: string;
  planId: string;
  status: string;
  publishedAt: string;
}

/**
 * Runs (other than `runKey`) whose published rows are still in this Production and came from the same
 * Pilot database: by its recorded identity, or — for runs recorded before identities were — by the
 * same plan id. None when the target has no control schema.
 */
export async function earlierRuns(db: Client, plan: Plan, runKey: string, pilot: DatabaseIdentity | undefined): Promise<EarlierRun[]> {
  const exists = await db.query<{ ok: boolean }>(
    `SELECT to_regclass('cutover.run') IS NOT NULL AND to_regclass('cutover.manifest') IS NOT NULL AS ok`,
  );
  if (!exists.rows[0].ok) return [];
  const hasIdentity = await db.query(
    `SELECT 1 FROM information_schema.columns WHERE table_schema = 'cutover' AND table_name = 'run' AND column_name = 'source_identity'`,
  );
  const samePilot = hasIdentity.rowCount
    ? `((source_identity->>'systemIdentifier') = $2 AND (source_identity->>'databaseOid') = $3 OR source_identity IS NULL AND plan_id = $4)`
    : 'plan_id = $4';
  const res = await db.query<{ run_key: string; plan_id: string; status: string; published_at: string }>(
    `SELECT run_key, plan_id, status, to_json(published_at) #>> '{}' AS published_at FROM cutover.run
      WHERE run_key <> $1 AND published_at IS NOT NULL AND rolled_back_at IS NULL AND restored_at IS NULL AND ${samePilot}
      ORDER BY published_at`,
    [runKey, pilot?.systemIdentifier ?? '', String(pilot?.databaseOid ?? ''), plan.id],
  );
  return res.rows.map((r) => ({ runKey: r.run_key, planId: r.plan_id, status: r.status, publishedAt: r.published_at }));
}

/**
 * Only rows an earlier run inserted count: `keep` and `new` tables (a second insert would collide or
 * duplicate). An `ids: match` row merges with the row it finds, however often it runs.
 */
/** The runs whose rows cleanup leaves behind as already moved: none in a deliberate re-run (decision.rerun). */
export const excluded = (plan: Plan, earlier: EarlierRun[]): string[] => (plan.decision?.rerun ? [] : earlier.map((x) => x.runKey));

export const mayRepeat = (t: ResolvedTable) => t.spec.ids !== 'match';

/**
 * SQL over removed row `g` of `t` (alias of its gone-keys): it was left behind only because an earlier
 * run moved it, so its staged children still move (the cascade spares them; they do not dangle). A
 * subject whose erasure request or missing consent would leave it behind now does not count: its new
 * children stay behind (parent-left-behind), as before; so does every subject when the subject
 * column is not part of the key (gone-keys hold only keys).
 */
export function attachedParent(g: string, t: ResolvedTable, r: Resolved, names: StagingNames): string {
  // The direct removal's cause is the reason itself (`already-moved:<run key>`), never a chain.
  const moved = `(${g}.${ident(CAUSE)} LIKE '${REASON}%' AND ${g}.${ident(CAUSE)} NOT LIKE '%${DETACHED}')`;
  const subjects = r.rules.subjects;
  if (!subjects || subjects.table.name !== t.name) return moved;
  if (!t.key.includes(subjects.key)) return 'FALSE';
  const key = `${g}.${ident(subjects.key)}`;
  const rules = [moved];
  if (r.rules.registers.length > 0) rules.push(`NOT EXISTS (SELECT 1 FROM ${names.erased()} e WHERE e.subject = ${key})`);
  if (r.rules.consent) rules.push(`EXISTS (SELECT 1 FROM ${names.consented()} c WHERE c.subject = ${key})`);
  return `(${rules.join(' AND ')})`;
}

/**
 * Into `t`'s map (`map`, o0.. Pilot key, n0.. Production key): the parents left behind as already
 * moved that staged rows reference (attachedParent), each with the Production key its run gave it,
 * from that run's persisted pairs, as `found` (not moved by this run, never rolled back by it). Only
 * runs earlierRuns() returned leave rows behind so: a run rolled back or restored away lends no key.
 */
export async function earlierParents(db: Client, t: ResolvedTable, r: Resolved, names: StagingNames, map: string): Promise<number> {
  const referenced = referencedByStaged(t, r, names);
  if (!mayRepeat(t) || !referenced) return 0;
  const gone = names.gone(t.index);
  const runs = await db.query<{ run: string }>(
    `SELECT DISTINCT substr(${ident(CAUSE)}, $1) AS run FROM ${gone} WHERE ${ident(CAUSE)} LIKE $2 AND ${ident(CAUSE)} NOT LIKE $3`,
    [REASON.length + 1, `${REASON}%`, `%${DETACHED}`],
  );
  const cols = [...t.key.map((_, i) => `o${i}`), ...t.key.map((_, i) => `n${i}`)];
  let n = 0;
  for (const { run } of runs.rows) {
    const res = await db.query(
      `INSERT INTO ${map} (${cols.join(', ')}, outcome)
       SELECT ${cols.map((c) => `x.${c}`).join(', ')}, 'found'
         FROM (${movedPairs(t)}) x
         JOIN ${gone} g ON ${slotsEqual('x', 'o', 'g', t.key)} AND g.${ident(CAUSE)} = $3
        WHERE ${attachedParent('g', t, r, names)} AND (${referenced})
          AND NOT EXISTS (SELECT 1 FROM ${map} m WHERE ${t.key.map((_, i) => `m.o${i} = x.o${i}`).join(' AND ')})`,
      [run, t.name, `${REASON}${run}`],
    );
    n += res.rowCount ?? 0;
  }
  return n;
}

/**
 * Marks the rows of each table that `run` moved and this run left behind as already moved (cleanup,
 * dry run) whose Production row is gone since (deleted there): no longer attached, so their staged
 * children are left behind with them (their chain ends in `… (no longer in production)`), never
 * rewritten to a missing row. Reads Production only for the rows staged rows reference.
 */
export async function detachMissing(db: Client, r: Resolved, names: StagingNames, run: string): Promise<void> {
  for (const t of r.tables.filter(mayRepeat)) {
    const referenced = referencedByStaged(t, r, names);
    if (!referenced) continue;
    const prod = qualified(t.target.schema, t.target.name);
    await db.query(
      `UPDATE ${names.gone(t.index)} g SET ${ident(CAUSE)} = g.${ident(CAUSE)} || $3
        WHERE g.${ident(CAUSE)} = $4 AND (${referenced})
          AND NOT EXISTS (SELECT 1 FROM (${movedPairs(t)}) x JOIN ${prod} p ON ${t.key.map((k, i) => `p.${ident(k)} = x.n${i}`).join(' AND ')}
                           WHERE ${slotsEqual('x', 'o', 'g', t.key)})`,
      [run, t.name, DETACHED, `${REASON}${run}`],
    );
  }
}

/** SQL: removed row g of `t` (its gone-keys) is referenced by a staged row of a plan table; null when no plan table can. */
function referencedByStaged(t: ResolvedTable, r: Resolved, names: StagingNames): string | null {
  const byName = new Map(r.tables.map((x) => [x.name, x]));
  const refs = r.tables.flatMap((c) =>
    keyReferences(c, byName)
      .filter((fk) => fk.refTable === t.name)
      .map((fk) => `EXISTS (SELECT 1 FROM ${names.data(c.index, c.name)} u WHERE ${fkEquals(fk, 'g', 'u')})`),
  );
  return refs.length > 0 ? refs.join(' OR ') : null;
}

/** SQL ($1 run key, $2 table name): the rows that run inserted into `t`, Pilot key o0.. → Production key n0.., typed. */
function movedPairs(t: ResolvedTable): string {
  const typeOf = (k: string) => t.columns.find((c) => c.name === k)!.type;
  const slots = (col: string, p: string) => t.key.map((k, i) => `(x.${col}->>${i})::${typeOf(k)} AS ${p}${i}`);
  return `SELECT ${[...slots('old_key', 'o'), ...slots('new_key', 'n')].join(', ')} FROM (${PERSISTED_PAIRS}) x WHERE x.outcome = 'moved'`;
}

/** Predicate over staged row `s` of `t`: an earlier run `earlier` moved it (its Pilot key is in that run's manifest). */
export function movedBy(b: Binder, t: ResolvedTable, earlier: string): string {
  return `${keyJson('s', t.key)} IN (SELECT m.key FROM cutover.manifest m
            WHERE m.run_key = ${b.bind(earlier, 'text')} AND m.table_name = ${b.bind(t.name, 'text')} AND m.outcome = 'moved')`;
}
