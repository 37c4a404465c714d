// A rehearsal restores the target backup, which (scope touched-tables) holds rows of the plan's
// tables only. Production rows those tables reference through foreign keys — a rental's inventory,
// its film, the store — are what the run's dangling checks and FK constraints rely on, so without
// them the rehearsal would refuse (or fail) what the real run would do fine. This copies, read-only
// from Production into the scratch database, every table the plan's tables reference, transitively,
// that the backup left empty, before the constraints are restored. Nothing is written to Production.
// Production-side erasure registers (erasure.registers[].db: target) are copied too, whatever the
// backup scope, replacing what the backup held: cleanup must read them as they are at the rehearsal
// (as the real run reads them at stage), or an erased person would move in the rehearsal.
import type { Client } from 'pg';
import { tableKey } from '../../plan/names';
import { connect, qualified } from '../db/connect';
import { copyQuery } from '../db/copy';
import { inTransaction } from '../db/transaction';

/** Tables (roots of partitioned ones) referenced from `planTables`, transitively, outside the plan. */
async function referencedParents(
  prod: Client,
  planTables: { schema: string; name: string }[],
): Promise<{ schema: string; name: string }[]> {
  const res = await prod.query<{ schema: string; name: string }>(
    `WITH RECURSIVE plan AS (
       SELECT c.oid FROM unnest($1::text[], $2::text[]) p(s, n)
         JOIN pg_namespace ns ON ns.nspname = p.s JOIN pg_class c ON c.relnamespace = ns.oid AND c.relname = p.n),
     rel(oid) AS (                                   -- the plan's tables and every partition of them
       SELECT oid FROM plan UNION SELECT relid FROM plan, LATERAL pg_partition_tree(plan.oid)),
     up(oid) AS (
       SELECT DISTINCT coalesce(pg_partition_root(con.confrelid), con.confrelid)
         FROM pg_constraint con WHERE con.contype = 'f' AND con.conrelid IN (SELECT oid FROM rel)
       UNION
       SELECT coalesce(pg_partition_root(con.confrelid), con.confrelid)
         FROM up JOIN pg_constraint con ON con.contype = 'f'
          AND (con.conrelid = up.oid OR con.conrelid IN (SELECT relid FROM pg_partition_tree(up.oid))))
     SELECT n.nspname AS schema, c.relname AS name FROM up JOIN pg_class c ON c.oid = up.oid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE up.oid NOT IN (SELECT oid FROM plan) ORDER BY 1, 2`,
    [planTables.map((t) => t.schema), planTables.map((t) => t.name)],
  );
  return res.rows;
}

type Ref = { schema: string; name: string };
export interface CopiedFromProduction {
  parentsCopied: { table: string; rows: number }[];
  registersCopied: { table: string; rows: number }[];
}

/** Copy each referenced table the scratch database holds no rows of; returns what was copied. */
export async function copyReferencedParents(
  productionUrl: string,
  scratchUrl: string,
  planTables: Ref[],
): Promise<{ table: string; rows: number }[]> {
  return (await copyFromProduction(productionUrl, scratchUrl, planTables, [])).parentsCopied;
}

/**
 * In one read-only snapshot of Production: the registers (their rows replace the backup's; a
 * register that is also a plan table keeps the backup's rows), then every table outside the plan
 * that plan tables or registers reference, transitively, that the scratch database holds no rows of.
 */
export async function copyFromProduction(
  productionUrl: string,
  scratchUrl: string,
  planTables: Ref[],
  registers: Ref[],
): Promise<CopiedFromProduction> {
  const prod = await connect(productionUrl, 'cutover:rehearsal-parents');
  const scratch = await connect(scratchUrl, 'cutover:rehearsal-parents');
  try {
    // One snapshot of Production for all of them, so they agree with each other.
    return await inTransaction(
      prod,
      async () => {
        const isPlan = (r: Ref) => planTables.some((p) => p.schema === r.schema && p.name === r.name);
        const registersCopied: { table: string; rows: number }[] = [];
        const seen = new Set<string>();
        for (const r of registers) {
          const key = tableKey(r);
          if (isPlan(r) || seen.has(key)) continue;
          seen.add(key);
          const q = qualified(r.schema, r.name);
          await scratch.query(`TRUNCATE ${q}`); // no foreign keys yet: post-data is restored after this
          registersCopied.push({ table: key, rows: await copyAll(prod, scratch, q) });
        }
        const parentsCopied: { table: string; rows: number }[] = [];
        for (const t of await referencedParents(prod, [...planTables, ...registers.filter((r) => !isPlan(r))])) {
          const q = qualified(t.schema, t.name);
          if (seen.has(tableKey(t))) continue;
          const has = await scratch.query(`SELECT 1 FROM ${q} LIMIT 1`);
          if (has.rows.length > 0) continue; // the backup held its rows (scope: full)
          parentsCopied.push({ table: tableKey(t), rows: await copyAll(prod, scratch, q) });
        }
        return { parentsCopied, registersCopied };
      },
      { isolation: 'REPEATABLE READ', readOnly: true, end: 'rollback' },
    );
  } finally {
    await Promise.allSettled([prod.end(), scratch.end()]);
  }
}

/** Every row of one table (its stored columns) from Production into the scratch database. */
async function copyAll(prod: Client, scratch: Client, q: string): Promise<number> {
  const cols = await prod.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum`,
    [q],
  );
  const names = cols.rows.map((c) => c.name);
  return copyQuery(prod, `SELECT ${names.map((n) => `"${n.replace(/"/g, '""')}"`).join(', ')} FROM ${q}`, scratch, q, names);
}
