// Replays recorded histories against the current workflow code: a change that would break runs
// already in flight (non-determinism) fails here. The histories are the baseline's, one per
// scenario; re-record one deliberately with `CUTOVER_RECORD_HISTORIES=1` and the test file that
// records it (test/helpers/run.ts), after following the patching rule in docs/architecture.md
// ("Changing workflow code"). The test keeps its power: builds with a deliberate non-deterministic
// change (test/replay-mutants/) must fail to replay the same histories.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { planHash } from '../plan/canonical';

Runtime.install({ logger: new DefaultLogger('WARN') });
const dir = path.join(__dirname, 'histories');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

/** One recorded run per path worth guarding, and the test file that records it. */
const SCENARIOS: Record<string, string> = {
  'happy-path': 'workflow',
  reject: 'workflow',
  expire: 'workflow',
  abort: 'workflow',
  'pause-retry': 'workflow',
  rollback: 'safety-net',
  'roll-forward': 'safety-net',
  restore: 'restore',
  rehearsal: 'rehearsal',
  // The rehearsal's own workflow (cutoverRehearsal), a child of the run: its history replays the same way.
  'rehearsal-child': 'rehearsal',
  'rehearsal-retry': 'rehearsal-registers',
  'identity-pause': 'ops',
  'paused.continued': 'hostile-signals',
  'flood-in-step': 'flood-in-step',
  'after-step.continued': 'flood-in-step',
  'flood-in-rollback': 'flood-in-step',
  'continue-at-restore-gate': 'flood-in-step',
  'restore.continued': 'flood-in-step',
  adopt: 'adopt',
};

let workflowBundle: WorkflowBundleWithSourceMap;
const bundle = (interceptor?: string) =>
  bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    ...(interceptor ? { workflowInterceptorModules: [require.resolve(`./replay-mutants/${interceptor}`)] } : {}),
    logger: new DefaultLogger('WARN'),
  });
beforeAll(async () => {
  // Bundled once: the same code the worker runs.
  workflowBundle = await bundle();
}, 120000);

test('the recorded histories are exactly one per scenario (none obsolete, none missing)', () => {
  expect(files).toEqual(
    Object.keys(SCENARIOS)
      .map((s) => `${s}.json`)
      .sort(),
  );
});

type Payload = { data: string };
type Event = Record<
  string,
  {
    input?: { payloads: Payload[] };
    markerName?: string;
    details?: Record<string, { payloads: Payload[] }>;
    parentWorkflowExecution?: unknown;
  }
>;
const decode = (p: Payload) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));
const historyOf = (file: string) => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { events: Event[] };

/** What a history says about its plan: the workflow input, the plan recorded once, the plan the first activity received. */
function plansOf(file: string) {
  const { events } = historyOf(file);
  const started = events.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes;
  const firstActivity = events.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes;
  const marker = events.map((e) => e.markerRecordedEventAttributes).find((m) => m?.markerName === 'core_local_activity');
  const input = decode(started.input!.payloads[0]) as { plan: { id: string }; continued?: { state: { plan: unknown; planHash: string } } };
  return {
    input,
    child: !!started.parentWorkflowExecution,
    activityPlan: firstActivity ? decode(firstActivity.input!.payloads[0]).plan : undefined,
    recorded: marker ? (decode(marker.details!.result.payloads[0]) as { plan: unknown; planHash: string }) : undefined,
  };
}

test.each(files)('%s runs on the plan recorded once, not on a normalisation done again', (file) => {
  const { input, child, activityPlan, recorded } = plansOf(file);
  if (child) {
    // A child (the rehearsal) is given the parent's accepted plan and records none of its own.
    expect(recorded).toBeUndefined();
    expect(activityPlan).toEqual(input.plan);
    return;
  }
  if (input.continued) {
    // A continued run carries the accepted plan in its state and records nothing again.
    expect(recorded).toBeUndefined();
    expect(input.continued.state.planHash).toBe(planHash(input.continued.state.plan as never));
    return;
  }
  expect(recorded).toBeDefined();
  expect(recorded!.planHash).toBe(planHash(recorded!.plan as never));
  if (activityPlan) expect(activityPlan).toEqual(recorded!.plan);
  expect(input.plan).not.toEqual(recorded!.plan); // the input lacked the defaults the record filled in
});

// The run's own workflow id: the workflow refuses to run under any id but cutover-<plan id> (a child: its first rehearsal's id).
const replay = (b: WorkflowBundleWithSourceMap, file: string) => {
  const { input, child } = plansOf(file);
  return Worker.runReplayHistory({ workflowBundle: b }, historyOf(file), `cutover-${input.plan.id}${child ? '/rehearsal/1' : ''}`);
};

test.each(files)(
  'replays %s deterministically',
  async (file) => {
    await expect(replay(workflowBundle, file)).resolves.toBeUndefined();
  },
  120000,
);

// The replay test is only worth something if it can fail: each build below changes the commands
// the workflow issues (what a code change without a patch does), and every history must refuse it.
describe.each(['extra-timer', 'extra-activity', 'renamed-activity'])('a build with a non-deterministic change (%s)', (mutant) => {
  let mutated: WorkflowBundleWithSourceMap;
  beforeAll(async () => {
    mutated = await bundle(mutant);
  }, 120000);

  test.each(['happy-path.json', 'flood-in-step.json', 'rehearsal-child.json'])(
    'fails to replay %s',
    async (file) => {
      await expect(replay(mutated, file)).rejects.toMatchObject({
        name: 'DeterminismViolationError',
        message: expect.stringContaining('nondeterminism'),
      });
    },
    120000,
  );
});
