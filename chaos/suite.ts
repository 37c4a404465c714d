// The reliability suite: runs of one plan on identical data, each broken on purpose — the worker
// killed with SIGKILL at named points inside the steps (each such run has its own worker process,
// held at its next point, killed there, replaced), the Temporal dev server restarted mid-run, the run's database
// connections ended mid-COPY and mid-publish, Production refusing a row — and each compared, table by
// table and row by row with the suite's own SQL, with an undisturbed reference run of the same plan.
import { gc } from '../activities/gc';
import { validatePlan } from '../plan/validate';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createClient } from '../runtime/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { admin, checksums, compare, dropPair, rowSets, type RowSets } from './data';
import { ChaosRun, type RunSpec } from './run';
import { DevServer, freePort, sleep, WorkerProcess } from './services';

export interface FaultResult {
  fault: string;
  runs: string[];
  injected: boolean;
  survived: boolean;
  lost: number;
  duplicated: number;
  note?: string;
}

export interface SuiteResult {
  faults: FaultResult[];
  runs: {
    name: string;
    end: string | null;
    lost: number;
    duplicated: number;
    checksumsEqual: boolean;
    problems: string[];
    notes: string[];
  }[];
  injected: number;
  survived: number;
  lost: number;
  duplicated: number;
  seconds: number;
  /** The workers' output, kept when a fault was not survived (or with keep). */
  workerLog: string | null;
}

/** Kill points per run, in the order each run reaches them (26 in all). */
const ROUNDS: RunSpec[] = [
  { name: 'k1', kind: 'complete', kills: ['preflight.start', 'stage.mid-copy', 'publish.before-commit'] },
  { name: 'k2', kind: 'complete', kills: ['preflight.end', 'stage.settle', 'publish.after-commit'] },
  { name: 'k3', kind: 'complete', kills: ['stage.start', 'cleanup.start', 'publish.mid-insert'] },
  { name: 'k4', kind: 'complete', kills: ['stage.mid-copy', 'cleanup.after-commit', 'validate.start'] },
  { name: 'k5', kind: 'complete', kills: ['cleanup.before-commit', 'publish.start', 'validate.end'] },
  { name: 'b1', kind: 'complete', backup: true, kills: ['backup.start', 'stage.settle', 'publish.after-commit'] },
  { name: 'b2', kind: 'complete', backup: true, kills: ['backup.before-verify', 'publish.before-commit', 'validate.end'] },
  { name: 'r1', kind: 'rollback', kills: ['publish.after-commit', 'rollback.start', 'rollback.after-commit'] },
  { name: 'r2', kind: 'rollback', kills: ['stage.mid-copy', 'rollback.before-commit'] },
];

/** quick: phase 0 only (the CI subset); only: the kill runs to include (default all). */
export async function runSuite(opts: {
  quick: boolean;
  keep?: boolean;
  only?: string[];
  log?: (line: string) => void;
}): Promise<SuiteResult> {
  const t0 = Date.now();
  const say = (line: string) =>
    (opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`[chaos +${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-chaos-'));
  const markers = path.join(dir, 'markers');
  const store = path.join(dir, 'store');
  mkdirSync(markers);
  mkdirSync(store);
  const workerLog = path.join(dir, 'workers.log');
  const suite = `chaos_${process.pid}_${Date.now().toString(36)}`;
  let allSurvived = false; // the work dir (worker log, markers) is kept when something was not survived

  const phase0: RunSpec[] = [
    { name: 'ref', kind: 'complete' },
    { name: 'c-copy', kind: 'complete' },
    { name: 'c-publish', kind: 'complete' },
    { name: 'conflict', kind: 'conflict' },
    { name: 'gate', kind: 'complete', holdPlanGate: true },
    ...(opts.quick ? [] : [{ name: 'ref-rb', kind: 'rollback' as const }]),
  ];
  const rounds = opts.quick ? [] : ROUNDS.filter((r) => !opts.only || opts.only.includes(r.name));
  const runs = [...phase0, ...rounds].map((s) => new ChaosRun(s, suite, store));
  const byName = (n: string) => runs.find((r) => r.spec.name === n)!;
  const marker = (r: ChaosRun, point: string) => path.join(markers, `${r.planId}@${point}`);
  const reached = (r: ChaosRun, point: string) => existsSync(marker(r, point));
  // Rollback runs fail validation once after publish (non-retryable): on-call rolls them back.
  const failPoints = runs.filter((r) => r.spec.kind === 'rollback').map((r) => `${r.planId}@validate.start!fail`);

  const faults: (FaultResult & { runObjs: ChaosRun[] })[] = [];
  const fault = (name: string, rs: ChaosRun[], injected: boolean, note?: string) =>
    faults.push({ fault: name, runs: rs.map((r) => r.spec.name), runObjs: rs, injected, survived: false, lost: 0, duplicated: 0, note });

  const server = new DevServer(await freePort(), path.join(dir, 'temporal.db'));
  let worker: WorkerProcess | null = null;
  let connection: Client['connection'] | null = null;
  const startWorker = (points: string[]) => {
    const env: Record<string, string> = { CUTOVER_CHAOS_DIR: markers, CUTOVER_CHAOS_POINTS: [...points, ...failPoints].join(',') };
    for (const r of runs) Object.assign(env, r.env());
    worker = new WorkerProcess(server.address, env, (l) => appendFileSync(workerLog, `${l}\n`));
    say(`worker ${worker.pid} started${points.length ? `, holding at ${points.join(', ')}` : ''}`);
  };
  const kill = async () => {
    const w = worker!;
    await w.kill9();
    worker = null;
    say(`worker ${w.pid} killed (SIGKILL)`);
  };
  const tickAll = async (rs: ChaosRun[]) => {
    await Promise.all(
      rs
        .filter((r) => r.handle && !r.done && !r.stuck)
        .map((r) =>
          r.tick().then(
            (ended) => (ended ? say(`${r.spec.name}: ended ${r.end}${r.problems.length ? ` — ${r.problems.join('; ')}` : ''}`) : undefined),
            () => undefined, // no worker or no server for a moment: look again
          ),
        ),
    );
  };
  /** Drive `rs` until `until()` holds; false on timeout. */
  const driveUntil = async (rs: ChaosRun[], until: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await until())) {
      if (Date.now() > deadline) {
        say(`timed out waiting for ${what}`);
        return false;
      }
      await tickAll(rs);
      await sleep(500);
    }
    return true;
  };
  const settled = (rs: ChaosRun[]) => () => rs.every((r) => r.done || r.stuck);

  try {
    say(`${runs.length} runs; databases ${suite}_*; work dir ${dir}`);
    for (let i = 0; i < runs.length; i += 4) await Promise.all(runs.slice(i, i + 4).map((r) => r.prepare()));
    await server.start();
    say(`Temporal dev server on ${server.address} (database file ${server.dbFile})`);
    // The suite's own plain dev server; the client as the product builds it (data converter included).
    const client = await createClient({ config: { address: server.address, namespace: 'default' } });
    connection = client.connection;

    // Phase 0: the references, the connections ended mid-stream, Production refusing a row, a run at a gate.
    const p0 = phase0.map((s) => byName(s.name));
    startWorker([`${byName('c-copy').planId}@stage.mid-copy`, `${byName('c-publish').planId}@publish.mid-insert`]);
    for (const r of p0) await r.start(client);
    const terminated = new Set<string>();
    const endConnections = async (r: ChaosRun, point: string, label: string) => {
      if (terminated.has(r.spec.name) || !reached(r, point)) return;
      terminated.add(r.spec.name);
      const n = await admin(
        async (c) =>
          (
            await c.query(
              `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
            WHERE datname = ANY($1) AND pid <> pg_backend_pid() AND application_name LIKE 'cutover:%'`,
              [r.pair.names],
            )
          ).rows[0].n as number,
      );
      writeFileSync(`${marker(r, point)}.release`, '');
      say(`${r.spec.name}: ${n} connection(s) of the run ended (pg_terminate_backend) ${label}`);
      fault(`pg_terminate_backend ${label}`, [r], n > 0, `${n} backend(s)`);
    };
    const p0Busy = p0.filter((r) => r.spec.name !== 'gate');
    await driveUntil(
      p0,
      async () => {
        await endConnections(byName('c-copy'), 'stage.mid-copy', 'during stage COPY');
        await endConnections(byName('c-publish'), 'publish.mid-insert', 'inside the publish transaction');
        return settled(p0Busy)() && byName('gate').last?.gate === 'plan';
      },
      8 * 60000,
      'the references and phase-0 runs',
    );
    for (const [name, label] of [
      ['c-copy', 'during stage COPY'],
      ['c-publish', 'inside the publish transaction'],
    ]) {
      if (!terminated.has(name)) fault(`pg_terminate_backend ${label}`, [byName(name)], false, 'the point was never reached');
    }
    fault(
      'unique conflict in Production (row inserted after preflight)',
      [byName('conflict')],
      byName('conflict').last?.phase === 'publish' || byName('conflict').done,
    );

    // A worker killed while the run waits at a gate: a new process replays the workflow and goes on.
    await kill();
    fault('kill -9 while gate plan waits', [byName('gate')], true);

    // The kill runs, each with a worker process of its own on its own task queue: the worker holds the
    // run at its next kill point, the suite kills it (SIGKILL) as soon as it is there (a held COPY must
    // not wait: PostgreSQL's DROP DATABASE waits for a backend inside COPY FROM STDIN) and starts the
    // next one, holding at the point after. The Temporal dev server is restarted once every kill run has
    // been killed once, with the runs in flight (some held by the heartbeat timeout, some working).
    const killRuns = rounds.map((s) => byName(s.name));
    if (killRuns.length) {
      say('bundling the workflow code once for the per-run workers');
      const bundle = path.join(dir, 'workflows.js');
      writeFileSync(
        bundle,
        (await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') })).code,
      );
      const next = new Map<ChaosRun, number>(killRuns.map((r) => [r, 0]));
      const workers = new Map<ChaosRun, WorkerProcess>();
      const startRunWorker = (r: ChaosRun) => {
        const point = r.kills[next.get(r)!];
        const env: Record<string, string> = {
          ...r.env(),
          CUTOVER_CHAOS_DIR: markers,
          CUTOVER_CHAOS_POINTS: [...(point ? [`${r.planId}@${point}`] : []), ...failPoints].join(','),
        };
        const w = new WorkerProcess(server.address, env, (l) => appendFileSync(workerLog, `${l}\n`), { taskQueue: r.taskQueue, bundle });
        workers.set(r, w);
        say(`${r.spec.name}: worker ${w.pid} started${point ? `, holding at ${point}` : ''}`);
      };
      for (const r of killRuns) {
        startRunWorker(r);
        await r.start(client);
      }
      let restarted = false;
      let lastTick = 0;
      const deadline = Date.now() + 25 * 60000;
      while (!settled(runs)()) {
        for (const r of killRuns) {
          if (workers.get(r)!.exited && !r.done) {
            say(`${r.spec.name}: worker ${workers.get(r)!.pid} exited by itself (see ${workerLog}); starting another`);
            startRunWorker(r);
          }
          const i = next.get(r)!;
          const point = r.kills[i];
          if (!point || !reached(r, point)) continue;
          await workers.get(r)!.kill9();
          say(`${r.spec.name}: worker ${workers.get(r)!.pid} killed (SIGKILL) in ${point}`);
          fault(`kill -9 in ${point}`, [r], true);
          next.set(r, i + 1);
          startRunWorker(r);
        }
        if (!restarted && killRuns.every((r) => next.get(r)! >= 1)) {
          restarted = true;
          const inFlight = [...killRuns, byName('gate')].filter((r) => !r.done && !r.stuck);
          say(`restarting the Temporal dev server with ${inFlight.length} run(s) in flight`);
          await server.restart();
          say('Temporal dev server back');
          fault('Temporal dev server restarted mid-run (same database file)', inFlight, true);
        }
        if (Date.now() - lastTick > 1000) {
          lastTick = Date.now();
          if (byName('gate').planGateHeld && !worker) {
            // The gate run waited at gate plan while its worker was killed; approved now, under a new one.
            startWorker([]);
            byName('gate').planGateHeld = false;
          }
          await tickAll(runs);
        }
        if (Date.now() > deadline) {
          say('timed out waiting for the kill runs');
          break;
        }
        await sleep(200);
      }
      for (const r of killRuns) {
        for (const point of r.kills.slice(next.get(r)!)) fault(`kill -9 in ${point}`, [r], false, 'the point was never reached');
        await workers.get(r)?.stop();
      }
    }

    // The rest (the gate run, quick mode) under a worker with no holds.
    if (!worker) startWorker([]);
    byName('gate').planGateHeld = false;
    await driveUntil(runs, settled(runs), 12 * 60000, 'every run to end');
    await (worker as WorkerProcess | null)?.stop();
    worker = null;

    // The evidence: Production of every run against its reference, with the suite's own SQL.
    const refSets = await rowSets(byName('ref').pair.production);
    const refSums = await checksums(byName('ref').pair.production);
    const rb = runs.find((r) => r.spec.name === 'ref-rb');
    const rbSets = rb ? await rowSets(rb.pair.production) : null;
    const rbSums = rb ? await checksums(rb.pair.production) : null;
    const perRun = new Map<ChaosRun, { lost: number; duplicated: number; checksumsEqual: boolean }>();
    for (const r of runs) {
      const expected: RowSets = r.expected ?? (r.spec.kind === 'rollback' && rbSets ? rbSets : refSets);
      const diff = compare(expected, await rowSets(r.pair.production));
      const sums = await checksums(r.pair.production);
      const refS = r.expected ? null : r.spec.kind === 'rollback' && rbSums ? rbSums : refSums;
      const checksumsEqual = refS ? JSON.stringify(sums) === JSON.stringify(refS) : diff.lost === 0 && diff.duplicated === 0;
      if (!checksumsEqual) r.problems.push(`Production differs from the reference in ${diff.tables.join(', ') || 'its checksums'}`);
      if (!r.done) r.problems.push(`did not end (last status ${r.last?.status}/${r.last?.phase})`);
      perRun.set(r, { ...diff, checksumsEqual });
    }
    // Nothing temporary may remain after any fault: scratch databases, staging of a closed run,
    // partial dumps, incomplete uploads — listed by the same scan `cutover gc` runs (every run is closed now).
    for (const r of runs) {
      const found = await leftovers(r);
      if (found.length) r.problems.push(`left behind after the run: ${found.join('; ')}`);
    }
    // Every kill inside a step and every ended connection must have cost an attempt: the fault really bit.
    const minRetries = (r: ChaosRun) => r.kills.length + (['c-copy', 'c-publish'].includes(r.spec.name) ? 1 : 0);
    for (const r of runs.filter((x) => x.handle && minRetries(x) > 0)) {
      const retried = await r.retried();
      const n = Object.values(retried).reduce((a, b) => a + b - 1, 0);
      r.notes.push(
        `activities retried: ${
          Object.entries(retried)
            .map(([t, a]) => `${t} (attempt ${a})`)
            .join(', ') || 'none'
        }`,
      );
      if (n < minRetries(r)) r.problems.push(`${n} retried attempt(s) in its history, ${minRetries(r)} fault(s) inside steps`);
    }
    const ok = (r: ChaosRun) => r.done && r.problems.length === 0;
    const refsOk = ok(byName('ref')) && (!rb || ok(rb));
    for (const f of faults) {
      f.survived = f.injected && refsOk && f.runObjs.every(ok);
      f.lost = f.runObjs.reduce((n, r) => n + perRun.get(r)!.lost, 0);
      f.duplicated = f.runObjs.reduce((n, r) => n + perRun.get(r)!.duplicated, 0);
    }
    const all = [...perRun.values()];
    allSurvived = faults.every((f) => f.survived);
    return {
      faults: faults.map(({ runObjs: _r, ...f }) => f),
      runs: runs.map((r) => ({ name: r.spec.name, end: r.end, ...perRun.get(r)!, problems: r.problems, notes: r.notes })),
      injected: faults.filter((f) => f.injected).length,
      survived: faults.filter((f) => f.survived).length,
      lost: all.reduce((n, d) => n + d.lost, 0),
      duplicated: all.reduce((n, d) => n + d.duplicated, 0),
      seconds: (Date.now() - t0) / 1000,
      workerLog: allSurvived && !opts.keep ? null : workerLog,
    };
  } finally {
    if (worker) await (worker as WorkerProcess).kill9();
    await connection?.close().catch(() => undefined);
    await server.stop();
    if (!opts.keep) {
      for (const r of runs) if (r.pair) await dropPair(r.pair).catch(() => undefined);
      rmSync(allSurvived ? dir : path.join(dir, 'temporal.db'), { recursive: true, force: true });
      rmSync(store, { recursive: true, force: true });
    }
  }
}

/** What `cutover gc` would list for a closed run: its aliases set as the worker had them. */
async function leftovers(r: ChaosRun): Promise<string[]> {
  const env = r.env();
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const plan = validatePlan(r.plan());
    const report = await gc(plan, { apply: false, minAgeMs: 0, workflowOpen: false });
    return [
      // Scratch databases are named after their run: only this run's count (others on the server are other tests').
      ...report.databases
        .filter((d) => r.last?.runKey && d.database.endsWith(`_${r.last.runKey}`))
        .map((d) => `scratch database ${d.database}`),
      ...report.staging.map((x) => `staging schema ${x.schema}`),
      ...report.store.map((x) => `${x.kind} ${x.location}`),
    ];
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
