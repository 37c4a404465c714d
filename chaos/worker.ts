// A cutover worker process for one chaos run: the project's workflows and activities (as `cutover
// worker` runs them) on the run's own task queue, so killing it (SIGKILL) breaks that run alone, and
// from a workflow bundle built once by the suite, so the many restarts stay cheap on a small machine.
// Built by runtime/worker.ts as `cutover worker` is (data converter, heartbeat throttle).
// Env: TEMPORAL_ADDRESS, CHAOS_TASK_QUEUE, CHAOS_WORKFLOW_BUNDLE, plus the run's CUTOVER_DB_<ALIAS> and
// CUTOVER_CHAOS_* hooks (activities/db/fault.ts).
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createNativeConnection, createWorker } from '../runtime/worker';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const connection = await connectPatiently();
  try {
    const { worker } = await createWorker({
      connection,
      taskQueue: process.env.CHAOS_TASK_QUEUE!,
      workflowBundle: { codePath: process.env.CHAOS_WORKFLOW_BUNDLE! },
    });
    console.error(`chaos worker ${process.pid}: task queue ${process.env.CHAOS_TASK_QUEUE}`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

/** The server may be restarting (the suite restarts it): keep trying for two minutes, as a supervisor would. */
async function connectPatiently(): Promise<NativeConnection> {
  const deadline = Date.now() + 120000;
  for (;;) {
    try {
      return await createNativeConnection();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
