// A database's content as one fingerprint, computed by the test's own SQL: every user table's rows
// (md5 of the sorted row texts) plus the list of schemas, tables and sequences with their values —
// so a write of any kind, a new schema or a table created and left behind all change it.
import { rows } from './pg';

export async function dbChecksum(url: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const tables = await rows<{ s: string; t: string }>(
    url,
    `
    SELECT n.nspname AS s, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
    ORDER BY 1, 2`,
  );
  for (const { s, t } of tables) {
    const q = `"${s.replace(/"/g, '""')}"."${t.replace(/"/g, '""')}"`;
    out[`${s}.${t}`] = (
      await rows<{ h: string }>(
        url,
        `SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) || ':' || count(*) AS h FROM ${q} r`,
      )
    )[0].h;
  }
  const seqs = await rows<{ s: string; t: string; v: string }>(
    url,
    `
    SELECT schemaname AS s, sequencename AS t, coalesce(last_value, 0)::text AS v FROM pg_sequences ORDER BY 1, 2`,
  );
  for (const { s, t, v } of seqs) out[`sequence ${s}.${t}`] = v;
  const schemas = await rows<{ n: string }>(
    url,
    `SELECT string_agg(nspname, ',' ORDER BY nspname) AS n FROM pg_namespace WHERE nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'`,
  );
  out['(schemas)'] = schemas[0].n;
  return out;
}
