// Erasure replay after a restore of Production (workflow cutoverErasureReplay, `cutover erasure
// replay`): a backup restored weeks after a cutover brings back people erased since it was taken.
// For every run that published into this target (cutover.run, its plan read from its evidence pack
// in cutover.evidence), every request in the plan's registers is read again and every erasure the
// run logged after publish is taken from cutover.erasure_log, translated to today's Production keys
// through the run's id maps (db/erasure-subjects.ts, the one place that does, when: restore), and
// applied — deleted, anonymized or set to NULL by the plan's rules — in one transaction per run,
// proven there before COMMIT as a rollback by restore proves it (db/erasure-reapply.ts
// verifyErasures: no erased subject's row left, a fresh walk down the foreign keys finds only
// anonymized rows, no dangling reference). An erasure applied twice changes nothing, so the whole
// history is replayed, not only what came after the restore point; the restore point decides which
// runs' rows the restored Production can hold at all: a run published after it is not in it, and
// nothing is translated through its id map (a key it drew may be someone else's now). Refused while
// a cutover run on this database is open (cutover.run without finished_at). Writes its own evidence
// pack: cutover.erasure_replay, and the backup store of the first replayed plan that names one.
// It needs the cutover schema as it is now: restore the application's schemas, not `cutover`.
import { createHash } from 'node:crypto';
import type { Client } from 'pg';
import { codecFromEnv } from '../common/data-converter';
import { isSealed, openEvidence } from '../common/evidence-seal';
import type { ErasureReplayInput, ErasureReplayResult, ErasureReplayRun } from '../common/results';
import { PlanSchema, type Plan } from '../plan/schema';
import { ensureControlSchema } from './db/control-schema';
import { connect, resolveAlias } from './db/connect';
import { anonymizeRules, applyErasures, AFTER_PUBLISH_STEPS, verifyErasures } from './db/erasure-reapply';
import { withContext } from './db/keep-alive';
import { erasureResidue, planIssue } from './errors';
import { openStore } from './store';
import { putOnce } from './store/once';

export const REPLAY_STEP = 'erasure-replay';
export const REPLAY_RULE =
  "every request in the registers of every plan that published here, and every erasure its run logged after publish, translated to Production keys through the run's id map (not for runs published after the restore point), applied by the plan's erasure rules and proven before COMMIT: no erased subject's row left, only anonymized rows reachable from them, no dangling reference";

interface RunRow {
  run_key: string;
  plan_id: string;
  published_at: Date;
  /** When its rows were taken out of Production again (surgical rollback or rollback by restore), if ever. */
  undone_at: Date | null;
  pack_text: string | null;
}

export async function erasureReplay(input: ErasureReplayInput): Promise<ErasureReplayResult> {
  const startedAt = new Date().toISOString();
  const target = await connect(resolveAlias(input.target), `cutover:${input.target}:erasure-replay`);
  let runs: RunRow[];
  let since: { at: string; from: 'timestamp' | 'backup' };
  try {
    await ensureControlSchema(target);
    since = await restorePoint(input.since);
    const open = await target.query<{ run_key: string; plan_id: string; status: string }>(
      'SELECT run_key, plan_id, status FROM cutover.run WHERE finished_at IS NULL ORDER BY started_at',
    );
    if (open.rows.length > 0) {
      throw planIssue(
        '--target',
        `erasure replay refused: a cutover run on this database is open (${open.rows.map((r) => `${r.plan_id} run ${r.run_key}, ${r.status}`).join('; ')}); let it finish (or abort it), then replay`,
      );
    }
    runs = (
      await target.query<RunRow>(
        `SELECT r.run_key, r.plan_id, r.published_at, coalesce(r.rolled_back_at, r.restored_at) AS undone_at, e.pack_text
           FROM cutover.run r LEFT JOIN cutover.evidence e USING (run_key)
          WHERE r.published_at IS NOT NULL ORDER BY r.published_at, r.run_key`,
      )
    ).rows;
    if (runs.length === 0) {
      throw planIssue(
        '--target',
        'erasure replay refused: cutover.run records no run that published into this database; if the restore replaced the cutover schema too, restore it from after the last run (it holds the id maps and the erasure log) and replay again',
      );
    }
  } finally {
    await target.end().catch(() => undefined);
  }

  const done: ErasureReplayRun[] = [];
  const skipped: ErasureReplayResult['skipped'] = [];
  for (const run of runs) {
    // Rolled back before the restore point: the restored Production holds none of its rows. Rolled
    // back after it: the restore brought them back, and their erasures are replayed like any run's.
    if (run.undone_at && run.undone_at.getTime() <= Date.parse(since.at)) {
      skipped.push({
        runKey: run.run_key,
        planId: run.plan_id,
        why: `rolled back at ${run.undone_at.toISOString()}, before the restore point: none of its rows are in the restored Production`,
      });
      continue;
    }
    const plan = await planOf(run);
    if (typeof plan === 'string') {
      skipped.push({ runKey: run.run_key, planId: run.plan_id, why: plan });
      continue;
    }
    if (plan.target !== input.target) {
      skipped.push({ runKey: run.run_key, planId: run.plan_id, why: `its plan names the target ${plan.target}, not ${input.target}` });
      continue;
    }
    if (!plan.erasure?.registers.length || !plan.subjects) {
      skipped.push({ runKey: run.run_key, planId: run.plan_id, why: 'its plan declares no erasure registers' });
      continue;
    }
    const replayed = await replayRun(plan, run, since.at);
    if (run.undone_at)
      replayed.note = `rolled back at ${run.undone_at.toISOString()}, after the restore point: the restore brought its rows back into Production (roll it back again if they must not be there); its erasures were re-applied`;
    done.push(replayed);
  }
  const result: ErasureReplayResult = {
    kind: 'erasure-replay',
    schemaVersion: 1,
    replayKey: input.replayKey,
    workflowId: input.workflowId,
    runId: input.runId,
    initiatedBy: input.initiatedBy,
    target: input.target,
    since: input.since,
    sinceAt: since.at,
    sinceFrom: since.from,
    startedAt,
    finishedAt: new Date().toISOString(),
    runs: done,
    skipped,
    residue: done.reduce((a, r) => a + r.residue, 0),
    rule: REPLAY_RULE,
  };
  return writeEvidence(input, result, done.length ? await planOf(runs.find((r) => r.run_key === done[0].runKey)!) : null);
}

/** The restore point: a timestamp, or a backup object's createdAt as the store recorded it. */
async function restorePoint(since: string): Promise<{ at: string; from: 'timestamp' | 'backup' }> {
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}(:?\d{2})?)?$/.test(since)) {
    const t = Date.parse(since);
    if (Number.isNaN(t)) throw planIssue('--since', `${JSON.stringify(since)}: not a valid time`);
    return { at: new Date(t).toISOString(), from: 'timestamp' };
  }
  // A backup object: <store>/<plan id>/<run key>/<name>, as cutover's backups are laid out.
  const m = /^(s3:\/\/.+|file:\/\/\/.+)\/([^/]+\/[^/]+\/[^/]+)$/.exec(since);
  if (!m)
    throw planIssue(
      '--since',
      `${JSON.stringify(since)}: must be a time (2026-11-20T10:00:00Z) or a backup object's location (s3://bucket/prefix/<plan>/<run key>/<file> or file:///dir/…)`,
    );
  const head = await openStore(m[1]).head(m[2]);
  if (!head?.meta) throw planIssue('--since', `${since}: no complete backup object there (missing, or never finished)`);
  return { at: new Date(head.meta.createdAt).toISOString(), from: 'backup' };
}

/** The run's plan, as its evidence pack recorded it (opened with the worker's codec keys when sealed). */
async function planOf(run: RunRow): Promise<Plan | string> {
  if (!run.pack_text) return 'no evidence pack in cutover.evidence (the run never finalized)';
  let text = run.pack_text;
  try {
    if (isSealed(JSON.parse(text))) text = await openEvidence(text, codecFromEnv());
  } catch (e) {
    return `its evidence pack cannot be opened: ${(e as Error).message}`;
  }
  const parsed = PlanSchema.safeParse((JSON.parse(text) as { run?: { plan?: unknown } }).run?.plan);
  return parsed.success ? parsed.data : 'the plan in its evidence pack does not validate';
}

async function replayRun(plan: Plan, run: RunRow, sinceAt: string): Promise<ErasureReplayRun> {
  // Published after the restore point: the restored Production holds none of its rows.
  const runAbsent = run.published_at.getTime() > Date.parse(sinceAt);
  return withContext(plan, async ({ source, target, resolved }) => {
    const logged = await target.query<{ all: string; since: string }>(
      `SELECT count(DISTINCT production_subject)::text AS all, count(DISTINCT production_subject) FILTER (WHERE at > $3)::text AS since
         FROM cutover.erasure_log WHERE run_key = $1 AND step = ANY($2) AND production_subject IS NOT NULL`,
      [run.run_key, AFTER_PUBLISH_STEPS, sinceAt],
    );
    await target.query('BEGIN');
    try {
      const applied = await applyErasures(target, source, resolved, {
        runKey: run.run_key,
        step: REPLAY_STEP,
        when: 'restore',
        anonymize: anonymizeRules(resolved),
        runAbsent,
      });
      // Proven in the same transaction, by queries that do not reuse the statements that erased.
      const problems = await verifyErasures(target, resolved);
      if (problems.length > 0)
        throw erasureResidue(
          `erasure replay of run ${run.run_key} (plan ${plan.id}) refused, nothing committed:\n  ${problems.join('\n  ')}`,
          { problems },
        );
      await target.query('COMMIT');
      return {
        runKey: run.run_key,
        planId: plan.id,
        publishedAt: run.published_at.toISOString(),
        runAbsent,
        registers: resolved.rules.registers.map((r) => `${r.db}:${r.table.qualified}`),
        requests: applied.requests,
        loggedSince: Number(logged.rows[0].since),
        logged: Number(logged.rows[0].all),
        applied: applied.applied,
        applications: applied.applications,
        rows: applied.rows,
        anonymized: applied.anonymized,
        nullified: applied.nullified,
        residue: 0,
        verification: [
          'no row of an erased subject is left in the subjects table (or, anonymized, it holds the anonymized values)',
          'a fresh walk down the foreign keys from them finds only anonymized rows holding their values',
          'no plan table row references a missing row',
        ],
      };
    } catch (e) {
      await target.query('ROLLBACK');
      throw e;
    }
  });
}

/** The pack into cutover.erasure_replay (exact bytes and sha256) and, when the plan names one, the backup store. */
async function writeEvidence(
  input: ErasureReplayInput,
  result: ErasureReplayResult,
  plan: Plan | string | null,
): Promise<ErasureReplayResult> {
  const text = `${JSON.stringify(result, null, 2)}\n`;
  const sha256 = createHash('sha256').update(text).digest('hex');
  let location: string | null = null;
  if (plan && typeof plan !== 'string' && plan.backup) {
    const stored = await putOnce(
      openStore(plan.backup.store),
      `${plan.id}/erasure-replays/${input.replayKey}/evidence.json`,
      Buffer.from(text, 'utf8'),
      {
        runKey: input.replayKey,
        planHash: 'erasure-replay',
        createdAt: result.finishedAt,
        labels: { kind: 'erasure-replay-evidence', target: input.target },
      },
    );
    location = stored.location;
  }
  const db: Client = await connect(resolveAlias(input.target), `cutover:${input.target}:erasure-replay`);
  try {
    await db.query(
      `INSERT INTO cutover.erasure_replay (replay_key, target, since, since_at, pack, pack_text, sha256, location) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (replay_key) DO UPDATE SET pack = EXCLUDED.pack, pack_text = EXCLUDED.pack_text, sha256 = EXCLUDED.sha256, location = EXCLUDED.location, written_at = now()`,
      [input.replayKey, input.target, input.since, result.sinceAt, text, text, sha256, location],
    );
  } finally {
    await db.end().catch(() => undefined);
  }
  return { ...result, sha256, location };
}
