// Connection aliases as the worker resolves them (env, or a file in CUTOVER_SECRETS_DIR, read at each
// use), passwords masked wherever a URL could be quoted, the identity check's refusal, and the
// worker's operations settings (JSON log lines, the metrics address). The end-to-end side (workers
// as processes, a run pausing on a misconfigured worker) is test/ops.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { identityMismatch, identityOf } from '../activities/db/alias-identity';
import { movedAlias } from '../common/failures';
import { pinnedAlias, withAliasScope } from '../activities/db/alias-scope';
import { readAlias, redactSecrets, resolveAlias } from '../activities/db/connect';
import { redactError } from '../activities/interceptor';
import { rowsMoved } from '../activities/rows-metric';
import { JsonLogger } from '../worker/json-logger';
import { metricsAddress } from '../worker/run';
import { PG_ADMIN } from './helpers/pg';

const saved = { ...process.env };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-secrets-'));
  for (const k of Object.keys(process.env)) if (k.startsWith('CUTOVER_DB_') || k === 'CUTOVER_SECRETS_DIR') delete process.env[k];
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  process.env = { ...saved };
});

test('an alias comes from CUTOVER_DB_<ALIAS>, else from <secrets dir>/<alias> (trimmed), else <ALIAS>; the environment wins', () => {
  process.env.CUTOVER_SECRETS_DIR = dir;
  expect(() => readAlias('billing')).toThrow(
    /connection alias "billing" is not configured: set CUTOVER_DB_BILLING .* or write its URL to .*billing/,
  );
  writeFileSync(path.join(dir, 'BILLING'), 'postgres://u@h1/db\n');
  expect(readAlias('billing')).toBe('postgres://u@h1/db');
  writeFileSync(path.join(dir, 'billing'), '  postgres://u@h2/db  \n');
  expect(readAlias('billing')).toBe('postgres://u@h2/db'); // the exact (lower-case) name first
  process.env.CUTOVER_DB_BILLING = 'postgres://u@h3/db';
  expect(readAlias('billing')).toBe('postgres://u@h3/db');
});

test('an alias that could name a path outside the secrets dir is never looked up there', () => {
  process.env.CUTOVER_SECRETS_DIR = dir;
  writeFileSync(path.join(os.tmpdir(), 'cutover-escape'), 'postgres://u@h/db');
  try {
    expect(() => readAlias('../cutover-escape')).toThrow(/not configured/);
  } finally {
    rmSync(path.join(os.tmpdir(), 'cutover-escape'), { force: true });
  }
});

test('within one activity an alias keeps the URL it first resolved to; the next activity reads afresh', async () => {
  process.env.CUTOVER_SECRETS_DIR = dir;
  writeFileSync(path.join(dir, 'crm'), 'postgres://u@first/db');
  await withAliasScope(async () => {
    expect(resolveAlias('crm')).toBe('postgres://u@first/db');
    writeFileSync(path.join(dir, 'crm'), 'postgres://u@second/db');
    expect(resolveAlias('crm')).toBe('postgres://u@first/db');
    expect(pinnedAlias('crm', () => 'unused')).toBe('postgres://u@first/db');
  });
  await withAliasScope(async () => expect(resolveAlias('crm')).toBe('postgres://u@second/db'));
});

test('a URL that is not postgres:// is refused naming the alias and its source, password masked', () => {
  process.env.CUTOVER_DB_CRM = 'http://admin:hunter2secret@db.internal:5432/crm';
  let message = '';
  try {
    readAlias('crm');
  } catch (e) {
    expect(e).toBeInstanceOf(ApplicationFailure);
    expect((e as ApplicationFailure).type).toBe('ConfigError');
    expect((e as ApplicationFailure).nonRetryable).toBe(true);
    message = (e as Error).message;
  }
  expect(message).toContain('connection alias "crm" (CUTOVER_DB_CRM) is not a postgres:// URL: http://admin:***@db.internal:5432/crm');
  expect(message).not.toContain('hunter2');
  process.env.CUTOVER_DB_CRM = 'postgres://admin:hunter2secret@db:bad/x';
  expect(() => readAlias('crm')).toThrow(/not a postgres:\/\/ URL: postgres:\/\/admin:\*\*\*@db:bad\/x$/);
});

test('passwords are masked in any text: URLs, key=value pairs, and the known secrets themselves', () => {
  expect(redactSecrets('could not reach postgresql://app:p%40ss@10.0.0.1:5432/prod?sslmode=require, retrying')).toBe(
    'could not reach postgresql://app:***@10.0.0.1:5432/prod?sslmode=require, retrying',
  );
  expect(redactSecrets('host=db user=app password=topsecret dbname=prod')).toBe('host=db user=app password=*** dbname=prod');
  expect(redactSecrets('postgres://?password=abc123&x=1')).toBe('postgres://?password=***&x=1');
  expect(redactSecrets('the server said topsecret', ['topsecret'])).toBe('the server said ***');
  expect(redactSecrets('postgres://app@db/prod')).toBe('postgres://app@db/prod');
});

test('an error leaving an activity has its message, stack, causes and URL input masked', () => {
  const cause = new TypeError('Invalid URL') as TypeError & { input?: string };
  cause.input = 'postgres://app:pw-in-input@db:x/prod';
  const e = ApplicationFailure.create({ message: 'connect to postgres://app:pw-in-message@db/prod failed: said sekr1t', type: 'X', cause });
  redactError(e, ['sekr1t']);
  const all = JSON.stringify({ m: e.message, s: e.stack, c: cause.message, i: cause.input, cs: cause.stack });
  expect(all).not.toMatch(/pw-in-input|pw-in-message|sekr1t/);
  expect(e.message).toBe('connect to postgres://app:***@db/prod failed: said ***');
});

test('the identity check names the alias and both databases, and passes the same database', async () => {
  process.env.CUTOVER_DB_PROD = PG_ADMIN;
  const here = await identityOf('prod');
  expect(here).toMatchObject({ database: 'postgres', server: '127.0.0.1:5432' });
  expect(here.systemIdentifier).toMatch(/^\d+$/);
  expect(identityMismatch('prod', here, { ...here })).toBeNull();
  const other = { ...here, databaseOid: here.databaseOid + 1, database: 'prod_b' };
  const why = identityMismatch('prod', here, other)!;
  expect(why).toContain('connection alias "prod" on this worker points at database prod_b on 127.0.0.1:5432');
  expect(why).toContain(`oid ${here.databaseOid + 1}`);
  expect(why).toContain(
    `but this run started on database postgres on 127.0.0.1:5432 (system identifier ${here.systemIdentifier}, oid ${here.databaseOid})`,
  );
  expect(identityMismatch('prod', here, { ...here, systemIdentifier: '1' })).toContain('system identifier 1');
  // The workflow reads the alias back from this very message (resume retry --accept-database).
  expect(why).toContain('if the database itself moved, retry with --accept-database prod');
  expect(movedAlias({ type: 'ConfigError', message: why })).toBe('prod');
  expect(movedAlias({ type: 'PlanError', message: why })).toBeNull();
  expect(movedAlias({ type: 'ConfigError', message: 'connection alias "prod" is not set: set CUTOVER_DB_PROD' })).toBeNull();
});

test('rows moved per step come from the step results', () => {
  expect(rowsMoved('publish', { tables: [{ table: 'public.a', inserted: 3, merged: 1 }] })).toEqual([{ table: 'public.a', rows: 3 }]);
  expect(rowsMoved('stage', { tables: [{ table: 'public.a', rows: 5 }] })).toEqual([{ table: 'public.a', rows: 5 }]);
  expect(rowsMoved('rollback', { tables: [{ table: 'public.a', deleted: 2 }] })).toEqual([{ table: 'public.a', rows: 2 }]);
  expect(rowsMoved('validate', { tables: [{ table: 'public.a', moved: 2 }] })).toEqual([]);
  expect(rowsMoved('publish', null)).toEqual([]);
});

test('JSON logs: one object per line, level filtered, errors as name and message, passwords masked', () => {
  const lines: string[] = [];
  const log = new JsonLogger('INFO', (l) => lines.push(l));
  log.debug('hidden');
  log.info('started', { taskQueue: 'cutover', n: BigInt(3) });
  log.error('failed', { error: new Error('connect postgres://u:pw123@h/db refused') });
  expect(lines).toHaveLength(2);
  const [a, b] = lines.map((l) => JSON.parse(l));
  expect(a).toMatchObject({ level: 'info', message: 'started', taskQueue: 'cutover', n: '3' });
  expect(new Date(a.time).toString()).not.toBe('Invalid Date');
  expect(b).toMatchObject({
    level: 'error',
    message: 'failed',
    error: { name: 'Error', message: 'connect postgres://u:***@h/db refused' },
  });
  expect(lines.join('\n')).not.toContain('pw123');
});

test('the metrics address: host:port, or a bare port on all interfaces; anything else is refused', () => {
  expect(metricsAddress(undefined)).toBeUndefined();
  expect(metricsAddress('')).toBeUndefined();
  expect(metricsAddress('9464')).toBe('0.0.0.0:9464');
  expect(metricsAddress('127.0.0.1:9464')).toBe('127.0.0.1:9464');
  expect(() => metricsAddress('http://x:1')).toThrow(/CUTOVER_METRICS_ADDRESS must be host:port or a port/);
});
