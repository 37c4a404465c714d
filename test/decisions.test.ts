/**
 * Who may approve, reject or resume, and when (workflows/decisions.ts): every refusal rule, each
 * with a case it refuses and a case it accepts. The rules are pure functions of the run's state, the
 * same ones the signal and update handlers call, so they are tested here without Temporal or a
 * database: a RunState built as the workflow builds it, put in the situation each rule is about.
 */
import { validatePlan } from '../plan/validate';
import { movedDatabaseMessage } from '../common/failures';
import type { BackupObject, DryRunReport, StepResults } from '../common/results';
import type { ApproveInput, RejectInput, ResumeInput, StepError } from '../common/temporal';
import { RunState } from '../workflows/state';
import {
  acknowledgeRefusal,
  approveRefusal,
  malformedRefusal,
  named,
  offeredActions,
  rejectRefusal,
  resumeRefusal,
  stepRunningRefusal,
  MAX_TEXT_BYTES,
  verifiedTargetBackup,
} from '../workflows/decisions';

const PLAN = validatePlan({
  version: 1,
  id: 'decisions',
  strategy: 'selective',
  source: 'pilot',
  target: 'production',
  approvals: { approvers: ['alice', 'bob', 'carol'], required: 2 },
  tables: [{ table: 'public.accounts', select: { all: true } }],
});

/** A run as the workflow starts it today: hostile-input bounds and acknowledgements on. */
function run(over: { plan?: typeof PLAN } = {}): RunState {
  const s = new RunState(over.plan ?? PLAN, 'hash-1', 'alice', { workflowId: 'cutover-decisions', runId: 'run-1', runKey: 'key000000001' });
  return s;
}

/** Waiting at a gate, as gates.ts leaves the state. */
function atGate(s: RunState, gate: 'plan' | 'cutover' | 'restore'): RunState {
  s.status = 'awaiting-approval';
  s.gate = gate;
  s.phase = `gate:${gate}`;
  return s;
}

/** Paused at a step, as the step runner leaves the state. */
function pausedAt(s: RunState, step: string, error: Partial<StepError> = {}): RunState {
  s.status = 'paused';
  s.phase = step;
  s.error = { step, type: 'DatabaseError', message: 'something failed', at: '2026-01-01T00:00:00.000Z', ...error };
  return s;
}

const published = (s: RunState): RunState => {
  s.results.publish = { tables: [] } as unknown as StepResults['publish'];
  s.undoable = ['publish'];
  return s;
};

const backup = (sha: string, verified: string): BackupObject =>
  ({ kind: 'target', location: 'file:///b/t.dump', size: 1, sha256: sha, verified: { sha256: verified } }) as unknown as BackupObject;
const withBackup = (s: RunState, b: BackupObject): RunState => {
  s.results.backup = { backups: [b] } as unknown as StepResults['backup'];
  return s;
};

const approve = (over: Partial<ApproveInput> = {}): ApproveInput => ({ gate: 'plan', approver: 'bob', ...over });
const reject = (over: Partial<RejectInput> = {}): RejectInput => ({ gate: 'plan', approver: 'bob', reason: 'wrong scope', ...over });
const resume = (over: Partial<ResumeInput> = {}): ResumeInput => ({ action: 'retry', by: 'oncall', reason: 'fixed it', ...over });

describe('malformed payloads (what the update validators refuse before the run sees them)', () => {
  test('a payload must be an object', () => {
    for (const bad of [null, 'approve', 7, ['plan', 'bob']])
      expect(malformedRefusal('approve', bad)).toMatch(/^payload must be an object \{gate, approver/);
    expect(malformedRefusal('approve', approve())).toBeNull();
  });

  test('unknown fields and wrong types are refused, naming the field', () => {
    expect(malformedRefusal('approve', { ...approve(), approvedBy: 'bob' })).toBe(
      'unknown field "approvedBy" (allowed: gate, approver, comment, planHash, rehearsalHash, signature, acknowledge)',
    );
    expect(malformedRefusal('resume', { ...resume(), reason: 3 })).toBe('reason must be a string, got number');
    expect(malformedRefusal('reject', { ...reject(), gate: null })).toBe('gate must be a string, got null');
    expect(malformedRefusal('approve', { ...approve(), acknowledge: 'collisions:public.accounts' })).toBe(
      'acknowledge must be a list of strings',
    );
    expect(malformedRefusal('approve', { ...approve(), acknowledge: ['collisions:public.accounts'] })).toBeNull();
  });

  test('free text is bounded: 4 KB, counted in UTF-8 bytes', () => {
    const ok = 'x'.repeat(MAX_TEXT_BYTES);
    expect(malformedRefusal('approve', approve({ comment: ok }))).toBeNull();
    expect(malformedRefusal('approve', approve({ comment: `${ok}x` }))).toBe(
      `comment is too long: ${MAX_TEXT_BYTES + 1} bytes, at most ${MAX_TEXT_BYTES} bytes`,
    );
    // Counted in UTF-8 bytes, not characters: 2 000 two-byte characters are 4 000 bytes.
    expect(malformedRefusal('resume', resume({ reason: 'é'.repeat(2048) }))).toBeNull();
    expect(malformedRefusal('resume', resume({ reason: 'é'.repeat(2049) }))).toBe(
      `reason is too long: 4098 bytes, at most ${MAX_TEXT_BYTES} bytes`,
    );
    // A huge text is refused by its length before it is encoded.
    expect(malformedRefusal('resume', resume({ reason: 'x'.repeat(1024 * 1024) }))).toMatch(/^reason is too long: .* at most 4096 bytes$/);
  });

  test('a refusal quotes a long name cut to 80 characters', () => {
    expect(named('bob')).toBe('"bob"');
    expect(named('b'.repeat(200))).toBe(`"${'b'.repeat(80)}…"`);
  });
});

describe('approve', () => {
  test('accepted: a listed approver, not the initiator, at the gate that waits', () => {
    expect(approveRefusal(atGate(run(), 'plan'), approve())).toBeNull();
    expect(approveRefusal(atGate(run(), 'cutover'), approve({ gate: 'cutover', approver: 'carol' }))).toBeNull();
  });

  test('the gate must be a known one, and the approver named', () => {
    expect(approveRefusal(atGate(run(), 'plan'), approve({ gate: 'launch' as never }))).toBe('gate must be one of plan, cutover, restore');
    expect(approveRefusal(atGate(run(), 'plan'), approve({ approver: '  ' }))).toBe('approver is required');
  });

  test('only the gate that waits can be approved', () => {
    expect(approveRefusal(run(), approve())).toBe('no gate is awaiting approval (status running, phase preflight)');
    expect(approveRefusal(atGate(run(), 'plan'), approve({ gate: 'cutover' }))).toBe(
      'wrong gate: "cutover" is not awaiting approval, "plan" is',
    );
  });

  test('only listed approvers count', () => {
    expect(approveRefusal(atGate(run(), 'plan'), approve({ approver: 'mallory' }))).toBe(
      '"mallory" is not an approver of this plan (approvers: alice, bob, carol)',
    );
  });

  test('separation of duties: the initiator may not approve, unless the plan turns it off', () => {
    expect(approveRefusal(atGate(run(), 'plan'), approve({ approver: 'alice' }))).toBe(
      'separation of duties: "alice" initiated this run and cannot approve it',
    );
    const relaxed = validatePlan({ ...PLAN, approvals: { ...PLAN.approvals, separationOfDuties: false } });
    expect(approveRefusal(atGate(run({ plan: relaxed }), 'plan'), approve({ approver: 'alice' }))).toBeNull();
  });

  test('one approval per person and gate', () => {
    const s = atGate(run(), 'plan');
    s.approvals.push({ gate: 'plan', approver: 'bob', at: '2026-01-01T00:00:00.000Z' } as never);
    expect(approveRefusal(s, approve())).toBe('"bob" already approved gate "plan"');
    expect(approveRefusal(s, approve({ approver: 'carol' }))).toBeNull();
  });

  test("a plan hash, when given, must be the run's", () => {
    expect(approveRefusal(atGate(run(), 'plan'), approve({ planHash: 'hash-1' }))).toBeNull();
    expect(approveRefusal(atGate(run(), 'plan'), approve({ planHash: 'hash-0' }))).toBe(
      "plan hash mismatch: you approved hash-0, this run's plan is hash-1",
    );
  });

  test("a rehearsal hash, when given, must be this run's rehearsal report", () => {
    const s = atGate(run(), 'cutover');
    expect(approveRefusal(s, approve({ gate: 'cutover', rehearsalHash: 'r1' }))).toBe(
      'this run has no rehearsal report: approve without a rehearsal hash',
    );
    s.results.rehearsal = { rehearsalHash: 'r1' } as unknown as StepResults['rehearsal'];
    expect(approveRefusal(s, approve({ gate: 'cutover', rehearsalHash: 'r0' }))).toBe(
      "stale rehearsal hash: you reviewed r0, this run's rehearsal report is r1",
    );
    expect(approveRefusal(s, approve({ gate: 'cutover', rehearsalHash: 'r1' }))).toBeNull();
  });
});

describe('predicted refusals must be acknowledged at gate plan', () => {
  const dry = { tables: [{ table: 'public.accounts', collisions: 3, conflicts: [] }], warnings: [] } as unknown as DryRunReport;
  const predicting = () => {
    const s = atGate(run(), 'plan');
    s.results.preflight = dry as StepResults['preflight'];
    return s;
  };

  test('refused without them, naming each and how to acknowledge it', () => {
    expect(approveRefusal(predicting(), approve())).toBe(
      'the dry run predicts refusals: approving needs an explicit acknowledgement of each (cutover approve … --acknowledge collisions:public.accounts; payload acknowledge: ["collisions:public.accounts"]): collisions:public.accounts: 3 selected key(s) of public.accounts already exist in production (after mapping): publish will refuse them',
    );
  });

  test('accepted with each acknowledged', () => {
    expect(approveRefusal(predicting(), approve({ acknowledge: ['collisions:public.accounts'] }))).toBeNull();
  });

  test('acknowledging what the dry run does not predict is refused too', () => {
    expect(approveRefusal(predicting(), approve({ acknowledge: ['collisions:public.accounts', 'collisions:public.users'] }))).toBe(
      'acknowledge "collisions:public.users": the dry run predicts no such refusal (it predicts: collisions:public.accounts)',
    );
    expect(approveRefusal(atGate(run(), 'plan'), approve({ acknowledge: ['collisions:public.users'] }))).toBe(
      'acknowledge "collisions:public.users": the dry run predicts no such refusal (it predicts none)',
    );
  });

  test('only at gate plan', () => {
    const cutover = predicting();
    cutover.gate = 'cutover';
    expect(acknowledgeRefusal(cutover, approve({ gate: 'cutover' }))).toBeNull();
  });
});

describe('reject', () => {
  test('accepted from an approver, and from the initiator withdrawing their own run', () => {
    expect(rejectRefusal(atGate(run(), 'plan'), reject())).toBeNull();
    expect(rejectRefusal(atGate(run(), 'plan'), reject({ approver: 'alice' }))).toBeNull();
  });

  test('refused from anyone else', () => {
    expect(rejectRefusal(atGate(run(), 'plan'), reject({ approver: 'mallory' }))).toBe(
      '"mallory" is neither an approver of this plan nor its initiator',
    );
  });

  test('gate, approver and reason are required; only the gate that waits', () => {
    expect(rejectRefusal(atGate(run(), 'plan'), reject({ gate: 'nope' as never }))).toBe('gate must be one of plan, cutover, restore');
    expect(rejectRefusal(atGate(run(), 'plan'), reject({ approver: '' }))).toBe('approver is required');
    expect(rejectRefusal(atGate(run(), 'plan'), reject({ reason: ' ' }))).toBe('reason is required');
    expect(rejectRefusal(run(), reject())).toBe('no gate is awaiting approval (status running, phase preflight)');
    expect(rejectRefusal(atGate(run(), 'cutover'), reject())).toBe('wrong gate: "plan" is not awaiting approval, "cutover" is');
  });
});

describe('resume', () => {
  test('action, by and reason are required, and the run must be paused', () => {
    expect(resumeRefusal(pausedAt(run(), 'stage'), resume({ action: 'restart' as never }), false)).toBe(
      'action must be one of retry, skip, rollback, roll-forward, abort',
    );
    expect(resumeRefusal(pausedAt(run(), 'stage'), resume({ by: '' }), false)).toBe('by is required');
    expect(resumeRefusal(pausedAt(run(), 'stage'), resume({ reason: '' }), false)).toBe('reason is required');
    expect(resumeRefusal(atGate(run(), 'plan'), resume(), false)).toBe('the run is not paused (status awaiting-approval)');
    expect(resumeRefusal(pausedAt(run(), 'stage'), resume(), false)).toBeNull();
  });

  test('fromStep only with roll-forward, mode only with rollback', () => {
    expect(resumeRefusal(pausedAt(run(), 'stage'), resume({ fromStep: 'stage' }), false)).toBe('fromStep applies to roll-forward only');
    expect(resumeRefusal(pausedAt(run(), 'stage'), resume({ mode: 'restore' }), false)).toBe('mode applies to rollback only');
  });

  test('skip: only a skippable step', () => {
    expect(resumeRefusal(pausedAt(run(), 'publish'), resume({ action: 'skip' }), false)).toBe('step "publish" cannot be skipped');
    expect(resumeRefusal(pausedAt(run(), 'finalize'), resume({ action: 'skip' }), true)).toBeNull();
  });

  test('abort: before publish committed, or once its effect was undone; never while it stands', () => {
    expect(resumeRefusal(pausedAt(run(), 'cleanup'), resume({ action: 'abort' }), false)).toBeNull();
    const after = published(pausedAt(run(), 'validate'));
    expect(resumeRefusal(after, resume({ action: 'abort' }), false)).toBe(
      'publish has committed: abort would leave its effect in place; choose rollback or roll-forward',
    );
    after.results.rollback = {} as StepResults['rollback'];
    expect(resumeRefusal(after, resume({ action: 'abort' }), false)).toBeNull();
    // A clean-start's decommission is such a step too.
    const decommissioned = pausedAt(run(), 'finalize');
    decommissioned.undoable = ['decommission'];
    expect(resumeRefusal(decommissioned, resume({ action: 'abort' }), true)).toBe(
      'decommission has committed: abort would leave its effect in place; choose rollback or roll-forward',
    );
  });

  test('rollback: only once a step with an undo has committed', () => {
    expect(resumeRefusal(pausedAt(run(), 'cleanup'), resume({ action: 'rollback' }), false)).toBe(
      'nothing to roll back: no step with an undo has committed (publish, decommission, adopt-cleanup); retry, skip or abort',
    );
    expect(resumeRefusal(published(pausedAt(run(), 'validate')), resume({ action: 'rollback' }), false)).toBeNull();
    // Runs recorded before the undoable list: a publish result alone counts.
    const older = pausedAt(run(), 'validate');
    older.results.publish = { tables: [] } as unknown as StepResults['publish'];
    expect(resumeRefusal(older, resume({ action: 'rollback' }), false)).toBeNull();
    expect(resumeRefusal(published(pausedAt(run(), 'validate')), resume({ action: 'rollback', mode: 'sideways' as never }), false)).toBe(
      'mode must be one of surgical, restore',
    );
  });

  test('rollback: a paused surgical rollback offers restore, a paused restore offers surgical', () => {
    const surgical = published(pausedAt(run(), 'rollback'));
    withBackup(surgical, backup('aa', 'aa'));
    expect(resumeRefusal(surgical, resume({ action: 'rollback' }), false)).toBe(
      'the surgical rollback is what paused: retry it, or choose mode restore',
    );
    expect(resumeRefusal(surgical, resume({ action: 'rollback', mode: 'restore' }), false)).toBeNull();
    const restoring = withBackup(published(pausedAt(run(), 'restore')), backup('aa', 'aa'));
    expect(resumeRefusal(restoring, resume({ action: 'rollback', mode: 'restore' }), false)).toBe(
      'the restore is what paused: retry it, or choose mode surgical',
    );
    expect(resumeRefusal(restoring, resume({ action: 'rollback', mode: 'surgical' }), false)).toBeNull();
  });

  test('rollback by restore needs a verified backup of the target (and a run that has restore)', () => {
    const s = published(pausedAt(run(), 'validate'));
    expect(resumeRefusal(s, resume({ action: 'rollback', mode: 'restore' }), false)).toBe(
      'restore from the backup is not available in this run: it needs a verified backup of the target (plan backup.store)',
    );
    withBackup(s, backup('aa', 'bb')); // re-read hash differs: not verified
    expect(verifiedTargetBackup(s)).toBeUndefined();
    expect(resumeRefusal(s, resume({ action: 'rollback', mode: 'restore' }), false)).toMatch(/needs a verified backup of the target/);
    withBackup(s, backup('aa', 'aa'));
    expect(verifiedTargetBackup(s)?.sha256).toBe('aa');
    expect(resumeRefusal(s, resume({ action: 'rollback', mode: 'restore' }), false)).toBeNull();
  });

  test('roll-forward: from a step the run may run again, named', () => {
    const s = pausedAt(run(), 'validate');
    expect(resumeRefusal(s, resume({ action: 'roll-forward', fromStep: 'stage' }), false)).toBe('nothing to roll forward from here');
    s.rollForwardTargets = ['stage', 'cleanup', 'publish', 'validate'];
    expect(resumeRefusal(s, resume({ action: 'roll-forward' }), false)).toBe(
      'fromStep is required: one of stage, cleanup, publish, validate',
    );
    expect(resumeRefusal(s, resume({ action: 'roll-forward', fromStep: 'preflight' }), false)).toBe(
      'cannot roll forward from "preflight": choose one of stage, cleanup, publish, validate',
    );
    expect(resumeRefusal(s, resume({ action: 'roll-forward', fromStep: 'cleanup' }), false)).toBeNull();
  });

  test('acceptDatabase: only with retry, only after the identity check paused the run, naming its alias', () => {
    const moved = pausedAt(run(), 'stage', {
      type: 'ConfigError',
      message: `${movedDatabaseMessage('production')}db2 but this run started on db1`,
    });
    expect(resumeRefusal(moved, resume({ acceptDatabase: 'production' }), false)).toBeNull();
    expect(resumeRefusal(moved, resume({ action: 'abort', acceptDatabase: 'production' }), false)).toBe(
      'acceptDatabase applies to retry only',
    );
    expect(resumeRefusal(moved, resume({ acceptDatabase: 'pilot' }), false)).toBe(
      'acceptDatabase: the database that moved is alias "production", not "pilot"',
    );
    const other = pausedAt(run(), 'stage', { type: 'DatabaseError', message: 'deadlock detected' });
    expect(resumeRefusal(other, resume({ acceptDatabase: 'production' }), false)).toBe(
      'acceptDatabase: the run did not pause because a database moved (DatabaseError: deadlock detected); retry without it',
    );
  });
});

describe('the actions offered while paused are exactly those resume accepts', () => {
  test('before publish: retry and abort (and skip where the step allows it)', () => {
    expect(offeredActions(pausedAt(run(), 'stage'), false)).toEqual(['retry', 'abort']);
    expect(offeredActions(pausedAt(run(), 'finalize'), true)).toEqual(['retry', 'skip', 'abort']);
  });

  test('after publish: retry, rollback and roll-forward from the first step it may run again; never abort', () => {
    const s = published(pausedAt(run(), 'validate'));
    s.rollForwardTargets = ['stage', 'cleanup', 'publish', 'validate'];
    expect(offeredActions(s, false)).toEqual(['retry', 'rollback', 'roll-forward']);
  });

  test('a paused surgical rollback still offers rollback when restore is possible, and not otherwise', () => {
    const s = published(pausedAt(run(), 'rollback'));
    expect(offeredActions(s, false)).toEqual(['retry']);
    withBackup(s, backup('aa', 'aa'));
    expect(offeredActions(s, false)).toEqual(['retry', 'rollback']);
  });

  test('every offered action is accepted, every other refused', () => {
    const s = published(pausedAt(run(), 'validate'));
    s.rollForwardTargets = ['validate'];
    withBackup(s, backup('aa', 'aa'));
    const offered = offeredActions(s, false);
    for (const action of ['retry', 'skip', 'rollback', 'roll-forward', 'abort'] as const) {
      const input = resume({ action, ...(action === 'roll-forward' ? { fromStep: 'validate' } : {}) });
      expect({ action, accepted: resumeRefusal(s, input, false) === null }).toEqual({ action, accepted: offered.includes(action) });
    }
  });
});

describe('while a step runs, the update validators answer every decision (no history written)', () => {
  const running = (step: string) => {
    const s = run();
    s.status = 'running';
    s.phase = step;
    return s;
  };
  test('refused while a step runs, naming it; the handler would refuse the same decisions', () => {
    const s = running('publish');
    expect(stepRunningRefusal(s)).toBe(
      'a step is running (publish): nothing can be decided until it ends or pauses; this answer is not recorded',
    );
    expect(approveRefusal(s, { gate: 'cutover', approver: 'bob' })).not.toBeNull();
    expect(rejectRefusal(s, { gate: 'cutover', approver: 'bob', reason: 'no' })).not.toBeNull();
    expect(resumeRefusal(s, { action: 'retry', by: 'oncall', reason: 'x' }, false)).not.toBeNull();
  });
  test('not refused at a gate or while paused: those decisions reach the handler and are recorded', () => {
    expect(stepRunningRefusal(atGate(run(), 'cutover'))).toBeNull();
    expect(stepRunningRefusal(pausedAt(run(), 'publish'))).toBeNull();
  });
});
