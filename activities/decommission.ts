// clean-start's last step (plan `decommission: readonly`): the archived Pilot database is set
// read-only for every new session (ALTER DATABASE … SET default_transaction_read_only = on), and
// checked from a new connection. Its compensation (`recommission`) resets the setting, so a
// rollback hands the Pilot back exactly as it was. Sessions already open keep their setting until
// they reconnect: the result says so.
import type { DecommissionInput, DecommissionResult } from '../common/results';
import { connect, ident, resolveAlias, withClient } from './db/connect';
import { planIssue } from './errors';

async function readOnlyFromNewSession(url: string): Promise<string> {
  const c = await connect(url, 'cutover:decommission-check');
  try {
    return (await c.query<{ v: string }>("SELECT current_setting('default_transaction_read_only') AS v")).rows[0].v;
  } finally {
    await c.end();
  }
}

async function setReadOnly(input: DecommissionInput, on: boolean): Promise<DecommissionResult> {
  if (input.plan.strategy !== 'clean-start') throw planIssue('decommission', 'only a clean-start run decommissions its Pilot');
  const url = resolveAlias(input.plan.source);
  const database = await withClient(input.plan.source, async (c) => {
    const name = (await c.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d;
    // A new session of a decommissioned database is read-only itself: undoing needs this one writable.
    await c.query('SET default_transaction_read_only = off');
    await c.query(`ALTER DATABASE ${ident(name)} ${on ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`);
    return name;
  });
  const seen = await readOnlyFromNewSession(url);
  if (seen !== (on ? 'on' : 'off'))
    throw planIssue('decommission', `${database} reports default_transaction_read_only = ${seen} from a new session`);
  return {
    database,
    readOnly: on,
    at: new Date().toISOString(),
    note: on
      ? `new sessions of ${database} are read-only (sessions already open keep writing until they reconnect); undo: ALTER DATABASE ${ident(database)} RESET default_transaction_read_only`
      : `${database} accepts writes again`,
  };
}

export const decommission = (input: DecommissionInput) => setReadOnly(input, true);
export const recommission = (input: DecommissionInput) => setReadOnly(input, false);
