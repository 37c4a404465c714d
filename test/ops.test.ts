// Workers as operations run them: separate `cutover worker` processes (the built CLI) on one task
// queue against a real Temporal dev server and real PostgreSQL. Two workers share the runs; one of
// them reads its connection URLs from a secrets directory written after it started (no restart);
// both serve Prometheus metrics (the runtime's temporal_* and cutover_rows_moved) and log JSON; no
// password shows in logs, errors, status or history. A worker whose PRODUCTION is another database
// than the one preflight recorded refuses, the run pauses instead of splitting, and a correctly
// configured worker then finishes it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { approveSignal, resumeSignal, statusQuery, type StatusView } from '../common/temporal';
import { planOf } from './helpers/outcome';
import { ensureBuilt } from './helpers/build';
import { freePort } from './helpers/free-port';
import { createDb, dbUrl, dropDb, rows, uniqueName } from './helpers/pg';
import { atGate, paused, record, startRun, waitFor } from './helpers/run';
import { expectedMoves, PILOT_DATA, plusMoved, PRODUCTION_DATA, SAAS_SCHEMA, SAAS_TABLES, saasCounts } from './helpers/saas';
import { startTemporal } from './helpers/temporal';
import { setTimeout as sleep } from 'node:timers/promises';
import { runResult } from './helpers/run-result';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'cutover.js');
const PASSWORD = 'Ops-s3cret-pw';
const base = uniqueName('cutover_ops');
const made: string[] = [];
let env: TestWorkflowEnvironment;
let secrets: string;
let pilot: string;
const workers: ChildWorker[] = [];

/** A database URL with a password (trust auth ignores it): it must never show anywhere. */
const withPassword = (url: string) => {
  const u = new URL(url);
  u.username = 'postgres';
  u.password = PASSWORD;
  return u.toString();
};
async function db(suffix: string, sql: string): Promise<string> {
  const name = `${base}_${suffix}`;
  made.push(name);
  return createDb(name, sql);
}

interface ChildWorker {
  proc: ChildProcess;
  metrics: string;
  lines: string[];
  identity: string;
  stop(): Promise<void>;
}

/** `cutover worker` as its own process, JSON logs and metrics on; resolves once it polls. */
async function spawnWorker(extra: Record<string, string>): Promise<ChildWorker> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: env.address,
    CUTOVER_METRICS_ADDRESS: `127.0.0.1:${port}`,
    CUTOVER_LOG_FORMAT: 'json',
    ...extra,
  };
  const proc = spawn(process.execPath, [BIN, 'worker'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  const take = (d: Buffer) => {
    buf += d.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts.filter((l) => l.trim() !== ''));
  };
  proc.stdout!.on('data', take);
  proc.stderr!.on('data', take);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const w: ChildWorker = {
    proc,
    metrics: `http://127.0.0.1:${port}/metrics`,
    lines,
    identity: '',
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      // Graceful first; a worker that does not stop in a minute is killed (teardown must end).
      const timer = setTimeout(() => proc.kill('SIGKILL'), 60000);
      await exited;
      clearTimeout(timer);
    },
  };
  workers.push(w);
  for (let i = 0; i < 1200 && !w.identity; i++) {
    const start = lines
      .map((l) => JSON.parse(l) as { message: string; identity?: string })
      .find((o) => o.message.startsWith('cutover worker: task queue'));
    if (start?.identity) w.identity = start.identity;
    else if (proc.exitCode !== null) throw new Error(`worker exited:\n${lines.join('\n')}`);
    else await sleep(100);
  }
  if (!w.identity) throw new Error(`worker did not start:\n${lines.join('\n')}`);
  return w;
}

/** GET the worker's /metrics (a fresh connection: nothing kept alive past the test). */
function scrape(w: ChildWorker): Promise<string> {
  return new Promise((resolve, reject) => {
    get(w.metrics, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${w.metrics}: HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

/** cutover_rows_moved by step|table from a Prometheus text page. */
function rowsMoved(page: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of page.matchAll(/^cutover_rows_moved(?:_total)?\{([^}]*)\} ([0-9.e+]+)$/gm)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const key = `${labels.step}|${labels.table}`;
    out[key] = (out[key] ?? 0) + Number(m[2]);
  }
  return out;
}

async function approveThrough(handle: WorkflowHandle): Promise<void> {
  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate), 180000);
    await handle.signal(approveSignal, { gate, approver: 'bob' });
  }
}

const opsPlan = (id: string, target: string) =>
  planOf(
    id,
    [
      { table: 'events', select: { follow: ['project_id'] } },
      { table: 'public.accounts', select: { where: [{ column: 'is_test', op: 'eq', value: false }] }, ids: 'keep' },
      { table: 'users', select: { follow: ['account_id'] } },
      { table: 'projects', select: { follow: ['account_id'] } },
    ],
    { target },
  );

/**
 * The runs' results; a run still open after `ms` fails the test with what it shows (status, step,
 * error) and the workers' last log lines, instead of waiting out jest's timeout with no clue.
 */
async function finish(handles: WorkflowHandle[], ms = 300000): Promise<StatusView[]> {
  let timer: NodeJS.Timeout | undefined;
  const bounded = <T>(p: Promise<T>) => Promise.race([p, sleep(10000).then(() => 'no answer in 10 s')]);
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void Promise.all(
        handles.map((h) =>
          bounded(
            h
              .query(statusQuery)
              .then((v) => ({ status: v.status, phase: v.phase, gate: v.gate, error: v.error }))
              .catch(String),
          ),
        ),
      ).then((views) => {
        const logs = workers.map((w) => `${w.identity}:\n${w.lines.slice(-40).join('\n')}`).join('\n---\n');
        reject(new Error(`runs still open after ${ms} ms: ${JSON.stringify(views, null, 1)}\nworkers:\n${logs}`));
      });
    }, ms);
  });
  try {
    return await Promise.race([Promise.all(handles.map((h) => runResult(h) as Promise<StatusView>)), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Everything a person or another system could read about a run: its history and its status. */
async function visible(handle: WorkflowHandle): Promise<string> {
  const history = await handle.fetchHistory();
  const status = await handle.query(statusQuery).catch(() => null);
  return JSON.stringify(history) + JSON.stringify(status);
}

beforeAll(async () => {
  await ensureBuilt(); // the workers run the built CLI, as users do
  secrets = mkdtempSync(path.join(os.tmpdir(), 'cutover-ops-secrets-'));
  pilot = await db('pilot', SAAS_SCHEMA + PILOT_DATA);
  env = await startTemporal();
}, 600000);

// A test's workers end with it: one left polling would take the next test's tasks.
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
}, 300000);

afterAll(async () => {
  const t0 = Date.now();
  await Promise.all(workers.map((w) => w.stop()));
  const t1 = Date.now();
  await env?.teardown();
  for (const name of made) await dropDb(name);
  if (secrets) rmSync(secrets, { recursive: true, force: true });
  if (Date.now() - t0 > 30000) console.warn(`ops teardown: workers ${t1 - t0} ms, the rest ${Date.now() - t1} ms`);
}, 300000);

test('two workers share the runs; one reads secrets written after it started; metrics and JSON logs; no password anywhere', async () => {
  const prods = [
    await db('prod1', SAAS_SCHEMA + PRODUCTION_DATA),
    await db('prod2', SAAS_SCHEMA + PRODUCTION_DATA),
    await db('prod3', SAAS_SCHEMA + PRODUCTION_DATA),
  ];
  const before = await saasCounts(prods[0]);
  const expected = await expectedMoves(pilot);

  // A: nothing configured yet but the directory. B: the environment (and the same directory).
  const a = await spawnWorker({ CUTOVER_SECRETS_DIR: secrets });
  const b = await spawnWorker({
    CUTOVER_SECRETS_DIR: secrets,
    CUTOVER_DB_PILOT: withPassword(pilot),
    ...Object.fromEntries(prods.map((p, i) => [`CUTOVER_DB_PROD_${i + 1}`, withPassword(p)])),
  });
  // The new database pairs arrive as files, after A started.
  writeFileSync(path.join(secrets, 'pilot'), withPassword(pilot) + '\n');
  prods.forEach((p, i) => writeFileSync(path.join(secrets, `prod_${i + 1}`), `  ${withPassword(p)}\n`));
  writeFileSync(path.join(secrets, 'broken'), `mysql://root:${PASSWORD}@db.internal/x\n`);

  const handles = await Promise.all(prods.map((_, i) => startRun(env, opsPlan(`ops-share-${i + 1}`, `prod_${i + 1}`))));
  await Promise.all(handles.map(approveThrough));
  const results = await finish(handles);
  expect(results.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);

  // Each Production got exactly the selected rows (counted with our own SQL on the Pilot).
  for (const p of prods) expect(await saasCounts(p)).toEqual(plusMoved(before, expected));

  // Both workers ran activities of these runs (the worker identity of each started activity).
  const identities = new Set<string>();
  for (const h of handles) {
    for (const e of (await h.fetchHistory()).events ?? []) {
      const id = e.activityTaskStartedEventAttributes?.identity;
      if (id) identities.add(id);
    }
  }
  expect([...identities].sort()).toEqual([a.identity, b.identity].sort());

  // A bad URL in a secrets file: refused naming the alias, the password masked.
  const bad = await startRun(env, opsPlan('ops-broken', 'broken'));
  const view = await waitFor(bad, paused, 180000);
  expect(view.error?.message).toContain(
    `connection alias "broken" (${path.join(secrets, 'broken')}) is not a postgres:// URL: mysql://root:***@db.internal/x`,
  );
  await bad.terminate('test done');

  // Metrics: the runtime's own and rows moved per step and table, summed over both workers.
  const pages = await Promise.all([scrape(a), scrape(b)]);
  for (const page of pages) expect(page).toMatch(/^temporal_\w+(\{[^}]*\})? \d/m);
  const moved: Record<string, number> = {};
  for (const page of pages) for (const [k, n] of Object.entries(rowsMoved(page))) moved[k] = (moved[k] ?? 0) + n;
  for (const t of SAAS_TABLES) {
    expect({ table: t, published: moved[`publish|public.${t}`] }).toEqual({ table: t, published: 3 * expected[t] });
    expect(moved[`stage|public.${t}`]).toBeGreaterThanOrEqual(3 * expected[t]);
  }

  // JSON logs: every line of both workers is one object with time, level and message.
  for (const w of [a, b]) {
    expect(w.lines.length).toBeGreaterThan(2);
    for (const line of w.lines)
      expect(JSON.parse(line)).toEqual(
        expect.objectContaining({ time: expect.any(String), level: expect.any(String), message: expect.any(String) }),
      );
  }

  // No password in logs, history or status.
  for (const w of [a, b]) expect(w.lines.join('\n')).not.toContain(PASSWORD);
  for (const h of [...handles, bad]) expect(await visible(h)).not.toContain(PASSWORD);
  await b.stop();
  await a.stop();
}, 900000);

test('a worker whose PRODUCTION is another database refuses: the run pauses naming both, nothing splits; the right worker finishes it', async () => {
  const right = await db('right', SAAS_SCHEMA + PRODUCTION_DATA);
  const wrong = await db('wrong', SAAS_SCHEMA + PRODUCTION_DATA);
  const before = await saasCounts(right);
  const oid = async (name: string) =>
    (await rows<{ oid: number }>(dbUrl('postgres'), 'SELECT oid::int AS oid FROM pg_database WHERE datname = $1', [name]))[0].oid;
  writeFileSync(path.join(secrets, 'production'), withPassword(right));

  // Worker A runs preflight (it records the databases), then stops.
  const a = await spawnWorker({ CUTOVER_SECRETS_DIR: secrets });
  const handle = await startRun(env, opsPlan('ops-split', 'production'));
  await waitFor(handle, atGate('plan'), 180000);
  await a.stop();

  // Worker C: the same aliases, but PRODUCTION is another database.
  const c = await spawnWorker({ CUTOVER_DB_PILOT: withPassword(pilot), CUTOVER_DB_PRODUCTION: withPassword(wrong) });
  await approveThrough(handle);
  const view = await waitFor(handle, paused, 180000);
  const message = view.error?.message ?? '';
  expect(view.error).toMatchObject({ step: 'stage', type: 'ConfigError' });
  expect(message).toContain(`connection alias "production" on this worker points at database ${base}_wrong on 127.0.0.1:5432`);
  expect(message).toContain(`oid ${await oid(`${base}_wrong`)}`);
  expect(message).toContain(`but this run started on database ${base}_right on 127.0.0.1:5432`);
  expect(message).toContain(`oid ${await oid(`${base}_right`)})`);
  expect(message).toMatch(/system identifier \d+/);
  // Nothing was written to either database, and the error shows no password.
  expect(await saasCounts(wrong)).toEqual(before);
  expect(await saasCounts(right)).toEqual(before);
  expect((await rows(wrong, "SELECT to_regclass('cutover.manifest') AS t"))[0]).toEqual({ t: null });
  expect(await visible(handle)).not.toContain(PASSWORD);
  expect(c.lines.join('\n')).not.toContain(PASSWORD);
  await c.stop();

  // The right worker is back: retry, and the run completes into the database it started with.
  const back = await spawnWorker({ CUTOVER_SECRETS_DIR: secrets });
  await handle.signal(resumeSignal, { action: 'retry', by: 'oncall', reason: 'stopped the misconfigured worker' });
  expect((await finish([handle]))[0].status).toBe('completed');
  expect(await saasCounts(wrong)).toEqual(before);
  const expected = await expectedMoves(pilot);
  expect(await saasCounts(right)).toEqual(plusMoved(before, expected));
  await record(handle, 'identity-pause'); // the path with recorded identities, a refusal and a retry
  await back.stop();
}, 900000);
