// The mapping, applied in staging (never in Production): after cleanup (the rules have read the
// Pilot's columns), each computed Production column is filled from the staged Pilot inputs — a
// constant, a code map, an expression, or a copy whose type changes — and every value is checked
// the way Production would check it: a Pilot value no map covers, a value that does not convert to
// the column's type, a NULL in a NOT NULL column, a row breaking one of Production's CHECK
// constraints. Each refusal names the table, column or constraint and the keys (never a copied
// value). Shared by the dry run and the cleanup step, so the run refuses what the dry run refused.
// Plan values (map keys, constants) are bound parameters; the expression is the text the parser
// admitted (plan/mapping-sql.ts), embedded as it was checked.
import type { Client } from 'pg';
import type { ColumnFate, MapValue, TableMapping as MappingEvidence } from '../../common/results';
import { exprSql } from '../../plan/mapping-sql';
import { formatPath } from '../../plan/issues';
import { ident } from './connect';
import { keyJson } from './keys';
import { inputsOf, stageRaw, type ColumnMapping } from './mapping';
import type { Resolved, ResolvedTable } from './resolve';
import type { StagingNames } from './staging';
import { planError } from '../errors';
import { withholdValuesIn } from './row-values';

/**
 * The server's words without row values: a data exception (class 22) may quote the value anywhere
 * ("value "…" is out of range"), so only its SQLSTATE is given; other messages with quoted values withheld.
 */
const serverWords = (e: unknown) => {
  const code = String((e as { code?: unknown }).code ?? '');
  if (code.startsWith('22')) return `a data exception (SQLSTATE ${code}; the value is withheld)`;
  return `${withholdValuesIn((e as Error).message)}${code ? ` (SQLSTATE ${code})` : ''}`;
};

const MAX_KEYS = 10;
const MAX_VALUES = 20;

/** Parameters of one statement, bound in order ($1, $2, …). */
class Params {
  readonly values: (string | null)[] = [];
  bind(v: MapValue): string {
    if (v === null) return 'NULL';
    this.values.push(String(v));
    return `$${this.values.length}::text`;
  }
}

/** The scope every computed value is written in: the Pilot's column names over the staged row `s`. */
function pilotScope(t: ResolvedTable, cols: ColumnMapping[]): string {
  const m = t.mapping!;
  const inputs = [...new Set(cols.flatMap((c) => inputsOf(c.fate)))];
  if (inputs.length === 0) return '(SELECT) p';
  return `(SELECT ${inputs.map((c) => `s.${ident(stageRaw(m, t.pilot, c)!)} AS ${ident(c)}`).join(', ')}) p`;
}

/** SQL (over scope `p`): the column's value as text, before it is converted to Production's type. */
function textValue(c: ColumnMapping, b: Params): string {
  const f = c.fate;
  switch (f.kind) {
    case 'constant':
      return b.bind(f.value);
    case 'map': {
      const src = `p.${ident(f.from)}`;
      const arms = Object.entries(f.map).map(([k, v]) => `WHEN ${src}::text = ${b.bind(k)} THEN ${b.bind(v)}`);
      // No default: an unlisted value stays NULL here, and mapUncovered() refuses it first.
      const otherwise = f.default === undefined ? 'NULL' : b.bind(f.default);
      return `CASE WHEN ${src} IS NULL THEN NULL::text ${arms.join(' ')} ELSE ${otherwise} END`;
    }
    case 'expr':
      return `(${exprSql(f.expr)})::text`;
    case 'copied':
    case 'renamed':
      return `p.${ident(f.from)}::text`;
    default:
      return 'NULL::text';
  }
}

const computedOf = (t: ResolvedTable) => (t.mapping?.columns ?? []).filter((c) => c.computed);
const pathOf = (t: ResolvedTable, c: ColumnMapping, ...rest: string[]) =>
  c.fate.kind === 'copied' || c.fate.kind === 'renamed'
    ? formatPath(['tables', t.index, 'columns'])
    : formatPath(['tables', t.index, 'columns', c.column, ...rest]);
const keysOf = (t: ResolvedTable, rows: { k: unknown[] }[]) =>
  rows
    .slice(0, MAX_KEYS)
    .map((r) => `(${t.key.join(', ')})=(${r.k.join(', ')})`)
    .join('; ') + (rows.length > MAX_KEYS ? '; …' : '');

/**
 * Fill the computed columns of every mapped table's staged rows, checking each value first; refuses
 * (PlanError naming table, column and keys) what Production would refuse. Inside a transaction.
 */
export async function applyMapping(db: Client, r: Resolved, names: StagingNames): Promise<void> {
  const problems: { path: string; message: string }[] = [];
  for (const t of r.tables.filter((x) => computedOf(x).length > 0)) problems.push(...(await applyTable(db, t, names)));
  for (const t of r.tables.filter((x) => x.mapping)) problems.push(...(await checkConstraints(db, t, names)));
  // One issue per place (the plan's one PlanError shape); nothing has been written.
  if (problems.length > 0)
    throw planError(problems.map((p) => ({ path: p.path, message: `${p.message} (the mapping does not fit Production)` })));
}

async function applyTable(db: Client, t: ResolvedTable, names: StagingNames): Promise<{ path: string; message: string }[]> {
  const data = names.data(t.index, t.name);
  const cols = computedOf(t);
  const problems = await mapUncovered(db, t, data, cols);
  if (problems.length > 0) return problems;
  const b = new Params();
  const values = cols.map((c) => `(${textValue(c, b)})::${c.type}`);
  const set =
    cols.length === 1
      ? `${ident(cols[0].column)} = (SELECT ${values[0]} FROM ${pilotScope(t, cols)})`
      : `(${cols.map((c) => ident(c.column)).join(', ')}) = (SELECT ${values.join(', ')} FROM ${pilotScope(t, cols)})`;
  await db.query('SAVEPOINT cutover_mapping');
  try {
    await db.query(`UPDATE ${data} s SET ${set}`, b.values);
    await db.query('RELEASE SAVEPOINT cutover_mapping');
  } catch (e) {
    await db.query('ROLLBACK TO SAVEPOINT cutover_mapping');
    if (!/^2[23]/.test(String((e as { code?: unknown }).code ?? ''))) throw e;
    const found = await unconvertible(db, t, data, cols);
    // The statement failed on a value no single column explains (an expression's own error): say so, without values.
    return found.length > 0
      ? found
      : [
          {
            path: formatPath(['tables', t.index, 'columns']),
            message: `computing ${t.mapping!.into} in staging failed: ${serverWords(e)}`,
          },
        ];
  }
  const out: { path: string; message: string }[] = [];
  for (const c of cols.filter((x) => t.target.columns.find((y) => y.name === x.column)?.notNull)) {
    const res = await db.query<{ k: unknown[] }>(
      `SELECT ${keyJson('s', t.key)} AS k FROM ${data} s WHERE s.${ident(c.column)} IS NULL LIMIT ${MAX_KEYS + 1}`,
    );
    if (res.rows.length > 0)
      out.push({
        path: pathOf(t, c),
        message: `${t.mapping!.into}.${c.column} is NOT NULL in Production but the mapping gives NULL for ${keysOf(t, res.rows)}`,
      });
  }
  return out;
}

/** Pilot values in scope that a map without default does not list: the distinct values with their counts. */
async function mapUncovered(
  db: Client,
  t: ResolvedTable,
  data: string,
  cols: ColumnMapping[],
): Promise<{ path: string; message: string }[]> {
  const out: { path: string; message: string }[] = [];
  for (const c of cols) {
    if (c.fate.kind !== 'map' || c.fate.default !== undefined) continue;
    const src = `s.${ident(stageRaw(t.mapping!, t.pilot, c.fate.from)!)}`;
    const res = await db.query<{ v: string; n: string }>(
      `SELECT ${src}::text AS v, count(*)::text AS n FROM ${data} s
        WHERE ${src} IS NOT NULL AND NOT (${src}::text = ANY($1::text[]))
        GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT ${MAX_VALUES + 1}`,
      [Object.keys(c.fate.map)],
    );
    if (res.rows.length === 0) continue;
    const listed = res.rows.slice(0, MAX_VALUES).map((x) => `${JSON.stringify(x.v)} (${x.n} row${x.n === '1' ? '' : 's'})`);
    out.push({
      path: pathOf(t, c, 'map'),
      message: `${t.name}.${c.fate.from} has values in scope that the map into ${t.mapping!.into}.${c.column} does not list and no default gives: ${listed.join(', ')}${res.rows.length > MAX_VALUES ? ', …' : ''}`,
    });
  }
  return out;
}

/** After a failed UPDATE: per computed column, the keys whose value does not convert to Production's type. */
async function unconvertible(
  db: Client,
  t: ResolvedTable,
  data: string,
  cols: ColumnMapping[],
): Promise<{ path: string; message: string }[]> {
  // A session-temporary function (gone with the session; the dry run's is rolled back with it): one
  // conversion per call, its error caught, so one bad value does not hide the others.
  await db.query(`CREATE OR REPLACE FUNCTION pg_temp.cutover_converts(v text, typ text) RETURNS boolean LANGUAGE plpgsql AS $f$
    BEGIN EXECUTE format('SELECT %L::%s', v, typ); RETURN true; EXCEPTION WHEN others THEN RETURN false; END $f$`);
  const out: { path: string; message: string }[] = [];
  for (const c of cols) {
    const b = new Params();
    const text = textValue(c, b);
    b.values.push(c.type);
    const typ = `$${b.values.length}::text`;
    await db.query('SAVEPOINT cutover_mapping');
    try {
      const res = await db.query<{ k: unknown[] }>(
        `SELECT ${keyJson('s', t.key)} AS k FROM ${data} s CROSS JOIN LATERAL (SELECT ${text} AS v FROM ${pilotScope(t, [c])}) x
          WHERE x.v IS NOT NULL AND NOT pg_temp.cutover_converts(x.v, ${typ}) LIMIT ${MAX_KEYS + 1}`,
        b.values,
      );
      await db.query('RELEASE SAVEPOINT cutover_mapping');
      if (res.rows.length > 0)
        out.push({
          path: pathOf(t, c),
          message: `${t.mapping!.into}.${c.column} is ${c.type} in Production: the ${c.fate.kind === 'copied' || c.fate.kind === 'renamed' ? `Pilot value of ${c.fate.from}` : `mapped value`} does not convert for ${keysOf(t, res.rows)}`,
        });
    } catch (e) {
      await db.query('ROLLBACK TO SAVEPOINT cutover_mapping');
      // The expression itself fails (division by zero, a bad cast inside it): name the column, not the value.
      out.push({ path: pathOf(t, c, 'expr'), message: `computing ${t.mapping!.into}.${c.column} fails in staging: ${serverWords(e)}` });
    }
  }
  return out;
}

/** Production's CHECK constraints over staged columns only, evaluated on the staged rows: the keys of rows breaking one. */
async function checkConstraints(db: Client, t: ResolvedTable, names: StagingNames): Promise<{ path: string; message: string }[]> {
  const res = await db.query<{ name: string; def: string; cols: string[] }>(
    `SELECT c.conname AS name, pg_get_constraintdef(c.oid) AS def,
            ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)) AS cols
       FROM pg_constraint c WHERE c.conrelid = $1::regclass AND c.contype = 'c' ORDER BY c.conname`,
    [t.target.qualified],
  );
  const staged = new Set(t.columns.map((c) => c.name));
  const out: { path: string; message: string }[] = [];
  for (const c of res.rows) {
    if (c.cols.length === 0 || !c.cols.every((x) => staged.has(x))) continue;
    // Production's own definition (its catalog, not the plan): CHECK (…) [NOT VALID]; NULL passes, as in PostgreSQL.
    const expr = c.def.replace(/^CHECK\s*/, '').replace(/\s+NOT VALID$/, '');
    const bad = await db.query<{ k: unknown[] }>(
      `SELECT ${keyJson('s', t.key)} AS k FROM ${names.data(t.index, t.name)} s WHERE NOT ${expr} LIMIT ${MAX_KEYS + 1}`,
    );
    if (bad.rows.length > 0)
      out.push({
        path: formatPath(['tables', t.index, 'columns', ...(c.cols.length === 1 ? [c.cols[0]] : [])]),
        message: `rows would break Production's check constraint ${c.name} on ${t.mapping!.into} (${c.cols.join(', ')}): ${keysOf(t, bad.rows)}`,
      });
  }
  return out;
}

/** Each mapped table's column fates counted on its staged rows (after applyMapping): the evidence's mapping section. */
export async function mappingEvidence(db: Client, r: Resolved, names: StagingNames): Promise<MappingEvidence[]> {
  const out: MappingEvidence[] = [];
  for (const t of r.tables.filter((x) => x.mapping)) {
    const m = t.mapping!;
    const data = names.data(t.index, t.name);
    const flags = m.dropped.map((d) => `count(*) FILTER (WHERE s.${ident(d.flag)})::text`);
    const head = (
      await db.query<{ n: string; f: string[] | null }>(
        `SELECT count(*)::text AS n, ARRAY[${flags.join(', ') || 'NULL::text'}] AS f FROM ${data} s`,
      )
    ).rows[0];
    const columns: ColumnFate[] = [];
    for (const c of m.columns) {
      const f = c.fate;
      const fate: ColumnFate = { column: c.column, source: f.kind };
      if (f.kind === 'renamed') fate.from = f.from;
      if (f.kind === 'constant') fate.value = f.value;
      if (f.kind === 'expr') fate.expr = f.expr;
      if ((f.kind === 'copied' || f.kind === 'renamed') && c.computed)
        fate.converted = { from: t.pilot.columns.find((x) => x.name === f.from)!.type, to: c.type };
      if (f.kind === 'map') {
        fate.from = f.from;
        const src = `s.${ident(stageRaw(m, t.pilot, f.from)!)}`;
        const res = await db.query<{ v: string | null; n: string }>(
          `SELECT ${src}::text AS v, count(*)::text AS n FROM ${data} s GROUP BY 1 ORDER BY 1 NULLS FIRST`,
        );
        fate.values = res.rows.map((x) => {
          const listed = x.v !== null && Object.prototype.hasOwnProperty.call(f.map, x.v);
          const to = x.v === null ? null : listed ? f.map[x.v] : (f.default ?? null);
          return { from: x.v, to, rows: Number(x.n), defaulted: x.v !== null && !listed };
        });
      }
      columns.push(fate);
    }
    out.push({
      table: t.name,
      into: m.into,
      rows: Number(head.n),
      columns,
      dropped: m.dropped.map((d, i) => ({ column: d.column, nonNull: Number(head.f?.[i] ?? 0) })),
    });
  }
  return out;
}
