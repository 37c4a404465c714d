/**
 * One PlanError shape (common/plan-failure.ts): a refusal made in the plan file, by the catalogs in
 * an activity, or by the workflow carries the same issues and the same `path: message` lines, and
 * the CLI prints a refusal from the dry run exactly as it prints one from the plan file. Pure: no
 * server, no database.
 */
import { ApplicationFailure } from '@temporalio/common';
import { planFailure, planIssuesOf } from '../common/plan-failure';
import { PlanError } from '../plan/issues';
import { planError, planIssue } from '../activities/errors';
import { preflightError } from '../client/commands/plan';
import { CliError, describeError, planFileError } from '../client/errors';

const issues = [
  { path: 'tables[0].table', message: 'unknown table public.acounts in source (pilot); did you mean public.accounts?' },
  { path: 'tables[2].match', message: 'natural key (code) is not unique in public.plans (production)' },
];

describe('a refused plan has one shape', () => {
  test('a PlanError becomes a final failure of type PlanError with the same message and its issues as details', () => {
    const err = new PlanError(issues);
    const f = planFailure(err);
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f).toMatchObject({ type: 'PlanError', nonRetryable: true, message: err.message, details: [issues] });
    expect(f.message).toBe(
      'tables[0].table: unknown table public.acounts in source (pilot); did you mean public.accounts?\ntables[2].match: natural key (code) is not unique in public.plans (production)',
    );
  });

  test('one issue, a list of issues or a PlanError give the same failure', () => {
    const one = { path: 'backup', message: 'the plan has no backup section (backup.store): nothing to back up' };
    for (const f of [
      planFailure(one),
      planFailure([one]),
      planFailure(new PlanError([one])),
      planIssue(one.path, one.message),
      planError(one),
    ]) {
      expect({ type: f.type, message: f.message, details: f.details }).toEqual({
        type: 'PlanError',
        message: `backup: ${one.message}`,
        details: [[one]],
      });
    }
  });

  test('the issues are read back from a failure, and from nothing else', () => {
    expect(planIssuesOf(planFailure(issues))).toEqual(issues);
    expect(planIssuesOf(ApplicationFailure.create({ type: 'ConfigError', message: 'x', details: [issues] }))).toBeNull();
    expect(planIssuesOf(ApplicationFailure.create({ type: 'PlanError', message: 'x', details: ['not issues'] }))).toBeNull();
    expect(planIssuesOf(ApplicationFailure.create({ type: 'PlanError', message: 'x' }))).toBeNull();
    expect(planIssuesOf(new PlanError(issues))).toBeNull(); // in-process: its own issues, no failure type
    expect(planIssuesOf(undefined)).toBeNull();
  });
});

describe('the CLI prints it the same way wherever it was refused', () => {
  const lines = (e: Error) => (e instanceof CliError ? e.lines : describeError(e).lines);

  test('a refusal by the catalogs (plan check --connect) reads like a refusal of the plan file', () => {
    const fromDryRun = preflightError('plan.yaml', planFailure(issues));
    const fromFile = planFileError('plan.yaml', new PlanError(issues));
    expect(lines(fromDryRun)).toEqual(lines(fromFile));
    expect(lines(fromDryRun)).toEqual([
      'plan.yaml: tables[0].table: unknown table public.acounts in source (pilot); did you mean public.accounts?',
      'plan.yaml: tables[2].match: natural key (code) is not unique in public.plans (production)',
      'error: invalid plan plan.yaml (2 problems)',
    ]);
    expect(describeError(fromDryRun).exitCode).toBe(2);
  });

  test('other failures of the dry run keep their own words', () => {
    const config = ApplicationFailure.create({
      type: 'ConfigError',
      message: 'connection alias "pilot" is not configured',
      nonRetryable: true,
    });
    expect(lines(preflightError('plan.yaml', config))).toEqual(['plan.yaml: ConfigError: connection alias "pilot" is not configured']);
    expect(describeError(preflightError('plan.yaml', new Error('connection refused'))).exitCode).toBe(1);
  });
});
