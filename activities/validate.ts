// Step 9, validate: reconcile every table exactly, compare content checksums, check that pre-existing
// production rows are unchanged and that everything published has its parents. Mismatch → pause.
import type { Client } from 'pg';
import type { PublishResult, StepInput, TableValidation, ValidateResult } from './types';
import { checksum } from './db/checksum';
import { ident, qualified } from './db/connect';
import { openContext } from './db/context';
import { stagingSchema, stagingTable } from './db/control-schema';
import { keyEquals } from './db/keys';
import type { ResolvedTable } from './db/resolve';
import { validationError } from './errors';

export interface ValidateInput extends StepInput {
  publish: PublishResult;
}

export async function validate(input: ValidateInput): Promise<ValidateResult> {
  const ctx = await openContext(input.plan);
  const { target, resolved } = ctx;
  try {
    const schema = stagingSchema(input.runKey);
    const tables: TableValidation[] = [];
    for (const t of resolved.tables) {
      tables.push(await validateTable(target, input, schema, t));
    }
    const result = { ok: tables.every((t) => t.ok), tables };
    if (!result.ok) {
      const problems = tables.flatMap((t) => t.problems.map((p) => `${t.table}: ${p}`));
      throw validationError(`validation failed:\n  ${problems.join('\n  ')}`, result);
    }
    return result;
  } finally {
    await ctx.close();
  }
}

async function validateTable(target: Client, input: ValidateInput, schema: string, t: ResolvedTable): Promise<TableValidation> {
  const prod = qualified(t.target.schema, t.target.name);
  const stg = qualified(schema, stagingTable(t.index, t.name));
  const cols = t.columns.map((c) => c.name);
  const inStaging = `EXISTS (SELECT 1 FROM ${stg} s WHERE ${keyEquals('s', 'p', t.key)})`;
  const stagingChecksum = await checksum(target, `${stg} p`, 'p', cols);
  const productionChecksum = await checksum(target, `${prod} p WHERE ${inStaging}`, 'p', cols);
  const preExistingAfter = await checksum(target, `${prod} p WHERE NOT ${inStaging}`, 'p', t.target.columns.map((c) => c.name));
  const preExistingBefore = input.publish.tables.find((x) => x.table === t.name)?.preExistingChecksum ?? '';

  const m = await target.query<{ outcome: string; n: string }>(
    `SELECT outcome, count(*)::text AS n FROM cutover.manifest WHERE run_key = $1 AND table_name = $2 GROUP BY outcome`,
    [input.runKey, t.name],
  );
  const by = (o: string) => Number(m.rows.find((r) => r.outcome === o)?.n ?? 0);
  const moved = by('moved');
  const merged = by('merged');
  const leftBehind = by('left-behind');
  const staged = Number(stagingChecksum.split(':')[0]);
  const inScope = staged + leftBehind;

  const problems: string[] = [];
  if (inScope !== moved + merged + leftBehind) problems.push(`in scope ${inScope} ≠ moved ${moved} + merged ${merged} + left behind ${leftBehind}`);
  if (stagingChecksum !== productionChecksum) problems.push(`content checksum differs: staging ${stagingChecksum}, production ${productionChecksum}`);
  if (preExistingBefore !== preExistingAfter) problems.push(`pre-existing production rows changed: before ${preExistingBefore}, after ${preExistingAfter}`);
  for (const fk of t.target.foreignKeys) {
    if (!fk.columns.every((c) => cols.includes(c))) continue;
    const [ps, pt] = fk.refTable.split('.');
    const notNull = fk.columns.map((c) => `p.${ident(c)} IS NOT NULL`).join(' AND ');
    const on = fk.columns.map((c, i) => `r.${ident(fk.refColumns[i])} = p.${ident(c)}`).join(' AND ');
    const r = await target.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${prod} p WHERE ${inStaging} AND ${notNull} AND NOT EXISTS (SELECT 1 FROM ${qualified(ps, pt)} r WHERE ${on})`,
    );
    if (Number(r.rows[0].n) > 0) problems.push(`${r.rows[0].n} published row(s) break foreign key ${fk.name}`);
  }
  return {
    table: t.name, inScope, moved, merged, leftBehind, stagingChecksum, productionChecksum, preExistingBefore, preExistingAfter,
    ok: problems.length === 0, problems,
  };
}
