// The plan's cleanup rules (subjects, consent, test data, erasure registers, transforms) and id
// strategies, checked against the catalogs. Pure given the catalogs.
import type { Plan } from '../../plan/schema';
import { didYouMean, type Catalog, type Column, type ForeignKey, type Table } from './catalog';
import { planTableKey as qualifyName } from '../../plan/names';
import type { Condition } from './conditions';
import type { PlanIssue } from '../../plan/issues';
import type { ResolvedTable } from './resolved-table';
import { stageRaw } from './mapping';
import { stagedColumn } from './mapping-staging';

export interface Rules {
  subjects: { table: ResolvedTable; key: string } | null;
  consent: { table: Table; subject: string; granted: Condition[] } | null;
  /** Registers naming people by their Pilot key (keys: pilot, the default): the rules that leave Pilot rows behind read these. */
  registers: { db: 'source' | 'target'; table: Table; subject: string }[];
  /** Production's own registers (keys: production): read only by erasures in Production, by Production key. */
  productionRegisters: { db: 'target'; table: Table; subject: string }[];
  testData: { table: ResolvedTable; where: Condition[]; reason: string }[];
  transforms: { table: ResolvedTable; column: string; fn: string }[];
  /** Tables whose rows an erasure keeps, with these columns set (null or the fixed value), instead of deleting them. */
  anonymize: { table: ResolvedTable; columns: Record<string, AnonymizeValue> }[];
  /** erasure.references: per foreign key (production's, between plan tables), what an erasure does through it. */
  references: { table: ResolvedTable; fk: ForeignKey; action: ErasureAction }[];
  /** production.auditTables: Production tables its own triggers insert into (db/audit-proof.ts). */
  auditTables: Table[];
  /** retention: rows whose date/timestamp column is older than olderThan (an ISO 8601 interval) before the snapshot time. */
  retention: RetentionRule[];
}

export interface RetentionRule {
  table: ResolvedTable;
  column: string;
  olderThan: string;
  action: 'leave-behind' | 'anonymize';
  columns: Record<string, AnonymizeValue>;
}

/** Column types a row's age can be read from (compared with a timestamptz cutoff). */
const DATED = /^(date|timestamp)\b/;

/** What an erasure does to a row referencing an erased row: erase it too, or set the reference to NULL. */
export type ErasureAction = 'delete' | 'nullify';

export type AnonymizeValue = string | number | boolean | null;

const TEXTY = /^(text|character varying|character|varchar|char|citext)\b/;

export function resolveRules(plan: Plan, tables: ResolvedTable[], source: Catalog, target: Catalog, issues: PlanIssue[]): Rules {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const planTable = (path: string, name: string): ResolvedTable | undefined => {
    const t = byName.get(qualifyName(name));
    if (!t) issues.push({ path, message: `table ${qualifyName(name)} is not in the plan's tables` });
    return t;
  };
  const hasColumn = (path: string, t: Table, col: string, where: string): boolean => {
    if (t.columns.some((c) => c.name === col)) return true;
    issues.push({ path, message: `unknown column "${col}" in ${t.qualified} (${where})` });
    return false;
  };
  const copied = (path: string, t: ResolvedTable, col: string): Column | undefined => {
    // A mapped table's rules name Pilot columns: the staged column holding the value as it is.
    const staged = t.mapping ? t.mapping.asIs.get(col) : col;
    const c = staged === undefined ? undefined : t.columns.find((x) => x.name === staged);
    if (!c)
      issues.push({
        path,
        message: t.mapping
          ? `column "${col}" of ${t.name} (source) is not moved as it is into ${t.mapping.into}: a rule here reads a column copied or renamed by the mapping`
          : `unknown column "${col}" in ${t.name} (or not copied: it must exist in source and target)`,
      });
    return c;
  };
  /** A rule's Pilot column as staging holds it: moved as it is, or staged raw for the rule (a mapped table). */
  const readable = (path: string, t: ResolvedTable, col: string): Column | undefined => {
    if (!t.mapping) return copied(path, t, col);
    const staged = stageRaw(t.mapping, t.pilot, col);
    const c = staged === undefined ? undefined : stagedColumn(t, staged);
    if (!c) issues.push({ path, message: `unknown column "${col}" in ${t.name} (source)` });
    return c;
  };
  const catalogTable = (path: string, cat: Catalog, name: string, where: string): Table | undefined => {
    const t = cat.get(qualifyName(name));
    if (!t) issues.push({ path, message: `unknown table ${qualifyName(name)} in ${where}${didYouMean(cat, qualifyName(name))}` });
    return t;
  };

  let subjects: Rules['subjects'] = null;
  if (plan.subjects) {
    const t = planTable('subjects.table', plan.subjects.table);
    const c = t && copied('subjects.key', t, plan.subjects.key);
    if (t && c) subjects = { table: t, key: c.name };
  }

  let consent: Rules['consent'] = null;
  if (plan.consent) {
    const t = catalogTable('consent.table', source, plan.consent.table, `source (${plan.source})`);
    if (t) {
      const ok = hasColumn('consent.subject', t, plan.consent.subject, 'source');
      const granted = plan.consent.granted as Condition[];
      granted.forEach((g, i) => hasColumn(`consent.granted[${i}].column`, t, g.column, 'source'));
      if (ok) consent = { table: t, subject: plan.consent.subject, granted };
    }
  }

  const registers: Rules['registers'] = [];
  const productionRegisters: Rules['productionRegisters'] = [];
  (plan.erasure?.registers ?? []).forEach((r, i) => {
    const cat = r.db === 'source' ? source : target;
    const where = r.db === 'source' ? `source (${plan.source})` : `target (${plan.target})`;
    const t = catalogTable(`erasure.registers[${i}].table`, cat, r.table, where);
    if (!t || !hasColumn(`erasure.registers[${i}].subject`, t, r.subject, where)) return;
    // The schema admits keys: production only with db: target.
    if (r.keys === 'production') productionRegisters.push({ db: 'target', table: t, subject: r.subject });
    else registers.push({ db: r.db, table: t, subject: r.subject });
  });

  const testData: Rules['testData'] = [];
  (plan.testData ?? []).forEach((rule, i) => {
    const t = planTable(`testData[${i}].table`, rule.table);
    if (!t) return;
    const where = rule.where as Condition[];
    const cols = where.map((w, j) => readable(`testData[${i}].where[${j}].column`, t, w.column));
    if (cols.every((c) => c !== undefined))
      testData.push({
        table: t,
        where: where.map((w, j) => (cols[j]!.name === w.column ? w : { ...w, column: cols[j]!.name })),
        reason: rule.reason,
      });
  });

  const transforms: Rules['transforms'] = [];
  (plan.transforms ?? []).forEach((x, i) => {
    const t = planTable(`transforms[${i}].table`, x.table);
    const c = t && copied(`transforms[${i}].column`, t, x.column);
    if (!t || !c) return;
    const structural = t.key.includes(c.name) || t.target.foreignKeys.some((f) => f.columns.includes(c.name));
    if (structural)
      issues.push({
        path: `transforms[${i}].column`,
        message: `${t.name}.${x.column} is a key or foreign-key column: transforming it would break references`,
      });
    else if (!TEXTY.test(c.type))
      issues.push({ path: `transforms[${i}].column`, message: `${t.name}.${x.column} is ${c.type}: transforms apply to text columns` });
    else transforms.push({ table: t, column: c.name, fn: x.fn });
  });

  const anonymize = resolveAnonymize(plan, tables, subjects, planTable, copied, issues);
  const references = resolveReferences(plan, tables, planTable, issues);
  const retention = resolveRetention(plan, planTable, copied, issues);
  const auditTables: Table[] = [];
  (plan.production?.auditTables ?? []).forEach((name, i) => {
    const t = catalogTable(`production.auditTables[${i}]`, target, name, `target (${plan.target})`);
    if (t) auditTables.push(t);
  });

  if (plan.consent && !subjects) issues.push({ path: 'consent', message: 'needs subjects (the table and key that identify people)' });
  return { subjects, consent, registers, productionRegisters, testData, transforms, anonymize, references, retention, auditTables };
}

/**
 * ids: new / match draw new keys from the target's sequence: exactly one key column may be
 * sequence- or identity-backed (a partitioned table's key also holds the partition key, kept as is).
 * Say so up front when that cannot work.
 */
export function checkIdStrategy(t: ResolvedTable, issues: PlanIssue[]): void {
  const at = `tables[${t.index}]`;
  const generated = generatedKeyColumns(t);
  const key = `${t.name} key (${t.key.join(', ')})`;
  if (t.spec.ids === 'new' && generated.length === 0) {
    issues.push({
      path: `${at}.ids`,
      message: `ids: new needs one key column backed by a sequence or identity column in the target; ${key} has none`,
    });
  }
  if (t.spec.ids !== 'keep' && generated.length > 1) {
    issues.push({
      path: `${at}.ids`,
      message: `ids: ${t.spec.ids} needs exactly one sequence- or identity-backed key column in the target; ${key} has ${generated.length}: ${generated.map((c) => c.column).join(', ')}`,
    });
  }
  if (t.spec.ids === 'match') {
    (t.spec.match ?? []).forEach((m, i) => {
      if (!t.columns.some((c) => c.name === m))
        issues.push({
          path: `${at}.match[${i}]`,
          message: t.mapping
            ? `unknown column "${m}" in ${t.mapping.into} (or not filled by the mapping): match names Production columns`
            : `unknown column "${m}" in ${t.name} (or not copied: it must exist in source and target)`,
        });
      else if (t.mapping?.columns.some((c) => c.column === m && c.computed))
        issues.push({
          path: `${at}.match[${i}]`,
          message: `${t.mapping.into}.${m} is computed by the mapping (value, map, expression or type change): a natural key matched here must be moved as it is (not supported yet)`,
        });
    });
  }
}

function generatedKeyColumns(t: ResolvedTable): { index: number; column: string; sequence: string }[] {
  return t.key.flatMap((k, index) => {
    const sequence = t.target.columns.find((c) => c.name === k)?.sequence;
    return sequence ? [{ index, column: k, sequence }] : [];
  });
}

/** The one key column that draws new values from a sequence (others are kept), if any. */
export function keySequence(t: ResolvedTable): { index: number; column: string; sequence: string } | null {
  const g = generatedKeyColumns(t);
  return g.length === 1 ? g[0] : null;
}

/**
 * erasure.anonymize: each table must be a plan table that reaches the subjects table through foreign
 * keys (else an erasure never touches it); each column copied, not a key column, and not NOT NULL
 * when its value is null. An anonymized row is kept, so its foreign keys into tables the erasure
 * deletes from must be anonymized to null too, or the kept row would point at a deleted one.
 */
function resolveAnonymize(
  plan: Plan,
  tables: ResolvedTable[],
  subjects: Rules['subjects'],
  planTable: (path: string, name: string) => ResolvedTable | undefined,
  copied: (path: string, t: ResolvedTable, col: string) => Column | undefined,
  issues: PlanIssue[],
): Rules['anonymize'] {
  const out: Rules['anonymize'] = [];
  const specs = plan.erasure?.anonymize ?? [];
  if (specs.length === 0 || !subjects) return out;
  const reaching = tablesReaching(tables, subjects.table.name);
  const listed = new Map<string, Record<string, AnonymizeValue>>();
  specs.forEach((a, i) => {
    const at = `erasure.anonymize[${i}]`;
    const t = planTable(`${at}.table`, a.table);
    if (!t) return;
    if (listed.has(t.name)) return void issues.push({ path: `${at}.table`, message: `${t.name} is listed twice in erasure.anonymize` });
    if (!reaching.has(t.name)) {
      return void issues.push({
        path: `${at}.table`,
        message: `${t.name} does not reach the subjects table ${subjects.table.name} through foreign keys: an erasure never touches its rows`,
      });
    }
    let ok = true;
    const columns: Record<string, AnonymizeValue> = {}; // by Production column (a mapped table's Pilot names translated)
    for (const [col, value] of Object.entries(a.columns)) {
      const path = `${at}.columns.${col}`;
      const c = copied(path, t, col);
      if (!c) ok = false;
      else if (t.key.includes(c.name))
        ok = !issues.push({ path, message: `${t.name}.${col} is a key column: an anonymized row keeps its key` });
      else if (value === null && c.notNull)
        ok = !issues.push({ path, message: `${t.name}.${col} is NOT NULL in the target: it cannot be anonymized to null` });
      if (c) columns[c.name] = value as AnonymizeValue;
    }
    if (ok) listed.set(t.name, columns);
  });
  for (const [name, columns] of listed) {
    const t = tables.find((x) => x.name === name)!;
    for (const fk of t.target.foreignKeys) {
      if (!reaching.has(fk.refTable) || listed.has(fk.refTable)) continue; // the parent is kept too
      const kept = fk.columns.filter((c) => !(c in columns) || columns[c] !== null);
      if (kept.length > 0) {
        issues.push({
          path: `erasure.anonymize[${specs.findIndex((a) => qualifyName(a.table) === name)}].columns`,
          message: `${name} keeps its rows, but its foreign key (${fk.columns.join(', ')}) → ${fk.refTable} points at rows an erasure deletes: anonymize ${kept.join(', ')} to null too`,
        });
      }
    }
    out.push({ table: t, columns });
  }
  return out;
}

/**
 * retention: a plan table's date or timestamp column; anonymized columns copied, never a key or a
 * foreign-key column (a kept row keeps its identity and its references), never NOT NULL set to null.
 */
function resolveRetention(
  plan: Plan,
  planTable: (path: string, name: string) => ResolvedTable | undefined,
  copied: (path: string, t: ResolvedTable, col: string) => Column | undefined,
  issues: PlanIssue[],
): RetentionRule[] {
  const out: RetentionRule[] = [];
  (plan.retention ?? []).forEach((x, i) => {
    const at = `retention[${i}]`;
    const t = planTable(`${at}.table`, x.table);
    const c = t && copied(`${at}.column`, t, x.column);
    if (!t || !c) return;
    if (!DATED.test(c.type))
      return void issues.push({
        path: `${at}.column`,
        message: `${t.name}.${x.column} is ${c.type}: a retention period is measured on a date or timestamp column`,
      });
    let ok = true;
    for (const [col, value] of Object.entries(x.columns ?? {})) {
      const path = `${at}.columns.${col}`;
      const cc = copied(path, t, col);
      if (!cc) ok = false;
      else if (t.key.includes(col) || t.target.foreignKeys.some((f) => f.columns.includes(col)))
        ok = !issues.push({
          path,
          message: `${t.name}.${col} is a key or foreign-key column: an anonymized row keeps its key and references`,
        });
      else if (value === null && cc.notNull)
        ok = !issues.push({ path, message: `${t.name}.${col} is NOT NULL in the target: it cannot be anonymized to null` });
    }
    if (ok)
      out.push({
        table: t,
        column: x.column,
        olderThan: x.olderThan,
        action: x.action,
        columns: (x.columns ?? {}) as Record<string, AnonymizeValue>,
      });
  });
  return out;
}

/**
 * erasure.references: each entry names a foreign key production declares on a plan table into a
 * plan table (by its columns, in any order), once; nullify needs every column nullable (a NOT NULL
 * reference cannot be set to NULL: such a row cannot exist without its parent).
 */
function resolveReferences(
  plan: Plan,
  tables: ResolvedTable[],
  planTable: (path: string, name: string) => ResolvedTable | undefined,
  issues: PlanIssue[],
): Rules['references'] {
  const out: Rules['references'] = [];
  const planNames = new Set(tables.map((t) => t.name));
  (plan.erasure?.references ?? []).forEach((x, i) => {
    const at = `erasure.references[${i}]`;
    const t = planTable(`${at}.table`, x.table);
    if (!t) return;
    const same = (fk: ForeignKey) => fk.columns.length === x.columns.length && x.columns.every((c) => fk.columns.includes(c));
    const fk = t.target.foreignKeys.find((f) => same(f) && planNames.has(f.refTable));
    if (!fk) {
      const known = t.target.foreignKeys.filter((f) => planNames.has(f.refTable)).map((f) => `(${f.columns.join(', ')}) → ${f.refTable}`);
      return void issues.push({
        path: `${at}.columns`,
        message: `${t.name} has no foreign key (${x.columns.join(', ')}) into a plan table in the target${known.length ? `; it has ${known.join(', ')}` : ''}`,
      });
    }
    if (out.some((o) => o.fk === fk))
      return void issues.push({
        path: `${at}.columns`,
        message: `${t.name} (${fk.columns.join(', ')}) is listed twice in erasure.references`,
      });
    const notNull = fk.columns.filter((c) => t.target.columns.find((col) => col.name === c)?.notNull);
    if (x.action === 'nullify' && notNull.length > 0) {
      return void issues.push({
        path: `${at}.action`,
        message: `${t.name}.${notNull.join(', ')} is NOT NULL in the target: a row referencing an erased row through it cannot be kept with the reference set to NULL (use delete)`,
      });
    }
    out.push({ table: t, fk, action: x.action });
  });
  return out;
}

/** Plan tables whose rows reach `subjects` (itself included) through the target's foreign keys. */
function tablesReaching(tables: ResolvedTable[], subjects: string): Set<string> {
  const reach = new Set([subjects]);
  for (let grew = true; grew;) {
    grew = false;
    for (const t of tables) {
      if (!reach.has(t.name) && t.target.foreignKeys.some((fk) => reach.has(fk.refTable))) {
        reach.add(t.name);
        grew = true;
      }
    }
  }
  return reach;
}
