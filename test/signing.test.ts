// Signed approvals and who may resume, end to end on a real Temporal server: signatures made by
// ssh-keygen (by hand and through `cutover approve|resume --sign`) are verified inside the
// workflow; forged, replayed and malformed ones are refused and recorded; unsigned approvals keep
// working unless the plan requires signatures; only the plan's operators may resume. Signatures v2:
// a signature from another run of the same plan, an earlier pause or with a changed field is refused.
import { writeFileSync } from 'node:fs';
import { run as cutover } from '../client/main';
import type { Io } from '../client/io';
import { approvalMessage, approvalMessageV1, resumeMessage, type ApprovalSubject } from '../common/signing';
import {
  approveSignal,
  approveUpdate,
  reportQuery,
  resumeSignal,
  resumeUpdate,
  statusQuery,
  type ResumeInput,
  type StatusView,
} from '../common/temporal';
import { useHarness } from './helpers/harness';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { atGate, paused, startRun, waitFor } from './helpers/run';
import { makeKey, sshSign, tempKeyDir, type TestKey } from './helpers/ssh-keys';
import { runResult } from './helpers/run-result';

const h = useHarness('cutover_sig', SAAS_SCHEMA + PILOT_DATA);
const keys = tempKeyDir();
let bob: TestKey, carol: TestKey, dave: TestKey, eve: TestKey, oncall: TestKey;
beforeAll(async () => {
  [bob, carol, dave, eve, oncall] = ['bob', 'carol', 'dave', 'eve', 'oncall'].map((n) => makeKey(keys.dir, n));
  await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
});
afterAll(() => keys.cleanup());

/** The CLI in-process against the test server: exit code and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => void out.push(t), err: (t) => void err.push(t), isTTY: false };
  const code = await cutover(['node', 'cutover', ...args], io, { ...process.env, TEMPORAL_ADDRESS: h.env.address });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const refusedReasons = (s: StatusView) => s.refused.map((r) => `${r.signal} ${r.by}: ${r.reason}`);

test('signed approvals are verified in the workflow; forged, replayed and malformed ones are refused and recorded', async () => {
  const plan = saasPlan('sig-optional', {
    approvals: {
      approvers: [{ name: 'bob', key: bob.publicLine }, { name: 'carol', key: carol.publicLine }, 'dave'],
      required: 2,
      timeout: '1h',
    },
  });
  const handle = await startRun(h.env, plan);
  const wf = 'cutover-sig-optional';
  const { planHash, runKey } = await waitFor(handle, atGate('plan'));
  const at = (over: Partial<ApprovalSubject> = {}) => approvalMessage({ workflowId: wf, runKey, gate: 'plan', planHash, ...over });
  const right = at();

  const attempts: [string, string, string][] = [
    ['carol', sshSign(eve, right), `signed with key ${eve.fingerprint}, but carol's key in the plan is ${carol.fingerprint}`], // forged
    ['carol', sshSign(carol, at({ gate: 'cutover' })), 'does not verify'], // replayed: another gate
    ['carol', sshSign(carol, at({ planHash: '0'.repeat(64) })), 'does not verify'], // another plan hash
    ['carol', sshSign(carol, at({ workflowId: 'cutover-elsewhere' })), 'does not verify'], // another workflow
    ['carol', sshSign(carol, at({ runKey: 'a0a0a0a0a0a0' })), 'does not verify'], // another run of this plan
    [
      'carol',
      sshSign(carol, approvalMessageV1({ workflowId: wf, runKey, gate: 'plan', planHash })),
      'it is a v1 signature (cutover-approval:v1)',
    ],
    ['carol', sshSign(carol, right, 'git'), 'made for namespace "git", not "cutover"'],
    ['carol', 'not a signature', 'must be an armored SSH signature'],
    ['dave', sshSign(dave, right), 'approvals.approvers in the plan has no key for "dave"'],
  ];
  for (const [approver, signature] of attempts) await handle.signal(approveSignal, { gate: 'plan', approver, signature });
  const refused = await waitFor(handle, (s) => s.refused.length === attempts.length);
  attempts.forEach(([approver], i) => expect(refusedReasons(refused)[i]).toContain(`approve ${approver}: signature`));
  attempts.forEach(([, , why], i) => expect(refused.refused[i].reason).toContain(why));
  expect(refused.refused[1].reason).toContain(`(run ${wf}, run key ${runKey}, gate plan)`);
  expect(refused.refused[1].reason).toContain(JSON.stringify(right)); // the exact bytes to sign
  expect(refused.approvals).toEqual([]);
  // The update answers with the refusal, and the attempt is recorded too (a forged approval is evidence).
  await expect(
    handle.executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'carol', signature: sshSign(eve, right) }] }),
  ).rejects.toMatchObject({
    cause: { message: expect.stringContaining(`signed with key ${eve.fingerprint}`) },
  });

  // Bob signs exactly this approval; dave (no key in the plan) approves unsigned, as from the UI.
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'bob', signature: sshSign(bob, right) }] });
  await handle.signal(approveSignal, { gate: 'plan', approver: 'dave' });
  await waitFor(handle, atGate('cutover'));

  // Bob's accepted signature at gate plan, replayed at gate cutover: refused.
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob', signature: sshSign(bob, right) });
  await waitFor(handle, (s) => s.refusedCount === attempts.length + 2);

  // The CLI signs with ssh-keygen (querying the plan hash first); the wrong key is refused, exit 1.
  const forged = await cli('approve', 'sig-optional', '--gate', 'cutover', '--as', 'carol', '--sign', eve.file);
  expect(forged).toMatchObject({ code: 1, err: expect.stringContaining(`signed with key ${eve.fingerprint}`) });
  for (const [who, key] of [
    ['bob', bob],
    ['carol', carol],
  ] as const) {
    const r = await cli('approve', 'sig-optional', '--gate', 'cutover', '--as', who, '--sign', key.file);
    expect(r).toMatchObject({ code: 0, out: expect.stringContaining('approve (gate cutover) accepted') });
  }
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');

  // The evidence: every approval, whether its signature was verified and with which key.
  const report = await handle.query(reportQuery);
  expect(report.approvals.map(({ gate, approver, signature }) => ({ gate, approver, signature }))).toEqual([
    { gate: 'plan', approver: 'bob', signature: { verified: true, fingerprint: bob.fingerprint } },
    { gate: 'plan', approver: 'dave', signature: undefined },
    { gate: 'cutover', approver: 'bob', signature: { verified: true, fingerprint: bob.fingerprint } },
    { gate: 'cutover', approver: 'carol', signature: { verified: true, fingerprint: carol.fingerprint } },
  ]);
  expect(report.refusedCount).toBe(attempts.length + 3); // the replay at gate cutover, and the refused updates: the forged one here and the CLI's
  expect(report.refused.slice(-3).map((r) => r.reason)).toEqual([
    expect.stringContaining(eve.fingerprint),
    expect.stringContaining('this signature was already accepted in this run (a replay)'),
    expect.stringContaining(eve.fingerprint),
  ]);
  expect((await cli('status', 'sig-optional')).out).toContain('plan 2/2 (bob signed, dave); cutover 2/2 (bob signed, carol signed)');
});

test('signatures required: unsigned approvals and resumes are refused; only operators may resume, signed', async () => {
  delete process.env.CUTOVER_DB_ELSEWHERE;
  const plan = saasPlan('sig-required', {
    source: 'elsewhere', // unconfigured: the run pauses at preflight, to be resumed
    approvals: {
      approvers: [
        { name: 'bob', key: bob.publicLine },
        { name: 'carol', key: carol.publicLine },
      ],
      required: 1,
      timeout: '1h',
      signatures: 'required',
    },
    operators: [{ name: 'oncall', key: oncall.publicLine }],
  });
  const handle = await startRun(h.env, plan);
  const wf = 'cutover-sig-required';
  const { planHash, runKey, pause } = await waitFor(handle, paused);
  expect(pause).toBe(1);
  const resumeAt = (p: number, resume: Omit<ResumeInput, 'by'>) => resumeMessage({ workflowId: wf, runKey, pause: p, planHash, resume });

  await handle.signal(resumeSignal, { action: 'retry', by: 'mallory', reason: 'me too' });
  await handle.signal(resumeSignal, {
    action: 'retry',
    by: 'bob',
    reason: 'an approver',
    signature: sshSign(bob, resumeAt(1, { action: 'retry', reason: 'an approver' })),
  });
  await handle.signal(resumeSignal, { action: 'retry', by: 'oncall', reason: 'unsigned' });
  await handle.signal(resumeSignal, {
    action: 'retry',
    by: 'oncall',
    reason: 'replayed',
    signature: sshSign(oncall, resumeAt(1, { action: 'abort', reason: 'replayed' })),
  });
  // Signed fields changed on the way: reason, fromStep, mode.
  await handle.signal(resumeSignal, {
    action: 'retry',
    by: 'oncall',
    reason: 'an invented reason',
    signature: sshSign(oncall, resumeAt(1, { action: 'retry', reason: 'fixed' })),
  });
  await handle.signal(resumeSignal, {
    action: 'roll-forward',
    by: 'oncall',
    reason: 'r',
    fromStep: 'stage',
    signature: sshSign(oncall, resumeAt(1, { action: 'roll-forward', reason: 'r', fromStep: 'preflight' })),
  });
  await handle.signal(resumeSignal, {
    action: 'rollback',
    by: 'oncall',
    reason: 'r',
    mode: 'restore',
    signature: sshSign(oncall, resumeAt(1, { action: 'rollback', reason: 'r' })),
  });
  const refused = await waitFor(handle, (s) => s.refused.length === 7);
  const noVerify = `resume oncall: signature refused: it does not verify over this resume (run ${wf}, run key ${runKey}, pause 1, action`;
  expect(refusedReasons(refused)).toEqual([
    'resume mallory: "mallory" is not an operator of this plan: only oncall may resume it',
    'resume bob: "bob" is not an operator of this plan: only oncall may resume it',
    expect.stringMatching(
      /^resume oncall: signature required: this plan requires every resume to be signed by oncall's key \(cutover resume … --action retry --sign KEYFILE/,
    ),
    expect.stringContaining(`${noVerify} retry)`),
    expect.stringContaining(`${noVerify} retry)`),
    expect.stringContaining(`${noVerify} roll-forward)`),
    expect.stringContaining(`${noVerify} rollback)`),
  ]);
  expect(refused.status).toBe('paused');

  // A signed retry at pause 1 (the alias still unconfigured): accepted; the step fails again: pause 2.
  const retry1 = sshSign(oncall, resumeAt(1, { action: 'retry', reason: 'try again' }));
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'try again', signature: retry1 }] });
  const second = await waitFor(handle, (s) => s.status === 'paused' && s.pause === 2);
  expect(second.decision).toMatchObject({ by: 'oncall', action: 'retry', signature: { verified: true, fingerprint: oncall.fingerprint } });
  // The same signed retry replayed at the later pause: refused, and the run stays paused.
  await expect(
    handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'try again', signature: retry1 }] }),
  ).rejects.toMatchObject({
    cause: { message: expect.stringMatching(/signature refused: this signature was already accepted in this run \(a replay\)/) },
  });
  expect((await handle.query(statusQuery)).status).toBe('paused');

  process.env.CUTOVER_DB_ELSEWHERE = h.pilot;
  const resumed = await cli(
    'resume',
    'sig-required',
    '--action',
    'retry',
    '--as',
    'oncall',
    '--reason',
    'alias configured',
    '--sign',
    oncall.file,
  );
  expect(resumed).toMatchObject({ code: 0 });
  const atPlan = await waitFor(handle, atGate('plan'));
  expect(atPlan.decision).toMatchObject({ by: 'oncall', action: 'retry', signature: { verified: true, fingerprint: oncall.fingerprint } });

  // The Temporal UI's unsigned approval is refused by a plan that requires signatures.
  await expect(handle.executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'bob' }] })).rejects.toMatchObject({
    cause: { message: expect.stringContaining("signature required: this plan requires every approval to be signed by bob's key") },
  });
  await handle.signal(approveSignal, {
    gate: 'plan',
    approver: 'bob',
    signature: sshSign(bob, approvalMessage({ workflowId: wf, runKey, gate: 'plan', planHash })),
  });
  const atCutover = await waitFor(handle, atGate('cutover'));
  expect(atCutover.approvals).toEqual([
    expect.objectContaining({ approver: 'bob', signature: { verified: true, fingerprint: bob.fingerprint } }),
  ]);
  expect((await handle.query(statusQuery)).refusedCount).toBe(9); // the refused updates are answered and recorded
  await handle.terminate('test done');
});

test('a signature from an earlier run of the same plan is refused in the next run (the run key differs)', async () => {
  const plan = saasPlan('sig-rerun', {
    approvals: {
      approvers: [
        { name: 'bob', key: bob.publicLine },
        { name: 'carol', key: carol.publicLine },
      ],
      required: 2,
      timeout: '1h',
    },
  });
  const first = await startRun(h.env, plan);
  const one = await waitFor(first, atGate('plan'));
  const signed = sshSign(
    bob,
    approvalMessage({ workflowId: 'cutover-sig-rerun', runKey: one.runKey, gate: 'plan', planHash: one.planHash }),
  );
  await first.executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'bob', signature: signed }] });
  await first.terminate('the initiator starts again');

  const second = await startRun(h.env, plan);
  const two = await waitFor(second, atGate('plan'));
  expect([two.planHash, two.runKey === one.runKey]).toEqual([one.planHash, false]);
  await expect(second.executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'bob', signature: signed }] })).rejects.toMatchObject(
    {
      cause: {
        message: expect.stringContaining(
          `signature refused: it does not verify over this approval (run cutover-sig-rerun, run key ${two.runKey}, gate plan)`,
        ),
      },
    },
  );
  const after = await second.query(statusQuery);
  expect([after.approvals, after.refused.map((r) => r.by)]).toEqual([[], ['bob']]);
  await second.terminate('test done');
});

test('--sign: a missing key file is bad input (exit 2), a file ssh-keygen cannot sign with fails (exit 1), before anything is sent', async () => {
  expect(await cli('approve', 'nobody', '--gate', 'plan', '--as', 'bob', '--sign', `${keys.dir}/missing`)).toMatchObject({
    code: 2,
    err: expect.stringContaining('--sign: no key file'),
  });
  const garbage = `${keys.dir}/garbage`;
  writeFileSync(garbage, 'not a key\n', { mode: 0o600 });
  // (--sign reads the run key from the run's status first: a run that exists, here the first test's.)
  expect(
    await cli('approve', 'sig-optional', '--gate', 'plan', '--as', 'bob', '--plan-hash', 'ab'.repeat(32), '--sign', garbage),
  ).toMatchObject({
    code: 1,
    err: expect.stringContaining('--sign: ssh-keygen -Y sign -n cutover -f'),
  });
});
