// The backup store on a real directory and a real SeaweedFS S3: streamed put with the sha256 of the
// bytes written, get/head/list, metadata kept, and an existing object never overwritten — by the
// store, and (for S3) by the server itself through If-None-Match, which is what makes it race-free.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { openStore, StoreError, type BackupStore } from '../activities/store';
import { digestOf } from '../activities/store/digest';
import { testS3Client, useSeaweed } from './helpers/seaweed';

const weed = useSeaweed();
const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const meta = { runKey: 'abc123', planHash: 'f'.repeat(64), createdAt: '2026-01-02T03:04:05.000Z', labels: { kind: 'target' } };
// 40 MiB in 1 MiB chunks: more than one 32 MiB part, so S3 takes the multipart path.
const bytes = (seed: number, mib = 40) => Array.from({ length: mib }, (_, i) => Buffer.alloc(1024 * 1024, (seed + i) % 251));
const sha = (chunks: Buffer[]) => createHash('sha256').update(Buffer.concat(chunks)).digest('hex');

const stores: [string, () => BackupStore][] = [
  ['file://', () => openStore(`file://${dir}/backups`)],
  ['s3://', () => openStore(`s3://${weed.bucket}/team/cutover`)],
];

describe.each(stores)('%s store', (kind, open) => {
  test('streams an object in, hashing the bytes written; get, head and list see it with its metadata', async () => {
    const store = open();
    const body = bytes(1);
    let seen = 0;
    const put = await store.put('plan-a/run1/target.dump', Readable.from(body), meta, (n) => (seen = n));
    expect(put.size).toBe(40 * 1024 * 1024);
    expect(seen).toBe(put.size);
    expect(put.meta?.sha256).toBe(sha(body));
    expect(put.url).toBe(
      kind === 'file://' ? `file://${dir}/backups/plan-a/run1/target.dump` : `s3://${weed.bucket}/team/cutover/plan-a/run1/target.dump`,
    );

    expect(await digestOf(await store.get('plan-a/run1/target.dump'))).toEqual({ sha256: sha(body), size: put.size });
    const head = await store.head('plan-a/run1/target.dump');
    expect(head).toMatchObject({ size: put.size, meta: { ...meta, sha256: sha(body), size: put.size } });
    expect(await store.head('plan-a/run1/nothing.dump')).toBeNull();
    await expect(store.get('plan-a/run1/nothing.dump')).rejects.toMatchObject({
      code: 'missing',
      message: expect.stringContaining('nothing.dump does not exist'),
    });

    await store.put('plan-a/run1/source.dump', Readable.from([Buffer.from('small')]), meta);
    expect(await store.list('plan-a/')).toEqual(['plan-a/run1/source.dump', 'plan-a/run1/target.dump']);
  }, 60000);

  test('an existing object is never overwritten, and a refused write leaves it whole', async () => {
    const store = open();
    const first = [Buffer.from('the original backup')];
    await store.put('plan-b/run1/target.dump', Readable.from(first), meta);
    const err = await store.put('plan-b/run1/target.dump', Readable.from(bytes(7, 8)), meta).catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({
      code: 'exists',
      message: expect.stringMatching(/plan-b\/run1\/target\.dump already exists: objects are never overwritten/),
    });
    expect(await digestOf(await store.get('plan-b/run1/target.dump'))).toEqual({ sha256: sha(first), size: first[0].length });
    expect((await store.head('plan-b/run1/target.dump'))?.meta?.sha256).toBe(sha(first));
    if (kind === 'file://')
      expect(readdirSync(path.join(dir, 'backups/plan-b/run1')).sort()).toEqual(['target.dump', 'target.dump.meta.json']);
  });

  test('two writers racing for one key: one wins whole, the other is refused', async () => {
    const store = open();
    const a = bytes(3, 3);
    const b = bytes(5, 3);
    const results = await Promise.allSettled([
      store.put('plan-r/run1/target.dump', Readable.from(a), meta),
      store.put('plan-r/run1/target.dump', Readable.from(b), meta),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: 'exists' });
    const won = results[0].status === 'fulfilled' ? a : b;
    expect(await digestOf(await store.get('plan-r/run1/target.dump'))).toEqual({ sha256: sha(won), size: 3 * 1024 * 1024 });
    expect((await store.head('plan-r/run1/target.dump'))?.meta?.sha256).toBe(sha(won));
  });

  test('a failing source stream leaves no object behind', async () => {
    const store = open();
    async function* failing() {
      yield Buffer.alloc(1024, 1);
      throw new Error('pg_dump died');
    }
    await expect(store.put('plan-c/run1/target.dump', Readable.from(failing()), meta)).rejects.toThrow('pg_dump died');
    expect(await store.head('plan-c/run1/target.dump')).toBeNull();
    expect(await store.list('plan-c/')).toEqual([]);
    if (kind === 'file://') expect(readdirSync(path.join(dir, 'backups/plan-c/run1'))).toEqual([]);
  });

  test('keys cannot escape the store', async () => {
    const store = open();
    for (const key of ['../x', '/abs', 'a//b', 'a/.hidden', 'x.meta.json', '']) {
      expect(() => store.urlOf(key)).toThrow(/backup object key/);
    }
  });
});

test('SeaweedFS itself refuses an overwrite with If-None-Match: *, so no HEAD race can replace a backup', async () => {
  const client = testS3Client(weed.endpoint);
  try {
    const put = (body: string) => client.send(new PutObjectCommand({ Bucket: weed.bucket, Key: 'race/obj', Body: body, IfNoneMatch: '*' }));
    await put('one');
    await expect(put('two')).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
  } finally {
    client.destroy();
  }
});

test('store URLs: bad ones are named; S3 needs keys in the environment', () => {
  expect(() => openStore('ftp://x/y')).toThrow('backup store "ftp://x/y": expected file:///absolute/dir or s3://bucket/prefix');
  expect(() => openStore('file:///')).toThrow('must name an absolute directory below /');
  const saved = process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_ACCESS_KEY_ID;
  try {
    expect(() => openStore('s3://bucket/p')).toThrow(
      "backup store s3://bucket/p: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the worker's environment",
    );
  } finally {
    process.env.AWS_ACCESS_KEY_ID = saved;
  }
});
