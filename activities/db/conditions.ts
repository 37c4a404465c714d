// `where` conditions as SQL. COPY (query) cannot take bind parameters, so values are bound into
// transaction-local settings (set_config($1,$2,true)) and read back with a cast to the column's
// type: values are never interpolated into SQL text.
import type { Client } from 'pg';
import { ident } from './connect';

type Scalar = string | number | boolean;
export interface Condition {
  column: string;
  op: string;
  value?: Scalar | Scalar[] | null;
}

export class Binder {
  readonly params: string[] = [];

  bind(value: string, cast: string): string {
    this.params.push(value);
    return `current_setting('cutover.p${this.params.length}')::${cast}`;
  }

  bindArray(values: Scalar[], type: string): string {
    return `ARRAY(SELECT jsonb_array_elements_text(${this.bind(JSON.stringify(values), 'jsonb')})::${type})`;
  }

  /** Bind the values into the current transaction (must be inside BEGIN). */
  async apply(client: Client): Promise<void> {
    if (this.params.length === 0) return;
    await client.query(`SELECT set_config('cutover.p' || i, v, true) FROM unnest($1::text[]) WITH ORDINALITY AS x(v, i)`, [this.params]);
  }
}

/** `ne`, `notIn` and `notLike` keep NULLs (a NULL is not equal to the value), unlike bare SQL. */
export function conditionSql(b: Binder, alias: string, w: Condition, typeOf: (column: string) => string): string {
  const col = `${alias}.${ident(w.column)}`;
  const type = typeOf(w.column);
  const v = w.value;
  switch (w.op) {
    case 'isNull':
      return `${col} IS NULL`;
    case 'notNull':
      return `${col} IS NOT NULL`;
    case 'in':
      return `${col} = ANY(${b.bindArray(v as Scalar[], type)})`;
    case 'notIn':
      return `(${col} IS NULL OR NOT (${col} = ANY(${b.bindArray(v as Scalar[], type)})))`;
    case 'like':
      return `${col}::text LIKE ${b.bind(String(v), 'text')}`;
    case 'notLike':
      return `(${col} IS NULL OR ${col}::text NOT LIKE ${b.bind(String(v), 'text')})`;
    default: {
      const sqlOp = { eq: '=', ne: 'IS DISTINCT FROM', lt: '<', lte: '<=', gt: '>', gte: '>=' }[w.op];
      if (!sqlOp) throw new Error(`unknown op ${w.op}`);
      return `${col} ${sqlOp} ${b.bind(String(v), type)}`;
    }
  }
}

export const allConditions = (b: Binder, alias: string, ws: Condition[], typeOf: (c: string) => string): string =>
  ws.length === 0 ? 'TRUE' : ws.map((w) => `(${conditionSql(b, alias, w, typeOf)})`).join(' AND ');
