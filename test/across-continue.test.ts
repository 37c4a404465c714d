// Sending again to a run caught continuing as new (pure logic: the handle is a stand-in).
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { acrossContinueAsNew, signalBudgetSpent } from '../client/across-continue';

const closing = () => new WorkflowNotFoundError('workflow execution already completed', 'cutover-x', undefined);
const handleWith = (status: string) => ({ describe: async () => ({ status: { name: status } }) }) as unknown as WorkflowHandle;

test('a send refused by the closing run is sent again while the workflow id still runs', async () => {
  let calls = 0;
  const result = await acrossContinueAsNew(handleWith('RUNNING'), async () => {
    if (++calls < 3) throw closing();
    return 'delivered';
  });
  expect({ result, calls }).toEqual({ result: 'delivered', calls: 3 });
});

test("a workflow that really ended, or any other error, is the caller's at once", async () => {
  let calls = 0;
  await expect(
    acrossContinueAsNew(handleWith('COMPLETED'), async () => {
      calls++;
      throw closing();
    }),
  ).rejects.toThrow('already completed');
  expect(calls).toBe(1);
  await expect(
    acrossContinueAsNew(handleWith('RUNNING'), async () => {
      calls++;
      throw new Error('refused: not an approver');
    }),
  ).rejects.toThrow('not an approver');
  expect(calls).toBe(2);
  // It gives up after a few attempts rather than looping.
  await expect(
    acrossContinueAsNew(handleWith('RUNNING'), async () => {
      calls++;
      throw closing();
    }),
  ).rejects.toThrow('already completed');
  expect(calls).toBe(7);
});

test("a signal refused for the run's signal budget is sent again once the workflow id's run is another", async () => {
  // The server's words (history.maximumSignalsPerExecution), as the client reports them.
  const spent = () => new Error('Failed to signal Workflow 3 exceeded workflow execution limit for signal events');
  expect(signalBudgetSpent(spent())).toBe(true);
  expect(signalBudgetSpent(new Error('refused: not an approver'))).toBe(false);
  let describes = 0;
  const continuing = {
    describe: async () => ({ status: { name: 'RUNNING' }, runId: ++describes > 3 ? 'run-2' : 'run-1' }),
  } as unknown as WorkflowHandle;
  let calls = 0;
  const result = await acrossContinueAsNew(continuing, async () => {
    if (++calls === 1) throw spent();
    return 'delivered';
  });
  expect({ result, calls }).toEqual({ result: 'delivered', calls: 2 });
  // A run that does not continue in time (a long step): the refusal is the caller's.
  const stuck = { describe: async () => ({ status: { name: 'RUNNING' }, runId: 'run-1' }) } as unknown as WorkflowHandle;
  await expect(
    acrossContinueAsNew(
      stuck,
      async () => {
        throw spent();
      },
      500,
    ),
  ).rejects.toThrow('exceeded workflow execution limit');
});
