// What a clean-start archives: every table of the Pilot with its row count, as the dry run of a
// run that moves nothing. Read in one read-only snapshot so the counts agree with each other.
import type { Client } from 'pg';
import { tableKey } from '../../plan/names';
import type { TableDryRun } from '../../common/results';
import { qualified } from '../db/connect';
import { inTransaction } from '../db/transaction';

export async function pilotInventory(source: Client): Promise<TableDryRun[]> {
  // One snapshot for every table's count; read only, and rolled back.
  return inTransaction(
    source,
    async () => {
      const tables = await source.query<{ schema: string; name: string }>(
        `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'cutover') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT LIKE 'cutover\\_%'
        ORDER BY 1, 2`,
      );
      const out: TableDryRun[] = [];
      for (const [order, t] of tables.rows.entries()) {
        const n = Number((await source.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualified(t.schema, t.name)}`)).rows[0].n);
        out.push({
          table: tableKey(t),
          order,
          ids: 'keep',
          select: 'archived (not moved)',
          total: n,
          inScope: 0,
          toMove: 0,
          merged: 0,
          leftBehind: {},
          collisions: 0,
          archived: n,
        });
      }
      return out;
    },
    { isolation: 'REPEATABLE READ', readOnly: true, end: 'rollback' },
  );
}
