// Cleanup's cascade on long chains, on real PostgreSQL: a self-referencing tree whose root is test
// data leaves every descendant behind (in the dry run and in the real cleanup), however deep; a
// chain the rounds cannot settle fails loudly, naming its tables, instead of stopping half done.
import { MockActivityEnvironment } from '@temporalio/testing';
import { cleanup } from '../activities/cleanup';
import { scopeFilter } from '../activities/db/cleanup-rules';
import { openContext } from '../activities/db/context';
import { runNames } from '../activities/db/staging';
import { preflight } from '../activities/preflight';
import { stage } from '../activities/stage';
import type { CleanupResult, StepInput } from '../common/results';
import { validatePlan } from '../plan/validate';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';

// node: a chain 1 ← 2 ← … ← 150 under the test root 1, and a small real tree 1001 ← … ← 1005.
// note follows node. a ⇄ b: a chain a1 ← b1 ← a2 ← b2 … 120 deep each, one level of each per round.
const SCHEMA = `
CREATE TABLE node (node_id int PRIMARY KEY, parent_id int REFERENCES node, label text NOT NULL);
CREATE TABLE note (note_id int PRIMARY KEY, node_id int NOT NULL REFERENCES node, body text);
CREATE TABLE a (a_id int PRIMARY KEY, b_id int, label text NOT NULL);
CREATE TABLE b (b_id int PRIMARY KEY, a_id int NOT NULL REFERENCES a);
ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b DEFERRABLE INITIALLY DEFERRED;
`;
const PILOT = `
INSERT INTO node SELECT g, NULLIF(g - 1, 0), CASE WHEN g = 1 THEN 'test-root' ELSE 'n' || g END FROM generate_series(1, 150) g;
INSERT INTO node SELECT 1000 + g, CASE WHEN g = 1 THEN NULL ELSE 999 + g END, 'real' || g FROM generate_series(1, 5) g;
INSERT INTO note VALUES (1, 1003, 'kept'), (2, 77, 'under the test tree');
BEGIN;
INSERT INTO a SELECT g, NULLIF(g - 1, 0), CASE WHEN g = 1 THEN 'test-root' ELSE 'a' || g END FROM generate_series(1, 120) g;
INSERT INTO b SELECT g, g FROM generate_series(1, 120) g;
COMMIT;
`;

const base = uniqueName('cutover_casc');
let prod: string;

beforeAll(async () => {
  process.env.CUTOVER_DB_PILOT = await createDb(`${base}_pilot`, SCHEMA + PILOT);
  prod = await createDb(`${base}_prod`, SCHEMA);
  process.env.CUTOVER_DB_PRODUCTION = prod;
}, 60000);

afterAll(async () => {
  await dropDb(`${base}_pilot`);
  await dropDb(`${base}_prod`);
});

const testRoot = (table: string) => ({ table, where: [{ column: 'label', op: 'eq', value: 'test-root' }], reason: 'test-tree' });
const plan = (id: string, tables: Record<string, unknown>[], testData: Record<string, unknown>[]) =>
  validatePlan({
    version: 1,
    id,
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['bob'], required: 1 },
    tables,
    testData,
  });
const treePlan = (id: string) =>
  plan(
    id,
    [
      { table: 'node', select: { all: true } },
      { table: 'note', select: { follow: ['node_id'] } },
    ],
    [testRoot('node')],
  );

const TREE_LEFT_BEHIND = {
  'public.node': { 'test-tree': 1, 'parent-left-behind:public.node': 149 },
  'public.note': { 'parent-left-behind:public.node': 1 },
};

test('a 150-deep self-referencing chain under test data is left behind whole, in the dry run', async () => {
  const dry = await preflight({ plan: treePlan('casc-dry') });
  expect(Object.fromEntries(dry.tables.map((t) => [t.table, t.leftBehind]))).toEqual(TREE_LEFT_BEHIND);
  expect(dry.tables.find((t) => t.table === 'public.node')?.toMove).toBe(5);
});

test('… and in the real cleanup, every descendant in the manifest with parent-left-behind', async () => {
  const input: StepInput = { plan: treePlan('casc-run'), runKey: 'cascrun00001', workflowId: 'cutover-casc-run', runId: 'r1' };
  const env = new MockActivityEnvironment();
  await env.run(stage, input);
  const result = (await env.run(cleanup, input)) as CleanupResult;
  expect(result.leftBehind).toEqual(TREE_LEFT_BEHIND);
  // Each row under its own chain, however deep the self-reference: one link for it, then the root.
  expect(result.rootCauses).toEqual({
    'public.node': {
      'test-tree': { 'test-tree': 1 },
      'parent-left-behind:public.node': { 'parent-left-behind:public.node ← test-tree': 149 },
    },
    'public.note': { 'parent-left-behind:public.node': { 'parent-left-behind:public.node ← test-tree': 1 } },
  });
  const manifest = await rows<{ k: string }>(
    prod,
    "SELECT string_agg(key->>0, ',' ORDER BY (key->>0)::int) AS k FROM cutover.manifest WHERE run_key = $1 AND table_name = 'public.node' AND reason = 'parent-left-behind:public.node'",
    [input.runKey],
  );
  expect(manifest[0].k).toBe(Array.from({ length: 149 }, (_, i) => i + 2).join(','));
  const staged = await rows<{ k: string }>(
    prod,
    "SELECT string_agg(node_id::text, ',' ORDER BY node_id) AS k FROM cutover_stage_cascrun00001.t0_node",
  );
  expect(staged[0].k).toBe('1001,1002,1003,1004,1005');
}, 120000);

test('a chain the cascade cannot settle within its rounds fails, naming the tables still changing', async () => {
  const cyclePlan = plan(
    'casc-cycle',
    [
      { table: 'a', select: { all: true } },
      { table: 'b', select: { all: true } },
    ],
    [testRoot('a')],
  );
  await expect(preflight({ plan: cyclePlan })).rejects.toMatchObject({
    type: 'PlanError',
    message: expect.stringMatching(/cleanup cascade did not settle in 100 rounds: rows of public\.a, public\.b were still being removed/),
  });
});

test('so does the scope filter, here given a single round for a row it must remove', async () => {
  const input: StepInput = { plan: treePlan('casc-scope'), runKey: 'cascscope001', workflowId: 'cutover-casc-scope', runId: 'r1' };
  await new MockActivityEnvironment().run(stage, input);
  const ctx = await openContext(input.plan);
  try {
    // A note whose node neither moves nor exists in production: the scope filter removes it.
    await ctx.target.query('INSERT INTO cutover_stage_cascscope001.t1_note VALUES (99, 9999, NULL)');
    await expect(scopeFilter(ctx.target, ctx.resolved, runNames(input.runKey), 1)).rejects.toMatchObject({
      type: 'PlanError',
      message: expect.stringContaining('scope filter did not settle in 1 round: rows of public.note were still being removed'),
    });
    expect((await scopeFilter(ctx.target, ctx.resolved, runNames(input.runKey)))['public.note']).toBe(2);
  } finally {
    await ctx.close();
  }
}, 120000);
