// The cutover worker: polls task queue `cutover`, runs the workflow and the step activities.
// Connection aliases are resolved at each activity from CUTOVER_DB_<ALIAS> or CUTOVER_SECRETS_DIR
// (activities/db/connect.ts). Operations: CUTOVER_METRICS_ADDRESS serves Prometheus metrics (the
// Temporal runtime's own plus cutover_rows_moved), CUTOVER_LOG_FORMAT=json logs one JSON object a
// line. Several workers on one task queue share the work (Temporal hands each task to one of them).
// Payloads are encrypted with the keys of CUTOVER_CODEC_KEYS (common/codec.ts) when it is set; Temporal is
// reached as runtime/config.ts reads it (a profile, TEMPORAL_* variables: TLS, mTLS, API key).
import { existsSync } from 'node:fs';
import { NativeConnection, Runtime, Worker, DefaultLogger, type LogLevel, type Logger } from '@temporalio/worker';
import { codecFromEnv, describeCodec } from '../common/data-converter';
import { TASK_QUEUE } from '../common/temporal';
import { describeTemporal, temporalConfig } from '../runtime/config';
import { createWorker as createProjectWorker, HEARTBEAT_THROTTLE } from '../runtime/worker';
import { JsonLogger } from './json-logger';

export { HEARTBEAT_THROTTLE };

export interface WorkerOptions {
  taskQueue?: string;
  address?: string;
  namespace?: string;
  /** Stop when this signal fires instead of SIGINT/SIGTERM (tests). */
  signal?: AbortSignal;
}

/** `host:port` for the Prometheus endpoint (CUTOVER_METRICS_ADDRESS; a bare port binds 0.0.0.0), or undefined. */
export function metricsAddress(value = process.env.CUTOVER_METRICS_ADDRESS): string | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  const address = /^\d+$/.test(v) ? `0.0.0.0:${v}` : v;
  if (!/^[^:\s]+:\d{1,5}$/.test(address)) throw new Error(`CUTOVER_METRICS_ADDRESS must be host:port or a port (got ${JSON.stringify(v)})`);
  return address;
}

const jsonLogs = () => (process.env.CUTOVER_LOG_FORMAT ?? '').toLowerCase() === 'json';

/** The worker's own lines: plain on stderr, or through the runtime's logger when logs are JSON. */
function say(message: string, meta?: Record<string, unknown>): void {
  if (jsonLogs()) Runtime.instance().logger.info(message, meta);
  else console.error(message);
}

let runtimeReady = false;
function installRuntime(): void {
  if (runtimeReady) return;
  runtimeReady = true;
  const level = (process.env.CUTOVER_LOG_LEVEL ?? 'INFO').toUpperCase() as LogLevel;
  const bindAddress = metricsAddress();
  const json = jsonLogs();
  const logger: Logger = json ? new JsonLogger(level) : new DefaultLogger(level);
  try {
    Runtime.install({
      logger,
      shutdownSignals: ['SIGINT', 'SIGTERM'],
      telemetryOptions: {
        // JSON: the native side's lines go through the same logger, so every line is one object.
        ...(json
          ? {
              logging: { filter: { core: level === 'TRACE' ? 'TRACE' : level === 'DEBUG' ? 'DEBUG' : 'WARN', other: 'WARN' }, forward: {} },
            }
          : {}),
        ...(bindAddress ? { metrics: { prometheus: { bindAddress } } } : {}),
      },
    });
  } catch {
    // Already installed by the host process (tests): keep theirs.
  }
}

/** The worker and the connection it was given: the caller closes the connection once the worker stopped. */
export async function createWorker(opts: WorkerOptions = {}): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime();
  return createProjectWorker({
    address: opts.address,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    // Bounded so one worker never opens more connections than the databases expect.
    maxConcurrentActivityTaskExecutions: Number(process.env.CUTOVER_MAX_ACTIVITIES ?? 4),
  });
}

/** Run until SIGINT/SIGTERM or `opts.signal` (graceful: in-flight activities finish or are handed back). */
export async function runWorker(opts: WorkerOptions = {}): Promise<void> {
  const aliases = Object.keys(process.env)
    .filter((k) => k.startsWith('CUTOVER_DB_'))
    .map((k) => k.slice('CUTOVER_DB_'.length).toLowerCase());
  const { worker, connection } = await createWorker(opts);
  const secrets = process.env.CUTOVER_SECRETS_DIR;
  const metrics = metricsAddress();
  const codec = codecFromEnv();
  // Not fatal: the directory may be mounted later; aliases are read at each use.
  if (secrets && !existsSync(secrets))
    say(`cutover worker: CUTOVER_SECRETS_DIR ${secrets} does not exist (yet): aliases found nowhere else will not resolve until it does`);
  const temporal = temporalConfig(process.env, { address: opts.address, namespace: opts.namespace });
  say(
    `cutover worker: task queue ${opts.taskQueue ?? TASK_QUEUE} on Temporal ${describeTemporal(temporal)}, connection aliases: ${aliases.join(', ') || (secrets ? '(none in the environment)' : '(none: set CUTOVER_DB_<ALIAS>)')}` +
      `${secrets ? `; more from files in ${secrets}, read at each use` : ''}${metrics ? `; Prometheus metrics on http://${metrics}/metrics` : ''}; ${describeCodec(codec)}`,
    {
      temporal: temporal.address,
      namespace: temporal.namespace,
      taskQueue: opts.taskQueue ?? TASK_QUEUE,
      identity: worker.options.identity,
      aliases,
      secretsDir: secrets ?? null,
      metrics: metrics ?? null,
      codecKeyId: codec.encryptKeyId ?? null,
    },
  );
  const stop = () => (worker.getState() === 'RUNNING' ? worker.shutdown() : undefined);
  const running = worker.run(); // RUNNING at once, so a stop from here on is honoured
  if (opts.signal?.aborted) stop();
  else opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    await running;
  } finally {
    // A connection left open keeps its native resources (and the process) alive after the worker stopped.
    await connection.close();
  }
  say('cutover worker: stopped');
}
