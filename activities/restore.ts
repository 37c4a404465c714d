// Rollback by restore: production's plan tables set back to the run's verified target backup, the
// alternative when a surgical rollback is blocked (rows written since publish reference ours).
// Approved at gate `restore` after the preview said what it discards. In ONE transaction on
// production, after the object was re-read, re-hashed and restored into a scratch database:
//   1. the plan tables locked against writers (EXCLUSIVE: reads go on; taken with NOWAIT, tried
//      again for up to locks.timeout and then with backoff, so the request never queues ahead of the
//      application's inserts), the backup's rows streamed
//      from the scratch copy into session temp tables (db/backup-rows.ts);
//   2. rows of other tables referencing the plan tables' rows stop it, listed (up to 20);
//   3. every current row deleted, children first (cycle-closing FK columns cleared first), the
//      backup's rows inserted, parents first (cycle columns set last), through production's triggers;
//   4. sequences: each set to at least its backup value and never below its current one — values
//      handed out since the backup stay used, so no later insert collides with a key someone holds;
//   5. every erasure request of every register re-applied by production identity (a Pilot key through
//      the run's id map, db/erasure-subjects.ts; what cannot exist without the person deleted,
//      nullable references set to NULL, db/erasure-reapply.ts), logged;
//   6. verified: each table's count = the backup's count - erased rows; every row in production is
//      a backup row with the backup's content; no erased subject, no orphan (independent query).
// Any failure rolls everything back. The result is recorded in cutover.run in the same transaction,
// so a retry after a lost answer returns it instead of restoring (and discarding) again.
import type { Client } from 'pg';
import type { RestoreInput, RestoreResult, RestoreSequence, RestoreTable } from '../common/results';
import {
  backupCount,
  backupRowsTable,
  backupSequences,
  loadBackupRows,
  restoredColumns,
  withRestoredBackup,
  type BackupSequence,
} from './db/backup-rows';
import { ident, qualified, resolveAlias } from './db/connect';
import { ensureControlSchema } from './db/control-schema';
import { lockRunForUndo } from './db/run-registry';
import { erasedRows, nullifiedRows, reapplyErasures, verifyErasures, type Reapplied } from './db/erasure-reapply';
import { withContext } from './db/keep-alive';
import { chaosPoint } from './db/fault';
import { keyEquals, slotsEqual } from './db/keys';
import type { Resolved, ResolvedTable } from './db/resolve';
import { rowsReferencingTables } from './restore/restore-blockers';
import { rollbackBlocked, rollbackRefused } from './errors';
import { StepTracker } from './db/step-progress';
import { limitLockWaits, lockPolicy, lockWithoutQueueing, withLockRetry } from './db/lock-wait';
import { inTransaction } from './db/transaction';

const MAX_LISTED = 20;

export async function restore(input: RestoreInput): Promise<RestoreResult> {
  if (input.backup.kind !== 'target')
    throw rollbackRefused(`restore needs the target's backup; ${input.backup.location} is the ${input.backup.kind}'s`);
  const progress = new StepTracker('restore');
  return withContext(
    input.plan,
    async ({ source, target, resolved }) => {
      await ensureControlSchema(target);
      const prior = await priorResult(target, input.runKey);
      if (prior) return prior;
      progress.expect(
        resolved.tables.map((t) => ({ table: t.name, total: input.backup.tables?.find((b) => b.table === t.target.qualified)?.rows })),
      );
      progress.phase('restoring the backup into a scratch database');
      const prods = resolved.tables.map((t) => qualified(t.target.schema, t.target.name));
      const policy = lockPolicy(input.plan);
      const wait = {
        what: 'restore',
        relations: prods,
        mode: 'ExclusiveLock' as const,
        onWait: (m: string | null) => progress.phase(m ?? 'locks taken'),
      };
      return withRestoredBackup(resolveAlias(input.plan.target), input.runKey, input.backup, async (scratch, sha256) =>
        withLockRetry(target, policy, wait, async () => {
          return inTransaction(target, async () => {
            await limitLockWaits(target, policy);
            const row = await lockRunForUndo<RestoreResult>(target, input, 'restored', 'restore');
            if (row.prior) return row.prior;
            // Only when all of them are free at once: a queued EXCLUSIVE request would hold up the
            // application's inserts behind it for as long as it waits.
            await lockWithoutQueueing(target, `LOCK TABLE ${prods.join(', ')} IN EXCLUSIVE MODE NOWAIT`, policy.timeoutMs);
            progress.phase("loading the backup's rows");
            await loadBackupRows(scratch, target, resolved, input.backup);
            progress.phase('replacing the rows in production');
            const result = await restoreInTransaction(
              target,
              source,
              input,
              resolved,
              await backupSequences(scratch, input.backup),
              row.at,
              progress,
            );
            result.backup.sha256 = sha256;
            await target.query(
              `UPDATE cutover.run SET status = 'rolled-back', restored_at = now(), restore_result = $2 WHERE run_key = $1`,
              [input.runKey, JSON.stringify(result)],
            );
            await chaosPoint(input.plan.id, 'restore.before-commit');
            return result;
          });
        }),
      );
    },
    { details: progress.details },
  );
}

async function priorResult(db: Client, runKey: string): Promise<RestoreResult | null> {
  const { rows } = await db.query<{ r: RestoreResult | null }>(
    'SELECT restore_result AS r FROM cutover.run WHERE run_key = $1 AND restored_at IS NOT NULL',
    [runKey],
  );
  return rows[0]?.r ?? null;
}

async function restoreInTransaction(
  db: Client,
  source: Client,
  input: RestoreInput,
  r: Resolved,
  seqs: BackupSequence[],
  at: string,
  progress: StepTracker,
): Promise<RestoreResult> {
  const blockers = await rowsReferencingTables(db, r.tables, MAX_LISTED);
  if (blockers.rows.length > 0) {
    const list = blockers.rows.map((b) => `  ${b.table} ${b.key} (FK ${b.fk} → ${b.references})`).join('\n');
    throw rollbackBlocked(
      `rows of tables the restore does not cover reference rows it would replace; nothing restored:\n${list}${blockers.more ? '\n  …' : ''}`,
      blockers,
    );
  }
  const before = new Map<string, number>();
  for (const t of r.tables) before.set(t.name, await count(db, t));

  const deleted = new Map<string, number>();
  const restored = new Map<string, number>();
  try {
    for (const t of r.tables.filter((x) => x.deferred.length > 0)) {
      await db.query(
        `UPDATE ${prod(t)} SET ${deferredColumns(t)
          .map((c) => `${ident(c)} = NULL`)
          .join(', ')}`,
      );
    }
    for (const t of [...r.tables].reverse()) deleted.set(t.name, (await db.query(`DELETE FROM ${prod(t)}`)).rowCount ?? 0);
    for (const t of r.tables) {
      progress.table(t.name);
      const cols = restoredColumns(t);
      const cleared = new Set(deferredColumns(t));
      const res = await db.query(
        `INSERT INTO ${prod(t)} (${cols.map(ident).join(', ')}) OVERRIDING SYSTEM VALUE
         SELECT ${cols.map((c) => (cleared.has(c) ? 'NULL' : `b.${ident(c)}`)).join(', ')} FROM ${backupRowsTable(t)} b`,
      );
      restored.set(t.name, res.rowCount ?? 0);
      progress.done(t.name, res.rowCount ?? 0);
    }
    for (const t of r.tables.filter((x) => x.deferred.length > 0)) {
      await db.query(
        `UPDATE ${prod(t)} p SET ${deferredColumns(t)
          .map((c) => `${ident(c)} = b.${ident(c)}`)
          .join(', ')} FROM ${backupRowsTable(t)} b WHERE ${keyEquals('b', 'p', t.key)}`,
      );
    }
  } catch (e) {
    if ((e as { code?: string }).code === '23503') {
      throw rollbackBlocked(`restoring the backup's rows breaks a foreign key; nothing restored: ${(e as Error).message}`, {
        rows: [],
        more: false,
        error: (e as Error).message,
      });
    }
    throw e;
  }

  const sequences = await resetSequences(db, seqs);
  const erasures = await reapplyErasures(db, source, r, input.runKey, 'restore');

  // Verification, before COMMIT.
  const wrong: string[] = [];
  const tables: RestoreTable[] = [];
  const anonymized = new Set(Object.keys(erasures.anonymized));
  const nullified = new Set(Object.keys(erasures.nullified));
  for (const t of [...r.tables].reverse()) {
    const backupRows = backupCount(input.backup, t);
    // Deleted by the erasure; anonymized rows stay (checked to hold their values by verifyErasures).
    const erased = (erasures.rows[t.name] ?? 0) - (erasures.anonymized[t.name] ?? 0);
    const after = await count(db, t);
    const ok = after === backupRows - erased;
    if (!ok) wrong.push(`${t.name}: ${after} rows, expected the backup's ${backupRows} - ${erased} erased`);
    tables.push({
      table: t.name,
      before: before.get(t.name)!,
      deleted: deleted.get(t.name)!,
      restored: restored.get(t.name)!,
      erased,
      after,
      backupRows,
      ok,
    });
    const cols = restoredColumns(t);
    const row = (a: string) => `ROW(${cols.map((c) => `${a}.${ident(c)}`).join(', ')})::text`;
    // Rows the erasure changed (anonymized, or a reference set to NULL) are checked by verifyErasures instead.
    const changedByErasure =
      (anonymized.has(t.name) ? ` AND NOT EXISTS (SELECT 1 FROM ${erasedRows(t)} d WHERE ${slotsEqual('d', 'k', 'p', t.key)})` : '') +
      (nullified.has(t.name) ? ` AND NOT EXISTS (SELECT 1 FROM ${nullifiedRows(t)} d WHERE ${slotsEqual('d', 'k', 'p', t.key)})` : '');
    const foreign = await db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${prod(t)} p WHERE NOT EXISTS (SELECT 1 FROM ${backupRowsTable(t)} b WHERE ${keyEquals('b', 'p', t.key)} AND ${row('b')} = ${row('p')})${changedByErasure}`,
    );
    if (Number(foreign.rows[0].n) > 0) wrong.push(`${t.name}: ${foreign.rows[0].n} row(s) differ from the backup's`);
  }
  wrong.push(...(await verifyErasures(db, r)));
  if (wrong.length > 0)
    throw rollbackRefused(
      `restore refused, nothing committed: production would not equal the backup less the erasures:\n  ${wrong.join('\n  ')}`,
      { wrong },
    );

  const b = input.backup;
  return {
    runKey: input.runKey,
    restoredAt: at,
    backup: { location: b.location, sha256: b.sha256, size: b.size, snapshot: b.snapshot },
    tables,
    sequences,
    erasures,
    verification: verification(tables, sequences, erasures, b.location),
  };
}

const prod = (t: ResolvedTable) => qualified(t.target.schema, t.target.name);
const deferredColumns = (t: ResolvedTable) => [...new Set(t.deferred.flatMap((fk) => fk.columns))];

async function count(db: Client, t: ResolvedTable): Promise<number> {
  return Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${prod(t)}`)).rows[0].n);
}

/** Never below the current value (keys handed out since the backup stay used); raised to the backup's if that is ahead. */
async function resetSequences(db: Client, seqs: BackupSequence[]): Promise<RestoreSequence[]> {
  const out: RestoreSequence[] = [];
  for (const s of seqs) {
    const cur = await db.query<{ next: string }>(
      `SELECT (CASE WHEN is_called THEN last_value + 1 ELSE last_value END)::text AS next FROM ${s.qualified}`,
    );
    const currentNext = Number(cur.rows[0].next);
    const next = Math.max(currentNext, s.next);
    if (next > currentNext) await db.query(`SELECT setval($1::regclass, $2, false)`, [s.qualified, next]);
    out.push({ sequence: s.sequence, backupNext: s.next, currentNext, next });
  }
  return out;
}

function verification(tables: RestoreTable[], seqs: RestoreSequence[], erasures: Reapplied, location: string): string[] {
  const sum = (f: (t: RestoreTable) => number) => tables.reduce((a, t) => a + f(t), 0);
  return [
    `backup ${location} re-read and re-hashed, restored into a scratch database (dropped), its rows counted against the snapshot's`,
    `deleted ${sum((t) => t.deleted)} rows from ${tables.length} tables (children first) and restored ${sum((t) => t.restored)} from the backup (parents first), in one transaction`,
    `re-applied ${erasures.requests} erasure request(s), each subject by its production key (a Pilot key through this run's id map): ${sum((t) => t.erased)} rows erased, ${Object.values(erasures.anonymized).reduce((a, b) => a + b, 0)} kept anonymized (erasure.anonymize), ${Object.values(erasures.nullified).reduce((a, b) => a + b, 0)} kept with a reference set to NULL, each request logged in cutover.erasure_log`,
    "each table's row count equals the backup's count minus the erased rows",
    'every row in production is a row of the backup, column for column',
    'no row of an erased subject is left and no plan table row references a missing row (a query independent of the erasure)',
    `sequences never set below their current value: ${seqs.filter((s) => s.next > s.currentNext).length} raised to the backup's, ${seqs.filter((s) => s.next === s.currentNext).length} left as they were`,
  ];
}
