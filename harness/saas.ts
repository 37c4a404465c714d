// A small SaaS schema (accounts → users, projects → events) with test accounts, for integration tests
// and the chaos suite. Owners and event users belong to the project's account, so following
// account_id keeps every FK whole.
import { Client } from 'pg';

async function rows<T = Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

export const SAAS_SCHEMA = `
CREATE TABLE accounts (account_id bigint PRIMARY KEY, name text NOT NULL, plan text, is_test boolean NOT NULL DEFAULT false);
CREATE TABLE users (user_id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts, email text NOT NULL, full_name text);
CREATE TABLE projects (project_id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts, owner_id bigint REFERENCES users, name text NOT NULL, settings jsonb);
CREATE TABLE events (event_id bigserial PRIMARY KEY, project_id bigint NOT NULL REFERENCES projects, user_id bigint REFERENCES users, kind text NOT NULL, payload jsonb, at timestamptz NOT NULL);
`;

export const PILOT_DATA = `
INSERT INTO accounts SELECT g, CASE WHEN g % 5 = 0 THEN 'Test ' || g ELSE 'Account ' || g END, CASE WHEN g % 2 = 0 THEN 'pro' ELSE 'free' END, g % 5 = 0 FROM generate_series(1, 20) g;
INSERT INTO users SELECT g, 1 + (g % 20), 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 60) g;
INSERT INTO projects SELECT g, 1 + (g % 20), (g % 20) + 20, 'Project ' || g, jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b')) FROM generate_series(1, 40) g;
INSERT INTO events (event_id, project_id, user_id, kind, payload, at)
  SELECT g, 1 + (g % 40), ((1 + g % 40) % 20) + 20, CASE WHEN g % 3 = 0 THEN 'click' ELSE 'view' END, jsonb_build_object('i', g), timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute'
  FROM generate_series(1, 500) g;
-- Account 1000 moved in an earlier cutover (production has it) and is not selected again; its new
-- user, project and event follow it there.
INSERT INTO accounts VALUES (1000, 'Migrated earlier', 'pro', true);
INSERT INTO users VALUES (900, 1000, 'late@example.com', 'Late User');
INSERT INTO projects VALUES (900, 1000, 900, 'Late Project', '{}');
INSERT INTO events VALUES (900, 900, 900, 'view', '{}', timestamptz '2026-02-01 00:00:00+00');
`;

export const PRODUCTION_DATA = `
INSERT INTO accounts VALUES (1000, 'Prod One', 'pro', false), (1001, 'Prod Two', 'free', false);
INSERT INTO users VALUES (1000, 1000, 'p1@example.com', 'Prod User');
INSERT INTO projects VALUES (1000, 1000, 1000, 'Prod Project', '{}');
INSERT INTO events VALUES (1000, 1000, 1000, 'view', '{}', now());
SELECT setval('events_event_id_seq', 1000);
`;

/** Primary keys; production's own rows use ids from 1000 up. */
export const PK = { accounts: 'account_id', users: 'user_id', projects: 'project_id', events: 'event_id' } as const;

/** Rows the plan below moves, computed independently of cutover's SQL. */
// A followed parent moves or already exists in production (accounts 1000 and 1001, project 1000 there).
const MOVING_ACCOUNTS = '(SELECT account_id FROM accounts WHERE NOT is_test UNION VALUES (1000), (1001))';
export const EXPECTED = {
  accounts: 'SELECT * FROM accounts WHERE NOT is_test',
  users: `SELECT * FROM users WHERE account_id IN ${MOVING_ACCOUNTS}`,
  projects: `SELECT * FROM projects WHERE account_id IN ${MOVING_ACCOUNTS}`,
  events: `SELECT * FROM events WHERE project_id IN (SELECT project_id FROM projects WHERE account_id IN ${MOVING_ACCOUNTS} UNION VALUES (1000))`,
} as const;

export function saasPlan(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    id,
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['alice', 'bob', 'carol'], required: 2, separationOfDuties: true, timeout: '1h' },
    rehearsal: { mode: 'skip' },
    tables: [
      { table: 'events', select: { follow: ['project_id'] } },
      { table: 'public.accounts', select: { where: [{ column: 'is_test', op: 'eq', value: false }] }, ids: 'keep' },
      { table: 'users', select: { follow: ['account_id'] } },
      { table: 'projects', select: { follow: ['account_id'] } },
    ],
    ...overrides,
  };
}

export const SAAS_TABLES = ['accounts', 'users', 'projects', 'events'] as const;
export type SaasCounts = Record<(typeof SAAS_TABLES)[number], number>;

/** Rows per table of a SaaS database, by the test's own SQL. */
export async function saasCounts(url: string): Promise<SaasCounts> {
  const n = async (t: string) => Number((await rows<{ n: string }>(url, `SELECT count(*)::text AS n FROM ${t}`))[0].n);
  return Object.fromEntries(await Promise.all(SAAS_TABLES.map(async (t) => [t, await n(t)] as const))) as SaasCounts;
}

/** Rows per table the plan below moves from this Pilot (EXPECTED: computed without cutover's SQL). */
export async function expectedMoves(pilot: string): Promise<SaasCounts> {
  return Object.fromEntries(
    await Promise.all(SAAS_TABLES.map(async (t) => [t, (await rows(pilot, EXPECTED[t])).length] as const)),
  ) as SaasCounts;
}

/** Per table, a Production's rows before a run plus the rows it moved. */
export function plusMoved(before: SaasCounts, moved: SaasCounts): SaasCounts {
  return Object.fromEntries(SAAS_TABLES.map((t) => [t, before[t] + moved[t]])) as SaasCounts;
}
