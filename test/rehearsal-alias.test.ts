// The rehearsal's synthetic target alias (common/rehearsal-alias.ts), resolved by any worker in
// activities/db/connect.ts: the real target alias's server and credentials with the scratch
// database cutover_rehearsal_<runKey>; nothing but a run key and a plan alias may be named in it,
// and a plan cannot name one itself (its aliases are [a-z][a-z0-9_]*). No database needed.
import { parseRehearsalAlias, rehearsalAlias, rehearsalChildId } from '../common/rehearsal-alias';
import { resolveAlias } from '../activities/db/connect';
import { checkPlanSchema } from '../plan/validate';
import { saasPlan } from './helpers/saas';

const saved = process.env.CUTOVER_DB_RHTARGET;
afterAll(() => {
  if (saved === undefined) delete process.env.CUTOVER_DB_RHTARGET;
  else process.env.CUTOVER_DB_RHTARGET = saved;
});

test('resolves to the target alias server, user and options with the scratch database', () => {
  process.env.CUTOVER_DB_RHTARGET = 'postgres://cut:s3cret@db.example:6543/production?sslmode=require';
  const url = new URL(resolveAlias(rehearsalAlias('rhtarget', 'a1b2c3')));
  expect([url.protocol, url.username, url.password, url.host, url.pathname, url.searchParams.get('sslmode')]).toEqual([
    'postgres:',
    'cut',
    's3cret',
    'db.example:6543',
    '/cutover_rehearsal_a1b2c3',
    'require',
  ]);
  // Read at each use, as every alias is: a changed target URL is the scratch database's too.
  process.env.CUTOVER_DB_RHTARGET = 'postgres://other@db2.example/production';
  expect(resolveAlias('rehearsal:a1b2c3:rhtarget')).toBe('postgres://other@db2.example/cutover_rehearsal_a1b2c3');
});

test('only a run key and a plan alias pass; anything else is not a rehearsal alias', () => {
  expect(parseRehearsalAlias('rehearsal:a1b2c3:rhtarget')).toEqual({
    runKey: 'a1b2c3',
    target: 'rhtarget',
    database: 'cutover_rehearsal_a1b2c3',
  });
  for (const bad of [
    'rehearsal:A1:rhtarget',
    'rehearsal:a1;drop:rhtarget',
    'rehearsal::rhtarget',
    'rehearsal:a1:../x',
    'rehearsal:a1:rh:x',
    'rhtarget',
  ])
    expect(parseRehearsalAlias(bad)).toBeNull();
  expect(() => rehearsalAlias('rhtarget', 'a-1')).toThrow(/run key "a-1" must be 1 to 40 lowercase letters or digits/);
  expect(() => rehearsalAlias('Rh Target', 'a1')).toThrow(/target alias "Rh Target" is not a connection alias/);
  // Not resolved as one either: an ordinary alias lookup that names no configured alias.
  expect(() => resolveAlias('rehearsal:A1:rhtarget')).toThrow(/connection alias "rehearsal:A1:rhtarget" is not configured/);
  expect(rehearsalChildId('cutover-p1', 2)).toBe('cutover-p1/rehearsal/2');
});

test('a plan cannot name the synthetic alias as its target', () => {
  const { issues } = checkPlanSchema(saasPlan('rh-alias', { target: 'rehearsal:a1b2c3:production' }));
  expect(issues.map((i) => i.path)).toContain('target');
});
