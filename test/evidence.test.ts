// The evidence pack from real runs through the workflow, read as someone who never saw the run
// would: every answer below comes from the pack ALONE (who decided and why, what moved and stayed
// and why, who approved which plan, where the backups are and whether they verified, residue),
// then is checked against the database and the backup store by the test's own SQL and hashing.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderReport } from '../client/commands/report';
import type { EvidenceDocument } from '../common/evidence';
import { approveSignal, rejectSignal, type StatusView } from '../common/temporal';
import { openStore } from '../activities/store';
import { putOnce } from '../activities/store/once';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { atGate, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';

const h = useHarness('cutover_ev', SAAS_SCHEMA + PILOT_DATA);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const count = async (url: string, sql: string) =>
  Number((await rows<{ n: string }>(url, `SELECT count(*)::text AS n FROM (${sql}) s`))[0].n);

const WHY = 'The Pilot ends on 31 March; its customers continue in Production.';
const plan = (id: string, store: string) =>
  saasPlan(id, {
    backup: { store: `file://${store}` },
    decision: { reason: WHY },
    // Accounts named 'Account 1…' are test organisations: they, and everything under them, stay behind.
    testData: [{ table: 'accounts', where: [{ column: 'name', op: 'like', value: 'Account 1%' }], reason: 'test-account' }],
  });

test('a completed run: the pack alone answers the auditor; it equals the database row, the store object and its sha256', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-ev-'));
  const handle = await startRun(h.env, plan('ev-done', store), 'alice');
  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate), 120000);
    await handle.signal(approveSignal, { gate, approver: 'bob' });
    await handle.signal(approveSignal, { gate, approver: 'carol', comment: `${gate} looks right` });
  }
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');

  // The pack as written: exact bytes, their sha256, the copy in the store.
  const [row] = await rows<{ pack_text: string; sha256: string; location: string; pack: unknown }>(
    prod,
    'SELECT pack_text, sha256, location, pack FROM cutover.evidence WHERE run_key = $1',
    [result.runKey],
  );
  expect(sha(row.pack_text)).toBe(row.sha256);
  const pack = JSON.parse(row.pack_text) as EvidenceDocument;
  expect(row.pack).toEqual(pack);
  expect(row.location).toBe(`file://${store}/ev-done/${result.runKey}/evidence.json`);
  const stored = readFileSync(fileURLToPath(row.location));
  expect(stored.toString('utf8')).toBe(row.pack_text);
  expect(sha(stored)).toBe(row.sha256);
  expect(JSON.parse(stored.toString('utf8'))).toEqual(row.pack);
  // The run records it too: the finalize step's note names the sha256 and where it went.
  expect(result.steps.find((s) => s.step === 'finalize' && s.outcome === 'completed')?.detail).toBe(
    `evidence pack sha256 ${row.sha256} in cutover.evidence and ${row.location}`,
  );

  // From here on, answers come from `pack` alone.
  expect(pack.schemaVersion).toBe(1);
  // Who decided, and why.
  expect(pack.decision).toMatchObject({
    initiatedBy: 'alice',
    reason: WHY,
    strategy: 'selective',
    planId: 'ev-done',
    outcome: 'completed',
  });
  // Who approved which plan.
  expect(pack.approvals.map((a) => `${a.gate}:${a.approver}:${a.planHash}`)).toEqual(
    ['plan', 'plan', 'cutover', 'cutover'].map((g, i) => `${g}:${i % 2 ? 'carol' : 'bob'}:${pack.decision.planHash}`),
  );
  expect(pack.approvals[1].comment).toBe('plan looks right');
  // Where the backups are, and whether they were verified.
  expect(pack.backups.map((b) => [b.kind, b.verified])).toEqual([
    ['target', true],
    ['source', true],
  ]);
  for (const b of pack.backups) {
    expect(sha(readFileSync(fileURLToPath(b.location)))).toBe(b.sha256);
    expect(b.verifiedHow.length).toBeGreaterThan(0);
  }
  // What moved, what stayed and why: equal to cutover.manifest counted by the test's own SQL.
  const byOutcome = await rows<{ outcome: string; n: string }>(
    prod,
    'SELECT outcome, count(*)::text AS n FROM cutover.manifest WHERE run_key = $1 GROUP BY 1',
    [result.runKey],
  );
  const n = (o: string) => Number(byOutcome.find((r) => r.outcome === o)?.n ?? 0);
  expect(pack.manifest.totals).toEqual({
    inScope: n('moved') + n('merged') + n('left-behind'),
    moved: n('moved'),
    merged: n('merged'),
    leftBehind: n('left-behind'),
  });
  const perReason = await rows<{ t: string; reason: string; n: string }>(
    prod,
    "SELECT table_name AS t, reason, count(*)::text AS n FROM cutover.manifest WHERE run_key = $1 AND outcome = 'left-behind' GROUP BY 1, 2",
    [result.runKey],
  );
  expect(Object.fromEntries(pack.manifest.tables.map((t) => [t.table, t.leftBehindByReason]))).toEqual(
    perReason.reduce<Record<string, Record<string, number>>>(
      (a, r) => ({ ...a, [r.t]: { ...a[r.t], [r.reason]: Number(r.n) } }),
      Object.fromEntries(pack.manifest.tables.map((t) => [t.table, {}])),
    ),
  );
  const testAccounts = await count(h.pilot, "SELECT 1 FROM accounts WHERE NOT is_test AND name LIKE 'Account 1%'");
  expect(pack.manifest.tables.find((t) => t.table === 'public.accounts')?.leftBehindByReason).toEqual({ 'test-account': testAccounts });
  expect(pack.manifest.tables.find((t) => t.table === 'public.users')?.rootCauses).toEqual({
    'parent-left-behind:public.accounts': ['parent-left-behind:public.accounts ← test-account'],
  });
  expect(pack.manifest.tables.find((t) => t.table === 'public.events')?.rootCauses['parent-left-behind:public.projects']).toEqual([
    'parent-left-behind:public.projects ← parent-left-behind:public.accounts ← test-account',
  ]);
  expect(pack.manifest.queries[0].sql).toContain(`run_key = '${result.runKey}'`);
  expect(pack.idChanges.where).toContain('cutover.id_map');
  // Residue: none possible (no erasure registers), said in so many words.
  expect(pack.erasure).toMatchObject({ requestsFound: 0, residue: 0 });
  // What is still open: the skipped rehearsal; approvals were not signed.
  expect(pack.openItems).toContain('Step rehearsal was skipped (rehearsal mode skip): no rehearsal of this cutover was performed.');
  expect(pack.openItems.filter((i) => i.includes('is not signed'))).toHaveLength(4);
  expect(pack.openItems.join('\n')).not.toMatch(/decision\.reason|no rule of the plan/);
  expect(pack.steps.find((s) => s.step === 'gate:plan')?.decisions.map((d) => d.by)).toEqual(['bob', 'carol']);

  // Rendered for a ticket and a browser from the stored pack.
  for (const format of ['md', 'html'] as const) {
    const text = renderReport(pack, format);
    expect(text).toContain('parent-left-behind:public.accounts ← test-account');
    expect(text).toContain(WHY);
  }
}, 240000);

test('a rejected run writes its pack to the store, and creates nothing in Production', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-ev-'));
  const handle = await startRun(h.env, plan('ev-rejected', store), 'alice');
  await waitFor(handle, atGate('plan'), 120000);
  await handle.signal(rejectSignal, { gate: 'plan', approver: 'bob', reason: 'wrong tenant' });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('rejected');
  const file = path.join(store, 'ev-rejected', result.runKey, 'evidence.json');
  const pack = JSON.parse(readFileSync(file, 'utf8')) as EvidenceDocument;
  expect(pack.run.status).toBe('rejected');
  expect(pack.steps.find((s) => s.step === 'gate:plan')?.decisions).toEqual([
    expect.objectContaining({ outcome: 'rejected', by: 'bob', reason: 'wrong tenant' }),
  ]);
  expect(result.steps.find((s) => s.step === 'finalize' && s.outcome === 'completed')?.detail).toBe(
    `evidence pack sha256 ${sha(readFileSync(file))} in file://${file}`,
  );
  expect(await count(prod, "SELECT 1 FROM pg_namespace WHERE nspname = 'cutover'")).toBe(0);
}, 180000);

test('the store never overwrites: the same bytes again are fine, other bytes go beside them', async () => {
  const store = openStore(`file://${mkdtempSync(path.join(tmpdir(), 'cutover-ev-'))}`);
  const meta = { runKey: 'k1', planHash: 'h', createdAt: '2026-01-02T03:04:05.000Z' };
  const a = Buffer.from('{"a":1}\n');
  const first = await putOnce(store, 'p/k1/evidence.json', a, meta);
  expect(first).toMatchObject({ key: 'p/k1/evidence.json', written: true, sha256: sha(a) });
  expect(await putOnce(store, 'p/k1/evidence.json', a, meta)).toMatchObject({ key: 'p/k1/evidence.json', written: false });
  const b = Buffer.from('{"a":2}\n');
  const other = await putOnce(store, 'p/k1/evidence.json', b, meta);
  expect(other).toMatchObject({ key: `p/k1/evidence-${sha(b).slice(0, 16)}.json`, written: true });
  expect(readFileSync(fileURLToPath(first.location), 'utf8')).toBe('{"a":1}\n');
  expect(await putOnce(store, 'p/k1/evidence.json', b, meta)).toMatchObject({ key: other.key, written: false });
});
