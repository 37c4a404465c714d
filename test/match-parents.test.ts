// A parent that does not move "exists in production" by its own table's identity rule, on real
// PostgreSQL through the workflow: ids: match parents are found by natural key (mapped through the
// maps of the tables that key refers to: an album by title and artist), children are rewritten to
// the production row, the parent is never inserted; `follow` reaches through a matched parent that
// is already there; a matched parent that is in neither is refused by name. Checked by natural key.
import { preflight } from '../activities/preflight';
import { validatePlan } from '../plan/validate';
import { useHarness } from './helpers/harness';
import { expectDryRunTruth, manifestCounts, planOf, runToCompletion } from './helpers/outcome';
import { rows } from './helpers/pg';

const SCHEMA = `
CREATE TABLE artist (artist_id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE album (album_id serial PRIMARY KEY, title text NOT NULL, year int NOT NULL, artist_id int NOT NULL REFERENCES artist, UNIQUE (title, artist_id));
CREATE TABLE track (track_id serial PRIMARY KEY, name text NOT NULL, album_id int NOT NULL REFERENCES album, UNIQUE (name, album_id));
CREATE TABLE staff (staff_id serial PRIMARY KEY, email text NOT NULL UNIQUE, team text NOT NULL, reports_to int REFERENCES staff);
CREATE TABLE customer (customer_id serial PRIMARY KEY, email text NOT NULL UNIQUE, country text NOT NULL, rep_id int REFERENCES staff);
CREATE TABLE invoice (invoice_id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customer, total numeric(10,2) NOT NULL);
CREATE TABLE line (line_id serial PRIMARY KEY, invoice_id int NOT NULL REFERENCES invoice, track_id int NOT NULL REFERENCES track);
`;

// Only Newcomer's 2026 album is new; Abba's albums are already in production, Oldie's Rare is not.
// Sales staff move; their boss stays in the Pilot but exists in production.
const PILOT = `
INSERT INTO artist (name) VALUES ('Abba'), ('Newcomer'), ('Oldie');
INSERT INTO album (title, year, artist_id) VALUES ('Gold', 1992, 1), ('Hits', 1990, 1), ('Debut', 2026, 2), ('Rare', 1980, 3);
INSERT INTO track (name, album_id) VALUES ('Dancing Queen', 1), ('Waterloo', 1), ('Waterloo', 2), ('First', 3), ('Lost Song', 4), ('Bonus', 2);
INSERT INTO staff (email, team, reports_to) VALUES ('boss@shop.example', 'mgmt', NULL), ('sales1@shop.example', 'sales', 1), ('sales2@shop.example', 'sales', 1);
INSERT INTO customer (email, country, rep_id) VALUES ('ann@example.com', 'NO', 2), ('bob@example.com', 'NO', 3), ('eve@example.com', 'SE', 2);
INSERT INTO invoice (customer_id, total) VALUES (1, 10), (2, 20), (3, 30);
INSERT INTO line (invoice_id, track_id) VALUES (1, 1), (1, 3), (2, 4), (2, 6), (3, 5);
`;

// Production: renumbered; another artist with a 'Gold' album and its own 'Dancing Queen', so only
// the album's artist tells the Gold albums (and their tracks) apart.
const PRODUCTION = (boss: string) => `
INSERT INTO artist (artist_id, name) VALUES (10, 'Other'), (11, 'Abba');
INSERT INTO album (album_id, title, year, artist_id) VALUES (20, 'Gold', 1992, 11), (21, 'Hits', 1990, 11), (22, 'Gold', 2001, 10);
INSERT INTO track (track_id, name, album_id) VALUES (30, 'Waterloo', 21), (31, 'Dancing Queen', 20), (32, 'Waterloo', 20), (33, 'Dancing Queen', 22);
INSERT INTO staff (staff_id, email, team, reports_to) VALUES (40, '${boss}', 'mgmt', NULL), (41, 'sales2@shop.example', 'sales', 40), (42, 'prod@shop.example', 'ops', NULL);
INSERT INTO customer (email, country, rep_id) VALUES ('prod@example.com', 'DK', 42);
SELECT setval('artist_artist_id_seq', 11), setval('album_album_id_seq', 22), setval('track_track_id_seq', 33), setval('staff_staff_id_seq', 42);
`;

const h = useHarness('cutover_mp', SCHEMA + PILOT);
const one = async (url: string, sql: string) => (await rows<{ v: string }>(url, sql))[0]?.v;

const TABLES = [
  { table: 'artist', select: { where: [{ column: 'name', op: 'eq', value: 'Newcomer' }] }, ids: 'match', match: ['name'] },
  { table: 'album', select: { where: [{ column: 'year', op: 'gte', value: 2025 }] }, ids: 'match', match: ['title', 'artist_id'] },
  { table: 'track', select: { follow: ['album_id'] }, ids: 'match', match: ['name', 'album_id'] },
  { table: 'staff', select: { where: [{ column: 'team', op: 'eq', value: 'sales' }] }, ids: 'match', match: ['email'] },
  { table: 'customer', select: { where: [{ column: 'country', op: 'eq', value: 'NO' }] }, ids: 'new' },
  { table: 'invoice', select: { follow: ['customer_id'] }, ids: 'new' },
  { table: 'line', select: { follow: ['invoice_id'] }, ids: 'new' },
];

test('parents that stay are found in production by natural key; children point at them; they are never inserted', async () => {
  const prod = await h.production(SCHEMA + PRODUCTION('boss@shop.example'));
  const { result, report } = await runToCompletion(h, planOf('mp-found', TABLES));
  expect(result.status).toBe('completed');

  // Catalog: only the new artist and album were inserted; Abba and its albums were found, not copied.
  expect(await one(prod, "SELECT string_agg(name, ',' ORDER BY name) AS v FROM artist")).toBe('Abba,Newcomer,Other');
  const albums =
    "SELECT string_agg(al.title || '/' || ar.name, ',' ORDER BY al.title, ar.name) AS v FROM album al JOIN artist ar USING (artist_id)";
  expect(await one(prod, albums)).toBe('Debut/Newcomer,Gold/Abba,Gold/Other,Hits/Abba');
  // Tracks follow albums into production: Bonus joins the Hits already there, First the new Debut;
  // Lost Song's album is in neither, so it is not in scope.
  const tracks = `SELECT string_agg(t.name || '/' || al.title || '/' || ar.name, ',' ORDER BY t.name, al.title, ar.name) AS v
                    FROM track t JOIN album al USING (album_id) JOIN artist ar USING (artist_id)`;
  expect(await one(prod, tracks)).toBe(
    'Bonus/Hits/Abba,Dancing Queen/Gold/Abba,Dancing Queen/Gold/Other,First/Debut/Newcomer,Waterloo/Gold/Abba,Waterloo/Hits/Abba',
  );
  // Each moved invoice line names the same track, album and artist as in the Pilot.
  const lines = `SELECT string_agg(x, ',' ORDER BY x) AS v FROM (SELECT c.email || ':' || t.name || '/' || al.title || '/' || ar.name AS x
                   FROM line l JOIN invoice i USING (invoice_id) JOIN customer c USING (customer_id) JOIN track t USING (track_id)
                   JOIN album al USING (album_id) JOIN artist ar USING (artist_id) WHERE c.country = 'NO') l`;
  expect(await one(prod, lines)).toBe(await one(h.pilot, lines));
  // Staff: sales2 merged, sales1 inserted under the production boss (found by email), nobody else.
  const staff =
    "SELECT string_agg(s.email || '>' || coalesce(m.email, '-'), ',' ORDER BY s.email) AS v FROM staff s LEFT JOIN staff m ON m.staff_id = s.reports_to";
  expect(await one(prod, staff)).toBe(
    'boss@shop.example>-,prod@shop.example>-,sales1@shop.example>boss@shop.example,sales2@shop.example>boss@shop.example',
  );
  const reps =
    "SELECT string_agg(c.email || '>' || s.email, ',' ORDER BY c.email) AS v FROM customer c JOIN staff s ON s.staff_id = c.rep_id WHERE c.country = 'NO'";
  expect(await one(prod, reps)).toBe(await one(h.pilot, reps));

  // Found parents are not in scope: no manifest row; the id map says what children were rewritten to.
  expect(await manifestCounts(prod, result.runKey)).toEqual({
    'public.album|moved|': 1,
    'public.artist|moved|': 1,
    'public.customer|moved|': 2,
    'public.invoice|moved|': 2,
    'public.line|moved|': 4,
    'public.staff|merged|': 1,
    'public.staff|moved|': 1,
    'public.track|merged|': 3,
    'public.track|moved|': 2,
  });
  const found = await rows<{ t: string; o: string; p: string }>(
    prod,
    `SELECT table_name AS t, old_key->>0 AS o, new_key->>0 AS p FROM cutover.id_map WHERE run_key = $1 AND outcome = 'found' ORDER BY 1, 2`,
    [result.runKey],
  );
  expect(found).toEqual([
    { t: 'public.album', o: '1', p: '20' },
    { t: 'public.album', o: '2', p: '21' },
    { t: 'public.artist', o: '1', p: '11' },
    { t: 'public.staff', o: '1', p: '40' },
  ]);
  expect(report.dryRun!.tables.find((t) => t.table === 'public.track')).toMatchObject({ total: 6, inScope: 5, merged: 3, toMove: 2 });
  expectDryRunTruth(report);
}, 240000);

test('a matched parent that neither moves nor exists in production by its natural key is refused by name', async () => {
  const prod = await h.production(SCHEMA + PRODUCTION('chief@shop.example'));
  const before = await one(prod, "SELECT count(*)::text AS v FROM pg_namespace WHERE nspname LIKE 'cutover%'");
  await expect(preflight({ plan: validatePlan(planOf('mp-dangling', TABLES)) })).rejects.toMatchObject({
    type: 'PlanError',
    message: expect.stringContaining(
      'public.staff rows reference public.staff rows that neither move nor exist in production (FK staff_reports_to_fkey): (staff_id)=(2) → (staff_id)=(1); (staff_id)=(3) → (staff_id)=(1)',
    ),
  });
  expect(await one(prod, "SELECT count(*)::text AS v FROM pg_namespace WHERE nspname LIKE 'cutover%'")).toBe(before);
}, 60000);
