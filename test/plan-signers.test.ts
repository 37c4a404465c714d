// Approvers and operators with SSH keys in the plan: keys validated offline with the path at
// fault, the cross-field rules of `signatures: required`, and plain-name plans normalising exactly
// as before (recorded runs' plans and hashes must not change).
import { checkPlanSchema } from '../plan/validate';
import { approverNames, operatorNames, signaturesRequired, signerKey } from '../plan/signers';
import { makeKey, tempKeyDir, type TestKey } from './helpers/ssh-keys';

const keys = tempKeyDir();
let bob: TestKey, carol: TestKey, rsa: TestKey;
beforeAll(() => {
  bob = makeKey(keys.dir, 'bob');
  carol = makeKey(keys.dir, 'carol');
  rsa = makeKey(keys.dir, 'rsa', 'rsa');
});
afterAll(() => keys.cleanup());

const plan = (approvals: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  version: 1,
  id: 'signers',
  strategy: 'selective',
  source: 'pilot',
  target: 'production',
  tables: [{ table: 'public.users' }],
  approvals: { required: 1, ...approvals },
  ...extra,
});
const issues = (p: unknown) => checkPlanSchema(p).issues.map((i) => `${i.path}: ${i.message}`);

test('plain names and {name, key} mix; plain names stay plain and no signatures default is added', () => {
  const { plan: ok, issues: none } = checkPlanSchema(
    plan({ approvers: ['alice', { name: 'bob', key: bob.publicLine }] }, { operators: ['oncall'] }),
  );
  expect(none).toEqual([]);
  expect(ok!.approvals).toEqual({
    approvers: ['alice', { name: 'bob', key: bob.publicLine }],
    required: 1,
    separationOfDuties: true,
    timeout: '72h',
  });
  expect(approverNames(ok!)).toEqual(['alice', 'bob']);
  expect(operatorNames(ok!)).toEqual(['oncall']);
  expect(signaturesRequired(ok!)).toBe(false);
  expect(signerKey(ok!.approvals.approvers, 'alice')).toBeNull();
  expect(signerKey(ok!.approvals.approvers, 'mallory')).toBeUndefined();
  expect(signerKey(ok!.approvals.approvers, 'bob')?.fingerprint).toBe(bob.fingerprint);
  // A plan without operators: anyone may resume.
  expect(operatorNames(checkPlanSchema(plan({ approvers: ['alice'] })).plan!)).toBeNull();
});

test('bad keys and signer forms are refused with the path at fault', () => {
  const [type, b64] = bob.publicLine.split(' ');
  expect(issues(plan({ approvers: [{ name: 'bob', key: rsa.publicLine }] }))).toEqual([
    'approvals.approvers[0].key: must be an SSH public key "ssh-ed25519 AAAA… [comment]": key type ssh-rsa is not supported (only ssh-ed25519)',
  ]);
  expect(issues(plan({ approvers: [{ name: 'bob', key: `${type} ${b64.slice(0, -8)}` }] }))).toEqual([
    expect.stringMatching(
      /^approvals\.approvers\[0\]\.key: must be an SSH public key .*: not an SSH public key \(ed25519 key: truncated\)$/,
    ),
  ]);
  expect(issues(plan({ approvers: [{ name: 'bob', key: `${type} ${b64}%%` }] }))).toEqual([
    expect.stringMatching(/^approvals\.approvers\[0\]\.key: .*the key is not valid base64$/),
  ]);
  // The blob says ssh-ed25519 but the line claims another type.
  expect(issues(plan({ approvers: [{ name: 'bob', key: `ssh-rsa ${b64}` }] }))).toEqual([
    expect.stringContaining(
      'approvals.approvers[0].key: must be an SSH public key "ssh-ed25519 AAAA… [comment]": key type ssh-rsa is not supported',
    ),
  ]);
  expect(issues(plan({ approvers: [{ name: 'bob' }] }))).toEqual([
    'approvals.approvers[0]: must be a name, or {name, key: "ssh-ed25519 AAAA… [comment]"}',
  ]);
  expect(issues(plan({ approvers: [{ name: 'bob', key: bob.publicLine, email: 'x' }] }))).toEqual([
    'approvals.approvers[0].email: unknown key "email" (allowed: name, key)',
  ]);
  expect(issues(plan({ approvers: ['bob'] }, { operators: [{ name: 'oncall', key: 'ssh-ed25519' }] }))).toEqual([
    'operators[0].key: must be an SSH public key "ssh-ed25519 AAAA… [comment]": must be an SSH public key line "ssh-ed25519 AAAA… [comment]"',
  ]);
  expect(issues(plan({ approvers: ['bob'], signatures: 'always' }))).toEqual([
    'approvals.signatures: expected one of required, optional; got "always"',
  ]);
});

test('duplicates: a name twice, or one key for two people', () => {
  expect(issues(plan({ approvers: ['bob', { name: 'bob', key: bob.publicLine }] }))).toEqual([
    'approvals.approvers[1]: duplicate approver "bob"',
  ]);
  expect(
    issues(
      plan({
        approvers: [
          { name: 'bob', key: bob.publicLine },
          { name: 'robert', key: bob.publicLine },
        ],
      }),
    ),
  ).toEqual([`approvals.approvers[1].key: the same key as approvers[0] (${bob.fingerprint}): one key is one person`]);
  expect(issues(plan({ approvers: ['bob'] }, { operators: ['oncall', 'oncall'] }))).toEqual(['operators[1]: duplicate operator "oncall"']);
  expect(issues(plan({ approvers: ['bob'] }, { operators: [] }))).toEqual(['operators: must not be empty']);
});

test('signatures: required needs a key for every approver and operators with keys', () => {
  const withKeys = { approvers: [{ name: 'bob', key: bob.publicLine }], signatures: 'required' };
  expect(
    issues(plan({ ...withKeys, approvers: [...withKeys.approvers, 'alice'] }, { operators: [{ name: 'oncall', key: carol.publicLine }] })),
  ).toEqual(['approvals.approvers[1]: needs a key ({name: alice, key: "ssh-ed25519 …"}): approvals.signatures is required']);
  expect(issues(plan(withKeys))).toEqual(['operators: required when approvals.signatures is required (who may resume, each with a key)']);
  expect(issues(plan(withKeys, { operators: ['oncall'] }))).toEqual([
    'operators[0]: needs a key ({name: oncall, key: "ssh-ed25519 …"}): approvals.signatures is required',
  ]);
  const ok = checkPlanSchema(plan(withKeys, { operators: [{ name: 'oncall', key: carol.publicLine }] }));
  expect(ok.issues).toEqual([]);
  expect(signaturesRequired(ok.plan!)).toBe(true);
});
