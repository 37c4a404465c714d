// PostgreSQL TLS settings in a connection alias's URL reach the driver untouched (activities/db/connect.ts
// passes the URL as node-postgres's connectionString): `sslmode` is honoured and `sslrootcert` is read.
// The test server may run with or without SSL; each case checks what that server must then answer.
import { connect } from '../activities/db/connect';
import { PG_ADMIN, rows } from './helpers/pg';

const withParams = (params: Record<string, string>) => {
  const u = new URL(PG_ADMIN);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
};

let sslOn: boolean;
beforeAll(async () => {
  sslOn = (await rows<{ ssl: string }>(PG_ADMIN, 'SHOW ssl'))[0].ssl === 'on';
});

test('sslmode in the URL is honoured', async () => {
  const url = withParams({ sslmode: 'no-verify' });
  if (!sslOn) {
    // Asked for TLS, a server without it refuses: the setting reached the driver.
    await expect(connect(url)).rejects.toThrow(/does not support SSL/);
    return;
  }
  const c = await connect(url);
  try {
    const r = await c.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    expect(r.rows[0].ssl).toBe(true);
  } finally {
    await c.end();
  }
});

test('sslrootcert in the URL is read (a missing CA file is named)', async () => {
  await expect(connect(withParams({ sslmode: 'verify-full', sslrootcert: '/nonexistent/cutover-ca.pem' }))).rejects.toThrow(
    /cutover-ca\.pem/,
  );
});

test('without TLS settings nothing changes', async () => {
  const c = await connect(PG_ADMIN);
  try {
    expect((await c.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  } finally {
    await c.end();
  }
});
