// `npm run bench [-- --subjects N] [--scale10] [--keep]`: cutover vs raw COPY vs pgcopydb on a generated
// Pilot of N subjects. Progress goes to stderr; the table, targets and (last line) one JSON object to stdout.
// --scale10 re-runs stage + whole run at 10·N in a fresh child process (--rss-only) for the RSS growth.
import { spawn } from 'node:child_process';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { countRows, createDb, dropDb, generateBare, generatePilot, generateProduction, PLAN_TABLES, ALL_TABLES } from './generate';
import { choosePlan, rawSelects } from './plan';
import { runRaw, type PhaseResult } from './raw';
import { runPgcopydb } from './pgcopydb';
import { runStageOnly, type StageMeasure } from './stage-only';
import { runWhole, startTemporal, type DevServer, type RunMeasure } from './whole-run';
import { ratio, table, targets, type Row, type Summary } from './report';

interface Args {
  subjects: number;
  scale10: boolean;
  keep: boolean;
  rssOnly: boolean;
  timeoutS: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { subjects: 200000, scale10: false, keep: false, rssOnly: false, timeoutS: 4 * 3600 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--subjects') a.subjects = Number(argv[++i]);
    else if (v.startsWith('--subjects=')) a.subjects = Number(v.slice(11));
    else if (v === '--scale10') a.scale10 = true;
    else if (v === '--keep') a.keep = true;
    else if (v === '--rss-only') a.rssOnly = true;
    else if (v === '--timeout') a.timeoutS = Number(argv[++i]);
    else if (v === '--help' || v === '-h') {
      console.log('usage: npm run bench -- [--subjects N (200000)] [--scale10] [--keep] [--timeout SECONDS]');
      process.exit(0);
    } else throw new Error(`unknown argument ${v}`);
  }
  if (!Number.isInteger(a.subjects) || a.subjects < 100) throw new Error('--subjects must be an integer >= 100');
  return a;
}

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
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const n = args.subjects;
  // No SDK shutdown signals: Ctrl-C / SIGTERM clean up (drop databases, stop the dev server) and exit.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      void cleanup(args.keep).finally(() => process.exit(130));
    });
  }
  const bp = choosePlan(`bench-${n}`);
  if (bp.note && !args.rssOnly) console.log(bp.note);
  log(`${n} subjects; plan variant: ${bp.variant}; ids ${JSON.stringify(bp.idModes)}`);

  const db = async (suffix: string) => {
    const url = await createDb(`${n}_${suffix}`);
    dbs.push(url);
    return url;
  };
  const target = async (suffix: string, preExisting: boolean) => {
    const url = await db(suffix);
    await generateProduction(url, n, preExisting);
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
    if (!args.rssOnly) {
      const rawTarget = await target('raw', false);
      raw = await timed('(a) raw psql COPY | psql COPY', () => runRaw(pilot, rawTarget, rawSelects(bp)));
      log(`raw rows: ${JSON.stringify(raw.perTable)}`);
      const bareTarget = await db('bare');
      await generateBare(bareTarget);
      bare = await timed('(a′) raw into bare tables (informational)', () => runRaw(pilot, bareTarget, rawSelects(bp)));
      const pgcTarget = await db('pgcopydb');
      pgc = await timed('(b) pgcopydb clone', () => runPgcopydb(pilot, pgcTarget, PLAN_TABLES, ALL_TABLES.filter((t) => !(PLAN_TABLES as readonly string[]).includes(t))));
      log(`pgcopydb rows: ${JSON.stringify(pgc.perTable)}`);
    }

    process.env.CUTOVER_DB_PRODUCTION = await target('stage', bp.preExisting);
    const staged: StageMeasure = await timed('(c) cutover stage activity alone', () => runStageOnly(bp.plan));
    log(`staged rows: ${JSON.stringify(staged.perTable)} (${staged.heartbeats} heartbeats)`);

    const runTarget = await target('run', bp.preExisting);
    process.env.CUTOVER_DB_PRODUCTION = runTarget;
    const before = await countRows(runTarget, PLAN_TABLES);
    server = await timed('starting the Temporal dev server', () => startTemporal());
    const srv = server;
    const run: RunMeasure = await timed('(d) whole cutover run through Temporal', () => runWhole(srv, bp.plan, args.timeoutS * 1000));
    await server.stop();
    server = undefined;
    const after = await countRows(runTarget, PLAN_TABLES);
    const moved = Object.fromEntries(PLAN_TABLES.map((t) => [t, after[t] - before[t]]));
    log(`whole run: status ${run.status}, ${run.historyEvents} history events; rows added to Production: ${JSON.stringify(moved)}`);
    if (run.error) log(`whole run did not complete: ${run.error}`);
    const movedRows = Object.values(moved).reduce((a, b) => a + b, 0);

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
      };
      console.log(JSON.stringify(out));
      return run.status === 'completed' ? 0 : 1;
    }

    // Cross-check: what cutover added to Production equals what the raw baseline selected (match tables merge).
    for (const t of PLAN_TABLES) {
      const want = bp.idModes[t] === 'match' ? 0 : raw!.perTable[t];
      if (run.status === 'completed' && moved[t] !== want) log(`WARNING: ${t}: cutover added ${moved[t]} rows, the raw selection has ${want}`);
    }

    let child: ChildResult | null = null;
    if (args.scale10) child = await timed(`--scale10: stage + whole run at ${10 * n} subjects (child process)`, () => runChild(10 * n, args));

    const rssMb = Math.max(staged.rssMb, run.rssMb);
    const rows: Row[] = [
      { phase: '(a) raw psql|psql', rows: raw!.rows, seconds: raw!.seconds, note: 'FK levels in order, order_items‖payments' },
      { phase: '(a′) raw, bare tables', rows: bare!.rows, seconds: bare!.seconds, note: 'same rows, no keys/FKs/indexes (like staging)' },
      { phase: '(b) pgcopydb clone', rows: pgc!.rows, seconds: pgc!.seconds, note: 'whole tables + schema/indexes/FKs' },
      { phase: '(c) cutover stage', rows: staged.rows, seconds: staged.seconds, rssMb: staged.rssMb, note: 'in scope, into unlogged staging' },
      { phase: '(d) cutover whole run', rows: movedRows, seconds: run.seconds, rssMb: run.rssMb, note: `${run.status}, gates approved by bench` },
    ];
    if (child) {
      const at10 = { scaled: true, note: `at ${10 * n} subjects` };
      rows.push({ phase: '(c) stage at 10·N', rows: child.stage_rows, seconds: child.stage_seconds, rssMb: child.stage_rss_mb, ...at10 });
      rows.push({ phase: '(d) whole run at 10·N', rows: child.run_rows, seconds: child.run_seconds, rssMb: child.run_rss_mb, ...at10, note: `${child.run_status} ${at10.note}` });
    }
    const summary: Summary = {
      rows: raw!.rows,
      stage_vs_raw: ratio(staged.rows / staged.seconds, raw!.rows / raw!.seconds),
      run_vs_raw: run.status === 'completed' ? ratio(run.seconds, raw!.seconds) : null,
      run_vs_pgcopydb: run.status === 'completed' ? ratio(run.seconds, pgc!.seconds) : null,
      rss_mb: rssMb,
      rss_growth_10x: child ? ratio(child.rss_mb, rssMb) : null,
      history_events: run.historyEvents,
      tables: PLAN_TABLES.length,
      subjects: n,
      plan_variant: bp.variant,
    };
    console.log('');
    console.log(`cutover bench: ${n} subjects, Pilot ${Object.values(pilotCounts).reduce((a, b) => a + b, 0)} rows in ${ALL_TABLES.length} tables, plan variant: ${bp.variant}`);
    console.log(`pgcopydb: ${pgc!.command}`);
    console.log(table(rows, raw));
    console.log(targets(summary).join('\n'));
    if (run.error) console.log(`whole run did not complete: ${run.error}`);
    console.log(JSON.stringify(summary));
    return run.status === 'completed' && (!child || child.run_status === 'completed') ? 0 : 1;
  } finally {
    await cleanup(args.keep);
  }
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
  const argv = [__filename, '--subjects', String(subjects), '--rss-only', '--timeout', String(args.timeoutS), ...(args.keep ? ['--keep'] : [])];
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
