// Step 9, validate: per table, in scope = moved + merged + left behind exactly (by reason); content
// checksum of what staging says was published (after remapping) = what production holds for those
// keys; every published row has its parents. Only the published rows are read, so production's
// other writers (its own rows, inserts, deletes) neither fail it nor are blocked by it; pre-existing
// rows are proven by publish's transaction counts, or, with validation.preExisting: full, checksummed
// against publish's checksum. On a mismatch the differing keys are localised by bucketed hashes.
// Any failure is a ValidationError → the run pauses.
import type { Client } from 'pg';
import type { TableValidation, ValidateInput, ValidateResult } from '../common/results';
import { checksum, columnsOf, fastRowHashSql, rowHashSql } from './db/checksum';
import { ident, qualified } from './db/connect';
import { withContext } from './db/keep-alive';
import { localiseDifferences } from './validate/diff';
import { fkEquals, slotsEqual } from './db/keys';
import { mappedRows, type MappedRows } from './db/remap';
import { insertedKeys } from './db/row-identity';
import type { Resolved, ResolvedTable } from './db/resolve';
import { runNames, type StagingNames } from './db/staging';
import { requireStaged } from './db/staging-state';
import { validationError } from './errors';
import { chaosPoint, slowTableForTests, splitMinBlocksForTests } from './db/fault';
import { StepTracker } from './db/step-progress';
import { joinSnapshot } from './db/snapshot-holder';
import { parallelismOf } from '../plan/parallelism';
import { partCondition, relationParts, type TablePart } from './db/table-parts';

/**
 * Connections validate reads on at once (one exported snapshot): tables checked side by side, at
 * least 2, or `parallelism.lanes` when more. With lanes, a big table's published-rows checksums (a
 * count and a sum: additive) are first taken by block ranges of its staging on all of them
 * (splitChecksums); its other checks stay one connection's work.
 */
const VALIDATE_LANES = 2;
const validateLanes = (plan: ValidateInput['plan']) => Math.max(VALIDATE_LANES, parallelismOf(plan).lanes);

export async function validate(input: ValidateInput): Promise<ValidateResult> {
  const progress = new StepTracker('validate');
  return withContext(
    input.plan,
    async (ctx) => {
      const { target, resolved } = ctx;
      // Rows checked per table: those in scope (moved, merged or left behind, all accounted for).
      progress.expect(resolved.tables.map((t) => ({ table: t.name, total: input.stage.tables.find((x) => x.table === t.name)?.rows })));
      const names = runNames(input.runKey);
      await requireStaged(target, names);
      await chaosPoint(input.plan.id, 'validate.start');
      const tables: TableValidation[] = [];
      // One snapshot for every read, on every lane: a row the application changes mid-validate is
      // either changed (not ours) in all of them or in none. Read only: nothing but ACCESS SHARE on
      // production. Tables are checked on validateLanes() connections sharing the snapshot exported
      // here (SET TRANSACTION SNAPSHOT), so it is still one consistent read, in less wall time.
      await target.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const lanes: Client[] = [target];
      try {
        const snapshot = (await target.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0].s;
        for (let i = 1; i < Math.min(validateLanes(input.plan), resolved.tables.length); i++) {
          const lane = await ctx.openTarget();
          lanes.push(lane);
          await joinSnapshot(lane, snapshot);
        }
        const presums = await splitChecksums(lanes, input, resolved, names, progress);
        const results: TableValidation[] = new Array<TableValidation>(resolved.tables.length);
        // Largest first, so the lanes end together; results stay in plan order.
        const rowsOf = (i: number) => input.stage.tables.find((x) => x.table === resolved.tables[i].name)?.rows ?? 0;
        const order = resolved.tables.map((_, i) => i).sort((a, b) => rowsOf(b) - rowsOf(a) || a - b);
        let next = 0;
        await Promise.all(
          lanes.map(async (db) => {
            for (let i = order[next++]; i !== undefined; i = order[next++]) {
              const t = resolved.tables[i];
              progress.table(t.name);
              await slowTableForTests(db, 'validate');
              results[i] = await validateTable(db, input, resolved, names, t, presums.get(t.name));
              progress.done(t.name, results[i].inScope);
            }
          }),
        );
        tables.push(...results);
      } finally {
        await Promise.allSettled(lanes.map((db) => db.query('ROLLBACK')));
      }
      const result = { ok: tables.every((t) => t.ok), tables };
      if (!result.ok) {
        const problems = tables.flatMap((t) => t.problems.map((p) => `${t.table}: ${p}`));
        throw validationError(`validation failed:\n  ${problems.join('\n  ')}`, result);
      }
      await chaosPoint(input.plan.id, 'validate.end');
      return result;
    },
    { details: progress.details },
  );
}

/**
 * Both checksums in one pass from the staged rows (as remapped) to the production rows under the
 * same keys: its cost grows with what moved, not with production, and other writers' rows are never
 * read. Rows another transaction changed since publish (not `mine`) are counted and left out of both.
 */
async function publishedChecksums(db: Client, t: ResolvedTable, rows: MappedRows, stagingExprs: string[], mine: string, part?: TablePart) {
  const prod = qualified(t.target.schema, t.target.name);
  const present = `p.${ident(t.key[0])} IS NOT NULL`;
  const ours = `${present} AND ${mine}`;
  const changed = `${present} AND NOT (${mine})`;
  const types = t.columns.map((c) => c.type);
  const res = await db.query<{ sn: string; ss: string; pn: string; ps: string; other: string }>(
    `SELECT count(*) FILTER (WHERE NOT (${changed}))::text AS sn, coalesce(sum(${fastRowHashSql(stagingExprs, types)}) FILTER (WHERE NOT (${changed})), 0)::text AS ss,
            count(*) FILTER (WHERE ${ours})::text AS pn, coalesce(sum(${fastRowHashSql(
              columnsOf(
                'p',
                t.columns.map((c) => c.name),
              ),
              types,
            )}) FILTER (WHERE ${ours}), 0)::text AS ps,
            count(*) FILTER (WHERE ${changed})::text AS other
       FROM ${rows.from} LEFT JOIN ${prod} p ON ${t.key.map((k) => `p.${ident(k)} = ${rows.exprs.get(k)}`).join(' AND ')}
      WHERE ${rows.movedOnly}${part ? ` AND ${partCondition('s', part)}` : ''}`,
  );
  const r = res.rows[0];
  return { stagingChecksum: `${r.sn}:${r.ss}`, productionChecksum: `${r.pn}:${r.ps}`, other: Number(r.other) };
}

type PublishedSums = Awaited<ReturnType<typeof publishedChecksums>>;

/** What a table's checksums read: its staged rows as remapped, their values typed as production's columns. */
function checksumInputs(t: ResolvedTable, r: Resolved, names: StagingNames): { rows: MappedRows; stagingExprs: string[] } {
  const rows = mappedRows(t, r, names);
  // A rewritten key has its parent's key type: compared as the column's own type in production.
  const stagingExprs = t.columns.map((c) => {
    const e = rows.exprs.get(c.name)!;
    return e === `s.${ident(c.name)}` ? e : `(${e})::${c.type}`;
  });
  return { rows, stagingExprs };
}

/**
 * Only where publish recorded its xid (validation.preExisting: count), a row it wrote is told by its
 * xmin: the published rows another transaction changed since are left out of both checksums.
 */
function publishXid(input: ValidateInput, t: ResolvedTable): string | undefined {
  const preExistingBefore = input.publish.tables.find((x) => x.table === t.name)?.preExistingChecksum;
  return preExistingBefore === undefined ? ownXid(input.publish.xid) : undefined;
}
const mineSql = (xid: string | undefined) => (xid ? `p.xmin = '${xid}'::xid` : 'TRUE');

/** Two checksums `count:sum` of parts, added: the checksum of the whole (counts and sums of 64-bit hashes are exact integers). */
function addChecksums(a: string, b: string): string {
  const [an, as] = a.split(':');
  const [bn, bs] = b.split(':');
  return `${BigInt(an) + BigInt(bn)}:${BigInt(as) + BigInt(bs)}`;
}

/**
 * With parallelism.lanes > 1: the published-rows checksums of every big table (validation.preExisting:
 * count) taken by block ranges of its staging table (db/table-parts.ts; staging does not change while
 * validate runs), the parts on all the lanes at once, added per table. The other tables: none here.
 */
async function splitChecksums(
  lanes: Client[],
  input: ValidateInput,
  r: Resolved,
  names: StagingNames,
  progress: StepTracker,
): Promise<Map<string, PublishedSums>> {
  const out = new Map<string, PublishedSums>();
  const width = parallelismOf(input.plan).lanes;
  const candidates = r.tables.filter((t) => input.publish.tables.find((x) => x.table === t.name)?.preExistingChecksum === undefined);
  if (width <= 1 || lanes.length <= 1 || candidates.length === 0) return out;
  const parts = await relationParts(
    lanes[0],
    candidates.map((t) => names.data(t.index, t.name)),
    width,
    splitMinBlocksForTests(),
  );
  const queue = candidates.flatMap((t, i) => (parts[i].length > 1 ? parts[i].map((part) => ({ t, part })) : []));
  if (queue.length === 0) return out;
  progress.phase('checksums of the big tables, by block range');
  await Promise.all(
    lanes.map(async (db) => {
      for (let w = queue.shift(); w; w = queue.shift()) {
        const { rows, stagingExprs } = checksumInputs(w.t, r, names);
        const sums = await publishedChecksums(db, w.t, rows, stagingExprs, mineSql(publishXid(input, w.t)), w.part);
        const before = out.get(w.t.name);
        out.set(
          w.t.name,
          before
            ? {
                stagingChecksum: addChecksums(before.stagingChecksum, sums.stagingChecksum),
                productionChecksum: addChecksums(before.productionChecksum, sums.productionChecksum),
                other: before.other + sums.other,
              }
            : sums,
        );
      }
    }),
  );
  progress.phase(undefined);
  return out;
}

/**
 * validation.preExisting full (or an older run whose publish took checksums): one pass over the
 * whole production table, the checksum of the rows this run published (copied columns) and of every
 * other row (all columns), told apart by a join to the published keys.
 */
async function wholeTableChecksums(db: Client, t: ResolvedTable, plan: Resolved, names: StagingNames) {
  const hashOf = (cols: string[]) => rowHashSql(columnsOf('p', cols));
  const prod = qualified(t.target.schema, t.target.name);
  const res = await db.query<{ pn: string; ps: string; on: string; os: string }>(
    `SELECT count(k.k0)::text AS pn, coalesce(sum(CASE WHEN k.k0 IS NOT NULL THEN ${hashOf(t.columns.map((c) => c.name))}::numeric END), 0)::text AS ps,
            (count(*) - count(k.k0))::text AS on, coalesce(sum(CASE WHEN k.k0 IS NULL THEN ${hashOf(t.target.columns.map((c) => c.name))}::numeric END), 0)::text AS os
       FROM ${prod} p
       LEFT JOIN (${publishedKeys(t, plan, names)}) k ON ${slotsEqual('k', 'k', 'p', t.key)}`,
  );
  const r = res.rows[0];
  return { productionChecksum: `${r.pn}:${r.ps}`, preExistingAfter: `${r.on}:${r.os}` };
}

/** SQL that lists the Production keys this run inserted into `t` (activities/db/row-identity.ts). */
function publishedKeys(t: ResolvedTable, r: Resolved, names: StagingNames): string {
  return insertedKeys(t, r, names);
}

async function validateTable(
  db: Client,
  input: ValidateInput,
  r: Resolved,
  names: StagingNames,
  t: ResolvedTable,
  /** Its published-rows checksums when splitChecksums took them by block range. */
  presums?: PublishedSums,
): Promise<TableValidation> {
  const prod = qualified(t.target.schema, t.target.name);
  const cols = t.columns.map((c) => c.name);
  // EXISTS / NOT EXISTS plan as (anti-)joins; NOT IN would rescan the key list per row past work_mem.
  const published = `EXISTS (SELECT 1 FROM (${publishedKeys(t, r, names)}) k WHERE ${slotsEqual('k', 'k', 'p', t.key)})`;
  const { rows, stagingExprs } = checksumInputs(t, r, names);
  const preExistingBefore = input.publish.tables.find((x) => x.table === t.name)?.preExistingChecksum;
  // Published rows whose current version another transaction wrote (an application edit since
  // publish): named, counted, and left out of both checksums — publish's own counts proved what it
  // inserted; what the application did to those rows afterwards is its own. A published key with
  // no row stays in (a deletion cannot be told from a row published under another key, e.g. by a
  // trigger): it fails the checksum, by key. Only by default (counts), where publish recorded its xid.
  const xid = publishXid(input, t);
  const mine = mineSql(xid);
  const notOurs = `SELECT k.* FROM (${publishedKeys(t, r, names)}) k JOIN ${prod} p ON ${slotsEqual('k', 'k', 'p', t.key)} WHERE NOT (${mine})`;
  let sums: { stagingChecksum: string; productionChecksum: string; preExistingAfter?: string; other: number };
  if (preExistingBefore === undefined) sums = presums ?? (await publishedChecksums(db, t, rows, stagingExprs, mine));
  else
    sums = {
      stagingChecksum: await checksum(db, `${rows.from} WHERE ${rows.movedOnly}`, stagingExprs),
      ...(await wholeTableChecksums(db, t, r, names)),
      other: 0,
    };
  const { stagingChecksum, productionChecksum, preExistingAfter } = sums;
  const changed = xid && sums.other > 0 ? await changedSincePublish(db, t, notOurs) : { count: 0, keys: [] };
  // The staged side as the checksum saw it, for localising differences.
  const exclude =
    changed.count > 0
      ? ` AND NOT EXISTS (SELECT 1 FROM (${notOurs}) x WHERE ${t.key.map((k, i) => `x.k${i} = ${rows.exprs.get(k)}`).join(' AND ')})`
      : '';
  const stagingFrom = `${rows.from} WHERE ${rows.movedOnly}${exclude}`;

  // cutover.manifest's rows counted as the view defines them (db/control-schema.ts), without
  // unpacking each chunk of published keys into a row: a chunk's keys are counted by their array's length.
  const m = await db.query<{ outcome: string; reason: string | null; n: string }>(
    `SELECT outcome, reason, sum(n)::text AS n FROM (
       SELECT outcome, reason, count(*) AS n FROM cutover.manifest_rows WHERE run_key = $1 AND table_name = $2 GROUP BY outcome, reason
       UNION ALL
       SELECT outcome, reason, sum(jsonb_array_length(old_keys)) FROM cutover.published_keys
        WHERE run_key = $1 AND table_name = $2 AND outcome <> 'found' GROUP BY outcome, reason) x
     GROUP BY outcome, reason`,
    [input.runKey, t.name],
  );
  const sum = (pred: (x: { outcome: string }) => boolean) => m.rows.filter(pred).reduce((a, x) => a + Number(x.n), 0);
  const moved = sum((x) => x.outcome === 'moved');
  const merged = sum((x) => x.outcome === 'merged');
  const leftBehind = sum((x) => x.outcome === 'left-behind');
  const leftBehindByReason = Object.fromEntries(
    m.rows.filter((x) => x.outcome === 'left-behind').map((x) => [x.reason ?? '?', Number(x.n)]),
  );
  const inScope = input.stage.tables.find((x) => x.table === t.name)?.rows ?? 0;
  const inserted = input.publish.tables.find((x) => x.table === t.name)?.inserted ?? 0;

  const problems: string[] = [];
  if (inScope !== moved + merged + leftBehind)
    problems.push(`in scope ${inScope} ≠ moved ${moved} + merged ${merged} + left behind ${leftBehind}`);
  if (inserted !== moved) problems.push(`inserted ${inserted} rows but the manifest says ${moved} moved`);
  // Every staged row that moved was read by the checksums (or counted as changed since publish): a
  // checksum that missed some (a lost block range) cannot pass by leaving the same rows out of both sides.
  const read = Number(stagingChecksum.split(':')[0]) + sums.other;
  if (read !== moved) problems.push(`the checksums read ${read} staged rows but ${moved} moved`);
  let differingKeys: string[] = [];
  if (stagingChecksum !== productionChecksum) {
    problems.push(`content checksum differs: staging ${stagingChecksum}, production ${productionChecksum}`);
    differingKeys = await localiseDifferences(
      db,
      t,
      { from: stagingFrom, exprs: stagingExprs, key: t.key.map((k) => rows.exprs.get(k)!) },
      { from: `${prod} p WHERE ${published} AND ${mine}`, exprs: columnsOf('p', cols), key: columnsOf('p', t.key) },
    );
    if (differingKeys.length)
      problems.push(`differing keys: ${differingKeys.slice(0, 10).join(' ')}${differingKeys.length > 10 ? ' …' : ''}`);
  }
  if (preExistingBefore !== undefined && preExistingBefore !== preExistingAfter)
    problems.push(`pre-existing production rows changed: before ${preExistingBefore}, after ${preExistingAfter}`);
  // A validated constraint already guarantees integrity inside publish's transaction; check the rest.
  for (const fk of t.target.foreignKeys) {
    if (fk.validated || !fk.columns.every((c) => cols.includes(c))) continue;
    const notNull = fk.columns.map((c) => `p.${ident(c)} IS NOT NULL`).join(' AND ');
    const res = await db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM (${publishedKeys(t, r, names)}) k JOIN ${prod} p ON ${slotsEqual('k', 'k', 'p', t.key)} WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${qualified(fk.ref.schema, fk.ref.name)} r WHERE ${fkEquals(fk, 'r', 'p')})`,
    );
    if (Number(res.rows[0].n) > 0) problems.push(`${res.rows[0].n} published row(s) break foreign key ${fk.name}`);
  }
  // The id pairs publish recorded (the evidence's idChanges and the pairs file count the same rows).
  const pairs = (
    await db.query<{ pairs: number; changed: number }>(
      `SELECT count(*)::int AS pairs, count(*) FILTER (WHERE old_key <> new_key)::int AS changed FROM cutover.id_map
      WHERE run_key = $1 AND table_name = $2 AND outcome IN ('moved', 'merged')`,
      [input.runKey, t.name],
    )
  ).rows[0];
  return {
    table: t.name,
    inScope,
    moved,
    merged,
    leftBehind,
    leftBehindByReason,
    stagingChecksum,
    productionChecksum,
    preExistingBefore,
    preExistingAfter,
    ...(pairs.pairs > 0 ? { idPairs: pairs } : {}),
    ok: problems.length === 0,
    problems,
    differingKeys,
    ...(xid ? { changedSincePublish: changed } : {}),
  };
}

/** publish's transaction id as the 32-bit xid its rows carry in xmin (digits only: it is spliced into SQL). */
function ownXid(xid8: string | undefined): string | undefined {
  if (xid8 === undefined || !/^\d+$/.test(xid8)) return undefined;
  return (BigInt(xid8) % 4294967296n).toString();
}

async function changedSincePublish(db: Client, t: ResolvedTable, notOurs: string): Promise<{ count: number; keys: string[] }> {
  const res = await db.query<{ k: unknown[]; n: string }>(
    `SELECT jsonb_build_array(${t.key.map((_, i) => `x.k${i}`).join(', ')}) AS k, count(*) OVER ()::text AS n FROM (${notOurs}) x ORDER BY 1 LIMIT 100`,
  );
  return { count: Number(res.rows[0]?.n ?? 0), keys: res.rows.map((r) => `(${t.key.join(', ')})=(${r.k.join(', ')})`) };
}
