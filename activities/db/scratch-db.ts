// A throwaway database on the target's server, for proving a backup restores (and later for
// rehearsals). Made and dropped with SQL through the server's `postgres` database; always dropped,
// also when the work in it fails, and dropped first if an earlier attempt left it behind.
import { configError } from '../errors';
import { connect, ident } from './connect';

/** The same server and credentials as `url`, another database. */
export function urlWithDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  u.searchParams.delete('dbname');
  return u.toString();
}

async function onServer(url: string, sql: string): Promise<void> {
  const admin = await connect(urlWithDatabase(url, 'postgres'), 'cutover:scratch');
  try {
    await admin.query(sql);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

export async function withScratchDatabase<T>(serverUrl: string, name: string, fn: (url: string) => Promise<T>): Promise<T> {
  const drop = `DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`;
  await onServer(serverUrl, drop);
  // template0: nothing the server's template1 holds can collide with the restored schema.
  await onServer(serverUrl, `CREATE DATABASE ${ident(name)} TEMPLATE template0`).catch((e) => {
    // Retrying cannot grant a right: say which one is missing.
    if ((e as { code?: string }).code === '42501')
      throw configError(
        `cannot create scratch database ${name} on the target's server: its user needs the CREATEDB right (${(e as Error).message})`,
      );
    throw e;
  });
  let failed = false;
  try {
    return await fn(urlWithDatabase(serverUrl, name));
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    // A failed drop must not hide why the work failed; after success it is the error.
    await onServer(serverUrl, drop).catch((e) => {
      if (!failed) throw e;
    });
  }
}
