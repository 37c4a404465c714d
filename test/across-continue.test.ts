// Sending again to a run caught continuing as new (pure logic: the handle is a stand-in).
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { acrossContinueAsNew } from '../client/across-continue';

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
