// Validation catches what it must: a published row altered behind the run's back is named by key
// (bucketed-hash localisation), a pre-existing production row changed is reported, and the
// failure is a non-retryable ValidationError. The steps run as activities, outside a workflow.
import { MockActivityEnvironment } from '@temporalio/testing';
import { cleanup } from '../activities/cleanup';
import { publish } from '../activities/publish';
import { stage } from '../activities/stage';
import type { PublishResult, StageResult, StepInput, ValidateResult } from '../common/results';
import { validate } from '../activities/validate';
import { validatePlan } from '../plan/validate';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, shopPlan } from './helpers/shop';

const base = uniqueName('cutover_val');
let prod: string;

beforeAll(async () => {
  process.env.CUTOVER_DB_PILOT = await createDb(`${base}_pilot`, SHOP_SCHEMA + SHOP_PILOT);
}, 60000);

beforeEach(async () => {
  prod = await createDb(`${base}_prod`, SHOP_SCHEMA + SHOP_PRODUCTION);
  process.env.CUTOVER_DB_PRODUCTION = prod;
});

afterAll(async () => {
  await dropDb(`${base}_pilot`);
  await dropDb(`${base}_prod`);
});

test('tampered rows are localised by key; with validation.preExisting: full, changed pre-existing rows are reported', async () => {
  const input: StepInput = {
    plan: validatePlan(shopPlan('val-tamper', { validation: { preExisting: 'full' } })),
    runKey: 'valtamper01',
    workflowId: 'cutover-val-tamper',
    runId: 'r1',
  };
  const env = new MockActivityEnvironment();
  const staged = (await env.run(stage, input)) as StageResult;
  await env.run(cleanup, input);
  const published = (await env.run(publish, input)) as PublishResult;
  const ok = (await env.run(validate, { ...input, publish: published, stage: staged })) as { ok: boolean };
  expect(ok.ok).toBe(true);

  // Behind the run's back: one published rental changes, one pre-existing customer changes.
  const [{ id }] = await rows<{ id: number }>(prod, 'SELECT max(rental_id) AS id FROM rental');
  await rows(prod, 'UPDATE rental SET amount = amount + 1 WHERE rental_id = $1', [id]);
  await rows(prod, "UPDATE customer SET email = 'changed@prod.example' WHERE email = 'p2@prod.example'");

  const failure = await env.run(validate, { ...input, publish: published, stage: staged }).then(
    () => null,
    (e) => e,
  );
  expect(failure).toMatchObject({ type: 'ValidationError', nonRetryable: true });
  const result = failure.details[0];
  const rental = result.tables.find((t: { table: string }) => t.table === 'public.rental');
  expect(rental.ok).toBe(false);
  expect(rental.differingKeys).toEqual([`(rental_id)=(${id})`]);
  const customer = result.tables.find((t: { table: string }) => t.table === 'public.customer');
  expect(customer.problems.join()).toContain('pre-existing production rows changed');
  expect(result.tables.find((t: { table: string }) => t.table === 'public.country').ok).toBe(true);
}, 120000);

test("by default (counts), production's own writes after publish are not validation failures; nor are its edits of published rows (named); a wrong publish still is", async () => {
  const input: StepInput = { plan: validatePlan(shopPlan('val-live')), runKey: 'vallive0001', workflowId: 'cutover-val-live', runId: 'r3' };
  const env = new MockActivityEnvironment();
  const staged = (await env.run(stage, input)) as StageResult;
  await env.run(cleanup, input);
  const published = (await env.run(publish, input)) as PublishResult;
  // The publish transaction's own counts are recorded: per relation, exactly what it inserted/updated.
  expect(published.preExisting).toBe('count');
  expect(published.tables.every((t) => t.preExistingChecksum === undefined)).toBe(true);
  const counts = Object.fromEntries(published.transactionCounts!.map((c) => [c.relation, [c.inserted, c.updated, c.deleted]]));
  const [{ n }] = await rows<{ n: number }>(prod, "SELECT count(*)::int AS n FROM customer WHERE email NOT LIKE '%@prod.example'");
  expect(counts['public.customer']).toEqual([n, 0, 0]);
  expect(counts['public.dept']).toEqual([2, 2, 0]); // the cycle-closing updates on its own rows
  expect(counts['cutover.published_keys'][0]).toBeGreaterThan(0); // the manifest and id map, in chunks
  expect(Object.keys(counts).filter((r) => r.startsWith('cutover.'))).toEqual(['cutover.published_keys']);

  // Production's application: a pre-existing customer changes, a row of its own arrives, an unrelated row goes.
  await rows(prod, "UPDATE customer SET email = 'changed@prod.example' WHERE email = 'p2@prod.example'");
  await rows(prod, "INSERT INTO customer (email, store_id, country_id) VALUES ('app@prod.example', 9, 10)");
  await rows(prod, 'DELETE FROM rental WHERE customer_id = 1 AND amount = 9.99');
  const ok = (await env.run(validate, { ...input, publish: published, stage: staged })) as {
    ok: boolean;
    tables: { preExistingBefore?: string }[];
  };
  expect(ok.ok).toBe(true);
  expect(ok.tables.every((t) => t.preExistingBefore === undefined)).toBe(true);

  // The application edits two rows this run published: named, not compared, not a failure.
  const [{ id, gone }] = await rows<{ id: number; gone: number }>(
    prod,
    'SELECT max(rental_id) AS id, min(rental_id) AS gone FROM rental WHERE customer_id IN (SELECT customer_id FROM customer WHERE store_id = 1)',
  );
  await rows(prod, 'UPDATE rental SET amount = amount + 1 WHERE rental_id = $1', [id]);
  await rows(prod, 'UPDATE rental SET amount = 0.01 WHERE rental_id = $1', [gone]);
  const edited = (await env.run(validate, { ...input, publish: published, stage: staged })) as ValidateResult;
  expect(edited.ok).toBe(true);
  const rental = edited.tables.find((t) => t.table === 'public.rental')!;
  expect(rental.changedSincePublish).toEqual({ count: 2, keys: [`(rental_id)=(${gone})`, `(rental_id)=(${id})`] });
  expect(rental.stagingChecksum).toBe(rental.productionChecksum);
  expect(rental.stagingChecksum.startsWith('10:')).toBe(true); // 12 published, 2 left out
  expect(edited.tables.find((t) => t.table === 'public.customer')!.changedSincePublish).toEqual({ count: 0, keys: [] });

  // What publish wrote differing from staging (here: staging altered after publish) is still caught, by key.
  const [{ o, nk }] = await rows<{ o: number; nk: number }>(
    prod,
    `SELECT m.o0 AS o, m.n0 AS nk FROM cutover_stage_vallive0001.m0 m WHERE m.outcome = 'moved' AND m.n0 NOT IN (${id}, ${gone}) ORDER BY 1 LIMIT 1`,
  );
  await rows(prod, 'UPDATE cutover_stage_vallive0001.t0_rental SET amount = amount + 5 WHERE rental_id = $1', [o]);
  const failure = await env.run(validate, { ...input, publish: published, stage: staged }).then(
    () => null,
    (e) => e,
  );
  expect(failure).toMatchObject({ type: 'ValidationError' });
  expect(failure.details[0].tables.find((t: { table: string }) => t.table === 'public.rental').differingKeys).toEqual([
    `(rental_id)=(${nk})`,
  ]);

  // A published row that is gone cannot be told from one published under another key: a difference, by key.
  await rows(prod, 'UPDATE cutover_stage_vallive0001.t0_rental SET amount = amount - 5 WHERE rental_id = $1', [o]);
  await rows(prod, 'DELETE FROM rental WHERE rental_id = $1', [nk]);
  const deleted = await env.run(validate, { ...input, publish: published, stage: staged }).then(
    () => null,
    (e) => e,
  );
  expect(deleted).toMatchObject({ type: 'ValidationError' });
  expect(deleted.details[0].tables.find((t: { table: string }) => t.table === 'public.rental').differingKeys).toEqual([
    `(rental_id)=(${nk})`,
  ]);
}, 120000);

test('a ConflictError under ids: keep lists the keys and publishes nothing', async () => {
  const plan = shopPlan('val-conflict');
  (plan.tables as Record<string, unknown>[])[4] = { table: 'staff', select: { all: true } };
  await rows(prod, "INSERT INTO staff VALUES (2, NULL, 'Already here')");
  const before = await rows(prod, 'SELECT (SELECT count(*) FROM customer) AS c, (SELECT count(*) FROM staff) AS s');
  const input: StepInput = { plan: validatePlan(plan), runKey: 'valconflict1', workflowId: 'cutover-val-conflict', runId: 'r2' };
  const env = new MockActivityEnvironment();
  await env.run(stage, input);
  await env.run(cleanup, input);
  await expect(env.run(publish, input)).rejects.toMatchObject({
    type: 'ConflictError',
    message: expect.stringContaining('public.staff: (staff_id)=(2)'),
  });
  expect(await rows(prod, 'SELECT (SELECT count(*) FROM customer) AS c, (SELECT count(*) FROM staff) AS s')).toEqual(before);
}, 120000);
