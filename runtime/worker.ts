// The one way cutover builds a Temporal worker (`cutover worker`, tests, bench, chaos): the connection
// from ./config.ts (profile + environment: TLS, mTLS, API key), the project's activities with their
// interceptor, the data converter of common/data-converter.ts and the heartbeat throttle. Callers
// choose only what differs: the task queue, a bundle instead of the workflow sources, wrapped
// activities (bench timing), or a connection they already hold (the test environment's).
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { activities as projectActivities } from '../activities';
import { activityInterceptors } from '../activities/interceptor';
import { dataConverterFromEnv } from '../common/data-converter';
import { TASK_QUEUE } from '../common/temporal';
import { temporalConfig, type TemporalConfig } from './config';

type Env = Record<string, string | undefined>;

/**
 * Heartbeat details are the live progress (status --watch, the UI's Pending Activities): the SDK
 * would hold them back for up to 80% of the heartbeat timeout (60 s at most); send the latest every
 * 5 s instead, so the server always has progress less than 10 s old.
 */
export const HEARTBEAT_THROTTLE = { maxHeartbeatThrottleInterval: '5s', defaultHeartbeatThrottleInterval: '5s' } as const;

export interface NativeConnectOptions {
  env?: Env;
  address?: string;
  namespace?: string;
  config?: TemporalConfig;
}

/** A worker connection (the caller closes it once its workers stopped). */
export async function createNativeConnection(opts: NativeConnectOptions = {}): Promise<NativeConnection> {
  const c = opts.config ?? temporalConfig(opts.env, { address: opts.address, namespace: opts.namespace });
  return NativeConnection.connect({
    address: c.address,
    ...(c.tls !== undefined ? { tls: c.tls } : {}),
    ...(c.apiKey !== undefined ? { apiKey: c.apiKey } : {}),
    ...(c.metadata ? { metadata: c.metadata } : {}),
  });
}

export interface CreateWorkerOptions extends NativeConnectOptions {
  /** Reuse this connection (its owner closes it); else one is opened and returned. */
  connection?: NativeConnection;
  taskQueue?: string;
  /** A prebuilt workflow bundle (chaos restarts workers often); else the sources of workflows/. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Other workflow sources (a test's single-step workflow); else workflows/. */
  workflowsPath?: string;
  activities?: object;
  maxConcurrentActivityTaskExecutions?: number;
  /** Anything else the SDK takes (tests' shutdown grace, bench's limits). */
  more?: Partial<WorkerOptions>;
}

/** The worker and its connection: the caller closes the connection after the worker stopped, when it opened none itself. */
export async function createWorker(opts: CreateWorkerOptions = {}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const env = opts.env ?? process.env;
  // Read first: a malformed CUTOVER_CODEC_KEYS stops the worker at start, naming the entry.
  const dataConverter = dataConverterFromEnv(env);
  const config = opts.config ?? temporalConfig(env, { address: opts.address, namespace: opts.namespace });
  const own = !opts.connection;
  const connection = opts.connection ?? (await createNativeConnection({ config }));
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: opts.taskQueue ?? TASK_QUEUE,
      ...(opts.workflowBundle
        ? { workflowBundle: opts.workflowBundle }
        : { workflowsPath: opts.workflowsPath ?? require.resolve('../workflows') }),
      activities: opts.activities ?? projectActivities,
      interceptors: { activity: activityInterceptors },
      dataConverter,
      ...(opts.maxConcurrentActivityTaskExecutions !== undefined
        ? { maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions }
        : {}),
      ...HEARTBEAT_THROTTLE,
      ...opts.more,
    });
    return { worker, connection };
  } catch (e) {
    if (own) await connection.close();
    throw e;
  }
}
