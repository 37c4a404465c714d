// Step 7, cleanup: in staging, leave behind test data, subjects with an erasure request or without
// consent, and everything that depends on them (for an erasure request: what cannot exist without
// the person; a nullable reference to them is set to NULL and its row moves); apply transforms. One transaction; every removed
// row is in cutover.manifest with its reason. Rows that would dangle are refused here, by name.
import type { Client } from 'pg';
import type { CleanupResult, KeyDigest, StepInput } from '../common/results';
import type { Resolved } from './db/resolve';
import type { StagingNames } from './db/staging';
import { Cleanup, danglingReferences } from './db/cleanup-rules';
import { logStagingNullified } from './db/erasure-staging';
import { withContext } from './db/keep-alive';
import { keptDigestsFrom } from './db/drift';
import { earlierRuns, excluded } from './db/already-moved';
import { runNames } from './db/staging';
import { markStep, requireStaged, stepResult } from './db/staging-state';
import { planError } from './errors';
import { applyMapping, mappingEvidence } from './db/mapping-compute';
import { chaosPoint, slowTableForTests } from './db/fault';
import { stagedCounts, StepTracker } from './db/step-progress';
import { inTransaction } from './db/transaction';

export async function cleanup(input: StepInput): Promise<CleanupResult> {
  const progress = new StepTracker('cleanup');
  return withContext(
    input.plan,
    async (ctx) => {
      const { target, resolved } = ctx;
      const names = runNames(input.runKey);
      await requireStaged(target, names);
      // Set-based rules over staging: a table is done when the rules are; rows = its rows in scope.
      const counts = await stagedCounts(target, names);
      progress.expect(resolved.tables.map((t) => ({ table: t.name, total: counts[t.name]?.inScope })));
      // Transforms are not idempotent (sha256 of a hash): a retry after a lost answer reuses the
      // result recorded on this very staging (a restaged run cleans its new rows again).
      const prior = await stepResult<CleanupResult>(target, names, 'cleanup');
      if (prior) return prior;
      await chaosPoint(input.plan.id, 'cleanup.start');
      const result = await inTransaction(target, async () => {
        // Left-behind entries describe the staged rows: a restage (after a reset) writes them anew.
        await target.query(`DELETE FROM cutover.manifest_rows WHERE run_key = $1 AND outcome = 'left-behind'`, [input.runKey]);
        const rules = new Cleanup(target, resolved, names, input.runKey, undefined, true);
        rules.retentionFrom = await snapshotTime(target, names);
        rules.onRule = (table, reason) => progress.phase(`leaving behind: ${reason}`).table(table);
        for (let i = 0; i < resolved.tables.length; i++) await slowTableForTests(target, 'cleanup'); // once per table, like the other steps
        const earlier = await earlierRuns(target, input.plan, input.runKey, input.identities?.[input.plan.source]);
        const leftBehind = await rules.run({ transforms: true, earlier: excluded(input.plan, earlier) });
        // The mapping is applied to the rows that move, in staging (never in Production), each value checked.
        const mapped = resolved.tables.some((t) => t.mapping);
        if (mapped) progress.phase('applying the mapping');
        await applyMapping(target, resolved, names);
        const mapping = mapped ? await mappingEvidence(target, resolved, names) : [];
        progress.phase('checking for dangling references');
        const dangling = await danglingReferences(target, resolved, names);
        if (dangling.length > 0) throw planError(dangling);
        await logErasuresApplied(target, input.runKey, resolved, names);
        // The kept keys' digest from stage's in-scope one, less what was left behind (db/drift.ts).
        const staged = await stepResult<{ digests?: Record<string, KeyDigest> }>(target, names, 'stage');
        const kept = await keptDigestsFrom(target, resolved, names, staged?.digests);
        if (Object.keys(rules.nullified).length > 0) await logStagingNullified(target, input.runKey);
        const result: CleanupResult = {
          leftBehind,
          rootCauses: rules.causes,
          transforms: resolved.rules.transforms.map((x) => `${x.table.name}.${x.column}: ${x.fn}`),
          kept,
          ...(Object.keys(rules.nullified).length > 0 ? { erasureNullified: rules.nullified } : {}),
          ...(mapped ? { mapping } : {}),
          ...(rules.retention.length > 0 ? { retention: rules.retention } : {}),
        };
        await target.query('UPDATE cutover.run SET cleanup_result = $2 WHERE run_key = $1', [input.runKey, JSON.stringify(result)]);
        await markStep(target, names, 'cleanup', result);
        await chaosPoint(input.plan.id, 'cleanup.before-commit');
        return result;
      });
      await chaosPoint(input.plan.id, 'cleanup.after-commit');
      for (const t of resolved.tables) progress.done(t.name, counts[t.name]?.inScope ?? 0);
      return result;
    },
    { details: progress.details },
  );
}

/**
 * When stage's snapshot was taken (what retention is measured from): recorded with the stage step;
 * staging made by a worker from before that has only the time stage finished, a little later.
 */
async function snapshotTime(db: Client, names: StagingNames): Promise<string> {
  const stage = await stepResult<{ snapshotAt?: string }>(db, names, 'stage');
  if (stage?.snapshotAt) return stage.snapshotAt;
  const r = await db.query<{ at: Date }>(`SELECT at FROM ${names.steps()} WHERE step = 'stage'`);
  return r.rows[0].at.toISOString();
}

/**
 * A request found at cleanup is applied by not moving the subject: still an application of an
 * erasure request, so it is logged like the ones applied in Production later (its dependents are
 * in the manifest as parent-left-behind). Rewritten with the manifest when staging is. Every register
 * that names the subject is logged (comma-joined): after a restore, a db: target request this log
 * names is read as the Pilot key it was (db/erasure-subjects.ts), not as Production's person.
 */
async function logErasuresApplied(db: Client, runKey: string, r: Resolved, names: StagingNames): Promise<void> {
  const subjects = r.rules.subjects;
  if (!subjects || r.rules.registers.length === 0) return;
  await db.query(`DELETE FROM cutover.erasure_log WHERE run_key = $1 AND step = 'cleanup'`, [runKey]);
  const at = subjects.table.key.indexOf(subjects.key);
  if (at < 0) return; // the subject is not (part of) the key: the manifest's reason says it all
  await db.query(
    `INSERT INTO cutover.erasure_log (run_key, subject, table_name, rows, action, register, step)
     SELECT $1, m.key->${at}, m.table_name, 1, 'not-moved (left behind in staging)', string_agg(DISTINCT e.register, ', ' ORDER BY e.register), 'cleanup'
       FROM cutover.manifest m JOIN ${names.erased()} e ON (m.key->>${at}) = e.subject::text
      WHERE m.run_key = $1 AND m.table_name = $2 AND m.reason = 'erasure-request'
      GROUP BY m.key, m.table_name`,
    [runKey, subjects.table.name],
  );
  // Requests for Pilot subjects this run did not select: read as Pilot keys too, so a later restore
  // never takes one for the Production person who holds the same value (nothing moved: 0 rows).
  await db.query(
    `INSERT INTO cutover.erasure_log (run_key, subject, table_name, rows, action, register, step)
     SELECT $1, to_jsonb(e.subject), $2, 0, 'not-in-scope (read as a Pilot key; nothing moved)', string_agg(DISTINCT e.register, ', ' ORDER BY e.register), 'cleanup'
       FROM ${names.erased()} e
      WHERE NOT EXISTS (SELECT 1 FROM cutover.erasure_log l WHERE l.run_key = $1 AND l.step = 'cleanup' AND l.subject = to_jsonb(e.subject))
      GROUP BY e.subject`,
    [runKey, subjects.table.name],
  );
}
