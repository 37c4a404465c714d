// Step 8, remap + publish: build the id maps, rewrite foreign keys through them and insert the
// staged rows into production in FK order, in ONE transaction (all or nothing). Production
// triggers and constraints stay in force: a row production would refuse is refused here. Before
// COMMIT the transaction proves from its own counts that it changed no pre-existing row (cost does
// not grow with production); `validation.preExisting: full` also checksums every pre-existing row.
// Locks: ROW EXCLUSIVE on the plan's tables (as any INSERT), row locks on the rows it writes and
// KEY SHARE on the parents its FK checks read; no table lock that blocks application writes.
// No lock is waited for longer than the plan's locks.timeout: the transaction retries with backoff,
// the progress naming the session in the way (db/lock-wait.ts).
import type { Client } from 'pg';
import type { PublishResult, StepInput } from '../common/results';
import { checksum, columnsOf } from './db/checksum';
import { provePublishCounts } from './publish/publish-proof';
import type { AuditOp } from './db/audit-proof';
import { xactCounts } from './db/xact-counts';
import { ident, qualified } from './db/connect';
import { withContext } from './db/keep-alive';
import { slotsEqual } from './db/keys';
import { insertedKeys } from './db/row-identity';
import { buildMap, createMap, isMapped, mappedRows, restoreMap } from './db/remap';
import { requireStaged } from './db/staging-state';
import { writeManifest } from './publish/published-keys';
import { analyzeTables } from './db/analyze-staging';
import { accessSnapshot } from './db/access-snapshot';
import type { Resolved, ResolvedTable } from './db/resolve';
import { runNames, type StagingNames } from './db/staging';
import { conflictError } from './errors';
import { chaosPoint, slowTableForTests } from './db/fault';
import { stagedCounts, StepTracker } from './db/step-progress';
import { limitLockWaits, lockPolicy, withLockRetry } from './db/lock-wait';

const MAX_LISTED = 20;

export async function publish(input: StepInput): Promise<PublishResult> {
  const progress = new StepTracker('publish');
  return withContext(
    input.plan,
    async (ctx) => {
      const { target, resolved } = ctx;
      progress.expect(resolved.tables.map((t) => ({ table: t.name })));
      const names = runNames(input.runKey);
      await requireStaged(target, names);
      // A retry after a commit whose answer was lost, or a run reset to before publish, must not
      // publish twice. Staging may have been rebuilt since: its id maps come back from cutover.id_map.
      const prior = await target.query<{ r: PublishResult }>(
        'SELECT publish_result AS r FROM cutover.run WHERE run_key = $1 AND published_at IS NOT NULL',
        [input.runKey],
      );
      if (prior.rows.length > 0) {
        for (const t of resolved.tables.filter(isMapped)) await restoreMap(target, input.runKey, t, names);
        return prior.rows[0].r;
      }

      await chaosPoint(input.plan.id, 'publish.start');
      const prods = resolved.tables.map((t) => qualified(t.target.schema, t.target.name));
      const policy = lockPolicy(input.plan);
      const onWait = (m: string | null) => progress.phase(m ?? 'locks taken');
      return withLockRetry(target, policy, { what: 'publish', relations: prods, mode: 'RowExclusiveLock', onWait }, async () => {
        await target.query('BEGIN');
        try {
          // No lock on production is waited for longer than locks.timeout; the plan's tables are locked
          // first, as their INSERTs would (ROW EXCLUSIVE: application writes go on), so a session in the
          // way is met before any work is done, and a timeout anywhere retries the whole transaction.
          await limitLockWaits(target, policy);
          await target.query(`LOCK TABLE ${prods.join(', ')} IN ROW EXCLUSIVE MODE`);
          // Earlier statements of this session may still show in pg_stat_xact_*: the proof is a difference.
          const baseline = await xactCounts(target);
          const full = input.plan.validation?.preExisting === 'full';
          const inserted = new Map<string, number>();
          const updated = new Map<string, number>();
          const add = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);
          progress.phase('building id maps');
          const maps = await buildMaps(target, resolved, names);
          // The inserts below and validate join through the maps (staging: left out of the proof).
          await analyzeTables(
            target,
            resolved.tables.filter(isMapped).map((t) => names.map(t.index)),
          );
          // Taken inside the transaction, before anything is written: a retry returns the same snapshot.
          const result: PublishResult = {
            tables: [],
            accessBefore: await accessSnapshot(
              target,
              resolved.tables.map((t) => t.target),
            ),
          };
          progress.phase('inserting');
          const counts = await stagedCounts(target, names);
          const toInsert = (name: string) =>
            counts[name] ? counts[name].inScope - counts[name].leftBehind - (maps[name]?.merged ?? 0) : undefined;
          progress.expect(resolved.tables.map((t) => ({ table: t.name, total: toInsert(t.name) })));
          for (const t of resolved.tables) {
            progress.table(t.name);
            await slowTableForTests(target, 'publish');
            const prod = qualified(t.target.schema, t.target.name);
            // Only on request: it reads every production row, so its cost grows with production.
            const preExistingChecksum = full
              ? await checksum(
                  target,
                  `${prod} p`,
                  columnsOf(
                    'p',
                    t.target.columns.map((c) => c.name),
                  ),
                )
              : undefined;
            const rows = mappedRows(t, resolved, names);
            const cols = t.columns.map((c) => ident(c.name)).join(', ');
            const later = new Set(t.deferred.flatMap((fk) => fk.columns));
            const values = t.columns.map((c) => (later.has(c.name) ? `NULL::${c.type}` : rows.exprs.get(c.name)!)).join(', ');
            const overriding = t.columns.some((c) => c.identity === 'a') ? ' OVERRIDING SYSTEM VALUE' : '';
            const ins = await target.query(
              `INSERT INTO ${prod} (${cols})${overriding} SELECT ${values} FROM ${rows.from} WHERE ${rows.movedOnly}`,
            );
            add(inserted, t.name, ins.rowCount ?? 0);
            add(inserted, 'cutover.published_keys', await writeManifest(target, input.runKey, t, names, resolved));
            await advanceSequences(target, t);
            result.tables.push({
              table: t.name,
              inserted: ins.rowCount ?? 0,
              merged: maps[t.name]?.merged ?? 0,
              ...(full ? { preExistingChecksum } : {}),
            });
            progress.done(t.name, ins.rowCount ?? 0);
            await chaosPoint(input.plan.id, 'publish.mid-insert');
          }
          progress.phase('committing');
          for (const t of resolved.tables.filter((x) => x.deferred.length > 0))
            add(updated, t.name, await closeCycle(target, t, resolved, names));
          result.preExisting = full ? 'full' : 'count';
          result.xid = (await target.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0].x;
          // Production's declared audit tables: one INSERT per plan table, one cycle-closing UPDATE per table with deferred keys.
          const audit = { ops: auditOps(resolved, result, updated), proven: undefined as PublishResult['audit'] };
          result.transactionCounts = await provePublishCounts(target, resolved, names.schema, baseline, { inserted, updated }, audit);
          if (audit.proven) result.audit = audit.proven;
          await target.query(`UPDATE cutover.run SET status = 'published', published_at = now(), publish_result = $2 WHERE run_key = $1`, [
            input.runKey,
            JSON.stringify(result),
          ]);
          await chaosPoint(input.plan.id, 'publish.before-commit');
          await target.query('COMMIT');
          await chaosPoint(input.plan.id, 'publish.after-commit');
          // The chunks of the manifest and id map just grew: later steps filter them by run and table.
          await target.query('ANALYZE cutover.published_keys').catch(() => undefined);
          return result;
        } catch (e) {
          await target.query('ROLLBACK');
          // Production's own unique check found a key it holds: list the keys (the error names one).
          if ((e as { code?: string }).code === '23505') await refuseConflicts(target, resolved, names);
          throw e;
        }
      });
    },
    { details: progress.details },
  );
}

/** The statements publish ran on each plan table, for the audit tables' proof (db/audit-proof.ts). */
function auditOps(r: Resolved, result: PublishResult, updated: Map<string, number>): AuditOp[] {
  return r.tables.flatMap((t) => [
    { table: t, event: 'INSERT' as const, rows: result.tables.find((x) => x.table === t.name)?.inserted ?? 0, statements: 1 },
    ...(t.deferred.length > 0
      ? [
          {
            table: t,
            event: 'UPDATE' as const,
            rows: updated.get(t.name) ?? 0,
            statements: 1,
            columns: t.deferred.flatMap((fk) => fk.columns),
          },
        ]
      : []),
  ]);
}

/**
 * After an insert was refused as a duplicate: the staged keys production already holds, up to 20 per
 * table, found in a transaction of their own (the id maps built again, then rolled back). Checking
 * before every insert cost a second probe of each key; the insert's unique index makes that probe.
 * A duplicate of another unique column lists nothing here: the database's own error says which.
 */
async function refuseConflicts(target: Client, r: Resolved, names: StagingNames): Promise<void> {
  await target.query('BEGIN');
  try {
    await buildMaps(target, r, names);
    const conflicts = await findConflicts(target, r, names);
    if (conflicts.length > 0) {
      throw conflictError(
        `these keys already exist in production, nothing published:\n${conflicts.map((c) => `  ${c.table}: ${c.keys.join(' ')}${c.more ? ' …' : ''}`).join('\n')}`,
        conflicts,
      );
    }
  } finally {
    await target.query('ROLLBACK');
  }
}

/** The id map of every mapped table, new keys drawn from the sequences; merged and moved per table. */
async function buildMaps(target: Client, r: Resolved, names: StagingNames): Promise<Record<string, { merged: number; moved: number }>> {
  const maps: Record<string, { merged: number; moved: number }> = {};
  // Every map exists before the first is filled: a key rewritten through a parent reads its map.
  for (const t of r.tables.filter(isMapped)) await createMap(target, t, names, false);
  for (const t of r.tables.filter(isMapped)) maps[t.name] = await buildMap(target, t, r, names, true);
  return maps;
}

/** Set the cycle-closing FK columns that were published NULL, now that their parents are in. */
async function closeCycle(db: Client, t: ResolvedTable, r: Resolved, names: StagingNames): Promise<number> {
  const rows = mappedRows(t, r, names);
  const cols = t.deferred.flatMap((fk) => fk.columns);
  const set = cols.map((c) => `${ident(c)} = x.${ident(c)}`).join(', ');
  const select = [
    ...t.key.map((k) => `${rows.exprs.get(k)} AS ${ident(`k_${k}`)}`),
    ...cols.map((c) => `${rows.exprs.get(c)} AS ${ident(c)}`),
  ].join(', ');
  const res = await db.query(
    `UPDATE ${qualified(t.target.schema, t.target.name)} p SET ${set}
       FROM (SELECT ${select} FROM ${rows.from} WHERE ${rows.movedOnly}) x
      WHERE ${t.key.map((k) => `p.${ident(k)} = x.${ident(`k_${k}`)}`).join(' AND ')}`,
  );
  return res.rowCount ?? 0;
}

/**
 * Keys about to be inserted that production already holds, by the rows' Production keys
 * (activities/db/row-identity.ts: a keep table's key rewritten through its parents' maps too).
 */
async function findConflicts(target: Client, r: Resolved, names: StagingNames) {
  const out: { table: string; keys: string[]; more: boolean }[] = [];
  for (const t of r.tables) {
    const prod = qualified(t.target.schema, t.target.name);
    const sql = `SELECT jsonb_build_array(${t.key.map((_, i) => `k.k${i}`).join(', ')}) AS k FROM (${insertedKeys(t, r, names)}) k
                   JOIN ${prod} p ON ${slotsEqual('k', 'k', 'p', t.key)}`;
    const res = await target.query<{ k: unknown[] }>(`${sql} LIMIT ${MAX_LISTED + 1}`);
    if (res.rows.length > 0) {
      const keys = res.rows.slice(0, MAX_LISTED).map((row) => `(${t.key.join(', ')})=(${row.k.join(', ')})`);
      out.push({ table: t.name, keys, more: res.rows.length > MAX_LISTED });
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
