// Steps `erasure` (after access checks) and `erasure-final` (right before finalize): erasure requests
// applied in production to the people this run moved. Cleanup left behind every subject with a
// request in the stage snapshot; a request that arrived later (after the dry run, after stage, while
// the run waited or was paused) would otherwise leave its subject's rows in production for good.
// Every register is read again now (db: source from the Pilot, db: target from production); each
// requested subject this run moved (cutover.manifest / cutover.id_map: the Pilot key translated to
// production's, db/erasure-subjects.ts) has its row and every plan table row that cannot exist
// without it (NOT NULL foreign keys) deleted, children first — or, for tables in erasure.anonymize,
// the named columns set — and nullable references to it set to NULL (erasure.references overrides
// per foreign key); a subject merged into production's own row keeps that row, the rows this run
// moved that depend on it are erased. One transaction, one cutover.erasure_log row per subject,
// table and action. After COMMIT, a separate check (read from the
// log, a fresh walk) proves zero residue; any residue is a non-retryable ErasureResidue: the run pauses.
// Running it again is safe: subjects already erased find nothing and are not logged again.
import type { Client } from 'pg';
import type { ErasureInput, ErasureResult } from '../common/results';
import { ensureControlSchema } from './db/control-schema';
import { anonymizeRules, applyErasures, verifyMovedErasures } from './db/erasure-reapply';
import { withContext } from './db/keep-alive';
import { PERSISTED_PAIRS } from './db/row-identity';
import type { ResolvedTable } from './db/resolve';
import { erasureResidue } from './errors';
import { StepTracker } from './db/step-progress';
import { inTransaction } from './db/transaction';

export async function erasure(input: ErasureInput): Promise<ErasureResult> {
  const progress = new StepTracker(input.step);
  return withContext(
    input.plan,
    async ({ source, target, resolved }) => {
      await ensureControlSchema(target);
      progress.expect(resolved.tables.map((t) => ({ table: t.name }))).phase('applying erasure requests');
      const anonymize = anonymizeRules(resolved);
      const { at, applied } = await inTransaction(target, async () => ({
        at: (await target.query<{ at: string }>(`SELECT to_json(now()) #>> '{}' AS at`)).rows[0].at,
        applied: await applyErasures(target, source, resolved, { runKey: input.runKey, step: input.step, when: 'publish', anonymize }),
      }));
      // Set-based per subject: the tables' rows erased or anonymized are known once the pass committed.
      for (const t of resolved.tables) progress.done(t.name, applied.rows[t.name] ?? 0);
      progress.phase('verifying no residue is left');
      const moved = resolved.rules.subjects ? await movedSubjects(target, input.runKey, resolved.rules.subjects.table) : 0;
      const check = await verifyMovedErasures(target, resolved, input.runKey, anonymize);
      const result: ErasureResult = {
        step: input.step,
        at,
        requests: applied.requests,
        movedSubjects: moved,
        applied: applied.applied,
        erasedSoFar: check.subjects,
        applications: applied.applications,
        more: applied.more,
        rows: applied.rows,
        anonymized: applied.anonymized,
        nullified: applied.nullified,
        residue: check.residue,
        problems: check.problems,
        verification: check.checks,
      };
      if (check.residue > 0)
        throw erasureResidue(
          `erasure residue in production after ${input.step}: ${check.residue} row(s):\n  ${check.problems.join('\n  ')}`,
          result,
        );
      return result;
    },
    { details: progress.details },
  );
}

async function movedSubjects(db: Client, runKey: string, t: ResolvedTable): Promise<number> {
  // The run's moved rows by identity (activities/db/row-identity.ts), whatever the table's id strategy.
  const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM (${PERSISTED_PAIRS}) x WHERE x.outcome = 'moved'`, [
    runKey,
    t.name,
  ]);
  return Number(rows[0].n);
}
