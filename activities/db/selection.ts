// SQL that picks a table's rows in scope on the source. COPY (query) cannot take bind parameters, so
// values are bound into transaction-local settings (set_config($1,$2,true)) and read back with a cast
// to the column's type: still never interpolated into SQL text.
import type { Client } from 'pg';
import { ident, qualified } from './connect';
import type { Resolved, ResolvedTable } from './resolve';
import { ResolveError } from './resolve';

type Scalar = string | number | boolean;
interface Condition {
  column: string;
  op: string;
  value?: Scalar | Scalar[] | null;
}

export class Selection {
  readonly params: string[] = [];
  private alias = 0;
  private readonly byName: Map<string, ResolvedTable>;

  constructor(private readonly resolved: Resolved) {
    this.byName = new Map(resolved.tables.map((t) => [t.name, t]));
  }

  /** SELECT of the given columns (default: the copied ones) of the rows in scope. */
  rowsSql(table: ResolvedTable, columns: string[] = table.columns.map((c) => c.name)): string {
    const a = this.nextAlias();
    const cols = columns.map((c) => `${a}.${ident(c)}`).join(', ');
    return `SELECT ${cols} FROM ${qualified(table.source.schema, table.source.name)} ${a} WHERE ${this.predicate(table, a, [])}`;
  }

  private nextAlias(): string {
    return `t${this.alias++}`;
  }

  private bind(value: string, cast: string): string {
    this.params.push(value);
    return `current_setting('cutover.p${this.params.length}')::${cast}`;
  }

  private predicate(table: ResolvedTable, a: string, stack: string[]): string {
    if (stack.includes(table.name)) {
      const path = [...stack, table.name].join(' → ');
      throw new ResolveError([{ path: `tables[${table.index}].select`, message: `selection depends on itself: ${path}` }]);
    }
    const inner = [...stack, table.name];
    const select = table.spec.select as Record<string, unknown>;
    const parts: string[] = [];
    for (const w of (select.where as Condition[] | undefined) ?? []) parts.push(this.condition(table, a, w));
    for (const fk of table.follow) {
      const parent = this.byName.get(fk.refTable)!;
      const p = this.nextAlias();
      const lhs = fk.columns.map((c) => `${a}.${ident(c)}`).join(', ');
      const rhs = fk.refColumns.map((c) => `${p}.${ident(c)}`).join(', ');
      parts.push(`(${lhs}) IN (SELECT ${rhs} FROM ${qualified(parent.source.schema, parent.source.name)} ${p} WHERE ${this.predicate(parent, p, inner)})`);
    }
    if (select.referenced) parts.push(this.referenced(table, a, inner));
    return parts.length === 0 ? 'TRUE' : parts.map((s) => `(${s})`).join(' AND ');
  }

  /** Rows that some moving row of another plan table references. */
  private referenced(table: ResolvedTable, a: string, stack: string[]): string {
    const alternatives: string[] = [];
    for (const child of this.resolved.tables) {
      if (child.name === table.name) continue;
      for (const fk of child.source.foreignKeys.filter((f) => f.refTable === table.name)) {
        const c = this.nextAlias();
        const lhs = fk.refColumns.map((col) => `${a}.${ident(col)}`).join(', ');
        const rhs = fk.columns.map((col) => `${c}.${ident(col)}`).join(', ');
        alternatives.push(`(${lhs}) IN (SELECT ${rhs} FROM ${qualified(child.source.schema, child.source.name)} ${c} WHERE ${this.predicate(child, c, stack)})`);
      }
    }
    return alternatives.length === 0 ? 'FALSE' : alternatives.join(' OR ');
  }

  private condition(table: ResolvedTable, a: string, w: Condition): string {
    const col = `${a}.${ident(w.column)}`;
    const type = table.source.columns.find((c) => c.name === w.column)!.type;
    const v = w.value;
    switch (w.op) {
      case 'isNull':
        return `${col} IS NULL`;
      case 'notNull':
        return `${col} IS NOT NULL`;
      case 'in':
        return `${col} = ANY(${this.bindArray(v as Scalar[], type)})`;
      case 'notIn':
        return `${col} IS NULL OR NOT (${col} = ANY(${this.bindArray(v as Scalar[], type)}))`;
      case 'like':
        return `${col}::text LIKE ${this.bind(String(v), 'text')}`;
      case 'notLike':
        return `${col} IS NULL OR ${col}::text NOT LIKE ${this.bind(String(v), 'text')}`;
      default: {
        const sqlOp = { eq: '=', ne: 'IS DISTINCT FROM', lt: '<', lte: '<=', gt: '>', gte: '>=' }[w.op];
        if (!sqlOp) throw new Error(`unknown op ${w.op}`);
        return `${col} ${sqlOp} ${this.bind(String(v), type)}`;
      }
    }
  }

  private bindArray(values: Scalar[], type: string): string {
    // A text[] literal built by PostgreSQL itself from JSON, then cast element-wise to the column type.
    return `ARRAY(SELECT jsonb_array_elements_text(${this.bind(JSON.stringify(values), 'jsonb')})::${type})`;
  }
}

/** Bind the selection's values into the current transaction (must be inside BEGIN). */
export async function bindParams(client: Client, params: string[]): Promise<void> {
  if (params.length === 0) return;
  await client.query(`SELECT set_config('cutover.p' || i, v, true) FROM unnest($1::text[]) WITH ORDINALITY AS x(v, i)`, [params]);
}
