// A backup store in a local (or mounted) directory, for file:///abs/dir. Each object is streamed to
// a hidden temp name in its final directory, fsynced, then hard-linked to its name: link() fails
// when the name exists, so publishing is atomic and never overwrites (rename() would replace).
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { Digest } from './digest';
import { storeWriteFailure } from './write-errors';
import {
  checkKey,
  PARTIAL_FILE,
  SIDECAR_SUFFIX,
  StoreError,
  type BackupStore,
  type ObjectMeta,
  type PutMeta,
  type StoredObject,
  type TemporaryItem,
} from './types';

const isCode = (e: unknown, code: string) => (e as NodeJS.ErrnoException)?.code === code;

export class FileStore implements BackupStore {
  constructor(
    readonly url: string,
    private readonly dir: string,
  ) {}

  urlOf(key: string): string {
    return pathToFileURL(this.pathOf(key)).href;
  }

  private pathOf(key: string): string {
    checkKey(key);
    return path.join(this.dir, key);
  }

  async put(key: string, body: Readable, meta: PutMeta, onBytes?: (n: number) => void): Promise<StoredObject> {
    const final = this.pathOf(key);
    await mkdir(path.dirname(final), { recursive: true }).catch((e) => {
      throw storeWriteFailure(e, this.url, this.urlOf(key));
    });
    // Fail before streaming a whole dump; the link below is what guarantees no overwrite.
    if (await this.head(key)) throw this.exists(this.urlOf(key));
    const digest = new Digest(onBytes);
    try {
      await publish(
        final,
        (tmp) => pipeline(body, digest, createWriteStream(tmp, { flags: 'wx' })),
        () => this.exists(this.urlOf(key)),
      );
      const full: ObjectMeta = { ...meta, sha256: digest.hex(), size: digest.bytes };
      await publish(
        final + SIDECAR_SUFFIX,
        (tmp) => writeFile(tmp, JSON.stringify(full, null, 1) + '\n', { flag: 'wx' }),
        () => this.exists(pathToFileURL(final + SIDECAR_SUFFIX).href),
      );
      await syncDir(path.dirname(final));
      return { key, url: this.urlOf(key), size: digest.bytes, meta: full };
    } catch (e) {
      throw storeWriteFailure(e, this.url, this.urlOf(key));
    }
  }

  async get(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    try {
      await stat(file); // a missing object is an error now, not a stream error later
      return createReadStream(file);
    } catch (e) {
      if (isCode(e, 'ENOENT')) throw new StoreError('missing', `backup object ${this.urlOf(key)} does not exist`);
      throw e;
    }
  }

  async head(key: string): Promise<StoredObject | null> {
    const file = this.pathOf(key);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (e) {
      if (isCode(e, 'ENOENT')) return null;
      throw e;
    }
    let meta: ObjectMeta | null = null;
    try {
      meta = JSON.parse(await readFile(file + SIDECAR_SUFFIX, 'utf8')) as ObjectMeta;
    } catch (e) {
      if (!isCode(e, 'ENOENT') && !(e instanceof SyntaxError)) throw e;
    }
    return { key, url: this.urlOf(key), size, meta };
  }

  /** Every path below the store's folder (none when the folder does not exist yet). */
  private async entries(): Promise<string[]> {
    try {
      return await readdir(this.dir, { recursive: true });
    } catch (e) {
      if (isCode(e, 'ENOENT')) return [];
      throw e;
    }
  }

  async list(prefix = ''): Promise<string[]> {
    const names = await this.entries();
    const keys: string[] = [];
    for (const n of names) {
      const key = n.split(path.sep).join('/');
      if (!key.startsWith(prefix) || key.endsWith(SIDECAR_SUFFIX) || key.split('/').some((s) => s.startsWith('.'))) continue;
      if ((await stat(path.join(this.dir, n))).isFile()) keys.push(key);
    }
    return keys.sort();
  }

  async temporary(prefix = ''): Promise<TemporaryItem[]> {
    const names = await this.entries();
    const all = new Set(names.map((n) => n.split(path.sep).join('/')));
    const out: TemporaryItem[] = [];
    for (const name of [...all].sort()) {
      if (!name.startsWith(prefix)) continue;
      const base = name.split('/').pop()!;
      const partial = PARTIAL_FILE.test(base);
      // An object (not hidden, not a sidecar) whose sidecar is missing: the write stopped between the two.
      const incomplete =
        !partial && !name.split('/').some((s) => s.startsWith('.')) && !name.endsWith(SIDECAR_SUFFIX) && !all.has(name + SIDECAR_SUFFIX);
      if (!partial && !incomplete) continue;
      const st = await stat(path.join(this.dir, name)).catch(() => null);
      if (!st?.isFile()) continue;
      out.push({
        kind: partial ? 'partial' : 'incomplete',
        name,
        location: pathToFileURL(path.join(this.dir, name)).href,
        since: st.mtime.toISOString(),
        size: st.size,
      });
    }
    return out;
  }

  async removeTemporary(item: TemporaryItem): Promise<void> {
    const segs = item.name.split('/');
    if (segs.some((s) => s === '..' || s === '') || (item.kind === 'partial' && !PARTIAL_FILE.test(segs[segs.length - 1]))) {
      throw new StoreError('bad-key', `not a temporary item of ${this.url}: ${item.name}`);
    }
    await rm(path.join(this.dir, item.name), { force: true });
  }

  private exists(url: string): StoreError {
    return new StoreError('exists', `backup object ${url} already exists: objects are never overwritten`);
  }
}

/** Write through `fill` into a temp file beside `final`, fsync, then link it to `final` (never replacing). */
async function publish(final: string, fill: (tmp: string) => Promise<void>, exists: () => Error): Promise<void> {
  const tmp = path.join(path.dirname(final), `.${path.basename(final)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fill(tmp);
    const fh = await open(tmp, 'r+');
    await fh.sync().finally(() => fh.close());
    await link(tmp, final).catch((e) => {
      throw isCode(e, 'EEXIST') ? exists() : e;
    });
  } finally {
    await rm(tmp, { force: true });
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
