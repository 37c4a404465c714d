// Step rehearsal (plan rehearsal.mode: scratch), the activities' side. The rehearsal is a child
// workflow (workflows/rehearsal.ts) that runs the same step activities as the run — stage, cleanup,
// publish, validate, rollback — against a scratch database cutover_rehearsal_<runKey> on the
// target's server, under its own run key r<runKey> (so its staging and guards never meet the real
// run's). Here: making that database from the run's verified target backup (rehearsalRestore),
// pointing a step at it (scratchUrl: the plan's synthetic target alias resolves to it only for an
// input that names it, in the activity interceptor — no URL in any payload), and dropping it
// (rehearsalDrop, on success, failure and cancellation alike).
// Production-side erasure registers are copied into the scratch database as they are at that
// moment (the backup may not hold them, or hold them older), so cleanup leaves behind whom the real
// run would.
import { ApplicationFailure } from '@temporalio/common';
import type { RehearsalInput, RehearsalScratch } from '../common/results';
import { rehearsalDatabase } from '../common/rehearsal-report';
import type { Plan } from '../plan/schema';
import { resolveAlias } from './db/connect';
import { startProgress } from './db/progress';
import { restorePostData, ToolError } from './db/restore-post-data';
import { copyFromProduction } from './db/rehearsal-parents';
import { parseTableName } from '../plan/names';
import { restoreTables } from './db/restore-tables';
import { createScratchDatabase, dropScratchDatabase, urlWithDatabase } from './db/scratch-db';
import { releaseSnapshot } from './db/snapshot-holder';
import { rehearsalError } from './errors';

/** The scratch database a rehearsal's step reaches: only a rehearsal's, on the server of the alias it names. */
export function scratchUrl(scratch: { of: string; database: string }): string {
  if (!/^cutover_rehearsal_[a-z0-9]{1,40}$/.test(scratch.database)) throw ApplicationFailure.nonRetryable(`scratch database ${JSON.stringify(scratch.database)} is not a rehearsal's`, 'PlanError');
  return urlWithDatabase(resolveAlias(scratch.of), scratch.database);
}

function checkRunKey(runKey: string): void {
  // It names the scratch database and the rehearsal's staging: nothing but what a run key is may pass.
  if (!/^[a-z0-9]{1,40}$/.test(runKey)) throw rehearsalError(`rehearsal: run key ${JSON.stringify(runKey)} must be 1 to 40 lowercase letters or digits`);
}

/**
 * The scratch database, made anew from the run's verified target backup: its rows, the Production
 * rows of tables outside the plan that plan rows reference and the Production-side registers as
 * they are now, then its indexes, constraints and triggers.
 */
export async function rehearsalRestore(input: RehearsalInput): Promise<RehearsalScratch> {
  const { plan, runKey } = input;
  checkRunKey(runKey);
  const target = input.backup?.backups?.find((b) => b.kind === 'target');
  if (!target) throw rehearsalError('rehearsal: the run has no verified target backup to restore (the backup step must run first)');
  const database = rehearsalDatabase(runKey);
  const url = await createScratchDatabase(resolveAlias(plan.target), database);
  const progress = startProgress({ phase: 'verifying', backup: 'target' }, 'restore');
  try {
    await restoreTables(target, url, { mode: 'new-database', progress });
    // Production-side registers as they are now, and rows of tables outside the plan that plan rows
    // reference (read from Production in one snapshot), before the FKs come back.
    const copied = await copyFromProduction(resolveAlias(plan.target), url, planTableRefs(plan), targetRegisterRefs(plan));
    await restorePostData(target, url, progress.signal).catch((e) => {
      if (!(e instanceof ToolError)) throw e;
      throw rehearsalError(
        `the target backup's indexes, constraints and triggers do not restore onto its rows (a plan table referencing a table outside the plan? backup.scope: full holds every row): ${e.message}`,
      );
    });
    return {
      database,
      backup: { location: target.location, sha256: target.sha256 },
      parentsCopied: copied.parentsCopied,
      ...(copied.registersCopied.length ? { registersCopied: copied.registersCopied } : {}),
    };
  } finally {
    progress.stop();
  }
}

/** The scratch database dropped (and the snapshot a stage that failed mid-way may hold in this worker released). */
export async function rehearsalDrop(input: { plan: Plan; runKey: string }): Promise<{ dropped: string }> {
  checkRunKey(input.runKey);
  const database = rehearsalDatabase(input.runKey);
  await releaseSnapshot(`r${input.runKey}`).catch(() => undefined);
  await dropScratchDatabase(resolveAlias(input.plan.target), database);
  return { dropped: database };
}

/** Production-side erasure registers as {schema, name}: read in the rehearsal as they are now, whatever the backup scope. */
function targetRegisterRefs(plan: Plan): { schema: string; name: string }[] {
  return (plan.erasure?.registers ?? []).flatMap((x) => {
    if (x.db !== 'target') return [];
    const r = parseTableName(x.table);
    return typeof r === 'string' ? [] : [r];
  });
}

/** The plan's tables as {schema, name} (names were validated when the plan was). */
function planTableRefs(plan: Plan): { schema: string; name: string }[] {
  return plan.tables.flatMap((t) => {
    const r = parseTableName(t.table);
    return typeof r === 'string' ? [] : [r];
  });
}
