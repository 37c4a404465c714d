// The backup store's one interface, whatever holds the bytes (a directory, an S3 bucket). Objects
// are written once and never overwritten: a backup that could be replaced is no evidence.
import type { Readable } from 'node:stream';

/** What the writer knows before the first byte (S3 fixes object metadata when an upload starts). */
export interface PutMeta {
  runKey: string;
  planHash: string;
  createdAt: string; // ISO 8601
  /** Further labels (kind, plan id): short strings, kept with the object. */
  labels?: Record<string, string>;
}

/** Kept in the sidecar `<key>.meta.json`, written once the object is complete and hashed. */
export interface ObjectMeta extends PutMeta {
  sha256: string; // lowercase hex of the object's bytes, computed while they were written
  size: number;
}

export interface StoredObject {
  key: string;
  url: string; // where the object is: s3://bucket/prefix/key or file:///dir/key
  size: number; // as the store reports it now
  /** null when the sidecar is missing: the object was never completed, or was tampered with. */
  meta: ObjectMeta | null;
}

export interface BackupStore {
  /** The store's URL as the plan names it (no secrets). */
  readonly url: string;
  urlOf(key: string): string;
  /** Stream `body` into a new object; refuses (StoreError 'exists') when `key` already exists. */
  put(key: string, body: Readable, meta: PutMeta, onBytes?: (written: number) => void): Promise<StoredObject>;
  /** The object's bytes; StoreError 'missing' when there is none. */
  get(key: string): Promise<Readable>;
  head(key: string): Promise<StoredObject | null>;
  /** Object keys under `prefix` (sidecars and unfinished writes left out), sorted. */
  list(prefix?: string): Promise<string[]>;
  /** What unfinished writes left under `prefix`: partial files, objects without a sidecar, multipart uploads. */
  temporary(prefix?: string): Promise<TemporaryItem[]>;
  /** Remove one such item (abort the upload, delete the partial file or the object). */
  removeTemporary(item: TemporaryItem): Promise<void>;
}

/**
 * Left behind by a write that never finished (a killed worker): `partial` a temp file of the file
 * store (`.<name>.<hex>.tmp`), `incomplete` an object whose sidecar was never written (never used:
 * restore refuses it), `upload` an S3 multipart upload never completed nor aborted (its parts cost
 * storage and hold a copy of the data).
 */
export interface TemporaryItem {
  kind: 'partial' | 'incomplete' | 'upload';
  /** The path relative to the store (partial), the object key (incomplete, upload). */
  name: string;
  location: string;
  /** When it was last written (partial, incomplete) or started (upload), ISO 8601. */
  since: string;
  size?: number;
  uploadId?: string;
}

/** Temp files of the file store: `.<final name>.<12 hex>.tmp` beside their final name. */
export const PARTIAL_FILE = /^\..+\.[0-9a-f]{12}\.tmp$/;

export type StoreErrorCode = 'exists' | 'missing' | 'bad-key' | 'bad-url';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export const SIDECAR_SUFFIX = '.meta.json';

/**
 * Keys are relative paths of plain segments, so one never escapes the store's directory or prefix
 * and never collides with a sidecar or a temp file (those start with a dot or end in .meta.json).
 */
export function checkKey(key: string): void {
  const segs = key.split('/');
  const bad = segs.find((s) => !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(s));
  if (bad !== undefined || key.endsWith(SIDECAR_SUFFIX)) {
    throw new StoreError(
      'bad-key',
      `backup object key ${JSON.stringify(key)} must be /-separated segments of letters, digits, . _ - (not starting with a dot) and not end in ${SIDECAR_SUFFIX}`,
    );
  }
}
