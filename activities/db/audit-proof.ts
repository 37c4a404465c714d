// Production's declared audit trail (plan production.auditTables) inside the proofs of publish and
// surgical rollback. Their own counts (pg_stat_xact_user_tables) may show inserts into the declared
// audit tables — and nothing else there: no update, no delete — exactly as many as the triggers on
// the tables the transaction wrote explain. The rule, from the catalog (pg_trigger):
//   a trigger counts when it is enabled (fires in the default session_replication_role), has no
//   WHEN condition, fires on the statement's event (INSERT for publish, DELETE for rollback, UPDATE
//   — of one of the columns set, when it names columns — for the cycle-closing updates of both), and
//   its function's source or its arguments name one of the audit tables; it writes one audit row
//   per row written (FOR EACH ROW) or one per statement (FOR EACH STATEMENT), whether BEFORE or AFTER.
// A counting trigger with a WHEN condition cannot be predicted: refused, naming it. Triggers are read
// on each plan table itself (a partitioned table's row triggers fire on its partitions, counted once
// per row of the table). An audit trail is never undone: a rollback's deletes add their own audit
// rows, and the publish's stay.
import type { Client } from 'pg';
import type { AuditProof } from '../../common/results';
import { qualified } from './connect';
import type { Table } from './catalog';
import type { Resolved, ResolvedTable } from './resolve';
import { tablesOfRelations, type Counts } from './xact-counts';

/** One kind of statement the transaction ran on a plan table: how many of them and the rows they wrote. */
export interface AuditOp {
  table: ResolvedTable;
  event: 'INSERT' | 'UPDATE' | 'DELETE';
  rows: number;
  statements: number;
  /** UPDATE only: the columns it set (a trigger `UPDATE OF` other columns does not fire). */
  columns?: string[];
}

export const AUDIT_RULE =
  'each enabled trigger on a written plan table whose function (or arguments) names a declared audit table, firing on the event without a WHEN condition, writes one audit row per row (FOR EACH ROW) or per statement (FOR EACH STATEMENT)';

// pg_trigger.tgtype bits (src/include/catalog/pg_trigger.h).
const ROW = 1;
const EVENT_BIT = { INSERT: 4, DELETE: 8, UPDATE: 16 } as const;

interface TriggerRow {
  table: string;
  name: string;
  type: number;
  has_when: boolean;
  cols: string[] | null;
}

/** Counting triggers of the plan tables (see the rule above). */
async function auditingTriggers(db: Client, tables: ResolvedTable[], audit: Table[]): Promise<TriggerRow[]> {
  const res = await db.query<TriggerRow>(
    `SELECT x.name AS table, t.tgname::text AS name, t.tgtype::int AS type, t.tgqual IS NOT NULL AS has_when,
            (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = t.tgrelid AND a.attnum = ANY(t.tgattr)) AS cols
       FROM unnest($1::text[], $2::text[]) AS x(name, rel)
       JOIN pg_trigger t ON t.tgrelid = x.rel::regclass
       JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE NOT t.tgisinternal AND t.tgenabled IN ('O', 'A')
        AND EXISTS (SELECT 1 FROM unnest($3::text[]) n(a)
                     WHERE position(lower(n.a) IN lower(coalesce(p.prosrc, '') || ' ' || encode(t.tgargs, 'escape'))) > 0)
      ORDER BY 1, 2`,
    [tables.map((t) => t.name), tables.map((t) => qualified(t.target.schema, t.target.name)), audit.map((a) => a.name)],
  );
  return res.rows;
}

/**
 * Take the declared audit tables' rows out of `counts` (mutated: what is left is for the caller's
 * own proof) and check them against what `ops` make the triggers write. Returns the proof and the
 * problems found (empty: proven). No audit tables declared: nothing taken, null.
 */
export async function proveAudit(
  db: Client,
  r: Resolved,
  counts: Counts,
  ops: AuditOp[],
): Promise<{ proof: AuditProof | null; wrong: string[] }> {
  const audit = r.rules.auditTables;
  if (audit.length === 0) return { proof: null, wrong: [] };
  const wrong: string[] = [];
  const owner = await tablesOfRelations(
    db,
    audit.map((a) => ({ name: a.qualified, regclass: qualified(a.schema, a.name) })),
  );
  const inserted: Record<string, number> = Object.fromEntries(audit.map((a) => [a.qualified, 0]));
  for (const [oid, c] of [...counts]) {
    const table = owner.get(oid);
    if (!table) continue;
    counts.delete(oid);
    inserted[table] += c.inserted;
    if (c.updated || c.deleted)
      wrong.push(
        `${c.relation} (audit table): the transaction updated ${c.updated}, deleted ${c.deleted}; an audit table may only receive inserts`,
      );
  }
  const triggers: AuditProof['triggers'] = [];
  const found = await auditingTriggers(db, [...new Set(ops.map((o) => o.table))], audit);
  let expected = 0;
  for (const t of found) {
    const events = (Object.keys(EVENT_BIT) as (keyof typeof EVENT_BIT)[]).filter((e) => (t.type & EVENT_BIT[e]) !== 0);
    const level = (t.type & ROW) !== 0 ? 'row' : 'statement';
    let rows = 0;
    for (const op of ops.filter((o) => o.table.name === t.table && events.includes(o.event))) {
      if (op.event === 'UPDATE' && t.cols?.length && !t.cols.some((c) => op.columns?.includes(c))) continue;
      if (t.has_when) {
        wrong.push(
          `${t.table}: trigger ${t.name} writes to an audit table under a WHEN condition: how many audit rows it writes cannot be predicted, so the transaction cannot be proven`,
        );
        continue;
      }
      rows += level === 'row' ? op.rows : op.statements;
    }
    expected += rows;
    triggers.push({ table: t.table, trigger: t.name, level, events, rows });
  }
  const total = Object.values(inserted).reduce((a, b) => a + b, 0);
  if (total !== expected) {
    const explained =
      triggers.map((t) => `${t.table}.${t.trigger} (${t.level}, ${t.events.join('/')}) ${t.rows}`).join(', ') ||
      'no trigger naming an audit table';
    wrong.push(
      `audit tables ${audit.map((a) => a.qualified).join(', ')}: the transaction inserted ${total} row(s); the triggers on the tables it wrote explain ${expected} (${explained}; rule: ${AUDIT_RULE})`,
    );
  }
  return { proof: { rule: AUDIT_RULE, inserted, expected, triggers }, wrong };
}
