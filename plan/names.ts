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
  const hidden = invisibleCharacter(s);
  if (hidden) return `must not contain ${hidden}`;
  if (utf8Length(s) > MAX_IDENT_BYTES) return `is longer than ${MAX_IDENT_BYTES} bytes (PostgreSQL would truncate it)`;
  return null;
}

/** Control and format characters: they print as nothing (zero-width space) or reorder text (bidi overrides). */
const INVISIBLE = /[\p{Cc}\p{Cf}]/u;

/** The first invisible character in `s`, described (`an invisible character U+200B at position 4`), or null. */
export function invisibleCharacter(s: string): string | null {
  const m = INVISIBLE.exec(s);
  if (!m) return null;
  const code = m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `an invisible or control character U+${code} at position ${m.index + 1}`;
}

/** Latin look-alikes from Cyrillic and Greek (the common confusables), for lookAlike(). */
const CONFUSABLE: Record<string, string> = {
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ї: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  һ: 'h',
  ԛ: 'q',
  ԝ: 'w',
  ӏ: 'l',
  α: 'a',
  β: 'b',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ϲ: 'c',
};

/** A name reduced to how it looks: compatibility forms folded (ｂｏｂ → bob), case and look-alike letters mapped to Latin. */
export function lookAlike(s: string): string {
  return Array.from(s.normalize('NFKC').toLowerCase(), (c) => CONFUSABLE[c] ?? c).join('');
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
      if (!m)
        return i >= s.length
          ? 'ends where a name is expected'
          : `has an unexpected character ${JSON.stringify(s[i])} at position ${i + 1} (quote names with spaces, dots or capitals: "Order Items")`;
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
