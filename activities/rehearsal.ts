// Step 4, rehearsal (plan rehearsal.mode: scratch): before the cutover gate, the run's verified
// target backup is restored into a scratch database cutover_rehearsal_<runKey> on the target's
// server, and stage → cleanup → publish → validate run there through the same step code (the
// exported activity functions, in-process), then the surgical rollback, whose per-table checksums
// must equal the ones publish took before inserting. The step code is pointed at the scratch
// database by a synthetic target alias resolved only in this worker (no URL in any payload) and
// runs under its own run key r<runKey>, so its staging and guards never meet the real run's.
// Production-side erasure registers are copied into the scratch database as they are at that
// moment (the backup may not hold them, or hold them older), so cleanup leaves behind whom the real
// run would. The report (counts, their comparison with the approved dry run, validation, rollback
// proof, timings) carries its own sha256, which an approver of the cutover gate may name. The scratch database is dropped at the end: on success,
// on failure and on cancellation. Any failure is a RehearsalError carrying the report so far.
import { reduceDetail, reduceMessage, withholdValuesIn } from './db/row-values';
import { Context } from '@temporalio/activity';
import { canonicalJson } from '../plan/canonical';
import { sha256Hex } from '../plan/sha256';
import type { RehearsalInput, RehearsalReport, RollbackResult, ValidateResult } from '../common/results';
import type { Plan } from '../plan/schema';
import { cleanup } from './cleanup';
import { resolveAlias, withAliasOverride } from './db/connect';
import { withHeartbeatScope } from './db/heartbeat-scope';
import { startProgress } from './db/progress';
import { isStepProgress, type StepProgress } from '../common/progress';
import { restorePostData, ToolError } from './rehearsal/restore-post-data';
import { copyFromProduction } from './rehearsal/rehearsal-parents';
import { isPgError, pgFailure, type PgError } from './db/pg-errors';
import { compareWithDryRun } from '../common/rehearsal-compare';
import { parseTableName } from '../plan/names';
import { restoreTables } from './db/restore-tables';
import { withScratchDatabase } from './db/scratch-db';
import { releaseSnapshot } from './db/snapshot-holder';
import { rehearsalError } from './errors';
import { publish } from './publish';
import { rollback } from './rollback';
import { stage } from './stage';
import { validate } from './validate';

export const rehearsalDatabase = (runKey: string) => `cutover_rehearsal_${runKey}`;

type Draft = Omit<RehearsalReport, 'rehearsalHash'>;

/** The report with its own hash: sha256 of its canonical JSON without the hash. */
export function sealReport(draft: Draft): RehearsalReport {
  return { ...draft, rehearsalHash: sha256Hex(canonicalJson(draft)) };
}

export async function rehearsal(input: RehearsalInput): Promise<RehearsalReport> {
  const { plan, runKey } = input;
  // It names the scratch database and the rehearsal's staging: nothing but what a run key is may pass.
  if (!/^[a-z0-9]{1,40}$/.test(runKey))
    throw rehearsalError(`rehearsal: run key ${JSON.stringify(runKey)} must be 1 to 40 lowercase letters or digits`);
  const target = input.backup?.backups?.find((b) => b.kind === 'target');
  if (!target) throw rehearsalError('rehearsal: the run has no verified target backup to restore (the backup step must run first)');

  const draft: Draft = {
    ok: false,
    database: rehearsalDatabase(runKey),
    runKey: `r${runKey}`,
    backup: { location: target.location, sha256: target.sha256 },
    startedAt: new Date().toISOString(),
    finishedAt: '',
    tables: [],
    cleanup: null,
    validation: null,
    rollback: null,
    timings: [],
    failed: null,
    parentsCopied: [],
  };
  // validation.preExisting full: the rehearsal proves its rollback by whole-table checksums (the
  // scratch database has no other writers, and its size is the backup's, read once by the restore anyway).
  const sub = {
    plan: { ...plan, target: `rehearsal-${runKey}`, validation: { preExisting: 'full' as const } },
    runKey: draft.runKey,
    workflowId: input.workflowId,
    runId: input.runId,
  };
  let phase = 'starting';
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    phase = step;
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      draft.timings.push({ step, ms: Date.now() - t0 });
    }
  };
  // The step running inside reports in the common progress shape, marked as within the rehearsal;
  // the rehearsal's own beats repeat its latest progress rather than erase it.
  let inner: StepProgress | undefined;
  const wrap = (details: unknown) => {
    if (!isStepProgress(details)) return { rehearsal: phase, step: details };
    inner = { ...details, within: 'rehearsal' };
    return inner;
  };
  const stopBeats = beatWhile(() => (inner && inner.step === phase ? inner : { rehearsal: phase }));
  try {
    await withScratchDatabase(resolveAlias(plan.target), draft.database, (url) =>
      withHeartbeatScope(wrap, async () => {
        await timed('restore', async () => {
          const progress = startProgress({ phase: 'verifying', backup: 'target' }, 'restore');
          try {
            await restoreTables(target, url, { mode: 'new-database', progress });
            // Production-side registers as they are now, and rows of tables outside the plan that plan
            // rows reference (read from Production in one snapshot), before the FKs come back.
            const copied = await copyFromProduction(resolveAlias(plan.target), url, planTableRefs(plan), targetRegisterRefs(plan));
            draft.parentsCopied = copied.parentsCopied;
            if (copied.registersCopied.length) draft.registersCopied = copied.registersCopied;
            await restorePostData(target, url, progress.signal).catch((e) => {
              if (!(e instanceof ToolError)) throw e;
              throw rehearsalError(
                `the target backup's indexes, constraints and triggers do not restore onto its rows (a plan table referencing a table outside the plan? backup.scope: full holds every row): ${e.message}`,
              );
            });
          } finally {
            progress.stop();
          }
        });
        await withAliasOverride(sub.plan.target, url, async () => {
          const staged = await timed('stage', () => stage({ ...sub, expectedRows: input.expectedRows }));
          draft.cleanup = (await timed('cleanup', () => cleanup(sub))).leftBehind;
          const published = await timed('publish', () => publish(sub));
          const validated = await timed('validate', () =>
            validate({ ...sub, publish: published, stage: staged }).catch((e) => {
              const partial = (e as { details?: unknown[] }).details?.[0] as ValidateResult | undefined;
              if (partial?.tables) recordValidation(draft, partial);
              throw e;
            }),
          );
          recordValidation(draft, validated);
          recordRollback(draft, await timed('rollback', () => rollback({ ...sub, publish: published })));
        });
      }),
    );
    if (!draft.rollback?.proven) {
      const differ = draft.rollback?.tables.filter((t) => !t.equal).map((t) => t.table) ?? [];
      throw rehearsalError(
        `rehearsal: the rollback did not bring the scratch database back to its contents before publish (${differ.join(', ')})`,
      );
    }
    draft.ok = true;
    draft.finishedAt = new Date().toISOString();
    compare(draft, input);
    return sealReport(draft);
  } catch (caught) {
    if (cancelled()) throw caught; // the activity was cancelled: the scratch database is dropped already
    // A database error carries the server's table, constraint, DETAIL and HINT, as every other step's does.
    const pg = databaseError(caught);
    const e = pg ? await pgFailure(pg) : caught;
    const type = (e as { type?: string }).type ?? (e as Error).name ?? 'Error';
    // Kept in the report (status, evidence): row values reduced like every failure's (db/row-values.ts).
    const raw = (e as Error).message ?? String(e);
    const message = isPgError(e)
      ? `${reduceMessage(raw, e.code!)} (SQLSTATE ${e.code}${e.constraint ? `; constraint ${e.constraint}` : ''})`
      : withholdValuesIn(raw);
    draft.failed = { step: phase, type, message, ...(pg ? { database: databaseWords(pg) } : {}) };
    draft.finishedAt = new Date().toISOString();
    compare(draft, input);
    const report = sealReport(draft);
    throw type === 'RehearsalError'
      ? rehearsalError(message, report)
      : rehearsalError(`rehearsal failed at ${phase} (${type}); production was not touched: ${message}`, report);
  } finally {
    stopBeats();
    await releaseSnapshot(draft.runKey).catch(() => undefined); // a stage that failed mid-way holds one
  }
}

/** The counts against the approved dry run's (when the workflow passed them and the rehearsal counted). */
function compare(draft: Draft, input: RehearsalInput): void {
  if (input.dryRun && draft.tables.length > 0) draft.dryRunComparison = compareWithDryRun(input.plan, input.dryRun, draft.tables);
}

/** The PostgreSQL error behind a failure, if one is (raised as is, or as a cause). */
function databaseError(e: unknown, depth = 0): PgError | null {
  if (isPgError(e)) return e;
  const cause = (e as { cause?: unknown } | null)?.cause;
  return cause !== undefined && depth < 5 ? databaseError(cause, depth + 1) : null;
}

/** The server's words for the report (SQLSTATE, table, constraint, column, DETAIL, HINT), those it gave. */
function databaseWords(e: PgError): Record<string, string> {
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

/** Beats of the rehearsal's own, between and under the step code's: several per heartbeat timeout. */
function beatWhile(details: () => unknown): () => void {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return () => undefined;
  }
  const every = Math.min(5000, (ctx.info.heartbeatTimeoutMs || 15000) / 3);
  ctx.heartbeat(details());
  const timer = setInterval(() => ctx.heartbeat(details()), every);
  return () => clearInterval(timer);
}

function cancelled(): boolean {
  try {
    return Context.current().cancellationSignal.aborted;
  } catch {
    return false;
  }
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
