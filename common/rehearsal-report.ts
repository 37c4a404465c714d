// The rehearsal's report, built by the rehearsal child workflow (workflows/rehearsal.ts) from its
// steps' results: counts per table (validate's), cleanup's left-behind rows, the rollback's proof
// (every table's checksum after the rollback equals the one publish took before inserting), the
// comparison with the approved dry run, timings, and a sha256 of its own canonical JSON, which an
// approver of gate cutover may name. Pure and deterministic: it runs in the workflow sandbox.
import { canonicalJson } from '../plan/canonical';
import { sha256Hex } from '../plan/sha256';
import { compareWithDryRun } from './rehearsal-compare';
import type { RehearsalInput, RehearsalReport, RollbackResult, ValidateResult } from './results';

export type RehearsalDraft = Omit<RehearsalReport, 'rehearsalHash'>;

/** The scratch database of a run's rehearsal (its name is all a payload carries of it). */
export const rehearsalDatabase = (runKey: string): string => `cutover_rehearsal_${runKey}`;

/** The report with its own hash: sha256 of its canonical JSON without the hash. */
export function sealReport(draft: RehearsalDraft): RehearsalReport {
  return { ...draft, rehearsalHash: sha256Hex(canonicalJson(draft)) };
}

export function recordValidation(draft: RehearsalDraft, v: ValidateResult): void {
  draft.tables = v.tables.map((t) => ({ table: t.table, inScope: t.inScope, moved: t.moved, merged: t.merged, leftBehind: t.leftBehind, leftBehindByReason: t.leftBehindByReason }));
  draft.validation = { ok: v.ok, problems: v.tables.flatMap((t) => t.problems.map((p) => `${t.table}: ${p}`)) };
}

export function recordRollback(draft: RehearsalDraft, r: RollbackResult): void {
  const tables = r.tables.map((t) => ({ table: t.table, deleted: t.deleted, checksumBeforePublish: t.checksumBeforePublish ?? '', checksumAfterRollback: t.checksumAfterRollback ?? '', equal: t.equal && t.checksumBeforePublish !== undefined }));
  draft.rollback = { proven: tables.length > 0 && tables.every((t) => t.equal), tables, summary: r.proof.summary };
}

/** The counts against the approved dry run's (when the workflow passed them and the rehearsal counted). */
export function compareRehearsal(draft: RehearsalDraft, input: RehearsalInput): void {
  if (input.dryRun && draft.tables.length > 0) draft.dryRunComparison = compareWithDryRun(input.plan, input.dryRun, draft.tables);
}
