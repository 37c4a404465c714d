// Surgical rollback: delete exactly the rows this run inserted (by cutover.manifest / cutover.id_map),
// children first, in ONE transaction, and prove it before COMMIT without assuming production was
// quiet: (a) none of those rows is left, by key; (b) the transaction's own counts
// (pg_stat_xact_user_tables) are exactly those deletes plus the cycle-closing columns it cleared,
// and nothing else; (c) only where publish took one (validation.preExisting: full, or a run from
// before that option), each touched table's checksum against the one publish took before
// inserting: equal where production was quiet, otherwise reported as other writers' changes (or
// refused with validation.preExisting: full). Without it (a) and (b) are the proof, and nothing
// reads the whole of production. Rows production wrote since publish that reference
// ours stop it (RollbackBlocked). Merged rows, the manifest and the id map stay: they are the
// evidence. The outcome is recorded in cutover.run in the same transaction, so a retry after a
// lost answer returns it instead of deleting again.
import type { Client } from 'pg';
import { tableKey } from '../plan/names';
import type { RollbackInput, RollbackResult, RollbackTable, TransactionCount } from '../common/results';
import { checksum, columnsOf } from './db/checksum';
import { ident, qualified } from './db/connect';
import { ensureControlSchema } from './db/control-schema';
import { lockRunForUndo } from './db/run-registry';
import { withContext } from './db/keep-alive';
import { StepTracker } from './db/step-progress';
import { slotsEqual } from './db/keys';
import { refusesDelete, rowsReferencingRun, type ReferencingRow } from './db/referencing-rows';
import type { Resolved, ResolvedTable } from './db/resolve';
import { loadRunRows, runRowsFrom, runRowsTable } from './db/run-rows';
import { countsSince, xactCounts } from './db/xact-counts';
import { proveAudit } from './db/audit-proof';
import { rollbackBlocked, rollbackRefused } from './errors';
import { chaosPoint } from './db/fault';
import { limitLockWaits, lockPolicy, withLockRetry } from './db/lock-wait';
import { inTransaction } from './db/transaction';

const MAX_LISTED = 20;
export const OTHER_WRITERS = 'production changed since publish (other writers)';
export const NOT_CHECKSUMMED = 'production not checksummed (validation.preExisting: count)';

export async function rollback(input: RollbackInput): Promise<RollbackResult> {
  const progress = new StepTracker('rollback');
  return withContext(
    input.plan,
    async (ctx) => {
      const { target, resolved } = ctx;
      await ensureControlSchema(target);
      await chaosPoint(input.plan.id, 'rollback.start');
      const policy = lockPolicy(input.plan);
      const relations = resolved.tables.map((t) => qualified(t.target.schema, t.target.name));
      return withLockRetry(
        target,
        policy,
        { what: 'rollback', relations, mode: 'RowExclusiveLock', onWait: (m) => progress.phase(m ?? 'locks taken') },
        async () => {
          const result = await inTransaction(target, async () => {
            await limitLockWaits(target, policy); // locks.timeout: a wait past it retries the transaction
            const row = await lockRunForUndo<RollbackResult>(target, input, 'rolled_back', 'roll back');
            if (row.prior) return row.prior;
            // The checksums publish took, if it took them: from the input, else as publish recorded them with its rows.
            const before = (table: string) =>
              (input.publish.tables.find((x) => x.table === table) ?? row.publish?.tables.find((x) => x.table === table))
                ?.preExistingChecksum;
            const result = await undo(target, input, resolved, before, row.at, progress);
            await target.query(
              `UPDATE cutover.run SET status = 'rolled-back', rolled_back_at = now(), rollback_result = $2 WHERE run_key = $1`,
              [input.runKey, JSON.stringify(result)],
            );
            await chaosPoint(input.plan.id, 'rollback.before-commit');
            return result;
          });
          await chaosPoint(input.plan.id, 'rollback.after-commit');
          return result;
        },
      );
    },
    { details: progress.details },
  );
}

async function undo(
  db: Client,
  input: RollbackInput,
  r: Resolved,
  checksumBefore: (table: string) => string | undefined,
  at: string,
  progress: StepTracker,
): Promise<RollbackResult> {
  const baseline = await xactCounts(db);
  const inserted = new Map<string, number>();
  progress.phase("loading the run's rows");
  for (const t of r.tables) inserted.set(t.name, await loadRunRows(db, input.runKey, t));
  // Rows to delete, children first (the order the deletes run in).
  progress.expect([...r.tables].reverse().map((t) => ({ table: t.name, total: inserted.get(t.name) })));

  // Rows production wrote since publish that reference ours stop the rollback. Where the key is
  // NO ACTION or RESTRICT with its triggers on, PostgreSQL itself refuses the delete (23503, below)
  // and they are listed only then: no pass over production when none exists, and no row locks
  // taken ahead of the deletes (which lock the same rows anyway). A key that would cascade, set
  // null or default, or whose triggers are disabled, is checked by rows first: the delete would
  // otherwise change production's row instead of failing (and (b) below would refuse it, unnamed).
  progress.phase("looking for production rows that reference the run's rows through cascading keys");
  const cascading = await rowsReferencingRun(db, r.tables, MAX_LISTED, (fk) => !refusesDelete(fk));
  if (cascading.rows.length > 0) throw blocked(cascading);

  // Counted where they live (leaf partitions), as the deletes and updates report them.
  const deleted = new Map<number, { t: ResolvedTable; relation: string; n: number }>();
  const cleared = new Map<number, { t: ResolvedTable; relation: string; n: number }>();
  const byLeaf = async (into: typeof deleted, t: ResolvedTable, write: string) => {
    const res = await db.query<{ oid: number; schema: string; name: string; n: string }>(
      `WITH w AS (${write} RETURNING p.tableoid AS oid)
       SELECT w.oid::int AS oid, n.nspname::text AS schema, c.relname::text AS name, count(*)::text AS n
         FROM w JOIN pg_class c ON c.oid = w.oid JOIN pg_namespace n ON n.oid = c.relnamespace GROUP BY 1, 2, 3`,
    );
    for (const x of res.rows) into.set(x.oid, { t, relation: tableKey(x), n: Number(x.n) });
    return res.rows.reduce((a, x) => a + Number(x.n), 0);
  };
  const sumFor = (m: typeof deleted, t: ResolvedTable) => [...m.values()].filter((x) => x.t === t).reduce((a, x) => a + x.n, 0);

  await db.query('SAVEPOINT cutover_rollback_deletes');
  try {
    // Cycle-closing FK columns were set after every table was in: clear them first, as publish set them.
    for (const t of r.tables.filter((x) => x.deferred.length > 0)) {
      const cols = [...new Set(t.deferred.flatMap((fk) => fk.columns))];
      await byLeaf(
        cleared,
        t,
        `UPDATE ${qualified(t.target.schema, t.target.name)} p SET ${cols.map((c) => `${ident(c)} = NULL`).join(', ')}
           FROM ${runRowsTable(t)} r WHERE ${slotsEqual('r', 'k', 'p', t.key)}`,
      );
    }
    progress.phase('deleting');
    for (const t of [...r.tables].reverse()) {
      progress.table(t.name);
      const n = await byLeaf(
        deleted,
        t,
        `DELETE FROM ${qualified(t.target.schema, t.target.name)} p USING ${runRowsTable(t)} r WHERE ${slotsEqual('r', 'k', 'p', t.key)}`,
      );
      progress.done(t.name, n);
    }
    // Deferred keys are checked now, inside the savepoint, not at COMMIT.
    await db.query('SET CONSTRAINTS ALL IMMEDIATE');
    progress.phase('proving the rollback (keys, counts, checksums)');
  } catch (e) {
    if ((e as { code?: string }).code !== '23503') throw e;
    // A row production wrote references one of ours: undo the deletes, then name every such row.
    await db.query('ROLLBACK TO SAVEPOINT cutover_rollback_deletes');
    const found = await rowsReferencingRun(db, r.tables, MAX_LISTED);
    if (found.rows.length > 0) throw blocked(found);
    throw rollbackBlocked(`a row in production references this run's rows; nothing rolled back: ${(e as Error).message}`, {
      rows: [],
      more: false,
      error: (e as Error).message,
    });
  }

  // (a) by key, in this transaction.
  const left: string[] = [];
  for (const t of r.tables) {
    const n = Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${runRowsFrom(t)}`)).rows[0].n);
    if (n > 0) left.push(`${t.name}: ${n} row(s) this run inserted are still there`);
  }
  if (left.length > 0) throw rollbackRefused(`rollback refused, nothing committed:\n  ${left.join('\n  ')}`, { left });

  // (b) exactly our rows: per leaf relation, deleted = our rows there, updated = those whose cycle
  // columns were cleared, nothing inserted; no other relation touched (triggers, cascades, …).
  const counts = countsSince(baseline, await xactCounts(db));
  const recorded = [...counts.values()];
  // Production's declared audit tables: one DELETE per plan table, one cycle-clearing UPDATE per table with deferred keys.
  const audit = await proveAudit(
    db,
    r,
    counts,
    r.tables.flatMap((t) => [
      { table: t, event: 'DELETE' as const, rows: sumFor(deleted, t), statements: 1 },
      ...(t.deferred.length > 0
        ? [
            {
              table: t,
              event: 'UPDATE' as const,
              rows: sumFor(cleared, t),
              statements: 1,
              columns: [...new Set(t.deferred.flatMap((fk) => fk.columns))],
            },
          ]
        : []),
    ]),
  );
  const expected = new Map<number, { relation: string; inserted: number; updated: number; deleted: number }>();
  for (const [oid, { relation, n }] of deleted) expected.set(oid, { relation, inserted: 0, updated: 0, deleted: n });
  for (const [oid, { relation, n }] of cleared) expected.set(oid, { relation, inserted: 0, deleted: 0, ...expected.get(oid), updated: n });
  const wrong: string[] = [...audit.wrong];
  for (const oid of new Set([...counts.keys(), ...expected.keys()])) {
    const got = counts.get(oid) ?? { relation: expected.get(oid)!.relation, inserted: 0, updated: 0, deleted: 0 };
    const want = expected.get(oid) ?? { inserted: 0, updated: 0, deleted: 0 };
    if (got.inserted !== want.inserted || got.updated !== want.updated || got.deleted !== want.deleted) {
      wrong.push(
        `${got.relation}: the transaction inserted ${got.inserted}, updated ${got.updated}, deleted ${got.deleted}; expected ${want.inserted}, ${want.updated}, ${want.deleted}`,
      );
    }
  }
  if (wrong.length > 0)
    throw rollbackRefused(`rollback refused, nothing committed: it would change more than this run's rows:\n  ${wrong.join('\n  ')}`, {
      counts: recorded,
      wrong,
    });

  // (c) against the checksums publish took before inserting, where it took them (a whole-table read).
  const full = input.plan.validation?.preExisting === 'full';
  const tables: RollbackTable[] = [];
  for (const t of [...r.tables].reverse()) {
    const before = checksumBefore(t.name);
    const after =
      before === undefined
        ? undefined
        : await checksum(
            db,
            `${qualified(t.target.schema, t.target.name)} p`,
            columnsOf(
              'p',
              t.target.columns.map((c) => c.name),
            ),
          );
    const n = inserted.get(t.name)!;
    tables.push({
      table: t.name,
      inserted: n,
      deleted: sumFor(deleted, t),
      alreadyGone: n - sumFor(deleted, t),
      cycleColumnsCleared: sumFor(cleared, t),
      ...(before === undefined ? {} : { checksumBeforePublish: before, checksumAfterRollback: after }),
      equal: before === after,
    });
  }
  const changed = tables.filter((x) => !x.equal);
  if (full && changed.length > 0) {
    throw rollbackRefused(
      `rollback refused, nothing committed: ${OTHER_WRITERS}, and validation.preExisting is full:\n  ${changed.map((x) => `${x.table}: checksum before publish ${x.checksumBeforePublish}, after rollback ${x.checksumAfterRollback}`).join('\n  ')}`,
      { tables },
    );
  }
  const checked = tables.some((t) => t.checksumBeforePublish !== undefined);
  const p = proof(tables, recorded, full, checked);
  if (audit.proof) {
    p.audit = audit.proof;
    p.summary.push(
      `audit: Production's triggers wrote ${audit.proof.expected} audit row(s) for these deletes (${Object.entries(audit.proof.inserted)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}), as its rule explains; the audit rows of publish and rollback stay`,
    );
  }
  return { runKey: input.runKey, rolledBackAt: at, tables, proof: p };
}

function blocked(found: { rows: ReferencingRow[]; more: boolean }): Error {
  const list = found.rows.map((b) => `  ${b.table} ${b.key} (FK ${b.fk} → ${b.references})`).join('\n');
  return rollbackBlocked(
    `rows written in production since publish reference this run's rows; nothing rolled back:\n${list}${found.more ? '\n  …' : ''}`,
    found,
  );
}

function proof(tables: RollbackTable[], transactionCounts: TransactionCount[], full: boolean, checked: boolean): RollbackResult['proof'] {
  const sum = (f: (t: RollbackTable) => number) => tables.reduce((a, t) => a + f(t), 0);
  const changed = tables.filter((t) => !t.equal).map((t) => t.table);
  const gone = tables.filter((t) => t.alreadyGone > 0).map((t) => `${t.table} ${t.alreadyGone}`);
  return {
    insertedRowsGone: true,
    transactionCounts: transactionCounts.sort((a, b) => (a.relation < b.relation ? -1 : 1)),
    production: !checked ? NOT_CHECKSUMMED : changed.length === 0 ? 'unchanged since publish' : OTHER_WRITERS,
    changedTables: changed,
    preExisting: full ? 'full' : 'count',
    summary: [
      `deleted ${sum((t) => t.deleted)} of the ${sum((t) => t.inserted)} rows this run inserted, from ${tables.length} tables, children first, in one transaction`,
      ...(gone.length ? [`already deleted in production since publish: ${gone.join(', ')}`] : []),
      '(a) no row this run inserted is left: checked by key before COMMIT',
      `(b) the transaction's own counts (pg_stat_xact_user_tables) are exactly those deletes${sum((t) => t.cycleColumnsCleared) ? ` and the ${sum((t) => t.cycleColumnsCleared)} cycle-closing FK columns cleared on the same rows` : ''}; nothing inserted, no other table changed`,
      !checked
        ? `(c) ${NOT_CHECKSUMMED}: (a) and (b) prove it`
        : changed.length === 0
          ? "(c) every touched table's checksum equals the one taken before publish"
          : `(c) ${OTHER_WRITERS}: checksum differs for ${changed.join(', ')}`,
      'sequences are not rewound: values drawn by publish stay used',
    ],
  };
}
