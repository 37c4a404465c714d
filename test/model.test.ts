// Model-based test (issue 16): generated schemas, data and plans driven through the real workflow
// and worker on real PostgreSQL, each path judged against the independent oracle in test/model/.
// CI (this file under `npm test`): a fixed seed, one generated case per path, plus every committed
// regression case. Long mode: `npm run model-test -- --runs N [--seed S]` (scripts/model-test.sh)
// sets MODEL_RUNS / MODEL_SEED / MODEL_SUMMARY and this file runs N cases over every path, shrinks
// a counterexample (printed as JSON to commit in test/model/regressions.ts) and writes the summary.
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { startTemporal, startWorker } from './helpers/temporal';
import { PATHS, type Case, type Path } from './model/case';
import { caseArb } from './model/generator';
import { adoptOracle, oracle } from './model/oracle';
import { REGRESSIONS } from './model/regressions';
import { checker, runCase } from './model/runner';

const LONG = process.env.MODEL_RUNS !== undefined;
const SEED = Number(process.env.MODEL_SEED ?? 1612);
let env: TestWorkflowEnvironment;
let worker: Worker | undefined;
let done: Promise<void> | undefined;

beforeAll(async () => {
  env = await startTemporal();
  ({ worker, done } = await startWorker(env));
}, 180000);

afterAll(async () => {
  worker?.shutdown();
  await done;
  await env?.teardown();
  await checker.drop();
});

const counts: Record<string, number> = { run: 0, rehearsal: 0, rollback: 0, restore: 0, adopt: 0, 'clean-start': 0, 'late-erasure': 0 };
let cases = 0;
let collected = 0;

async function check(c: Case): Promise<void> {
  const t0 = Date.now();
  const { problems, paths } = await runCase(env, c);
  cases++;
  if (LONG || process.env.MODEL_VERBOSE)
    process.stderr.write(
      `model case ${cases}: ${paths.join('+')} ${c.tables.length} tables, ${Date.now() - t0} ms, ${problems.length ? 'DIFFERS' : 'agrees'}\n`,
    );
  for (const p of paths) counts[p] = (counts[p] ?? 0) + 1;
  if (problems.length && process.env.MODEL_COLLECT === '1') {
    // Survey mode: list every differing case and go on (no shrinking).
    collected++;
    process.stderr.write(`model case ${cases} differs:\n- ${problems.join('\n- ')}\ncase: ${JSON.stringify(c)}\n`);
    return;
  }
  if (problems.length)
    throw new Error(`${problems.length} difference(s) from the model:\n- ${problems.join('\n- ')}\ncase: ${JSON.stringify(c)}`);
}

/** CI's one case per path should exercise it: rows move (or, for adopt, are removed), and a restore has late erasures. */
function interesting(c: Case): boolean {
  if (c.path === 'clean-start') return true;
  if (c.path === 'adopt') return adoptOracle(c).removed.some((m) => m.size > 0);
  const want = oracle(c);
  return !want.refused && want.tables.filter((t) => t.moved + t.merged > 0).length >= 2 && (c.path !== 'restore' || c.late.length > 0);
}

/** MODEL_PATHS=run,restore limits the long mode to those paths (every path by default). */
function longPaths(): Path[] | undefined {
  const want = process.env.MODEL_PATHS?.split(',').filter(Boolean);
  if (!want?.length) return undefined;
  const bad = want.filter((p) => !PATHS.includes(p as Path));
  if (bad.length) throw new Error(`MODEL_PATHS: unknown path(s) ${bad.join(', ')}; expected some of ${PATHS.join(', ')}`);
  return want as Path[];
}

if (process.env.MODEL_CASE) {
  // One case from a JSON file (a counterexample being examined): its differences are the failure.
  test('one case', () => check(JSON.parse(readFileSync(process.env.MODEL_CASE!, 'utf8')) as Case), 600000);
} else if (!LONG) {
  describe('generated cases (fixed seed)', () => {
    for (const [n, p] of PATHS.entries()) {
      test(`path ${p}`, async () => {
        await fc.assert(fc.asyncProperty(caseArb({ paths: [p as Path] }).filter(interesting), check), {
          seed: SEED + n,
          numRuns: 1,
          endOnFailure: true,
        });
      }, 600000);
    }
  });

  describe('regression cases', () => {
    // MODEL_KNOWN_BUGS=run runs the known-bug cases as ordinary tests (to see their differences, or check a fix).
    const strict = process.env.MODEL_KNOWN_BUGS === 'run';
    for (const r of REGRESSIONS)
      (r.knownBug && !strict ? test.failing : test)(`${r.name}${r.knownBug ? ` (known: ${r.knownBug})` : ''}`, () => check(r.case), 600000);
  });
} else {
  test(
    'model test, long',
    async () => {
      const runs = Number(process.env.MODEL_RUNS);
      let failure: string | null = null;
      const started = Date.now();
      try {
        // MODEL_NO_SHRINK=1 reports the first counterexample as found (shrinking re-runs the workflow many times).
        await fc.assert(fc.asyncProperty(caseArb({ paths: longPaths() }), check), {
          seed: SEED,
          numRuns: runs,
          verbose: 0,
          endOnFailure: process.env.MODEL_NO_SHRINK === '1',
        });
      } catch (e) {
        const cause = (e as Error & { cause?: Error }).cause;
        failure = `${(e as Error).message}${cause ? `\n${cause.message}` : ''}`;
        console.error(failure);
      }
      const summary = { seed: SEED, cases, paths: counts, failures: (failure ? 1 : 0) + collected };
      console.error(`model test: ${cases} cases in ${Math.round((Date.now() - started) / 1000)} s`);
      if (process.env.MODEL_SUMMARY) writeFileSync(process.env.MODEL_SUMMARY, JSON.stringify(summary));
      expect(failure).toBeNull();
      expect(collected).toBe(0);
    },
    24 * 3600 * 1000,
  );
}
