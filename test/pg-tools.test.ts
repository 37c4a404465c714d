// pg_dump/pg_restore get the connection without the password on their command line, and a
// failing tool's message never quotes it.
import { runTool, toolConnection } from '../activities/db/pg-tools';

test('the password travels in PGPASSWORD, not in --dbname', () => {
  const c = toolConnection('postgres://alice:s%3Ecret%40x@db.example:6543/prod?sslmode=require');
  expect(c.dbname).toBe('postgres://alice@db.example:6543/prod?sslmode=require');
  expect(c.env.PGPASSWORD).toBe('s>cret@x');
  const q = toolConnection('postgres://bob@db.example/prod?password=hunter2&application_name=x');
  expect(q.dbname).toBe('postgres://bob@db.example/prod?application_name=x');
  expect(q.env.PGPASSWORD).toBe('hunter2');
  expect(() => toolConnection('not a url')).toThrow('a connection URL is not a valid URL');
});

test('a failing tool names itself and its error, with the password redacted', async () => {
  // Port 1 on loopback: nothing listens, libpq fails at once and says where it tried.
  const tool = runTool('pg_dump', ['--format=custom'], { url: 'postgres://alice:topsecret@127.0.0.1:1/prod' });
  tool.output.resume();
  const err = await tool.done.catch((e) => e);
  expect(err.message).toMatch(/^pg_dump exited with code 1: pg_dump: error: connection to server at "127\.0\.0\.1", port 1 failed/);
  expect(err.message).not.toContain('topsecret');
});

test('a tool that is not installed is named', async () => {
  const err = await runTool('pg_dump_nonexistent', [], {}).done.catch((e) => e);
  expect(err.message).toContain('pg_dump_nonexistent could not be started');
});
