// A shop schema where every cleanup reason and every id strategy occurs, plus a table of awkward
// column types and a partitioned table. Used by the data-path tests.
export const SHOP_SCHEMA = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE country (country_id serial PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL);
CREATE TABLE address (address_id serial PRIMARY KEY, line text NOT NULL);
CREATE TABLE customer (customer_id serial PRIMARY KEY, email text NOT NULL, store_id int NOT NULL,
  country_id int NOT NULL REFERENCES country, address_id int REFERENCES address);
CREATE TABLE customer_consent (customer_id int NOT NULL, status text NOT NULL);
CREATE TABLE erasure_request (customer_id int NOT NULL, requested_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE rental (rental_id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customer, amount numeric(10,2) NOT NULL);
CREATE TABLE staff (staff_id int PRIMARY KEY, manager_id int REFERENCES staff, name text NOT NULL);
CREATE TABLE dept (dept_id serial PRIMARY KEY, name text NOT NULL, head_id int);
CREATE TABLE employee (emp_id serial PRIMARY KEY, dept_id int NOT NULL REFERENCES dept, name text NOT NULL);
ALTER TABLE dept ADD FOREIGN KEY (head_id) REFERENCES employee;
CREATE TABLE kinds (
  id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, m mood, d posint, arr text[], doc jsonb, tsv tsvector, raw bytea,
  amount numeric(20,6), at timestamptz, label varchar(20), twice int GENERATED ALWAYS AS (d * 2) STORED);
CREATE TABLE measurement (city_id int NOT NULL, logdate date NOT NULL, peak int, PRIMARY KEY (city_id, logdate)) PARTITION BY RANGE (logdate);
CREATE TABLE measurement_2025 PARTITION OF measurement FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE measurement_2026 PARTITION OF measurement FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
`;

export const SHOP_PILOT = `
INSERT INTO country (code, name) VALUES ('US', 'United States'), ('DE', 'Germany'), ('FR', 'France');
INSERT INTO address (line) SELECT 'Street ' || g FROM generate_series(1, 12) g;
INSERT INTO customer (email, store_id, country_id, address_id)
  SELECT CASE g WHEN 2 THEN 'qa2@test.example' WHEN 6 THEN 'MiXeD6@Example.com' ELSE 'c' || g || '@example.com' END,
         CASE WHEN g > 10 THEN 2 ELSE 1 END, 1 + g % 3, g
  FROM generate_series(1, 12) g;
INSERT INTO customer_consent SELECT g, CASE WHEN g = 3 THEN 'withdrawn' ELSE 'granted' END FROM generate_series(1, 12) g;
INSERT INTO erasure_request (customer_id) VALUES (4);
INSERT INTO rental (customer_id, amount) SELECT 1 + (g % 12), g * 1.25 FROM generate_series(1, 24) g;
INSERT INTO staff VALUES (1, NULL, 'Boss'), (2, 1, 'Middle'), (3, 2, 'Junior');
INSERT INTO dept (name) VALUES ('Ops'), ('Sales');
INSERT INTO employee (dept_id, name) VALUES (1, 'Olga'), (1, 'Otto'), (2, 'Sam');
UPDATE dept SET head_id = CASE name WHEN 'Ops' THEN 2 ELSE 3 END;
INSERT INTO kinds (m, d, arr, doc, tsv, raw, amount, at, label) VALUES
  ('happy', 3, ARRAY['a', 'b,c', NULL, 'd"e'], '{"k": [1, 2.50, null, "x\\ty"], "nested": {"z": true}}', to_tsvector('english', 'The quick brown foxes'),
   '\\x00ff10', 12345678901234.123456, '2026-03-29 01:30:00.123456+02', 'tab\\there'),
  ('sad', 1, '{}', '[]', '', '', -0.000001, '1999-12-31 23:59:59+00', E'line\\nbreak'),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO measurement VALUES (1, '2025-06-01', 30), (1, '2026-06-01', 31), (2, '2026-07-01', 25);
`;

// Production: colliding customer/address/rental ids, the same countries under other ids, and an
// erasure request registered in production itself for Pilot customer 5.
export const SHOP_PRODUCTION = `
INSERT INTO country (country_id, code, name) VALUES (10, 'US', 'USA'), (11, 'DE', 'Deutschland'), (12, 'JP', 'Japan');
SELECT setval('country_country_id_seq', 12);
INSERT INTO address (line) VALUES ('Prod street 1'), ('Prod street 2');
INSERT INTO customer (email, store_id, country_id, address_id) VALUES ('p1@prod.example', 9, 10, 1), ('p2@prod.example', 9, 11, 2), ('p3@prod.example', 9, 12, NULL);
INSERT INTO rental (customer_id, amount) VALUES (1, 9.99), (2, 19.99);
INSERT INTO erasure_request (customer_id) VALUES (5);
INSERT INTO dept (name) VALUES ('Prod dept');
INSERT INTO employee (dept_id, name) VALUES (1, 'Prod person');
`;

export function shopPlan(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    id,
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['bob', 'carol'], required: 1, timeout: '1h' },
    rehearsal: { mode: 'skip' },
    parallelism: 2,
    tables: [
      { table: 'rental', select: { follow: ['customer_id'] }, ids: 'new' },
      { table: 'customer', select: { where: [{ column: 'store_id', op: 'eq', value: 1 }] }, ids: 'new' },
      { table: 'address', ids: 'new' }, // default select: referenced
      { table: 'country', ids: 'match', match: ['code'], select: { all: true } },
      { table: 'staff', select: { all: true } },
      { table: 'kinds', select: { all: true } },
      { table: 'measurement', select: { all: true } },
      { table: 'dept', select: { all: true }, ids: 'new' }, // dept ⇄ employee: a cycle broken at nullable head_id
      { table: 'employee', select: { all: true }, ids: 'new' },
    ],
    subjects: { table: 'customer', key: 'customer_id' },
    consent: { table: 'customer_consent', subject: 'customer_id', granted: [{ column: 'status', op: 'eq', value: 'granted' }] },
    testData: [{ table: 'customer', where: [{ column: 'email', op: 'like', value: '%@test.example' }], reason: 'test-account' }],
    erasure: {
      registers: [
        { db: 'source', table: 'erasure_request', subject: 'customer_id' },
        { db: 'target', table: 'erasure_request', subject: 'customer_id' },
      ],
    },
    transforms: [{ table: 'customer', column: 'email', fn: 'lower' }],
    ...overrides,
  };
}

/** The shop plan narrowed to store 1's customers, their rentals and what they reference (the drift and re-run tests). */
export function storeOnePlan(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return shopPlan(id, {
    tables: [
      { table: 'rental', select: { follow: ['customer_id'] }, ids: 'new' },
      { table: 'customer', select: { where: [{ column: 'store_id', op: 'eq', value: 1 }] }, ids: 'new' },
      { table: 'address', ids: 'new' },
      { table: 'country', ids: 'match', match: ['code'], select: { all: true } },
    ],
    ...overrides,
  });
}
