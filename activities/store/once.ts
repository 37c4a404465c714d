// Write a small object into the backup store exactly once, idempotently: when the key already holds
// these very bytes (an activity retry, a second finalize with the same pack) that is success; when
// it holds other bytes, the object is never overwritten — the bytes go under a key named by their
// own sha256 instead (a later, different pack of the same run), so no retry can fail on "exists".
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { digestOf } from './digest';
import { StoreError, type BackupStore, type PutMeta } from './types';

export interface PutOnceResult {
  key: string;
  location: string;
  sha256: string;
  size: number;
  /** false when an identical object was already there. */
  written: boolean;
}

async function sameBytes(store: BackupStore, key: string, sha256: string): Promise<boolean | null> {
  if (!(await store.head(key))) return null;
  return (await digestOf(await store.get(key))).sha256 === sha256;
}

async function tryPut(store: BackupStore, key: string, bytes: Buffer, sha256: string, meta: PutMeta): Promise<PutOnceResult | null> {
  const done = (written: boolean): PutOnceResult => ({ key, location: store.urlOf(key), sha256, size: bytes.length, written });
  const same = await sameBytes(store, key, sha256);
  if (same !== null) return same ? done(false) : null;
  try {
    await store.put(key, Readable.from([bytes]), meta);
    return done(true);
  } catch (e) {
    if (!(e instanceof StoreError && e.code === 'exists')) throw e;
    return (await sameBytes(store, key, sha256)) ? done(false) : null; // a concurrent writer won
  }
}

/** `key` = dir/name.ext; a different object already there sends these bytes to dir/name-<sha256 prefix>.ext. */
export async function putOnce(store: BackupStore, key: string, bytes: Buffer, meta: PutMeta): Promise<PutOnceResult> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const first = await tryPut(store, key, bytes, sha256, meta);
  if (first) return first;
  const alt = key.replace(/(\.[^./]*)?$/, (ext) => `-${sha256.slice(0, 16)}${ext}`);
  const second = await tryPut(store, alt, bytes, sha256, meta);
  if (second) return second;
  throw new StoreError('exists', `backup object ${store.urlOf(alt)} holds other bytes than its name says: refusing to overwrite it`);
}
