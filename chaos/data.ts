// The suite's data and its own evidence: a Pilot/Production pair per run (the SaaS test schema, with
// enough events that stage streams for a while), per-table checksums and per-key row sets of Production
// read with the suite's own SQL, and the comparison against the undisturbed reference run.
import { Client } from 'pg';
import { PILOT_DATA, PK, PRODUCTION_DATA, SAAS_SCHEMA } from '../harness/saas';

export const PG_ADMIN = process.env.CUTOVER_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TABLES = Object.keys(PK) as (keyof typeof PK)[];

// 20 000 more events (ids far above Production's own): stage's COPY of events spans many chunks.
const MORE_EVENTS = `
INSERT INTO events (event_id, project_id, user_id, kind, payload, at)
  SELECT 100000 + g, 1 + (g % 40), ((1 + g % 40) % 20) + 20, 'view', jsonb_build_object('i', g, 'pad', repeat('x', 40)), timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second'
  FROM generate_series(1, 20000) g;`;
// Production's rows fixed in time, so two databases made apart hold the same bytes.
const PRODUCTION = PRODUCTION_DATA.replace('now()', "timestamptz '2026-01-01 00:00:00+00'");
/** A unique column the plan does not key on: Production can refuse a row by it (fault d). */
export const EMAIL_UNIQUE = 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);';

export function dbUrl(name: string): string {
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function withDb<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url, application_name: 'cutover-chaos' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export const admin = <T>(fn: (c: Client) => Promise<T>) => withDb(PG_ADMIN, fn);

export interface Pair {
  pilot: string;
  production: string;
  names: string[];
}

/** A fresh Pilot and Production named <base>_pilot / <base>_prod. */
export async function createPair(base: string, opts: { emailUnique?: boolean } = {}): Promise<Pair> {
  const names = [`${base}_pilot`, `${base}_prod`];
  await admin(async (c) => {
    for (const n of names) {
      await c.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
      await c.query(`CREATE DATABASE "${n}"`);
    }
  });
  const [pilot, production] = names.map(dbUrl);
  await withDb(pilot, (c) => c.query(SAAS_SCHEMA + PILOT_DATA + MORE_EVENTS));
  await withDb(production, (c) => c.query(SAAS_SCHEMA + PRODUCTION + (opts.emailUnique ? EMAIL_UNIQUE : '')));
  return { pilot, production, names };
}

export async function dropPair(p: Pair): Promise<void> {
  await admin(async (c) => {
    for (const n of p.names) await c.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
  });
}

/** Production's plan tables: per table, each row's key → md5 of the whole row (its text form). */
export type RowSets = Record<string, Map<string, { hash: string; count: number }>>;

export async function rowSets(url: string): Promise<RowSets> {
  return withDb(url, async (c) => {
    const out: RowSets = {};
    for (const t of TABLES) {
      const r = await c.query<{ k: string; h: string }>(`SELECT ${PK[t]}::text AS k, md5(x::text) AS h FROM public.${t} x`);
      const m = new Map<string, { hash: string; count: number }>();
      for (const row of r.rows) {
        const prev = m.get(row.k);
        m.set(row.k, { hash: row.h, count: (prev?.count ?? 0) + 1 });
      }
      out[t] = m;
    }
    return out;
  });
}

/** Per table: md5 of every row's text in key order — equal sums, equal tables. */
export async function checksums(url: string): Promise<Record<string, string>> {
  return withDb(url, async (c) => {
    const out: Record<string, string> = {};
    for (const t of TABLES) {
      const r = await c.query<{ s: string }>(
        `SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY ${PK[t]}), '')) AS s FROM public.${t} x`,
      );
      out[t] = r.rows[0].s;
    }
    return out;
  });
}

export interface Difference {
  /** Rows of the reference missing here (or here with other values). */
  lost: number;
  /** Rows here the reference does not have, or a key held more than once. */
  duplicated: number;
  tables: string[];
}

export function compare(reference: RowSets, actual: RowSets): Difference {
  let lost = 0;
  let duplicated = 0;
  const tables = new Set<string>();
  for (const t of TABLES) {
    const ref = reference[t];
    const got = actual[t];
    for (const [k, v] of ref) {
      const g = got.get(k);
      if (!g || g.hash !== v.hash) {
        lost++;
        tables.add(t);
      }
    }
    for (const [k, v] of got) {
      const extra = ref.has(k) ? v.count - 1 : v.count;
      if (extra > 0) {
        duplicated += extra;
        tables.add(t);
      }
    }
  }
  return { lost, duplicated, tables: [...tables] };
}
