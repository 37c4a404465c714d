// The cutover worker: polls task queue `cutover`, runs the workflow and the step activities.
// Connection aliases are resolved from this process's environment (CUTOVER_DB_<ALIAS>), and so are
// the payload encryption keys (CUTOVER_CODEC_KEYS, common/codec.ts).
import { NativeConnection, Runtime, Worker, DefaultLogger, type LogLevel } from '@temporalio/worker';
import { activities } from '../activities';
import { activityInterceptors } from '../activities/interceptor';
import { codecFromEnv, dataConverterFor, describeCodec } from '../common/data-converter';
import { TASK_QUEUE } from '../common/temporal';

export interface WorkerOptions {
  taskQueue?: string;
  address?: string;
  namespace?: string;
  /** Stop when this signal fires instead of SIGINT/SIGTERM (tests). */
  signal?: AbortSignal;
}

let runtimeReady = false;
function installRuntime(): void {
  if (runtimeReady) return;
  runtimeReady = true;
  const level = (process.env.CUTOVER_LOG_LEVEL ?? 'INFO').toUpperCase() as LogLevel;
  try {
    Runtime.install({ logger: new DefaultLogger(level), shutdownSignals: ['SIGINT', 'SIGTERM'] });
  } catch {
    // Already installed by the host process (tests): keep theirs.
  }
}

/** The worker and the connection it was given: the caller closes the connection once the worker stopped. */
export async function createWorker(opts: WorkerOptions = {}): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime();
  // Parsed before connecting: a malformed CUTOVER_CODEC_KEYS stops the worker at start, naming the entry.
  const codec = codecFromEnv();
  const connection = await NativeConnection.connect({ address: opts.address ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  try {
    const worker = await Worker.create({
      connection,
      namespace: opts.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: opts.taskQueue ?? TASK_QUEUE,
      workflowsPath: require.resolve('../workflows'),
      activities,
      interceptors: { activity: activityInterceptors },
      dataConverter: dataConverterFor(codec),
      // Bounded so one worker never opens more connections than the databases expect.
      maxConcurrentActivityTaskExecutions: Number(process.env.CUTOVER_MAX_ACTIVITIES ?? 4),
    });
    return { worker, connection };
  } catch (e) {
    await connection.close();
    throw e;
  }
}

/** Run until SIGINT/SIGTERM or `opts.signal` (graceful: in-flight activities finish or are handed back). */
export async function runWorker(opts: WorkerOptions = {}): Promise<void> {
  const aliases = Object.keys(process.env).filter((k) => k.startsWith('CUTOVER_DB_')).map((k) => k.slice('CUTOVER_DB_'.length).toLowerCase());
  const { worker, connection } = await createWorker(opts);
  console.error(`cutover worker: task queue ${opts.taskQueue ?? TASK_QUEUE}, connection aliases: ${aliases.join(', ') || '(none: set CUTOVER_DB_<ALIAS>)'}; ${describeCodec(codecFromEnv())}`);
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
  console.error('cutover worker: stopped');
}
