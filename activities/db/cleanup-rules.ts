// Cleanup in staging, shared by the cleanup step and the dry run: test data, erasure requests and
// missing consent leave subjects behind, the removal cascades down the FKs (and up to referenced
// rows nobody needs any more), transforms apply last. Every removed row lands in the manifest.
import type { Client } from 'pg';
import { ident } from './connect';
import { allConditions, Binder } from './conditions';
import type { ForeignKey } from './catalog';
import { fkEquals, keyEquals, keyJson, keyList, keyReferences } from './keys';
import type { Resolved, ResolvedTable } from './resolve';
import { closureSql, selfReferences } from './closure';
import { inProduction } from './identity';
import { attachedParent, detachMissing, mayRepeat, movedBy } from './already-moved';
import { followsIntoProduction } from './selection';
import { CAUSE, type StagingNames } from './staging';
import { planIssue } from '../errors';
import type { PlanIssue } from '../../plan/issues';
import { nullifyReferencesToErased } from './erasure-staging';
import { stagedColumn } from './mapping-staging';
import type { RetentionApplied } from '../../common/results';
import { anonymizeExpired, pastRetention, RETENTION_REASON, retentionCutoffs } from './retention';

export type LeftBehind = Record<string, Record<string, number>>; // table -> reason -> rows
/** table -> reason -> chain of causes (`parent-left-behind:public.projects ← … ← test-account`) -> rows. */
export type RootCauses = Record<string, Record<string, Record<string, number>>>;

export { CAUSE }; // (db/staging.ts)

/**
 * SQL: the chain of a row removed with reason $1 because of a parent whose chain is `parent`. Each
 * row keeps its parent's chain (its first cause), not every chain its parent's table has. A
 * self-reference repeats no link; a cycle through other tables is cut to `… ← root`, so a chain
 * stays as short as the schema.
 */
const chainOf = (parent: string) => `CASE WHEN left(${parent}, length($1) + 3) = $1 || ' ← ' THEN ${parent}
  WHEN position(' ← ' || $1 || ' ← ' IN ' ← ' || ${parent} || ' ← ') > 0 THEN $1 || ' ← … ← ' || regexp_replace(${parent}, '^.* ← ', '')
  ELSE $1 || ' ← ' || ${parent} END`;

/** Rounds an "until nothing changes" loop may take; a self-reference settles in one (recursive) round. */
const MAX_ROUNDS = 100;

/** Stopping at the cap would leave rows half settled (e.g. children whose parent is gone): fail instead. */
function unsettled(what: string, rounds: number, tables: Set<string>): Error {
  return planIssue(
    'tables',
    `${what} did not settle in ${rounds} round${rounds === 1 ? '' : 's'}: rows of ${[...tables].join(', ')} were still being removed (a chain of rows through their foreign keys is longer than that)`,
  );
}

export const TRANSFORM: Record<string, (col: string) => string> = {
  trim: (c) => `btrim(${c})`,
  lower: (c) => `lower(${c})`,
  upper: (c) => `upper(${c})`,
  nullIfEmpty: (c) => `NULLIF(${c}, '')`,
  sha256: (c) => `encode(sha256(convert_to(${c}, 'UTF8')), 'hex')`,
};

export class Cleanup {
  readonly counts: LeftBehind = {};
  /** The same rows, each under the chain of causes that removed it first. */
  readonly causes: RootCauses = {};
  /** table -> staged rows kept with their nullable reference to an erased subject's row set to NULL (db/erasure-staging.ts). */
  nullified: Record<string, number> = {};
  private readonly moving = new Set<string>(); // tables that lost rows in the current round
  private readonly removals = new Map<string, number>(); // table -> removals that took rows, so far
  /** Told before each rule runs on a table (progress). */
  onRule?: (table: string, reason: string) => void;
  /** When the rows were read (the snapshot's time, ISO): retention periods are measured from it. */
  retentionFrom?: string;
  /** The plan's retention rules as applied: cutoff and rows left behind or anonymized (the dry run counts them). */
  retention: RetentionApplied[] = [];

  constructor(
    private readonly db: Client, // inside a transaction on the target
    private readonly r: Resolved,
    private readonly names: StagingNames,
    private readonly runKey: string | null, // null: the dry run, which only counts (no manifest rows)
    private readonly maxRounds = MAX_ROUNDS,
    /** Erasure requests set nullable references to the subjects' rows to NULL instead of leaving those rows behind (cleanup, dry run; not adopt). */
    private readonly erasureNullify = false,
  ) {}

  /** `earlier`: runs whose moved rows are still in production (db/already-moved.ts): those rows go first. */
  async run(opts: { transforms: boolean; earlier?: string[] }): Promise<LeftBehind> {
    const { testData, subjects, consent, registers } = this.r.rules;
    // Staging made before gone-keys carried their cause (a worker upgraded mid-run) gains the column.
    await this.db.query(
      this.r.tables.map((t) => `ALTER TABLE ${this.names.gone(t.index)} ADD COLUMN IF NOT EXISTS ${CAUSE} text`).join(';\n'),
    );
    for (const run of opts.earlier ?? []) {
      for (const t of this.r.tables.filter(mayRepeat)) {
        const b = new Binder();
        const pred = movedBy(b, t, run);
        await b.apply(this.db);
        await this.remove(t, pred, `already-moved:${run}`);
      }
    }
    // A parent moved before but deleted in Production since keeps its new children behind with it.
    for (const run of opts.earlier ?? []) await detachMissing(this.db, this.r, this.names, run);
    for (const rule of testData) {
      const b = new Binder();
      const typeOf = (c: string) => stagedColumn(rule.table, c)!.type; // a mapped table's rule may read a raw Pilot input
      const pred = allConditions(b, 's', rule.where, typeOf);
      await b.apply(this.db);
      await this.remove(rule.table, pred, rule.reason);
    }
    // Retention after test data (a test row stays test data) and before people (an expired row is
    // left behind for its age whoever it belongs to).
    if (this.r.rules.retention.length > 0) {
      if (!this.retentionFrom) throw new Error('retention rules need the snapshot time they are measured from');
      this.retention = await retentionCutoffs(this.db, this.r.rules.retention, this.retentionFrom);
      for (const [i, rule] of this.r.rules.retention.entries()) {
        if (rule.action !== 'leave-behind') continue;
        const b = new Binder();
        const pred = pastRetention(b, 's', rule.column, this.retention[i].cutoff);
        await b.apply(this.db);
        this.retention[i].rows = await this.remove(rule.table, pred, RETENTION_REASON);
      }
    }
    if (subjects) {
      const key = `s.${ident(subjects.key)}`;
      if (registers.length > 0) {
        if (this.erasureNullify) this.nullified = (await nullifyReferencesToErased(this.db, this.r, this.names)).rows;
        await this.remove(subjects.table, `${key} IN (SELECT subject FROM ${this.names.erased()})`, 'erasure-request');
      }
      if (consent)
        await this.remove(subjects.table, `NOT EXISTS (SELECT 1 FROM ${this.names.consented()} c WHERE c.subject = ${key})`, 'no-consent');
    }
    await this.cascade();
    // Anonymized last among the rules: only rows that still move are rewritten (before transforms,
    // which may hash what this sets). The dry run only counts them.
    for (const [i, rule] of this.r.rules.retention.entries()) {
      if (rule.action !== 'anonymize') continue;
      this.onRule?.(rule.table.name, `${RETENTION_REASON} (anonymize)`);
      this.retention[i].rows = await anonymizeExpired(
        this.db,
        this.names.data(rule.table.index, rule.table.name),
        rule.table,
        this.retention[i],
        opts.transforms,
      );
    }
    if (opts.transforms) {
      for (const x of this.r.rules.transforms) {
        const col = ident(x.column);
        await this.db.query(
          `UPDATE ${this.names.data(x.table.index, x.table.name)} SET ${col} = ${TRANSFORM[x.fn](col)} WHERE ${col} IS NOT NULL`,
        );
      }
    }
    return this.counts;
  }

  /**
   * Delete matching staged rows, writing each to the manifest and to the table's gone-keys with its
   * chain of causes: the reason itself, or with `parent` (a cascade) the reason followed by the chain
   * of the parent row it joins in `parent.using` (alias p).
   */
  private async remove(t: ResolvedTable, predicate: string, reason: string, parent?: { using: string; chain: string }): Promise<number> {
    this.onRule?.(t.name, reason);
    const key = t.key.map((k) => ident(k)).join(', ');
    const res = await this.db.query<{ cause: string; n: number }>(
      `WITH d AS (DELETE FROM ${this.names.data(t.index, t.name)} s${parent ? ` USING ${parent.using}` : ''} WHERE ${predicate}
                  RETURNING ${keyList('s', t.key)}, ${parent ? chainOf(parent.chain) : '$1::text'} AS ${CAUSE})${
                    this.runKey === null
                      ? ''
                      : `,
            m AS (INSERT INTO ${this.names.manifest} (run_key, table_name, key, outcome, reason)
                  SELECT $3, $2, ${keyJson('d', t.key)}, 'left-behind', $1 FROM d)`
                  },
            g AS (INSERT INTO ${this.names.gone(t.index)} (${key}, ${CAUSE}) SELECT ${keyList('d', t.key)}, d.${CAUSE} FROM d)
       SELECT ${CAUSE} AS cause, count(*)::int AS n FROM d GROUP BY 1`,
      this.runKey === null ? [reason] : [reason, t.name, this.runKey],
    );
    const n = res.rows.reduce((a, x) => a + x.n, 0);
    if (n > 0) {
      this.moving.add(t.name);
      this.removals.set(t.name, (this.removals.get(t.name) ?? 0) + 1);
      this.counts[t.name] ??= {};
      this.counts[t.name][reason] = (this.counts[t.name][reason] ?? 0) + n;
      const chains = ((this.causes[t.name] ??= {})[reason] ??= {});
      for (const x of res.rows) chains[x.cause] = (chains[x.cause] ?? 0) + x.n;
    }
    return n;
  }

  /** Until nothing changes: children of removed rows go too; referenced rows nobody needs go too. */
  private async cascade(): Promise<void> {
    const byName = new Map(this.r.tables.map((t) => [t.name, t]));
    // An edge whose parent lost no rows since the edge last ran would delete nothing: skipped (the
    // last round, which only confirms that nothing moves, then runs almost nothing).
    const seen = new Map<string, number>(); // edge -> its parent's removals when it last ran
    for (let round = 0; round === 0 || this.moving.size > 0; round++) {
      if (round === this.maxRounds) throw unsettled('cleanup cascade', this.maxRounds, this.moving);
      this.moving.clear();
      for (const child of this.r.tables) {
        for (const [i, fk] of keyReferences(child, byName).entries()) {
          const parent = byName.get(fk.refTable)!;
          const edge = `${child.name}#${i}`;
          const removals = this.removals.get(parent.name) ?? 0;
          if (round > 0 && seen.get(edge) === removals) continue;
          seen.set(edge, removals);
          // Each child row takes the chain of the parent row it references (p).
          const reason = `parent-left-behind:${parent.name}`;
          // A parent left behind only as already moved is in Production: its children stay (db/already-moved.ts).
          const attached = attachedParent('p', parent, this.r, this.names);
          if (parent === child) {
            // A self-reference takes every descendant at once, not one level per round.
            await this.remove(child, keyEquals('p', 's', child.key), reason, {
              using: `(${this.descendants(child, fk)}) p`,
              chain: `p.${CAUSE}`,
            });
          } else {
            await this.remove(child, `${fkEquals(fk, 'p', 's')} AND NOT ${attached}`, reason, {
              using: `${this.names.gone(parent.index)} p`,
              chain: `p.${CAUSE}`,
            });
          }
        }
      }
      for (const t of this.r.tables) {
        const unused = unreferenced(t, this.r, this.names);
        if (unused) await this.remove(t, unused, 'no-longer-referenced');
      }
    }
  }

  /**
   * Keys of staged rows of `t` whose self-reference `fk` leads, through any number of levels, to a
   * removed row (its gone-keys; not one only already moved), each with that removed ancestor's chain of causes.
   */
  private descendants(t: ResolvedTable, fk: ForeignKey): string {
    const data = this.names.data(t.index, t.name);
    return `WITH RECURSIVE doomed AS (
              SELECT ${keyList('c', t.key)}, g.${CAUSE} FROM ${data} c JOIN ${this.names.gone(t.index)} g ON ${fkEquals(fk, 'g', 'c')}
                 AND NOT ${attachedParent('g', t, this.r, this.names)}
              UNION SELECT ${keyList('c', t.key)}, d.${CAUSE} FROM ${data} c JOIN doomed d ON ${fkEquals(fk, 'd', 'c')})
            SELECT DISTINCT ON (${t.key.map((k) => ident(k)).join(', ')}) * FROM doomed`;
  }
}

/**
 * For a table selected as `referenced`: the predicate "no staged row of another plan table references
 * this row s" (through the source FKs the selection used), or null when it does not apply.
 * An AND of NOT EXISTS, not NOT of an OR, so each plans as an anti-join. A self-referencing table
 * keeps what the selection's closure keeps: rows reachable from those references up its own FKs,
 * so a self-cycle nobody else references does not keep itself alive.
 */
function unreferenced(t: ResolvedTable, r: Resolved, names: StagingNames): string | null {
  if (!(t.spec.select as { referenced?: boolean }).referenced) return null;
  const staged = (c: ResolvedTable, f: ForeignKey) =>
    f.refTable === t.name && f.columns.every((col) => c.columns.some((x) => x.name === col));
  const users = r.tables.flatMap((c) => (c.name === t.name ? [] : c.source.foreignKeys.filter((f) => staged(c, f)).map((f) => ({ c, f }))));
  if (users.length === 0) return null;
  if (selfReferences(t).length > 0) {
    let n = 0;
    const roots = (x: string) => {
      const byLhs = new Map<string, string[]>();
      for (const { c, f } of users) {
        const lhs = f.refColumns.map((col) => `${x}.${ident(col)}`).join(', ');
        byLhs.set(lhs, [
          ...(byLhs.get(lhs) ?? []),
          `SELECT ${f.columns.map((col) => `u.${ident(col)}`).join(', ')} FROM ${names.data(c.index, c.name)} u`,
        ]);
      }
      return [...byLhs].map(([lhs, selects]) => `(${lhs}) IN (${selects.join(' UNION ALL ')})`).join(' OR ');
    };
    const reached = closureSql(t, names.data(t.index, t.name), roots, () => `r${n++}`);
    return `NOT EXISTS (SELECT 1 FROM (${reached}) z WHERE ${keyEquals('z', 's', t.key)})`;
  }
  return users
    .map(({ c, f }) => `NOT EXISTS (SELECT 1 FROM ${names.data(c.index, c.name)} u WHERE ${fkEquals(f, 's', 'u')})`)
    .join(' AND ');
}

/**
 * Settle what is in scope, in staging, before any cleanup: a row that follows a keep/match parent
 * stays only if that parent moves or already exists in production (by key / natural key), one that
 * follows a parent through followMoved only if that parent is staged (moves); a row
 * selected as `referenced` stays only while a staged row references it. Rows removed here were never
 * in scope: no manifest entry.
 * Returns the rows in scope per table.
 */
export async function scopeFilter(db: Client, r: Resolved, names: StagingNames, maxRounds = MAX_ROUNDS): Promise<Record<string, number>> {
  const byName = new Map(r.tables.map((t) => [t.name, t]));
  const moving = new Set<string>(); // tables that lost rows in the current round
  for (let round = 0; round === 0 || moving.size > 0; round++) {
    if (round === maxRounds) throw unsettled('scope filter', maxRounds, moving);
    moving.clear();
    for (const t of r.tables) {
      // followMoved: the parent staged at selection may have been filtered out since (a referenced
      // parent nobody needs, a parent following one that is not there): its children go with it.
      for (const fk of t.follow.filter((f) => followsIntoProduction(byName.get(f.refTable)!, t, f) || t.followMoved.includes(f))) {
        const parent = byName.get(fk.refTable)!;
        const res = await db.query(
          `DELETE FROM ${names.data(t.index, t.name)} s
            WHERE NOT EXISTS (SELECT 1 FROM ${names.data(parent.index, parent.name)} m WHERE ${fkEquals(fk, 'm', 's')})${
              t.followMoved.includes(fk)
                ? ''
                : `
              AND NOT ${inProduction(fk, parent, r, names)}`
            }`,
        );
        if ((res.rowCount ?? 0) > 0) moving.add(t.name);
      }
      const unused = unreferenced(t, r, names);
      if (unused && ((await db.query(`DELETE FROM ${names.data(t.index, t.name)} s WHERE ${unused}`)).rowCount ?? 0) > 0)
        moving.add(t.name);
    }
  }
  const counts: Record<string, number> = {};
  for (const t of r.tables) {
    counts[t.name] = Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${names.data(t.index, t.name)}`)).rows[0].n);
  }
  return counts;
}

/**
 * Staged rows that reference a parent which neither moves nor exists in production (nor was moved by
 * an earlier run: db/already-moved.ts) cannot be
 * published: name them (up to 10 per FK, one issue per FK at the child's place in the plan) instead
 * of letting the FK constraint fail mid-publish.
 */
export async function danglingReferences(db: Client, r: Resolved, names: StagingNames): Promise<PlanIssue[]> {
  const byName = new Map(r.tables.map((t) => [t.name, t]));
  const problems: PlanIssue[] = [];
  for (const t of r.tables) {
    for (const fk of t.target.foreignKeys.filter((f) => f.columns.every((c) => t.columns.some((x) => x.name === c)))) {
      const parent = byName.get(fk.refTable);
      const notMoving = parent
        ? `NOT EXISTS (SELECT 1 FROM ${names.data(parent.index, parent.name)} m WHERE ${fkEquals(fk, 'm', 's')})`
        : 'TRUE';
      // A parent that does not move must exist in production by its own identity rule (never for ids: new),
      // or have been moved by an earlier run (left behind as already moved: its key is in that run's map).
      const refKey = parent && fk.refColumns.length === parent.key.length && fk.refColumns.every((c, i) => c === parent.key[i]);
      const earlier = refKey
        ? ` AND NOT EXISTS (SELECT 1 FROM ${names.gone(parent.index)} g WHERE ${fkEquals(fk, 'g', 's')} AND ${attachedParent('g', parent, r, names)})`
        : '';
      const dangling = `${notMoving} AND NOT ${inProduction(fk, parent, r, names)}${earlier}`;
      const notNull = fk.columns.map((c) => `s.${ident(c)} IS NOT NULL`).join(' AND ');
      const res = await db.query<{ k: unknown[]; v: unknown[] }>(
        `SELECT ${keyJson('s', t.key)} AS k, jsonb_build_array(${fk.columns.map((c) => `s.${ident(c)}`).join(', ')}) AS v
           FROM ${names.data(t.index, t.name)} s WHERE ${notNull} AND ${dangling} LIMIT 10`,
      );
      if (res.rows.length > 0) {
        // The referenced values are shown when they are the parent's key; an FK onto another unique
        // column of a plan table (an e-mail) keeps them out (a parent outside the plan: its FK target, as before).
        const refIsKey = !parent || (parent.key.length === fk.refColumns.length && fk.refColumns.every((c) => parent.key.includes(c)));
        const rows = res.rows.map(
          (x) => `(${t.key.join(', ')})=(${x.k.join(', ')}) → (${fk.refColumns.join(', ')})=(${refIsKey ? x.v.join(', ') : '…'})`,
        );
        const message = `rows would be published without their parents: ${t.name} rows reference ${fk.refTable} rows that neither move nor exist in production (FK ${fk.name}): ${rows.join('; ')}${res.rows.length === 10 ? '; …' : ''}`;
        problems.push({ path: `tables[${t.index}]`, message });
      }
    }
  }
  return problems;
}
