// The CLI as users run it: `node bin/cutover.js …` against the compiled dist/, checking exit codes
// (0 ok, 1 refused/failed, 2 bad input) and what is printed. No Temporal server needed, except for
// "no silent waits": a real dev server with no worker, where every command must fail in time.
import { spawnSync } from 'node:child_process';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureBuilt } from './helpers/build';
import { startTemporal } from './helpers/temporal';

const ROOT = resolve(__dirname, '..');
const BIN = join(ROOT, 'bin', 'cutover.js');

let dir: string;
let goodPlan: string;
let badPlan: string;

const GOOD = `version: 1
id: cli-exit-test
strategy: selective
source: pilot
target: production
approvals: { approvers: [alice, bob, carol], required: 2, separationOfDuties: true, timeout: 72h }
rehearsal: { mode: skip }
tables:
  - table: public.customer
    select: { where: [{ column: store_id, op: eq, value: 1 }] }
    ids: keep
  - table: public.country
    ids: keep
`;

// line 2: bad id, line 3: bad strategy, line 9: bad ids
const BAD = `version: 1
id: Not A Valid Id
strategy: sideways
source: pilot
target: production
approvals: { approvers: [alice, bob], required: 1 }
tables:
  - table: public.customer
    ids: sometimes
`;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cutover(args: string[], env: Record<string, string | undefined> = {}): Result {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: merged, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  await ensureBuilt(); // the CLI as users run it
  dir = mkdtempSync(join(tmpdir(), 'cutover-cli-'));
  goodPlan = join(dir, 'good-plan.yaml');
  badPlan = join(dir, 'bad-plan.yaml');
  writeFileSync(goodPlan, GOOD);
  writeFileSync(badPlan, BAD);
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cutover plan', () => {
  test('plan check on a bad plan exits 2 and names file, line and path of each problem', () => {
    const r = cutover(['plan', 'check', badPlan]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${badPlan}:2: id:`);
    expect(r.stderr).toContain(`${badPlan}:3: strategy:`);
    expect(r.stderr).toContain(`${badPlan}:9: tables[0].ids:`);
    expect(r.stderr).toMatch(/error: invalid plan .*bad-plan\.yaml/);
  });

  test('plan check on a good plan exits 0 and prints id, hash, tables and ok', () => {
    const hash = cutover(['plan', 'hash', goodPlan]);
    expect(hash.code).toBe(0);
    expect(hash.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    const r = cutover(['plan', 'check', goodPlan]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(hash.stdout.trim());
    expect(r.stdout).toContain('cli-exit-test');
    expect(r.stdout).toContain('public.customer');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('ok');
    const json = cutover(['plan', 'check', goodPlan, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      id: 'cli-exit-test',
      strategy: 'selective',
      hash: hash.stdout.trim(),
      tables: ['public.customer', 'public.country'],
    });
  });

  test('plan check on a missing file exits 2 and names it', () => {
    const missing = join(dir, 'nope.yaml');
    const r = cutover(['plan', 'check', missing]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(missing);
  });

  test('a 50 MB plan is refused by its size (exit 2, the limit named), not parsed; start refuses it before Temporal', () => {
    const huge = join(dir, 'huge-plan.yaml');
    writeFileSync(huge, `${GOOD}padding: "${'x'.repeat(50 * 1024 * 1024)}"\n`);
    const check = cutover(['plan', 'check', huge]);
    expect(check.code).toBe(2);
    expect(check.stderr).toContain(`${huge}: (plan): plan file is too large: 52429`);
    expect(check.stderr).toContain('at most 1048576 bytes (1 MB)');
    // An unreachable server: reaching the network would exit 1 with a gRPC error, not 2.
    const start = cutover(['start', huge, '--as', 'alice'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(start.code).toBe(2);
    expect(start.stderr).toContain('plan file is too large');
  });

  test('plan schema prints a JSON schema', () => {
    const r = cutover(['plan', 'schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as { type?: string; properties?: Record<string, unknown> };
    expect(schema.type).toBe('object');
    expect(schema.properties).toHaveProperty('tables');
  });
});

describe('bad input exits 2 before anything is sent', () => {
  // An unreachable address: reaching the network would exit 1, not 2.
  const offline = { TEMPORAL_ADDRESS: '127.0.0.1:1' };

  test('approve with an unknown gate', () => {
    const r = cutover(['approve', 'x', '--gate', 'nope', '--as', 'a'], offline);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--gate must be one of plan, cutover');
  });

  test('resume with an unknown action', () => {
    const r = cutover(['resume', 'x', '--action', 'undo', '--as', 'a', '--reason', 'r'], offline);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--action must be one of retry, skip, rollback, roll-forward, abort');
  });

  test('missing required option, unknown option, unknown command', () => {
    const missing = cutover(['reject', 'x', '--gate', 'plan', '--as', 'a'], offline);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--reason/);
    const unknown = cutover(['status', 'x', '--frobnicate'], offline);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--frobnicate'/);
    const command = cutover(['launch'], offline);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/unknown command 'launch'/);
  });

  test('no --as and neither $USER nor $LOGNAME', () => {
    const r = cutover(['approve', 'x', '--gate', 'plan'], { ...offline, USER: undefined, LOGNAME: undefined });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--as');
  });

  test('list with an unknown status, report with an unknown format', () => {
    const list = cutover(['list', '--status', 'done'], offline);
    expect(list.code).toBe(2);
    expect(list.stderr).toContain('--status must be one of running, awaiting-approval');
    const report = cutover(['report', 'x', '--format', 'pdf'], offline);
    expect(report.code).toBe(2);
    expect(report.stderr).toContain('--format must be one of md, json, html');
  });

  test('start with a bad plan', () => {
    const r = cutover(['start', badPlan, '--as', 'a'], offline);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${badPlan}:2: id:`);
  });

  test('--help exits 0', () => {
    const r = cutover(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['plan', 'start', 'approve', 'reject', 'resume', 'status', 'report', 'list', 'worker']) expect(r.stdout).toContain(c);
  });
});

describe('Temporal unreachable exits 1 with a clear one-line error', () => {
  test('status', () => {
    const r = cutover(['status', 'x'], { TEMPORAL_ADDRESS: '127.0.0.1:1', CUTOVER_CONNECT_TIMEOUT_MS: '2000' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach Temporal at 127.0.0.1:1');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('start with a good plan', () => {
    const r = cutover(['start', goodPlan, '--as', 'dora'], { TEMPORAL_ADDRESS: '127.0.0.1:1', CUTOVER_CONNECT_TIMEOUT_MS: '2000' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach Temporal at 127.0.0.1:1');
  });
});

describe('no silent waits: with the server up and no worker, every command fails in time with one message', () => {
  let env: TestWorkflowEnvironment;
  let at: Record<string, string>;
  const NO_WORKER =
    /no worker answered the .* for cutover-cli-exit-test within (\d+s) .*is `cutover worker` running on task queue cutover\? \(wait longer with --timeout or CUTOVER_CLI_TIMEOUT\)/;

  beforeAll(async () => {
    env = await startTemporal();
    at = { TEMPORAL_ADDRESS: env.address };
    const started = cutover(['start', goodPlan, '--as', 'dora'], at); // the server alone starts it
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await env?.teardown();
  });

  function timed(args: string[], more: Record<string, string> = {}): Result & { ms: number } {
    const t0 = Date.now();
    const r = cutover(args, { ...at, ...more });
    return { ...r, ms: Date.now() - t0 };
  }

  test('approve without --sign (an Update, which waits for a worker) gives up after the default 30 s', () => {
    const r = timed(['approve', 'cli-exit-test', '--gate', 'plan', '--as', 'alice']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(NO_WORKER);
    expect(r.stderr).toContain('within 30s');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.ms).toBeGreaterThanOrEqual(29_000);
    expect(r.ms).toBeLessThan(50_000);
  }, 70_000);

  test.each([
    ['approve', ['approve', 'cli-exit-test', '--gate', 'plan', '--as', 'alice']],
    ['reject', ['reject', 'cli-exit-test', '--gate', 'plan', '--as', 'alice', '--reason', 'no']],
    ['resume', ['resume', 'cli-exit-test', '--action', 'retry', '--as', 'alice', '--reason', 'go']],
    ['status', ['status', 'cli-exit-test']],
    ['status --watch', ['status', 'cli-exit-test', '--watch']],
    ['report', ['report', 'cli-exit-test']],
  ])(
    '%s with CUTOVER_CLI_TIMEOUT=3s fails in ~3 s with the same message',
    (_name, args) => {
      const r = timed(args, { CUTOVER_CLI_TIMEOUT: '3s' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(NO_WORKER);
      expect(r.stderr.match(NO_WORKER)?.[1]).toBe('3s');
      expect(r.ms).toBeLessThan(25_000);
    },
    60_000,
  );

  test('--timeout wins over CUTOVER_CLI_TIMEOUT, in any position; a bad value is bad input', () => {
    const r = timed(['approve', 'cli-exit-test', '--gate', 'plan', '--as', 'alice', '--timeout', '2'], { CUTOVER_CLI_TIMEOUT: '10m' });
    expect(r.code).toBe(1);
    expect(r.stderr.match(NO_WORKER)?.[1]).toBe('2s');
    expect(r.ms).toBeLessThan(25_000);
    const bad = timed(['--timeout', 'soon', 'status', 'cli-exit-test']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout must be a duration');
    const badEnv = timed(['status', 'cli-exit-test'], { CUTOVER_CLI_TIMEOUT: '-1' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('CUTOVER_CLI_TIMEOUT must be a duration');
  }, 60_000);

  test('commands the server answers alone still work without a worker', () => {
    const r = timed(['list', '--json'], { CUTOVER_CLI_TIMEOUT: '10s' });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { workflowId: string }[]).map((w) => w.workflowId)).toContain('cutover-cli-exit-test');
  }, 60_000);
});
