// A backup store in an S3 bucket, for s3://bucket/prefix: AWS S3 or any S3-compatible server
// (SeaweedFS in the tests and the demo). Dumps stream up as a multipart upload (lib-storage), so
// no temp file of the dump's size exists anywhere. Writes carry If-None-Match: * (SeaweedFS honours
// it, tested), so an existing object is never replaced; a HEAD first fails before streaming a dump.
// S3 fixes user metadata when an upload starts, before the hash is known: the sha256 and size go
// into a sidecar `<key>.meta.json`, written once the upload is complete.
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { configError } from '../errors';
import { Digest } from './digest';
import { storeWriteFailure } from './write-errors';
import {
  checkKey,
  SIDECAR_SUFFIX,
  StoreError,
  type BackupStore,
  type ObjectMeta,
  type PutMeta,
  type StoredObject,
  type TemporaryItem,
} from './types';

// 32 MiB parts, two in flight: 64 MiB of memory, and room for 320 GiB within S3's 10 000 parts.
const PART_SIZE = 32 * 1024 * 1024;
const QUEUE_SIZE = 2;

const clients = new Map<string, S3Client>();

/**
 * From the worker's standard AWS variables; static keys only, so no instance-metadata probing.
 * One client per configuration, kept: each holds a pool of keep-alive connections.
 */
export function s3ClientFromEnv(storeUrl: string): S3Client {
  const env = process.env;
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) {
    throw configError(`backup store ${storeUrl}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the worker's environment`);
  }
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const credentials = {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    sessionToken: env.AWS_SESSION_TOKEN || undefined,
  };
  const id = JSON.stringify([region, endpoint, credentials]);
  let client = clients.get(id);
  if (!client) {
    client = new S3Client({
      region,
      endpoint,
      forcePathStyle: endpoint !== undefined, // S3-compatible servers rarely serve bucket subdomains
      credentials,
      // The SDK's default CRC checksums are refused by many non-AWS servers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    clients.set(id, client);
  }
  return client;
}

type AwsError = { name?: string; $metadata?: { httpStatusCode?: number } };
const status = (e: unknown) => (e as AwsError)?.$metadata?.httpStatusCode;
const named = (e: unknown, ...names: string[]) => names.includes((e as AwsError)?.name ?? '');

export class S3Store implements BackupStore {
  constructor(
    readonly url: string,
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string, // without leading or trailing '/'
  ) {}

  private objectKey(key: string): string {
    checkKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  urlOf(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }

  async put(key: string, body: Readable, meta: PutMeta, onBytes?: (n: number) => void): Promise<StoredObject> {
    const Key = this.objectKey(key);
    if (await this.head(key)) throw this.exists(this.urlOf(key));
    const digest = new Digest(onBytes);
    const upload = new Upload({
      client: this.client,
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false, // abort the multipart upload: no half object, no orphaned parts
      params: {
        Bucket: this.bucket,
        Key,
        Body: digest,
        IfNoneMatch: '*',
        ContentType: 'application/octet-stream',
        Metadata: { 'run-key': meta.runKey, 'plan-hash': meta.planHash, 'created-at': meta.createdAt, ...meta.labels },
      },
    });
    const feeding = pipeline(body, digest);
    try {
      await Promise.all([upload.done(), feeding]);
    } catch (e) {
      body.destroy();
      digest.destroy();
      await upload.abort().catch(() => undefined);
      await feeding.catch(() => undefined);
      throw this.mapWriteError(e, this.urlOf(key));
    }
    const full: ObjectMeta = { ...meta, sha256: digest.hex(), size: digest.bytes };
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: Key + SIDECAR_SUFFIX,
          Body: JSON.stringify(full, null, 1) + '\n',
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
    } catch (e) {
      throw this.mapWriteError(e, this.urlOf(key) + SIDECAR_SUFFIX);
    }
    return { key, url: this.urlOf(key), size: digest.bytes, meta: full };
  }

  async get(key: string): Promise<Readable> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return res.Body as Readable;
    } catch (e) {
      if (named(e, 'NoSuchKey', 'NotFound') || status(e) === 404)
        throw new StoreError('missing', `backup object ${this.urlOf(key)} does not exist`);
      throw e;
    }
  }

  async head(key: string): Promise<StoredObject | null> {
    let size: number;
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      size = res.ContentLength ?? 0;
    } catch (e) {
      if (named(e, 'NotFound', 'NoSuchKey') || status(e) === 404) return null;
      throw e;
    }
    let meta: ObjectMeta | null = null;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) + SIDECAR_SUFFIX }));
      meta = JSON.parse(await res.Body!.transformToString('utf8')) as ObjectMeta;
    } catch (e) {
      if (!named(e, 'NoSuchKey', 'NotFound') && status(e) !== 404 && !(e instanceof SyntaxError)) throw e;
    }
    return { key, url: this.urlOf(key), size, meta };
  }

  async list(prefix = ''): Promise<string[]> {
    const base = this.prefix ? `${this.prefix}/` : '';
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: base + prefix })) {
      for (const o of page.Contents ?? []) {
        const key = o.Key!.slice(base.length);
        if (!key.endsWith(SIDECAR_SUFFIX)) keys.push(key);
      }
    }
    return keys.sort();
  }

  async temporary(prefix = ''): Promise<TemporaryItem[]> {
    const base = this.prefix ? `${this.prefix}/` : '';
    const out: TemporaryItem[] = [];
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: base + prefix, KeyMarker, UploadIdMarker }),
      );
      for (const u of page.Uploads ?? []) {
        out.push({
          kind: 'upload',
          name: u.Key!.slice(base.length),
          location: `s3://${this.bucket}/${u.Key}`,
          since: (u.Initiated ?? new Date(0)).toISOString(),
          uploadId: u.UploadId,
        });
      }
      if (!page.IsTruncated) break;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
    // Objects whose sidecar was never written: the upload completed, the process died before the sidecar.
    const objects = new Map<string, { size: number; at: Date }>();
    for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: base + prefix })) {
      for (const o of page.Contents ?? []) objects.set(o.Key!.slice(base.length), { size: o.Size ?? 0, at: o.LastModified ?? new Date(0) });
    }
    for (const [key, o] of objects) {
      if (key.endsWith(SIDECAR_SUFFIX) || objects.has(key + SIDECAR_SUFFIX)) continue;
      out.push({ kind: 'incomplete', name: key, location: `s3://${this.bucket}/${base}${key}`, since: o.at.toISOString(), size: o.size });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async removeTemporary(item: TemporaryItem): Promise<void> {
    const Key = this.objectKey(item.name);
    if (item.kind === 'upload')
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: item.uploadId }));
    else await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
  }

  private exists(url: string): StoreError {
    return new StoreError('exists', `backup object ${url} already exists: objects are never overwritten`);
  }

  private mapWriteError(e: unknown, url: string): unknown {
    // 412: If-None-Match refused (the object exists); 409: another writer is completing the same key.
    if (named(e, 'PreconditionFailed', 'ConditionalRequestConflict') || status(e) === 412 || status(e) === 409) return this.exists(url);
    if (named(e, 'NoSuchBucket')) return configError(`backup store ${this.url}: bucket "${this.bucket}" does not exist`);
    const final = storeWriteFailure(e, this.url, url);
    if (final !== e) return final;
    // Transient (retried), but it still says which object the store failed to take.
    if (e instanceof Error && !e.message.includes(url)) e.message = `backup store ${this.url}: writing ${url} failed: ${e.message}`;
    return e;
  }
}
