/**
 * Table and column names as PostgreSQL writes them. A plan names a table the way `psql` prints it
 * (`public.customer`, `"Sales.EU"."Order Items"`, `public."Kunde"`): unquoted parts fold to lower
 * case, quoted parts are taken as they are ("" is a quote). Everything past the plan works with the
 * structured {schema, name} pair and one canonical spelling of it (`tableKey`), so a dot or a quote
 * inside a name can never be mistaken for a separator. Pure: imported inside the workflow sandbox.
 */

export interface TableRef {
  schema: string;
  name: string;
}

/** PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1). */
export const MAX_IDENT_BYTES = 63;

/** UTF-8 length without Buffer/TextEncoder (the workflow sandbox has neither for certain). */
export function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** Why `s` cannot be an identifier (column, schema or table part), or null. */
export function identifierProblem(s: string): string | null {
  if (s.length === 0) return 'must not be empty';
  if (s.includes('\u0000')) return 'must not contain a NUL character';
  if (utf8Length(s) > MAX_IDENT_BYTES) return `is longer than ${MAX_IDENT_BYTES} bytes (PostgreSQL would truncate it)`;
  return null;
}

const SIMPLE = /^[a-z_][a-z0-9_$]*$/;

/** An identifier as PostgreSQL prints it: bare when it may be, double-quoted otherwise. */
export function quoteIfNeeded(s: string): string {
  return SIMPLE.test(s) ? s : `"${s.replace(/"/g, '""')}"`;
}

/** The one spelling of a table used as a map key, in messages, in cutover.manifest.table_name. */
export function tableKey(t: TableRef): string {
  return `${quoteIfNeeded(t.schema)}.${quoteIfNeeded(t.name)}`;
}

/**
 * Parse `name`, `schema.name`, `"Quoted"."Name"` and mixes. Unqualified names mean `public`
 * (PostgreSQL's default search_path). Returns the reason it is not a table name instead of throwing.
 */
export function parseTableName(input: string): TableRef | string {
  const parts: string[] = [];
  let i = 0;
  const s = input;
  for (;;) {
    if (s[i] === '"') {
      let part = '';
      i++;
      for (;;) {
        if (i >= s.length) return 'has an unterminated quoted identifier';
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += s[i++];
      }
      parts.push(part);
    } else {
      const m = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(s.slice(i));
      if (!m) return i >= s.length ? 'ends where a name is expected' : `has an unexpected character ${JSON.stringify(s[i])} at position ${i + 1} (quote names with spaces, dots or capitals: "Order Items")`;
      // Like PostgreSQL in a multibyte encoding: only ASCII letters fold.
      parts.push(m[0].replace(/[A-Z]/g, (c) => c.toLowerCase()));
      i += m[0].length;
    }
    if (i === s.length) break;
    if (s[i] !== '.') return `has an unexpected character ${JSON.stringify(s[i])} at position ${i + 1}`;
    i++;
  }
  if (parts.length > 2) return 'has more than two parts (write schema.table; quote a name that contains a dot: "Sales.EU")';
  for (const p of parts) {
    const why = identifierProblem(p);
    if (why) return `has a part that ${why}`;
  }
  return parts.length === 1 ? { schema: 'public', name: parts[0] } : { schema: parts[0], name: parts[1] };
}

/** The canonical key of a plan's table name; the input itself when it does not parse (refused elsewhere). */
export function planTableKey(input: string): string {
  const r = parseTableName(input);
  return typeof r === 'string' ? input : tableKey(r);
}
