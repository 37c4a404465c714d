// The cutover worker: polls task queue `cutover`, runs the workflow and the step activities.
// Connection aliases are resolved from this process's environment (CUTOVER_DB_<ALIAS>).
import { NativeConnection, Runtime, Worker, DefaultLogger, type LogLevel } from '@temporalio/worker';
import * as activities from '../activities';
import { TASK_QUEUE } from '../workflows/api';

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

export async function createWorker(opts: WorkerOptions = {}): Promise<Worker> {
  installRuntime();
  const connection = await NativeConnection.connect({ address: opts.address ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  return Worker.create({
    connection,
    namespace: opts.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    workflowsPath: require.resolve('../workflows'),
    activities,
    // Bounded so one worker never opens more connections than the databases expect.
    maxConcurrentActivityTaskExecutions: Number(process.env.CUTOVER_MAX_ACTIVITIES ?? 4),
  });
}

/** Run until SIGINT/SIGTERM (graceful: in-flight activities finish or are handed back). */
export async function runWorker(opts: WorkerOptions = {}): Promise<void> {
  const aliases = Object.keys(process.env).filter((k) => k.startsWith('CUTOVER_DB_')).map((k) => k.slice('CUTOVER_DB_'.length).toLowerCase());
  const worker = await createWorker(opts);
  console.error(`cutover worker: task queue ${opts.taskQueue ?? TASK_QUEUE}, connection aliases: ${aliases.join(', ') || '(none: set CUTOVER_DB_<ALIAS>)'}`);
  await worker.run();
  console.error('cutover worker: stopped');
}
