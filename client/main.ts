// The `cutover` command line (docs/operating.md, *The command line*). bin/cutover.js calls run(); exit codes: 0 ok, 1 refused/failed, 2 bad input.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { GATES, RESUME_ACTIONS, ROLLBACK_MODES, STATUSES } from '../common/temporal';
import { TemporalContext, temporalSettings } from './connection';
import { cliTimeoutMs } from './deadline';
import { describeError, EXIT_OK } from './errors';
import type { ExitCode } from './errors';
import { processIo } from './io';
import type { Io } from './io';
import type { CommandContext } from './commands/context';
import { planCheck, planHashCommand, planInput, planSchema } from './commands/plan';
import { start } from './commands/start';
import { approve, reject, resume } from './commands/decide';
import { status } from './commands/status';
import { report } from './commands/report';
import { list } from './commands/list';
import { worker } from './commands/worker';
import { codecServer } from './commands/codec-server';
import { gcCommand } from './commands/gc';
import { erasureReplayCommand } from './commands/erasure';

function packageVersion(): string {
  for (let dir = __dirname, i = 0; i < 4; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
      } catch {
        break;
      }
    }
  }
  return '0.0.0';
}

const ID_HELP = 'the plan id or the workflow id (cutover-<plan id>)';
const AS_HELP = 'who you are (default: $USER, then $LOGNAME)';

export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('cutover');
  program
    .description('Move Pilot data into Production as an explicit, evidenced decision (a durable Temporal workflow).')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.out(s.replace(/\n$/, '')), writeErr: (s) => ctx.io.err(s.replace(/\n$/, '')) })
    .showHelpAfterError('(add --help for usage)')
    .option(
      '--timeout <duration>',
      'how long to wait for Temporal or a worker to answer before failing: 30, 30s, 1500ms, 2m (default: $CUTOVER_CLI_TIMEOUT, else 30s)',
    )
    // Read before any command runs, so a bad value is bad input (exit 2) before anything is sent.
    .hook('preAction', () => {
      ctx.timeoutMs = cliTimeoutMs(program.opts<{ timeout?: string }>().timeout, ctx.env);
    })
    .addHelpText(
      'after',
      '\nEnvironment: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE (default default), TEMPORAL_API_KEY, TEMPORAL_TLS_* or a profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE), CUTOVER_CLI_TIMEOUT (default 30s), CUTOVER_UI_URL (default http://localhost:$TEMPORAL_UI_PORT, or :8233).\nExit codes: 0 ok, 1 refused/failed, 2 bad input.',
    );

  const plan = program.command('plan').description('check a plan file, print its JSON schema, its hash or its Start Workflow input');
  plan
    .command('check <plan>')
    .description('validate a plan file offline; with --connect, also run the preflight dry run against the databases')
    .option('--connect', 'connect to source and target (CUTOVER_DB_<ALIAS>) and print the dry run')
    .option('--json', 'print JSON')
    .action((file: string, opts) => planCheck(ctx, file, opts));
  plan
    .command('schema')
    .description('print the JSON schema of plan files')
    .action(() => planSchema(ctx));
  plan
    .command('hash <plan>')
    .description('print the plan hash (sha256 of canonical JSON) — what approvers approve')
    .action((file: string) => planHashCommand(ctx, file));
  plan
    .command('input <plan>')
    .description(
      "print the JSON input for the Temporal Web UI's Start Workflow form (stdout), and the workflow id, task queue and type to type (stderr)",
    )
    .option('--as <name>', AS_HELP)
    .action((file: string, opts) => planInput(ctx, file, opts));

  program
    .command('gc <plan>')
    .description(
      "list what killed attempts left behind for a plan (scratch databases, staging schemas of runs that are over, partial dumps, S3 multipart uploads); --apply removes them. Needs the worker's environment (CUTOVER_DB_<ALIAS>, AWS_*)",
    )
    .option('--apply', 'remove what is listed as "remove"')
    .option('--min-age <duration>', 'keep store items younger than this (a write may be in progress); default 1h, 0 for none')
    .option('--json', 'print JSON')
    .action((file: string, opts) => gcCommand(ctx, file, opts));

  program
    .command('start <plan>')
    .description('validate the plan and start its cutover workflow (workflow id cutover-<plan id>)')
    .option('--as <name>', AS_HELP)
    .option('--wait', 'wait until the run ends; exit 0 only if it completed')
    .option('--json', 'print JSON')
    .action((file: string, opts) => start(ctx, file, opts));

  program
    .command('approve <id>')
    .description(`approve a gate (${ID_HELP})`)
    .requiredOption('--gate <gate>', `the gate: ${GATES.join(' | ')}`)
    .option('--as <name>', AS_HELP)
    .option('--comment <text>', 'a comment kept with the approval')
    .option('--plan-hash <hash>', 'the plan hash you reviewed (refused if it differs)')
    .option('--rehearsal-hash <hash>', 'gate cutover: the rehearsal report hash you reviewed (refused if it differs)')
    .option(
      '--acknowledge <reason>',
      'gate plan: a refusal the dry run predicts that you accept (e.g. collisions:public.users); repeat for each — required when it predicts any',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--sign <keyfile>', 'sign the approval with this SSH key (ssh-keygen -Y sign -n cutover; ed25519)')
    .option('--json', 'print JSON')
    .action((id: string, opts) => approve(ctx, id, opts));

  program
    .command('reject <id>')
    .description(`reject a gate, ending the run (${ID_HELP})`)
    .requiredOption('--gate <gate>', `the gate: ${GATES.join(' | ')}`)
    .option('--as <name>', AS_HELP)
    .requiredOption('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action((id: string, opts) => reject(ctx, id, opts));

  program
    .command('resume <id>')
    .description(`resume a paused run (${ID_HELP})`)
    .requiredOption('--action <action>', `what to do: ${RESUME_ACTIONS.join(' | ')}`)
    .option('--as <name>', AS_HELP)
    .requiredOption('--reason <text>', 'why (kept in the evidence)')
    .option('--from <step>', 'the step to re-run from (roll-forward)')
    .option('--mode <mode>', `how to roll back: ${ROLLBACK_MODES.join(' | ')} (default surgical)`)
    .option(
      '--accept-database <alias>',
      "with --action retry: the database this alias reaches legitimately moved (restored, copied); accept it as the run's",
    )
    .option('--sign <keyfile>', 'sign the resume with this SSH key (ssh-keygen -Y sign -n cutover; ed25519)')
    .option('--json', 'print JSON')
    .action((id: string, opts) => resume(ctx, id, opts));

  program
    .command('status <id>')
    .description(`show the status of a run (${ID_HELP})`)
    .option('--watch', 'refresh every 2s until the run ends, with live progress; exit 0 only if it completed')
    .option('--json', 'print the status JSON')
    .option('--run <runId>', 'an earlier run of the same plan id')
    .action((id: string, opts) => status(ctx, id, opts));

  program
    .command('report <id>')
    .description(`print the evidence pack (${ID_HELP})`)
    .option('--format <format>', 'md | json | html', 'md')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--run <runId>', 'an earlier run of the same plan id')
    .option(
      '--ids',
      "print the run's id pairs instead (table, Pilot key, Production key, outcome; tab-separated): from the backup store, else cutover.id_map",
    )
    .option(
      '--file <file>',
      "read a stored evidence file (the backup store's evidence.json, or cutover.evidence.pack_text), sealed or not, instead of asking Temporal; <id> is then only a label",
    )
    .action((id: string, opts) => report(ctx, id, opts));

  program
    .command('list')
    .description('list cutover runs')
    .option('--status <status>', `only runs with this status: ${STATUSES.join(' | ')}`)
    .option('--change <id>', "only runs authorised by this change request (the plan's decision.change, e.g. CHG-1234)")
    .option('--limit <n>', 'at most this many runs (default 200)')
    .option('--json', 'print JSON')
    .action((opts) => list(ctx, opts));

  const erasure = program.command('erasure').description('erasures in Production outside a run');
  erasure
    .command('replay')
    .description(
      "after any restore of Production: re-apply every erasure (the erasure log and every register, translated to today's Production keys), prove zero residue, write an evidence pack (workflow cutoverErasureReplay)",
    )
    .requiredOption('--target <alias>', "the restored database's connection alias, as the plans name it (e.g. production)")
    .requiredOption(
      '--since <time|backup>',
      "the restore point: a time (2026-11-20T10:00:00Z) or the restored backup object's location (s3://… or file:///…)",
    )
    .option('--as <name>', AS_HELP)
    .option('--wait', 'wait for the replay and print what it did (exit 1 when refused)')
    .option('--json', 'print JSON')
    .action((opts) => erasureReplayCommand(ctx, opts));

  program
    .command('worker')
    .description(
      'run a worker on task queue `cutover` (connection aliases from CUTOVER_DB_<ALIAS> or files in CUTOVER_SECRETS_DIR, read at each use)',
    )
    .option(
      '--metrics-address <host:port>',
      'serve Prometheus metrics at http://<host:port>/metrics (default: CUTOVER_METRICS_ADDRESS; a bare port binds 0.0.0.0)',
    )
    .option('--log-format <format>', 'text or json: one JSON object per line (default: CUTOVER_LOG_FORMAT, else text)')
    .action((o: { metricsAddress?: string; logFormat?: string }) => {
      // The worker reads both from its environment (also how containers configure it).
      if (o.metricsAddress) process.env.CUTOVER_METRICS_ADDRESS = o.metricsAddress;
      if (o.logFormat) process.env.CUTOVER_LOG_FORMAT = o.logFormat;
      return worker(ctx);
    });

  program
    .command('codec-server')
    .description(
      "serve Temporal's remote codec endpoint (POST /encode, /decode) with the keys of CUTOVER_CODEC_KEYS, for the Web UI and `temporal --codec-endpoint`",
    )
    .option('--port <n>', 'port to listen on (0: any free port; the URL is printed)', '8888')
    .option('--host <addr>', 'address to bind (anyone who reaches it can decrypt)', '127.0.0.1')
    .option(
      '--origin <origins>',
      'the Web UI origins browsers may call from (CORS), comma-separated (default $CUTOVER_CODEC_ALLOW_ORIGIN, else http://localhost:8233,http://127.0.0.1:8233)',
    )
    .option('--allow-origin <origins>', 'the same as --origin')
    .option('--token <token>', 'the bearer token every request must carry (default $CUTOVER_CODEC_TOKEN); required unless --no-auth')
    .option('--no-auth', 'serve without a token: anyone who reaches the server can decrypt (say so explicitly)')
    .action((opts) => codecServer(ctx, opts));

  return program;
}

/** Run the CLI; resolves to the exit code (never throws). `argv` as in process.argv. */
export async function run(
  argv: string[] = process.argv,
  io: Io = processIo,
  env: Record<string, string | undefined> = process.env,
  signal?: AbortSignal,
): Promise<ExitCode> {
  const ctx: CommandContext = { io, env, temporal: new TemporalContext(temporalSettings(env), env), exitCode: EXIT_OK, signal };
  try {
    await buildProgram(ctx).parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    const { exitCode, lines } = describeError(err);
    for (const line of lines) io.err(line);
    return exitCode;
  } finally {
    await ctx.temporal.close();
  }
}
