// The evidence document and its reports without services: root causes followed through the
// cascade to a rule of the plan, open items, the plan's rules in words, and the markdown and HTML
// renderers showing per-table columns and the root-cause line (test/evidence.test.ts does a real run).
import { buildEvidence } from '../common/evidence';
import { rootCauses } from '../common/evidence-words';
import type { TableValidation } from '../common/results';
import type { EvidencePack } from '../common/temporal';
import { formatReportHtml } from '../client/format/report-html';
import { formatReportMarkdown } from '../client/format/report-md';
import { validatePlan } from '../plan/validate';
import { saasPlan } from './helpers/saas';

const plan = validatePlan(
  saasPlan('ev-unit', {
    testData: [{ table: 'accounts', where: [{ column: 'name', op: 'like', value: 'Test%' }], reason: 'test-account' }],
  }),
);

const v = (table: string, moved: number, leftBehindByReason: Record<string, number>): TableValidation => {
  const leftBehind = Object.values(leftBehindByReason).reduce((a, b) => a + b, 0);
  return {
    table,
    inScope: moved + leftBehind,
    moved,
    merged: 0,
    leftBehind,
    leftBehindByReason,
    stagingChecksum: `${moved}:s`,
    productionChecksum: `${moved}:s`,
    preExistingBefore: '1:p',
    preExistingAfter: '1:p',
    ok: true,
    problems: [],
    differingKeys: [],
  };
};
const tables = [
  v('public.accounts', 16, { 'test-account': 4 }),
  v('public.users', 38, { 'parent-left-behind:public.accounts': 12 }),
  v('public.projects', 30, { 'parent-left-behind:public.accounts': 8, 'parent-left-behind:public.users': 2 }),
  v('public.events', 400, { 'parent-left-behind:public.projects': 100, mystery: 1 }),
];

const pack: EvidencePack = {
  planId: 'ev-unit',
  planHash: 'h'.repeat(64),
  strategy: 'selective',
  status: 'completed',
  initiatedBy: 'alice',
  workflowId: 'cutover-ev-unit',
  runId: 'r1',
  runKey: 'k1',
  startedAt: '2026-01-02T03:00:00.000Z',
  finishedAt: '2026-01-02T04:00:00.000Z',
  plan,
  approvals: [{ gate: 'plan', approver: 'bob', at: '2026-01-02T03:10:00.000Z' }],
  refused: [],
  refusedCount: 0,
  steps: [
    { step: 'preflight', outcome: 'started', at: '2026-01-02T03:00:01.000Z' },
    { step: 'preflight', outcome: 'completed', at: '2026-01-02T03:00:02.000Z' },
    { step: 'gate:plan', outcome: 'approved', at: '2026-01-02T03:10:00.000Z', detail: 'bob' },
    { step: 'rehearsal', outcome: 'skipped', at: '2026-01-02T03:10:01.000Z', detail: 'rehearsal mode skip' },
    { step: 'validate', outcome: 'started', at: '2026-01-02T03:20:00.000Z' },
    { step: 'validate', outcome: 'failed', at: '2026-01-02T03:20:01.000Z', detail: 'ValidationError: x' },
    { step: 'validate', outcome: 'retried', at: '2026-01-02T03:30:00.000Z', detail: 'by oncall: fixed the grant' },
    { step: 'validate', outcome: 'started', at: '2026-01-02T03:30:00.000Z' },
    { step: 'validate', outcome: 'completed', at: '2026-01-02T03:30:05.000Z' },
  ],
  dryRun: null,
  stage: null,
  cleanup: null,
  publish: null,
  validation: { ok: true, tables },
  accessChecks: null,
  rollback: null,
  backups: null,
  rehearsal: null,
  decision: null,
};

test('a cascade reason is followed to its root through every parent chain', () => {
  const counts = Object.fromEntries(tables.map((t) => [t.table, t.leftBehindByReason]));
  expect(rootCauses(counts, 'public.events', 'parent-left-behind:public.projects')).toEqual([
    'parent-left-behind:public.projects ← parent-left-behind:public.accounts ← test-account',
    'parent-left-behind:public.projects ← parent-left-behind:public.users ← parent-left-behind:public.accounts ← test-account',
  ]);
  // A self-reference does not loop; a parent with no recorded reason ends the chain.
  expect(
    rootCauses({ 'public.c': { 'parent-left-behind:public.c': 3, 'test-account': 1 } }, 'public.c', 'parent-left-behind:public.c'),
  ).toEqual(['parent-left-behind:public.c ← test-account']);
  expect(rootCauses({}, 'public.c', 'parent-left-behind:public.x')).toEqual(['parent-left-behind:public.x']);
});

test('the document: every key present, rules in words, steps with decisions, open items', () => {
  const doc = buildEvidence(pack);
  expect(Object.keys(doc)).toEqual(
    expect.arrayContaining([
      'schemaVersion',
      'decision',
      'approvals',
      'refused',
      'dryRun',
      'backups',
      'rehearsal',
      'cleanup',
      'manifest',
      'idChanges',
      'consent',
      'testData',
      'validation',
      'accessChecks',
      'erasure',
      'rollback',
      'restore',
      'steps',
      'openItems',
      'run',
    ]),
  );
  expect(doc.restore).toBeNull(); // no rollback by restore in this run
  expect(doc.manifest.totals).toEqual({ inScope: 484 + 127, moved: 484, merged: 0, leftBehind: 127 });
  expect(doc.rules.map((r) => r.text)).toContain("Test data: rows of public.accounts where name like 'Test%' stay behind as test-account.");
  expect(doc.testData).toEqual([
    expect.objectContaining({ table: 'public.accounts', reason: 'test-account', leftBehind: 4, cascaded: 12 + 8 + 2 + 100 }),
  ]);
  const validate = doc.steps.find((s) => s.step === 'validate')!;
  expect(validate).toMatchObject({
    startedAt: '2026-01-02T03:20:00.000Z',
    endedAt: '2026-01-02T03:30:05.000Z',
    outcome: 'completed',
    attempts: 2,
  });
  expect(validate.decisions).toEqual([{ outcome: 'retried', by: 'oncall', reason: 'fixed the grant', at: '2026-01-02T03:30:00.000Z' }]);
  expect(doc.steps.find((s) => s.step === 'gate:plan')!.decisions).toEqual([
    { outcome: 'approved', by: 'bob', reason: '', at: '2026-01-02T03:10:00.000Z' },
  ]);
  expect(doc.openItems).toEqual(
    expect.arrayContaining([
      'The plan gives no decision.reason: why this cutover was decided is not written down.',
      'Step rehearsal was skipped (rehearsal mode skip): no rehearsal of this cutover was performed.',
      'The approval of gate plan by bob at 2026-01-02T03:10:00.000Z is not signed.',
      '1 row(s) of public.events were left behind as mystery, and no rule of the plan says why.',
    ]),
  );
  expect(doc.openItems.join('\n')).not.toContain('test-account, and no rule');
  // A signature (added by signed approvals) that verified is no open item; a reason given is none either.
  const signed = buildEvidence({
    ...pack,
    plan: { ...plan, decision: { reason: 'Pilot ends 31 March' } },
    approvals: [{ ...pack.approvals[0], signature: { verified: true, fingerprint: 'AB12' } } as never],
  });
  expect(signed.decision.reason).toBe('Pilot ends 31 March');
  expect(signed.approvals[0].signature).toEqual({ signed: true, verified: true, fingerprint: 'AB12' });
  expect(signed.openItems.join('\n')).not.toMatch(/not signed|decision\.reason/);
});

test('a run that did not validate shows what cleanup left behind, each row under its own cause, not "no rows left behind"', () => {
  const cleanup = {
    leftBehind: {
      'public.accounts': { 'test-account': 4 },
      'public.users': { 'erasure-request': 1, 'parent-left-behind:public.accounts': 12 },
      'public.projects': { 'parent-left-behind:public.users': 3 },
    },
    rootCauses: {
      'public.accounts': { 'test-account': { 'test-account': 4 } },
      'public.users': {
        'erasure-request': { 'erasure-request': 1 },
        'parent-left-behind:public.accounts': { 'parent-left-behind:public.accounts ← test-account': 12 },
      },
      'public.projects': {
        'parent-left-behind:public.users': {
          'parent-left-behind:public.users ← erasure-request': 1,
          'parent-left-behind:public.users ← parent-left-behind:public.accounts ← test-account': 2,
        },
      },
    },
    transforms: [],
  };
  const md = formatReportMarkdown({ ...pack, validation: null, cleanup });
  expect(md).not.toContain('No rows left behind');
  expect(md).toContain('| public.projects | parent-left-behind:public.users | 1 | parent-left-behind:public.users ← erasure-request |');
  expect(md).toContain(
    '| public.projects | parent-left-behind:public.users | 2 | parent-left-behind:public.users ← parent-left-behind:public.accounts ← test-account |',
  );
  // A pack from before per-row causes: a reason with several possible chains is not given one count each.
  const old = formatReportMarkdown({
    ...pack,
    validation: { ok: true, tables: [...tables, v('public.tasks', 5, { 'parent-left-behind:public.projects': 7 })] },
  });
  expect(old).toContain(
    '| public.tasks | parent-left-behind:public.projects | not recorded per chain | parent-left-behind:public.projects ← parent-left-behind:public.accounts ← test-account |',
  );
  expect(old).not.toContain('| public.tasks | parent-left-behind:public.projects | 7 |');
});

test('markdown and HTML show the per-table columns and the root-cause line', () => {
  const md = formatReportMarkdown(pack);
  expect(md).toContain('| table | ids | in scope | moved | merged | left behind | left behind (reasons) | balanced |');
  expect(md).toContain('| public.users |  | 50 | 38 | 0 | 12 | parent-left-behind:public.accounts=12 | yes |');
  expect(md).toContain('| total |  | 611 | 484 | 0 | 127 |  | yes |');
  expect(md).toContain('| public.users | parent-left-behind:public.accounts | 12 | parent-left-behind:public.accounts ← test-account |');
  expect(md).toContain("Test data: rows of public.accounts where name like 'Test%' stay behind as test-account.");
  expect(md).toContain(
    "```sql\n-- counts per table, outcome and reason (equal to the tables above)\nSELECT table_name, outcome, reason, count(*) FROM cutover.manifest WHERE run_key = 'k1'",
  );
  expect(md).toContain('## Open items');
  const html = formatReportHtml(pack);
  expect(html).toContain('<td>parent-left-behind:public.accounts ← test-account</td>');
  expect(html).toContain('<tr><td>public.users</td><td></td><td>50</td><td>38</td><td>0</td><td>12</td>');
  expect(html).toContain('FROM cutover.id_map WHERE run_key = &#39;k1&#39;');
  expect(html).not.toMatch(/<link|<script|src=|https?:\/\//);
});
