// Erasure by production identity, through the real workflow on real PostgreSQL, judged by the
// test's own SQL. People get new ids in production (ids: match on e-mail: unmatched Pilot people get
// new keys, one is merged into production's own person 3), so a Pilot key names someone else there:
// Pilot person 5 is not production's person 5.
//  - After publish: a late request for a moved person erases their row, the task they own and the
//    comments on it; a colleague's task they were only assigned to stays with the assignee set to
//    NULL (nullable FK: the default), the comments they wrote go (erasure.references: delete). A late
//    request for the merged person erases the rows this run moved that depend on them (their task and
//    its comments, their comment; the moved task assigned to them loses the assignee) and keeps
//    production's own person 3 and everything production had for them.
//  - Rollback by restore: a Pilot request for 5 (a moved person, gone with the restore) must not
//    touch production's own person 5; a production-register request that cleanup read as Pilot key 4
//    must not touch production's person 4; a production-register request for production's person 2
//    arriving after the backup erases person 2 by production identity (same rules). Production then
//    equals its backup minus person 2. The preview, the evidence and the report say so, rows per table.
//  - The dry run counts, per table, what a request leaves behind and what moves with the reference set to NULL.
import { approveSignal, resumeUpdate, type EvidencePack, type StatusView } from '../common/temporal';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildEvidence } from '../common/evidence';
import { preflight } from '../activities/preflight';
import { validatePlan } from '../plan/validate';
import { formatReportMarkdown } from '../client/format/report-md';
import { useHarness } from './helpers/harness';
import { checkerRole, rows } from './helpers/pg';
import { atGate, paused, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';

const SCHEMA = `
CREATE TABLE person (person_id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text);
CREATE TABLE task (task_id serial PRIMARY KEY, owner_id int NOT NULL REFERENCES person, assignee_id int REFERENCES person, title text NOT NULL);
CREATE TABLE comment (comment_id serial PRIMARY KEY, task_id int NOT NULL REFERENCES task, author_id int REFERENCES person, body text NOT NULL);
CREATE TABLE erasure_request (person_id int NOT NULL);
`;
// Task g: owned by g, assigned to the next person; comment g: on task g, by that next person.
const PILOT =
  SCHEMA +
  `
INSERT INTO person (email, name) SELECT 'p' || g || '@pilot.example', 'Pilot ' || g FROM generate_series(1, 6) g;
INSERT INTO person (email, name) VALUES ('shared@example.com', 'Pilot 7, production''s person 3');
INSERT INTO task (owner_id, assignee_id, title) SELECT g, (g % 7) + 1, 'pilot task ' || g FROM generate_series(1, 7) g;
INSERT INTO comment (task_id, author_id, body) SELECT g, (g % 7) + 1, 'pilot comment ' || g FROM generate_series(1, 7) g;
`;
const PRODUCTION =
  SCHEMA +
  `
INSERT INTO person (email, name) SELECT CASE WHEN g = 3 THEN 'shared@example.com' ELSE 'prod' || g || '@prod.example' END, 'Prod ' || g FROM generate_series(1, 5) g;
INSERT INTO task (owner_id, assignee_id, title) SELECT g, (g % 5) + 1, 'prod task ' || g FROM generate_series(1, 5) g;
INSERT INTO comment (task_id, author_id, body) SELECT g, (g % 5) + 1, 'prod comment ' || g FROM generate_series(1, 5) g;
CREATE TABLE hold (why text); INSERT INTO hold VALUES ('on-call looks first');
CREATE TABLE gdpr_request (person_id int NOT NULL); -- Production's own register of its people
`;

function plan(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    id,
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['bob', 'carol'], required: 1, timeout: '1h' },
    rehearsal: { mode: 'skip' },
    tables: [
      { table: 'person', select: { all: true }, ids: 'match', match: ['email'] },
      { table: 'task', select: { follow: ['owner_id'] }, ids: 'new' },
      { table: 'comment', select: { follow: ['task_id'] }, ids: 'new' },
    ],
    subjects: { table: 'person', key: 'person_id' },
    erasure: {
      registers: [
        { db: 'source', table: 'erasure_request', subject: 'person_id' },
        { db: 'target', table: 'erasure_request', subject: 'person_id' },
        { db: 'target', table: 'gdpr_request', subject: 'person_id', keys: 'production' },
      ],
      references: [{ table: 'comment', columns: ['author_id'], action: 'delete' }],
    },
    accessChecks: [{ name: 'hold', sql: 'SELECT why FROM hold' }],
    accessCheckRole: checker.name,
    ...extra,
  };
}

const h = useHarness('cutover_ei', PILOT);
/** Access checks run as a role that can only read (accessCheckRole), never as the tests' superuser. */
const checker = checkerRole('cutover_ei');
afterAll(() => checker.drop());

interface Person {
  person_id: number;
  email: string;
  name: string;
}
interface Task {
  task_id: number;
  owner_id: number;
  assignee_id: number | null;
  title: string;
}
interface Comment {
  comment_id: number;
  task_id: number;
  author_id: number | null;
  body: string;
}
interface Contents {
  person: Person[];
  task: Task[];
  comment: Comment[];
}

/** Production's three tables, by the test's own SQL, in key order. */
const contents = async (url: string): Promise<Contents> => ({
  person: await rows<Person>(url, 'SELECT person_id, email, name FROM person ORDER BY person_id'),
  task: await rows<Task>(url, 'SELECT task_id, owner_id, assignee_id, title FROM task ORDER BY task_id'),
  comment: await rows<Comment>(url, 'SELECT comment_id, task_id, author_id, body FROM comment ORDER BY comment_id'),
});

/**
 * What erasing production person `p` must leave, computed here from `c` (no product code): the
 * person, tasks they own (NOT NULL) and comments on those tasks go, comments they wrote go (the
 * plan's override), a task they are only assigned to stays with assignee NULL. `only` limits what
 * is touched to some tasks / comments (a merged person: only the rows the run moved).
 */
function erase(c: Contents, p: number, only?: { tasks: Set<number>; comments: Set<number> }, keepPerson = false): Contents {
  const mine = (set: Set<number> | undefined, id: number) => !set || set.has(id);
  const gone = new Set(c.task.filter((t) => t.owner_id === p && mine(only?.tasks, t.task_id)).map((t) => t.task_id));
  return {
    person: keepPerson ? c.person : c.person.filter((x) => x.person_id !== p),
    task: c.task
      .filter((t) => !gone.has(t.task_id))
      .map((t) => (t.assignee_id === p && mine(only?.tasks, t.task_id) ? { ...t, assignee_id: null } : t)),
    comment: c.comment.filter((x) => !gone.has(x.task_id) && !(x.author_id === p && mine(only?.comments, x.comment_id))),
  };
}

const newKey = async (prod: string, runKey: string, table: string, pilotKey: number) =>
  Number(
    (
      await rows<{ k: string }>(
        prod,
        `SELECT new_key->>0 AS k FROM cutover.id_map WHERE run_key = $1 AND table_name = $2 AND old_key = $3::jsonb`,
        [runKey, table, `[${pilotKey}]`],
      )
    )[0]?.k,
  );
const movedKeys = async (prod: string, runKey: string, table: string) =>
  new Set(
    (
      await rows<{ k: string }>(
        prod,
        "SELECT new_key->>0 AS k FROM cutover.id_map WHERE run_key = $1 AND table_name = $2 AND outcome = 'moved'",
        [runKey, table],
      )
    ).map((x) => Number(x.k)),
  );

async function pausedAfterPublish(id: string, extra: Record<string, unknown> = {}, atCutover?: () => Promise<void>) {
  const handle = await startRun(h.env, plan(id, extra));
  await waitFor(handle, atGate('plan'));
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob' });
  await waitFor(handle, atGate('cutover'));
  await atCutover?.();
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
  const view = await waitFor(handle, paused, 120000);
  expect([view.phase, view.error?.type]).toEqual(['access-checks', 'AccessCheckError']);
  return { handle, runKey: ((await handle.query('report')) as EvidencePack).runKey };
}

test("after publish: a moved person goes with what cannot exist without them, a colleague's task loses only the assignee; a merged person keeps production's row, the rows this run moved for them go", async () => {
  const prod = await h.production(PRODUCTION + checker.sql);
  const { handle, runKey } = await pausedAfterPublish('ei-publish');
  const p2 = await newKey(prod, runKey, 'public.person', 2);
  expect(p2).toBeGreaterThan(5); // a new key: Pilot key 2 is production's own person 2
  expect(await newKey(prod, runKey, 'public.person', 7)).toBe(3); // merged into production's person 3
  const before = await contents(prod);
  const runTasks = await movedKeys(prod, runKey, 'public.task');
  const runComments = await movedKeys(prod, runKey, 'public.comment');
  // Production's own rows of person 3, by the test's own SQL: they must not change.
  const own3 = await rows(
    prod,
    'SELECT task_id, owner_id, assignee_id FROM task WHERE (owner_id = 3 OR assignee_id = 3) AND task_id <= 5 ORDER BY task_id',
  );
  expect(own3.length).toBe(2);

  await rows(h.pilot, 'INSERT INTO erasure_request (person_id) VALUES (2), (7)');
  await rows(prod, 'DELETE FROM hold');
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'looked' }] });
  expect(((await runResult(handle)) as StatusView).status).toBe('completed');
  await rows(h.pilot, 'DELETE FROM erasure_request');

  const expected = erase(erase(before, p2), 3, { tasks: runTasks, comments: runComments }, true);
  const after = await contents(prod);
  expect(after).toEqual(expected);
  expect(after.person.find((x) => x.person_id === 3)).toEqual(before.person.find((x) => x.person_id === 3));
  expect(
    await rows(
      prod,
      'SELECT task_id, owner_id, assignee_id FROM task WHERE (owner_id = 3 OR assignee_id = 3) AND task_id <= 5 ORDER BY task_id',
    ),
  ).toEqual(own3);
  // Sanity of the oracle: it did change something for both people.
  expect(expected.task.length).toBe(before.task.length - 2);
  expect(expected.task.filter((t) => t.assignee_id === null).length).toBe(2);
  expect(expected.comment.length).toBe(before.comment.length - 4);

  // The log counts each action per table, by the test's own SQL.
  const log = await rows<{ subject: number; table_name: string; action: string; rows: number }>(
    prod,
    "SELECT subject, table_name, action, sum(rows)::int AS rows FROM cutover.erasure_log WHERE run_key = $1 AND step LIKE 'erasure%' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    [runKey],
  );
  expect(log).toEqual([
    { subject: 2, table_name: 'public.comment', action: 'erased-after-publish', rows: 2 },
    { subject: 2, table_name: 'public.person', action: 'erased-after-publish', rows: 1 },
    { subject: 2, table_name: 'public.task', action: 'erased-after-publish', rows: 1 },
    { subject: 2, table_name: 'public.task', action: 'nullified-after-publish', rows: 1 },
    { subject: 7, table_name: 'public.comment', action: 'erased-after-publish', rows: 2 },
    { subject: 7, table_name: 'public.person', action: "kept (merged into production's own row)", rows: 0 },
    { subject: 7, table_name: 'public.task', action: 'erased-after-publish', rows: 1 },
    { subject: 7, table_name: 'public.task', action: 'nullified-after-publish', rows: 1 },
  ]);
  const pack = buildEvidence((await handle.query('report')) as EvidencePack);
  expect(pack.erasure).toMatchObject({ appliedInProduction: true, residue: 0 });
  expect(pack.erasure.passes[0]).toMatchObject({
    rows: { 'public.person': 1, 'public.task': 2, 'public.comment': 4 },
    nullified: { 'public.task': 2 },
  });
}, 300000);

test('rollback by restore: erasures re-applied by production identity — production equals its backup minus production person 2; persons 4 and 5 (Pilot keys) untouched; preview, evidence and report say so', async () => {
  const prod = await h.production(PRODUCTION + checker.sql);
  const backup = await contents(prod); // the run's backup is taken from this
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-ei-'));
  // At gate cutover production's register names Pilot person 4 (registers hold Pilot keys): cleanup leaves them behind.
  const { handle, runKey } = await pausedAfterPublish('ei-restore', { backup: { store: `file://${store}` } }, async () => {
    await rows(prod, 'INSERT INTO erasure_request (person_id) VALUES (4)');
  });
  expect(await newKey(prod, runKey, 'public.person', 5)).toBeGreaterThan(5); // Pilot 5 moved under a new key
  // Cleanup left Pilot person 4 behind with the task they own; the colleague's task 3 they were only
  // assigned to moved, its assignee set to NULL (the same rule as erasure in production).
  expect(await newKey(prod, runKey, 'public.person', 4)).toBeNaN();
  expect(await newKey(prod, runKey, 'public.task', 4)).toBeNaN();
  expect(
    await rows(prod, 'SELECT owner_id, assignee_id, title FROM task WHERE task_id = $1', [await newKey(prod, runKey, 'public.task', 3)]),
  ).toEqual([{ owner_id: await newKey(prod, runKey, 'public.person', 3), assignee_id: null, title: 'pilot task 3' }]);
  expect(
    await rows(
      prod,
      "SELECT subject, table_name, rows, action FROM cutover.erasure_log WHERE run_key = $1 AND step = 'cleanup' ORDER BY table_name",
      [runKey],
    ),
  ).toEqual([
    { subject: 4, table_name: 'public.person', rows: 1, action: 'not-moved (left behind in staging)' },
    { subject: 4, table_name: 'public.task', rows: 1, action: 'nullified (in staging; the row moves)' },
  ]);
  expect(((await handle.query('report')) as EvidencePack).cleanup?.erasureNullified).toEqual({ 'public.task': 1 });
  // After the backup: the Pilot's person 5 asks (Pilot key); so does the Pilot's person 1, in the
  // Pilot-key register kept in production; production's own person 2 asks in production's own
  // register (keys: production). One key space per register: only person 2 is a Production key.
  await rows(h.pilot, 'INSERT INTO erasure_request (person_id) VALUES (5)');
  await rows(prod, 'INSERT INTO erasure_request (person_id) VALUES (1)');
  await rows(prod, 'INSERT INTO gdpr_request (person_id) VALUES (2)');

  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'rollback', by: 'oncall', reason: 'restore it', mode: 'restore' }] });
  const gateView = await waitFor(handle, atGate('restore'), 120000);
  const expected = erase(backup, 2);
  const sizes = {
    person: backup.person.length - expected.person.length,
    task: backup.task.length - expected.task.length,
    comment: backup.comment.length - expected.comment.length,
  };
  expect(sizes).toEqual({ person: 1, task: 1, comment: 2 });
  expect(gateView.restorePreview!.erasures).toMatchObject({
    deleted: { 'public.person': 1, 'public.task': 1, 'public.comment': 2 },
    nullified: { 'public.task': 1 },
  });
  expect(gateView.restorePreview!.summary.join('\n')).toMatch(
    /erasure request\(s\) would be re-applied.*4 rows deleted \(public.person 1, public.task 1, public.comment 2\).*1 kept with a reference set to NULL \(public.task 1\)/s,
  );
  await handle.signal(approveSignal, { gate: 'restore', approver: 'bob' });
  expect(((await runResult(handle)) as StatusView).status).toBe('rolled-back');
  await rows(h.pilot, 'DELETE FROM erasure_request');

  // Production equals its backup minus production person 2, by the test's own SQL.
  const after = await contents(prod);
  expect(after).toEqual(expected);
  for (const p of [1, 4, 5]) expect(after.person.find((x) => x.person_id === p)).toEqual(backup.person.find((x) => x.person_id === p));
  expect(after.task.filter((t) => t.owner_id === 5)).toEqual(backup.task.filter((t) => t.owner_id === 5));
  expect(after.comment.filter((c) => c.author_id === 5)).toEqual(backup.comment.filter((c) => c.author_id === 5));
  // Nothing logged as erased in production for keys 1, 4 and 5.
  expect(
    await rows(
      prod,
      "SELECT production_subject, table_name, rows FROM cutover.erasure_log WHERE run_key = $1 AND step = 'restore' AND rows > 0 ORDER BY table_name, action",
      [runKey],
    ),
  ).toEqual([
    { production_subject: [2], table_name: 'public.comment', rows: 2 },
    { production_subject: [2], table_name: 'public.person', rows: 1 },
    { production_subject: [2], table_name: 'public.task', rows: 1 },
    { production_subject: [2], table_name: 'public.task', rows: 1 },
  ]);

  const report = (await handle.query('report')) as EvidencePack;
  const pack = buildEvidence(report);
  expect(pack.restore?.erasuresAfterRestore).toMatchObject({
    deleted: { 'public.person': 1, 'public.task': 1, 'public.comment': 2 },
    anonymized: {},
    nullified: { 'public.task': 1 },
  });
  expect(pack.restore?.preview?.erasures).toMatchObject({ deleted: { 'public.person': 1, 'public.task': 1, 'public.comment': 2 } });
  expect(pack.restore?.result?.tables.every((t) => t.ok)).toBe(true);
  expect(pack.erasure.appliedInProduction).toBe(true);
  expect(pack.erasure.note).toMatch(/rolled back by restore/);
  const md = formatReportMarkdown(report);
  expect(md).toContain('## Restore');
  expect(md).toContain('### Erasures after the restore');
  expect(md).not.toContain('No rollback.');
  expect(md).toMatch(/\| public\.comment \| 2 \| 0 \| 0 \|/);
}, 360000);

test('the dry run counts per table what an erasure request leaves behind and what moves with the reference set to NULL', async () => {
  await h.production(PRODUCTION + checker.sql);
  await rows(h.pilot, 'INSERT INTO erasure_request (person_id) VALUES (4)');
  try {
    const report = await preflight({ plan: validatePlan(plan('ei-dry')) });
    const t = (name: string) => report.tables.find((x) => x.table === name)!;
    const sum = (x: Record<string, number>) => Object.values(x).reduce((a, n) => a + n, 0);
    // Person 4, the task they own, its comment and the comment they wrote stay behind; task 3 (only assigned to them) moves.
    expect(t('public.person')).toMatchObject({ leftBehind: { 'erasure-request': 1 }, toMove: 5, merged: 1 });
    expect(t('public.person').erasureNullified).toBeUndefined();
    expect(t('public.task')).toMatchObject({ leftBehind: { 'parent-left-behind:public.person': 1 }, toMove: 6, erasureNullified: 1 });
    expect(sum(t('public.comment').leftBehind)).toBe(2);
    expect(t('public.comment').erasureNullified).toBeUndefined();
  } finally {
    await rows(h.pilot, 'DELETE FROM erasure_request');
  }
}, 120000);
