// Erasure replay after a restore of Production, through the CLI (`cutover erasure replay`) and its
// own workflow (cutoverErasureReplay) on real PostgreSQL. A run moves Pilot customers into
// Production with new ids; while it is paused after publish, two of them ask to be erased (one in
// the Pilot's register, one in Production's) and the run's erasure step erases them; after the run,
// a third asks in the Pilot's register. Production is then restored (the application's tables, by
// the test's own pg_dump/psql) from a backup taken after publish but before those erasures: the
// people come back. The replay erases all three again — translated through the run's id map — and
// the test's own SQL finds every other row exactly as it was. Restored from a backup taken before
// the run (the run's own verified target backup names the restore point), the replay touches no
// one. Refused while a cutover run on the same target is open (in Temporal, or in cutover.run); the
// replay's evidence pack is in cutover.erasure_replay and the backup store, its sha256 checked.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../client/main';
import type { ErasureReplayResult } from '../common/results';
import { approveSignal, rejectSignal, resumeUpdate, type EvidencePack, type StatusView } from '../common/temporal';
import type { EvidenceDocument } from '../common/evidence';
import { useHarness } from './helpers/harness';
import { PILOT, PRODUCTION as SHOP_PRODUCTION } from './helpers/erasure-shop';
import { checkerRole, rows } from './helpers/pg';
import { atGate, paused, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';

const PRODUCTION_ON_HOLD = `${SHOP_PRODUCTION}INSERT INTO hold VALUES ('on-call looks first');\n`;
const APP_TABLES = ['customer', 'orders', 'order_line', 'review'];

const h = useHarness('cutover_erp', PILOT);
const checker = checkerRole('cutover_erp');
let store: string;
beforeAll(() => {
  store = mkdtempSync(path.join(tmpdir(), 'cutover-erp-'));
});
afterAll(async () => {
  await checker.drop();
  rmSync(store, { recursive: true, force: true });
});

const plan = (id: string) => ({
  version: 1,
  id,
  strategy: 'selective',
  source: 'pilot',
  target: 'production',
  approvals: { approvers: ['bob'], required: 1, timeout: '1h' },
  rehearsal: { mode: 'skip' },
  backup: { store: `file://${store}` },
  tables: [
    { table: 'customer', select: { all: true }, ids: 'new' },
    { table: 'orders', select: { follow: ['customer_id'] }, ids: 'new' },
    { table: 'order_line', select: { follow: ['order_id'] }, ids: 'new' },
    { table: 'review', select: { follow: ['customer_id'] }, ids: 'new' },
  ],
  subjects: { table: 'customer', key: 'customer_id' },
  erasure: {
    registers: [
      { db: 'source', table: 'erasure_request', subject: 'customer_id' },
      { db: 'target', table: 'erasure_request', subject: 'customer_id' },
    ],
    anonymize: [{ table: 'review', columns: { customer_id: null, body: '[erased]' } }],
  },
  accessChecks: [{ name: 'hold', sql: 'SELECT why FROM hold' }],
  accessCheckRole: checker.name,
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(
    ['node', 'cutover', ...args],
    { out: (t) => void out.push(t), err: (t) => void err.push(t), isTTY: false },
    { ...process.env, TEMPORAL_ADDRESS: h.env.address, CUTOVER_CLI_TIMEOUT: '2m' },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The application's tables as plain SQL data (the test's own backup: pg_dump, never cutover's code). */
function dump(url: string): string {
  const r = spawnSync('pg_dump', ['--data-only', '--no-owner', ...APP_TABLES.flatMap((t) => ['-t', `public.${t}`]), url], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}
/** Restore them: emptied and loaded from the dump (the cutover schema and the registers are not part of it). */
async function restore(url: string, sql: string): Promise<void> {
  await rows(url, `TRUNCATE ${APP_TABLES.join(', ')}`);
  const r = spawnSync('psql', ['-v', 'ON_ERROR_STOP=1', '-q', url], { input: sql, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}
/** Every row of the application's tables, as text, in a stable order. */
async function content(url: string, where: Record<string, string> = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of APP_TABLES)
    out[t] =
      (
        await rows<{ c: string | null }>(
          url,
          `SELECT string_agg(x::text, E'\\n' ORDER BY x::text) AS c FROM ${t} x ${where[t] ? `WHERE ${where[t]}` : ''}`,
        )
      )[0].c ?? '';
  return out;
}
const n = async (url: string, sql: string, params: unknown[] = []) =>
  Number((await rows<{ n: string }>(url, `SELECT count(*)::text AS n FROM (${sql}) s`, params))[0].n);
const prodKey = async (prod: string, runKey: string, table: string, pilotKey: number) =>
  Number(
    (
      await rows<{ k: string }>(
        prod,
        `SELECT new_key->>0 AS k FROM cutover.id_map WHERE run_key = $1 AND table_name = $2 AND old_key = $3::jsonb`,
        [runKey, table, `[${pilotKey}]`],
      )
    )[0].k,
  );
const rowsOf = async (prod: string, c: number) => ({
  customer: await n(prod, 'SELECT 1 FROM customer WHERE customer_id = $1', [c]),
  orders: await n(prod, 'SELECT 1 FROM orders WHERE customer_id = $1', [c]),
  lines: await n(prod, 'SELECT 1 FROM order_line l JOIN orders o USING (order_id) WHERE o.customer_id = $1', [c]),
  reviews: await n(prod, 'SELECT 1 FROM review WHERE customer_id = $1', [c]),
});

test('after a restore, erasure replay erases everyone erased since again (translated through the id map) and no one else; refused while a run is open', async () => {
  const prod = await h.production(PRODUCTION_ON_HOLD + checker.sql);
  const beforeRun = dump(prod);
  const beforeRunContent = await content(prod);

  const handle = await startRun(h.env, plan('erp-run'));
  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate), 120000);
    await handle.signal(approveSignal, { gate, approver: 'bob' });
  }
  await waitFor(handle, paused, 180000); // after publish: the hold check
  const runKey = ((await handle.query('report')) as EvidencePack).runKey;
  const [c2, c3, c4] = [
    await prodKey(prod, runKey, 'public.customer', 2),
    await prodKey(prod, runKey, 'public.customer', 3),
    await prodKey(prod, runKey, 'public.customer', 4),
  ];
  const reviewsOf = [
    await prodKey(prod, runKey, 'public.review', 2),
    await prodKey(prod, runKey, 'public.review', 3),
    await prodKey(prod, runKey, 'public.review', 4),
  ];
  expect(c2).toBeGreaterThan(3);

  // A backup of Production after publish, before the later erasures.
  const afterPublish = dump(prod);
  const [{ t: backupAt }] = await rows<{ t: string }>(prod, `SELECT to_json(clock_timestamp()) #>> '{}' AS t`);

  // Pilot customer 2 asks in Production's register, 3 in the Pilot's: the run's erasure step erases both.
  await rows(prod, 'INSERT INTO erasure_request (customer_id) VALUES (2)');
  await rows(h.pilot, 'INSERT INTO erasure_request (customer_id) VALUES (3)');
  await rows(prod, 'DELETE FROM hold');
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'looked' }] });
  expect(((await runResult(handle)) as StatusView).status).toBe('completed');
  // After the run: Pilot customer 4 asks (nobody applies it until the replay).
  await rows(h.pilot, 'INSERT INTO erasure_request (customer_id) VALUES (4)');
  expect(await rowsOf(prod, c2)).toEqual({ customer: 0, orders: 0, lines: 0, reviews: 0 });
  expect(await rowsOf(prod, c3)).toEqual({ customer: 0, orders: 0, lines: 0, reviews: 0 });

  // Everyone else, as Production holds them now (the erased people's anonymized reviews left out).
  const others = {
    customer: `customer_id NOT IN (${c2}, ${c3}, ${c4})`,
    orders: `customer_id NOT IN (${c2}, ${c3}, ${c4})`,
    order_line: `order_id IN (SELECT order_id FROM orders WHERE customer_id NOT IN (${c2}, ${c3}, ${c4}))`,
    review: `review_id NOT IN (${reviewsOf.join(', ')})`,
  };
  const othersBefore = await content(prod, others);
  expect(othersBefore.customer.split('\n').length).toBe(5); // P1–P3 and Pilot customers 1 and 5 (6 never moved)
  // The restore brings 2 and 3 back.
  await restore(prod, afterPublish);
  expect(await rowsOf(prod, c2)).toEqual({ customer: 1, orders: 2, lines: 4, reviews: 1 });
  expect(await rowsOf(prod, c3)).toEqual({ customer: 1, orders: 2, lines: 4, reviews: 1 });

  // Refused while a cutover run on this target is open: in Temporal (at a gate) …
  const other = await startRun(h.env, plan('erp-open'));
  await waitFor(other, atGate('plan'), 120000);
  const refused = await cli('erasure', 'replay', '--target', 'production', '--since', backupAt, '--as', 'oncall', '--wait');
  expect(refused.code).toBe(1);
  expect(refused.err).toContain('erasure replay refused: cutover run cutover-erp-open on target production is open');
  await other.signal(rejectSignal, { gate: 'plan', approver: 'bob', reason: 'test over' });
  await runResult(other).catch(() => undefined);
  // … or in the database itself (a run between stage and finalize).
  await rows(
    prod,
    "INSERT INTO cutover.run (run_key, plan_id, workflow_id, run_id, plan_hash, status) VALUES ('openrun', 'someplan', 'w', 'r', 'h', 'staged')",
  );
  const refusedDb = await cli('erasure', 'replay', '--target', 'production', '--since', backupAt, '--as', 'oncall', '--wait');
  expect(refusedDb.code).toBe(1);
  expect(refusedDb.err).toContain('erasure replay refused: a cutover run on this database is open (someplan run openrun, staged)');
  expect(await rowsOf(prod, c2)).toEqual({ customer: 1, orders: 2, lines: 4, reviews: 1 }); // nothing done
  await rows(prod, "DELETE FROM cutover.run WHERE run_key = 'openrun'");

  // The replay: 2 and 3 (from the erasure log) and 4 (from the Pilot's register) erased again, reviews anonymized.
  const replay = await cli('erasure', 'replay', '--target', 'production', '--since', backupAt, '--as', 'oncall', '--wait', '--json');
  expect(replay).toMatchObject({ code: 0, err: '' });
  const result = JSON.parse(replay.out) as ErasureReplayResult;
  for (const c of [c2, c3, c4]) expect(await rowsOf(prod, c)).toEqual({ customer: 0, orders: 0, lines: 0, reviews: 0 });
  expect(await rows(prod, `SELECT customer_id, body FROM review WHERE review_id = ANY($1::int[])`, [reviewsOf])).toEqual(
    reviewsOf.map(() => ({ customer_id: null, body: '[erased]' })),
  );
  // No one else touched: every other row exactly as before the restore, by the test's own SQL.
  expect(await content(prod, others)).toEqual(othersBefore);
  expect(await n(prod, 'SELECT 1 FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customer c WHERE c.customer_id = o.customer_id)')).toBe(0);
  expect(result).toMatchObject({
    kind: 'erasure-replay',
    target: 'production',
    since: backupAt,
    sinceFrom: 'timestamp',
    residue: 0,
    skipped: [],
  });
  expect(result.runs).toHaveLength(1);
  expect(result.runs[0]).toMatchObject({ runKey, planId: 'erp-run', runAbsent: false, logged: 2, loggedSince: 2, residue: 0 });
  expect(result.runs[0].rows).toMatchObject({ 'public.customer': 3, 'public.orders': 6, 'public.order_line': 12, 'public.review': 3 });
  // Logged under the replay's own step; its evidence pack is in cutover.erasure_replay and the store, sha256 over the exact bytes.
  expect(
    await n(
      prod,
      "SELECT DISTINCT production_subject FROM cutover.erasure_log WHERE run_key = $1 AND step = 'erasure-replay' AND action = 'erased-after-restore' AND production_subject IS NOT NULL",
      [runKey],
    ),
  ).toBe(3);
  const [stored] = await rows<{ pack_text: string; sha256: string; location: string }>(
    prod,
    'SELECT pack_text, sha256, location FROM cutover.erasure_replay WHERE replay_key = $1',
    [result.replayKey],
  );
  expect(createHash('sha256').update(stored.pack_text).digest('hex')).toBe(stored.sha256);
  expect(stored.sha256).toBe(result.sha256);
  expect(readFileSync(fileURLToPath(stored.location), 'utf8')).toBe(stored.pack_text);
  expect(stored.location).toBe(`file://${store}/erp-run/erasure-replays/${result.replayKey}/evidence.json`);

  // A second replay finds nothing more to do and touches no one.
  const settled = await content(prod);
  const again = JSON.parse(
    (await cli('erasure', 'replay', '--target', 'production', '--since', backupAt, '--as', 'oncall', '--wait', '--json')).out,
  ) as ErasureReplayResult;
  expect(again.runs[0].rows).toEqual(Object.fromEntries(Object.keys(again.runs[0].rows).map((t) => [t, 0])));
  expect(await content(prod)).toEqual(settled);

  // Restored from before the run — the restore point named by the run's own verified target backup —
  // none of the run's rows is there: nothing is translated through its id map, and no one is touched.
  const [pack] = (await rows<{ pack_text: string }>(prod, 'SELECT pack_text FROM cutover.evidence WHERE run_key = $1', [runKey])).map(
    (r) => JSON.parse(r.pack_text) as EvidenceDocument,
  );
  const targetBackup = pack.backups.find((b) => b.kind === 'target')!.location;
  await restore(prod, beforeRun);
  expect(await content(prod)).toEqual(beforeRunContent);
  const early = await cli('erasure', 'replay', '--target', 'production', '--since', targetBackup, '--as', 'oncall', '--wait', '--json');
  expect(early.code).toBe(0);
  const earlyResult = JSON.parse(early.out) as ErasureReplayResult;
  expect(earlyResult).toMatchObject({ sinceFrom: 'backup', residue: 0 });
  expect(earlyResult.runs[0]).toMatchObject({ runAbsent: true });
  expect(Date.parse(earlyResult.sinceAt)).toBeLessThan(Date.parse(earlyResult.runs[0].publishedAt));
  expect(await content(prod)).toEqual(beforeRunContent);
}, 600000);
