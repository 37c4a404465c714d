// The harness's dev server (the bench's and the chaos suite's) is the server the product was tested
// against: it refuses a run's signal beyond history.maximumSignalsPerExecution, the bound that keeps a
// flood while a step runs from filling the history (common/history-budget.ts). A workflow with no
// worker is enough: its signals are recorded (or refused) by the server alone.
import { DevServer } from '../harness/dev-server';
import { freePort } from '../harness/free-port';
import { SERVER_LIMITS } from '../harness/server-limits';
import { createClient } from '../runtime/client';

let server: DevServer;
beforeAll(async () => {
  server = new DevServer(await freePort());
  await server.start();
}, 150000);
afterAll(async () => {
  await server?.stop();
});

test('a signal beyond the per-run limit is refused by the server', async () => {
  const client = await createClient({ config: { address: server.address, namespace: 'default' } });
  try {
    const h = await client.workflow.start('cutoverMigration', {
      taskQueue: 'no-worker-here',
      workflowId: `limits-${process.pid}`,
      args: [],
    });
    const limit = SERVER_LIMITS['history.maximumSignalsPerExecution'];
    for (let i = 0; i < limit; i++) await h.signal('noSuchSignal', i);
    const refused = await h.signal('noSuchSignal', limit).then(
      () => null,
      (e: Error) => `${e.message}: ${String((e.cause as Error | undefined)?.message)}`,
    );
    expect(refused).toMatch(/exceeded workflow execution limit for signal events/);
    await h.terminate('test done');
  } finally {
    await client.connection.close();
  }
}, 60000);
