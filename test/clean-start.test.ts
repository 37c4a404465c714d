// Strategy clean-start through the real workflow: the Pilot's inventory as the dry run, the whole
// Pilot archived as a verified backup, the Pilot set read-only after the cutover gate (and back by
// the compensation), and Production not written to at all — checked by the test's own SQL.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'pg';
import { recommission } from '../activities/decommission';
import { formatReportMarkdown } from '../client/format/report-md';
import type { EvidenceDocument } from '../common/evidence';
import { validatePlan } from '../plan/validate';
import { approveSignal, reportQuery, type EvidencePack, type StatusView } from '../common/temporal';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA } from './helpers/saas';
import { atGate, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';

const h = useHarness('cutover_cs', SAAS_SCHEMA + PILOT_DATA);

const plan = (id: string, store: string) => ({
  version: 1,
  id,
  strategy: 'clean-start',
  source: 'pilot',
  target: 'production',
  approvals: { approvers: ['bob'], required: 1, timeout: '1h' },
  backup: { store: `file://${store}` },
  decommission: 'readonly',
});
const dump = (url: string) =>
  rows(
    url,
    `SELECT n.nspname || '.' || c.relname AS t, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text AS n
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 1`,
  );

test('clean-start archives the whole Pilot, sets it read-only, and leaves Production untouched', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  const before = await dump(prod);
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-cs-'));
  const pilotBefore = await dump(h.pilot);
  const handle = await startRun(h.env, plan('cs-archive', store), 'alice');

  const atPlan = await waitFor(handle, atGate('plan'), 90000);
  expect(atPlan.steps.some((s) => s.step === 'preflight' && s.outcome === 'completed')).toBe(true);
  // Gate plan's details show what the archive will hold, per table, as the test's own SQL counts it.
  const details = ((await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';
  expect(details).toMatch(/table +rows to archive\n/);
  for (const r of pilotBefore) expect(details).toMatch(new RegExp(`\\n${(r.t as string).replace('.', '\\.')} +${Number(r.n)}\\n`));
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(handle, atGate('cutover'), 90000);
  // Nothing destructive before the last gate: the Pilot holds every row and still takes writes.
  expect(await dump(h.pilot)).toEqual(pilotBefore);
  expect((await rows(h.pilot, 'SHOW default_transaction_read_only'))[0]).toEqual({ default_transaction_read_only: 'off' });
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  const report = (await handle.query(reportQuery)) as EvidencePack;

  // The dry run is the inventory: every Pilot table with the rows it archives, nothing to move.
  const pilotCounts = Object.fromEntries((await dump(h.pilot)).map((r) => [r.t as string, Number(r.n)]));
  expect(Object.values(pilotCounts).some((n) => n > 0)).toBe(true);
  expect(Object.fromEntries(report.dryRun!.tables.map((t) => [t.table, t.total]))).toEqual(pilotCounts);
  expect(Object.fromEntries(report.dryRun!.tables.map((t) => [t.table, t.archived]))).toEqual(pilotCounts);
  expect(report.dryRun!.tables.every((t) => t.toMove === 0)).toBe(true);

  // One archive, of the Pilot, whole: its sha256 is the file's, every table counted as in the Pilot.
  const backups = report.backups!.backups;
  expect(backups.map((b) => [b.kind, b.scope])).toEqual([['source', 'full']]);
  expect(
    createHash('sha256')
      .update(readFileSync(fileURLToPath(backups[0].location)))
      .digest('hex'),
  ).toBe(backups[0].sha256);
  expect(Object.fromEntries(backups[0].tables.filter((t) => !t.partitionOf).map((t) => [t.table, t.rows]))).toEqual(pilotCounts);

  // Production: not one row, not even a control schema.
  expect(await dump(prod)).toEqual(before);
  expect(await rows(prod, "SELECT 1 FROM pg_namespace WHERE nspname = 'cutover' OR nspname LIKE 'cutover\\_stage\\_%'")).toEqual([]);

  // The Pilot refuses writes from any new session.
  const c = new Client({ connectionString: h.pilot });
  await c.connect();
  try {
    expect((await c.query('SHOW default_transaction_read_only')).rows[0].default_transaction_read_only).toBe('on');
    await expect(c.query("INSERT INTO accounts VALUES (9999, 'late', 'pro', false)")).rejects.toThrow(/read-only transaction/);
  } finally {
    await c.end();
  }
  expect(result.steps.some((s) => s.step === 'decommission' && s.outcome === 'completed')).toBe(true);
  // The step module's evidence section (common/steps/decommission.ts): the stored pack says the Pilot was frozen.
  const stored = JSON.parse(readFileSync(path.join(store, 'cs-archive', result.runKey, 'evidence.json'), 'utf8')) as EvidenceDocument;
  expect(stored.decommission).toMatchObject({ readOnly: true });
  expect(formatReportMarkdown(stored)).toMatch(/## Decommission\n[\s\S]*\*\*read-only for new sessions\*\*: yes/);

  // The compensation hands the Pilot back writable.
  const undone = await recommission({
    plan: validatePlan(plan('cs-archive', store)),
    runKey: result.runKey,
    workflowId: 'cutover-cs-archive',
    runId: '-',
  });
  expect(undone.readOnly).toBe(false);
  const after = new Client({ connectionString: h.pilot });
  await after.connect();
  try {
    expect((await after.query('SHOW default_transaction_read_only')).rows[0].default_transaction_read_only).toBe('off');
  } finally {
    await after.end();
  }
}, 180000);
