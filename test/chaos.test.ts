// The reliability suite's CI subset (npm run chaos -- --quick; the full suite is `npm run chaos`):
// a run's database connections ended by the server mid-COPY and inside the publish transaction
// (retried, same result), Production refusing a row by a unique non-key column (paused with the
// constraint and key named, nothing published, rollback not offered, aborted), and the worker process
// killed with SIGKILL while a gate waits (a new process carries the run on). Each run's Production is
// compared row by row with an undisturbed reference run. The worker runs from dist/ (built by npm test, or here when stale).
import { runSuite, type SuiteResult } from '../chaos/suite';
import { ensureBuilt } from './helpers/build';

let result: SuiteResult;
const lines: string[] = [];

beforeAll(async () => {
  await ensureBuilt(); // its workers run from dist/
  result = await runSuite({ quick: true, log: (l) => lines.push(l) });
}, 600000);

test('every fault of the CI subset was injected and survived, nothing lost or duplicated', () => {
  const failed = result.faults.filter((f) => !f.survived);
  if (failed.length)
    throw new Error(`not survived: ${JSON.stringify(failed)}\nruns: ${JSON.stringify(result.runs, null, 1)}\n${lines.join('\n')}`);
  // The faults in any order (their runs end in whatever order the machine allows).
  expect(result.faults.map((f) => f.fault).sort()).toEqual(
    [
      'pg_terminate_backend during stage COPY',
      'pg_terminate_backend inside the publish transaction',
      'unique conflict in Production (row inserted after preflight)',
      'kill -9 while gate plan waits',
    ].sort(),
  );
  expect({ injected: result.injected, survived: result.survived, lost: result.lost, duplicated: result.duplicated }).toEqual({
    injected: 4,
    survived: 4,
    lost: 0,
    duplicated: 0,
  });
});

test('Production refusing a row pauses the run with the constraint and the key, and publishes nothing', () => {
  const conflict = result.runs.find((r) => r.name === 'conflict')!;
  expect(conflict.end).toBe('aborted');
  const pause = conflict.notes.find((n) => n.startsWith('paused at publish'))!;
  expect(pause).toContain('users_email_key');
  expect(pause).not.toContain('rollback');
  expect(conflict).toMatchObject({ lost: 0, duplicated: 0, checksumsEqual: true, problems: [] });
});
