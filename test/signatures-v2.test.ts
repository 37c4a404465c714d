// Signatures v2, fast (no Temporal): the pure checks the workflow's handlers run (workflows/
// signatures.ts) against a run's state, with real ssh-keygen signatures. A signature is bound to one
// run (run key), one decision (gate and rehearsal; pause and every resume field) and the plan hash;
// it is accepted once per run; v1 signatures are refused by name.
import { approvalMessage, approvalMessageV1, resumeMessage, resumeMessageV1 } from '../common/signing';
import type { ResumeInput } from '../common/temporal';
import { planHash } from '../plan/canonical';
import { validatePlan } from '../plan/validate';
import { approvalSignature, resumeAuthorization } from '../workflows/signatures';
import { RunState } from '../workflows/state';
import { saasPlan } from './helpers/saas';
import { makeKey, sshSign, tempKeyDir, type TestKey } from './helpers/ssh-keys';

const keys = tempKeyDir();
let bob: TestKey, oncall: TestKey;
beforeAll(() => {
  [bob, oncall] = ['bob', 'oncall'].map((n) => makeKey(keys.dir, n));
});
afterAll(() => keys.cleanup());

const WF = 'cutover-sig-v2';
function run(runKey: string): RunState {
  const plan = validatePlan(
    saasPlan('sig-v2', {
      approvals: { approvers: [{ name: 'bob', key: bob.publicLine }], required: 1, timeout: '1h', signatures: 'required' },
      operators: [{ name: 'oncall', key: oncall.publicLine }],
    }),
  );
  const s = new RunState(plan, planHash(plan), 'alice', { workflowId: WF, runId: `r-${runKey}`, runKey });
  s.gate = 'plan';
  s.status = 'awaiting-approval';
  return s;
}
const pausedRun = (runKey: string, pauses = 1): RunState =>
  Object.assign(run(runKey), { gate: null, status: 'paused', phase: 'preflight', pauses, rollForwardTargets: ['preflight'] });

/** What the handler does with an accepted check: keep the digest. */
function accept(s: RunState, check: ReturnType<typeof approvalSignature>): void {
  expect(check.refused).toBeUndefined();
  s.acceptedSignatures.push(check.digest!);
}

test('the exact v2 bytes', () => {
  expect(approvalMessage({ workflowId: 'cutover-x', runKey: 'k1', gate: 'plan', planHash: 'h' })).toBe(
    'cutover-approval:v2\ncutover-x\nk1\nplan\nh\n-\n',
  );
  expect(approvalMessage({ workflowId: 'cutover-x', runKey: 'k1', gate: 'cutover', planHash: 'h', rehearsalHash: 'r' })).toBe(
    'cutover-approval:v2\ncutover-x\nk1\ncutover\nh\nr\n',
  );
  const resume = { action: 'roll-forward', reason: 'fixed "it"', fromStep: 'stage' } as const;
  expect(resumeMessage({ workflowId: 'cutover-x', runKey: 'k1', pause: 2, planHash: 'h', resume })).toBe(
    'cutover-resume:v2\ncutover-x\nk1\n2\nroll-forward\n{"fromStep":"stage","reason":"fixed \\"it\\""}\nh\n',
  );
  // Every field is signed: acceptDatabase and mode too, in canonical (sorted) order.
  expect(
    resumeMessage({
      workflowId: 'w',
      runKey: 'k',
      pause: 1,
      planHash: 'h',
      resume: { action: 'retry', reason: 'r', acceptDatabase: 'production' },
    }),
  ).toBe('cutover-resume:v2\nw\nk\n1\nretry\n{"acceptDatabase":"production","reason":"r"}\nh\n');
});

test('an approval signed for this run verifies once; another run of the same plan refuses it', () => {
  const first = run('aaaa11112222');
  const signed = sshSign(bob, approvalMessage({ workflowId: WF, runKey: 'aaaa11112222', gate: 'plan', planHash: first.planHash }));
  const ok = approvalSignature(first, { gate: 'plan', approver: 'bob', signature: signed });
  expect(ok.signature).toEqual({ verified: true, fingerprint: bob.fingerprint });
  accept(first, ok);
  // The same signature again in this run: refused whatever else would hold.
  expect(approvalSignature(first, { gate: 'plan', approver: 'bob', signature: signed }).refused).toMatch(
    /already accepted in this run \(a replay\)/,
  );
  // A second run of the unchanged plan: same workflow id and plan hash, another run key.
  const second = run('bbbb33334444');
  expect(second.planHash).toBe(first.planHash);
  const refused = approvalSignature(second, { gate: 'plan', approver: 'bob', signature: signed }).refused;
  expect(refused).toContain(`does not verify over this approval (run ${WF}, run key bbbb33334444, gate plan)`);
  // The refusal shows the exact bytes to sign.
  expect(refused).toContain(
    JSON.stringify(approvalMessage({ workflowId: WF, runKey: 'bbbb33334444', gate: 'plan', planHash: second.planHash })),
  );
});

test('an approval covers the rehearsal the run has: signed without it ("-") it does not verify', () => {
  const s = run('cccc55556666');
  s.results.rehearsal = { rehearsalHash: 'f'.repeat(64) } as never;
  const without = sshSign(bob, approvalMessage({ workflowId: WF, runKey: 'cccc55556666', gate: 'plan', planHash: s.planHash }));
  expect(approvalSignature(s, { gate: 'plan', approver: 'bob', signature: without }).refused).toMatch(/does not verify/);
  const withIt = sshSign(
    bob,
    approvalMessage({ workflowId: WF, runKey: 'cccc55556666', gate: 'plan', planHash: s.planHash, rehearsalHash: 'f'.repeat(64) }),
  );
  expect(approvalSignature(s, { gate: 'plan', approver: 'bob', signature: withIt }).refused).toBeUndefined();
});

test('v1 signatures are refused, naming v2', () => {
  const s = run('dddd77778888');
  const v1 = sshSign(bob, approvalMessageV1({ workflowId: WF, runKey: 'dddd77778888', gate: 'plan', planHash: s.planHash }));
  expect(approvalSignature(s, { gate: 'plan', approver: 'bob', signature: v1 }).refused).toMatch(
    /^signature refused: it is a v1 signature \(cutover-approval:v1\).*sign the v2 message/,
  );
  const p = pausedRun('dddd77778888');
  const resume: ResumeInput = { action: 'retry', by: 'oncall', reason: 'fixed' };
  const v1r = sshSign(oncall, resumeMessageV1({ workflowId: WF, runKey: 'dddd77778888', pause: 1, planHash: p.planHash, resume }));
  expect(resumeAuthorization(p, { ...resume, signature: v1r }).refused).toMatch(
    /it is a v1 signature \(cutover-resume:v1\).*sign the v2 message/,
  );
});

test('a signed resume answers one pause with exactly its fields: a later pause, another run or a changed field is refused', () => {
  const s = pausedRun('eeee99990000');
  const sign = (resume: ResumeInput, pause = 1, runKey = 'eeee99990000') =>
    sshSign(oncall, resumeMessage({ workflowId: WF, runKey, pause, planHash: s.planHash, resume }));
  const retry: ResumeInput = { action: 'retry', by: 'oncall', reason: 'alias configured' };
  const signed = sign(retry);
  const ok = resumeAuthorization(s, { ...retry, signature: signed });
  expect(ok).toMatchObject({ signature: { verified: true, fingerprint: oncall.fingerprint } });
  accept(s, ok);

  // The same decision at a later pause of the same run: the pause number differs, and the digest is kept.
  s.pauses = 2;
  expect(resumeAuthorization(s, { ...retry, signature: signed }).refused).toMatch(/already accepted in this run/);
  const fresh = pausedRun('eeee99990000', 2);
  expect(resumeAuthorization(fresh, { ...retry, signature: signed }).refused).toContain(
    'does not verify over this resume (run cutover-sig-v2, run key eeee99990000, pause 2, action retry)',
  );
  // Another run of the same plan at its pause 1.
  expect(resumeAuthorization(pausedRun('ffff00001111'), { ...retry, signature: signed }).refused).toMatch(/does not verify/);

  // Changed fields: reason, fromStep, mode, acceptDatabase — each refused; the signed ones verify.
  const p = pausedRun('abab12121212');
  const sign1 = (r: ResumeInput) =>
    sshSign(oncall, resumeMessage({ workflowId: WF, runKey: 'abab12121212', pause: 1, planHash: p.planHash, resume: r }));
  const cases: [ResumeInput, ResumeInput][] = [
    [retry, { ...retry, reason: 'an invented reason' }],
    [
      { action: 'roll-forward', by: 'oncall', reason: 'r', fromStep: 'preflight' },
      { action: 'roll-forward', by: 'oncall', reason: 'r', fromStep: 'stage' },
    ],
    [
      { action: 'rollback', by: 'oncall', reason: 'r' },
      { action: 'rollback', by: 'oncall', reason: 'r', mode: 'restore' },
    ],
    [
      { action: 'rollback', by: 'oncall', reason: 'r', mode: 'surgical' },
      { action: 'rollback', by: 'oncall', reason: 'r', mode: 'restore' },
    ],
    [retry, { ...retry, acceptDatabase: 'production' }],
    [retry, { ...retry, action: 'skip' }],
  ];
  for (const [signedFor, sent] of cases) {
    const sig = sign1(signedFor);
    expect(resumeAuthorization(p, { ...signedFor, signature: sig }).refused).toBeUndefined();
    expect(resumeAuthorization(p, { ...sent, signature: sig }).refused).toMatch(/does not verify over this resume/);
  }
});

test('unsigned where required: the refusal shows the exact v2 bytes to sign', () => {
  const p = pausedRun('cdcd34343434', 3);
  const refused = resumeAuthorization(p, { action: 'retry', by: 'oncall', reason: 'go' }).refused;
  expect(refused).toContain('signature required');
  expect(refused).toContain(JSON.stringify(`cutover-resume:v2\n${WF}\ncdcd34343434\n3\nretry\n{"reason":"go"}\n${p.planHash}\n`));
});

test('the pause number and the accepted digests survive continue-as-new (they travel in the snapshot)', () => {
  const s = pausedRun('1234abcd5678', 3);
  s.acceptedSignatures.push('d'.repeat(64));
  // What continueRun carries, through the JSON a payload is.
  const next = RunState.restore(JSON.parse(JSON.stringify(s.snapshot())));
  expect([next.pauses, next.acceptedSignatures, next.ids.runKey]).toEqual([3, ['d'.repeat(64)], '1234abcd5678']);
  expect(next.statusView().pause).toBe(3);
});

test("after a drift reopens the gates, an approval signs its round: the voided round's signature does not count again", () => {
  const s = run('dddd11112222');
  const round1 = sshSign(bob, approvalMessage({ workflowId: WF, runKey: 'dddd11112222', gate: 'plan', planHash: s.planHash }));
  accept(s, approvalSignature(s, { gate: 'plan', approver: 'bob', signature: round1 }));
  s.approvals.push({ gate: 'plan', approver: 'bob', at: 'now' });
  s.drift.push({
    at: 'stage',
    tables: [{ table: 'public.accounts', approvedRows: 180, rowsNow: 635, atLeastChanged: 455 }],
    catalog: [],
    tolerated: false,
  });
  s.voidApprovals();
  expect(s.approvalRound()).toBe(2);
  expect(approvalMessage({ workflowId: WF, runKey: 'k', gate: 'plan', planHash: 'h', round: 2 })).toBe(
    `cutover-approval:v2\n${WF}\nk\nplan\nh\n-\nround 2\n`,
  );
  // The round-1 signature: refused (a replay, and not over round 2's bytes either).
  expect(approvalSignature(s, { gate: 'plan', approver: 'bob', signature: round1 }).refused).toBeDefined();
  const round2 = sshSign(bob, approvalMessage({ workflowId: WF, runKey: 'dddd11112222', gate: 'plan', planHash: s.planHash, round: 2 }));
  expect(approvalSignature(s, { gate: 'plan', approver: 'bob', signature: round2 }).signature).toEqual({
    verified: true,
    fingerprint: bob.fingerprint,
  });
  // A tolerated drift reopens nothing: the round stays.
  s.drift.push({ at: 'cleanup', tables: [], catalog: [], tolerated: true });
  expect(s.approvalRound()).toBe(2);
});
