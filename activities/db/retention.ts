// Retention rules (plan `retention`): rows older than Production keeps are not moved as they are.
// The age is measured from the run's snapshot time (the Pilot's clock when the rows were read), and
// the cutoff is computed by PostgreSQL from the ISO 8601 interval (calendar months as the database
// counts them), once per rule, so the dry run, cleanup and the check after publish name one instant.
// Cleanup leaves past-retention rows behind (reason `retention`, dependents by the cascade) or
// anonymizes them in staging; the built-in check after publish proves from Production itself that no
// row this run moved is past its retention (or, for anonymize, that every such row is anonymized).
import type { Client } from 'pg';
import type { AccessCheckResult, RetentionApplied } from '../../common/results';
import { Binder } from './conditions';
import { ident, qualified } from './connect';
import type { RetentionRule } from './resolve-rules';
import type { Resolved, ResolvedTable } from './resolve';
import { MAX_ROWS } from './read-only-check';
import { persistedInsertedKeys } from './row-identity';

export const RETENTION_REASON = 'retention';
export const RETENTION_CHECK = 'built-in:retention';

const typeOf = (t: ResolvedTable, c: string) => t.columns.find((x) => x.name === c)!.type;

/** The cutoff of each rule from `snapshotAt` (ISO), as PostgreSQL computes timestamptz - interval. */
export async function retentionCutoffs(db: Client, rules: RetentionRule[], snapshotAt: string): Promise<RetentionApplied[]> {
  const out: RetentionApplied[] = [];
  for (const r of rules) {
    const res = await db.query<{ cutoff: Date }>('SELECT ($1::timestamptz - $2::interval) AS cutoff', [snapshotAt, r.olderThan]);
    out.push({
      table: r.table.name,
      column: r.column,
      olderThan: r.olderThan,
      action: r.action,
      ...(r.action === 'anonymize' ? { columns: r.columns } : {}),
      snapshotAt,
      cutoff: res.rows[0].cutoff.toISOString(),
      rows: 0,
    });
  }
  return out;
}

/** Predicate over alias `a`: the row is past the rule's cutoff (a NULL age is never past it). */
export function pastRetention(b: Binder, a: string, column: string, cutoff: string): string {
  return `${a}.${ident(column)} < ${b.bind(cutoff, 'timestamptz')}`;
}

/** `col = value, …` for an anonymizing rule (values bound, typed as the column). */
function anonymizeSet(b: Binder, t: ResolvedTable, columns: Record<string, unknown>): string {
  return Object.entries(columns)
    .map(([c, v]) => `${ident(c)} = ${v === null ? 'NULL' : b.bind(String(v), typeOf(t, c))}`)
    .join(', ');
}

/** Over alias `a`: every anonymized column holds its rule's value. */
function anonymized(b: Binder, a: string, t: ResolvedTable, columns: Record<string, unknown>): string {
  return Object.entries(columns)
    .map(([c, v]) => `${a}.${ident(c)} IS NOT DISTINCT FROM ${v === null ? 'NULL' : b.bind(String(v), typeOf(t, c))}`)
    .join(' AND ');
}

/**
 * Anonymize the staged rows of `t` past the rule's cutoff (`write`), or only count them (the dry
 * run, whose staging holds only the deciding columns). Inside the caller's transaction.
 */
export async function anonymizeExpired(
  db: Client,
  data: string,
  t: ResolvedTable,
  rule: RetentionApplied,
  write: boolean,
): Promise<number> {
  const b = new Binder();
  const past = pastRetention(b, 's', rule.column, rule.cutoff);
  if (!write) {
    await b.apply(db);
    return Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${data} s WHERE ${past}`)).rows[0].n);
  }
  const set = anonymizeSet(b, t, rule.columns ?? {});
  await b.apply(db);
  return (await db.query(`UPDATE ${data} s SET ${set} WHERE ${past}`)).rowCount ?? 0;
}

/**
 * After publish: no row this run moved into Production is past its retention (leave-behind), or
 * every such row holds the anonymized values (anonymize). Read from Production by the Production
 * keys publish recorded (activities/db/row-identity.ts), read-only; offenders named by key only.
 */
export async function retentionCheck(target: Client, r: Resolved, runKey: string): Promise<AccessCheckResult | null> {
  if (r.rules.retention.length === 0) return null;
  const started = Date.now();
  const recorded =
    (
      await target.query<{ x: RetentionApplied[] | null }>(`SELECT cleanup_result->'retention' AS x FROM cutover.run WHERE run_key = $1`, [
        runKey,
      ])
    ).rows[0]?.x ?? null;
  if (!recorded) {
    return {
      name: RETENTION_CHECK,
      kind: 'built-in',
      passed: false,
      rows: [],
      rowCount: 0,
      error: 'no retention cutoffs recorded by cleanup for this run (cutover.run.cleanup_result)',
      durationMs: Date.now() - started,
    };
  }
  const rows: Record<string, unknown>[] = [];
  let count = 0;
  await target.query('BEGIN READ ONLY');
  try {
    for (const applied of recorded) {
      const t = r.tables.find((x) => x.name === applied.table);
      if (!t) continue;
      const b = new Binder();
      const past = pastRetention(b, 'p', applied.column, applied.cutoff);
      const bad = applied.action === 'anonymize' ? `${past} AND NOT (${anonymized(b, 'p', t, applied.columns ?? {})})` : past;
      await b.apply(target);
      const on = t.key.map((k, i) => `p.${ident(k)} = i.k${i}`).join(' AND ');
      const res = await target.query<{ k: unknown[]; n: string }>(
        `SELECT jsonb_build_array(${t.key.map((k) => `p.${ident(k)}`).join(', ')}) AS k, count(*) OVER ()::text AS n
           FROM ${qualified(t.target.schema, t.target.name)} p JOIN (${persistedInsertedKeys(t)}) i ON ${on}
          WHERE ${bad} LIMIT ${MAX_ROWS}`,
        [runKey, t.name],
      );
      count += Number(res.rows[0]?.n ?? 0);
      for (const x of res.rows.slice(0, MAX_ROWS - rows.length)) {
        rows.push({
          table: t.name,
          productionKey: `(${t.key.join(', ')})=(${x.k.join(', ')})`,
          reason:
            applied.action === 'anonymize'
              ? `past retention (${applied.olderThan}) and not anonymized`
              : `past retention (${applied.column} before ${applied.cutoff})`,
        });
      }
    }
  } finally {
    await target.query('ROLLBACK');
  }
  return {
    name: RETENTION_CHECK,
    kind: 'built-in',
    passed: count === 0,
    rows,
    rowCount: count,
    error: null,
    durationMs: Date.now() - started,
  };
}
