// Is an alias still the database the run started with? Preflight records, per alias it used, the
// server's system identifier and the database's oid; every later activity compares before it does
// anything (activities/interceptor.ts). Two workers on one task queue whose PRODUCTION differ would
// otherwise split one run between two databases and report it completed; this way the misconfigured
// worker refuses with a final ConfigError naming both databases, and the run pauses.
import type { Plan } from '../../plan/schema';
import type { DatabaseIdentity } from '../../common/results';
import { movedDatabaseMessage } from '../../common/failures';
import { configError } from '../errors';
import { connect, resolveAlias } from './connect';

/** The aliases a run of this plan opens: adopt and clean-start never open Production. */
export function runAliases(plan: Pick<Plan, 'strategy' | 'source' | 'target'>): string[] {
  return plan.strategy === 'selective' ? [plan.source, plan.target] : [plan.source];
}

function server(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return '?';
  }
}

/** The identity of the database `alias` reaches now (one short connection). */
export async function identityOf(alias: string): Promise<DatabaseIdentity> {
  const url = resolveAlias(alias);
  const c = await connect(url, `cutover:${alias}:identity`);
  try {
    const { rows } = await c.query<{ sid: string; oid: number; db: string }>(
      'SELECT (SELECT system_identifier::text FROM pg_control_system()) AS sid, d.oid::int AS oid, d.datname AS db FROM pg_database d WHERE d.datname = current_database()',
    );
    return { systemIdentifier: rows[0].sid, databaseOid: rows[0].oid, database: rows[0].db, server: server(url) };
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function identitiesOf(aliases: string[]): Promise<Record<string, DatabaseIdentity>> {
  const out: Record<string, DatabaseIdentity> = {};
  for (const a of [...new Set(aliases)]) out[a] = await identityOf(a);
  return out;
}

export const describeIdentity = (i: DatabaseIdentity) =>
  `database ${i.database} on ${i.server} (system identifier ${i.systemIdentifier}, oid ${i.databaseOid})`;

/** Why the database `alias` reaches now is not the one recorded, or null when it is. */
export function identityMismatch(alias: string, recorded: DatabaseIdentity, now: DatabaseIdentity): string | null {
  if (recorded.systemIdentifier === now.systemIdentifier && recorded.databaseOid === now.databaseOid) return null;
  return (
    `${movedDatabaseMessage(alias)}${describeIdentity(now)}, but this run started on ${describeIdentity(recorded)}: ` +
    `this worker refuses the task (fix CUTOVER_DB_${alias.toUpperCase()} or its secrets file on this worker, then retry; ` +
    `if the database itself moved, retry with --accept-database ${alias})`
  );
}

/** Throws a final ConfigError when any recorded alias now reaches another database. */
export async function checkIdentities(recorded: Record<string, DatabaseIdentity>): Promise<void> {
  for (const [alias, was] of Object.entries(recorded)) {
    const why = identityMismatch(alias, was, await identityOf(alias));
    if (why) throw configError(why);
  }
}
