// Throwaway databases on the real PostgreSQL server; every test file makes and drops its own.
import { Client } from 'pg';

export const PG_ADMIN = process.env.CUTOVER_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function dbUrl(name: string): string {
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createDb(name: string, sql: string): Promise<string> {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${name}"`);
  });
  await withDb(dbUrl(name), (c) => c.query(sql));
  return dbUrl(name);
}

export async function dropDb(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export async function withDb<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function rows<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return withDb(url, async (c) => (await c.query(sql, params)).rows as T[]);
}

export const uniqueName = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}`;

/**
 * A role the plan's access checks may run as (accessCheckRole): SELECT on public's tables only.
 * Roles are cluster-wide, so each test file makes its own; `sql` goes into a database before the
 * run's access snapshot (a grant added later would fail the built-in grants check), `drop` at the end.
 */
export function checkerRole(prefix: string): { name: string; sql: string; drop(): Promise<void> } {
  const name = uniqueName(`${prefix}_chk`).slice(0, 63);
  return {
    name,
    sql: `
      DO $$ BEGIN CREATE ROLE "${name}" NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
      GRANT USAGE ON SCHEMA public TO "${name}"; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${name}";`,
    async drop() {
      const dbs = await admin(
        async (c) =>
          (
            await c.query<{ datname: string }>(
              'SELECT DISTINCT d.datname FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.refobjid WHERE r.rolname = $1',
              [name],
            )
          ).rows,
      );
      for (const { datname } of dbs) await withDb(dbUrl(datname), (c) => c.query(`DROP OWNED BY "${name}"`)).catch(() => undefined);
      await admin((c) => c.query(`DROP ROLE IF EXISTS "${name}"`));
    },
  };
}
