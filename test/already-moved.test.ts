// A completed plan is not re-applied by accident (issue 21, deliverable 4). Started again, the same
// plan's dry run shows the rows the first run published as left behind (already-moved:<run key>),
// and nothing is copied twice; a Pilot row added since moves alone (also under a parent moved before); a deliberate re-run
// (decision.rerun) is shown at the gate and copies again. Judged by the test's own SQL.
import { approveSignal, type StatusView } from '../common/temporal';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { atGate, startRun, waitFor } from './helpers/run';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, storeOnePlan } from './helpers/shop';
import { runResult } from './helpers/run-result';

const h = useHarness('cutover_again', SHOP_SCHEMA + SHOP_PILOT);

const plan = (extra: Record<string, unknown> = {}) => storeOnePlan('again', extra);

async function runThrough(p: Record<string, unknown>, atPlanGate?: (s: StatusView) => void): Promise<StatusView> {
  const handle = await startRun(h.env, p);
  const gate = await waitFor(handle, atGate('plan'));
  atPlanGate?.(gate);
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(handle, atGate('cutover'));
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
  return (await runResult(handle)) as StatusView;
}

const counts = async (prod: string) =>
  (
    await rows<{ c: number; r: number; a: number }>(
      prod,
      `SELECT (SELECT count(*)::int FROM customer) AS c, (SELECT count(*)::int FROM rental) AS r, (SELECT count(*)::int FROM address) AS a`,
    )
  )[0];

test('the same plan again moves nothing twice; a row added since moves alone; decision.rerun copies again, said at the gate', async () => {
  const prod = await h.production(SHOP_SCHEMA + SHOP_PRODUCTION);
  const before = await counts(prod);
  const first = await runThrough(plan());
  expect(first.status).toBe('completed');
  const afterFirst = await counts(prod);
  expect(afterFirst.c).toBeGreaterThan(before.c);

  // Again, unchanged: the dry run says everything was already moved by the first run.
  let dry: StatusView | undefined;
  const second = await runThrough(plan(), (s) => (dry = s));
  expect(second.status).toBe('completed');
  expect(await counts(prod)).toEqual(afterFirst);
  expect(dry!.progress['public.customer'].rowsTotal).toBe(0);
  expect(dry!.progress['public.rental'].rowsTotal).toBe(0);
  const report = second as StatusView & {
    evidence: { dryRun: { tables: { table: string; leftBehind: Record<string, number> }[]; warnings: string[] } };
  };
  const customer = report.evidence.dryRun.tables.find((t) => t.table === 'public.customer')!;
  expect(customer.leftBehind[`already-moved:${first.runKey}`]).toBe(afterFirst.c - before.c);
  expect(report.evidence.dryRun.warnings.join('\n')).toContain(`already published here by ${first.runKey}`);
  // The manifest of the second run says why, row by row.
  const [{ n }] = await rows<{ n: number }>(prod, `SELECT count(*)::int AS n FROM cutover.manifest WHERE run_key = $1 AND reason = $2`, [
    second.runKey,
    `already-moved:${first.runKey}`,
  ]);
  expect(n).toBeGreaterThanOrEqual(afterFirst.c - before.c);

  // A customer added to the Pilot since (at an address no earlier run moved): only it and its address move.
  // A rental added for customer 1 (moved by the first run) moves too, under that customer's Production row
  // (ids: new: remapped through the first run's id map; test/round-two.test.ts has the details).
  await rows(h.pilot, "INSERT INTO customer (email, store_id, country_id, address_id) VALUES ('newer@example.com', 1, 1, 12)");
  await rows(h.pilot, 'INSERT INTO rental (customer_id, amount) VALUES (1, 777.77)');
  await rows(h.pilot, "INSERT INTO customer_consent SELECT customer_id, 'granted' FROM customer WHERE email = 'newer@example.com'");
  try {
    const third = await runThrough(plan());
    expect(third.status).toBe('completed');
    const afterThird = await counts(prod);
    expect(afterThird).toEqual({ ...afterFirst, c: afterFirst.c + 1, a: afterFirst.a + 1, r: afterFirst.r + 1 });
    expect(await rows(prod, 'SELECT c.email FROM rental r JOIN customer c USING (customer_id) WHERE r.amount = 777.77')).toEqual([
      { email: 'c1@example.com' },
    ]);
    expect(await rows(prod, "SELECT count(*)::int AS n FROM customer WHERE email = 'newer@example.com'")).toEqual([{ n: 1 }]);

    // A deliberate re-run copies again, and the gate says so.
    let gate: StatusView | undefined;
    const fourth = await runThrough(
      plan({ decision: { reason: 'test', rerun: { reason: 'production was restored from before the first run' } } }),
      (s) => (gate = s),
    );
    expect(fourth.status).toBe('completed');
    const warnings = (fourth as StatusView & { evidence: { dryRun: { warnings: string[] } } }).evidence.dryRun.warnings.join('\n');
    expect(warnings).toContain('deliberate re-run (decision.rerun): production was restored from before the first run');
    expect(gate!.progress['public.customer'].rowsTotal).toBeGreaterThan(0);
    expect((await counts(prod)).c).toBeGreaterThan(afterThird.c);
  } finally {
    await rows(
      h.pilot,
      "DELETE FROM customer_consent WHERE customer_id IN (SELECT customer_id FROM customer WHERE email = 'newer@example.com')",
    );
    await rows(h.pilot, "DELETE FROM customer WHERE email = 'newer@example.com'");
    await rows(h.pilot, 'DELETE FROM rental WHERE amount = 777.77');
  }
}, 400000);
