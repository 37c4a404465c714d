// Nothing left behind by a crash: what a killed attempt leaves (a partial dump file and an object
// without sidecar in a file:// store, an incomplete S3 multipart upload holding a part of a dump, a
// scratch database, the staging schema of a run that is over) is removed by the next backup attempt
// of the run (its own prefix), and `cutover gc` names the rest, then removes it with --apply. Real
// PostgreSQL, a real directory and a real SeaweedFS; the test looks with its own SQL, fs and S3 calls.
// A full store (a small tmpfs) fails final, naming the store and the object.
import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import path from 'node:path';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { backup } from '../activities/backup';
import { openStore } from '../activities/store';
import { gcCommand } from '../client/commands/gc';
import type { CommandContext } from '../client/commands/context';
import { TemporalContext } from '../client/connection';
import type { StepInput } from '../common/results';
import { validatePlan } from '../plan/validate';
import { admin, createDb, dropDb, rows, uniqueName, withDb } from './helpers/pg';
import { ensureControlSchema } from '../activities/db/control-schema';
import { testS3Client, useSeaweed } from './helpers/seaweed';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, shopPlan } from './helpers/shop';

const s3 = useSeaweed();
const base = uniqueName('cutover_gc');
const made: string[] = [];
beforeAll(async () => {
  made.push(`${base}_pilot`, `${base}_prod`);
  process.env.CUTOVER_DB_PILOT = await createDb(`${base}_pilot`, SHOP_SCHEMA + SHOP_PILOT);
  process.env.CUTOVER_DB_PRODUCTION = await createDb(`${base}_prod`, SHOP_SCHEMA + SHOP_PRODUCTION);
}, 60000);
afterAll(async () => {
  for (const name of made) await dropDb(name);
});

const files = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).map((f) => f.split(path.sep).join('/')).sort();
const hourAgo = new Date(Date.now() - 2 * 3600_000);

/** The CLI command in this process, Temporal unreachable (nothing listens there): output lines. */
async function cli(file: string, opts: { apply?: boolean; minAge?: string }) {
  const out: string[] = [];
  const ctx = {
    io: { out: (s: string) => out.push(s), err: (s: string) => out.push(s) },
    temporal: new TemporalContext({ address: '127.0.0.1:1', namespace: 'default', connectTimeoutMs: 500 } as never),
    env: process.env,
    exitCode: 0,
  } as unknown as CommandContext;
  await gcCommand(ctx, file, opts);
  return out.join('\n');
}

const planFile = (plan: Record<string, unknown>) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cutover-gc-plan-'));
  const file = path.join(dir, 'plan.json');
  writeFileSync(file, JSON.stringify(plan));
  return file;
};

test("file:// store: the next backup attempt removes what a killed one left under its run; gc lists then removes the rest, a scratch database and a finished run's staging", async () => {
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-gc-'));
  const plan = shopPlan('gc-file', { backup: { store: `file://${store}` } });
  const input: StepInput = { plan: validatePlan(plan), runKey: 'gcfile1', workflowId: 'cutover-gc-file', runId: 'r' };
  // A killed attempt of this run: a partial dump and a dump whose sidecar was never written.
  const runDir = path.join(store, 'gc-file', 'gcfile1');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(path.join(runDir, '.20261204T000000000Z-target.dump.0123456789ab.tmp'), 'PGDMP partial');
  writeFileSync(path.join(runDir, '20261204T000000000Z-source.dump'), 'PGDMP complete, no sidecar');
  // Another run of the plan, killed too (not the next attempt's business): gc's.
  const otherDir = path.join(store, 'gc-file', 'gcother');
  mkdirSync(otherDir, { recursive: true });
  const otherPartial = path.join(otherDir, '.20261203T000000000Z-target.dump.ba9876543210.tmp');
  writeFileSync(otherPartial, 'PGDMP partial');
  utimesSync(otherPartial, hourAgo, hourAgo);
  const recent = path.join(otherDir, '.20261203T000000001Z-source.dump.ba9876543211.tmp');
  writeFileSync(recent, 'PGDMP being written');

  await new MockActivityEnvironment().run(backup, input);
  const after = files(runDir);
  expect(after.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  expect(after).not.toContain('20261204T000000000Z-source.dump');
  expect(after.filter((f) => f.endsWith('.dump')).length).toBe(2); // this attempt's target and source dumps
  expect(after.filter((f) => f.endsWith('.dump.meta.json')).length).toBe(2);

  // A scratch database a killed restore left, and the staging schema of a run that finished.
  const scratch = `cutover_restore_gc${process.pid}`;
  made.push(scratch);
  await admin((c) => c.query(`CREATE DATABASE ${scratch}`));
  await withDb(process.env.CUTOVER_DB_PRODUCTION!, ensureControlSchema);
  await rows(
    process.env.CUTOVER_DB_PRODUCTION!,
    `CREATE SCHEMA cutover_stage_gcdone1; CREATE TABLE cutover_stage_gcdone1.t0 (id int);
    INSERT INTO cutover.run (run_key, plan_id, workflow_id, run_id, plan_hash, status, finished_at) VALUES ('gcdone1', 'gc-file', 'cutover-gc-file', 'x', 'h', 'completed', now()),
      ('gc${process.pid}', 'gc-file', 'cutover-gc-file', 'y', 'h', 'aborted', now())`,
  );
  // A scratch database of a run that is not this plan's (another plan, another test on this server): never touched.
  const foreign = `cutover_verify_gcforeign${process.pid}`;
  made.push(foreign);
  await admin((c) => c.query(`CREATE DATABASE ${foreign}`));

  const file = planFile(plan);
  const listed = await cli(file, {});
  expect(listed).toContain(`remove ${scratch}`);
  expect(listed).toContain(`keep   ${foreign}`);
  expect(listed).toContain('remove cutover_stage_gcdone1');
  expect(listed).toContain(`remove partial file file://${otherPartial}`);
  expect(listed).toMatch(/keep {3}partial file .*ba9876543211\.tmp/);
  // Listing changed nothing.
  expect(files(otherDir).length).toBe(2);
  expect(await rows(process.env.CUTOVER_DB_PRODUCTION!, "SELECT 1 FROM pg_namespace WHERE nspname = 'cutover_stage_gcdone1'")).toHaveLength(
    1,
  );

  const applied = await cli(file, { apply: true });
  expect(applied).toContain(`scratch database ${scratch}`);
  expect(await rows(process.env.CUTOVER_DB_PRODUCTION!, 'SELECT 1 FROM pg_database WHERE datname = $1', [scratch])).toEqual([]);
  expect(await rows(process.env.CUTOVER_DB_PRODUCTION!, 'SELECT 1 FROM pg_database WHERE datname = $1', [foreign])).toHaveLength(1);
  expect(await rows(process.env.CUTOVER_DB_PRODUCTION!, "SELECT 1 FROM pg_namespace WHERE nspname = 'cutover_stage_gcdone1'")).toEqual([]);
  expect(files(otherDir)).toEqual([path.basename(recent)]); // the recent one stays (--min-age)
  // The run's own backups are untouched.
  expect(files(runDir)).toEqual(after);
}, 180000);

test("S3 store: the next backup attempt aborts a killed attempt's multipart upload; gc lists another run's by upload id and aborts it with --apply", async () => {
  const client = testS3Client(s3.endpoint);
  const plan = shopPlan('gc-s3', { backup: { store: `s3://${s3.bucket}/gc` } });
  const input: StepInput = { plan: validatePlan(plan), runKey: 'gcs3run', workflowId: 'cutover-gc-s3', runId: 'r' };
  const started = async (key: string) => {
    const up = await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key }));
    await client.send(
      new UploadPartCommand({ Bucket: s3.bucket, Key: key, UploadId: up.UploadId, PartNumber: 1, Body: Buffer.alloc(5 * 1024 * 1024, 7) }),
    );
    return up.UploadId!;
  };
  const uploads = async () =>
    ((await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: 'gc/' }))).Uploads ?? [])
      .map((u) => `${u.Key} ${u.UploadId}`)
      .sort();
  const mine = await started('gc/gc-s3/gcs3run/20261204T000000000Z-target.dump');
  const other = await started('gc/gc-s3/gcother/20261203T000000000Z-target.dump');
  expect(await uploads()).toHaveLength(2);

  await new MockActivityEnvironment().run(backup, input);
  const left = await uploads();
  expect(left.some((u) => u.includes(mine))).toBe(false);
  expect(left).toEqual([`gc/gc-s3/gcother/20261203T000000000Z-target.dump ${other}`]);

  const file = planFile(plan);
  // Just started: kept unless --min-age allows it.
  expect(await cli(file, {})).toContain(
    `keep   multipart upload ${other} of s3://${s3.bucket}/gc/gc-s3/gcother/20261203T000000000Z-target.dump`,
  );
  const applied = await cli(file, { apply: true, minAge: '0' });
  expect(applied).toContain(`multipart upload ${other} of s3://${s3.bucket}/gc/gc-s3/gcother/20261203T000000000Z-target.dump`);
  expect(await uploads()).toEqual([]);
}, 180000);

test('a full file:// store: the failure is final, names the store and the object, and leaves no partial file', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cutover-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
  } catch {
    console.warn('cannot mount a small tmpfs here (not root?): the disk-full case is not exercised');
    return;
  }
  try {
    const store = openStore(`file://${dir}`);
    const e = await store
      .put('p/r/x.dump', Readable.from([Buffer.alloc(1024 * 1024, 1)]), { runKey: 'r', planHash: 'h', createdAt: new Date().toISOString() })
      .then(
        () => null,
        (x: unknown) => x,
      );
    expect(e).toMatchObject({ type: 'BackupError', nonRetryable: true });
    expect((e as Error).message).toContain(
      `backup store file://${dir} is full (ENOSPC): writing backup object file://${dir}/p/r/x.dump failed`,
    );
    expect(files(dir)).toEqual(['p', 'p/r']);
  } finally {
    execFileSync('umount', [dir]);
  }
}, 60000);
