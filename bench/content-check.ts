// Correctness by content, for every tool the bench times (cutover itself and its peers): what the tool
// added to Production must equal, row for row, the Pilot rows the plan selects. Rows are compared by
// content with each parent's content in place of its id — a remapped id is fine; a skipped row, a child
// pointing at the wrong parent, a test account, an erased or unconsented customer, or a pre-existing
// Production row changed or deleted is not. Written apart from cutover's code (plain SQL over the
// bench's own schema), so it can judge cutover too.
//
// A table's fingerprint is its row count and two seeded sums of hashtextextended over each row's content:
// a multiset, so "after − before" is exactly what the tool added and removed.
import { Client } from 'pg';
import type { RawSelect } from './plan';

/** Each table's content, parents joined in by their own content; `pick` narrows the table's own rows. */
function contentQuery(table: string, pick: string): string {
  const fp = (row: string, from: string) =>
    `SELECT count(*)::text AS n, coalesce(sum(hashtextextended(${row}::text, 0)::numeric), 0)::text AS h1,
            coalesce(sum(hashtextextended(${row}::text, 1)::numeric), 0)::text AS h2 FROM ${from} WHERE ${pick}`;
  switch (table) {
    case 'countries':
      return fp('row(x.code, x.name)', 'countries x');
    case 'customers':
      return fp('row(x.email, x.created_at, x.profile, k.code)', 'customers x JOIN countries k ON k.id = x.country_id');
    case 'orders':
      return fp('row(c.email, x.total, x.placed_at)', 'orders x JOIN customers c ON c.id = x.customer_id');
    case 'order_items':
      return fp(
        'row(c.email, o.placed_at, o.total, x.sku, x.qty, x.price)',
        'order_items x JOIN orders o ON o.id = x.order_id JOIN customers c ON c.id = o.customer_id',
      );
    case 'payments':
      return fp(
        'row(c.email, o.placed_at, o.total, x.amount, x.method)',
        'payments x JOIN orders o ON o.id = x.order_id JOIN customers c ON c.id = o.customer_id',
      );
    default:
      throw new Error(`content check: no content rule for table ${table}`);
  }
}

export interface Fingerprint {
  n: bigint;
  h1: bigint;
  h2: bigint;
}
export type Fingerprints = Record<string, Fingerprint>;

async function fingerprints(url: string, picks: Record<string, string>, params: unknown[] = []): Promise<Fingerprints> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const out: Fingerprints = {};
    for (const [table, pick] of Object.entries(picks)) {
      const r = (await c.query<{ n: string; h1: string; h2: string }>(contentQuery(table, pick), params)).rows[0];
      out[table] = { n: BigInt(r.n), h1: BigInt(r.h1), h2: BigInt(r.h2) };
    }
    return out;
  } finally {
    await c.end();
  }
}

/** Every row of the plan's tables in a Production database (before and after a tool runs). */
export function productionFingerprints(url: string, tables: readonly string[]): Promise<Fingerprints> {
  return fingerprints(url, Object.fromEntries(tables.map((t) => [t, 'TRUE'])));
}

/** Country codes Production already holds: ids match merges those, so they are not expected as new rows. */
export async function productionCodes(url: string): Promise<string[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ code: string }>('SELECT code FROM countries')).rows.map((r) => r.code);
  } finally {
    await c.end();
  }
}

/** What the plan should add: the Pilot rows the plan selects (`selects`), countries Production lacks. */
export function expectedFingerprints(pilotUrl: string, selects: readonly RawSelect[], existingCodes: string[]): Promise<Fingerprints> {
  const picks: Record<string, string> = {};
  for (const s of selects) {
    const own = `x.id IN (SELECT s.id FROM (${s.sql}) s)`;
    picks[s.table] = s.table === 'countries' ? `${own} AND x.code <> ALL($1::text[])` : own;
  }
  // Only the countries query takes $1; the others ignore it, but pg refuses an unused parameter.
  return fingerprintsEach(pilotUrl, picks, existingCodes);
}

async function fingerprintsEach(url: string, picks: Record<string, string>, codes: string[]): Promise<Fingerprints> {
  const out: Fingerprints = {};
  for (const [table, pick] of Object.entries(picks))
    Object.assign(out, await fingerprints(url, { [table]: pick }, table === 'countries' ? [codes] : []));
  return out;
}

export interface ContentVerdict {
  correct: boolean;
  /** Per table where the tool's result differs: rows expected to be added, rows it added (after − before). */
  wrong: Record<string, { expectedRows: number; addedRows: number; sameContent: boolean }>;
}

/** Judges a tool's result: after − before must equal expected, table by table. */
export function judge(expected: Fingerprints, before: Fingerprints, after: Fingerprints): ContentVerdict {
  const wrong: ContentVerdict['wrong'] = {};
  for (const t of Object.keys(expected)) {
    const e = expected[t];
    const b = before[t] ?? { n: 0n, h1: 0n, h2: 0n };
    const a = after[t];
    if (!a) throw new Error(`content check: no fingerprint of ${t} after the run`);
    const added = { n: a.n - b.n, h1: a.h1 - b.h1, h2: a.h2 - b.h2 };
    const same = added.h1 === e.h1 && added.h2 === e.h2;
    if (added.n !== e.n || !same) wrong[t] = { expectedRows: Number(e.n), addedRows: Number(added.n), sameContent: same };
  }
  return { correct: Object.keys(wrong).length === 0, wrong };
}

/** One line for the bench's table: "correct" or what is wrong, per table. */
export function verdictNote(v: ContentVerdict): string {
  if (v.correct) return 'correct by content';
  return (
    'WRONG by content: ' +
    Object.entries(v.wrong)
      .map(([t, w]) => `${t} added ${w.addedRows} of ${w.expectedRows}${w.addedRows === w.expectedRows ? ' (other content)' : ''}`)
      .join(', ')
  );
}

/** Runs `tool` into `target` and judges what it added there by content (`check: false`: only runs it). */
export async function judged<T>(
  check: boolean,
  pilot: string,
  target: string,
  selects: readonly RawSelect[],
  tables: readonly string[],
  tool: () => Promise<T>,
): Promise<{ value: T; verdict: ContentVerdict | null }> {
  if (!check) return { value: await tool(), verdict: null };
  const before = await productionFingerprints(target, tables);
  const expected = await expectedFingerprints(pilot, selects, await productionCodes(target));
  const value = await tool();
  return { value, verdict: judge(expected, before, await productionFingerprints(target, tables)) };
}

/** A tool that creates its own schema in an empty database (pgcopydb): judged with nothing before. */
export async function judgeFromEmpty(
  pilot: string,
  target: string,
  selects: readonly RawSelect[],
  tables: readonly string[],
): Promise<ContentVerdict> {
  const expected = await expectedFingerprints(pilot, selects, []);
  return judge(expected, {}, await productionFingerprints(target, tables));
}
