// A throwaway database on the target's server, for proving a backup restores and for rehearsals.
// Made and dropped with SQL through the server's `postgres` database; dropped first if an earlier
// attempt left it behind. withScratchDatabase always drops it, also when the work in it fails; the
// rehearsal creates and drops it in separate activities (its workflow drops it in all cases).
import { configError } from '../errors';
import { connect, ident, urlWithDatabase } from './connect';

export { urlWithDatabase };

async function onServer(url: string, sql: string): Promise<void> {
  const admin = await connect(urlWithDatabase(url, 'postgres'), 'cutover:scratch');
  try {
    await admin.query(sql);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Drop it if there (connections to it ended: WITH FORCE). */
export async function dropScratchDatabase(serverUrl: string, name: string): Promise<void> {
  await onServer(serverUrl, `DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
}

/** A new empty database `name` (an earlier attempt's dropped first); its URL. */
export async function createScratchDatabase(serverUrl: string, name: string): Promise<string> {
  await dropScratchDatabase(serverUrl, name);
  // template0: nothing the server's template1 holds can collide with the restored schema.
  await onServer(serverUrl, `CREATE DATABASE ${ident(name)} TEMPLATE template0`).catch((e) => {
    // Retrying cannot grant a right: say which one is missing.
    if ((e as { code?: string }).code === '42501')
      throw configError(
        `cannot create scratch database ${name} on the target's server: its user needs the CREATEDB right (${(e as Error).message})`,
      );
    throw e;
  });
  return urlWithDatabase(serverUrl, name);
}

export async function withScratchDatabase<T>(serverUrl: string, name: string, fn: (url: string) => Promise<T>): Promise<T> {
  const url = await createScratchDatabase(serverUrl, name);
  let failed = false;
  try {
    return await fn(url);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    // A failed drop must not hide why the work failed; after success it is the error.
    await dropScratchDatabase(serverUrl, name).catch((e) => {
      if (!failed) throw e;
    });
  }
}
