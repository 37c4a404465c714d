// Grants and row-level security of the relations a plan touches, read from the catalog: taken
// before publish and again at the access checks, so a run (or anything running beside it) that
// opened or closed access to those tables is caught. Partitions count on their own: they can be
// granted and queried directly. ACLs come from pg_class/pg_attribute, not information_schema,
// whose views only show grants the current role is party to.
import type { Client } from 'pg';
import { tableKey, type TableRef } from '../../plan/names';
import type { AccessSnapshot, RelationAccess } from '../../common/results';
import { qualified } from './connect';

const ROLE = (oid: string) => `CASE WHEN ${oid} = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(${oid})::text END`;
const GRANT = (e: string) =>
  `${ROLE(`${e}.grantee`)} || ': ' || ${e}.privilege_type || CASE WHEN ${e}.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END || ' (by ' || ${ROLE(`${e}.grantor`)} || ')'`;

// An unset relacl means the owner's default privileges: written out, so GRANT-then-REVOKE back to
// the same privileges compares equal to never having granted.
const SNAPSHOT_SQL = `
WITH plan AS (
  SELECT x.plan_table, to_regclass(x.q)::oid AS oid FROM unnest($1::text[], $2::text[]) AS x(q, plan_table)
), rels AS (
  SELECT p.plan_table, p.oid, false AS is_partition FROM plan p WHERE p.oid IS NOT NULL
  UNION
  SELECT p.plan_table, t.relid::oid, true FROM plan p CROSS JOIN LATERAL pg_partition_tree(p.oid) t WHERE p.oid IS NOT NULL AND t.relid::oid <> p.oid
)
SELECT r.plan_table, r.is_partition, n.nspname AS schema, c.relname AS name, pg_get_userbyid(c.relowner)::text AS owner,
       c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls,
       ARRAY(SELECT ${GRANT('e')} FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) e ORDER BY 1) AS grants,
       ARRAY(SELECT a.attname || ': ' || ${GRANT('e')} FROM pg_attribute a CROSS JOIN LATERAL aclexplode(a.attacl) e
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL ORDER BY 1) AS column_grants,
       ARRAY(SELECT jsonb_build_object('name', pol.polname::text, 'definition',
                      'AS ' || CASE WHEN pol.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END
                      || ' FOR ' || CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END
                      || ' TO ' || (SELECT string_agg(${ROLE('ro')}, ', ' ORDER BY 1) FROM unnest(pol.polroles) ro)
                      || coalesce(' USING (' || pg_get_expr(pol.polqual, pol.polrelid) || ')', '')
                      || coalesce(' WITH CHECK (' || pg_get_expr(pol.polwithcheck, pol.polrelid) || ')', ''))
              FROM pg_policy pol WHERE pol.polrelid = c.oid ORDER BY pol.polname) AS policies
  FROM rels r JOIN pg_class c ON c.oid = r.oid JOIN pg_namespace n ON n.oid = c.relnamespace`;

/** Grants (table and column), RLS flags and policies of `tables` and their partitions. */
export async function accessSnapshot(client: Client, tables: TableRef[]): Promise<AccessSnapshot> {
  const res = await client.query<{
    plan_table: string;
    is_partition: boolean;
    schema: string;
    name: string;
    owner: string;
    rls: boolean;
    force_rls: boolean;
    grants: string[];
    column_grants: string[];
    policies: { name: string; definition: string }[];
  }>(SNAPSHOT_SQL, [tables.map((t) => qualified(t.schema, t.name)), tables.map(tableKey)]);
  const relations: RelationAccess[] = res.rows.map((r) => ({
    relation: tableKey(r),
    partitionOf: r.is_partition ? r.plan_table : null,
    owner: r.owner,
    grants: r.grants,
    columnGrants: r.column_grants,
    rowSecurity: r.rls,
    forceRowSecurity: r.force_rls,
    policies: r.policies,
  }));
  relations.sort((a, b) => (a.relation < b.relation ? -1 : a.relation > b.relation ? 1 : 0));
  return { takenAt: new Date().toISOString(), relations };
}

export type AccessChange = {
  relation: string;
  change: string;
  detail: string;
};

/** What differs between two snapshots, one row per grant, flag or policy that changed. */
export function diffAccess(before: AccessSnapshot, after: AccessSnapshot): AccessChange[] {
  const out: AccessChange[] = [];
  const was = new Map(before.relations.map((r) => [r.relation, r]));
  const now = new Map(after.relations.map((r) => [r.relation, r]));
  for (const [name, r] of now)
    if (!was.has(name))
      out.push({
        relation: name,
        change: 'relation added',
        detail: `${r.partitionOf ? `partition of ${r.partitionOf}; ` : ''}grants: ${r.grants.join('; ')}`,
      });
  for (const [name] of was)
    if (!now.has(name)) out.push({ relation: name, change: 'relation gone', detail: 'in the snapshot before the run, not now' });
  for (const [name, b] of was) {
    const a = now.get(name);
    if (!a) continue;
    const add = (change: string, detail: string) => out.push({ relation: name, change, detail });
    if (a.owner !== b.owner) add('owner changed', `${b.owner} → ${a.owner}`);
    for (const g of a.grants.filter((x) => !b.grants.includes(x))) add('grant added', g);
    for (const g of b.grants.filter((x) => !a.grants.includes(x))) add('grant removed', g);
    for (const g of a.columnGrants.filter((x) => !b.columnGrants.includes(x))) add('column grant added', g);
    for (const g of b.columnGrants.filter((x) => !a.columnGrants.includes(x))) add('column grant removed', g);
    if (a.rowSecurity !== b.rowSecurity) add('row level security changed', `relrowsecurity ${b.rowSecurity} → ${a.rowSecurity}`);
    if (a.forceRowSecurity !== b.forceRowSecurity)
      add('forced row level security changed', `relforcerowsecurity ${b.forceRowSecurity} → ${a.forceRowSecurity}`);
    const pb = new Map(b.policies.map((p) => [p.name, p.definition]));
    const pa = new Map(a.policies.map((p) => [p.name, p.definition]));
    for (const [p, def] of pa) {
      if (!pb.has(p)) add('policy added', `${p} ${def}`);
      else if (pb.get(p) !== def) add('policy changed', `${p}: ${pb.get(p)} → ${def}`);
    }
    for (const [p, def] of pb) if (!pa.has(p)) add('policy removed', `${p} ${def}`);
  }
  return out;
}
