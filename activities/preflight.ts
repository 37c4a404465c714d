// Step 1, preflight: the dry run. Checks the plan against both catalogs and counts what is in scope.
import type { Client } from 'pg';
import { planHash } from '../plan/canonical';
import type { DryRunReport, StepInput, TableDryRun } from './types';
import { copyQuery } from './db/copy';
import { ident, qualified } from './db/connect';
import { asPlanError, openContext } from './db/context';
import type { ResolvedTable } from './db/resolve';
import { ResolveError, type ResolveIssue } from './db/resolve';
import { bindParams, Selection } from './db/selection';

export async function preflight(input: Pick<StepInput, 'plan'> & Partial<StepInput>): Promise<DryRunReport> {
  const { plan } = input;
  const ctx = await openContext(plan);
  try {
    const { source, target, resolved } = ctx;
    await checkValues(source, resolved.tables);
    await checkKeysUnique(source, resolved.tables);
    const tables: TableDryRun[] = [];
    await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await target.query('BEGIN');
    try {
      for (const [order, t] of resolved.tables.entries()) {
        const sel = new Selection(resolved);
        const sql = sel.rowsSql(t, t.key);
        await bindParams(source, sel.params);
        const total = await count(source, `SELECT 1 FROM ${qualified(t.source.schema, t.source.name)}`);
        const inScope = await count(source, sql);
        const collisions = t.spec.ids === 'keep' ? await countCollisions(source, sql, target, t) : 0;
        tables.push({
          table: t.name,
          order,
          ids: t.spec.ids,
          select: describeSelect(t.spec.select as Record<string, unknown>),
          total,
          inScope,
          toMove: inScope,
          leftBehind: {},
          collisions,
        });
      }
    } finally {
      await source.query('ROLLBACK');
      await target.query('ROLLBACK');
    }
    const warnings = [...resolved.warnings];
    for (const t of tables) {
      if (t.collisions > 0) warnings.push(`${t.table}: ${t.collisions} selected key(s) already exist in production (ids: keep): publish will refuse them`);
    }
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
  } catch (e) {
    throw asPlanError(e);
  } finally {
    await ctx.close();
  }
}

async function count(client: Client, sql: string): Promise<number> {
  const r = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM (${sql}) s`);
  return Number(r.rows[0].n);
}

/** Selected keys go to a temp table on the target (streamed), then meet the production table there. */
async function countCollisions(source: Client, keySql: string, target: Client, t: ResolvedTable): Promise<number> {
  const tmp = ident(`cutover_keys_${t.index}`);
  const cols = t.key.map((k) => `${ident(k)} ${t.target.columns.find((c) => c.name === k)!.type}`).join(', ');
  await target.query(`CREATE TEMP TABLE ${tmp} (${cols}) ON COMMIT DROP`);
  await copyQuery(source, keySql, target, tmp, t.key);
  const on = t.key.map((k) => `k.${ident(k)} = p.${ident(k)}`).join(' AND ');
  const r = await target.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${tmp} k JOIN ${qualified(t.target.schema, t.target.name)} p ON ${on}`,
  );
  return Number(r.rows[0].n);
}

/** Every `where` value must cast to its column's type: refused here with its path, not mid-run. */
async function checkValues(source: Client, tables: ResolvedTable[]): Promise<void> {
  const issues: ResolveIssue[] = [];
  for (const t of tables) {
    const where = ((t.spec.select as Record<string, unknown>).where as { column: string; op: string; value?: unknown }[]) ?? [];
    for (const [j, w] of where.entries()) {
      if (w.value === undefined || w.op === 'like' || w.op === 'notLike') continue;
      const type = t.source.columns.find((c) => c.name === w.column)!.type;
      const values = Array.isArray(w.value) ? w.value : [w.value];
      for (const v of values) {
        try {
          await source.query(`SELECT $1::text::${type}`, [String(v)]);
        } catch (e) {
          issues.push({ path: `tables[${t.index}].select.where[${j}].value`, message: `${JSON.stringify(v)} is not a valid ${type} for column ${t.name}.${w.column}: ${(e as Error).message}` });
        }
      }
    }
  }
  if (issues.length > 0) throw new ResolveError(issues);
}

/** A key the catalog does not declare unique must be unique in the data. */
async function checkKeysUnique(source: Client, tables: ResolvedTable[]): Promise<void> {
  const issues: ResolveIssue[] = [];
  for (const t of tables.filter((x) => !x.keyDeclared && x.key.length > 0)) {
    const cols = t.key.map(ident).join(', ');
    const r = await source.query(
      `SELECT ${cols}, count(*)::int AS n FROM ${qualified(t.source.schema, t.source.name)} GROUP BY ${cols} HAVING count(*) > 1 LIMIT 1`,
    );
    if (r.rows.length > 0) {
      const { n, ...example } = r.rows[0];
      issues.push({ path: `tables[${t.index}].key`, message: `key (${t.key.join(', ')}) is not unique in ${t.name}: ${JSON.stringify(example)} appears ${n} times` });
    }
  }
  if (issues.length > 0) throw new ResolveError(issues);
}

export function describeSelect(select: Record<string, unknown>): string {
  if (select.all) return 'all rows';
  if (select.referenced) return 'rows referenced by moving rows';
  const parts: string[] = [];
  if (select.follow) parts.push(`follow ${(select.follow as string[]).join(', ')}`);
  const where = (select.where as { column: string; op: string; value?: unknown }[]) ?? [];
  if (where.length) parts.push('where ' + where.map((w) => `${w.column} ${w.op}${w.value === undefined ? '' : ' ' + JSON.stringify(w.value)}`).join(' and '));
  return parts.join(', ');
}
