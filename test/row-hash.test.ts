// validate's in-statement row hash on real PostgreSQL: every type it hashes as a record has a hash
// function (and so do arrays of them), the others are hashed as text instead of failing; a value's
// hash does not depend on int vs bigint (a rewritten key has its parent's key type), and a changed
// value changes it.
import { fastRowHashSql } from '../activities/db/checksum';
import { dbUrl, rows } from './helpers/pg';

const url = dbUrl('postgres');
const hash = async (values: [string, string][]) =>
  (
    await rows<{ h: string }>(
      url,
      `SELECT ${fastRowHashSql(
        values.map(([v, t]) => `${v}::${t}`),
        values.map(([, t]) => t),
      )}::text AS h`,
    )
  )[0].h;

test('each known type hashes as itself, arrays too; types without a hash function hash as text', async () => {
  const samples: [string, string][] = [
    ['1', 'smallint'],
    ['1', 'integer'],
    ['1', 'bigint'],
    ['1.5', 'numeric(10,2)'],
    ['1.5', 'real'],
    ['1.5', 'double precision'],
    ['true', 'boolean'],
    ["'a'", 'text'],
    ["'a'", 'character varying(20)'],
    ["'a'", 'character(3)'],
    ["'a'", 'name'],
    ["'00000000-0000-0000-0000-000000000001'", 'uuid'],
    ["'\\x01'", 'bytea'],
    ["'2026-01-01'", 'date'],
    ["'10:00'", 'time without time zone'],
    ["'10:00+01'", 'time with time zone'],
    ["'2026-01-01 10:00'", 'timestamp without time zone'],
    ["'2026-01-01 10:00+00'", 'timestamp with time zone'],
    ["'1 day'", 'interval'],
    ['\'{"a":1}\'', 'jsonb'],
    ["'10.0.0.1'", 'inet'],
    ["'10.0.0.0/8'", 'cidr'],
    ["'08:00:2b:01:02:03'", 'macaddr'],
    ['1', 'oid'],
    ["'{1,2}'", 'integer[]'],
    ["'{a,b}'", 'text[]'],
    // no hash function: as text
    ['\'{"a":1}\'', 'json'],
    ["'(1,2)'", 'point'],
    ["'<a/>'", 'xml'],
    ['\'{"(1,2)"}\'', 'point[]'],
  ];
  for (const s of samples)
    expect({ type: s[1], hash: await hash([s, ['2', 'integer']]) }).toEqual({ type: s[1], hash: expect.stringMatching(/^-?\d+$/) });
  expect(fastRowHashSql(['a', 'b', 'c'], ['json', 'integer', 'point[]'])).toBe('hash_record_extended(ROW((a)::text, b, (c)::text), 0)');
});

test('int and bigint hash alike; a changed value or a changed position does not', async () => {
  const row = (id: string, idType: string, name: string) =>
    hash([
      [id, idType],
      [`'${name}'`, 'text'],
      ['NULL', 'integer'],
    ]);
  expect(await row('7', 'integer', 'x')).toBe(await row('7', 'bigint', 'x'));
  expect(await row('7', 'bigint', 'x')).not.toBe(await row('8', 'bigint', 'x'));
  expect(await row('7', 'bigint', 'x')).not.toBe(await row('7', 'bigint', 'y'));
  expect(
    await hash([
      ['1', 'integer'],
      ['NULL', 'integer'],
    ]),
  ).not.toBe(
    await hash([
      ['NULL', 'integer'],
      ['1', 'integer'],
    ]),
  );
});
