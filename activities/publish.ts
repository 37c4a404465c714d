// Step 8, publish: insert the staged rows into production in FK order, in ONE transaction.
// Production triggers and constraints stay in force: a row production would refuse is refused here.
import type { Client } from 'pg';
import type { PublishResult, StepInput } from './types';
import { checksum } from './db/checksum';
import { ident, qualified } from './db/connect';
import { openContext } from './db/context';
import { stagingSchema, stagingTable } from './db/control-schema';
import { keyEquals, keyJson, keyList } from './db/keys';
import type { ResolvedTable } from './db/resolve';
import { conflictError } from './errors';

const MAX_LISTED = 20;

export async function publish(input: StepInput): Promise<PublishResult> {
  const ctx = await openContext(input.plan);
  const { target, resolved } = ctx;
  try {
    // A retry after a commit whose answer was lost must not publish twice.
    const prior = await target.query<{ r: PublishResult }>(
      'SELECT publish_result AS r FROM cutover.run WHERE run_key = $1 AND published_at IS NOT NULL',
      [input.runKey],
    );
    if (prior.rows.length > 0) return prior.rows[0].r;

    const schema = stagingSchema(input.runKey);
    await target.query('BEGIN');
    try {
      const conflicts = await findConflicts(target, schema, resolved.tables);
      if (conflicts.length > 0) {
        throw conflictError(`ids: keep would overwrite existing production rows, nothing published:\n${conflicts.map((c) => `  ${c.table}: ${c.keys.join(' ')}${c.more ? ' …' : ''}`).join('\n')}`, conflicts);
      }
      const result: PublishResult = { tables: [] };
      for (const t of resolved.tables) {
        const prod = qualified(t.target.schema, t.target.name);
        const stg = qualified(schema, stagingTable(t.index, t.name));
        const preExistingChecksum = await checksum(target, `${prod} p`, 'p', t.target.columns.map((c) => c.name));
        const cols = t.columns.map((c) => ident(c.name)).join(', ');
        const overriding = t.columns.some((c) => c.identity === 'a') ? ' OVERRIDING SYSTEM VALUE' : '';
        const ins = await target.query(`INSERT INTO ${prod} (${cols})${overriding} SELECT ${cols} FROM ${stg}`);
        await target.query(
          `INSERT INTO cutover.manifest (run_key, table_name, key, outcome) SELECT $1, $2, ${keyJson('s', t.key)}, 'moved' FROM ${stg} s`,
          [input.runKey, t.name],
        );
        await advanceSequences(target, t);
        result.tables.push({ table: t.name, inserted: ins.rowCount ?? 0, preExistingChecksum });
      }
      await target.query(`UPDATE cutover.run SET status = 'published', published_at = now(), publish_result = $2 WHERE run_key = $1`, [
        input.runKey,
        JSON.stringify(result),
      ]);
      await target.query('COMMIT');
      return result;
    } catch (e) {
      await target.query('ROLLBACK');
      throw e;
    }
  } finally {
    await ctx.close();
  }
}

async function findConflicts(target: Client, schema: string, tables: ResolvedTable[]) {
  const out: { table: string; keys: string[]; more: boolean }[] = [];
  for (const t of tables.filter((x) => x.spec.ids === 'keep')) {
    const r = await target.query<{ k: unknown[] }>(
      `SELECT jsonb_build_array(${keyList('s', t.key)}) AS k FROM ${qualified(schema, stagingTable(t.index, t.name))} s
        JOIN ${qualified(t.target.schema, t.target.name)} p ON ${keyEquals('s', 'p', t.key)} LIMIT ${MAX_LISTED + 1}`,
    );
    if (r.rows.length > 0) {
      const keys = r.rows.slice(0, MAX_LISTED).map((row) => `(${t.key.join(', ')})=(${row.k.join(', ')})`);
      out.push({ table: t.name, keys, more: r.rows.length > MAX_LISTED });
    }
  }
  return out;
}

/** Leave serial/identity sequences ahead of every published value, so production inserts don't collide. */
async function advanceSequences(target: Client, t: ResolvedTable): Promise<void> {
  for (const c of t.columns.filter((x) => x.sequence)) {
    await target.query(
      `SELECT setval($1::regclass, m) FROM (SELECT max(${ident(c.name)})::bigint AS m FROM ${qualified(t.target.schema, t.target.name)}) x
        WHERE m IS NOT NULL AND m > coalesce(pg_sequence_last_value($1::regclass), 0)`,
      [c.sequence],
    );
  }
}
