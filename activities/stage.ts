// Step 6, stage: the selected Pilot rows, read in ONE exported snapshot, streamed with COPY into
// unlogged staging tables on the target, tables in parallel lanes. Heartbeats carry per-table
// progress; a retry in the same worker rejoins the held snapshot and keeps the tables already
// staged. A retry that cannot rejoin restages everything from a new snapshot: snapshots never mix.
import { Context } from '@temporalio/activity';
import type { Client } from 'pg';
import type { TableProgress } from '../common/temporal';
import type { StageInput, StageResult } from '../common/results';
import { connect, ident, resolveAlias } from './db/connect';
import { withContext } from './db/keep-alive';
import { ensureControlSchema } from './db/control-schema';
import { recordRun } from './db/run-registry';
import { holdSnapshot, joinSnapshot, releaseSnapshot } from './db/snapshot-holder';
import { scopeFilter } from './db/cleanup-rules';
import { stageLookups } from './db/lookup';
import { copyRegisters, copyTable, createStagingTables, type CopyPlan, type Lane } from './db/stage-copy';
import { analyzeStaging } from './db/analyze-staging';
import { catalogSummary, keyDigests } from './db/drift';
import { runNames } from './db/staging';
import { createStepLog, markStep } from './db/staging-state';
import { chaosPoint, failAfterRowsForTests, slowStageEndForTests, slowTableForTests } from './db/fault';
import { StepTracker } from './db/step-progress';
import { isStepProgress, type StepProgress } from '../common/progress';

/** What a beat carries: the progress and the snapshot it was read in. */
type Beat = StepProgress & { snapshot: string };

/** The tables an earlier attempt finished, with their rows, and its snapshot (older workers beat an array). */
function previousAttempt(details: unknown): { snapshot: string | undefined; staged: Map<string, number> } {
  if (isStepProgress(details)) {
    const b = details as Beat;
    return { snapshot: b.snapshot, staged: new Map(b.tables.filter((t) => t.phase === 'done').map((t) => [t.table, t.done])) };
  }
  const old = Array.isArray(details) ? (details as (TableProgress & { snapshot: string })[]) : [];
  const snapshots = new Set(old.map((b) => b.snapshot));
  return {
    snapshot: snapshots.size === 1 ? [...snapshots][0] : undefined,
    staged: new Map(old.filter((b) => b.phase === 'staged').map((b) => [b.table, b.rowsCopied])),
  };
}

export async function stage(input: StageInput): Promise<StageResult> {
  const { plan, runKey } = input;
  const activity = Context.current();
  const info = activity.info;
  // What the keep-alive beats carry while a long statement runs (copy, scope filter): this attempt's
  // progress once it has some, the previous attempt's until then, so a retry can always rejoin.
  let progress: StepTracker | undefined;
  return withContext(
    plan,
    async (ctx) => {
      const extra: Client[] = [];
      try {
        const { target, resolved } = ctx;
        const names = runNames(runKey);
        const copyPlan: CopyPlan = { resolved, names, temp: false, columnsFor: (t) => t.columns };
        await ensureControlSchema(target);
        await recordRun(target, input, 'staging');

        const { snapshot, fresh, at: snapshotAt } = await holdSnapshot(runKey, resolveAlias(plan.source));
        const previous = previousAttempt(activity.info.heartbeatDetails);
        const rejoined = !fresh && previous.snapshot === snapshot;
        const done = new Set(rejoined ? previous.staged.keys() : []);
        const restaged =
          info.attempt > 1 && fresh
            ? "the previous attempt's snapshot could not be rejoined: restaged every table from a new snapshot"
            : null;
        if (!rejoined) {
          await target.query(`DROP SCHEMA IF EXISTS ${ident(names.schema)} CASCADE`);
          await target.query(`CREATE SCHEMA ${ident(names.schema)}`);
          await createStagingTables(target, copyPlan);
        }
        await createStepLog(target, names);

        const lanes: Lane[] = [];
        const width = Math.max(1, Math.min(plan.parallelism ?? 2, resolved.tables.length));
        for (let i = 0; i < width; i++) {
          const src = await connect(resolveAlias(plan.source), `cutover:${plan.id}:source`);
          extra.push(src);
          await joinSnapshot(src, snapshot);
          const tgt = i === 0 ? target : await connect(resolveAlias(plan.target), `cutover:${plan.id}:target`);
          if (i > 0) extra.push(tgt);
          lanes.push({ src, tgt });
        }

        progress = new StepTracker(
          'stage',
          resolved.tables.map((t) => ({ table: t.name, total: input.expectedRows?.[t.name] })),
        );
        progress.extra = { snapshot };
        for (const t of done) progress.done(t, previous.staged.get(t) ?? 0);
        const tracker = progress;

        await chaosPoint(input.plan.id, 'stage.start');
        const queue = resolved.tables.filter((t) => !done.has(t.name));
        const failAfter = failAfterRowsForTests(info.attempt, runKey);
        await Promise.all(
          lanes.map(async (lane) => {
            for (let t = queue.shift(); t; t = queue.shift()) {
              tracker.table(t.name);
              await slowTableForTests(lane.tgt, 'stage');
              const rows = await copyTable(lane, copyPlan, t, (n) => {
                failAfter(t!.name, n);
                tracker.rows(t!.name, n);
                return n >= 1000 ? chaosPoint(input.plan.id, 'stage.mid-copy') : undefined;
              });
              tracker.done(t.name, rows);
            }
          }),
        );
        tracker.phase('copying registers and lookups');
        const registers = await copyRegisters(lanes[0], copyPlan);
        await stageLookups(lanes[0], copyPlan);
        tracker.phase('settling the scope');
        await slowStageEndForTests(target, info.attempt);
        await chaosPoint(input.plan.id, 'stage.settle');
        await analyzeStaging(target, resolved, names); // cleanup, publish and validate plan on these
        const inScope = await scopeFilter(target, resolved, names);
        const digests = await keyDigests(target, resolved, names);
        await recordRun(target, input, 'staged');
        await markStep(target, names, 'stage', { snapshot, inScope, snapshotAt });
        await releaseSnapshot(runKey); // cleanup and publish read only the target
        return {
          schema: names.schema,
          snapshot,
          snapshotAt,
          tables: resolved.tables.map((t) => ({ table: t.name, rows: inScope[t.name] })),
          registers,
          attempt: info.attempt,
          resumedTables: [...done],
          restaged,
          digests,
          catalog: catalogSummary(resolved),
        };
      } finally {
        await Promise.allSettled(extra.map((c) => c.end()));
      }
    },
    { details: () => progress?.snapshot() ?? activity.info.heartbeatDetails },
  );
}
