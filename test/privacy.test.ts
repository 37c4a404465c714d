// Personal data stays where it belongs (issue 21 #5), with payload encryption on: a Pilot seeded
// with distinctive e-mails and names runs into a unique violation at publish (Production already
// has one of its e-mails), then a check-constraint failure; the worker's log (the Runtime logger,
// captured here, and stderr), every status answer, the evidence pack in cutover.evidence and in the
// backup store hold none of the seeded values — while the full DETAIL is still readable by
// decoding the failure's payloads with the keys, and `cutover report --file` opens the sealed pack.
// Also (issue 21 #8): the evidence counts Temporal's own attempts of a step it retried, and gate
// plan of a dry run that predicts refusals needs them acknowledged, shown in the evidence.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { inspect } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { isPgError, KEY_VALUES_SQL, pgFailure } from '../activities/db/pg-errors';
import { run as cutover } from '../client/main';
import type { Io } from '../client/io';
import { formatStatus } from '../client/format/status';
import { codecFromEnv } from '../common/data-converter';
import { asEvidence, type EvidenceDocument } from '../common/evidence';
import { openEvidence, SEALED_FORMAT } from '../common/evidence-seal';
import {
  approveSignal,
  approveUpdate,
  reportQuery,
  resumeSignal,
  statusQuery,
  type EvidencePack,
  type StatusView,
} from '../common/temporal';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { acknowledging, atGate, paused, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';

process.env.CUTOVER_CODEC_KEYS = `priv:${randomBytes(32).toString('base64')}`;

// Everything the worker logs, at every level, through the SDK's own DefaultLogger (installed before
// the harness, which keeps it), and whatever reaches stderr.
const logged: string[] = [];
Runtime.install({
  logger: new DefaultLogger(
    'TRACE',
    (entry) => void logged.push(`[${entry.level}] ${entry.message} ${inspect(entry.meta ?? {}, { depth: 8 })}`),
  ),
});
const stderrWrite = process.stderr.write.bind(process.stderr);
process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
  logged.push(String(chunk));
  return (stderrWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stderr.write;

// Distinctive personal values: none may appear outside the data.
const ADA = 'ada.zyxwvq@privacy-seed.example';
const ADA_NAME = 'Ada Qzyxwvutsrova';
const BEA = 'bea.kwqjxz@privacy-seed.example';
const BEA_NAME = 'Bea Kwqjxzmonova';
const SEEDED = [ADA, ADA_NAME, BEA, BEA_NAME, 'zyxwvq', 'kwqjxz', 'Qzyxwvutsrova', 'Kwqjxzmonova'];
// Users 2 and 3 belong to accounts 3 and 4 (1 + id % 20), which move.
const SEED = `UPDATE users SET email = '${ADA}', full_name = '${ADA_NAME}' WHERE user_id = 2;
UPDATE users SET email = '${BEA}', full_name = '${BEA_NAME}' WHERE user_id = 3;`;

const h = useHarness('cutover_privacy', SAAS_SCHEMA + PILOT_DATA + SEED);
const store = mkdtempSync(path.join(tmpdir(), 'cutover-privacy-'));
afterAll(() => {
  rmSync(store, { recursive: true, force: true });
  process.stderr.write = stderrWrite;
  delete process.env.CUTOVER_CODEC_KEYS;
});

const hits = (text: string): string[] => SEEDED.filter((v) => text.includes(v));
const statuses: StatusView[] = [];
async function status(handle: WorkflowHandle): Promise<StatusView> {
  const s = (await handle.query(statusQuery)) as StatusView;
  statuses.push(s);
  return s;
}

/** Every ActivityTaskFailed failure's details in the history, decoded with the keys. */
async function decodedFailureDetails(handle: WorkflowHandle): Promise<unknown[]> {
  const codec = codecFromEnv();
  const history = await handle.fetchHistory();
  const out: unknown[] = [];
  for (const ev of history.events ?? []) {
    const payloads = ev.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.details?.payloads as Payload[] | undefined;
    if (!payloads?.length) continue;
    // Encrypted in the history: nothing readable before decoding.
    expect(hits(JSON.stringify(payloads.map((p) => Buffer.from(p.data ?? []).toString('latin1'))))).toEqual([]);
    for (const p of await codec.decode(payloads)) out.push(JSON.parse(Buffer.from(p.data ?? []).toString('utf8')));
  }
  return out;
}

test('with the codec on, a unique violation and a check failure at publish leave no personal value in logs, status or evidence; the full DETAIL is in the encrypted payloads', async () => {
  // Production already has Ada's e-mail (unique): publish must refuse it.
  const prod = await h.production(`${SAAS_SCHEMA}${PRODUCTION_DATA}
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
    INSERT INTO users VALUES (1001, 1001, '${ADA}', 'Prod Ada');`);
  const handle = await startRun(
    h.env,
    saasPlan('privacy-run', { backup: { store: `file://${store}` }, approvals: { approvers: ['bob'], required: 1, timeout: '1h' } }),
  );
  for (const gate of ['plan', 'cutover'] as const) {
    const at = await waitFor(handle, atGate(gate), 120000);
    // The dry run predicts the unique e-mail conflict: gate plan acknowledges it.
    await handle.signal(approveSignal, { gate, approver: 'bob', ...acknowledging(at) });
  }
  const first = await waitFor(handle, paused, 180000);
  await status(handle);
  expect(first.phase).toBe('publish');
  expect(first.error?.type).toBe('ConstraintViolation');
  // Names kept, value withheld: email is not the table's key.
  expect(first.error?.message).toContain('constraint users_email_key');
  expect(first.error?.message).toContain('Key (email)=(…) already exists.');

  // The check constraint: Bea's row breaks it (and Ada's e-mail is free now).
  await rows(
    prod,
    `DELETE FROM users WHERE user_id = 1001; ALTER TABLE users ADD CONSTRAINT users_name_check CHECK (full_name IS DISTINCT FROM '${BEA_NAME}')`,
  );
  await handle.signal(resumeSignal, { action: 'retry', by: 'oncall', reason: 'freed the e-mail' });
  const second = await waitFor(handle, (s) => s.status === 'paused' && s.error?.message.includes('users_name_check') === true, 180000);
  await status(handle);
  expect(second.error?.type).toBe('ConstraintViolation');
  expect(second.error?.message).toContain('Failing row contains (…): it breaks constraint users_name_check.');

  await handle.signal(resumeSignal, { action: 'abort', by: 'oncall', reason: 'enough' });
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('aborted');
  statuses.push(result);
  const report = (await handle.query(reportQuery)) as EvidencePack;

  // Nowhere: status answers, the run's result, the evidence as Temporal answers it.
  expect(hits(JSON.stringify(statuses))).toEqual([]);
  expect(hits(JSON.stringify(report))).toEqual([]);
  // The stored evidence: sealed in cutover.evidence and in the store, and no value inside either.
  const [row] = await rows<{ pack_text: string; pack: unknown; location: string }>(
    prod,
    'SELECT pack_text, pack, location FROM cutover.evidence WHERE run_key = $1',
    [result.runKey],
  );
  expect(JSON.parse(row.pack_text).format).toBe(SEALED_FORMAT);
  expect((row.pack as { format: string }).format).toBe(SEALED_FORMAT);
  const file = readFileSync(new URL(row.location), 'utf8');
  expect(file).toBe(row.pack_text);
  const opened = JSON.parse(await openEvidence(file, codecFromEnv())) as EvidenceDocument;
  expect(opened.run.status).toBe('aborted');
  expect(hits(await openEvidence(file, codecFromEnv()))).toEqual([]);
  expect(hits(file + row.pack_text + JSON.stringify(row.pack))).toEqual([]);
  // The pack names the failures by constraint.
  expect(JSON.stringify(opened.run.history)).toContain('users_email_key');

  // `cutover report --file` opens it with the keys; without them it says which key id it lacks.
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => void out.push(t), err: (t) => void err.push(t), isTTY: false };
  const stored = path.join(store, 'privacy-run', result.runKey, 'evidence.json');
  expect(await cutover(['node', 'cutover', 'report', 'privacy-run', '--file', stored, '--format', 'json'], io, { ...process.env })).toBe(0);
  expect((JSON.parse(out.join('\n')) as EvidenceDocument).run.runKey).toBe(result.runKey);
  expect(
    await cutover(['node', 'cutover', 'report', 'privacy-run', '--file', stored], io, { ...process.env, CUTOVER_CODEC_KEYS: '' }),
  ).not.toBe(0);
  expect(err.join('\n')).toContain('key id "priv"');

  // The full DETAIL is still there, for whoever holds the keys.
  const details = JSON.stringify(await decodedFailureDetails(handle));
  expect(details).toContain(`Key (email)=(${ADA}) already exists.`);
  expect(details).toContain(BEA_NAME);

  // The worker's log: the failures were logged (by constraint), their values never.
  const log = logged.join('\n');
  expect(log).toContain('users_email_key');
  expect(hits(log)).toEqual([]);
}, 600000);

test('a DETAIL keeps values only for key columns, per the catalog: a primary key, an FK into one; not a unique e-mail', async () => {
  const db = await h.production(`${SAAS_SCHEMA}${PRODUCTION_DATA} ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);`);
  const lookup = async (schema: string, table: string, constraint: string) =>
    (await rows<{ key: boolean }>(db, KEY_VALUES_SQL, [schema, table, constraint]))[0]?.key === true;
  const failureOf = async (sql: string) => {
    const e = await rows(db, sql).then(
      () => null,
      (x: unknown) => x,
    );
    expect(isPgError(e)).toBe(true);
    return pgFailure(e as Parameters<typeof pgFailure>[0], lookup);
  };
  const pk = await failureOf(`INSERT INTO users VALUES (1000, 1000, '${ADA}', '${ADA_NAME}')`);
  expect(pk.message).toContain('Key (user_id)=(1000) already exists.');
  const fk = await failureOf(`INSERT INTO users VALUES (7, 4242, '${ADA}', '${ADA_NAME}')`);
  expect(fk.message).toContain('Key (account_id)=(4242) is not present in table "accounts".');
  const unique = await failureOf(`INSERT INTO users VALUES (7, 1000, 'p1@example.com', '${ADA_NAME}')`);
  expect(unique.message).toContain('Key (email)=(…) already exists.');
  expect(unique.message).not.toContain('p1@example.com');
  const notNull = await failureOf(`INSERT INTO users VALUES (7, 1000, NULL, '${ADA_NAME}')`);
  expect(notNull.message).toContain('Failing row contains (…)');
  const data = await failureOf(`SELECT '${ADA}'::int`);
  expect(data.message).toContain('invalid input syntax for type integer: "…"');
  for (const f of [pk, fk, unique, notNull, data]) expect(hits(`${f.message}\n${f.stack}`)).toEqual([]);
  // The server's full words are in the details (the codec encrypts them).
  expect(JSON.stringify(notNull.details)).toContain(ADA_NAME);
});

test('gate plan of a dry run that predicts refusals needs them acknowledged; the evidence shows it. A retried stage counts its attempts', async () => {
  // Production already holds account 1, which the plan moves with ids: keep: publish will refuse it.
  await h.production(`${SAAS_SCHEMA}${PRODUCTION_DATA} INSERT INTO accounts VALUES (1, 'Prod Account 1', 'pro', false);`);
  const handle = await startRun(h.env, saasPlan('privacy-ack', { approvals: { approvers: ['bob'], required: 1, timeout: '1h' } }));
  const atPlan = await waitFor(handle, atGate('plan'), 120000);
  // Status says what an approval must acknowledge.
  expect(atPlan.mustAcknowledge?.map((p) => p.reason)).toEqual(['collisions:public.accounts']);
  expect(formatStatus(atPlan)).toContain('acknowledge:  collisions:public.accounts');
  const refusal = await handle.executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'bob' }] }).then(
    () => '',
    (e: { cause?: { message?: string } }) => e.cause?.message ?? String(e),
  );
  expect(refusal).toContain('--acknowledge collisions:public.accounts');
  expect(refusal).toContain('publish will refuse them');
  const wrong = await handle
    .executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'bob', acknowledge: ['collisions:public.users'] }] })
    .then(
      () => '',
      (e: { cause?: { message?: string } }) => e.cause?.message ?? String(e),
    );
  expect(wrong).toContain('predicts no such refusal');
  expect((await status(handle)).approvals).toEqual([]);

  // The first stage attempt dies after one row; Temporal retries it.
  process.env.CUTOVER_TEST_FAIL_STAGE_AFTER = 'public.accounts:1';
  try {
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'plan', approver: 'bob', acknowledge: ['collisions:public.accounts'] }] });
    await waitFor(handle, atGate('cutover'), 120000);
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
    const view = await waitFor(handle, paused, 180000);
    expect(view.phase).toBe('publish');
  } finally {
    delete process.env.CUTOVER_TEST_FAIL_STAGE_AFTER;
  }
  await handle.signal(resumeSignal, { action: 'abort', by: 'oncall', reason: 'predicted' });
  await runResult(handle);
  const doc = asEvidence((await handle.query(reportQuery)) as EvidencePack);
  expect(doc.approvals.find((a) => a.gate === 'plan')).toMatchObject({ approver: 'bob', acknowledged: ['collisions:public.accounts'] });
  // Temporal's own count: the stage activity ran twice (the history's ActivityTaskStarted says so too).
  const history = await handle.fetchHistory();
  const stageStarts = (history.events ?? []).filter(
    (e) =>
      e.activityTaskStartedEventAttributes &&
      (history.events ?? []).some(
        (s) =>
          Number(s.eventId) === Number(e.activityTaskStartedEventAttributes!.scheduledEventId) &&
          s.activityTaskScheduledEventAttributes?.activityType?.name === 'stage',
      ),
  );
  expect(Number(stageStarts[0]?.activityTaskStartedEventAttributes?.attempt)).toBe(2);
  expect(doc.steps.find((s) => s.step === 'stage')?.attempts).toBe(2);
  expect(doc.steps.find((s) => s.step === 'preflight')?.attempts).toBe(1);
}, 600000);
