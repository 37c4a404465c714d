// The bench's cutover plan, the variant this build can run, and the same selection written in plain SQL
// (what the raw COPY baseline moves).
import { checkPlanSchema, unsupportedFeatures, validatePlan, type Plan } from '../plan';

/** `lanes` (--lanes): parallelism {tables: 2, lanes}; absent, the plain number 2 (the plan as it always was). */
export function fullPlan(id: string, lanes?: number | null): Record<string, unknown> {
  return {
    version: 1,
    id,
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['bench-a', 'bench-b'], required: 1 },
    rehearsal: { mode: 'skip' },
    parallelism: lanes ? { tables: 2, lanes } : 2,
    tables: [
      { table: 'public.countries', ids: 'match', match: ['code'] },
      { table: 'public.customers', select: { all: true }, ids: 'new' },
      { table: 'public.orders', select: { follow: ['customer_id'] }, ids: 'new' },
      { table: 'public.order_items', select: { follow: ['order_id'] }, ids: 'keep' },
      { table: 'public.payments', select: { follow: ['order_id'] }, ids: 'keep' },
    ],
    subjects: { table: 'public.customers', key: 'id' },
    consent: { table: 'public.customer_consent', subject: 'customer_id', granted: [{ column: 'status', op: 'eq', value: 'granted' }] },
    testData: [{ table: 'public.customers', where: [{ column: 'email', op: 'like', value: '%@test.example' }], reason: 'test-account' }],
    erasure: { registers: [{ db: 'source', table: 'public.erasure_request', subject: 'customer_id' }] },
  };
}

export interface BenchPlan {
  plan: Plan; // validated, defaults applied
  variant: string; // "full" or "fallback: …"
  note: string | null; // the NOTE line when a fallback was needed
  preExisting: boolean; // Production gets colliding rows (only when ids new/match run)
  cleanup: { testData: boolean; consent: boolean; erasure: boolean };
  idModes: Record<string, string>;
}

/** The full plan when this build supports it; otherwise the full plan minus what `unsupportedFeatures` refuses. */
export function choosePlan(id: string, lanes?: number | null): BenchPlan {
  const full = fullPlan(id, lanes);
  const checked = checkPlanSchema(full);
  if (!checked.plan) throw new Error(`bench plan is invalid: ${JSON.stringify(checked.issues)}`);
  const paths = unsupportedFeatures(checked.plan).map((i) => i.path);
  const p = structuredClone(full) as Record<string, unknown> & { tables: Record<string, unknown>[] };
  const dropped: string[] = [];
  const idsFallback = paths.some((x) => /^tables\[\d+\]\.ids$/.test(x));
  if (idsFallback) {
    // All-or-nothing: every table keeps its ids and Production has no colliding rows at all.
    for (const t of p.tables) {
      if (t.ids !== 'keep') dropped.push(`ids ${String(t.ids)} on ${String(t.table).replace('public.', '')}`);
      t.ids = 'keep';
      delete t.match;
    }
  }
  const drop = (key: string) => {
    if (p[key] !== undefined) dropped.push(key);
    delete p[key];
  };
  if (paths.includes('subjects')) ['subjects', 'consent', 'erasure'].forEach(drop);
  for (const key of ['consent', 'testData', 'erasure']) if (paths.includes(key)) drop(key);
  const rest = paths.filter((x) => !/^tables\[\d+\]\.ids$/.test(x) && !['subjects', 'consent', 'testData', 'erasure'].includes(x));
  if (rest.length > 0) throw new Error(`bench plan uses features this build refuses: ${rest.join(', ')}`);

  const plan = validatePlan(p); // throws if the variant is still refused
  const variant = dropped.length === 0 ? 'full' : `fallback: without ${dropped.join(', ')}`;
  const note =
    dropped.length === 0
      ? null
      : `NOTE: plan variant: ${variant} (not supported by this build yet)` +
        (idsFallback ? '; ids keep into a Production without pre-existing colliding rows' : '') +
        '; the raw baseline selects the same rows. The full plan is used automatically once supported.';
  return {
    plan,
    variant,
    note,
    preExisting: !idsFallback,
    cleanup: { testData: p.testData !== undefined, consent: p.consent !== undefined, erasure: p.erasure !== undefined },
    idModes: Object.fromEntries(p.tables.map((t) => [String(t.table).replace('public.', ''), String(t.ids)])),
  };
}

export interface RawSelect {
  table: string;
  level: number; // FK level: tables of one level load in parallel
  sql: string; // SELECT of the rows cutover moves, in the table's column order
}

/** The customers the chosen plan moves, as a condition on `alias` (a customers row). */
export function movingCustomers(bp: BenchPlan, alias: string): string {
  const p: string[] = ['TRUE'];
  if (bp.cleanup.testData) p.push(`${alias}.email NOT LIKE '%@test.example'`);
  if (bp.cleanup.consent) p.push(`EXISTS (SELECT 1 FROM customer_consent k WHERE k.customer_id = ${alias}.id AND k.status = 'granted')`);
  if (bp.cleanup.erasure) p.push(`NOT EXISTS (SELECT 1 FROM erasure_request e WHERE e.customer_id = ${alias}.id)`);
  return p.join(' AND ');
}

/** The rows the chosen plan moves, expressed directly in SQL (ids as in the Pilot). */
export function rawSelects(bp: BenchPlan): RawSelect[] {
  const moving = movingCustomers(bp, 'c');
  const orders = `SELECT o.id FROM orders o WHERE o.customer_id IN (SELECT c.id FROM customers c WHERE ${moving})`;
  return [
    {
      table: 'countries',
      level: 0,
      sql: `SELECT x.* FROM countries x WHERE x.id IN (SELECT c.country_id FROM customers c WHERE ${moving})`,
    },
    { table: 'customers', level: 1, sql: `SELECT c.* FROM customers c WHERE ${moving}` },
    { table: 'orders', level: 2, sql: `SELECT o.* FROM orders o WHERE o.customer_id IN (SELECT c.id FROM customers c WHERE ${moving})` },
    { table: 'order_items', level: 3, sql: `SELECT i.* FROM order_items i WHERE i.order_id IN (${orders})` },
    { table: 'payments', level: 3, sql: `SELECT y.* FROM payments y WHERE y.order_id IN (${orders})` },
  ];
}
