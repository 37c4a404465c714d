// A plan table's mapping (into, columns, drop) checked against both catalogs: every Production
// column's source, every Pilot column's fate. Past resolve, staging and everything after it speak
// Production's column names; only the SQL that reads the Pilot translates back (pilotColumn). A
// Pilot column is staged as it is (COPY) when a Production column copies it; a value, map,
// expression or type change is computed in staging at cleanup (db/mapping-compute.ts) from raw Pilot
// columns staged under reserved names. Without into/columns/drop nothing here changes anything.
// Pure given the catalogs.
import type { ColumnSource, MapScalar, Plan } from '../../plan/schema';
import { checkExpr } from '../../plan/mapping-sql';
import { formatPath } from '../../plan/issues';
import type { Column, ForeignKey, Table } from './catalog';

/** Where a Production column's value comes from. */
export type Fate =
  | { kind: 'copied'; from: string } // same name on both sides
  | { kind: 'renamed'; from: string }
  | { kind: 'constant'; value: MapScalar | null }
  | { kind: 'map'; from: string; map: Record<string, MapScalar | null>; default?: MapScalar | null }
  | { kind: 'expr'; expr: string; reads: string[] }
  | { kind: 'default' } // nothing supplies it: Production's default (or NULL)
  | { kind: 'generated' }; // Production computes it

export interface ColumnMapping {
  column: string; // Production column
  type: string; // Production type
  fate: Fate;
  /** Filled in staging at cleanup (value, map, expression, or a copy whose type changes), not by COPY. */
  computed: boolean;
}

/** A Pilot column staged only as an input (of a map, an expression, a rule) or as a not-null flag of a dropped column. */
export interface RawColumn {
  pilot: string;
  staged: string; // reserved name in staging: cutover_pilot_<n> / cutover_kept_<n>
  type: string;
  /** Staged as `pilot IS NOT NULL` (a dropped column: its values never leave the Pilot). */
  flag?: boolean;
}

export interface TableMapping {
  /** Canonical Production table name (tableKey). */
  into: string;
  /** Every Production column, in Production's order. */
  columns: ColumnMapping[];
  /** Staged (Production) column → the Pilot column COPY reads it from, as it is. */
  copiedFrom: Map<string, string>;
  /** Pilot column → the staged column holding its value as it is (a same-named copy preferred). */
  asIs: Map<string, string>;
  raw: RawColumn[];
  /** Pilot columns listed in drop, each with the staged flag counting its non-null values. */
  dropped: { column: string; flag: string }[];
}

interface Issue {
  path: string;
  message: string;
}

export const hasMapping = (spec: Plan['tables'][number]) =>
  spec.into !== undefined || spec.columns !== undefined || spec.drop !== undefined;

const RESERVED = /^cutover_(pilot|kept)_\d+$/;

/**
 * The mapping of one plan table. `structural`: Production columns that are key or foreign-key
 * columns into plan tables (their values are identities: they move as they are, by COPY).
 */
export function resolveMapping(
  spec: Plan['tables'][number],
  at: string,
  into: string,
  src: Table,
  tgt: Table,
  pilotKey: string[],
  issues: Issue[],
): TableMapping {
  const srcCols = new Map(src.columns.map((c) => [c.name, c]));
  const tgtCols = new Map(tgt.columns.map((c) => [c.name, c]));
  const entries = spec.columns ?? {};
  const used = new Set<string>(); // Pilot columns something reads
  const pathOf = (col: string, ...rest: string[]) => formatPath([...parsePathPrefix(at), 'columns', col, ...rest]);

  for (const c of tgt.columns) {
    if (RESERVED.test(c.name))
      issues.push({
        path: `${at}.table`,
        message: `Production column ${into}.${c.name} has a name cutover reserves for staging Pilot inputs: rename it or map this table without it`,
      });
  }
  const columns: ColumnMapping[] = [];
  for (const [col, source] of Object.entries(entries)) {
    const c = tgtCols.get(col);
    if (!c) issues.push({ path: pathOf(col), message: `unknown column "${col}" in ${into} (target): columns names Production columns` });
    else if (c.generated)
      issues.push({
        path: pathOf(col),
        message: `${into}.${col} is generated in Production: PostgreSQL computes it, nothing may supply it`,
      });
    checkSource(source, col, pathOf, srcCols, src.qualified, used, issues);
  }
  for (const c of tgt.columns) {
    const source = entries[c.name];
    let fate: Fate;
    if (c.generated) fate = { kind: 'generated' };
    else if (source) fate = fateOf(source, c.name);
    else if (srcCols.has(c.name) && !srcCols.get(c.name)!.generated) {
      fate = { kind: 'copied', from: c.name };
      used.add(c.name);
    } else fate = { kind: 'default' };
    if (fate.kind === 'default' && c.notNull && !c.hasDefault) {
      issues.push({
        path: `${at}.columns`,
        message: `Production column ${into}.${c.name} is NOT NULL without default and nothing supplies it: add columns.${c.name} ({from}, {value}, {from, map} or {expr})`,
      });
    }
    const from = fate.kind === 'copied' || fate.kind === 'renamed' ? srcCols.get(fate.from) : undefined;
    // A copy whose type changes is computed too (a value that does not fit is then named by key),
    // except an identity (key or foreign-key column): those move as they are, COPY converting them.
    const structural =
      from !== undefined &&
      (pilotKey.includes(from.name) ||
        src.foreignKeys.some((f) => f.columns.includes(from.name)) ||
        tgt.foreignKeys.some((f) => f.columns.includes(c.name)));
    const computed =
      fate.kind === 'constant' ||
      fate.kind === 'map' ||
      fate.kind === 'expr' ||
      (from !== undefined && from.type !== c.type && !structural);
    columns.push({ column: c.name, type: c.type, fate, computed });
  }

  const drop = spec.drop ?? [];
  drop.forEach((d, i) => {
    const p = formatPath([...parsePathPrefix(at), 'drop', i]);
    if (!srcCols.has(d)) issues.push({ path: p, message: `unknown column "${d}" in ${src.qualified} (source)` });
    else if (used.has(d))
      issues.push({
        path: p,
        message: `${src.qualified}.${d} is listed in drop but a Production column is filled from it: remove it from one of them`,
      });
  });
  for (const c of src.columns) {
    if (c.generated || used.has(c.name) || drop.includes(c.name)) continue;
    issues.push({
      path: `${at}.drop`,
      message: `Pilot column ${src.qualified}.${c.name} is neither copied, mapped, used by an expression nor listed in drop: list it in drop to leave its values behind on purpose`,
    });
  }

  const copiedFrom = new Map<string, string>();
  const asIs = new Map<string, string>();
  for (const m of columns) {
    if (m.computed || (m.fate.kind !== 'copied' && m.fate.kind !== 'renamed')) continue;
    copiedFrom.set(m.column, m.fate.from);
    if (m.fate.kind === 'copied' || !asIs.has(m.fate.from)) asIs.set(m.fate.from, m.column);
  }
  const mapping: TableMapping = { into, columns, copiedFrom, asIs, raw: [], dropped: [] };
  for (const m of columns.filter((x) => x.computed)) for (const c of inputsOf(m.fate)) stageRaw(mapping, src, c);
  for (const d of drop.filter((x) => srcCols.has(x))) {
    const n = src.columns.findIndex((c) => c.name === d);
    const flag = `cutover_kept_${n}`;
    mapping.raw.push({ pilot: d, staged: flag, type: 'boolean', flag: true });
    mapping.dropped.push({ column: d, flag });
  }
  return mapping;
}

/** Pilot columns a computed column reads. */
export function inputsOf(fate: Fate): string[] {
  if (fate.kind === 'map' || fate.kind === 'copied' || fate.kind === 'renamed') return [fate.from];
  if (fate.kind === 'expr') return fate.reads;
  return [];
}

/**
 * The staged column holding Pilot column `pilot`'s value as it is: the Production column copying it,
 * else a raw input staged for it (added on demand: a rule reads a column that is not moved as it is).
 * Undefined when the Pilot has no such column.
 */
export function stageRaw(m: TableMapping, src: Table, pilot: string): string | undefined {
  const asIs = m.asIs.get(pilot);
  if (asIs) return asIs;
  const have = m.raw.find((r) => r.pilot === pilot && !r.flag);
  if (have) return have.staged;
  const n = src.columns.findIndex((c) => c.name === pilot);
  if (n < 0) return undefined;
  const c = src.columns[n];
  // A type of the Pilot's own (an enum, a domain) may not exist on Production's server: staged as text.
  const staged = `cutover_pilot_${n}`;
  m.raw.push({ pilot, staged, type: c.builtinType ? c.type : 'text' });
  return staged;
}

function fateOf(s: ColumnSource, column: string): Fate {
  if (s.expr !== undefined) {
    // The columns it reads (checkSource reports an expression that does not parse).
    return { kind: 'expr', expr: s.expr, reads: checkExpr(s.expr).columns };
  }
  if (s.value !== undefined) return { kind: 'constant', value: s.value };
  if (s.map !== undefined) return { kind: 'map', from: s.from!, map: s.map, ...(s.default !== undefined ? { default: s.default } : {}) };
  return s.from === column ? { kind: 'copied', from: s.from } : { kind: 'renamed', from: s.from! };
}

function checkSource(
  s: ColumnSource,
  col: string,
  pathOf: (col: string, ...rest: string[]) => string,
  srcCols: Map<string, Column>,
  srcName: string,
  used: Set<string>,
  issues: Issue[],
): void {
  if (s.from !== undefined) {
    const c = srcCols.get(s.from);
    if (!c) issues.push({ path: pathOf(col, 'from'), message: `unknown column "${s.from}" in ${srcName} (source)` });
    else if (c.generated) issues.push({ path: pathOf(col, 'from'), message: `${srcName}.${s.from} is generated in the Pilot` });
    else used.add(s.from);
  }
  if (s.expr !== undefined) {
    const check = checkExpr(s.expr);
    if (check.problem) return void issues.push({ path: pathOf(col, 'expr'), message: check.problem });
    for (const r of check.columns) {
      if (!srcCols.has(r))
        issues.push({
          path: pathOf(col, 'expr'),
          message: `reads "${r}", which is not a column of ${srcName} (source): an expression reads only its own Pilot row`,
        });
      else used.add(r);
    }
  }
}

/** `tables[3]` → ['tables', 3]. */
function parsePathPrefix(at: string): Array<string | number> {
  const m = /^tables\[(\d+)\]$/.exec(at);
  return m ? ['tables', Number(m[1])] : [at];
}

/**
 * The Pilot table as the rest of the run reads it: columns, keys and foreign keys under the staged
 * (Production) names of the columns moved as they are; foreign keys through columns that are not
 * moved as they are do not exist for the run (their values are not moved). `asIsOf(table)` gives a
 * plan table's Pilot → staged names (undefined: not a plan table, names kept).
 */
export function pilotView(
  src: Table,
  own: (c: string) => string | undefined,
  asIsOf: (table: string) => ((c: string) => string | undefined) | undefined,
): Table {
  const all = (cols: string[], f: (c: string) => string | undefined) => {
    const out = cols.map(f);
    return out.every((x) => x !== undefined) ? (out as string[]) : undefined;
  };
  const fks: ForeignKey[] = [];
  for (const fk of src.foreignKeys) {
    const parent = asIsOf(fk.refTable);
    const columns = all(fk.columns, own);
    const refColumns = parent ? all(fk.refColumns, parent) : fk.refColumns;
    if (columns && refColumns) fks.push({ ...fk, columns, refColumns });
  }
  const uniqueKeys = src.uniqueKeys.map((u) => all(u, own)).filter((u): u is string[] => u !== undefined);
  return {
    ...src,
    columns: src.columns.filter((c) => own(c.name) !== undefined).map((c) => ({ ...c, name: own(c.name)! })),
    primaryKey: src.primaryKey ? (all(src.primaryKey, own) ?? null) : null,
    uniqueKeys,
    foreignKeys: fks,
    partialForeignKeys: src.partialForeignKeys.flatMap((p) => {
      const columns = all(p.columns, own);
      return columns ? [{ ...p, columns }] : [];
    }),
  };
}

/**
 * Production's table with its foreign keys' referenced tables named as the plan names them (the
 * Pilot table whose rows go into it), so both catalogs' foreign keys compare by one name. A
 * Production table no plan table goes into keeps its name (marked when a plan table has it).
 */
export function productionView(tgt: Table, planNameOf: (production: string) => string | undefined, planNames: Set<string>): Table {
  const fks = tgt.foreignKeys.map((fk) => {
    const plan = planNameOf(fk.refTable);
    if (plan !== undefined) return plan === fk.refTable ? fk : { ...fk, refTable: plan };
    return planNames.has(fk.refTable) ? { ...fk, refTable: `${fk.refTable} (production)` } : fk;
  });
  return fks.every((f, i) => f === tgt.foreignKeys[i]) ? tgt : { ...tgt, foreignKeys: fks };
}

/** Pilot column name of a staged column (raw inputs, flags included); undefined when COPY does not read it. */
export function pilotSource(m: TableMapping, staged: string): { pilot: string; flag: boolean } | undefined {
  const from = m.copiedFrom.get(staged);
  if (from !== undefined) return { pilot: from, flag: false };
  const raw = m.raw.find((r) => r.staged === staged);
  return raw ? { pilot: raw.pilot, flag: raw.flag === true } : undefined;
}
