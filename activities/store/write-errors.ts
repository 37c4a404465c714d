// A write into the backup store that failed because the store cannot take it: a full disk or quota
// (ENOSPC, EDQUOT, S3's 507 / quota errors) or a read-only one (EROFS, EACCES on a read-only mount).
// No retry helps until a person frees space or remounts: the failure is final (the run pauses) and
// names the store and the object. Other errors pass through unchanged (retried as transient).
import { ApplicationFailure } from '@temporalio/common';

const FS_FINAL: Record<string, string> = { ENOSPC: 'is full', EDQUOT: 'is over its quota', EROFS: 'is read-only' };
const S3_FINAL = /QuotaExceeded|StorageFull|InsufficientStorage|EntityTooLarge/i;

type AnyError = { code?: string; name?: string; $metadata?: { httpStatusCode?: number }; message?: string };

/** Why the store cannot take a write, or undefined when `e` is something else. */
export function storeFullOrReadOnly(e: unknown): string | undefined {
  const x = e as AnyError | null;
  if (!x || typeof x !== 'object') return undefined;
  if (x.code && FS_FINAL[x.code]) return FS_FINAL[x.code];
  if (x.$metadata?.httpStatusCode === 507 || S3_FINAL.test(x.name ?? '')) return 'is full or over its quota';
  return undefined;
}

/** `e` as a final failure naming the store and the object when the store is full or read-only; else `e`. */
export function storeWriteFailure(e: unknown, store: string, object: string): unknown {
  const why = storeFullOrReadOnly(e);
  if (!why) return e;
  const code = (e as AnyError).code ?? (e as AnyError).name ?? String((e as AnyError).$metadata?.httpStatusCode ?? '');
  return ApplicationFailure.create({
    type: 'BackupError',
    nonRetryable: true,
    message: `backup store ${store} ${why} (${code}): writing backup object ${object} failed (an incomplete object has no sidecar and is never used; cutover gc lists it). Free space (or make the store writable) and resume with retry`,
    details: [{ store, object, code }],
    cause: e instanceof Error ? e : undefined,
  });
}
