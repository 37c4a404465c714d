// The pure rules behind issue 21 #5 and #8, fast: how a DETAIL is reduced (activities/db/row-values.ts),
// what a dry run predicts publish will refuse (common/predicted-refusals.ts), and how the evidence
// counts a step's attempts from Temporal's own numbers (common/evidence-steps.ts).
import { inspect } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { reduceDetail, reduceMessage, withholdValuesIn } from '../activities/db/row-values';
import { withholdRowValues } from '../activities/interceptor';
import { isAttemptMarker, takeAttempt } from '../common/attempts';
import { stepsOf } from '../common/evidence-steps';
import { predictedRefusals } from '../common/predicted-refusals';
import type { DryRunReport } from '../common/results';

test('a DETAIL keeps column names, values only for keys', () => {
  expect(reduceDetail('Key (email)=(ann@x.example) already exists.', '23505', false)).toBe('Key (email)=(…) already exists.');
  expect(reduceDetail('Key (user_id)=(5) already exists.', '23505', true)).toBe('Key (user_id)=(5) already exists.');
  expect(reduceDetail('Key (account_id)=(9) is not present in table "accounts".', '23503', false)).toBe(
    'Key (account_id)=(…) is not present in table "accounts".',
  );
  expect(reduceDetail('Key (lower(email))=(a (b) c) already exists.', '23505', false)).toBe('Key (lower(email))=(…) already exists.');
  expect(reduceDetail('Failing row contains (7, ann@x.example, Ann).', '23514', false, 'users_name_check')).toBe(
    'Failing row contains (…): it breaks constraint users_name_check.',
  );
  expect(reduceDetail('Key (r)=([1,2)) conflicts with existing key (r)=([0,3)).', '23P01', true)).toBe(
    'Key (r)=(…) conflicts with existing key (r)=(…).',
  );
  expect(reduceDetail('Array value must start with "{" or dimension information.', '22P02', false)).toMatch(/^withheld/);
  expect(reduceDetail('Process 1 waits for ShareLock on transaction 2; blocked by process 3.', '40P01', false)).toBe(
    'Process 1 waits for ShareLock on transaction 2; blocked by process 3.',
  );
  expect(reduceMessage('invalid input syntax for type integer: "ann@x.example"', '22P02')).toBe(
    'invalid input syntax for type integer: "…"',
  );
  expect(reduceMessage('duplicate key value violates unique constraint "users_email_key"', '23505')).toBe(
    'duplicate key value violates unique constraint "users_email_key"',
  );
  expect(
    withholdValuesIn(
      'pg_restore: error: COPY failed\nDETAIL:  Key (email)=(ann@x.example) already exists.\nFailing row contains (1, ann).',
    ),
  ).toBe('pg_restore: error: COPY failed\nDETAIL:  Key (email)=(…) already exists.\nFailing row contains (…).');
});

test('predicted refusals: ids: keep collisions per table, and warnings that say a step will refuse', () => {
  const dry = {
    tables: [
      { table: 'public.accounts', collisions: 2 },
      { table: 'public.users', collisions: 0 },
    ],
    warnings: [
      'public.accounts: 2 selected key(s) already exist in production (ids: keep): publish will refuse them',
      'a note',
      'publish will refuse rows already moved by run x',
    ],
  } as unknown as DryRunReport;
  expect(predictedRefusals(dry).map((p) => p.reason)).toEqual(['collisions:public.accounts', 'warning:3']);
  expect(predictedRefusals(null)).toEqual([]);
});

test("a step's attempts are Temporal's: a start that took 3 activity attempts counts 3", () => {
  const value: Record<string, unknown> = { rows: 1, activityAttempt: 3 };
  expect(takeAttempt(value)).toBe(3);
  expect(value).toEqual({ rows: 1 });
  expect(isAttemptMarker({ activityAttempt: 2 })).toBe(true);
  const at = '2026-01-01T00:00:00Z';
  const steps = stepsOf(
    [
      { step: 'stage', outcome: 'started', at },
      { step: 'stage', outcome: 'failed', at, detail: 'X: y', attempts: 3 },
      { step: 'stage', outcome: 'retried', at, detail: 'by oncall: fixed' },
      { step: 'stage', outcome: 'started', at },
      { step: 'stage', outcome: 'completed', at, attempts: 2 },
      { step: 'publish', outcome: 'started', at },
      { step: 'publish', outcome: 'completed', at },
    ],
    [],
  );
  expect(steps.map((s) => [s.step, s.attempts])).toEqual([
    ['stage', 5],
    ['publish', 1],
  ]);
});

test('what a logger prints of a failure leaving an activity: no details, no nested DETAIL or CONTEXT values', () => {
  const pg = Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), {
    code: '23505',
    severity: 'ERROR',
    constraint: 'users_email_key',
    detail: 'Key (email)=(ann@x.example) already exists.',
    where: 'COPY users, line 1: "7\tann@x.example"',
  });
  const wrapped = withholdRowValues(new Error('publish failed', { cause: pg }));
  const failure = withholdRowValues(
    ApplicationFailure.create({ type: 'ValidationError', message: 'bad', details: [{ row: 'ann@x.example' }] }),
  ) as ApplicationFailure;
  expect(inspect(wrapped, { depth: 8 })).not.toContain('ann@x.example');
  expect(inspect(failure, { depth: 8 })).not.toContain('ann@x.example');
  // The details are still there for the failure converter (encrypted payloads).
  expect(failure.details).toEqual([{ row: 'ann@x.example' }]);
});
