// Personal data stays in the data: PostgreSQL's DETAIL (and some messages) quote row values —
// `Key (email)=(ann@example.com) already exists.`, `Failing row contains (7, ann@…, …)`,
// `invalid input syntax for type integer: "ann"`. What leaves an activity as a message (status,
// the step history, the evidence, the worker log) is reduced here; the full text travels only in
// the failure's details, a payload the codec encrypts (activities/db/pg-errors.ts).
//
// The rule: column names, table and constraint names are kept; values are kept only when they are
// keys — the columns of the table's primary key (a unique violation on it), or a foreign key's
// columns pointing at the referenced table's primary key (those values are that table's keys).
// Whether a constraint is one of those is read from the catalog by the caller (`keyValues`); any
// other value is replaced by `…`. A DETAIL of an integrity or data error (SQLSTATE classes 23, 22)
// that has none of the known shapes is withheld whole: its shape is unknown, so are its values.
// Pure.

export const WITHHELD = '…';
const DETAIL_WITHHELD = "withheld (it may quote row values; the full text is in the failure's encrypted details)";

/** SQLSTATE classes whose DETAIL or message quote data: integrity (23) and data exceptions (22). */
const QUOTES_DATA = ['22', '23'];

const KEY_SHAPES: RegExp[] = [
  /^Key \((.+?)\)=\(([\s\S]*)\) (already exists\.)$/,
  /^Key \((.+?)\)=\(([\s\S]*)\) (is not present in table [\s\S]*)$/,
  /^Key \((.+?)\)=\(([\s\S]*)\) (is still referenced from table [\s\S]*)$/,
];
const EXCLUSION = /^Key \((.+?)\)=\([\s\S]*\) conflicts with existing key \((.+?)\)=\([\s\S]*\)\.$/;
const FAILING_ROW = /^Failing row contains \([\s\S]*\)\.?$/;

/**
 * A DETAIL as it may be shown: key shapes keep their column names (and values only when
 * `keyValues`), a failing row keeps nothing of the row, anything else of classes 22/23 is withheld.
 */
export function reduceDetail(detail: string, code: string, keyValues: boolean, constraint?: string): string {
  for (const shape of KEY_SHAPES) {
    const m = shape.exec(detail);
    if (m) return `Key (${m[1]})=(${keyValues ? m[2] : WITHHELD}) ${m[3]}`;
  }
  const ex = EXCLUSION.exec(detail);
  if (ex) return `Key (${ex[1]})=(${WITHHELD}) conflicts with existing key (${ex[2]})=(${WITHHELD}).`;
  if (FAILING_ROW.test(detail)) return `Failing row contains (${WITHHELD})${constraint ? `: it breaks constraint ${constraint}` : ''}.`;
  return QUOTES_DATA.includes(code.slice(0, 2)) ? DETAIL_WITHHELD : detail;
}

/** A server message of class 22 may end with the offending value (`…: "ann"`): cut it. */
export function reduceMessage(message: string, code: string): string {
  if (code.slice(0, 2) !== '22') return message;
  return message.replace(/: "[\s\S]*"$/, `: "${WITHHELD}"`);
}

/**
 * Any text (an error message that is not a PostgreSQL error, e.g. pg_restore's output quoting the
 * server) with the known value-carrying shapes reduced: a safety net for what leaves an activity.
 */
export function withholdValuesIn(text: string): string {
  return text
    .replace(
      /Key \(([^()\n]+?)\)=\([^\n]*?\) (already exists|is not present in table|is still referenced from table|conflicts with existing key)/g,
      `Key ($1)=(${WITHHELD}) $2`,
    )
    .replace(/conflicts with existing key \(([^()\n]+?)\)=\([^\n]*?\)\./g, `conflicts with existing key ($1)=(${WITHHELD}).`)
    .replace(/Failing row contains \([^\n]*\)/g, `Failing row contains (${WITHHELD})`);
}
