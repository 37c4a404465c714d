// Step 1, preflight: the dry run. Checks the plan against both catalogs and counts, per table and
// reason, what will move, merge and stay behind.
import type { Client } from 'pg';
import { planHash } from '../plan/canonical';
import type { DryRunReport, KeyDigest, RetentionApplied, StepInput, TableDryRun } from '../common/results';
import { Cleanup, danglingReferences, scopeFilter } from './db/cleanup-rules';
import { ident, qualified, withClient } from './db/connect';
import { identitiesOf, identityOf, runAliases } from './db/alias-identity';
import { pilotInventory } from './preflight/inventory';
import { asPlanError } from './db/context';
import { withContext } from './db/keep-alive';
import { checkPartialForeignKeys } from './preflight/partition-fks';
import { DRY_MANIFEST_DDL } from './db/control-schema';
import { stageLookups } from './db/lookup';
import { insertedRows, productionKeyExprs } from './db/row-identity';
import { describeConflict, productionUniques, uniqueConflicts, type ProductionUnique } from './preflight/unique-conflicts';
import { buildMap, createMap, isMapped, ownRowsFrom } from './db/remap';
import type { Resolved, ResolvedTable } from './db/resolve';
import { PlanError, type PlanIssue } from '../plan/issues';
import { copyRegisters, copyTable, createStagingTables, type CopyPlan, type Lane } from './db/stage-copy';
import { copyInLanes, laneCount, workItems } from './db/copy-lanes';
import { parallelismOf } from '../plan/parallelism';
import { dryNames, type StagingNames } from './db/staging';
import { dropStaging, pilotTotals, prestageNames, snapshotXmin, type PrestageMarker } from './db/prestage';
import { createStepLog, markStep } from './db/staging-state';
import { planError } from './errors';
import { asStatementTimeout, dryRunStatementTimeout, limitStatements } from './preflight/statement-timeout';
import { chaosPoint } from './db/fault';
import { accessChecksRefused } from './db/read-only-check';
import { analyzeStaging } from './db/analyze-staging';
import { catalogSummary, keyDigests, keptDigestsFrom } from './db/drift';
import { earlierRuns, excluded, type EarlierRun } from './db/already-moved';
import { joinSnapshot } from './db/snapshot-holder';
import { inTransaction } from './db/transaction';
import { pilotColumn, stagedColumn } from './db/mapping-staging';
import { applyMapping, mappingEvidence } from './db/mapping-compute';
import { decidingColumns } from './db/deciding-columns';

export async function preflight(input: Pick<StepInput, 'plan'> & Partial<StepInput>): Promise<DryRunReport> {
  const report = await dryRunOf(input.plan, input.runKey ?? '');
  // The databases this run works on, by identity: every later activity checks its aliases still reach them.
  return { ...report, identities: await identitiesOf(runAliases(input.plan)) };
}

async function dryRunOf(plan: StepInput['plan'], runKey: string): Promise<DryRunReport> {
  const timeout = dryRunStatementTimeout();
  try {
    if (plan.strategy === 'clean-start') return await archiveReport(plan);
    return await withContext(plan, async (ctx) => {
      const { source, target, resolved } = ctx;
      await limitStatements([source, ...(target === source ? [] : [target])], timeout);
      await chaosPoint(plan.id, 'preflight.start');
      await checkValues(source, target, resolved);
      await checkKeysUnique(source, resolved.tables);
      const partial = await checkPartialForeignKeys(ctx, resolved.tables);
      if (partial.length > 0) throw new PlanError(partial);
      const adopt = plan.strategy === 'adopt';
      if (adopt) await checkAdoptClosed(ctx.target, resolved);
      // Access checks that would be refused after publish (their SQL, or the role they run as) stop the run now.
      const checks = await accessChecksRefused(plan, ctx.target);
      if (checks.length > 0) throw new PlanError(checks);
      // Rows of this Pilot an earlier run already published here are not copied again (unless decision.rerun).
      const earlier = adopt ? [] : await earlierRuns(target, plan, runKey, await identityOf(plan.source));
      const retention: RetentionApplied[] = [];
      const open = (opener: () => Promise<Client>) => async () => {
        const lane = await opener();
        await limitStatements([lane], timeout);
        return lane;
      };
      // A selective run stages for real (the Pilot is read once); plan check --connect (no run key) and adopt do not.
      const prestage =
        plan.strategy === 'selective' && runKey !== ''
          ? { plan, runKey, timeout, openSource: open(() => ctx.openSource()), openTarget: open(() => ctx.openTarget()) }
          : null;
      const tables = await dryRun(
        source,
        target,
        resolved,
        adopt,
        excluded(plan, earlier),
        open(() => ctx.openSource()),
        retention,
        prestage,
      );
      const warnings = [...resolved.warnings, ...earlierRunWarnings(plan, earlier)];
      if (adopt)
        warnings.push(
          `adopt: ${plan.source} becomes Production in place from ${plan.adoptFrom}; the rows counted as left behind are removed from it, nothing moves to ${plan.target}`,
        );
      for (const t of tables) {
        for (const c of t.conflicts ?? []) warnings.push(describeConflict(t.table, c));
        if (t.collisions > 0 && !(t.conflicts ?? []).some((c) => c.kind === 'primary key'))
          warnings.push(
            `${t.table}: ${t.collisions} selected key(s) already exist in production (after mapping): publish will refuse them`,
          );
      }
      await chaosPoint(plan.id, 'preflight.end');
      return {
        ...dryRunReport(plan, tables, warnings),
        catalog: catalogSummary(resolved),
        ...(retention.length ? { retention } : {}),
        ...(prestage ? { staging: prestageNames(runKey).schema } : {}),
      };
    });
  } catch (e) {
    throw asPlanError(asStatementTimeout(e, timeout));
  }
}

/** What the approvers must know about earlier runs from this Pilot into this Production. */
function earlierRunWarnings(plan: StepInput['plan'], earlier: EarlierRun[]): string[] {
  if (earlier.length === 0)
    return plan.decision?.rerun
      ? [`deliberate re-run (decision.rerun): ${plan.decision.rerun.reason}; no earlier run's rows are in this Production`]
      : [];
  const runs = earlier.map((r) => `${r.runKey} (plan ${r.planId}, published ${r.publishedAt})`).join(', ');
  return plan.decision?.rerun
    ? [
        `deliberate re-run (decision.rerun): ${plan.decision.rerun.reason}; rows already published from this Pilot by ${runs} are copied AGAIN (ids: new tables get second copies, ids: keep tables collide)`,
      ]
    : [
        `rows of this Pilot already published here by ${runs} are left behind as already-moved:<run key> (not copied again); a deliberate re-run needs decision.rerun: {reason}`,
      ];
}

/** clean-start moves nothing: its dry run is the inventory of what the archive will hold. */
async function archiveReport(plan: StepInput['plan']): Promise<DryRunReport> {
  const tables = await withClient(plan.source, (c) => pilotInventory(c));
  return dryRunReport(plan, tables, [
    `clean-start: nothing moves to ${plan.target}; the whole Pilot (${tables.length} tables) is archived into ${plan.backup?.store ?? '(no backup store)'}${plan.decommission === 'readonly' ? ' and set read-only after the cutover gate' : ''}`,
  ]);
}

function dryRunReport(plan: StepInput['plan'], tables: TableDryRun[], warnings: string[]): DryRunReport {
  return {
    planId: plan.id,
    planHash: planHash(plan),
    source: plan.source,
    target: plan.target,
    order: tables.map((t) => t.table),
    tables,
    warnings,
    at: new Date().toISOString(),
  };
}

/**
 * The dry run runs the real selection and cleanup code. A selective run with a run key stages the
 * selected rows whole into the run's staging schema in the dry run's own exported snapshot (the
 * Pilot is read once: stage keeps this staging when the Pilot has not changed since,
 * activities/db/prestage.ts); the cleanup, mapping and matching are then rehearsed on it inside a
 * transaction that is rolled back, so the staging stays as selected. Without a run key (`plan check
 * --connect`) and for adopt, only the deciding columns are copied, into session temp tables, and
 * everything is rolled back. Its counts are the run's counts.
 */
async function dryRun(
  source: Client,
  target: Client,
  resolved: Resolved,
  adopt: boolean,
  earlier: string[],
  openSource: () => Promise<Client>,
  retention: RetentionApplied[] = [],
  prestage: Prestage | null = null,
): Promise<TableDryRun[]> {
  const names = prestage ? prestageNames(prestage.runKey) : dryNames();
  // Production's unique and exclusion indexes: their columns are staged too, so conflicts on them are predicted.
  const uniques = new Map<string, ProductionUnique[]>();
  if (!adopt) for (const t of resolved.tables) uniques.set(t.name, await productionUniques(target, t));
  const copyPlan: CopyPlan = {
    resolved,
    names,
    temp: !prestage,
    columnsFor: (t) =>
      prestage
        ? t.columns
        : decidingColumns(
            t,
            resolved,
            (uniques.get(t.name) ?? []).flatMap((u) => u.columns),
          ),
  };
  // The session's temp tables live in its own buffers (8 MB by default): past that every row copied
  // in and every cleanup pass spills to disk. Settable only before the session's first temp table.
  await target.query(`SET temp_buffers = '128MB'`).catch(() => undefined);
  let counter: Client | undefined;
  // Both transactions only measure: they roll back whatever happens (the Pilot's reads one snapshot).
  const measured = { end: 'rollback' } as const;
  return inTransaction(
    source,
    async () => {
      try {
        // Whole-table totals are counted on a second Pilot connection in the same snapshot, while the
        // rows are copied (the copy waits on the target, the count on the Pilot's disk).
        const { s: snapshot, at: snapshotAt } = (
          await source.query<{ s: string; at: Date }>('SELECT pg_export_snapshot() AS s, now() AS at')
        ).rows[0];
        counter = await openSource();
        await joinSnapshot(counter, snapshot);
        const lane2 = counter;
        // Staging for real: the snapshot's xmin, and the young xmins it saw, tell stage whether the Pilot changed (db/prestage.ts).
        const pilotXmin = prestage ? await snapshotXmin(source) : null;
        const counting = pilotTotals(lane2, resolved, pilotXmin);
        counting.catch(() => undefined); // awaited below; a failure there is the one reported
        // The staging the run will publish, committed (outside the rolled-back transaction below).
        const staged = prestage
          ? await prestageRows(source, target, copyPlan, prestage, {
              snapshot,
              snapshotAt: snapshotAt.toISOString(),
              pilotXmin: pilotXmin!, // set whenever prestage is
              counting,
            })
          : null;
        return await inTransaction(
          target,
          async () => {
            await target.query(DRY_MANIFEST_DDL);
            if (!staged) {
              await createStagingTables(target, copyPlan);
              const lane = { src: source, tgt: target };
              for (const t of resolved.tables) await copyTable(lane, copyPlan, t, () => undefined);
              await copyRegisters(lane, copyPlan);
              await stageLookups(lane, copyPlan);
            }
            const { totals } = await counting;
            // Autovacuum never analyzes temp tables: without statistics every query below would be planned
            // blind (row guesses off by orders of magnitude: hash vs index probes into Production chosen badly).
            if (!staged) await analyzeStaging(target, resolved, names);
            const inScope = staged ? staged.inScope : await scopeFilter(target, resolved, names);
            const inScopeKeys = staged ? staged.digests : await keyDigests(target, resolved, names);
            const rules = new Cleanup(target, resolved, names, null, undefined, !adopt); // adopt's in-place cleanup leaves behind as before
            rules.retentionFrom = snapshotAt.toISOString();
            const leftBehind = await rules.run({ transforms: false, earlier });
            retention.push(...rules.retention);
            // The mapping, on the rows that move, checked value by value as the run will (refused here, by key).
            await applyMapping(target, resolved, names);
            const mapping = new Map((await mappingEvidence(target, resolved, names)).map((m) => [m.table, m]));
            const keptKeys = await keptDigestsFrom(target, resolved, names, inScopeKeys);
            const dangling = await danglingReferences(target, resolved, names);
            if (dangling.length > 0) throw planError(dangling);
            const out: TableDryRun[] = [];
            // Every map exists before the first is read: a cycle's child reads its later parent's (still empty) map.
            for (const t of resolved.tables.filter(isMapped)) await createMap(target, t, names, true);
            for (const [order, t] of resolved.tables.entries()) {
              let merged = 0;
              if (isMapped(t)) {
                merged = (await buildMap(target, t, resolved, names, false)).merged;
              }
              const total = totals.get(t.name)!;
              // adopt: the "target" is the Pilot itself: every key is there, nothing is inserted.
              const stagedColumns = new Set(copyPlan.columnsFor(t).map((c) => c.name));
              const conflicts = adopt
                ? []
                : await uniqueConflicts(target, t, insertedRows(t, resolved, names), uniques.get(t.name) ?? [], stagedColumns);
              const gone = Object.values(leftBehind[t.name] ?? {}).reduce((a, b) => a + b, 0);
              out.push({
                table: t.name,
                order,
                ids: t.spec.ids,
                select: describeSelect(t.spec.select as Record<string, unknown>),
                total,
                inScope: inScope[t.name],
                toMove: inScope[t.name] - gone - merged,
                merged,
                leftBehind: leftBehind[t.name] ?? {},
                // adopt: the "target" is the Pilot itself: every key is there, nothing is inserted.
                collisions: adopt ? 0 : await countCollisions(target, resolved, names, t),
                ...(conflicts.length > 0 ? { conflicts } : {}),
                digests: { inScope: inScopeKeys[t.name], kept: keptKeys[t.name] },
                ...(rules.nullified[t.name] ? { erasureNullified: rules.nullified[t.name] } : {}),
                ...(mapping.has(t.name) ? { mapping: mapping.get(t.name) } : {}),
              });
            }
            return out;
          },
          measured,
        );
      } catch (e) {
        // A dry run that fails leaves no half-made staging behind (a paused preflight retried makes it anew).
        if (prestage) await dropStaging(target, prestage.runKey).catch(() => undefined);
        throw e;
      } finally {
        if (counter) await counter.query('ROLLBACK').catch(() => undefined);
      }
    },
    { ...measured, isolation: 'REPEATABLE READ', readOnly: true },
  );
}

/** Where the dry run stages for real: the run's plan, its key, and more connections for parallel lanes. */
interface Prestage {
  plan: StepInput['plan'];
  runKey: string;
  /** The dry run's statement limit, lifted for the copy itself (stage's copy never had one; the worker cancels a cancelled activity's statements). */
  timeout: string;
  openSource: () => Promise<Client>;
  openTarget: () => Promise<Client>;
}

/**
 * The selected rows, every column, into the run's staging schema (unlogged tables, committed), in
 * the dry run's snapshot: the same code stage runs (db/copy-lanes.ts), `parallelism` tables at a
 * time, a big table split across `parallelism.lanes` connections, all joined to the snapshot; then
 * the scope filter and the key digests, and the marker stage checks (db/prestage.ts). What the approvers approve is this staging.
 */
async function prestageRows(
  source: Client,
  target: Client,
  copyPlan: CopyPlan,
  p: Prestage,
  at: { snapshot: string; snapshotAt: string; pilotXmin: string; counting: ReturnType<typeof pilotTotals> },
): Promise<{ inScope: Record<string, number>; digests: Record<string, KeyDigest> }> {
  const { resolved, names } = copyPlan;
  await dropStaging(target, p.runKey);
  await target.query(`CREATE SCHEMA ${ident(names.schema)}`);
  await createStagingTables(target, copyPlan);
  await createStepLog(target, names);
  const lanes: Lane[] = [{ src: source, tgt: target }];
  const extra: Client[] = [];
  try {
    // The work items (whole tables, or a big table's block ranges) are planned in the snapshot itself.
    const items = await workItems(source, resolved.tables, parallelismOf(p.plan));
    const width = laneCount(items, parallelismOf(p.plan));
    for (let i = 1; i < width; i++) {
      // The lanes' connections belong to the context (closed, and cancelled, with it).
      const src = await p.openSource();
      extra.push(src);
      await joinSnapshot(src, at.snapshot);
      lanes.push({ src, tgt: await p.openTarget() });
    }
    const conns = lanes.flatMap((l) => [l.src, l.tgt]);
    // A whole table streamed at once can outlast a limit meant for the dry run's selections and checks.
    for (const c of conns) await c.query('SET statement_timeout = 0');
    await copyInLanes(lanes, copyPlan, items, { rows: (_t, n) => (n >= 1000 ? chaosPoint(p.plan.id, 'preflight.mid-copy') : undefined) });
    await limitStatements([source, target], p.timeout);
  } finally {
    await Promise.allSettled(extra.map((c) => c.query('ROLLBACK')));
  }
  await copyRegisters(lanes[0], copyPlan);
  await stageLookups(lanes[0], copyPlan);
  await analyzeStaging(target, resolved, names); // the dry run's rehearsal, cleanup, publish and validate plan on these
  const inScope = await scopeFilter(target, resolved, names);
  const digests = await keyDigests(target, resolved, names);
  const counted = await at.counting;
  const marker: PrestageMarker = {
    planId: p.plan.id,
    planHash: planHash(p.plan),
    snapshot: at.snapshot,
    snapshotAt: at.snapshotAt,
    pilotXmin: at.pilotXmin,
    seen: counted.seen,
    totals: Object.fromEntries(counted.totals),
    inScope,
    digests,
    catalog: catalogSummary(resolved),
  };
  await markStep(target, names, 'preflight', marker);
  return { inScope, digests };
}

/**
 * adopt deletes from the Pilot itself: a table outside the plan whose foreign key references a
 * plan table would block the delete (or lose rows to ON DELETE CASCADE without a manifest entry).
 * Refused here, by name: add the table to the plan so the cascade covers it.
 */
async function checkAdoptClosed(pilot: Client, r: Resolved): Promise<void> {
  const res = await pilot.query<{ child: string; parent: string; fk: string }>(
    `SELECT format('%I.%I', cn.nspname, c.relname) AS child, format('%I.%I', pn.nspname, p.relname) AS parent, k.conname AS fk
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
       JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
      WHERE k.contype = 'f' AND k.conparentid = 0 AND (pn.nspname, p.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
        AND (cn.nspname, c.relname) NOT IN (SELECT * FROM unnest($1::text[], $2::text[]))
      ORDER BY 1, 3`,
    [r.tables.map((t) => t.source.schema), r.tables.map((t) => t.source.name)],
  );
  if (res.rows.length === 0) return;
  throw new PlanError(
    res.rows.map((x) => ({
      path: 'tables',
      message: `${x.child} references ${x.parent} (FK ${x.fk}) but is not in the plan: adopt would delete rows it references; add it to tables`,
    })),
  );
}

/**
 * Rows to insert whose Production key (activities/db/row-identity.ts: mapped through the parents'
 * maps; a key a sequence will draw never collides) production already holds, read through
 * production's key index only, so the cost follows what moves, not Production's size. A one-column
 * key kept as is, with a unique index there: only the index range between the smallest and largest
 * staged key is read (bound values, so the planner sees how much of production lies in it and hashes
 * that range or probes per key, whichever is less). Other keys: one index probe per staged row (left
 * to itself the planner would hash the whole table).
 */
async function countCollisions(target: Client, r: Resolved, names: StagingNames, t: ResolvedTable): Promise<number> {
  const rows = insertedRows(t, r, names);
  const n = productionKeyExprs(t, rows);
  const prod = qualified(t.target.schema, t.target.name);
  const exists = (extra: string) =>
    `SELECT count(*)::text AS n FROM ${ownRowsFrom(rows, n)} WHERE ${rows.movedOnly} AND EXISTS (SELECT 1 FROM ${prod} p WHERE ${t.key.map((k, i) => `p.${ident(k)} = ${n[i]}`).join(' AND ')}${extra})`;
  if (t.key.length === 1 && n[0] === `s.${ident(t.key[0])}` && t.target.uniqueKeys.some((u) => u.length === 1 && u[0] === t.key[0])) {
    const k = ident(t.key[0]);
    const type = t.columns.find((c) => c.name === t.key[0])!.type;
    // ORDER BY … LIMIT 1, not min()/max(): those do not exist for every key type (uuid).
    const from = ownRowsFrom(rows, [`s.${k}`]);
    const end = (dir: string) =>
      `(SELECT s.${k}::text FROM ${from} WHERE ${rows.movedOnly} AND s.${k} IS NOT NULL ORDER BY s.${k} ${dir} LIMIT 1)`;
    const b = (await target.query<{ lo: string | null; hi: string | null }>(`SELECT ${end('ASC')} AS lo, ${end('DESC')} AS hi`)).rows[0];
    if (b.lo === null || b.hi === null) return 0;
    const res = await target.query<{ n: string }>(exists(` AND p.${k} BETWEEN $1::${type} AND $2::${type}`), [b.lo, b.hi]);
    return Number(res.rows[0].n);
  }
  await target.query('SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off');
  try {
    return Number((await target.query<{ n: string }>(exists(''))).rows[0].n);
  } finally {
    await target.query('RESET enable_hashjoin; RESET enable_mergejoin');
  }
}

/** Every condition's value must cast to its column's type: refused here with its path, not mid-run. */
async function checkValues(source: Client, target: Client, r: Resolved): Promise<void> {
  type Cond = { column: string; op: string; value?: unknown };
  // Where each list of conditions is evaluated: source for selection and consent, staging (target types) for testData.
  const lists: { path: string; conds: Cond[]; db: Client; table: string; typeOf: (c: string) => string }[] = [];
  for (const t of r.tables) {
    const where = ((t.spec.select as Record<string, unknown>).where as Cond[]) ?? [];
    lists.push({
      path: `tables[${t.index}].select.where`,
      conds: where,
      db: source,
      table: t.name,
      typeOf: (c) => t.pilot.columns.find((x) => x.name === c)!.type,
    });
  }
  r.rules.testData.forEach((rule, i) => {
    const t = rule.table;
    lists.push({ path: `testData[${i}].where`, conds: rule.where, db: target, table: t.name, typeOf: (c) => stagedColumn(t, c)!.type });
  });
  const consent = r.rules.consent;
  if (consent)
    lists.push({
      path: 'consent.granted',
      conds: consent.granted,
      db: source,
      table: consent.table.qualified,
      typeOf: (c) => consent.table.columns.find((x) => x.name === c)!.type,
    });

  const issues: PlanIssue[] = [];
  for (const l of lists) {
    for (const [j, w] of l.conds.entries()) {
      if (w.value === undefined || w.op === 'like' || w.op === 'notLike') continue;
      const type = l.typeOf(w.column);
      const values = Array.isArray(w.value) ? w.value : [w.value];
      // All values in one statement (an in list may hold 10 000); only when one does not cast, each
      // on its own to name it. Only a data error (SQLSTATE class 22; 23 for a domain's CHECK) is the
      // plan's fault: a statement timeout or a lost connection is not an invalid value.
      const isDataError = (e: unknown) => /^2[23]/.test(String((e as { code?: unknown }).code ?? ''));
      try {
        await l.db.query(`SELECT v::text::${type} FROM unnest($1::text[]) AS v`, [values.map(String)]);
        continue;
      } catch (e) {
        if (!isDataError(e)) throw e;
      }
      for (const v of values) {
        try {
          await l.db.query(`SELECT $1::text::${type}`, [String(v)]);
        } catch (e) {
          if (!isDataError(e)) throw e;
          issues.push({
            path: `${l.path}[${j}].value`,
            message: `${JSON.stringify(v)} is not a valid ${type} for column ${l.table}.${w.column}: ${(e as Error).message}`,
          });
        }
      }
    }
  }
  if (issues.length > 0) throw new PlanError(issues);
}

/** A key the catalog does not declare unique must be unique in the data. */
async function checkKeysUnique(source: Client, tables: ResolvedTable[]): Promise<void> {
  const issues: PlanIssue[] = [];
  for (const t of tables.filter((x) => !x.keyDeclared && x.key.length > 0)) {
    const key = t.key.map((k) => pilotColumn(t, k));
    const cols = key.map(ident).join(', ');
    const r = await source.query(
      `SELECT ${cols}, count(*)::int AS n FROM ${qualified(t.source.schema, t.source.name)} GROUP BY ${cols} HAVING count(*) > 1 LIMIT 1`,
    );
    if (r.rows.length > 0) {
      const { n, ...example } = r.rows[0];
      issues.push({
        path: `tables[${t.index}].key`,
        message: `key (${key.join(', ')}) is not unique in ${t.name}: ${JSON.stringify(example)} appears ${n} times`,
      });
    }
  }
  if (issues.length > 0) throw new PlanError(issues);
}

export function describeSelect(select: Record<string, unknown>): string {
  if (select.all) return 'all rows';
  if (select.referenced) return 'rows referenced by moving rows';
  const parts: string[] = [];
  if (select.follow) parts.push(`follow ${(select.follow as string[]).join(', ')}`);
  if (select.followMoved) parts.push(`follow moved ${(select.followMoved as string[]).join(', ')}`);
  const where = (select.where as { column: string; op: string; value?: unknown }[]) ?? [];
  if (where.length)
    parts.push(
      'where ' + where.map((w) => `${w.column} ${w.op}${w.value === undefined ? '' : ' ' + JSON.stringify(w.value)}`).join(' and '),
    );
  return parts.join(', ');
}
