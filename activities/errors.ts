// Error types the step-runner treats as final (no activity retry): the run pauses instead.
import { ApplicationFailure } from '@temporalio/common';

import type { FailureType as NonRetryableType } from '../common/failures';
import { planFailure } from '../common/plan-failure';
import type { PlanError, PlanIssue } from '../plan/issues';

function fail(type: NonRetryableType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? [] : [details] });
}

/**
 * The plan does not fit the catalog or the run (unknown table/column, key not unique, …): each issue
 * names its place in the plan. One shape with the plan file's refusals (common/plan-failure.ts).
 */
export const planError = (refusal: PlanError | PlanIssue | PlanIssue[]): ApplicationFailure => planFailure(refusal);
/** A single issue at `path` (a plan path such as `tables[2].match`, or `(plan)`). */
export const planIssue = (path: string, message: string): ApplicationFailure => planFailure({ path, message });
/** The worker is missing configuration (a connection alias). */
export const configError = (message: string) => fail('ConfigError', message);
/** Production already holds rows the plan would write (ids: keep collisions). */
export const conflictError = (message: string, details?: unknown) => fail('ConflictError', message, details);
/** The run's staging schema is gone or incomplete (a Temporal reset, or dropped by hand): stage again. */
export const stagingLost = (message: string) => fail('StagingLost', message);
/** Published data does not reconcile. */
export const validationError = (message: string, details?: unknown) => fail('ValidationError', message, details);
/** An access check failed after publish (built-in or the plan's): production needs a human look. */
export const accessCheckError = (message: string, details?: unknown) => fail('AccessCheckError', message, details);
/** Rows production wrote after publish reference this run's rows: deleting ours would break or cascade into theirs. */
export const rollbackBlocked = (message: string, details?: unknown) => fail('RollbackBlocked', message, details);
/** The rollback could not prove itself (or there is nothing to roll back): rolled back, nothing committed. */
export const rollbackRefused = (message: string, details?: unknown) => fail('RollbackRefused', message, details);
/** After the erasure, rows of an erased subject are still in production (details: the ErasureResult). */
export const erasureResidue = (message: string, details?: unknown) => fail('ErasureResidue', message, details);
/** A backup is missing, corrupted or does not restore to what was dumped: never trust it, never retry blindly. */
export const backupError = (message: string, details?: unknown) => fail('BackupError', message, details);
/** The rehearsal (scratch database restored from the target backup) failed; details carry its report so far. */
export const rehearsalError = (message: string, details?: unknown) => fail('RehearsalError', message, details);
