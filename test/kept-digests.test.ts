// The kept keys' digest taken without a pass over every staged row (activities/db/drift.ts
// keptDigestsFrom: stage's in-scope digest less the removed keys that do not count as kept) must
// equal the full pass (keptDigests) on the same staging, whatever cleanup removed and why. Generated
// cases (seeded, so a failure reproduces by its seed) over every cause: test data, no consent, an
// erasure request, a self-reference and a child following a removed parent, retention, a referenced
// row nobody needs any more; and a table whose key holds a foreign-key column (the full pass, by
// rule). The real stage and cleanup activities on real PostgreSQL; the count is also checked by the
// test's own SQL against what is left in staging.
import { MockActivityEnvironment } from '@temporalio/testing';
import { cleanup } from '../activities/cleanup';
import { openContext } from '../activities/db/context';
import { keptDigests, keptDigestsFrom } from '../activities/db/drift';
import { runNames } from '../activities/db/staging';
import { stage } from '../activities/stage';
import type { CleanupResult, StageResult, StepInput } from '../common/results';
import { validatePlan } from '../plan/validate';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';

const SCHEMA = `
CREATE TABLE country (country_id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE person (person_id int PRIMARY KEY, email text NOT NULL, mentor_id int REFERENCES person, country_id int REFERENCES country);
CREATE TABLE consent (person_id int NOT NULL, granted boolean NOT NULL);
CREATE TABLE erasure_request (person_id int NOT NULL);
CREATE TABLE orders (order_id int PRIMARY KEY, person_id int NOT NULL REFERENCES person, placed date NOT NULL);
CREATE TABLE line (order_id int NOT NULL REFERENCES orders, line_no int NOT NULL, qty int NOT NULL, PRIMARY KEY (order_id, line_no));
`;

/** mulberry32: a small seeded generator, so each case is the same on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Pilot's rows for one seed: people (some test accounts, some mentored), consent, erasures, orders, lines. */
function pilotRows(seed: number): string {
  const r = rng(seed);
  const pick = (n: number) => 1 + Math.floor(r() * n);
  const people = 20 + pick(40);
  const sql: string[] = ["INSERT INTO country VALUES (1, 'a'), (2, 'b'), (3, 'unused');"];
  for (let p = 1; p <= people; p++) {
    const email = r() < 0.15 ? `p${p}@test.example` : `p${p}@example.com`;
    const mentor = p > 1 && r() < 0.3 ? String(pick(p - 1)) : 'NULL';
    sql.push(`INSERT INTO person VALUES (${p}, '${email}', ${mentor}, ${r() < 0.1 ? 'NULL' : pick(2)});`);
    if (r() < 0.85) sql.push(`INSERT INTO consent VALUES (${p}, ${r() < 0.9});`);
    if (r() < 0.1) sql.push(`INSERT INTO erasure_request VALUES (${p});`);
  }
  let order = 0;
  for (let p = 1; p <= people; p++)
    for (let k = pick(4) - 1; k > 0; k--) {
      order++;
      const age = r() < 0.2 ? '800 days' : `${pick(300)} days`;
      sql.push(`INSERT INTO orders VALUES (${order}, ${p}, now()::date - interval '${age}');`);
      for (let l = pick(3); l > 0; l--) sql.push(`INSERT INTO line VALUES (${order}, ${l}, ${pick(9)});`);
    }
  return sql.join('\n');
}

const plan = (id: string) =>
  validatePlan({
    version: 1,
    id,
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['bob'], required: 1 },
    tables: [
      { table: 'country', select: { referenced: true } },
      { table: 'person', select: { all: true } },
      { table: 'orders', select: { follow: ['person_id'] } },
      { table: 'line', select: { follow: ['order_id'] } },
    ],
    subjects: { table: 'person', key: 'person_id' },
    consent: { table: 'consent', subject: 'person_id', granted: [{ column: 'granted', op: 'eq', value: true }] },
    erasure: { registers: [{ db: 'source', table: 'erasure_request', subject: 'person_id' }] },
    testData: [{ table: 'person', where: [{ column: 'email', op: 'like', value: '%@test.example' }], reason: 'test-account' }],
    retention: [{ table: 'orders', column: 'placed', olderThan: 'P2Y', action: 'leave-behind' }],
    transforms: [{ table: 'person', column: 'email', fn: 'sha256' }],
  });

const base = uniqueName('cutover_kept');
afterAll(async () => {
  await dropDb(`${base}_pilot`);
  await dropDb(`${base}_prod`);
});

test.each([1, 2, 3, 4, 5, 6])(
  'seed %i: the derived kept digests equal the full pass, and their counts the staged rows plus those kept by cause',
  async (seed) => {
    process.env.CUTOVER_DB_PILOT = await createDb(`${base}_pilot`, SCHEMA + pilotRows(seed));
    const prod = await createDb(`${base}_prod`, SCHEMA);
    process.env.CUTOVER_DB_PRODUCTION = prod;
    const input: StepInput = {
      plan: plan(`kept-${seed}`),
      runKey: `kept${String(seed).padStart(8, '0')}`,
      workflowId: `cutover-kept-${seed}`,
      runId: 'r1',
    };
    const env = new MockActivityEnvironment();
    const staged = (await env.run(stage, input)) as StageResult;
    const cleaned = (await env.run(cleanup, input)) as CleanupResult;
    const ctx = await openContext(input.plan);
    try {
      const names = runNames(input.runKey);
      const full = await keptDigests(ctx.target, ctx.resolved, names);
      expect(cleaned.kept).toEqual(full);
      expect(await keptDigestsFrom(ctx.target, ctx.resolved, names, staged.digests)).toEqual(full);
      // Something was left behind for every cause this seed produced, and the counts add up by the test's own SQL.
      const schema = `cutover_stage_${input.runKey}`;
      for (const t of ctx.resolved.tables) {
        const [left] = await rows<{ n: number }>(prod, `SELECT count(*)::int AS n FROM ${schema}.t${t.index}_${t.name.split('.')[1]}`);
        const [kept] = await rows<{ n: number }>(
          prod,
          `SELECT count(*)::int AS n FROM ${schema}.g${t.index}
          WHERE regexp_replace(cutover_cause, '^.* ← ', '') IN ('erasure-request', 'no-consent', 'no-longer-referenced', 'retention')`,
        );
        expect(full[t.name].rows).toBe(left.n + kept.n);
      }
      const causes = new Set(Object.values(cleaned.leftBehind).flatMap((byReason) => Object.keys(byReason)));
      expect(causes.size).toBeGreaterThanOrEqual(3);
    } finally {
      await ctx.close();
      await dropDb(`${base}_pilot`);
      await dropDb(`${base}_prod`);
    }
  },
  120000,
);

test('a key holding a foreign-key column is never derived: a wrong in-scope digest changes nothing there', async () => {
  process.env.CUTOVER_DB_PILOT = await createDb(`${base}_pilot`, SCHEMA + pilotRows(7));
  process.env.CUTOVER_DB_PRODUCTION = await createDb(`${base}_prod`, SCHEMA);
  const input: StepInput = { plan: plan('kept-fk'), runKey: 'keptfk000001', workflowId: 'cutover-kept-fk', runId: 'r1' };
  const env = new MockActivityEnvironment();
  const staged = (await env.run(stage, input)) as StageResult;
  await env.run(cleanup, input);
  const ctx = await openContext(input.plan);
  try {
    const names = runNames(input.runKey);
    const wrong = Object.fromEntries(Object.entries(staged.digests ?? {}).map(([k, d]) => [k, { rows: d.rows + 1, digest: d.digest }]));
    const derived = await keptDigestsFrom(ctx.target, ctx.resolved, names, wrong);
    const full = await keptDigests(ctx.target, ctx.resolved, names);
    // line's key (order_id, line_no) holds its foreign key: the full pass; person's is derived (and so off by the one row).
    expect(derived['public.line']).toEqual(full['public.line']);
    expect(derived['public.person'].rows).toBe(full['public.person'].rows + 1);
  } finally {
    await ctx.close();
    await dropDb(`${base}_pilot`);
    await dropDb(`${base}_prod`);
  }
}, 120000);
