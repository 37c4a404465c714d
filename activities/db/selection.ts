// SQL that picks a table's rows in scope on the source: `where`, `follow` (down the FKs from moving
// parents) and `referenced` (up to the parents that moving rows need, and up their own self-references
// in turn). Values go through the Binder.
import { closureSql, selfReferences } from './closure';
import { Binder, conditionSql, type Condition } from './conditions';
import { ident, qualified } from './connect';
import { pilotColumn, pilotExpr, pilotList } from './mapping-staging';
import type { ForeignKey } from './catalog';
import type { Resolved, ResolvedTable } from './resolve';
import { PlanError } from '../../plan/issues';

export class Selection extends Binder {
  private alias = 0;
  private readonly byName: Map<string, ResolvedTable>;

  constructor(private readonly resolved: Resolved) {
    super();
    this.byName = new Map(resolved.tables.map((t) => [t.name, t]));
  }

  /**
   * SELECT of the given columns (default: the copied ones) of the rows in scope; `part`, when given,
   * is one more condition on the table's own alias (a lane's block range: db/table-parts.ts).
   */
  rowsSql(table: ResolvedTable, columns: string[] = table.columns.map((c) => c.name), part?: (alias: string) => string): string {
    const a = this.nextAlias();
    // Staged names in, the Pilot's columns read (a mapped table renames some).
    const cols = columns.map((c) => pilotExpr(table, c, a)).join(', ');
    const where = this.predicate(table, a, []);
    return `SELECT ${cols} FROM ${qualified(table.source.schema, table.source.name)} ${a} WHERE ${part ? `(${part(a)}) AND (${where})` : where}`;
  }

  private nextAlias(): string {
    return `t${this.alias++}`;
  }

  private predicate(table: ResolvedTable, a: string, stack: string[]): string {
    if (stack.includes(table.name)) {
      const path = [...stack, table.name].join(' → ');
      throw new PlanError([{ path: `tables[${table.index}].select`, message: `selection depends on itself: ${path}` }]);
    }
    const inner = [...stack, table.name];
    const select = table.spec.select as Record<string, unknown>;
    const parts: string[] = [];
    // `where` names the Pilot's own columns.
    const typeOf = (c: string) => table.pilot.columns.find((x) => x.name === c)!.type;
    for (const w of (select.where as Condition[] | undefined) ?? []) parts.push(conditionSql(this, a, w, typeOf));
    for (const fk of table.follow) {
      const parent = this.byName.get(fk.refTable)!;
      const lhs = pilotList(table, a, fk.columns);
      // A child with a parent is staged, with no semi-join over the parent, when the parent may also
      // already exist in production, which the source cannot see (scopeFilter() keeps those whose
      // parent moves or exists there); or when every parent row is in scope and PostgreSQL
      // guarantees each child's parent exists (then no join over its own parents either).
      // followMoved takes only children of moving parents: always the semi-join (or the guarantee).
      if (followsIntoProduction(parent, table, fk) || (trusted(fk) && this.selectsEvery(parent, inner))) {
        parts.push(fk.columns.map((c) => `${a}.${ident(pilotColumn(table, c))} IS NOT NULL`).join(' AND '));
        continue;
      }
      const p = this.nextAlias();
      const rhs = pilotList(parent, p, fk.refColumns);
      parts.push(
        `(${lhs}) IN (SELECT ${rhs} FROM ${qualified(parent.source.schema, parent.source.name)} ${p} WHERE ${this.predicate(parent, p, inner)})`,
      );
    }
    if (select.referenced) parts.push(this.referenced(table, a, inner));
    return parts.length === 0 ? 'TRUE' : parts.map((s) => `(${s})`).join(' AND ');
  }

  /**
   * Every row of `t` is in scope: no `where`, not `referenced`, and each parent it follows is itself
   * wholly in scope, through a foreign key PostgreSQL enforces on NOT NULL columns (so every row has
   * that parent). A cycle of follows proves nothing: false.
   */
  private selectsEvery(t: ResolvedTable, seen: string[]): boolean {
    if (seen.includes(t.name)) return false;
    const select = t.spec.select as { where?: unknown[]; referenced?: boolean };
    if (select.where?.length || select.referenced) return false;
    return t.follow.every((fk) => {
      const parent = this.byName.get(fk.refTable)!;
      const notNull = fk.columns.every((c) => t.source.columns.find((x) => x.name === c)?.notNull === true);
      return notNull && trusted(fk) && !followsIntoProduction(parent, t, fk) && this.selectsEvery(parent, [...seen, t.name]);
    });
  }

  /**
   * Rows that some moving row of another plan table references and, for a self-referencing table, the
   * rows those reference in turn through its own FKs (a manager's manager), up the whole chain.
   */
  private referenced(table: ResolvedTable, a: string, stack: string[]): string {
    if (selfReferences(table).length === 0) return this.referencedByOthers(table, a, stack);
    const closure = closureSql(
      table,
      qualified(table.source.schema, table.source.name),
      (x) => this.referencedByOthers(table, x, stack),
      () => this.nextAlias(),
      true,
    );
    return `(${pilotList(table, a, table.key)}) IN (${closure})`;
  }

  /** Rows that some moving row of another plan table references (one semi-join per referenced key). */
  private referencedByOthers(table: ResolvedTable, a: string, stack: string[]): string {
    const byLhs = new Map<string, string[]>();
    for (const child of this.resolved.tables) {
      if (child.name === table.name) continue;
      for (const fk of child.source.foreignKeys.filter((f) => f.refTable === table.name)) {
        const c = this.nextAlias();
        const lhs = pilotList(table, a, fk.refColumns);
        const rhs = pilotList(child, c, fk.columns);
        byLhs.set(lhs, [
          ...(byLhs.get(lhs) ?? []),
          `SELECT ${rhs} FROM ${qualified(child.source.schema, child.source.name)} ${c} WHERE ${this.predicate(child, c, stack)}`,
        ]);
      }
    }
    const parts = [...byLhs].map(([lhs, selects]) => `(${lhs}) IN (${selects.join(' UNION ALL ')})`);
    return parts.length === 0 ? 'FALSE' : parts.join(' OR ');
  }
}

/** A foreign key PostgreSQL enforces on every row (validated, on every partition). */
const trusted = (fk: ForeignKey) => fk.validated && !fk.missingOn?.length;

/**
 * A kept key means the same row in production, a matched natural key finds it there: a child may
 * follow such a parent already in production. A new-id parent must move. A child's `followMoved`
 * FK follows only parents that move, whatever their ids.
 */
export const followsIntoProduction = (parent: ResolvedTable, child: ResolvedTable, fk: ForeignKey) =>
  (parent.spec.ids === 'keep' || parent.spec.ids === 'match') && !child.followMoved.includes(fk);
