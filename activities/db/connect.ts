// Connection aliases are resolved here, in the worker, from its environment: secrets never enter Temporal.
import { Client } from 'pg';
import { configError } from '../errors';

export function aliasEnvVar(alias: string): string {
  return `CUTOVER_DB_${alias.toUpperCase()}`;
}

/**
 * Aliases pointed elsewhere in this process only (a rehearsal points a synthetic target alias at
 * its scratch database): the URL stays in the worker, the step code sees an alias as always.
 */
const overrides = new Map<string, string>();

export async function withAliasOverride<T>(alias: string, url: string, fn: () => Promise<T>): Promise<T> {
  if (overrides.has(alias)) throw new Error(`connection alias "${alias}" is already overridden in this worker`);
  overrides.set(alias, url);
  try {
    return await fn();
  } finally {
    overrides.delete(alias);
  }
}

export function resolveAlias(alias: string): string {
  const override = overrides.get(alias);
  if (override) return override;
  const name = aliasEnvVar(alias);
  const url = process.env[name];
  if (!url) throw configError(`connection alias "${alias}" is not configured: set ${name} in the worker's environment`);
  return url;
}

export async function connect(url: string, appName = 'cutover'): Promise<Client> {
  const client = new Client({ connectionString: url, application_name: appName });
  // A connection the server ends (pg_terminate_backend, failover, idle timeout) emits 'error'; with
  // no listener that kills the whole worker. The running query rejects and later ones fail "not
  // queryable", so the activity fails and retries instead.
  client.on('error', () => undefined);
  await client.connect();
  // Hash joins over staged keys want more than the 4MB default; ISO dates make COPY text unambiguous.
  await client.query(`SET work_mem = '${/^\d+(kB|MB|GB)$/.test(process.env.CUTOVER_WORK_MEM ?? '') ? process.env.CUTOVER_WORK_MEM : '64MB'}'; SET DateStyle = ISO`);
  return client;
}

export async function withClient<T>(alias: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = await connect(resolveAlias(alias), `cutover:${alias}`);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Quote an identifier that was validated against the catalog. */
export function ident(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function qualified(schema: string, table: string): string {
  return `${ident(schema)}.${ident(table)}`;
}
