// adopt, after gate plan and the backup: the Pilot becomes Production in place, so what selective
// would leave behind is removed from the Pilot itself — test data, subjects with an erasure request,
// subjects without consent (with `consent`), and every row depending on them through the plan's
// FKs, by the selective cleanup's own rules (db/in-place.ts). ONE transaction: the plan tables
// locked against writers, every removed row written to the Pilot's cutover.manifest with its reason
// (outcome left-behind), each erased subject to cutover.erasure_log, then the proof before COMMIT:
// rows deleted per table = manifest rows, and pg_stat_xact_user_tables shows nothing else changed.
// Its compensation is adopt-restore (from the Pilot backup). A retry after a lost answer returns
// the result recorded in cutover.run instead of cleaning again.
import type { Client } from 'pg';
import type { AdoptCleanupResult, StepInput } from '../common/results';
import { accessSnapshot } from './db/access-snapshot';
import { Cleanup } from './db/cleanup-rules';
import { ensureControlSchema } from './db/control-schema';
import { deleteGone, inPlaceNames, lockForCleanup, provenCounts, stageInPlace } from './db/in-place';
import { withContext } from './db/keep-alive';
import { keyJson } from './db/keys';
import { xactCounts } from './db/xact-counts';
import { planError, planIssue } from './errors';
import { planHash } from '../plan/canonical';
import { inTransaction } from './db/transaction';

export async function adoptCleanup(input: StepInput): Promise<AdoptCleanupResult> {
  const { plan, runKey } = input;
  if (plan.strategy !== 'adopt') throw planIssue('strategy', 'adopt-cleanup: only an adopt run cleans its Pilot in place');
  return withContext(plan, async ({ target: pilot, resolved }) => {
    await ensureControlSchema(pilot);
    return inTransaction(pilot, async () => {
      await pilot.query(
        `INSERT INTO cutover.run (run_key, plan_id, workflow_id, run_id, plan_hash, status) VALUES ($1, $2, $3, $4, $5, 'adopting') ON CONFLICT (run_key) DO NOTHING`,
        [runKey, plan.id, input.workflowId, input.runId, planHash(plan)],
      );
      const prior = await pilot.query<{ r: AdoptCleanupResult | null }>(
        'SELECT cleanup_result AS r FROM cutover.run WHERE run_key = $1 FOR UPDATE',
        [runKey],
      );
      if (prior.rows[0]?.r) return prior.rows[0].r; // cleaned before: this transaction wrote nothing
      await lockForCleanup(pilot, resolved);
      const baseline = await xactCounts(pilot);
      const accessBefore = await accessSnapshot(
        pilot,
        resolved.tables.map((t) => t.source),
      );
      const names = inPlaceNames('cutover.manifest_rows');
      await pilot.query(`DELETE FROM cutover.manifest_rows WHERE run_key = $1`, [runKey]); // an earlier attempt's, rolled back with it: none
      const registers = await stageInPlace(pilot, resolved, names);
      const rules = new Cleanup(pilot, resolved, names, runKey);
      const removed = await rules.run({ transforms: false });
      const deleted = await deleteGone(pilot, resolved, names);
      const erasureLog = await logErasures(
        pilot,
        input,
        names.erased(),
        resolved.rules.subjects ? resolved.tables.find((t) => t.name === resolved.rules.subjects!.table.name) : undefined,
      );

      // The proof: manifest rows per table = rows deleted = the transaction's own delete counts, nothing else changed.
      const manifest = new Map(
        (
          await pilot.query<{ t: string; n: string }>(
            'SELECT table_name AS t, count(*)::text AS n FROM cutover.manifest WHERE run_key = $1 GROUP BY 1',
            [runKey],
          )
        ).rows.map((r) => [r.t, Number(r.n)]),
      );
      const wrong: string[] = [];
      for (const t of resolved.tables) {
        if ((manifest.get(t.name) ?? 0) !== deleted.get(t.name))
          wrong.push(`${t.name}: ${deleted.get(t.name)} row(s) deleted, ${manifest.get(t.name) ?? 0} in the manifest`);
      }
      const expected = new Map(resolved.tables.map((t) => [t.name, { inserted: 0, deleted: deleted.get(t.name)! }]));
      const proven = await provenCounts(pilot, resolved, baseline, expected);
      wrong.push(...proven.wrong);
      if (wrong.length > 0)
        throw planError(wrong.map((w) => ({ path: 'tables', message: `adopt: cleanup refused, nothing committed: ${w}` })));

      const manifestRows = [...manifest.values()].reduce((a, b) => a + b, 0);
      const database = (await pilot.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d;
      const result: AdoptCleanupResult = {
        database,
        cleanedAt: new Date().toISOString(),
        removed,
        rootCauses: rules.causes,
        deleted: Object.fromEntries(deleted),
        manifestRows,
        erasureLog,
        registers,
        transactionCounts: proven.counts,
        accessBefore,
        proof: [
          `plan tables locked against writers; the rules read the Pilot in the same transaction`,
          `${manifestRows} row(s) deleted from ${database}, children first, each written to cutover.manifest with its reason`,
          `per table, rows deleted = manifest rows = the transaction's own delete count (pg_stat_xact_user_tables)`,
          `no plan table row was inserted or updated, and no other table changed (control schema cutover: inserts only)`,
          `${erasureLog} erased subject(s) logged in cutover.erasure_log`,
        ],
      };
      await pilot.query(`UPDATE cutover.run SET status = 'adopt-cleaned', cleanup_result = $2 WHERE run_key = $1`, [
        runKey,
        JSON.stringify(result),
      ]);
      return result;
    });
  });
}

/** One erasure_log row per erased subject whose row this run removed (its dependents are in the manifest). */
async function logErasures(
  db: Client,
  input: StepInput,
  erased: string,
  subjects: { key: string[]; name: string } | undefined,
): Promise<number> {
  if (!subjects || input.plan.erasure === undefined) return 0;
  const res = await db.query(
    `INSERT INTO cutover.erasure_log (run_key, subject, table_name, rows, action, register, step)
     SELECT $1, m.key, m.table_name, 1, 'deleted-in-place', min(e.register), 'adopt-cleanup'
       FROM cutover.manifest m JOIN ${erased} e ON ${keyJson('e', ['subject'])} = m.key
      WHERE m.run_key = $1 AND m.table_name = $2 AND m.reason = 'erasure-request'
      GROUP BY m.key, m.table_name`,
    [input.runKey, subjects.name],
  );
  return res.rowCount ?? 0;
}
