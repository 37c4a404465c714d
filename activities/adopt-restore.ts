// adopt's compensation (rollback after adopt-cleanup committed, e.g. when an access check fails):
// the rows the cleanup removed come back from the run's verified Pilot backup, and the erasure
// requests are re-applied — erased subjects stay erased. Decision: a rollback undoes the run's
// choices (test data, missing consent), never a subject's right to erasure, so the Pilot ends as
// it was before the run less every subject in the erasure registers *now* (requests made since
// included) and their dependent rows. ONE transaction on the Pilot, after the backup object was
// re-read, re-hashed and restored into a scratch database on the Pilot's server (dropped):
//   1. plan tables locked against writers; the backup's rows loaded into session temp tables;
//   2. the manifest's rows inserted from them, parents first (a manifest row missing from the
//      backup refuses the rollback: the backup cannot give it back);
//   3. the erasure requests re-applied by the cleanup rules (erasure only), children first, logged;
//   4. verified before COMMIT: every manifest row is back unless re-erased, no erased subject is
//      left, and pg_stat_xact_user_tables shows exactly those inserts and deletes, nothing else.
// The result is recorded in the Pilot's cutover.run: a retry returns it instead of restoring again.
import type { Client } from 'pg';
import type { AdoptRestoreInput, AdoptRestoreResult } from '../common/results';
import { backupRowsTable, loadBackupRows, restoredColumns, withRestoredBackup } from './db/backup-rows';
import { Cleanup } from './db/cleanup-rules';
import { ident, resolveAlias } from './db/connect';
import { DRY_MANIFEST_DDL, ensureControlSchema } from './db/control-schema';
import { deleteGone, inPlaceNames, lockForCleanup, pilotTable, provenCounts, stageInPlace } from './db/in-place';
import { withContext } from './db/keep-alive';
import { keyJson } from './db/keys';
import type { Resolved } from './db/resolve';
import { xactCounts } from './db/xact-counts';
import { rollbackRefused } from './errors';
import { inTransaction } from './db/transaction';

export async function adoptRestore(input: AdoptRestoreInput): Promise<AdoptRestoreResult> {
  const { plan, runKey, backup } = input;
  if (plan.strategy !== 'adopt') throw rollbackRefused('adopt-restore: only an adopt run restores its Pilot in place');
  if (backup?.kind !== 'source')
    throw rollbackRefused(`adopt-restore needs the run's Pilot backup; got ${backup ? `the ${backup.kind}'s` : 'none'}`);
  return withContext(plan, async ({ target: pilot, resolved }) => {
    await ensureControlSchema(pilot);
    const prior = await pilot.query<{ r: AdoptRestoreResult }>(
      'SELECT rollback_result AS r FROM cutover.run WHERE run_key = $1 AND rolled_back_at IS NOT NULL',
      [runKey],
    );
    if (prior.rows[0]) return prior.rows[0].r;
    return withRestoredBackup(resolveAlias(plan.source), runKey, backup, async (scratch, sha256) => {
      return inTransaction(pilot, async () => {
        const run = await pilot.query<{ cleaned: boolean; prior: AdoptRestoreResult | null }>(
          'SELECT cleanup_result IS NOT NULL AS cleaned, CASE WHEN rolled_back_at IS NOT NULL THEN rollback_result END AS prior FROM cutover.run WHERE run_key = $1 FOR UPDATE',
          [runKey],
        );
        if (run.rows[0]?.prior) return run.rows[0].prior; // restored before: this transaction wrote nothing
        if (!run.rows[0]?.cleaned) throw rollbackRefused(`run ${runKey} (${plan.id}) has not cleaned the Pilot: nothing to restore`);
        await lockForCleanup(pilot, resolved);
        const before = new Map<string, number>();
        for (const t of resolved.tables) before.set(t.name, await count(pilot, pilotTable(t)));
        await loadBackupRows(scratch, pilot, resolved, backup);
        const baseline = await xactCounts(pilot);
        const result = await restoreInTransaction(pilot, input, resolved, before, sha256);
        const expected = new Map(
          result.tables.map((t) => [t.table, { inserted: t.restored, deleted: result.erasures.rows[t.table] ?? 0 }]),
        );
        const proven = await provenCounts(pilot, resolved, baseline, expected);
        if (proven.wrong.length > 0)
          throw rollbackRefused(`adopt rollback refused, nothing committed:\n  ${proven.wrong.join('\n  ')}`, { wrong: proven.wrong });
        result.transactionCounts = proven.counts;
        await pilot.query(
          `UPDATE cutover.run SET status = 'rolled-back', rolled_back_at = now(), rollback_result = $2 WHERE run_key = $1`,
          [runKey, JSON.stringify(result)],
        );
        return result;
      });
    });
  });
}

async function restoreInTransaction(
  db: Client,
  input: AdoptRestoreInput,
  r: Resolved,
  before: Map<string, number>,
  sha256: string,
): Promise<AdoptRestoreResult> {
  const { runKey } = input;
  const wrong: string[] = [];
  const restored = new Map<string, number>();
  const inManifest = new Map<string, number>();
  for (const t of r.tables) {
    const cols = restoredColumns(t);
    const mine = `SELECT m.key FROM cutover.manifest m WHERE m.run_key = $1 AND m.table_name = $2 AND m.outcome = 'left-behind'`;
    inManifest.set(t.name, await count(db, `(${mine.replace('$1', '$1::text').replace('$2', '$2::text')}) x`, [runKey, t.name]));
    const res = await db.query(
      `INSERT INTO ${pilotTable(t)} (${cols.map(ident).join(', ')}) OVERRIDING SYSTEM VALUE
       SELECT ${cols.map((c) => `b.${ident(c)}`).join(', ')} FROM ${backupRowsTable(t)} b WHERE ${keyJson('b', t.key)} IN (${mine})`,
      [runKey, t.name],
    );
    restored.set(t.name, res.rowCount ?? 0);
    if (restored.get(t.name) !== inManifest.get(t.name)) {
      wrong.push(`${t.name}: ${inManifest.get(t.name)} row(s) in the manifest, ${restored.get(t.name)} found in the backup`);
    }
  }
  if (wrong.length > 0)
    throw rollbackRefused(
      `adopt rollback refused, nothing committed: the backup does not hold every removed row:\n  ${wrong.join('\n  ')}`,
      { wrong },
    );

  // Erasure requests re-applied: the cleanup rules with only the registers, on the Pilot as it now is.
  let subjects = 0;
  let reErased: Record<string, number> = {};
  if (r.rules.subjects && r.rules.registers.length > 0) {
    await db.query(DRY_MANIFEST_DDL);
    const names = inPlaceNames('pg_temp.manifest');
    const only: Resolved = { ...r, rules: { ...r.rules, testData: [], consent: null } };
    subjects = (await stageInPlace(db, only, names)).erased;
    await new Cleanup(db, only, names, runKey).run({ transforms: false });
    reErased = Object.fromEntries([...(await deleteGone(db, only, names))].filter(([, n]) => n > 0));
    await db.query(
      `INSERT INTO cutover.erasure_log (run_key, subject, table_name, rows, action, register, step)
       SELECT $1, key, table_name, 1, 'deleted-after-restore', NULL, 'adopt-restore' FROM pg_temp.manifest WHERE reason = 'erasure-request'`,
      [runKey],
    );
    const subj = r.rules.subjects;
    const t = r.tables.find((x) => x.name === subj.table.name)!;
    const left = await count(db, `${pilotTable(t)} s WHERE s.${ident(subj.key)} IN (SELECT subject FROM ${names.erased()})`);
    if (left > 0) wrong.push(`${t.name}: ${left} row(s) of erased subjects left after re-applying the requests`);
  }

  const tables: AdoptRestoreResult['tables'] = [];
  for (const t of r.tables) {
    const after = await count(db, pilotTable(t));
    const e = reErased[t.name] ?? 0;
    if (after !== before.get(t.name)! + restored.get(t.name)! - e)
      wrong.push(`${t.name}: ${after} rows, expected ${before.get(t.name)} + ${restored.get(t.name)} restored - ${e} re-erased`);
    tables.push({
      table: t.name,
      before: before.get(t.name)!,
      removedByCleanup: inManifest.get(t.name)!,
      restored: restored.get(t.name)!,
      reErased: e,
      after,
    });
  }
  if (wrong.length > 0) throw rollbackRefused(`adopt rollback refused, nothing committed:\n  ${wrong.join('\n  ')}`, { wrong });
  const sum = (f: (x: AdoptRestoreResult['tables'][number]) => number) => tables.reduce((a, x) => a + f(x), 0);
  return {
    runKey,
    restoredAt: new Date().toISOString(),
    backup: { location: input.backup.location, sha256 },
    tables,
    erasures: { subjects, rows: reErased },
    transactionCounts: [],
    proof: [
      `backup ${input.backup.location} re-read and re-hashed (sha256 ${sha256}), restored into a scratch database (dropped)`,
      `${sum((x) => x.restored)} row(s) of the manifest restored from it, parents first: every row the cleanup removed`,
      `${subjects} erasure request(s) re-applied: ${sum((x) => x.reErased)} row(s) deleted again, children first, logged in cutover.erasure_log; no row of an erased subject left`,
      'per table, rows now = rows before + restored - re-erased; the transaction changed nothing else (pg_stat_xact_user_tables)',
    ],
  };
}

async function count(db: Client, from: string, params: unknown[] = []): Promise<number> {
  return Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${from}`, params)).rows[0].n);
}
