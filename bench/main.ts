// `npm run bench [-- --subjects N] [--production-scale K] [--production-scale-check] [--scale10] [--no-writer] [--peers] [--jailer DIR] [--keep]`:
// cutover vs raw COPY vs pgcopydb on a generated Pilot of N subjects, into a Production that also holds
// K × the moved volume of unrelated rows, while an application writer keeps writing to it. Progress goes
// to stderr; the table, targets and (last line) one JSON object to stdout.
// --production-scale-check runs the whole run again at K = 10 (same moved rows) for prod_growth_10x.
// --scale10 re-runs stage + whole run at 10·N in a fresh child process (--rss-only) for the RSS growth.
import { spawn } from 'node:child_process';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { parseArgs, SCALE_CHECK_K, USAGE, type Args } from './args';
import { countRows, createDb, dropDb, generateBare, generatePilot, generateProduction, sql, PLAN_TABLES, ALL_TABLES } from './generate';
import { summarize, type LatencySummary } from './latency';
import { choosePlan, rawSelects, type BenchPlan, type RawSelect } from './plan';
import { parallelismOf } from '../plan/parallelism';
import { runRaw, type PhaseResult } from './raw';
import { runPgcopydb } from './pgcopydb';
import { runStageOnly, type StageMeasure } from './stage-only';
import { slowestByStep, stepSeconds } from './steps';
import { runWhole, startTemporal, timelineLines, type DevServer, type RunMeasure } from './whole-run';
import { ratio, scaleCounts, table, targets, type Row, type Summary } from './report';
import { type WriterCounts } from './writer';
import { ThreadWriter } from './writer-thread';
import { measureRollback, type RollbackMeasure } from './rollback';
import { runJailer, type JailerResult } from './jailer';
import { judged, judgeFromEmpty, verdictNote, type ContentVerdict } from './content-check';

const KEEP = process.argv.includes('--keep');
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  log(`${what} …`);
  const t0 = performance.now();
  const v = await fn();
  log(`${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return v;
}

interface ChildResult {
  rss_mb: number;
  stage_rows: number;
  stage_seconds: number;
  stage_rss_mb: number;
  run_rows: number;
  run_seconds: number;
  run_rss_mb: number;
  run_status: string;
  history_events: number;
  steps: Record<string, number>; // seconds per step, as the primary run's
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`[bench] ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const n = args.subjects;
  // No SDK shutdown signals: Ctrl-C / SIGTERM clean up (drop databases, stop the dev server) and exit.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      void cleanup(args.keep).finally(() => process.exit(130));
    });
  }
  const bp = choosePlan(`bench-${n}`, args.lanes);
  if (bp.note && !args.rssOnly) console.log(bp.note);
  log(`${n} subjects; plan variant: ${bp.variant}; ids ${JSON.stringify(bp.idModes)}`);

  const db = async (suffix: string) => {
    const url = await createDb(`${n}_${suffix}`);
    dbs.push(url);
    return url;
  };
  try {
    const pilot = await db('pilot');
    await timed(`generating the Pilot (${n} subjects)`, () => generatePilot(pilot, n));
    const pilotCounts = await countRows(pilot, ALL_TABLES);
    log(`Pilot rows: ${JSON.stringify(pilotCounts)}`);
    process.env.CUTOVER_DB_PILOT = pilot;

    let raw: PhaseResult | undefined;
    let bare: PhaseResult | undefined;
    let pgc: (PhaseResult & { command: string }) | undefined;
    const verdicts: Record<string, ContentVerdict | null> = {};
    const judge = <T>(tool: string, target: string, run: () => Promise<T>) =>
      judged(args.peers, pilot, target, rawSelects(bp), PLAN_TABLES, run).then(({ value, verdict }) => {
        verdicts[tool] = verdict;
        if (verdict) log(`${tool}: ${verdictNote(verdict)}`);
        return value;
      });
    if (!args.rssOnly) {
      const rawTarget = await db('raw');
      await generateProduction(rawTarget, n, false);
      raw = await judge('raw', rawTarget, () => timed('(a) raw psql COPY | psql COPY', () => runRaw(pilot, rawTarget, rawSelects(bp))));
      log(`raw rows: ${JSON.stringify(raw.perTable)}`);
      const bareTarget = await db('bare');
      await generateBare(bareTarget);
      bare = await timed('(a′) raw into bare tables (informational)', () => runRaw(pilot, bareTarget, rawSelects(bp)));
      const pgcTarget = await db('pgcopydb');
      // pgcopydb creates the schema itself: judged against an empty target (no fingerprint before).
      pgc = await timed('(b) pgcopydb clone', () =>
        runPgcopydb(
          pilot,
          pgcTarget,
          PLAN_TABLES,
          ALL_TABLES.filter((t) => !(PLAN_TABLES as readonly string[]).includes(t)),
        ),
      );
      if (args.peers) verdicts.pgcopydb = await judgeFromEmpty(pilot, pgcTarget, rawSelects(bp), PLAN_TABLES);
      log(`pgcopydb rows: ${JSON.stringify(pgc.perTable)}`);
      await Promise.all([rawTarget, bareTarget, pgcTarget].map(release));
    }
    // The moved volume per table (what the raw baseline selects): Production's unrelated fill is K times it.
    const volume = raw?.perTable ?? (await selectedCounts(pilot, rawSelects(bp)));
    const target = async (suffix: string, k: number) => {
      const url = await db(suffix);
      const fill = bp.preExisting ? scaleCounts(volume, k) : {};
      await timed(
        `Production ${suffix} (K = ${k}: ${Object.values(fill).reduce((a, b) => a + b, 0)} unrelated rows${bp.preExisting ? ' + colliding rows' : ''})`,
        () => generateProduction(url, n, bp.preExisting, fill),
      );
      return url;
    };

    const stageTarget = await target('stage', args.productionScale);
    process.env.CUTOVER_DB_PRODUCTION = stageTarget;
    const staged: StageMeasure = await timed('(c) cutover stage activity alone', () => runStageOnly(bp.plan));
    log(`staged rows: ${JSON.stringify(staged.perTable)} (${staged.heartbeats} heartbeats)`);
    await release(stageTarget);

    let jailer: JailerResult | undefined;
    if (args.jailer && !args.rssOnly) {
      const jailerTarget = await target('jailer', args.productionScale);
      const home = args.jailer;
      jailer = await judge('jailer', jailerTarget, () =>
        timed('(e) Jailer export + import', () => runJailer(home, pilot, jailerTarget, bp)),
      );
      log(
        `Jailer rows: ${JSON.stringify(jailer.perTable)} (export ${jailer.exportSeconds.toFixed(1)} s, import ${jailer.importSeconds.toFixed(1)} s)`,
      );
      await release(jailerTarget);
    }

    server = await timed('starting the Temporal dev server', () => startTemporal());
    const srv = server;
    const measured = async (suffix: string, k: number, plan: BenchPlan['plan']): Promise<Measured> => {
      const url = await target(suffix, k);
      process.env.CUTOVER_DB_PRODUCTION = url;
      const m = await measureRun(srv, url, plan, args, `(d) whole cutover run through Temporal, K = ${k}`, (run) =>
        // With the writer on, Production changes beside the run: only a --no-writer run is judged.
        args.writer ? run() : judge(`cutover K = ${k}`, url, run),
      );
      await release(url);
      return m;
    };
    const primary = await measured('run', args.productionScale, bp.plan);
    const { run, moved, movedRows } = primary;
    // K = 10 with the same Pilot, the same moved rows, the same writer: only Production's size differs.
    const at10 = args.productionScaleCheck
      ? await measured('run_k10', SCALE_CHECK_K, choosePlan(`bench-${n}-k${SCALE_CHECK_K}`, args.lanes).plan)
      : null;
    await server.stop();
    server = undefined;

    if (args.rssOnly) {
      const out: ChildResult = {
        rss_mb: Math.max(staged.rssMb, run.rssMb),
        stage_rows: staged.rows,
        stage_seconds: staged.seconds,
        stage_rss_mb: staged.rssMb,
        run_rows: movedRows,
        run_seconds: run.seconds,
        run_rss_mb: run.rssMb,
        run_status: run.status,
        history_events: run.historyEvents,
        steps: primary.steps,
      };
      console.log(JSON.stringify(out));
      return run.status === 'completed' ? 0 : 1;
    }

    // Cross-check: what cutover added to Production equals what the raw baseline selected (match tables merge).
    for (const t of PLAN_TABLES) {
      const want = bp.idModes[t] === 'match' ? 0 : raw!.perTable[t];
      if (run.status === 'completed' && moved[t] !== want)
        log(`WARNING: ${t}: cutover added ${moved[t]} rows, the raw selection has ${want}`);
      if (at10?.run.status === 'completed' && at10.moved[t] !== want)
        log(`WARNING: K = ${SCALE_CHECK_K}: ${t}: cutover added ${at10.moved[t]} rows, the raw selection has ${want}`);
    }

    let child: ChildResult | null = null;
    if (args.scale10)
      child = await timed(`--scale10: stage + whole run at ${10 * n} subjects (child process)`, () => runChild(10 * n, args));

    const rssMb = Math.max(staged.rssMb, run.rssMb);
    const k = args.productionScale;
    const rows: Row[] = [
      { phase: '(a) raw psql|psql', rows: raw!.rows, seconds: raw!.seconds, note: 'FK levels in order, order_items‖payments' },
      { phase: '(a′) raw, bare tables', rows: bare!.rows, seconds: bare!.seconds, note: 'same rows, no keys/FKs/indexes (like staging)' },
      { phase: '(b) pgcopydb clone', rows: pgc!.rows, seconds: pgc!.seconds, note: 'whole tables + schema/indexes/FKs' },
      {
        phase: '(c) cutover stage',
        rows: staged.rows,
        seconds: staged.seconds,
        rssMb: staged.rssMb,
        note: 'in scope, into unlogged staging',
      },
      {
        phase: '(d) cutover whole run',
        rows: movedRows,
        seconds: run.seconds,
        rssMb: run.rssMb,
        note: `${run.status}, gates approved by bench, Production K = ${k}`,
      },
      ...(jailer
        ? [
            {
              phase: '(e) Jailer export + import',
              rows: jailer.rows,
              seconds: jailer.seconds,
              note: `into Production K = ${k}, ids remapped`,
            },
          ]
        : []),
      ...stepRows(primary, `K = ${k}`),
      ...(primary.rollback?.seconds != null
        ? [
            {
              phase: '    rollback (surgical)',
              rows: primary.rollback.rows,
              seconds: primary.rollback.seconds,
              note: "the run's rows deleted, after the run",
            },
          ]
        : []),
    ];
    if (at10) {
      rows.push({
        phase: `(d) whole run, K = ${SCALE_CHECK_K}`,
        rows: at10.movedRows,
        seconds: at10.run.seconds,
        rssMb: at10.run.rssMb,
        note: `${at10.run.status}, Production K = ${SCALE_CHECK_K}`,
      });
      rows.push(...stepRows(at10, `K = ${SCALE_CHECK_K}`));
    }
    if (child) {
      const x10 = { scaled: true, note: `at ${10 * n} subjects` };
      rows.push({ phase: '(c) stage at 10·N', rows: child.stage_rows, seconds: child.stage_seconds, rssMb: child.stage_rss_mb, ...x10 });
      rows.push({
        phase: '(d) whole run at 10·N',
        rows: child.run_rows,
        seconds: child.run_seconds,
        rssMb: child.run_rss_mb,
        ...x10,
        note: `${child.run_status} ${x10.note}`,
      });
    }
    const completed = run.status === 'completed';
    const stepVsRaw = (step: string) => (completed ? ratio(primary.steps[step], raw!.seconds) : null);
    const summary: Summary = {
      rows: raw!.rows,
      stage_vs_raw: ratio(staged.rows / staged.seconds, raw!.rows / raw!.seconds),
      run_vs_raw: completed ? ratio(run.seconds, raw!.seconds) : null,
      run_vs_pgcopydb: completed ? ratio(run.seconds, pgc!.seconds) : null,
      jailer_vs_raw: jailer ? ratio(jailer.seconds, raw!.seconds) : null,
      run_vs_jailer: jailer && completed ? ratio(run.seconds, jailer.seconds) : null,
      window_vs_raw: completed ? ratio(run.windowSeconds ?? undefined, raw!.seconds) : null,
      window_seconds: run.windowSeconds,
      rss_mb: rssMb,
      rss_growth_10x: child ? ratio(child.rss_mb, rssMb) : null,
      history_events: run.historyEvents,
      tables: PLAN_TABLES.length,
      subjects: n,
      plan_variant: bp.variant,
      production_scale: k,
      lanes: parallelismOf(bp.plan).lanes,
      step_seconds: completed ? primary.steps : null,
      publish_vs_raw: stepVsRaw('publish'),
      validate_vs_raw: stepVsRaw('validate'),
      preflight_vs_raw: stepVsRaw('preflight'),
      prod_growth_10x: at10 && completed && at10.run.status === 'completed' ? ratio(at10.run.seconds, run.seconds) : null,
      stage_rss_growth_10x: child ? ratio(child.stage_rss_mb, staged.rssMb) : null,
      phase_growth_10x: child && completed && child.run_status === 'completed' ? growth(primary.steps, child.steps) : null,
      rollback_vs_publish: ratio(primary.rollback?.seconds ?? undefined, primary.steps.publish),
      rollback_seconds: primary.rollback?.seconds ?? null,
      rollback_rows: primary.rollback?.rows ?? null,
      rollback_error: primary.rollback?.error ?? null,
      writer_p99_ratio: primary.writer ? ratio(primary.writer.during.p99Ms ?? undefined, primary.writer.before.p99Ms ?? undefined) : null,
      writer_p99_before_ms: primary.writer?.before.p99Ms ?? null,
      writer_p99_during_ms: primary.writer?.during.p99Ms ?? null,
      writer_ops: primary.writer?.during.ops ?? null,
      writer_slowest_ms_by_step: primary.writer?.slowest ?? null,
      correct_by_content: args.peers ? Object.fromEntries(Object.entries(verdicts).map(([t, v]) => [t, v?.correct ?? null])) : null,
      writer_writes_present: primary.writer
        ? primary.writer.problems.length === 0 && (!at10?.writer || at10.writer.problems.length === 0)
        : null,
    };
    console.log('');
    console.log(
      `cutover bench: ${n} subjects, Pilot ${Object.values(pilotCounts).reduce((a, b) => a + b, 0)} rows in ${ALL_TABLES.length} tables, plan variant: ${bp.variant}`,
    );
    console.log(`pgcopydb: ${pgc!.command}`);
    if (jailer) console.log(`Jailer: ${jailer.command}`);
    console.log(table(rows, raw));
    for (const [label, m] of [
      [`K = ${k}`, primary],
      [`K = ${SCALE_CHECK_K}`, at10],
    ] as const) {
      if (m?.writer) console.log(writerLine(label, m.writer));
    }
    console.log(targets(summary).join('\n'));
    for (const [tool, v] of Object.entries(verdicts)) if (v) console.log(`${tool}: ${verdictNote(v)}`);
    if (args.peers && args.writer) console.log('cutover: not judged by content (the writer changes Production beside it: --no-writer)');
    if (run.error) console.log(`whole run did not complete: ${run.error}`);
    if (at10?.run.error) console.log(`whole run at K = ${SCALE_CHECK_K} did not complete: ${at10.run.error}`);
    console.log(JSON.stringify(summary));
    return completed && (!at10 || at10.run.status === 'completed') && (!child || child.run_status === 'completed') ? 0 : 1;
  } finally {
    await cleanup(args.keep);
  }
}

interface WriterMeasure {
  before: LatencySummary;
  during: LatencySummary;
  counts: WriterCounts;
  problems: string[]; // writes of the application missing from Production (empty: all present)
  slowest: Record<string, number>; // step -> the slowest write (ms) that started during it
}

interface Measured {
  run: RunMeasure;
  steps: Record<string, number>; // seconds per step
  moved: Record<string, number>; // rows the run added per table (the writer's own inserts not counted)
  movedRows: number;
  writer: WriterMeasure | null;
  rollback: RollbackMeasure | null;
}

/** Seconds the writer samples its latency before the run starts. */
const WRITER_BASELINE_MS = 5000;

/** One whole run into Production `url`, with the application writer beside it unless --no-writer. */
async function measureRun(
  srv: DevServer,
  url: string,
  plan: BenchPlan['plan'],
  args: Args,
  what: string,
  around: (run: () => Promise<RunMeasure>) => Promise<RunMeasure>,
): Promise<Measured> {
  const before = await countRows(url, PLAN_TABLES);
  const writer = args.writer && !args.rssOnly ? new ThreadWriter(url) : null;
  try {
    let beforeMs: number[] = [];
    if (writer) {
      await writer.open();
      beforeMs = await timed(`writer latency before the run (${WRITER_BASELINE_MS / 1000} s)`, () => writer.sample(WRITER_BASELINE_MS));
      await writer.start();
    }
    const run = await around(() => timed(what, () => runWhole(srv, plan, args.timeoutS * 1000)));
    let w: WriterMeasure | null = null;
    if (writer) {
      const during = await writer.stop();
      const problems = await writer.verify();
      const slowest = slowestByStep(run.last?.steps ?? [], writer.startedAt, during);
      w = { before: summarize(beforeMs), during: summarize(during), counts: writer.counts, problems, slowest };
      log(
        `writer: ${JSON.stringify({ before: w.before, during: w.during, ...w.counts })}; slowest write (ms) beside each step: ${JSON.stringify(slowest)}`,
      );
      for (const p of problems) log(`WARNING: writer: ${p}`);
    }
    const after = await countRows(url, PLAN_TABLES);
    const moved = Object.fromEntries(PLAN_TABLES.map((t) => [t, after[t] - before[t] - (w?.counts.inserted[t] ?? 0)]));
    log(`whole run: status ${run.status}, ${run.historyEvents} history events; rows added to Production: ${JSON.stringify(moved)}`);
    if (run.error) log(`whole run did not complete: ${run.error}`);
    // A data step's time is its activity's own execution (what the step costs); the step history's
    // start → end adds scheduling and workflow tasks, shown for the other steps.
    // The access checks too: their activity starts with validate's, so their step history times only the wait after it.
    const own = Object.entries(run.activitySeconds).flatMap(([a, s]): [string, number][] =>
      (DATA_STEPS as readonly string[]).includes(a) ? [[a, s]] : a === 'accessChecks' ? [['access-checks', s]] : [],
    );
    const steps = { ...stepSeconds(run.last?.steps ?? []), ...Object.fromEntries(own) };
    log(
      `step seconds (history): ${JSON.stringify(stepSeconds(run.last?.steps ?? []))}; activity seconds: ${JSON.stringify(run.activitySeconds)}`,
    );
    log(
      `timeline (s since the run started; gap: no activity running):\n${timelineLines(run.timeline, run.seconds)
        .map((l) => `[bench]   ${l}`)
        .join('\n')}`,
    );
    // The surgical rollback of the same rows, after the writer stopped (its rows could reference ours).
    const rb =
      run.status === 'completed' && !args.rssOnly
        ? await timed('surgical rollback of the run (activity alone)', () => measureRollback(url, plan))
        : null;
    if (rb) log(`rollback: ${JSON.stringify(rb)}`);
    return { run, steps, moved, movedRows: Object.values(moved).reduce((a, b) => a + b, 0), writer: w, rollback: rb };
  } finally {
    await writer?.close();
  }
}

/** Each step's seconds at 10·N ÷ at N, for the steps both runs timed (those under 0.05 s at N are noise, left out). */
function growth(atN: Record<string, number>, at10N: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(atN)
      .filter(([step, s]) => s >= 0.05 && at10N[step] !== undefined)
      .map(([step, s]) => [step, ratio(at10N[step], s)!]),
  );
}

/** Steps whose activity runs once per run under the step's own name: timed by their activity. */
const DATA_STEPS = ['preflight', 'stage', 'cleanup', 'publish', 'validate'] as const;

/** The table's per-step rows of a run (time÷raw is what the *_vs_raw fields report). */
function stepRows(m: Measured, label: string): Row[] {
  return DATA_STEPS.filter((s) => m.steps[s] !== undefined).map((s) => ({
    phase: `    ${s}`,
    rows:
      s === 'publish' || s === 'validate'
        ? m.movedRows
        : (m.run.final?.evidence?.stage?.tables.reduce((a, t) => a + t.rows, 0) ?? m.movedRows),
    seconds: m.steps[s],
    note: `its activity in the run, ${label}`,
  }));
}

function writerLine(label: string, w: WriterMeasure): string {
  const f = (x: number | null) => (x === null ? '-' : `${x} ms`);
  const worst = Object.entries(w.slowest).sort((a, b) => b[1] - a[1])[0];
  return `writer (${label}): p99 ${f(w.before.p99Ms)} before → ${f(w.during.p99Ms)} during the run (${w.during.ops} ops, ${w.counts.errors} errors${w.counts.firstError ? `: ${w.counts.firstError}` : ''}${worst ? `; slowest ${worst[1]} ms beside ${worst[0]}` : ''}); ${w.problems.length === 0 ? 'every write present' : `MISSING: ${w.problems.join('; ')}`}`;
}

/** Rows each raw SELECT returns (the moved volume), when the raw baseline did not run (the 10·N child). */
async function selectedCounts(pilot: string, selects: RawSelect[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of selects) out[s.table] = Number((await sql<{ n: string }>(pilot, `SELECT count(*)::text AS n FROM (${s.sql}) x`))[0].n);
  return out;
}

/** Drop a database as soon as its measure is taken (unless --keep): four Productions at once fill disks. */
async function release(url: string): Promise<void> {
  if (KEEP) return;
  const i = dbs.indexOf(url);
  if (i >= 0) dbs.splice(i, 1);
  await dropDb(url).catch((e) => log(`could not drop ${url}: ${e}`));
}

// What the run created, for cleanup at the end or on a signal.
const dbs: string[] = [];
let server: DevServer | undefined;
async function cleanup(keep: boolean): Promise<void> {
  const srv = server;
  server = undefined;
  if (srv) await srv.stop().catch(() => undefined);
  const urls = dbs.splice(0);
  if (keep) log(`kept databases: ${urls.map((u) => new URL(u).pathname.slice(1)).join(' ')}`);
  else await Promise.all(urls.map((u) => dropDb(u).catch((e) => log(`could not drop ${u}: ${e}`))));
}

/** Stage + whole run at another scale in a fresh process, so its peak RSS is not inflated by this one's. */
function runChild(subjects: number, args: Args): Promise<ChildResult> {
  const argv = [
    __filename,
    '--subjects',
    String(subjects),
    '--rss-only',
    '--no-writer',
    '--production-scale',
    String(args.productionScale),
    '--timeout',
    String(args.timeoutS),
    ...(args.lanes ? ['--lanes', String(args.lanes)] : []),
    ...(args.keep ? ['--keep'] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as ChildResult);
      } catch {
        reject(new Error(`the 10·N child exited ${code} without a result: ${out.slice(-2000)}`));
      }
    });
  });
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`[bench] FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
