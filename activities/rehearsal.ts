// Step 4, rehearsal (plan rehearsal.mode: scratch), the activities of the rehearsal's own workflow
// (workflows/rehearsal.ts, a child of the run): rehearsalPrepare restores the run's verified target
// backup into a scratch database cutover_rehearsal_<runKey> on the target's server and copies
// Production's referenced parents and target-side erasure registers into it; the workflow then runs
// the ordinary stage → cleanup → publish → validate → rollback activities against it (their target
// is the synthetic alias common/rehearsal-alias.ts names, which any worker resolves to the scratch
// database: no URL in any payload; their run key r<runKey>, so their staging and guards never meet
// the real run's); rehearsalFinish turns what they answered into the report (counts, comparison with
// the approved dry run, validation, rollback proof, timings) sealed with its own sha256, which an
// approver of the cutover gate may name; rehearsalDrop drops the scratch database, which the
// workflow does in all cases (success, failure, cancellation). Retries, heartbeats, timeouts and
// cancellation of every sub-step are Temporal's.
import { reduceDetail, withholdValuesIn } from './db/row-values';
import { canonicalJson } from '../plan/canonical';
import { sha256Hex } from '../plan/sha256';
import type {
  RehearsalDropInput,
  RehearsalFailure,
  RehearsalFinishInput,
  RehearsalInput,
  RehearsalPrepared,
  RehearsalReport,
  RollbackResult,
  ValidateResult,
} from '../common/results';
import type { Plan } from '../plan/schema';
import { resolveAlias } from './db/connect';
import { startProgress } from './db/progress';
import { restorePostData, ToolError } from './rehearsal/restore-post-data';
import { copyFromProduction } from './rehearsal/rehearsal-parents';
import { compareWithDryRun } from '../common/rehearsal-compare';
import { rehearsalDatabase, RUN_KEY } from '../common/rehearsal-alias';
import { parseTableName } from '../plan/names';
import { restoreTables } from './db/restore-tables';
import { createScratchDatabase, dropScratchDatabase } from './db/scratch-db';
import { releaseSnapshot } from './db/snapshot-holder';
import { rehearsalError } from './errors';

export { rehearsalDatabase };

type Draft = Omit<RehearsalReport, 'rehearsalHash'>;

/** The report with its own hash: sha256 of its canonical JSON without the hash. */
export function sealReport(draft: Draft): RehearsalReport {
  return { ...draft, rehearsalHash: sha256Hex(canonicalJson(draft)) };
}

/** It names the scratch database and the rehearsal's staging: nothing but what a run key is may pass. */
function checkRunKey(runKey: string): void {
  if (!RUN_KEY.test(runKey))
    throw rehearsalError(`rehearsal: run key ${JSON.stringify(runKey)} must be 1 to 40 lowercase letters or digits`);
}

/** The scratch database, restored from the run's target backup, with Production's parents and registers copied in. */
export async function rehearsalPrepare(input: RehearsalInput): Promise<RehearsalPrepared> {
  const { plan, runKey } = input;
  checkRunKey(runKey);
  const target = input.backup?.backups?.find((b) => b.kind === 'target');
  if (!target) throw rehearsalError('rehearsal: the run has no verified target backup to restore (the backup step must run first)');
  const startedAt = new Date().toISOString();
  const database = rehearsalDatabase(runKey);
  const url = await createScratchDatabase(resolveAlias(plan.target), database);
  const progress = startProgress({ phase: 'verifying', backup: 'target' }, 'restore');
  try {
    await restoreTables(target, url, { mode: 'new-database', progress });
    // Production-side registers as they are now, and rows of tables outside the plan that plan
    // rows reference (read from Production in one snapshot), before the FKs come back.
    const copied = await copyFromProduction(resolveAlias(plan.target), url, planTableRefs(plan), targetRegisterRefs(plan));
    await restorePostData(target, url, progress.signal).catch((e) => {
      if (!(e instanceof ToolError)) throw e;
      throw rehearsalError(
        `the target backup's indexes, constraints and triggers do not restore onto its rows (a plan table referencing a table outside the plan? backup.scope: full holds every row): ${e.message}`,
      );
    });
    return {
      database,
      runKey: `r${runKey}`,
      backup: { location: target.location, sha256: target.sha256 },
      startedAt,
      parentsCopied: copied.parentsCopied,
      ...(copied.registersCopied.length ? { registersCopied: copied.registersCopied } : {}),
    };
  } finally {
    progress.stop();
  }
}

/** The scratch database dropped (if there) and the rehearsal stage's snapshot released (if this worker holds it). */
export async function rehearsalDrop(input: RehearsalDropInput): Promise<{ dropped: string }> {
  checkRunKey(input.runKey);
  const database = rehearsalDatabase(input.runKey);
  await releaseSnapshot(`r${input.runKey}`).catch(() => undefined); // a stage that failed mid-way holds one
  await dropScratchDatabase(resolveAlias(input.plan.target), database);
  return { dropped: database };
}

/** The report, sealed: ok only when every sub-step ran and the rollback gave back what publish found. */
export async function rehearsalFinish(input: RehearsalFinishInput): Promise<RehearsalReport> {
  const p = input.prepared;
  const draft: Draft = {
    ok: false,
    database: p?.database ?? input.database,
    runKey: p?.runKey ?? input.runKey,
    backup: p?.backup ?? input.backup ?? { location: '', sha256: '' },
    startedAt: p?.startedAt ?? input.startedAt,
    finishedAt: new Date().toISOString(),
    tables: [],
    cleanup: input.cleanup,
    validation: null,
    rollback: null,
    timings: input.timings,
    failed: null,
    parentsCopied: p?.parentsCopied ?? [],
    ...(p?.registersCopied?.length ? { registersCopied: p.registersCopied } : {}),
  };
  if (input.validation?.tables) recordValidation(draft, input.validation);
  if (input.rollback) recordRollback(draft, input.rollback);
  if (input.failure) draft.failed = failedEntry(input.failure);
  else if (!draft.rollback?.proven) {
    const differ = draft.rollback?.tables.filter((t) => !t.equal).map((t) => t.table) ?? [];
    draft.failed = {
      step: 'rollback',
      type: 'RehearsalError',
      message: `rehearsal: the rollback did not bring the scratch database back to its contents before publish (${differ.join(', ')})`,
    };
  } else draft.ok = true;
  if (input.dryRun && draft.tables.length > 0) draft.dryRunComparison = compareWithDryRun(input.plan, input.dryRun, draft.tables);
  return sealReport(draft);
}

/** PostgreSQL's failures (activities/db/pg-errors.ts pgFailure): their first detail is the server's words. */
const DATABASE_FAILURES = ['ConstraintViolation', 'DatabaseError', 'TransientDatabaseError'];

interface ServerWords {
  code?: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  detail?: string;
  hint?: string;
}

/**
 * The report's words for a failed sub-step: its message as the worker let it leave the activity
 * (passwords and row values withheld, activities/interceptor.ts; withheld again here), and for a
 * database error the server's words, each reduced (db/row-values.ts).
 */
function failedEntry(f: RehearsalFailure): NonNullable<RehearsalReport['failed']> {
  const pg = DATABASE_FAILURES.includes(f.type) && f.details && typeof f.details === 'object' ? (f.details as ServerWords) : null;
  const entry = { step: f.step, type: f.type, message: withholdValuesIn(f.message) };
  return pg?.code ? { ...entry, database: databaseWords(pg) } : entry;
}

/** The server's words for the report (SQLSTATE, table, constraint, column, DETAIL, HINT), those it gave. */
function databaseWords(e: ServerWords): Record<string, string> {
  // The report lands in status and evidence: the DETAIL and HINT without row values (db/row-values.ts).
  const detail = e.detail ? reduceDetail(e.detail, e.code ?? '', false, e.constraint) : undefined;
  const all: Record<string, string | undefined> = {
    code: e.code,
    schema: e.schema,
    table: e.table,
    column: e.column,
    constraint: e.constraint,
    detail,
    hint: e.hint ? withholdValuesIn(e.hint) : undefined,
  };
  return Object.fromEntries(Object.entries(all).filter((x): x is [string, string] => typeof x[1] === 'string' && x[1] !== ''));
}

function recordValidation(draft: Draft, v: ValidateResult): void {
  draft.tables = v.tables.map((t) => ({
    table: t.table,
    inScope: t.inScope,
    moved: t.moved,
    merged: t.merged,
    leftBehind: t.leftBehind,
    leftBehindByReason: t.leftBehindByReason,
  }));
  draft.validation = { ok: v.ok, problems: v.tables.flatMap((t) => t.problems.map((p) => `${t.table}: ${p}`)) };
}

function recordRollback(draft: Draft, r: RollbackResult): void {
  const tables = r.tables.map((t) => ({
    table: t.table,
    deleted: t.deleted,
    checksumBeforePublish: t.checksumBeforePublish ?? '',
    checksumAfterRollback: t.checksumAfterRollback ?? '',
    equal: t.equal && t.checksumBeforePublish !== undefined,
  }));
  draft.rollback = { proven: tables.length > 0 && tables.every((t) => t.equal), tables, summary: r.proof.summary };
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
