// Whether the role an access check would run as is safe to run user SQL as: the plan's
// accessCheckRole must hold no superuser, CREATEROLE, CREATEDB or BYPASSRLS attribute, no membership
// of the roles that reach the server's files, programs or other sessions, and no write privilege on
// any table; without one, the worker's own role is used, which may write (it publishes) but must not
// be a superuser or reach files and programs. A refusal says how to create a role that passes.
import type { Client } from 'pg';

/** Predefined roles that give a session the server's files, programs, every table, or other sessions. */
const DANGEROUS_MEMBERSHIPS = [
  'pg_execute_server_program',
  'pg_read_server_files',
  'pg_write_server_files',
  'pg_write_all_data',
  'pg_signal_backend',
];
const SHOWN_TABLES = 5;

interface RoleFacts {
  rolname: string;
  rolsuper: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolbypassrls: boolean;
  dangerous: string[];
  writable: string[];
  member: boolean;
}

/** The SQL a person runs once to give cutover a role its checks may run as. */
export function createRoleSql(role = 'cutover_checker'): string {
  return [
    `CREATE ROLE ${role} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;`,
    `GRANT USAGE ON SCHEMA public TO ${role};`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role};`,
    `GRANT ${role} TO CURRENT_USER;`,
  ].join(' ');
}

async function facts(db: Client, role: string | null): Promise<RoleFacts | undefined> {
  const res = await db.query<RoleFacts>(
    `SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,
            ARRAY(SELECT d FROM unnest($2::text[]) d WHERE pg_has_role(r.oid, d, 'MEMBER')) AS dangerous,
            ARRAY(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
                     AND (has_table_privilege(r.oid, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') OR has_any_column_privilege(r.oid, c.oid, 'INSERT, UPDATE'))
                   ORDER BY 1 LIMIT ${SHOWN_TABLES + 1}) AS writable,
            pg_has_role(current_user, r.oid, 'MEMBER') AS member
       FROM pg_roles r WHERE r.rolname = coalesce($1, current_user)`,
    [role, DANGEROUS_MEMBERSHIPS],
  );
  return res.rows[0];
}

const attributes = (f: RoleFacts) =>
  [f.rolsuper && 'SUPERUSER', f.rolcreaterole && 'CREATEROLE', f.rolcreatedb && 'CREATEDB', f.rolbypassrls && 'BYPASSRLS'].filter(
    (x): x is string => Boolean(x),
  );

/** Why checks may not run as this role (plan.accessCheckRole, or the worker's own when absent), or null. */
export async function accessRoleProblem(db: Client, role: string | undefined): Promise<string | null> {
  if (role === undefined) {
    const me = (await facts(db, null))!;
    const why = [...(me.rolsuper ? ['is a superuser'] : []), ...me.dangerous.map((d) => `is a member of ${d}`)];
    if (!why.length) return null;
    return (
      `refused to run plan SQL as the worker's role ${me.rolname}, which ${why.join(' and ')} (it could write, run programs or read files); ` +
      `name a role without those rights in the plan (accessCheckRole: cutover_checker), created once in this database with: ${createRoleSql()}`
    );
  }
  const f = await facts(db, role);
  if (!f) return `accessCheckRole ${role} does not exist in this database; create it with: ${createRoleSql(role)}`;
  const why = [
    ...attributes(f).map((a) => `has ${a}`),
    ...f.dangerous.map((d) => `is a member of ${d}`),
    ...(f.writable.length
      ? [
          `may write ${f.writable.slice(0, SHOWN_TABLES).join(', ')}${f.writable.length > SHOWN_TABLES ? ', …' : ''} (INSERT, UPDATE, DELETE or TRUNCATE)`,
        ]
      : []),
  ];
  if (why.length)
    return `accessCheckRole ${role} may not run checks: it ${why.join(' and ')}; give checks a role with SELECT only (REVOKE the rest, or: ${createRoleSql('cutover_checker')})`;
  if (!f.member)
    return `accessCheckRole ${role}: the worker's role is not a member of it, so cannot SET ROLE to it; run: GRANT ${role} TO CURRENT_USER; (as the worker's role's admin)`;
  return null;
}
