// Connection aliases are resolved here, in the worker, at each use: from CUTOVER_DB_<ALIAS> or from a
// file in CUTOVER_SECRETS_DIR (the way container platforms mount secrets). Nothing is cached across
// activities, so a database pair added while the worker runs is usable at once; within one activity
// an alias keeps the URL it was first resolved to (activities/db/alias-scope.ts), the one whose
// identity was checked. Secrets never enter Temporal: plans and payloads carry aliases only.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { configError } from '../errors';
import { pinnedAlias } from './alias-scope';
import { parseRehearsalAlias } from '../../common/rehearsal-alias';

export function aliasEnvVar(alias: string): string {
  return `CUTOVER_DB_${alias.toUpperCase()}`;
}

/** A URL with its password masked, for messages (the password is the only secret a URL carries). */
export function maskUrl(url: string): string {
  return redactSecrets(url);
}

/** Any text with the passwords of URLs (`scheme://user:password@`) and `password=` pairs masked. */
export function redactSecrets(text: string, secrets: string[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, '$1:***@').replace(/(password=)[^\s&]+/gi, '$1***');
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join('***');
  return out;
}

/** The passwords of a URL, as written and decoded (to redact them from anything quoted). */
export function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    const p = u.password || u.searchParams.get('password') || '';
    return p ? [...new Set([p, decodeURIComponent(p)])] : [];
  } catch {
    return [];
  }
}

/**
 * The secrets file of an alias: `<dir>/<alias>` exactly as the plan writes it (aliases are lower
 * case), else `<dir>/<ALIAS>` (the env var's spelling). Aliases are validated by the plan schema
 * (`[a-z][a-z0-9_]*`); anything else is refused here too, so no alias can name a path outside the dir.
 */
function secretFile(alias: string): string | undefined {
  const dir = process.env.CUTOVER_SECRETS_DIR;
  if (!dir || !/^[A-Za-z][A-Za-z0-9_]*$/.test(alias)) return undefined;
  return [alias, alias.toUpperCase()].map((n) => path.join(dir, n)).find((f) => existsSync(f));
}

/** Where an alias's URL comes from now (for messages), or null when it is not configured. */
function lookup(alias: string): { url: string; from: string } | null {
  const name = aliasEnvVar(alias);
  const env = process.env[name];
  if (env) return { url: env.trim(), from: name };
  const file = secretFile(alias);
  if (file) return { url: readFileSync(file, 'utf8').trim(), from: file };
  return null;
}

/** The URL of an alias, read now (env first, then the secrets file), checked to be a postgres URL. */
export function readAlias(alias: string): string {
  const found = lookup(alias);
  if (!found || !found.url) {
    const dir = process.env.CUTOVER_SECRETS_DIR;
    throw configError(
      `connection alias "${alias}" is not configured: set ${aliasEnvVar(alias)} in the worker's environment` +
        (dir
          ? ` or write its URL to ${path.join(dir, alias)}`
          : ' (or set CUTOVER_SECRETS_DIR to a directory holding a file named after it)'),
    );
  }
  if (!isPostgresUrl(found.url))
    throw configError(`connection alias "${alias}" (${found.from}) is not a postgres:// URL: ${maskUrl(found.url)}`);
  return found.url;
}

function isPostgresUrl(url: string): boolean {
  try {
    return /^postgres(ql)?:$/.test(new URL(url).protocol);
  } catch {
    return false;
  }
}

export function resolveAlias(alias: string): string {
  return pinnedAlias(alias, readAliasOrRehearsal);
}

/**
 * A rehearsal's synthetic target alias (common/rehearsal-alias.ts: `rehearsal:<runKey>:<target>`)
 * is the real target's server and credentials with the scratch database cutover_rehearsal_<runKey>:
 * any worker resolves it the same way (the step activities of the rehearsal run wherever Temporal
 * puts them), and only a workflow can name it (a plan's aliases are `[a-z][a-z0-9_]*`).
 */
function readAliasOrRehearsal(alias: string): string {
  const synthetic = parseRehearsalAlias(alias);
  return synthetic ? urlWithDatabase(readAlias(synthetic.target), synthetic.database) : readAlias(alias);
}

/** The same server and credentials as `url`, another database. */
export function urlWithDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  u.searchParams.delete('dbname');
  return u.toString();
}

export async function connect(url: string, appName = 'cutover'): Promise<Client> {
  const client = new Client({ connectionString: url, application_name: appName });
  // A connection the server ends (pg_terminate_backend, failover, idle timeout) emits 'error'; with
  // no listener that kills the whole worker. The running query rejects and later ones fail "not
  // queryable", so the activity fails and retries instead.
  client.on('error', () => undefined);
  await client.connect();
  tagErrorsWithDatabase(client);
  // Hash joins over staged keys want more than the 4MB default; ISO dates make COPY text unambiguous.
  // No JIT: staging tables are read before autovacuum analyzes them, so estimates run to millions of
  // rows and the server spends more compiling a statement (0.9 s of validate's 1 s per table, measured)
  // than running it; every statement here is one pass over what moves, which JIT cannot shorten.
  await client.query(
    `SET work_mem = '${/^\d+(kB|MB|GB)$/.test(process.env.CUTOVER_WORK_MEM ?? '') ? process.env.CUTOVER_WORK_MEM : '64MB'}'; SET DateStyle = ISO; SET jit = off`,
  );
  return client;
}

/**
 * A failing statement's error names the database it ran in (`database`): a read-only or full
 * database is reported by name (activities/db/pg-errors.ts), whichever of the run's it is.
 */
function tagErrorsWithDatabase(client: Client): void {
  const database = client.database ?? '';
  const query = client.query.bind(client) as (...a: unknown[]) => unknown;
  (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    const r = query(...a);
    if (!(r instanceof Promise)) return r;
    return r.catch((e: unknown) => {
      if (e instanceof Error && !('database' in e)) Object.assign(e, { database });
      throw e;
    });
  };
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
