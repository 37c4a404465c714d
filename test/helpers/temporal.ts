// A real Temporal dev server per test file (the CLI from PATH or the project's .tools), with the
// cutover search attributes registered, and a worker running the real workflow and activities.
// Client and worker use the project's data converter (payloads encrypted when CUTOVER_CODEC_KEYS is set);
// the worker is runtime/worker.ts's, as `cutover worker` builds it.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { dataConverterFromEnv } from '../../common/data-converter';
import { SEARCH_ATTRIBUTES } from '../../common/temporal';
import { createWorker } from '../../runtime/worker';
import { temporalBin } from '../../harness/temporal-bin';
import { limitArgs, SERVER_LIMITS } from '../../harness/server-limits';

export { temporalBin };

export { SERVER_LIMITS };

export interface TemporalOptions {
  uiPort?: number;
  /** More `temporal server start-dev` flags (e.g. --ui-codec-endpoint). */
  extraArgs?: string[];
  /**
   * Server settings for one test file, over SERVER_LIMITS (e.g. a low
   * `limit.historySize.suggestContinueAsNew` so continue-as-new happens quickly).
   */
  dynamicConfig?: Record<string, number>;
}

let runtime = false;
export async function startTemporal(opts: TemporalOptions = {}): Promise<TestWorkflowEnvironment> {
  if (!runtime) {
    runtime = true;
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // A test file installed its own (test/privacy.test.ts reads the worker's log).
    }
  }
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBin() },
      ip: '127.0.0.1',
      ...(opts.uiPort ? { ui: true, uiPort: opts.uiPort } : {}),
      searchAttributes: Object.values(SEARCH_ATTRIBUTES).map((n) => defineSearchAttributeKey(n, SearchAttributeType.KEYWORD)),
      extraArgs: [...limitArgs(opts.dynamicConfig), ...(opts.extraArgs ?? [])],
    },
    client: { dataConverter: dataConverterFromEnv() },
  });
}

export async function startWorker(env: TestWorkflowEnvironment): Promise<{ worker: Worker; done: Promise<void> }> {
  // The product's worker (runtime/worker.ts) on the test environment's connection.
  const { worker } = await createWorker({
    connection: env.nativeConnection,
    config: { address: env.address, namespace: env.namespace ?? 'default' },
  });
  const done = worker.run();
  return { worker, done };
}
