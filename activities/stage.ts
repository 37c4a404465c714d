// Step 6, stage: the selected Pilot rows, read in ONE exported snapshot, streamed with COPY into
// unlogged staging tables on the target, tables in parallel lanes (a big table split by block range
// across `parallelism.lanes` of them: db/copy-lanes.ts). Heartbeats carry per-table
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
import { refindLookups, stageLookups } from './db/lookup';
import { copyRegisters, createStagingTables, type CopyPlan, type Lane } from './db/stage-copy';
import { copyInLanes, laneCount, workItems } from './db/copy-lanes';
import { parallelismOf } from '../plan/parallelism';
import { analyzeStaging } from './db/analyze-staging';
import { catalogSummary, keyDigests } from './db/drift';
import { pilotChanges, prestaged, rowDigests, type PilotChange, type PrestageMarker } from './db/prestage';
import { inTransaction } from './db/transaction';
import { planHash } from '../plan/canonical';
import type { Context as DbContext } from './db/context';
import type { KeyDigest } from '../common/results';
import { runNames } from './db/staging';
import { createStepLog, markStep } from './db/staging-state';
import { chaosPoint, failAfterRowsForTests, slowStageEndForTests, slowTableForTests, stageCopyForcedForTests } from './db/fault';
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

        // The dry run staged these rows already: kept when the Pilot has not changed since (nothing read
        // again but the registers); otherwise copied again below, with what changed.
        progress = new StepTracker(
          'stage',
          resolved.tables.map((t) => ({ table: t.name, total: input.expectedRows?.[t.name] })),
        );
        const dry = stageCopyForcedForTests(plan.id) ? {} : await checkDryRunStaging(ctx, input, copyPlan, progress);
        if (dry.kept) return dry.kept;

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
        const openLane = async (i: number) => {
          const src = await connect(resolveAlias(plan.source), `cutover:${plan.id}:source`);
          extra.push(src);
          await joinSnapshot(src, snapshot);
          const tgt = i === 0 ? target : await connect(resolveAlias(plan.target), `cutover:${plan.id}:target`);
          if (i > 0) extra.push(tgt);
          lanes.push({ src, tgt });
        };
        // The first lane plans the work items (whole tables, a big table's block ranges) in the snapshot.
        await openLane(0);
        const par = parallelismOf(plan);
        const items = await workItems(
          lanes[0].src,
          resolved.tables.filter((t) => !done.has(t.name)),
          par,
        );
        for (let i = 1; i < laneCount(items, par); i++) await openLane(i);

        progress.extra = { snapshot };
        for (const t of done) progress.done(t, previous.staged.get(t) ?? 0);
        const tracker = progress;

        await chaosPoint(input.plan.id, 'stage.start');
        const failAfter = failAfterRowsForTests(info.attempt, runKey);
        // A table not done (by an earlier attempt) is emptied once and copied whole again, every part.
        await copyInLanes(lanes, copyPlan, items, {
          start: async (t, lane) => {
            tracker.table(t.name);
            await slowTableForTests(lane.tgt, 'stage');
          },
          rows: (t, n) => {
            failAfter(t.name, n);
            tracker.rows(t.name, n);
            return n >= 1000 ? chaosPoint(input.plan.id, 'stage.mid-copy') : undefined;
          },
          done: (t, rows) => tracker.done(t.name, rows),
        });
        tracker.phase('copying registers and lookups');
        const registers = await copyRegisters(lanes[0], copyPlan);
        await stageLookups(lanes[0], copyPlan);
        tracker.phase('settling the scope');
        await slowStageEndForTests(target, info.attempt);
        await chaosPoint(input.plan.id, 'stage.settle');
        await analyzeStaging(target, resolved, names); // cleanup, publish and validate plan on these
        const inScope = await scopeFilter(target, resolved, names);
        const digests = await keyDigests(target, resolved, names);
        // The Pilot changed after the dry run: every staged row's digest, beside the approved staging's.
        const rows = dry.approvedRows ? { approved: dry.approvedRows, now: await rowDigests(target, resolved, names) } : undefined;
        await recordRun(target, input, 'staged');
        await markStep(target, names, 'stage', { snapshot, inScope, snapshotAt, digests });
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
          ...(dry.why
            ? { dryRunStaging: { kept: false, why: dry.why, ...(dry.changed ? { changed: dry.changed } : {}), ...(rows ? { rows } : {}) } }
            : {}),
        };
      } finally {
        await Promise.allSettled(extra.map((c) => c.end()));
      }
    },
    { details: () => progress?.snapshot() ?? activity.info.heartbeatDetails },
  );
}

/**
 * The staging the dry run made (activities/db/prestage.ts), kept when it is still as the dry run left
 * it, for the same plan and catalogs, and the Pilot's plan tables have not changed since its snapshot:
 * then only the registers are read (in a new snapshot: a request that came after approval is
 * honoured), the lookups found again in Production and the scope filter run again (both depend on
 * Production, which may have changed). Otherwise `why`, and when the Pilot changed, the digests of
 * every row the dry run staged (what was approved), taken before the copy replaces them.
 */
async function checkDryRunStaging(
  ctx: DbContext,
  input: StageInput,
  copyPlan: CopyPlan,
  tracker: StepTracker,
): Promise<{ kept?: StageResult; why?: string; changed?: PilotChange[]; approvedRows?: Record<string, KeyDigest> }> {
  const { target, source, resolved } = ctx;
  const names = copyPlan.names;
  const marker = await prestaged(target, names);
  if (!marker) return {};
  if (marker.planHash !== planHash(input.plan)) return { why: 'the plan is not the one the dry run staged for: copied again' };
  if (await emptied(target, resolved, names, marker))
    return { why: "the dry run's staging was emptied (a server restart empties unlogged tables): copied again" };
  if (canonical(marker.catalog) !== canonical(catalogSummary(resolved)))
    return { why: 'a catalog changed since the dry run: copied again' };
  tracker.phase('checking the Pilot against the dry run');
  return inTransaction(
    source,
    async () => {
      const { s: snapshot, at } = (await source.query<{ s: string; at: Date }>('SELECT pg_export_snapshot() AS s, now() AS at')).rows[0];
      const changed = await pilotChanges(source, resolved, marker);
      if (changed.length > 0) {
        return {
          why: `the Pilot changed since the dry run (${changed.map((c) => `${c.table}: ${c.rowsThen} → ${c.rowsNow} rows, ${c.newer} written since`).join('; ')}): copied again from a new snapshot`,
          changed,
          approvedRows: await rowDigests(target, resolved, names),
        };
      }
      await chaosPoint(input.plan.id, 'stage.start');
      tracker.phase('copying registers and lookups');
      const registers = await copyRegisters({ src: source, tgt: target }, copyPlan);
      await refindLookups(target, copyPlan);
      tracker.phase('settling the scope');
      await chaosPoint(input.plan.id, 'stage.settle');
      const inScope = await scopeFilter(target, resolved, names);
      const same = resolved.tables.every((t) => inScope[t.name] === marker.inScope[t.name]);
      const digests = same ? marker.digests : await keyDigests(target, resolved, names);
      const snapshotAt = at.toISOString();
      await recordRun(target, input, 'staged');
      await markStep(target, names, 'stage', { snapshot, inScope, snapshotAt, digests, keptFromDryRun: marker.snapshot });
      for (const t of resolved.tables) tracker.done(t.name, inScope[t.name]);
      const kept: StageResult = {
        schema: names.schema,
        snapshot,
        snapshotAt,
        tables: resolved.tables.map((t) => ({ table: t.name, rows: inScope[t.name] })),
        registers,
        attempt: Context.current().info.attempt,
        resumedTables: [],
        restaged: null,
        digests,
        catalog: catalogSummary(resolved),
        dryRunStaging: { kept: true },
      };
      return { kept };
    },
    { isolation: 'REPEATABLE READ', readOnly: true, end: 'rollback' },
  );
}

/** JSON with object keys sorted: the marker went through jsonb, which orders keys its own way. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** A table the dry run staged rows into whose file is empty now: crash recovery truncates unlogged tables (the step log survives). */
async function emptied(db: Client, r: DbContext['resolved'], names: CopyPlan['names'], marker: PrestageMarker): Promise<boolean> {
  const staged = r.tables.filter((t) => (marker.inScope[t.name] ?? 0) > 0).map((t) => names.data(t.index, t.name));
  if (staged.length === 0) return false;
  const res = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM unnest($1::text[]) AS x(rel) WHERE to_regclass(x.rel) IS NULL OR pg_relation_size(to_regclass(x.rel)) = 0',
    [staged],
  );
  return res.rows[0].n > 0;
}
