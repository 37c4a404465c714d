// Check a plan against both catalogs and order its tables by FK dependency. Pure given the catalogs.
import type { Plan } from '../../plan/schema';
import { PlanError, type PlanIssue } from '../../plan/issues';
import { didYouMean, type Catalog, type ForeignKey } from './catalog';
import { planTableKey as qualifyName } from '../../plan/names';
import { checkIdStrategy, resolveRules, type Rules } from './resolve-rules';
import { formatPath } from '../../plan/issues';
import { hasMapping, pilotView, productionView, resolveMapping } from './mapping';
import type { ResolvedTable } from './resolved-table';

export type { ResolvedTable } from './resolved-table';

export interface Resolved {
  tables: ResolvedTable[]; // FK order: parents first
  rules: Rules;
  warnings: string[];
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

export function resolvePlan(plan: Plan, source: Catalog, target: Catalog): Resolved {
  const issues: PlanIssue[] = [];
  const warnings: string[] = [];
  const tables: ResolvedTable[] = [];
  const inPlan = new Set(plan.tables.map((t) => qualifyName(t.table)));

  // With into/columns/drop anywhere in the plan, every table is read through views in one naming:
  // plan (Pilot) table names, staged (Production) column names. Without, the catalogs as they are.
  const mapped = plan.tables.some(hasMapping);
  const intoOf = new Map(plan.tables.map((t) => [qualifyName(t.into ?? t.table), qualifyName(t.table)]));
  const pending: { t: ResolvedTable; srcFollow: Map<ForeignKey, string> }[] = [];

  plan.tables.forEach((spec, index) => {
    const at = `tables[${index}]`;
    const name = qualifyName(spec.table);
    const into = qualifyName(spec.into ?? spec.table);
    const src = source.get(name);
    const tgt = target.get(into);
    if (!src) issues.push({ path: `${at}.table`, message: `unknown table ${name} in source (${plan.source})${didYouMean(source, name)}` });
    if (!tgt)
      issues.push({
        path: `${at}.${spec.into === undefined ? 'table' : 'into'}`,
        message: `unknown table ${into} in target (${plan.target})${didYouMean(target, into)}`,
      });
    if (!src || !tgt) return;

    const srcCols = new Map(src.columns.map((c) => [c.name, c]));
    const pilotKey = spec.key ?? src.primaryKey ?? [];
    const mapping = hasMapping(spec) ? resolveMapping(spec, at, into, src, tgt, pilotKey, issues) : null;
    const columns = mapping
      ? tgt.columns.filter((c) =>
          mapping.columns.some((m) => m.column === c.name && m.fate.kind !== 'default' && m.fate.kind !== 'generated'),
        )
      : tgt.columns.filter((c) => !c.generated && srcCols.has(c.name) && !srcCols.get(c.name)!.generated);
    if (!mapping) {
      for (const c of tgt.columns) {
        if (!c.generated && !srcCols.has(c.name) && c.notNull && !c.hasDefault) {
          issues.push({
            path: `${at}.table`,
            message: `target column ${name}.${c.name} is NOT NULL without default and does not exist in source`,
          });
        }
      }
      for (const c of src.columns) {
        if (!c.generated && !tgt.columns.some((t) => t.name === c.name)) {
          warnings.push(`${name}.${c.name} exists only in source: its values are left behind`);
        }
        const t = tgt.columns.find((x) => x.name === c.name);
        if (t && !t.generated && t.type !== c.type)
          warnings.push(`${name}.${c.name} is ${c.type} in source but ${t.type} in target: values are converted`);
      }
    }

    for (const [side, t] of [
      ['source', src],
      ['target', tgt],
    ] as const) {
      for (const p of t.partialForeignKeys) {
        warnings.push(
          `${name} (${side}): foreign key ${p.name} (${p.columns.join(', ')}) → ${p.refTable} is declared on ${p.partitionsWith.length} partition(s) but not on ${p.partitionsWithout.join(', ')}: treated as the table's foreign key; preflight checked that the rows there satisfy it`,
        );
      }
    }

    if (pilotKey.length === 0) {
      issues.push({ path: `${at}.key`, message: `table ${name} has no primary key in source: name a unique key` });
    }
    pilotKey.forEach((k, i) => {
      if (!srcCols.has(k)) issues.push({ path: `${at}.key[${i}]`, message: `unknown column "${k}" in ${name} (source)` });
      else if (mapping && !mapping.asIs.has(k))
        issues.push({
          path: `${at}.key[${i}]`,
          message: `key column "${k}" is not moved as it is into ${into}: copy it into a Production column ({from: ${k}}, same type family)`,
        });
      else if (!mapping && !columns.some((c) => c.name === k))
        issues.push({ path: `${at}.key[${i}]`, message: `key column "${k}" is not copied to ${name} (target)` });
    });
    // The key as staging and Production hold it.
    const key = mapping ? pilotKey.map((k) => mapping.asIs.get(k) ?? k) : pilotKey;
    const keyDeclared = src.uniqueKeys.some((u) => sameSet(u, pilotKey));

    const select = spec.select as Record<string, unknown>;
    const where = (select.where as { column: string }[] | undefined) ?? [];
    where.forEach((w, i) => {
      if (!srcCols.has(w.column))
        issues.push({ path: `${at}.select.where[${i}].column`, message: `unknown column "${w.column}" in ${name} (source)` });
    });
    const follow: ForeignKey[] = [];
    const followMoved: ForeignKey[] = [];
    const srcFollow = new Map<ForeignKey, string>(); // Pilot FK → the path that follows it (views are built below)
    for (const form of ['follow', 'followMoved'] as const) {
      ((select[form] as string[] | undefined) ?? []).forEach((col, i) => {
        const p = `${at}.select.${form}[${i}]`;
        if (!srcCols.has(col)) return void issues.push({ path: p, message: `unknown column "${col}" in ${name} (source)` });
        const fk = src.foreignKeys.find((f) => f.columns.includes(col));
        if (!fk) return void issues.push({ path: p, message: `column "${col}" of ${name} has no foreign key to follow` });
        if (fk.refTable === name)
          return void issues.push({
            path: p,
            message: `"${col}" references ${name} itself: follow a parent table; select a self-referencing table with where, all or referenced`,
          });
        if (!inPlan.has(fk.refTable))
          return void issues.push({ path: p, message: `"${col}" references ${fk.refTable}, which is not in the plan: add it to tables` });
        // Two columns of one composite FK name it once; the same FK under follow and followMoved is one or the other.
        if (form === 'followMoved' && follow.includes(fk) && !followMoved.includes(fk)) {
          return void issues.push({
            path: p,
            message: `"${col}" belongs to foreign key ${fk.name}, which follow already names: list its columns in follow or in followMoved, not both`,
          });
        }
        if (form === 'followMoved' && !followMoved.includes(fk)) followMoved.push(fk);
        if (!follow.includes(fk)) follow.push(fk);
        if (!srcFollow.has(fk)) srcFollow.set(fk, p);
      });
    }
    if (select.referenced) {
      const children = [...inPlan].filter((n) => source.get(n)?.foreignKeys.some((f) => f.refTable === name && n !== name));
      if (children.length === 0) warnings.push(`${name} selects referenced rows but no table of the plan references it: nothing moves`);
    }

    const t: ResolvedTable = {
      index,
      name,
      source: src,
      target: tgt,
      pilot: src,
      production: tgt,
      mapping,
      key,
      keyDeclared,
      columns,
      follow,
      followMoved,
      deferred: [],
      spec,
    };
    pending.push({ t, srcFollow });
    if (!mapped) checkIdStrategy(t, issues);
    tables.push(t);
  });

  if (mapped) {
    // Every table's foreign keys in the one naming (a parent's renamed key columns included).
    const own = new Map(tables.map((t) => [t.name, t.mapping ? (c: string) => t.mapping!.asIs.get(c) : (c: string) => c]));
    const planNames = new Set(tables.map((t) => t.name));
    for (const { t, srcFollow } of pending) {
      const view = pilotView(t.pilot, own.get(t.name)!, (table) => own.get(table));
      const inView = (fk: ForeignKey) => view.foreignKeys.find((v) => v.name === fk.name && v.refTable === fk.refTable);
      for (const [fk, path] of srcFollow) {
        if (!inView(fk))
          issues.push({
            path,
            message: `foreign key ${fk.name} of ${t.name} is not moved as it is (its columns, or its parent's, are mapped or dropped): it cannot be followed`,
          });
      }
      t.follow = t.follow.map(inView).filter((f): f is ForeignKey => f !== undefined);
      t.followMoved = t.followMoved.map(inView).filter((f): f is ForeignKey => f !== undefined);
      t.source = view;
      t.target = productionView(t.production, (p) => intoOf.get(p), planNames);
    }
    for (const t of tables.filter((x) => x.mapping)) checkComputedIdentities(t, planNames, issues);
  }
  if (mapped) for (const t of tables) checkIdStrategy(t, issues);

  const rules = resolveRules(plan, tables, source, target, issues);
  if (issues.length > 0) throw new PlanError(issues);
  return { tables: orderByForeignKeys(tables), rules, warnings };
}

/**
 * A value, map or expression cannot fill a key column or a foreign key into a plan table: those are
 * identities, moved as they are and rewritten through the id maps.
 */
function checkComputedIdentities(t: ResolvedTable, planNames: Set<string>, issues: PlanIssue[]): void {
  for (const m of t.mapping!.columns) {
    if (m.fate.kind !== 'constant' && m.fate.kind !== 'map' && m.fate.kind !== 'expr') continue;
    const fk = t.target.foreignKeys.find((f) => f.columns.includes(m.column) && planNames.has(f.refTable));
    if (t.key.includes(m.column) || fk) {
      issues.push({
        path: formatPath(['tables', t.index, 'columns', m.column]),
        message: `${t.target.qualified}.${m.column} is ${fk ? `a foreign key into a plan table (${fk.refTable})` : 'a key column'}: it moves as it is ({from: a Pilot column}), not from a ${m.fate.kind === 'constant' ? 'value' : m.fate.kind}`,
      });
    }
  }
}

/**
 * Parents before children (Kahn), using FKs of both catalogs between plan tables; self-references
 * don't order (one INSERT checks them at its end). A cycle is broken at an FK whose columns are
 * nullable in the target: those columns are published NULL and set after every table is in.
 */
export function orderByForeignKeys(tables: ResolvedTable[]): ResolvedTable[] {
  const names = new Set(tables.map((t) => t.name));
  const edges = new Map<string, { fk: ForeignKey; inTarget: boolean }[]>();
  for (const t of tables) {
    const out = [
      ...t.target.foreignKeys.map((fk) => ({ fk, inTarget: true })),
      ...t.source.foreignKeys
        .filter((f) => !t.target.foreignKeys.some((g) => g.refTable === f.refTable && g.columns.join() === f.columns.join()))
        .map((fk) => ({ fk, inTarget: false })),
    ];
    edges.set(
      t.name,
      out.filter((e) => e.fk.refTable !== t.name && names.has(e.fk.refTable)),
    );
  }
  const ordered: ResolvedTable[] = [];
  const done = new Set<string>();
  let pending = [...tables];
  while (pending.length > 0) {
    const ready = pending.filter((t) => edges.get(t.name)!.every((e) => done.has(e.fk.refTable)));
    if (ready.length === 0) {
      if (breakCycle(pending, edges, done)) continue;
      const cycle = pending.map((t) => `tables[${t.index}] ${t.name}`).join(', ');
      throw new PlanError([{ path: 'tables', message: `foreign-key cycle between ${cycle} with no nullable foreign key to break it` }]);
    }
    ready.sort((a, b) => a.index - b.index);
    for (const t of ready) {
      ordered.push(t);
      done.add(t.name);
    }
    pending = pending.filter((t) => !done.has(t.name));
  }
  return ordered;
}

function breakCycle(pending: ResolvedTable[], edges: Map<string, { fk: ForeignKey; inTarget: boolean }[]>, done: Set<string>): boolean {
  for (const t of [...pending].sort((a, b) => a.index - b.index)) {
    const open = edges.get(t.name)!.filter((e) => !done.has(e.fk.refTable));
    const nullable = open.filter((e) => e.fk.columns.every((c) => t.columns.some((x) => x.name === c && !x.notNull)));
    if (nullable.length === 0 || nullable.length !== open.length) continue;
    for (const e of nullable) if (e.inTarget) t.deferred.push(e.fk);
    edges.set(
      t.name,
      edges.get(t.name)!.filter((e) => !nullable.includes(e)),
    );
    return true;
  }
  return false;
}
