// Rows outside the restored tables that reference their rows: a restore deletes every current row
// of the plan's tables before loading the backup's, so a row of another table pointing at one of
// them (through any FK in production's catalog, declared on a table or a partition) would make the
// delete fail — or, with ON DELETE CASCADE / SET NULL, silently change a table the restore does not
// own. The restore lists up to `limit` of them and stops before deleting anything.
import type { Client } from 'pg';
import { tableKey } from '../../plan/names';
import { ident, qualified } from '../db/connect';
import { fkEquals } from '../db/keys';
import { fksReferencing, type ReferencingRow } from '../db/referencing-rows';
import type { ResolvedTable } from '../db/resolve';

export async function rowsReferencingTables(
  db: Client,
  tables: ResolvedTable[],
  limit: number,
): Promise<{ rows: ReferencingRow[]; more: boolean }> {
  const { byOid, fks } = await fksReferencing(db, tables);
  const rows: ReferencingRow[] = [];
  for (const fk of fks.filter((f) => !byOid.has(f.child_root))) {
    if (rows.length > limit) break;
    const parent = byOid.get(fk.ref_root)!;
    const keyJson = fk.pk ? `jsonb_build_array(${fk.pk.map((k) => `c.${ident(k)}`).join(', ')})` : 'jsonb_build_array(c.ctid::text)';
    const res = await db.query<{ k: unknown[] }>(
      `SELECT ${keyJson} AS k FROM ${qualified(fk.schema, fk.rel)} c
        WHERE EXISTS (SELECT 1 FROM ${qualified(parent.target.schema, parent.target.name)} p WHERE ${fkEquals({ columns: fk.cols, refColumns: fk.refcols }, 'p', 'c')})
        LIMIT ${limit + 1 - rows.length}`,
    );
    for (const r of res.rows) {
      rows.push({
        table: tableKey({ schema: fk.schema, name: fk.rel }),
        key: fk.pk ? `(${fk.pk.join(', ')})=(${r.k.join(', ')})` : `ctid ${r.k[0]}`,
        fk: fk.name,
        references: parent.name,
      });
    }
  }
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}
