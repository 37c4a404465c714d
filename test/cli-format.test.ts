// Unit tests of the CLI's pure parts: formatters, id/option handling, error → exit code mapping. No services.
import type { StatusView } from '../common/temporal';
import { temporalSettings, workflowUiLink } from '../client/connection';
import { approveInput, rejectInput, resumeInput } from '../client/commands/decide';
import { renderReport } from '../client/commands/report';
import { buildEvidence } from '../common/evidence';
import { CliError, describeError, planFileError, planIssueLines, TemporalUnreachableError } from '../client/errors';
import { formatDryRun } from '../client/format/dryrun';
import { formatList, listQuery } from '../client/format/list';
import { formatPlanSummary, startDetails, startSummary } from '../client/format/plan';
import { formatReportHtml, htmlEscape } from '../client/format/report-html';
import { formatReportMarkdown, mdEscape } from '../client/format/report-md';
import { formatApprovals, formatStatus, progressFromHeartbeat } from '../client/format/status';
import { formatReasons, percent, renderTable } from '../client/format/table';
import { isTerminal, parseAction, parseGate, parseReportFormat, parseStatus, resolveActor, toWorkflowId } from '../client/options';
import { initialSearchAttributes, listStatus } from '../client/search-attributes';

import { basePack as pack, dryRun } from './helpers/full-pack';

const view: StatusView = {
  planId: 'acme-pilot',
  strategy: 'selective',
  status: 'paused',
  phase: 'validate',
  gate: null,
  approvals: pack.approvals,
  required: 2,
  refused: pack.refused,
  refusedCount: 1,
  error: { step: 'validate', type: 'ValidationError', message: 'public.rental: checksums differ', at: '2026-01-02T03:55:00.000Z' },
  progress: { 'public.rental': { table: 'public.rental', rowsCopied: 4000, rowsTotal: 8000, phase: 'stage' } },
  planHash: 'a'.repeat(64),
  initiatedBy: 'dora',
  runKey: 'k1',
  steps: pack.steps,
};

describe('ids and options', () => {
  test('plan id or workflow id', () => {
    expect(toWorkflowId('acme-pilot')).toBe('cutover-acme-pilot');
    expect(toWorkflowId('cutover-acme-pilot')).toBe('cutover-acme-pilot');
    expect(toWorkflowId('  acme  ')).toBe('cutover-acme');
    expect(() => toWorkflowId('')).toThrow(CliError);
  });

  test('--as falls back to $USER then $LOGNAME, else bad input', () => {
    expect(resolveActor('alice', { USER: 'bob' })).toBe('alice');
    expect(resolveActor(undefined, { USER: 'bob', LOGNAME: 'carl' })).toBe('bob');
    expect(resolveActor(undefined, { LOGNAME: 'carl' })).toBe('carl');
    let err: unknown;
    try {
      resolveActor(undefined, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
  });

  test('gate, action, status, format are validated locally (exit 2)', () => {
    expect(parseGate('plan')).toBe('plan');
    expect(parseGate('cutover')).toBe('cutover');
    expect(parseAction('roll-forward')).toBe('roll-forward');
    expect(parseStatus('awaiting-approval')).toBe('awaiting-approval');
    expect(parseReportFormat('html')).toBe('html');
    for (const bad of [
      () => parseGate('nope'),
      () => parseAction('undo'),
      () => parseStatus('done'),
      () => parseReportFormat('pdf'),
      () => parseGate(undefined),
    ]) {
      try {
        bad();
        throw new Error('expected a CliError');
      } catch (e) {
        expect(e).toBeInstanceOf(CliError);
        expect((e as CliError).exitCode).toBe(2);
        expect((e as CliError).message).toMatch(/must be one of/);
      }
    }
    expect(describeError(catchIt(() => parseGate('nope')))).toEqual({
      exitCode: 2,
      lines: ['error: --gate must be one of plan, cutover, restore (got "nope")'],
    });
  });

  test('update inputs', () => {
    expect(approveInput({ gate: 'plan', as: 'alice', comment: 'ok', planHash: 'h' }, {})).toEqual({
      gate: 'plan',
      approver: 'alice',
      comment: 'ok',
      planHash: 'h',
    });
    expect(approveInput({ gate: 'cutover' }, { USER: 'bob' })).toEqual({ gate: 'cutover', approver: 'bob' });
    expect(approveInput({ gate: 'cutover', as: 'bob', rehearsalHash: 'r' }, {})).toEqual({
      gate: 'cutover',
      approver: 'bob',
      rehearsalHash: 'r',
    });
    expect(rejectInput({ gate: 'plan', as: 'carol', reason: 'too many left behind' }, {})).toEqual({
      gate: 'plan',
      approver: 'carol',
      reason: 'too many left behind',
    });
    expect(resumeInput({ action: 'roll-forward', as: 'oncall', reason: 'fixed fk', from: 'validate' }, {})).toEqual({
      action: 'roll-forward',
      by: 'oncall',
      reason: 'fixed fk',
      fromStep: 'validate',
    });
    expect(() => rejectInput({ gate: 'plan', as: 'carol', reason: '   ' }, {})).toThrow(/--reason must not be empty/);
    expect(() => resumeInput({ action: 'explode', as: 'x', reason: 'r' }, {})).toThrow(
      /--action must be one of retry, skip, rollback, roll-forward, abort/,
    );
  });

  test('terminal statuses', () => {
    for (const s of ['completed', 'rolled-back', 'aborted', 'rejected', 'expired', 'failed']) expect(isTerminal(s)).toBe(true);
    for (const s of ['running', 'awaiting-approval', 'paused']) expect(isTerminal(s)).toBe(false);
  });

  test('Temporal settings from the environment', () => {
    expect(temporalSettings({})).toMatchObject({ address: 'localhost:7233', namespace: 'default', uiUrl: 'http://localhost:8233' });
    const s = temporalSettings({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'ops', CUTOVER_UI_URL: 'http://ui.example:8233/' });
    expect(s).toMatchObject({ address: 'temporal:7233', namespace: 'ops', uiUrl: 'http://ui.example:8233' });
    expect(workflowUiLink(s, 'cutover-acme')).toBe('http://ui.example:8233/namespaces/ops/workflows/cutover-acme');
    // The dev server's UI port from scripts/services.sh, when no URL is given; a URL wins.
    expect(temporalSettings({ TEMPORAL_UI_PORT: '18233' }).uiUrl).toBe('http://localhost:18233');
    expect(temporalSettings({ TEMPORAL_UI_PORT: '18233', CUTOVER_UI_URL: 'https://ui.example' }).uiUrl).toBe('https://ui.example');
    expect(temporalSettings({ TEMPORAL_UI_PORT: 'x' }).uiUrl).toBe('http://localhost:8233');
  });
});

function catchIt(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

describe('errors → exit codes', () => {
  test('plan issues name file, line and path', () => {
    const issues = [
      { path: 'approvals.required', message: 'must be at most the number of approvers', line: 7 },
      { path: 'tables[1].ids', message: 'must be one of keep, new, match' },
    ];
    expect(planIssueLines('plan.yaml', issues)).toEqual([
      'plan.yaml:7: approvals.required: must be at most the number of approvers',
      'plan.yaml: tables[1].ids: must be one of keep, new, match',
    ]);
    const err = Object.assign(new Error('bad'), { name: 'PlanError', issues });
    const mapped = describeError(planFileError('plan.yaml', err));
    expect(mapped.exitCode).toBe(2);
    expect(mapped.lines[0]).toBe('plan.yaml:7: approvals.required: must be at most the number of approvers');
    expect(mapped.lines.at(-1)).toBe('error: invalid plan plan.yaml (2 problems)');
    expect(describeError(planFileError('missing.yaml', new Error('ENOENT: no such file')))).toEqual({
      exitCode: 2,
      lines: ['missing.yaml: ENOENT: no such file'],
    });
  });

  test('Temporal errors', () => {
    const unreachable = describeError(new TemporalUnreachableError('127.0.0.1:1', 'default', 'Failed to connect before the deadline'));
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.lines[0]).toMatch(/^error: cannot reach Temporal at 127\.0\.0\.1:1/);
    const refused = Object.assign(new Error('Workflow Update failed'), {
      name: 'WorkflowUpdateFailedError',
      cause: new Error('alice already approved gate plan'),
    });
    expect(describeError(refused)).toEqual({ exitCode: 1, lines: ['refused: alice already approved gate plan'] });
    expect(describeError(Object.assign(new Error('x'), { code: 'commander.unknownOption', exitCode: 1 })).exitCode).toBe(2);
    expect(describeError(Object.assign(new Error('x'), { code: 'commander.missingMandatoryOptionValue', exitCode: 1 })).exitCode).toBe(2);
    expect(describeError(Object.assign(new Error('x'), { code: 'commander.helpDisplayed', exitCode: 0 })).exitCode).toBe(0);
    expect(describeError(new Error('boom'))).toEqual({ exitCode: 1, lines: ['error: boom'] });
  });
});

describe('formatters', () => {
  test('renderTable aligns columns and right-aligns numbers', () => {
    const t = renderTable(
      ['name', 'n'],
      [
        ['a', 5],
        ['long name', 12345],
      ],
    ).split('\n');
    expect(t[0]).toBe('name       n');
    expect(t[1]).toBe('---------  -----');
    expect(t[2]).toBe('a              5');
    expect(t[3]).toBe('long name  12345');
    expect(formatReasons({ b: 2, a: 1, z: 0 })).toBe('a=1, b=2');
    expect(formatReasons({})).toBe('-');
    expect(percent(1, 3)).toBe('33%');
    expect(percent(0, 0)).toBe('-');
  });

  test('dry run table in FK order with reasons, collisions and warnings', () => {
    const text = formatDryRun(dryRun);
    const lines = text.split('\n');
    const header = lines.find((l) => l.startsWith('order'))!;
    for (const h of ['table', 'select', 'in scope', 'to move', 'merged', 'left behind', 'collisions']) expect(header).toContain(h);
    const idx = (t: string) => lines.findIndex((l) => l.includes(t));
    expect(idx('public.country')).toBeLessThan(idx('public.customer'));
    expect(idx('public.customer')).toBeLessThan(idx('public.rental '));
    expect(lines[idx('public.customer')]).toMatch(/no-consent=3, test-account=7/);
    expect(lines[idx('public.rental ')]).toMatch(/follow customer_id\s+8000\s+7900\s+0\s+test-account=100\s+4$/);
    expect(text).toContain('total: 8320 rows in scope, 8210 to move, 0 merged, 110 left behind');
    expect(text).toContain('warnings:\n  - public.rental: 4 selected key(s) already exist in production');
  });

  test('plan summary and start summary', () => {
    const plan = {
      id: 'acme-pilot',
      strategy: 'selective',
      source: 'pilot',
      target: 'production',
      approvals: { approvers: ['alice', 'bob', 'carol'], required: 2, separationOfDuties: true, timeout: '72h' },
      tables: [
        { table: 'public.customer', ids: 'new' },
        { table: 'public.country', ids: 'match' },
      ],
    };
    const text = formatPlanSummary(plan, 'h'.repeat(64), 'plan.yaml');
    expect(text).toContain('id:        acme-pilot');
    expect(text).toContain(`hash:      ${'h'.repeat(64)}`);
    expect(text).toContain('approvals: 2 of alice, bob, carol, initiator excluded, timeout 72h');
    expect(text).toContain('  - public.country (ids: match)');
    expect(startSummary(plan, 'dora')).toBe('cutover acme-pilot: selective pilot → production (2 tables), initiated by dora');
    expect(startDetails(plan, 'h'.repeat(64), 'dora')).toContain(`**plan hash** \`${'h'.repeat(64)}\``);
  });

  test('status view: approvals n/required, error when paused, steps, progress with live heartbeats', () => {
    const live = progressFromHeartbeat(
      [
        { table: 'public.rental', rowsCopied: 6000, rowsTotal: 8000 },
        { table: 'public.customer', rowsCopied: '10', rowsTotal: 300 },
        'junk',
      ],
      'stage',
    );
    expect(live).toEqual([
      { table: 'public.rental', rowsCopied: 6000, rowsTotal: 8000, activity: 'stage' },
      { table: 'public.customer', rowsCopied: 10, rowsTotal: 300, activity: 'stage' },
    ]);
    expect(progressFromHeartbeat({ table: 't', rowsCopied: 1, rowsTotal: 2 })).toEqual([{ table: 't', rowsCopied: 1, rowsTotal: 2 }]);
    expect(progressFromHeartbeat(null)).toEqual([]);
    expect(formatApprovals(view)).toBe('plan 2/2 (alice, bob); cutover 1/2 (carol)');
    expect(formatApprovals({ ...view, gate: 'cutover' })).toBe('cutover 1/2 (carol)');

    const text = formatStatus(view, { live });
    expect(text).toContain('status:       paused');
    expect(text).toContain('phase:        validate');
    expect(text).toContain('error:        [validate] ValidationError: public.rental: checksums differ');
    expect(text).toContain('cutover resume cutover-acme-pilot --action');
    expect(text).toContain('the initiator cannot approve (separation of duties)');
    expect(text).toMatch(/public\.rental\s+staged\s+6000\s+8000\s+75%\s+live \(stage\)/);
    expect(text).toMatch(/public\.customer\s+staged\s+10\s+300\s+3%/);
    expect(text).toMatch(/preflight\s+completed/);

    const waiting = formatStatus({ ...view, status: 'awaiting-approval', gate: 'cutover', error: null, progress: {} });
    expect(waiting).not.toContain('error:');
    expect(waiting).toContain('approvals:    cutover 1/2 (carol)');
    expect(waiting).toContain('cutover approve cutover-acme-pilot --gate cutover');
    expect(waiting).not.toContain('progress:');

    const rehearsal = {
      ok: true,
      rehearsalHash: 'b'.repeat(64),
      rollbackProven: true,
      tables: [{ table: 'public.customer', moved: 290, merged: 0, leftBehind: 10 }],
      failed: null,
    };
    const rehearsed = formatStatus({ ...view, status: 'awaiting-approval', gate: 'cutover', error: null, progress: {}, rehearsal });
    expect(rehearsed).toContain(`rehearsal:    ok, rollback proven, hash ${'b'.repeat(64)} — moved public.customer 290, 10 left behind`);
    expect(rehearsed).toContain(`cutover approve cutover-acme-pilot --gate cutover --rehearsal-hash ${'b'.repeat(64)} --as NAME`);
    expect(formatStatus({ ...view, rehearsal: { ...rehearsal, ok: false, failed: 'publish: ConflictError' } })).toContain(
      'rehearsal:    FAILED (publish: ConflictError)',
    );
  });

  test('markdown report: summary, hash, dry run, approvals, refusals, steps, checksums per table', () => {
    const md = formatReportMarkdown(pack);
    expect(md.startsWith('# Cutover evidence: acme-pilot (completed)')).toBe(true);
    for (const h of [
      '## Summary',
      '## Plan hash',
      '## Dry run',
      '## Approvals',
      '## Refused signals',
      '## Steps',
      '### Table public.country',
      '### Table public.customer',
      '### Table public.rental',
    ]) {
      expect(md).toContain(`\n${h}\n`);
    }
    expect(md).toContain('a'.repeat(64));
    expect(md).toMatch(/\| plan \| alice \| 2026-01-02T03:10:00\.000Z \| looks right \|/);
    expect(md).toMatch(/\| plan \| bob \|/);
    expect(md).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(md).toContain('the initiator cannot approve (separation of duties)');
    expect(md).toContain('8210 rows \\| 3 tables'); // pipes in cells escaped
    for (const sum of ['sum-country-1', 'sum-customer-2', 'sum-rental-3', 'sum-rental-X', 'pre-rental']) expect(md).toContain(sum);
    expect(md).toContain('**in scope = moved + merged + left behind**: 300 = 290 + 0 + 10');
    expect(md).toContain('**checksums match**: NO');
    expect(md).toContain('problem: rental_id 17 differs');
    expect(md).toMatch(/\| 2 \| public\.rental \| keep \| follow customer_id \| 16000 \| 8000 \| 7900 \| 100 \| test-account=100 \| 4 \|/);
    // the per-table sections follow the FK order of the dry run
    expect(md.indexOf('### Table public.country')).toBeLessThan(md.indexOf('### Table public.customer'));
  });

  test('refusals the run no longer keeps are counted in status and report', () => {
    expect(formatStatus(view)).toContain('\nrefused signals:\n');
    expect(formatStatus({ ...view, refusedCount: 150 })).toContain('refused signals (the last 1 of 150):');
    expect(formatReportMarkdown({ ...pack, refusedCount: 150 })).toContain('150 refused in all; the run keeps the last 1.');
  });

  test('markdown report of a run that has only just started', () => {
    const md = formatReportMarkdown({
      ...pack,
      status: 'running',
      finishedAt: null,
      approvals: [],
      refused: [],
      steps: [],
      dryRun: null,
      stage: null,
      publish: null,
      validation: null,
    });
    expect(md).toContain('No approvals.');
    expect(md).toContain('No refused signals.');
    expect(md).toContain('No dry run yet.');
    expect(md).toContain('**finished at**: still running');
  });

  test('html report is self-contained and escaped', () => {
    const html = formatReportHtml(pack);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<link|src=|https?:\/\//);
    expect(html).toContain('<h2>Approvals</h2>');
    expect(html).toContain('<td>alice</td>');
    expect(html).toContain('the initiator cannot approve (separation of duties)');
    for (const sum of ['sum-country-1', 'sum-customer-2', 'sum-rental-3', 'sum-rental-X']) expect(html).toContain(sum);
    expect(htmlEscape(`"a" & 'b' <c>`)).toBe('&quot;a&quot; &amp; &#39;b&#39; &lt;c&gt;');
    expect(mdEscape('a|b\nc')).toBe('a\\|b<br>c');
  });

  test('json report is the evidence document (schemaVersion 1) and round-trips', () => {
    const doc = JSON.parse(renderReport(pack, 'json'));
    expect(doc).toEqual(buildEvidence(pack));
    expect(doc.schemaVersion).toBe(1);
    expect(doc.run.runKey).toBe('k1');
    expect(JSON.parse(renderReport(doc, 'json'))).toEqual(doc);
  });

  test('list: query, status flags, rows', () => {
    expect(listQuery('cutoverMigration', 'CutoverStatus')).toBe(
      "WorkflowType = 'cutoverMigration' AND ExecutionStatus != 'ContinuedAsNew'",
    );
    expect(listQuery('cutoverMigration', 'CutoverStatus', 'paused')).toBe(
      "WorkflowType = 'cutoverMigration' AND ExecutionStatus != 'ContinuedAsNew' AND CutoverStatus = 'paused'",
    );
    expect(listStatus('paused', 'RUNNING')).toBe('paused');
    expect(listStatus('running', 'TERMINATED')).toBe('running (execution terminated)');
    expect(listStatus('failed', 'FAILED')).toBe('failed');
    // Runs that did not succeed close as Failed on purpose (common/outcome.ts): no "(execution failed)".
    for (const st of ['rejected', 'expired', 'aborted', 'rolled-back']) expect(listStatus(st, 'FAILED')).toBe(st);
    expect(listStatus('completed', 'FAILED')).toBe('completed (execution failed)');
    expect(listStatus(undefined, 'COMPLETED')).toBe('completed');
    const text = formatList([
      { workflowId: 'cutover-a', status: 'paused', phase: 'validate', planId: 'a', startTime: new Date('2026-01-02T03:00:00Z') },
    ]);
    expect(text).toMatch(/^workflow id\s+status\s+phase\s+started/);
    expect(text).toMatch(/cutover-a\s+paused\s+validate\s+2026-01-02T03:00:00\.000Z/);
    expect(formatList([])).toBe('no cutover workflows found');
  });

  test('initial search attributes', () => {
    expect(initialSearchAttributes('acme').map((p) => [p.key.name, p.value])).toEqual([
      ['CutoverStatus', 'running'],
      ['CutoverPhase', 'preflight'],
      ['CutoverPlanId', 'acme'],
    ]);
  });
});
