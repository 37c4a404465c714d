// Replays recorded histories against the current workflow code: a change that would break runs
// already in flight (non-determinism) fails here. Refresh deliberately with
// `CUTOVER_RECORD_HISTORIES=1 npx jest test/workflow` (and version the change with patched()).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { planHash } from '../plan/canonical';
import { validatePlan } from '../plan/validate';

Runtime.install({ logger: new DefaultLogger('WARN') });
const dir = path.join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

let workflowBundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  // Bundled once: the same code the worker runs.
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') });
}, 120000);

test('recorded histories exist for every path worth guarding', () => {
  const paths = ['happy-path', 'pause-retry', 'abort', 'reject', 'expire'];
  // Runs started before the plan was recorded once, and runs started after.
  expect(files).toEqual(expect.arrayContaining([...paths.map((p) => `${p}.json`), ...paths.map((p) => `${p}.plan-recorded.json`)]));
  // Runs of the step table: every path, plus rollback and roll-forward.
  expect(files).toEqual(expect.arrayContaining([...paths, 'rollback', 'roll-forward'].map((p) => `${p}.step-table.json`)));
});

// What a history says about its plan: the raw workflow input, the plan the first activity received,
// and (for runs that record it) the normalised plan and hash recorded once at the start.
type Payload = { data: string };
type Event = Record<string, { input?: { payloads: Payload[] }; markerName?: string; details?: Record<string, { payloads: Payload[] }> }>;
const decode = (p: Payload) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));
function plansOf(file: string) {
  const events: Event[] = JSON.parse(readFileSync(path.join(dir, file), 'utf8')).events;
  const started = events.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes;
  const firstActivity = events.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes;
  const marker = events.map((e) => e.markerRecordedEventAttributes).find((m) => m?.markerName === 'core_local_activity');
  return {
    raw: decode(started.input!.payloads[0]).plan,
    activityPlan: firstActivity ? decode(firstActivity.input!.payloads[0]).plan : undefined,
    recorded: marker ? (decode(marker.details!.result.payloads[0]) as { plan: unknown; planHash: string }) : undefined,
  };
}

test.each(files.filter((f) => f.split('.').length === 2))(
  '%s (started before the plan was recorded) still normalises to the plan it ran with: a changed default would change its hash on replay',
  (file) => {
    const { raw, activityPlan } = plansOf(file);
    expect(activityPlan).toBeDefined();
    expect(validatePlan(raw)).toEqual(activityPlan);
  },
);

test.each(files.filter((f) => f.split('.').length === 3))('%s runs on the plan recorded once, not on today\'s normalisation', (file) => {
  const { raw, activityPlan, recorded } = plansOf(file);
  expect(recorded).toBeDefined();
  expect(recorded!.planHash).toBe(planHash(recorded!.plan as never));
  if (activityPlan) expect(activityPlan).toEqual(recorded!.plan);
  expect(raw).not.toEqual(recorded!.plan); // the input lacked the defaults the record filled in
});

test.each(files)('replays %s deterministically', async (file) => {
  const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
  await expect(
    // The run's own workflow id: the workflow refuses to run under any id but cutover-<plan id>.
    Worker.runReplayHistory({ workflowBundle }, history, `cutover-${plansOf(file).raw.id}`),
  ).resolves.toBeUndefined();
}, 120000);
