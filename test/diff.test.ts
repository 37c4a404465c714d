// The difference finder on real PostgreSQL, at the edge of its bucketing: a key whose
// hashtext(ROW(key)::text) is -2147483648 (found by brute force over 10-digit keys) must be bucketed
// and named like any other, not make abs(int4) overflow and hide every difference.
import type { ResolvedTable } from '../activities/db/resolve';
import { localiseDifferences } from '../activities/validate/diff';
import { createDb, dropDb, uniqueName, withDb } from './helpers/pg';

const name = uniqueName('cutover_diff');
let url: string;
const INT_MIN_KEY = 1625272270; // hashtext('(1625272270)') = -2147483648

beforeAll(async () => {
  url = await createDb(
    name,
    `
    CREATE TABLE a (id bigint PRIMARY KEY, v text);
    CREATE TABLE b (id bigint PRIMARY KEY, v text);
    INSERT INTO a SELECT g, 'v' || g FROM generate_series(1, 50) g;
    INSERT INTO a VALUES (${INT_MIN_KEY}, 'original');
    INSERT INTO b SELECT * FROM a;
    UPDATE b SET v = 'changed' WHERE id IN (7, ${INT_MIN_KEY});`,
  );
});

afterAll(() => dropDb(name));

test('a key hashing to -2^31 is localised like any other', async () => {
  await withDb(url, async (db) => {
    expect((await db.query(`SELECT hashtext(ROW(${INT_MIN_KEY}::bigint)::text) AS h`)).rows[0].h).toBe(-2147483648);
    const set = (alias: string, table: string) => ({
      from: `${table} ${alias}`,
      exprs: [`${alias}.id`, `${alias}.v`],
      key: [`${alias}.id`],
    });
    const keys = await localiseDifferences(db, { key: ['id'] } as ResolvedTable, set('x', 'a'), set('y', 'b'));
    expect(keys).toEqual([`(id)=(${INT_MIN_KEY})`, '(id)=(7)']);
  });
});
