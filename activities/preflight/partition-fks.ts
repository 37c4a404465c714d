// Foreign keys declared on some partitions only. The catalog treats them as the partitioned table's
// FK (remapping, ordering, dangling checks); PostgreSQL enforces them nowhere else, so before
// anything moves the rows of the partitions without the constraint must satisfy it — otherwise
// the plan is refused naming those partitions and example rows (the FK is then not what it seems).
import type { Client } from 'pg';
import type { Table } from '../db/catalog';
import { ident, qualified } from '../db/connect';
import type { PlanIssue } from '../../plan/issues';
import type { ResolvedTable } from '../db/resolve';

const EXAMPLES = 5;

export async function checkPartialForeignKeys(db: { source: Client; target: Client }, tables: ResolvedTable[]): Promise<PlanIssue[]> {
  const issues: PlanIssue[] = [];
  for (const t of tables) {
    // The catalogs as they are (not the run's views): this reads each database in its own names.
    for (const [side, table, client] of [
      ['source', t.pilot, db.source],
      ['target', t.production, db.target],
    ] as [string, Table, Client][]) {
      for (const fk of table.foreignKeys.filter((f) => f.missingOn?.length)) {
        for (const partition of fk.missingOn!) {
          const cols = fk.columns.map((c) => `p.${ident(c)}`);
          const res = await client.query<{ v: unknown[] }>(
            `SELECT jsonb_build_array(${cols.join(', ')}) AS v FROM ${partition} p
              WHERE ${cols.map((c) => `${c} IS NOT NULL`).join(' AND ')}
                AND NOT EXISTS (SELECT 1 FROM ${qualified(fk.ref.schema, fk.ref.name)} r
                                 WHERE ${fk.columns.map((c, i) => `r.${ident(fk.refColumns[i])} = p.${ident(c)}`).join(' AND ')})
              LIMIT ${EXAMPLES + 1}`,
          );
          if (res.rows.length === 0) continue;
          const examples = res.rows.slice(0, EXAMPLES).map((r) => `(${fk.columns.join(', ')})=(${r.v.join(', ')})`);
          issues.push({
            path: `tables[${t.index}].table`,
            message: `${t.name} (${side}): foreign key ${fk.name} → ${fk.refTable} is not declared on partition ${partition}, and rows there break it: ${examples.join('; ')}${res.rows.length > EXAMPLES ? '; …' : ''}. Declare the constraint on every partition (or on ${t.name}) or fix those rows`,
          });
        }
      }
    }
  }
  return issues;
}
