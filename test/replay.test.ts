// Replays recorded histories against the current workflow code: a change that would break runs
// already in flight (non-determinism) fails here. Refresh deliberately with
// `CUTOVER_RECORD_HISTORIES=1 npx jest test/workflow` (and version the change with patched()).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
const dir = path.join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

let workflowBundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  // Bundled once: the same code the worker runs.
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') });
}, 120000);

test('recorded histories exist for every path worth guarding', () => {
  expect(files).toEqual(expect.arrayContaining(['happy-path.json', 'pause-retry.json', 'abort.json', 'reject.json', 'expire.json']));
});

test.each(files)('replays %s deterministically', async (file) => {
  const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
  await expect(
    Worker.runReplayHistory({ workflowBundle }, history, `replay-${file}`),
  ).resolves.toBeUndefined();
}, 120000);
