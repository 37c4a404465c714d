// Bench databases: a Pilot of N subjects (~10 rows each over 7 FK-linked tables), generated server-side
// with INSERT … SELECT generate_series, and Production-like targets with pre-existing rows that collide.
import { Client } from 'pg';

export const PG_ADMIN = process.env.CUTOVER_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const DB_PREFIX = 'cutover_bench_';

export function dbUrl(name: string): string {
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Statements in order on one connection (the generators' steps depend on each other). */
async function runSteps(url: string, steps: string[]): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    for (const s of steps) await c.query(s);
  } finally {
    await c.end();
  }
}

/** A fresh, empty database named cutover_bench_<suffix>; returns its URL. */
export async function createDb(suffix: string): Promise<string> {
  // The process id keeps two benches on one server (other people's, a 10·N child) out of each other's databases.
  const name = `${DB_PREFIX}${process.pid}_${suffix}`;
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad database name ${name}`);
  await sql(PG_ADMIN, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await sql(PG_ADMIN, `CREATE DATABASE ${name}`);
  return dbUrl(name);
}

export async function dropDb(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!name.startsWith(DB_PREFIX)) throw new Error(`refusing to drop ${name}`);
  await sql(PG_ADMIN, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

export const PLAN_TABLES = ['countries', 'customers', 'orders', 'order_items', 'payments'] as const;
export const ALL_TABLES = [...PLAN_TABLES, 'customer_consent', 'erasure_request'] as const;

const TABLES = `
CREATE TYPE pay_method AS ENUM ('card', 'transfer', 'wallet', 'voucher');
CREATE TABLE countries (id serial PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL);
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL, country_id integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(), profile jsonb);
CREATE TABLE customer_consent (customer_id bigint PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('granted', 'withdrawn')), updated_at timestamptz NOT NULL);
CREATE TABLE erasure_request (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, requested_at timestamptz NOT NULL);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, total numeric(12,2) NOT NULL,
  placed_at timestamptz NOT NULL);
CREATE TABLE order_items (id bigserial PRIMARY KEY, order_id bigint NOT NULL, sku text NOT NULL, qty integer NOT NULL,
  price numeric(12,2) NOT NULL);
CREATE TABLE payments (id bigserial PRIMARY KEY, order_id bigint NOT NULL, amount numeric(12,2) NOT NULL,
  method pay_method NOT NULL);
`;
const CONSTRAINTS = `
ALTER TABLE customers ADD FOREIGN KEY (country_id) REFERENCES countries (id);
ALTER TABLE customer_consent ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE erasure_request ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE order_items ADD FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE payments ADD FOREIGN KEY (order_id) REFERENCES orders (id);
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON order_items (order_id);
CREATE INDEX ON payments (order_id);
CREATE INDEX ON erasure_request (customer_id);
`;
/** The full schema (tables, keys, FKs, indexes), empty. */
export const SCHEMA = TABLES + CONSTRAINTS;

// 60 reference rows AA, AB, … CH.
const COUNTRY_ROWS = `SELECT chr(65 + i / 26) || chr(65 + i % 26) AS code, 'Country ' || chr(65 + i / 26) || chr(65 + i % 26) AS name
  FROM generate_series(0, 59) i`;

/** The Pilot: every subset is chosen by id arithmetic, so the counts are exact and disjoint. */
export async function generatePilot(url: string, n: number): Promise<void> {
  const t0 = '2025-01-01 00:00:00+00';
  const steps = [
    'SET synchronous_commit = off',
    TABLES,
    `INSERT INTO countries (code, name) SELECT code, name FROM (${COUNTRY_ROWS}) c ORDER BY code`,
    // 5% test accounts (id % 20 = 0).
    `INSERT INTO customers (id, email, country_id, created_at, profile)
     SELECT i, CASE WHEN i % 20 = 0 THEN 'qa' || i || '@test.example' ELSE 'user' || i || '@pilot.example' END,
            1 + (i * 7) % 60, timestamptz '${t0}' + i * interval '13 seconds',
            jsonb_build_object('name', 'Customer ' || i, 'tier', i % 4, 'newsletter', i % 3 = 0,
                               'tags', jsonb_build_array('pilot', 'seg' || (i % 10)))
       FROM generate_series(1, ${n}) i`,
    // 3% without a granted consent (id % 100 in 1..3).
    `INSERT INTO customer_consent (customer_id, status, updated_at)
     SELECT i, CASE WHEN i % 100 IN (1, 2, 3) THEN 'withdrawn' ELSE 'granted' END, timestamptz '${t0}' + i * interval '17 seconds'
       FROM generate_series(1, ${n}) i`,
    // 0.1% with an erasure request (id % 1000 = 5).
    `INSERT INTO erasure_request (customer_id, requested_at)
     SELECT i, timestamptz '2025-06-01 00:00:00+00' + i * interval '1 second' FROM generate_series(5, ${n}, 1000) i`,
    `INSERT INTO orders (id, customer_id, total, placed_at)
     SELECT o, (o - 1) % ${n} + 1, 1 + (o * 37 % 50000) / 100.0, timestamptz '${t0}' + o * interval '7 seconds'
       FROM generate_series(1, ${3 * n}) o`,
    `INSERT INTO order_items (id, order_id, sku, qty, price)
     SELECT k, (k - 1) % ${3 * n} + 1, 'SKU-' || lpad((k * 31 % 10000)::text, 5, '0'), 1 + k % 5, 0.5 + (k * 13 % 20000) / 100.0
       FROM generate_series(1, ${4 * n}) k`,
    `INSERT INTO payments (id, order_id, amount, method)
     SELECT p, 3 * p - 2, 1 + (p * 41 % 50000) / 100.0, (enum_range(NULL::pay_method))[1 + p % 4]
       FROM generate_series(1, ${n}) p`,
    ...['customers', 'orders', 'order_items', 'payments'].map(
      (t) => `SELECT setval(pg_get_serial_sequence('${t}', 'id'), (SELECT max(id) FROM ${t}))`,
    ),
    CONSTRAINTS,
    'VACUUM ANALYZE',
  ];
  await runSteps(url, steps);
}

/** Tables only (no keys, FKs or indexes), like cutover's staging: for the like-for-like raw row. */
export async function generateBare(url: string): Promise<void> {
  await sql(url, TABLES);
}

/** ids: keep tables: the fill's ids start here, the concurrent writer's at WRITER_ID_BASE (the Pilot's are far below). */
export const FILL_ID_BASE = 10_000_000_000;
export const WRITER_ID_BASE = 20_000_000_000;

/**
 * A Production-like target: the same schema; with `preExisting`, also rows that collide with the Pilot:
 * the same 60 countries under different ids, customers 1..N/100 and orders 1..N/50 with other content,
 * sequences past them (rows inserted through the serial defaults). `fill` adds unrelated rows per table
 * (--production-scale: K × what the run moves), which neither match nor collide with any Pilot row:
 * countries with codes the Pilot does not use, customers and orders through the sequences, order_items
 * and payments with ids from FILL_ID_BASE. Rows go in before the keys and FKs, as a restore would.
 */
export async function generateProduction(url: string, n: number, preExisting: boolean, fill: Record<string, number> = {}): Promise<void> {
  const nc = Math.max(1, Math.floor(n / 100));
  const no = Math.max(1, Math.floor(n / 50));
  const steps = ['SET synchronous_commit = off', TABLES];
  if (preExisting) {
    steps.push(
      `INSERT INTO countries (code, name) SELECT code, name FROM (${COUNTRY_ROWS}) c ORDER BY code DESC`,
      `INSERT INTO customers (email, country_id, created_at, profile)
       SELECT 'existing' || i || '@prod.example', 1 + i % 60, timestamptz '2020-01-01 00:00:00+00' + i * interval '1 hour',
              jsonb_build_object('name', 'Prod customer ' || i, 'tier', 9)
         FROM generate_series(1, ${nc}) i ORDER BY i`,
      `INSERT INTO orders (customer_id, total, placed_at)
       SELECT (o - 1) % ${nc} + 1, 999.99, timestamptz '2020-01-01 00:00:00+00' + o * interval '1 hour'
         FROM generate_series(1, ${no}) o ORDER BY o`,
    );
  }
  steps.push(...fillSteps(fill));
  steps.push(CONSTRAINTS, 'VACUUM ANALYZE');
  await runSteps(url, steps);
}

/** The unrelated rows of `fill` (rows per table); a child table's rows reference the fill's parents. */
function fillSteps(fill: Record<string, number>): string[] {
  const k = (t: string) => Math.max(0, Math.floor(fill[t] ?? 0));
  const [fc, fo] = [k('customers'), k('orders')];
  const steps: string[] = [];
  if (k('countries') > 0) {
    // 'X' and digits: never a Pilot code (two letters), so nothing matches them.
    steps.push(`INSERT INTO countries (code, name) SELECT 'X' || i, 'Fill country ' || i FROM generate_series(1, ${k('countries')}) i`);
  }
  if (fc > 0) {
    steps.push(`INSERT INTO customers (email, country_id, created_at, profile)
       SELECT 'fill' || i || '@prod.example', (SELECT min(id) FROM countries) + i % greatest(1, (SELECT count(*) FROM countries)),
              timestamptz '2019-01-01 00:00:00+00' + i * interval '1 minute', jsonb_build_object('name', 'Fill customer ' || i, 'tier', 8)
         FROM generate_series(1, ${fc}) i ORDER BY i`);
  }
  if (fc > 0 && fo > 0) {
    steps.push(`INSERT INTO orders (customer_id, total, placed_at)
       SELECT b.lo + (o - 1) % ${fc}, 1 + (o * 53 % 50000) / 100.0, timestamptz '2019-01-01 00:00:00+00' + o * interval '1 minute'
         FROM generate_series(1, ${fo}) o, (SELECT min(id) AS lo FROM customers WHERE email LIKE 'fill%@prod.example') b ORDER BY o`);
  }
  const ordersLo = `(SELECT min(id) AS lo FROM orders WHERE placed_at < '2019-12-31') b`;
  if (fo > 0 && k('order_items') > 0) {
    steps.push(`INSERT INTO order_items (id, order_id, sku, qty, price)
       SELECT ${FILL_ID_BASE} + i, b.lo + (i - 1) % ${fo}, 'SKU-F' || lpad((i % 10000)::text, 4, '0'), 1 + i % 3, 2.5
         FROM generate_series(1, ${k('order_items')}) i, ${ordersLo}`);
  }
  if (fo > 0 && k('payments') > 0) {
    steps.push(`INSERT INTO payments (id, order_id, amount, method)
       SELECT ${FILL_ID_BASE} + i, b.lo + (i - 1) % ${fo}, 5 + i % 100, (enum_range(NULL::pay_method))[1 + i % 4]
         FROM generate_series(1, ${k('payments')}) i, ${ordersLo}`);
  }
  return steps;
}

export async function countRows(url: string, tables: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    for (const t of tables) out[t] = Number((await c.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
  } finally {
    await c.end();
  }
  return out;
}
