// Open the backup store a plan's `backup.store` names: file:///abs/dir or s3://bucket/prefix.
// Credentials come from the worker's environment (AWS_*), never from the plan.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore } from './file';
import { S3Store, s3ClientFromEnv } from './s3';
import { StoreError, type BackupStore } from './types';

export * from './types';

export function openStore(url: string): BackupStore {
  if (url.startsWith('file://')) {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (e) {
      throw new StoreError('bad-url', `backup store ${url}: ${(e as Error).message}`);
    }
    if (!path.isAbsolute(dir) || dir === path.parse(dir).root)
      throw new StoreError('bad-url', `backup store ${url}: must name an absolute directory below /`);
    return new FileStore(url, path.normalize(dir).replace(/\/+$/, ''));
  }
  const m = /^s3:\/\/([^/\s]+)(?:\/(\S*))?$/.exec(url);
  if (m) {
    const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
    if (prefix.split('/').some((s) => s === '.' || s === '..'))
      throw new StoreError('bad-url', `backup store ${url}: the prefix must not contain . or .. segments`);
    return new S3Store(url, s3ClientFromEnv(url), m[1], prefix.replace(/\/{2,}/g, '/'));
  }
  throw new StoreError('bad-url', `backup store ${JSON.stringify(url)}: expected file:///absolute/dir or s3://bucket/prefix`);
}
