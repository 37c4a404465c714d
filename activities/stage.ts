// Step 6, stage: one consistent snapshot of the Pilot, selected rows streamed with COPY into unlogged
// staging tables on the target. A retry restages everything from a new snapshot: snapshots never mix.
import { Context } from '@temporalio/activity';
import type { Client } from 'pg';
import type { TableProgress } from '../workflows/api';
import type { StageResult, StepInput } from './types';
import { ident, qualified, connect, resolveAlias } from './db/connect';
import { openContext } from './db/context';
import { ensureControlSchema, stagingSchema, stagingTable } from './db/control-schema';
import { copyQuery } from './db/copy';
import type { ResolvedTable } from './db/resolve';
import { bindParams, Selection } from './db/selection';
import { recordRun } from './db/run-registry';

export interface StageInput extends StepInput {
  expectedRows?: Record<string, number>; // from the dry run, for progress
}

export async function stage(input: StageInput): Promise<StageResult> {
  const { plan, runKey } = input;
  const ctx = await openContext(plan);
  const extra: Client[] = [];
  try {
    const { source, target, resolved } = ctx;
    await ensureControlSchema(target);
    await recordRun(target, input, 'staging');
    const schema = stagingSchema(runKey);
    await target.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
    await target.query(`CREATE SCHEMA ${ident(schema)}`);
    for (const t of resolved.tables) {
      const cols = t.columns.map((c) => `${ident(c.name)} ${c.type}`).join(', ');
      await target.query(`CREATE UNLOGGED TABLE ${qualified(schema, stagingTable(t.index, t.name))} (${cols})`);
    }

    await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await source.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0].s;

    // Worker lanes: each a source connection in the same snapshot and a target connection.
    const lanes = Math.max(1, Math.min(plan.parallelism ?? 2, resolved.tables.length));
    const pairs: { src: Client; tgt: Client }[] = [{ src: source, tgt: target }];
    for (let i = 1; i < lanes; i++) {
      const src = await connect(resolveAlias(plan.source), `cutover:${plan.id}:source`);
      extra.push(src);
      await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      if (!/^[0-9A-F-]+$/i.test(snapshot)) throw new Error(`unexpected snapshot id ${snapshot}`);
      await src.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
      const tgt = await connect(resolveAlias(plan.target), `cutover:${plan.id}:target`);
      extra.push(tgt);
      pairs.push({ src, tgt });
    }

    const progress: Record<string, TableProgress> = {};
    for (const t of resolved.tables) {
      progress[t.name] = { table: t.name, rowsCopied: 0, rowsTotal: input.expectedRows?.[t.name] ?? 0, phase: 'waiting' };
    }
    const beat = () => Context.current().heartbeat(Object.values(progress));
    const queue = [...resolved.tables];
    const results: { table: string; rows: number }[] = [];
    const copyOne = async (lane: { src: Client; tgt: Client }, t: ResolvedTable) => {
      progress[t.name].phase = 'copying';
      beat();
      const sel = new Selection(resolved);
      const sql = sel.rowsSql(t);
      // set_config is transaction-local: bind inside a savepoint-free, already open snapshot transaction.
      await bindParams(lane.src, sel.params);
      const rows = await copyQuery(lane.src, sql, lane.tgt, qualified(schema, stagingTable(t.index, t.name)), t.columns.map((c) => c.name), (n) => {
        progress[t.name].rowsCopied = n;
        beat();
      });
      progress[t.name] = { ...progress[t.name], rowsCopied: rows, phase: 'staged' };
      beat();
      results.push({ table: t.name, rows });
    };
    await Promise.all(
      pairs.map(async (lane) => {
        for (let t = queue.shift(); t; t = queue.shift()) await copyOne(lane, t);
      }),
    );
    for (const p of pairs) await p.src.query('COMMIT');
    await recordRun(target, input, 'staged');
    const order = resolved.tables.map((t) => t.name);
    results.sort((a, b) => order.indexOf(a.table) - order.indexOf(b.table));
    return { schema, snapshot, tables: results };
  } finally {
    await Promise.allSettled(extra.map((c) => c.end()));
    await ctx.close();
  }
}
