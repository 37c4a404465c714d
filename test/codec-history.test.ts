// Payload encryption end to end on a real Temporal dev server, with CUTOVER_CODEC_KEYS set for the
// worker, the CLI and `cutover codec-server`: a run started and approved with the cutover CLI leaves no
// plan value and no approval comment readable in the raw history the official `temporal` CLI fetches,
// while `temporal … --codec-endpoint` pointed at the codec server reads them; failure messages are
// encrypted too; search attributes carry only status, phase and plan id; a plain-JSON start from the
// official CLI still runs; a CLI with the wrong key says which key id it lacks. And the test server
// enforces the payload size limit scripts/services.sh sets.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { run as cutover } from '../client/main';
import type { Io } from '../client/io';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../common/codec';
import { approveSignal, SEARCH_ATTRIBUTES, statusQuery, STATUSES, TASK_QUEUE, WORKFLOW_TYPE, type StatusView } from '../common/temporal';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { EXPECTED, PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { atGate, waitFor } from './helpers/run';
import { SERVER_LIMITS, temporalBin } from './helpers/temporal';

const OLD = randomBytes(32).toString('base64');
const NEW = randomBytes(32).toString('base64');
// Before the harness starts the worker (its beforeAll runs after module load): the worker has rotated
// to `new` and still decrypts `old`.
process.env.CUTOVER_CODEC_KEYS = `new:${NEW},old:${OLD}`;
const h = useHarness('cutover_codec', SAAS_SCHEMA + PILOT_DATA);

const SECRET_VALUE = 'Zebra Confidential Holdings';
const COMMENT = 'reviewed the dry run with Dana Whitfield, ok to ship';
const sh = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'cutover-codec-'));
const stopCodec = new AbortController();
let codecExit: Promise<number>;
let codecUrl = '';
/** The codec server wants a bearer token; the official CLI sends it with --codec-auth. */
const CODEC_TOKEN = 'history-test-token';

async function cli(args: string[], keys: string | undefined): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => void out.push(t), err: (t) => void err.push(t), isTTY: false };
  const env = { ...process.env, TEMPORAL_ADDRESS: h.env.address, CUTOVER_CODEC_KEYS: keys };
  const code = await cutover(['node', 'cutover', ...args], io, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function temporal(...args: string[]): Promise<string> {
  const { stdout } = await sh(temporalBin(), [...args, '--address', h.env.address, '--namespace', 'default'], {
    timeout: 60000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

beforeAll(async () => {
  await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  const out: string[] = [];
  const io: Io = { out: (t) => void out.push(t), err: () => undefined, isTTY: false };
  codecExit = cutover(
    ['node', 'cutover', 'codec-server', '--port', '0'],
    io,
    { ...process.env, CUTOVER_CODEC_TOKEN: CODEC_TOKEN },
    stopCodec.signal,
  );
  for (let i = 0; i < 200 && !out.length; i++) await new Promise((r) => setTimeout(r, 25));
  codecUrl = out[0];
  expect(codecUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});
afterAll(async () => {
  stopCodec.abort();
  await codecExit;
  rmSync(dir, { recursive: true, force: true });
  delete process.env.CUTOVER_CODEC_KEYS;
});

interface FoundPayload {
  path: string;
  encoding: string;
  keyId?: string;
  text: string; // metadata and data, base64-decoded
}
const b64 = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '');

/** Every payload in a history as `temporal workflow show --output json` prints it (proto JSON: bytes in base64). */
function payloadsOf(node: unknown, path = '', found: FoundPayload[] = []): FoundPayload[] {
  if (Array.isArray(node)) node.forEach((n, i) => payloadsOf(n, `${path}[${i}]`, found));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    const meta = o.metadata as Record<string, unknown> | undefined;
    if (meta && typeof meta === 'object' && typeof meta.encoding === 'string') {
      found.push({
        path,
        encoding: b64(meta.encoding),
        keyId: meta[KEY_ID_METADATA] === undefined ? undefined : b64(meta[KEY_ID_METADATA]),
        text: [...Object.values(meta).map(b64), b64(o.data)].join(' '),
      });
    } else for (const [k, v] of Object.entries(o)) payloadsOf(v, `${path}.${k}`, found);
  }
  return found;
}

/** Everything readable in a history: its JSON and every payload decoded from base64. */
const readable = (json: string) =>
  json +
  '\n' +
  payloadsOf(JSON.parse(json))
    .map((p) => p.text)
    .join('\n');

const isSearchAttribute = (p: FoundPayload) => /\.searchAttributes\.indexedFields\./.test(p.path);
/** The SDK's own marker bookkeeping (patch ids, a local activity's type and timing), written by its core, not by cutover. */
const isSdkMarker = (p: FoundPayload) => /\.markerRecordedEventAttributes\.details\.(patch-data|data)\./.test(p.path);

test('started and approved with the cutover CLI: nothing readable in the raw history; the codec server reads it all', async () => {
  const plan = saasPlan('codec-cli', {
    tables: [
      { table: 'events', select: { follow: ['project_id'] } },
      {
        table: 'public.accounts',
        select: {
          where: [
            { column: 'is_test', op: 'eq', value: false },
            { column: 'name', op: 'ne', value: SECRET_VALUE },
          ],
        },
        ids: 'keep',
      },
      { table: 'users', select: { follow: ['account_id'] } },
      { table: 'projects', select: { follow: ['account_id'] } },
    ],
  });
  const file = join(dir, 'codec-cli.yaml');
  writeFileSync(file, JSON.stringify(plan, null, 2));
  const id = 'cutover-codec-cli';

  // The operator's CLI has not rotated yet (encrypts with `old`); approvers' have (`new`): the worker reads both.
  const started = await cli(['start', file, '--as', 'alice'], `old:${OLD}`);
  expect(started.err).toBe('');
  expect(started.code).toBe(0);
  const handle = h.env.client.workflow.getHandle(id);
  for (const gate of ['plan', 'cutover']) {
    await waitFor(handle, atGate(gate), 120000);
    for (const approver of ['bob', 'carol']) {
      const r = await cli(['approve', id, '--gate', gate, '--as', approver, '--comment', COMMENT], `new:${NEW},old:${OLD}`);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
    }
  }
  const done = await waitFor(handle, (s: StatusView) => s.status === 'completed', 180000);
  expect(done.approvals.map((a) => a.comment)).toEqual([COMMENT, COMMENT, COMMENT, COMMENT]);
  const moved = Number((await rows<{ n: string }>(h.pilot, `SELECT count(*)::text AS n FROM (${EXPECTED.accounts}) x`))[0].n);
  expect(
    Number(
      (await rows<{ n: string }>(process.env.CUTOVER_DB_PRODUCTION!, 'SELECT count(*)::text AS n FROM accounts WHERE account_id < 1000'))[0]
        .n,
    ),
  ).toBe(moved);

  // The raw history, as anyone with access to Temporal (or its database) sees it.
  const raw = await temporal('workflow', 'show', '--workflow-id', id, '--output', 'json');
  const rawText = readable(raw);
  for (const secret of [SECRET_VALUE, COMMENT, 'Dana', 'is_test', 'public.accounts', 'separationOfDuties', 'initiated by alice']) {
    expect(rawText).not.toContain(secret);
  }
  const payloads = payloadsOf(JSON.parse(raw));
  expect(payloads.length).toBeGreaterThan(20);
  const plain = payloads.filter((p) => !isSearchAttribute(p) && !isSdkMarker(p) && p.encoding !== ENCRYPTED_ENCODING);
  expect(plain).toEqual([]);
  for (const p of payloads.filter(isSdkMarker)) expect(p.text).toMatch(/^json\/plain \{"(id|seq)":/);
  // Both keys at work: the start input under `old`, what the approvers and the worker wrote under `new`.
  expect(new Set(payloads.filter((p) => !isSearchAttribute(p) && !isSdkMarker(p)).map((p) => p.keyId))).toEqual(new Set(['old', 'new']));

  // Search attributes are never encrypted (the server indexes them): only status, phase, plan id (and change request id).
  // (TemporalChangeVersion is the SDK's: the ids of the patches the run took.)
  const known = new Set<string>(Object.values(SEARCH_ATTRIBUTES));
  for (const p of payloads.filter(isSearchAttribute)) {
    const name = /\.indexedFields\.([^.[]+)/.exec(p.path)?.[1] ?? '';
    expect([name, known.has(name) || name === 'TemporalChangeVersion']).toEqual([name, true]);
  }
  const described = JSON.parse(await temporal('workflow', 'describe', '--workflow-id', id, '--output', 'json'));
  const attrs = described.workflowExecutionInfo.searchAttributes.indexedFields as Record<string, { data: string }>;
  const values = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, JSON.parse(b64(v.data))]));
  // CutoverChange only when the plan names a change request (this one does not).
  expect(
    Object.keys(values)
      .filter((k) => k.startsWith('Cutover'))
      .sort(),
  ).toEqual([...known].filter((k) => k !== SEARCH_ATTRIBUTES.change).sort());
  expect(values[SEARCH_ATTRIBUTES.planId]).toBe('codec-cli');
  expect(STATUSES).toContain(values[SEARCH_ATTRIBUTES.status]);
  expect(values[SEARCH_ATTRIBUTES.phase]).toMatch(/^[a-z-]+$/);

  // Through `cutover codec-server`, the official CLI reads plan values, comments and the UI's summary.
  const decoded = await temporal(
    'workflow',
    'show',
    '--workflow-id',
    id,
    '--output',
    'json',
    '--codec-endpoint',
    codecUrl,
    '--codec-auth',
    `Bearer ${CODEC_TOKEN}`,
  );
  const decodedText = readable(decoded);
  for (const secret of [SECRET_VALUE, COMMENT, 'is_test', 'initiated by alice']) expect(decodedText).toContain(secret);
  expect(payloadsOf(JSON.parse(decoded)).filter((p) => p.encoding === ENCRYPTED_ENCODING)).toEqual([]);
  const query = await temporal(
    'workflow',
    'query',
    '--workflow-id',
    id,
    '--type',
    'status',
    '--output',
    'json',
    '--codec-endpoint',
    codecUrl,
    '--codec-auth',
    `Bearer ${CODEC_TOKEN}`,
  );
  expect(query).toContain(COMMENT);

  // A CLI with another key names the key id it lacks (never a key), and exits 1.
  const wrong = await cli(['status', id, '--json'], `other:${randomBytes(32).toString('base64')}`);
  expect(wrong.code).toBe(1);
  expect(wrong.err).toMatch(
    /cannot decrypt a payload encrypted with key id "new": CUTOVER_CODEC_KEYS has no such key \(it has key id\(s\) "other"\)/,
  );
  expect(wrong.err).not.toContain(NEW);
  // Same id, wrong key.
  const forged = await cli(['status', id, '--json'], `new:${OLD}`);
  expect(forged.code).toBe(1);
  expect(forged.err).toContain('key id "new": the key CUTOVER_CODEC_KEYS gives for "new" is not the one it was encrypted with');
}, 420000);

test('failure messages travel encrypted: a run refused for its workflow id', async () => {
  const plan = saasPlan('codec-zebra-plan');
  const handle = await h.env.client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: TASK_QUEUE,
    workflowId: 'codec-wrong-id',
    args: [{ plan, initiatedBy: 'alice' }],
  });
  // The project's client decrypts: the message names the plan id.
  await expect(handle.result()).rejects.toMatchObject({
    cause: { message: expect.stringContaining('workflow id must be cutover-codec-zebra-plan') },
  });
  const raw = await temporal('workflow', 'show', '--workflow-id', 'codec-wrong-id', '--output', 'json');
  expect(readable(raw)).not.toContain('zebra');
  const failed = JSON.parse(raw).events.find(
    (e: { workflowExecutionFailedEventAttributes?: unknown }) => e.workflowExecutionFailedEventAttributes,
  );
  expect(failed.workflowExecutionFailedEventAttributes.failure.message).toBe('Encoded failure');
  const decoded = await temporal(
    'workflow',
    'show',
    '--workflow-id',
    'codec-wrong-id',
    '--output',
    'json',
    '--codec-endpoint',
    codecUrl,
    '--codec-auth',
    `Bearer ${CODEC_TOKEN}`,
  );
  expect(readable(decoded)).toContain('workflow id must be cutover-codec-zebra-plan');
}, 120000);

test('a plain-JSON start and plain signals from the official CLI (no codec) still run with the codec-enabled worker', async () => {
  await h.production(SAAS_SCHEMA + PRODUCTION_DATA); // a fresh production: the first test already moved these rows
  const id = 'cutover-codec-plain';
  await temporal(
    'workflow',
    'start',
    '--task-queue',
    'cutover',
    '--type',
    'cutoverMigration',
    '--workflow-id',
    id,
    '--input',
    JSON.stringify({ plan: saasPlan('codec-plain'), initiatedBy: 'alice' }),
  );
  const handle = h.env.client.workflow.getHandle(id);
  for (const gate of ['plan', 'cutover']) {
    await waitFor(handle, atGate(gate), 120000);
    for (const approver of ['bob', 'carol']) {
      await temporal(
        'workflow',
        'signal',
        '--workflow-id',
        id,
        '--name',
        'approve',
        '--input',
        JSON.stringify({ gate, approver, comment: `plain ${approver}` }),
      );
    }
  }
  const done = await waitFor(handle, (s: StatusView) => s.status === 'completed', 180000);
  expect(done.approvals.map((a) => a.comment)).toEqual(['plain bob', 'plain carol', 'plain bob', 'plain carol']);
  // What came in plain stays plain in the history; what the worker wrote is encrypted.
  const payloads = payloadsOf(JSON.parse(await temporal('workflow', 'show', '--workflow-id', id, '--output', 'json'))).filter(
    (p) => !isSearchAttribute(p),
  );
  expect(payloads.some((p) => p.encoding === 'json/plain' && p.text.includes('codec-plain'))).toBe(true);
  expect(payloads.some((p) => p.encoding === ENCRYPTED_ENCODING && p.keyId === 'new')).toBe(true);
}, 420000);

test('the dev server refuses a payload over limit.blobSize.error (as a production cluster does); the run goes on', async () => {
  const handle = h.env.client.workflow.getHandle('cutover-codec-plain');
  const before = await handle.query(statusQuery);
  const huge = 'x'.repeat(SERVER_LIMITS['limit.blobSize.error'] + 1024);
  const err = await handle.signal(approveSignal, { gate: 'plan', approver: huge }).catch((e: Error) => e);
  expect(`${(err as Error).message}: ${((err as Error).cause as Error | undefined)?.message}`).toMatch(
    /Failed to signal Workflow: .*size exceeds limit/i,
  );
  const after = await handle.query(statusQuery);
  expect(after.refusedCount).toBe(before.refusedCount);
  expect(after.status).toBe(before.status);
}, 120000);
