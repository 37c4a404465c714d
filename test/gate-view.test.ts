// The whole decision at a gate (common/gate-view.ts), one model for the Temporal UI's current
// details (markdown) and `cutover status` (text): decision.reason, approvers with the required
// count, who approved and who was refused, backup store and scope, rehearsal mode and result, the
// dry run per table with its reasons (laid out for the strategy), the plan's rules in words; at
// gate restore only the restore preview. Tables stay narrow enough to read at half width.
import { gateSections } from '../common/gate-view';
import { mdSections } from '../common/report-markdown';
import type { DryRunReport, RestorePreview, TableDryRun } from '../common/results';
import type { EvidencePack } from '../common/temporal';
import { formatSections } from '../client/format/report-text';
import { formatDryRun } from '../client/format/dryrun';
import { formatStatus } from '../client/format/status';
import { validatePlan } from '../plan/validate';
import { saasPlan } from './helpers/saas';

const table = (t: Partial<TableDryRun> & { table: string }): TableDryRun => ({
  order: 0,
  ids: 'keep',
  select: 'all',
  total: 0,
  inScope: 0,
  toMove: 0,
  merged: 0,
  leftBehind: {},
  collisions: 0,
  ...t,
});

const dryRun: DryRunReport = {
  planId: 'gv',
  planHash: 'h',
  source: 'pilot',
  target: 'production',
  order: [],
  warnings: [],
  at: '2026-01-01T00:00:00Z',
  tables: [
    table({ table: 'public.accounts', order: 0, total: 20, inScope: 16, toMove: 14, leftBehind: { 'test-account': 2 } }),
    table({
      table: 'public.users',
      order: 1,
      total: 40,
      inScope: 30,
      toMove: 24,
      merged: 1,
      leftBehind: { 'parent-left-behind:public.accounts': 3, 'erasure-request': 2 },
      collisions: 1,
      conflicts: [{ constraint: 'users_email_key', kind: 'unique', columns: 'email', existing: 1, duplicates: 0 }],
    }),
  ],
};

function pack(over: Record<string, unknown> = {}, plan: Record<string, unknown> = {}): EvidencePack {
  const p = validatePlan(
    saasPlan('gate-view', {
      decision: { reason: 'Pilot customers go live on Monday' },
      backup: { store: 's3://cutover-backups/acme', scope: 'full' },
      rehearsal: { mode: 'scratch' },
      subjects: { table: 'users', key: 'user_id' },
      testData: [{ table: 'accounts', where: [{ column: 'is_test', op: 'eq', value: true }], reason: 'test-account' }],
      transforms: [{ table: 'users', column: 'email', fn: 'sha256' }],
      accessChecks: [{ name: 'no-free-accounts', sql: "SELECT account_id FROM accounts WHERE plan = 'free'" }],
      ...plan,
    }),
  );
  return {
    planId: 'gv',
    planHash: 'h',
    strategy: p.strategy,
    status: 'awaiting-approval',
    initiatedBy: 'alice',
    workflowId: 'cutover-gv',
    runId: 'r',
    runKey: 'k',
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: null,
    plan: p,
    approvals: [{ gate: 'plan', approver: 'bob', at: '2026-01-01T00:01:00Z' }],
    refused: [
      {
        signal: 'approve',
        by: 'alice',
        reason: 'separation of duties: alice started this run',
        at: '2026-01-01T00:02:00Z',
        input: { gate: 'plan', approver: 'alice' },
      },
      { signal: 'approve', by: 'carol', reason: 'wrong gate', at: '2026-01-01T00:03:00Z', input: { gate: 'cutover', approver: 'carol' } },
    ],
    refusedCount: 2,
    steps: [],
    dryRun,
    stage: null,
    cleanup: null,
    publish: null,
    validation: null,
    accessChecks: null,
    rollback: null,
    backups: null,
    rehearsal: null,
    decision: null,
    ...over,
  } as EvidencePack;
}

test('gate plan: why, who, backup, rehearsal, what moves per table and why, the rules in words — the same in the UI and in status', () => {
  const p = pack();
  const md = mdSections(gateSections(p, 'plan')).join('\n\n');
  const text = formatSections(gateSections(p, 'plan'));
  for (const out of [md, text]) {
    expect(out).toContain('Pilot customers go live on Monday');
    expect(out).toMatch(/alice, bob, carol: 2 required; the initiator may not approve/);
    expect(out).toMatch(/approved\W+bob/);
    // Refused at this gate (not at another): who and why.
    expect(out).toContain('alice: separation of duties: alice started this run');
    expect(out).not.toContain('carol: wrong gate');
    expect(out).toContain('into s3://cutover-backups/acme (scope full); not taken yet');
    expect(out).toContain('scratch: runs after gate plan');
    // Per table: the numbers, then each table's reasons and predicted conflicts in words.
    expect(out).toContain('public.users: erasure-request 2, parent-left-behind:public.accounts 3');
    expect(out).toContain('public.accounts: test-account 2');
    expect(out).toMatch(/public\.users: 1 key collision\(s\); users_email_key \(unique email\) 1/);
    // The rules: selection with id strategy, test data, consent-free erasure, transforms, access checks.
    expect(out).toMatch(/public\.accounts: selects rows where is_test = false; rows move keeping their keys/);
    expect(out).toContain('Test data: rows of public.accounts where is_test = true stay behind as test-account.');
    expect(out).toContain('Transform: public.users.email is written to production as sha256(email).');
    expect(out).toContain('Access check no-free-accounts');
  }
  expect(md).toMatch(/\| public\.users \| 30 \| 24 \| 1 \| 5 \|/);
  // In the Temporal UI (its markdown tables have no cell padding): aligned text in a code block.
  const ui = mdSections(gateSections(p, 'plan'), true).join('\n\n');
  expect(ui).toMatch(
    /```text\ntable +in scope +to move +merged +left behind\n[- ]+\npublic\.accounts +16 +14 +0 +2\npublic\.users +30 +24 +1 +5\n```/,
  );
  expect(ui).toContain("parent-left-behind:\\<the parent's table\\>"); // not an HTML tag, not an entity
  expect(text).toMatch(/public\.users\s+30\s+24\s+1\s+5/);
  // Half width: every table line of the UI's markdown stays short (reasons go in the list below it).
  for (const line of md.split('\n').filter((l) => l.startsWith('|'))) expect(line.length).toBeLessThanOrEqual(60);
  for (const line of ui.split('```text\n')[1].split('```')[0].split('\n')) expect(line.length).toBeLessThanOrEqual(60);
});

test("gate cutover shows the rehearsal's result and the backups taken; adopt and clean-start lay out their own dry run", () => {
  const rehearsal = {
    ok: true,
    rehearsalHash: 'c'.repeat(64),
    rollback: { proven: true },
    dryRunComparison: { equal: true, differences: [] },
  };
  const backups = { backups: [{ kind: 'target', location: 's3://cutover-backups/acme/t.dump', sha256: 'x', verified: { sha256: 'x' } }] };
  const cut = formatSections(gateSections(pack({ rehearsal, backups }), 'cutover'));
  expect(cut).toContain(`scratch: ok, rollback proven; counts equal the dry run's; report hash ${'c'.repeat(64)}`);
  expect(cut).toContain('taken: target s3://cutover-backups/acme/t.dump verified');
  expect(cut).toMatch(/approved\W+nobody yet/);

  const adopt = pack(
    {},
    {
      strategy: 'adopt',
      adoptFrom: '2026-12-01',
      rehearsal: undefined,
      backup: { store: 'file:///b' },
      transforms: undefined,
      accessChecks: undefined,
    },
  );
  const a = formatSections(gateSections(adopt, 'plan'));
  expect(a).toContain('nothing is removed before gate cutover');
  expect(a).toMatch(/table\s+rows\s+removed\s+kept/);
  expect(a).toMatch(/public\.users\s+30\s+5\s+25/);
  expect(a).toContain('Removed from the Pilot after gate cutover, and why:');
  expect(formatSections(gateSections(adopt, 'cutover'))).toContain('removes the rows counted below from the Pilot');

  const inventory = {
    ...dryRun,
    tables: [
      table({ table: 'public.accounts', total: 20, archived: 20 }),
      table({ table: 'public.users', order: 1, total: 40, archived: 40 }),
    ],
  };
  const cs = pack(
    { dryRun: inventory },
    {
      strategy: 'clean-start',
      tables: [],
      rehearsal: undefined,
      subjects: undefined,
      testData: undefined,
      transforms: undefined,
      accessChecks: undefined,
      backup: { store: 'file:///b' },
    },
  );
  const c = formatSections(gateSections(cs, 'plan'));
  expect(c).toMatch(/table\s+rows to archive/);
  expect(c).toMatch(/public\.users\s+40/);
  expect(c).toContain('the whole Pilot (the archive) into file:///b');
  // `plan check --connect` prints the same inventory, not zeros to move.
  const checked = formatDryRun(inventory);
  expect(checked).toMatch(/order\s+table\s+rows to archive\n[- ]+\n\s*0\s+public\.accounts\s+20\n\s*1\s+public\.users\s+40\n/);
  expect(checked).toContain('total: 60 rows in 2 tables to archive, nothing to move');
});

test('gate restore shows only what a restore discards, not the stale dry run', () => {
  const preview: RestorePreview = {
    backup: 's3://cutover-backups/acme/t.dump',
    sha256: 'd'.repeat(64),
    measuredAt: '2026-01-02T00:00:00Z',
    summary: ['1 row written by others since the backup would be lost'],
    tables: [
      {
        table: 'public.events',
        backupRows: 10,
        nowRows: 16,
        insertedByRun: 5,
        writtenSinceBackup: 1,
        added: 1,
        removed: 0,
        changed: 0,
        examples: ['(event_id)=(7000)'],
      },
    ],
  };
  const sections = gateSections(pack({ restorePreview: preview }), 'restore');
  const text = formatSections(sections);
  expect(text).toContain('would discard');
  expect(text).toMatch(/public\.events\s+1 \(\+1 −0 ~0\)\s+5\s+10 → 16/);
  expect(text).toContain('public.events: (event_id)=(7000)');
  expect(text).not.toMatch(/in scope|to move|rules in words/);
  // status at the gate: the same sections, and no separate preview lines or "planned" progress.
  const view = {
    planId: 'gv',
    strategy: 'selective',
    status: 'awaiting-approval',
    phase: 'gate:restore',
    gate: 'restore',
    approvals: [],
    required: 2,
    refused: [],
    refusedCount: 0,
    error: null,
    progress: { 'public.events': { table: 'public.events', rowsCopied: 0, rowsTotal: 5, phase: 'planned' } },
    planHash: 'h',
    initiatedBy: 'alice',
    runKey: 'k',
    steps: [],
    restorePreview: preview,
    rehearsal: { ok: true, rehearsalHash: 'r'.repeat(64), rollbackProven: true, tables: [], failed: null },
  } as never;
  const status = formatStatus(view, { evidence: pack({ restorePreview: preview }) });
  expect(status).toContain(text);
  expect(status).not.toContain('restore:      from');
  expect(status).not.toContain('progress:');
  expect(status).not.toContain('rehearsal:    ok');
  // Without the pack (an older worker's answer), the preview lines still say it.
  expect(formatStatus(view)).toContain('restore:      from s3://cutover-backups/acme/t.dump would discard');
});
