// Step 9, validate: per table, in scope = moved + merged + left behind exactly (by reason); content
// checksum of what staging says was published (after remapping) = what production holds; pre-existing
// production rows unchanged; every published row has its parents. On a mismatch the differing keys
// are localised by bucketed hashes. Any failure is a ValidationError → the run pauses.
import type { Client } from 'pg';
import type { TableValidation, ValidateInput, ValidateResult } from '../common/results';
import { checksum, columnsOf, rowHashSql } from './db/checksum';
import { ident, qualified } from './db/connect';
import { withContext } from './db/keep-alive';
import { localiseDifferences } from './db/diff';
import { fkEquals, slotsEqual } from './db/keys';
import { isMapped, mappedRows } from './db/remap';
import type { Resolved, ResolvedTable } from './db/resolve';
import { runNames, type StagingNames } from './db/staging';
import { requireStaged } from './db/staging-state';
import { validationError } from './errors';
import { chaosPoint } from './db/fault';

export async function validate(input: ValidateInput): Promise<ValidateResult> {
  return withContext(input.plan, async (ctx) => {
    const { target, resolved } = ctx;
      const names = runNames(input.runKey);
      await requireStaged(target, names);
      await chaosPoint(input.plan.id, 'validate.start');
      const tables: TableValidation[] = [];
      for (const t of resolved.tables) tables.push(await validateTable(target, input, resolved, names, t));
      const result = { ok: tables.every((t) => t.ok), tables };
      if (!result.ok) {
        const problems = tables.flatMap((t) => t.problems.map((p) => `${t.table}: ${p}`));
        throw validationError(`validation failed:\n  ${problems.join('\n  ')}`, result);
      }
      await chaosPoint(input.plan.id, 'validate.end');
      return result;
  });
}

/**
 * One pass over the production table: the checksum of the rows this run published (copied columns)
 * and of every other row (all columns), told apart by a join to the published keys.
 */
async function productionChecksums(db: Client, t: ResolvedTable, names: StagingNames) {
  const hashOf = (cols: string[]) => rowHashSql(columnsOf('p', cols));
  const res = await db.query<{ pn: string; ps: string; on: string; os: string }>(
    `SELECT count(k.k0)::text AS pn, coalesce(sum(CASE WHEN k.k0 IS NOT NULL THEN ${hashOf(t.columns.map((c) => c.name))}::numeric END), 0)::text AS ps,
            (count(*) - count(k.k0))::text AS on, coalesce(sum(CASE WHEN k.k0 IS NULL THEN ${hashOf(t.target.columns.map((c) => c.name))}::numeric END), 0)::text AS os
       FROM ${qualified(t.target.schema, t.target.name)} p
       LEFT JOIN (${publishedKeys(t, names)}) k ON ${slotsEqual('k', 'k', 'p', t.key)}`,
  );
  const r = res.rows[0];
  return { productionChecksum: `${r.pn}:${r.ps}`, preExistingAfter: `${r.on}:${r.os}` };
}

/** SQL that lists the production keys this run inserted into `t`. */
function publishedKeys(t: ResolvedTable, names: StagingNames): string {
  return isMapped(t)
    ? `SELECT ${t.key.map((_, i) => `m.n${i} AS k${i}`).join(', ')} FROM ${names.map(t.index)} m WHERE m.outcome = 'moved'`
    : `SELECT ${t.key.map((k, i) => `s.${ident(k)} AS k${i}`).join(', ')} FROM ${names.data(t.index, t.name)} s`;
}

async function validateTable(db: Client, input: ValidateInput, r: Resolved, names: StagingNames, t: ResolvedTable): Promise<TableValidation> {
  const prod = qualified(t.target.schema, t.target.name);
  const cols = t.columns.map((c) => c.name);
  // EXISTS / NOT EXISTS plan as (anti-)joins; NOT IN would rescan the key list per row past work_mem.
  const published = `EXISTS (SELECT 1 FROM (${publishedKeys(t, names)}) k WHERE ${slotsEqual('k', 'k', 'p', t.key)})`;
  const rows = mappedRows(t, r, names);
  const stagingExprs = cols.map((c) => rows.exprs.get(c)!);
  const stagingFrom = `${rows.from} WHERE ${rows.movedOnly}`;
  const stagingChecksum = await checksum(db, stagingFrom, stagingExprs);
  const { productionChecksum, preExistingAfter } = await productionChecksums(db, t, names);
  const preExistingBefore = input.publish.tables.find((x) => x.table === t.name)?.preExistingChecksum ?? '';

  const m = await db.query<{ outcome: string; reason: string | null; n: string }>(
    `SELECT outcome, reason, count(*)::text AS n FROM cutover.manifest WHERE run_key = $1 AND table_name = $2 GROUP BY outcome, reason`,
    [input.runKey, t.name],
  );
  const sum = (pred: (x: { outcome: string }) => boolean) => m.rows.filter(pred).reduce((a, x) => a + Number(x.n), 0);
  const moved = sum((x) => x.outcome === 'moved');
  const merged = sum((x) => x.outcome === 'merged');
  const leftBehind = sum((x) => x.outcome === 'left-behind');
  const leftBehindByReason = Object.fromEntries(m.rows.filter((x) => x.outcome === 'left-behind').map((x) => [x.reason ?? '?', Number(x.n)]));
  const inScope = input.stage.tables.find((x) => x.table === t.name)?.rows ?? 0;
  const inserted = input.publish.tables.find((x) => x.table === t.name)?.inserted ?? 0;

  const problems: string[] = [];
  if (inScope !== moved + merged + leftBehind) problems.push(`in scope ${inScope} ≠ moved ${moved} + merged ${merged} + left behind ${leftBehind}`);
  if (inserted !== moved) problems.push(`inserted ${inserted} rows but the manifest says ${moved} moved`);
  let differingKeys: string[] = [];
  if (stagingChecksum !== productionChecksum) {
    problems.push(`content checksum differs: staging ${stagingChecksum}, production ${productionChecksum}`);
    differingKeys = await localiseDifferences(db, t, { from: stagingFrom, exprs: stagingExprs, key: t.key.map((k) => rows.exprs.get(k)!) }, { from: `${prod} p WHERE ${published}`, exprs: columnsOf('p', cols), key: columnsOf('p', t.key) });
    if (differingKeys.length) problems.push(`differing keys: ${differingKeys.slice(0, 10).join(' ')}${differingKeys.length > 10 ? ' …' : ''}`);
  }
  if (preExistingBefore !== preExistingAfter) problems.push(`pre-existing production rows changed: before ${preExistingBefore}, after ${preExistingAfter}`);
  // A validated constraint already guarantees integrity inside publish's transaction; check the rest.
  for (const fk of t.target.foreignKeys) {
    if (fk.validated || !fk.columns.every((c) => cols.includes(c))) continue;
    const notNull = fk.columns.map((c) => `p.${ident(c)} IS NOT NULL`).join(' AND ');
    const res = await db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${prod} p WHERE ${published} AND ${notNull} AND NOT EXISTS (SELECT 1 FROM ${qualified(fk.ref.schema, fk.ref.name)} r WHERE ${fkEquals(fk, 'r', 'p')})`,
    );
    if (Number(res.rows[0].n) > 0) problems.push(`${res.rows[0].n} published row(s) break foreign key ${fk.name}`);
  }
  return {
    table: t.name, inScope, moved, merged, leftBehind, leftBehindByReason, stagingChecksum, productionChecksum, preExistingBefore, preExistingAfter,
    ok: problems.length === 0, problems, differingKeys,
  };
}
