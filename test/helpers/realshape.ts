// One schema that combines the shapes real databases use every day: awkward names (a schema with a
// dot, tables and columns with spaces, capitals and non-ASCII letters), a key whose sequence is
// attached only by DEFAULT (no OWNED BY), one sequence shared by two tables, a partitioned table
// whose foreign keys are declared on every partition (not on the parent) and whose primary key is
// composite (partition key + sequence column), and a composite FK referencing that key.

export const REAL_SCHEMA = `
CREATE SCHEMA "Sales.EU";
CREATE SEQUENCE "Sales.EU"."Kunde Nr";
CREATE SEQUENCE public.shared_ids;
CREATE TABLE "Sales.EU"."Kunde" (
  "Kunde ID" integer PRIMARY KEY DEFAULT nextval('"Sales.EU"."Kunde Nr"'::regclass),
  "E-Mail" text NOT NULL UNIQUE,
  "Région" text NOT NULL);
CREATE TABLE "Sales.EU"."Order" (
  "Order ID" bigint PRIMARY KEY DEFAULT nextval('public.shared_ids'::regclass),
  "Kunde ID" integer NOT NULL REFERENCES "Sales.EU"."Kunde",
  placed date NOT NULL);
CREATE TABLE public.note (
  note_id bigint PRIMARY KEY DEFAULT nextval('public.shared_ids'::regclass),
  "Kunde ID" integer NOT NULL REFERENCES "Sales.EU"."Kunde",
  body text NOT NULL);
CREATE SEQUENCE "Sales.EU"."Line Nr";
CREATE TABLE "Sales.EU"."Order Items" (
  "Line ID" bigint NOT NULL DEFAULT nextval('"Sales.EU"."Line Nr"'::regclass),
  "Order ID" bigint NOT NULL,
  "Shipped On" date NOT NULL,
  "Unit Price €" numeric(10,2) NOT NULL,
  PRIMARY KEY ("Shipped On", "Line ID")) PARTITION BY RANGE ("Shipped On");
CREATE TABLE "Sales.EU"."Order Items 2025" PARTITION OF "Sales.EU"."Order Items" FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE "Sales.EU"."Order Items 2026" PARTITION OF "Sales.EU"."Order Items" FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE ONLY "Sales.EU"."Order Items 2025" ADD CONSTRAINT "items 2025 order" FOREIGN KEY ("Order ID") REFERENCES "Sales.EU"."Order";
ALTER TABLE ONLY "Sales.EU"."Order Items 2026" ADD CONSTRAINT "items 2026 order" FOREIGN KEY ("Order ID") REFERENCES "Sales.EU"."Order";
CREATE TABLE "Sales.EU"."Returns" (
  "Return ID" serial PRIMARY KEY,
  "Shipped On" date NOT NULL,
  "Line ID" bigint NOT NULL,
  why text NOT NULL,
  FOREIGN KEY ("Shipped On", "Line ID") REFERENCES "Sales.EU"."Order Items");
`;

/** Pilot: region Nord (3 customers, one a test account) and Süd (1); orders, lines in both partitions, returns. */
export const REAL_PILOT = `
INSERT INTO "Sales.EU"."Kunde" ("Kunde ID", "E-Mail", "Région") VALUES
  (1, 'Anna@Nord.example', 'Nord'), (2, 'bernd@nord.example', 'Nord'), (3, 'qa@test.example', 'Nord'), (4, 'sued@sued.example', 'Süd');
SELECT setval('"Sales.EU"."Kunde Nr"', 4);
INSERT INTO "Sales.EU"."Order" ("Order ID", "Kunde ID", placed) VALUES
  (1, 1, '2025-03-01'), (2, 1, '2026-02-01'), (3, 2, '2025-07-07'), (4, 3, '2025-08-08'), (5, 4, '2025-09-09');
INSERT INTO public.note (note_id, "Kunde ID", body) VALUES (6, 1, 'likes tea'), (7, 3, 'test note'), (8, 2, 'calls on Mondays');
SELECT setval('public.shared_ids', 8);
INSERT INTO "Sales.EU"."Order Items" ("Line ID", "Order ID", "Shipped On", "Unit Price €") VALUES
  (1, 1, '2025-03-02', 10.00), (2, 1, '2025-03-02', 11.50), (3, 2, '2026-02-03', 20.00),
  (4, 3, '2025-07-08', 30.25), (5, 4, '2025-08-09', 40.00), (6, 5, '2025-09-10', 50.00);
SELECT setval('"Sales.EU"."Line Nr"', 6);
INSERT INTO "Sales.EU"."Returns" ("Shipped On", "Line ID", why) VALUES ('2025-03-02', 2, 'broken'), ('2026-02-03', 3, 'late'), ('2025-08-09', 5, 'test');
`;

/** Production: its own customers, orders and lines whose ids collide with the Pilot's. */
export const REAL_PRODUCTION = `
INSERT INTO "Sales.EU"."Kunde" ("Kunde ID", "E-Mail", "Région") VALUES (1, 'prod1@prod.example', 'Nord'), (2, 'prod2@prod.example', 'Ost');
SELECT setval('"Sales.EU"."Kunde Nr"', 2);
INSERT INTO "Sales.EU"."Order" ("Order ID", "Kunde ID", placed) VALUES (1, 1, '2025-01-01'), (2, 2, '2025-01-02');
INSERT INTO public.note (note_id, "Kunde ID", body) VALUES (3, 2, 'prod note');
SELECT setval('public.shared_ids', 3);
INSERT INTO "Sales.EU"."Order Items" ("Line ID", "Order ID", "Shipped On", "Unit Price €") VALUES (1, 1, '2025-01-02', 1.00), (2, 2, '2026-01-03', 2.00);
SELECT setval('"Sales.EU"."Line Nr"', 2);
INSERT INTO "Sales.EU"."Returns" ("Shipped On", "Line ID", why) VALUES ('2025-01-02', 1, 'prod return');
`;

export function realPlan(id: string): Record<string, unknown> {
  return {
    version: 1,
    id,
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['alice', 'bob'], required: 1 },
    rehearsal: { mode: 'skip' },
    tables: [
      { table: '"Sales.EU"."Returns"', select: { follow: ['Line ID'] }, ids: 'new' },
      { table: '"Sales.EU"."Order Items"', select: { follow: ['Order ID'] }, ids: 'new' },
      { table: 'public.note', select: { follow: ['Kunde ID'] }, ids: 'new' },
      { table: '"Sales.EU"."Order"', select: { follow: ['Kunde ID'] }, ids: 'new' },
      { table: '"Sales.EU"."Kunde"', select: { where: [{ column: 'Région', op: 'eq', value: 'Nord' }] }, ids: 'new' },
    ],
    testData: [{ table: '"Sales.EU"."Kunde"', where: [{ column: 'E-Mail', op: 'like', value: '%@test.example' }], reason: 'test-account' }],
    transforms: [{ table: '"Sales.EU"."Kunde"', column: 'E-Mail', fn: 'lower' }],
  };
}

/** A table whose key has two sequence-backed columns: ids new/match cannot know which to draw. */
export const TWO_SEQUENCES = `CREATE TABLE "Sales.EU"."Two Seq" (a serial, b serial, label text, PRIMARY KEY (a, b));`;
