// On-call accepts a database that legitimately moved (resume retry --accept-database <alias>): the
// run had refused it as another database (activities/db/alias-identity.ts). This reads the identity
// the alias reaches now, for the workflow to record next to the one preflight saw and to check from
// then on. Only an alias the run uses; the input carries no recorded identities (nothing to check yet).
import type { Plan } from '../plan/schema';
import type { DatabaseIdentity } from '../common/results';
import { identityOf, runAliases } from './db/alias-identity';
import { configError } from './errors';

export async function databaseIdentity(input: { plan: Plan; alias: string }): Promise<DatabaseIdentity> {
  const aliases = runAliases(input.plan);
  if (!aliases.includes(input.alias))
    throw configError(`connection alias "${input.alias}" is not one this run uses (${aliases.join(', ')})`);
  return identityOf(input.alias);
}
