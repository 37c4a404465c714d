// Live progress end to end: while stage, cleanup, publish and validate run (each table held a few
// seconds by a test hook, as large tables would be), the run's pending activity's heartbeat
// details — read back through `describe`, as `cutover status --watch` and the Temporal UI read
// them — carry per-table rows done / total and elapsed time, with some tables done and others not.
import type { StepProgress } from '../common/progress';
import { approveSignal } from '../common/temporal';
import { liveSteps, status } from '../client/commands/status';
import type { CommandContext } from '../client/commands/context';
import type { TemporalContext } from '../client/connection';
import { formatLiveProgress } from '../client/format/progress';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { atGate, startRun, waitFor } from './helpers/run';

const h = useHarness('cutover_prog', SAAS_SCHEMA + PILOT_DATA);

afterAll(() => {
  delete process.env.CUTOVER_TEST_SLOW_TABLES;
});

test('stage, cleanup, publish and validate heartbeat per-table rows done / total while they run', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  process.env.CUTOVER_TEST_SLOW_TABLES = '4:stage,cleanup,publish,validate';
  const handle = await startRun(h.env, saasPlan('prog-live'));
  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate));
    await handle.signal(approveSignal, { gate, approver: 'bob' });
    await handle.signal(approveSignal, { gate, approver: 'carol' });
  }
  // `cutover status --watch` itself, frame by frame, until the run ends.
  const frames: string[] = [];
  const ctx: CommandContext = {
    io: { out: (t) => void frames.push(t), err: () => undefined, isTTY: false },
    temporal: { client: async () => h.env.client } as unknown as TemporalContext,
    env: {},
    exitCode: 0,
  };
  const watching = status(ctx, 'prog-live', { watch: true, intervalMs: 1000 });
  // Everything each step's heartbeats said, as `status --watch` polls it.
  const seen = new Map<string, StepProgress[]>();
  let frame = '';
  for (;;) {
    const view = await waitFor(handle, () => true);
    if (view.status !== 'running') break;
    for (const s of await liveSteps(h.env.client, handle).catch(() => [])) {
      seen.set(s.step, [...(seen.get(s.step) ?? []), s]);
      if (s.step === 'publish' && s.tables.some((t) => t.phase === 'done')) frame = formatLiveProgress([s])!;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  delete process.env.CUTOVER_TEST_SLOW_TABLES;
  expect((await waitFor(handle, () => true)).status).toBe('completed');

  // What the run did, per table, by the test's own SQL on Production.
  const manifest = await rows<{ table_name: string; moved: string; in_scope: string }>(
    prod,
    `SELECT table_name, count(*) FILTER (WHERE outcome = 'moved')::text AS moved, count(*)::text AS in_scope
       FROM cutover.manifest GROUP BY table_name`,
  );
  const moved = Object.fromEntries(manifest.map((m) => [m.table_name, Number(m.moved)]));
  const inScope = Object.fromEntries(manifest.map((m) => [m.table_name, Number(m.in_scope)]));
  const tables = Object.keys(inScope).sort();
  expect(tables).toEqual(['public.accounts', 'public.events', 'public.projects', 'public.users']);

  // Cleanup's rules are set-based over all tables at once: its tables finish together (totals below).
  for (const step of ['stage', 'publish', 'validate']) {
    const beats = seen.get(step) ?? [];
    // Caught mid-step: some tables finished, others still running or waiting, time passing.
    const mid = beats.find((b) => b.tables.some((t) => t.phase === 'done') && b.tables.some((t) => t.phase !== 'done'));
    expect({ step, mid: !!mid }).toEqual({ step, mid: true });
    expect(mid!.tables.map((t) => t.table).sort()).toEqual(tables);
    expect(mid!.elapsedMs).toBeGreaterThan(0);
    expect(new Date(mid!.startedAt).getTime()).toBeLessThanOrEqual(Date.now());
    for (const t of mid!.tables.filter((x) => x.phase === 'done')) {
      expect(t.elapsedMs).toBeGreaterThan(0);
      expect(t.done).toBe(t.total);
      // Rows done per finished table, as the database records them.
      if (step === 'publish') expect({ table: t.table, done: t.done }).toEqual({ table: t.table, done: moved[t.table] });
      if (step === 'validate') expect({ table: t.table, done: t.done }).toEqual({ table: t.table, done: inScope[t.table] });
      if (step === 'stage') expect(t.done).toBeGreaterThanOrEqual(inScope[t.table]);
    }
    // The step's sums are the tables' sums.
    expect(mid!.done).toBe(mid!.tables.reduce((a, t) => a + t.done, 0));
  }
  // Totals are known before a table is done (from the dry run, the staging, the stage result).
  for (const step of ['publish', 'validate', 'cleanup']) {
    // Publish knows them once its id maps tell what merges (phase "inserting").
    const beats = seen.get(step)!.filter((b) => step !== 'publish' || b.phase === 'inserting');
    const waiting = beats.flatMap((b) => b.tables.filter((t) => t.phase !== 'done'));
    expect({ step, waiting: waiting.length > 0 }).toEqual({ step, waiting: true });
    for (const t of waiting)
      expect({ step, table: t.table, total: t.total }).toEqual({
        step,
        table: t.table,
        total: step === 'publish' ? moved[t.table] : inScope[t.table],
      });
  }
  // And `status --watch` renders it table by table in publish's own word, with no time left (its
  // INSERTs cannot count rows inside one statement).
  expect(frame).toMatch(
    /^publish \(inserting\): \d of 4 tables done, \d+ of \d+ rows published \(\d+%\), [^,]+ elapsed; rows are counted per table/,
  );
  expect(frame).toMatch(/table\s+state\s+published\s+of\s+done\s+elapsed\n/);
  expect(frame).not.toMatch(/left$|rows\/s/m);
  // Stage streams (COPY): its tables say so, and only it may estimate.
  expect((seen.get('stage') ?? []).some((b) => b.tables.some((t) => t.streamed))).toBe(true);
  for (const step of ['cleanup', 'publish', 'validate'])
    expect((seen.get(step) ?? []).every((b) => b.tables.every((t) => !t.streamed))).toBe(true);
  // Stage's own total is the rows in scope (what it copies), not the rows to move.
  for (const b of seen.get('stage') ?? [])
    for (const t of b.tables.filter((x) => x.phase !== 'done'))
      expect({ table: t.table, total: t.total }).toEqual({ table: t.table, total: inScope[t.table] });
  // After publish the run's own per-table record says rows published of rows to publish (not the scope).
  const final = await waitFor(handle, () => true);
  for (const table of tables)
    expect(final.progress[table]).toMatchObject({ phase: 'published', rowsCopied: moved[table], rowsTotal: moved[table] });
  await watching;
  expect(ctx.exitCode).toBe(0);
  expect(frames[frames.length - 1]).toMatch(/status:\s+completed[\s\S]*\nfinished \(/);
  // Frames while publish ran: the live table, a finished table's row with its rows and rate.
  const live = frames.filter((f) => /running now:\npublish \(inserting\)/.test(f));
  expect(live.length).toBeGreaterThan(0);
  const done = new RegExp(`public\\.accounts\\s+done\\s+${moved['public.accounts']}\\s+${moved['public.accounts']}\\s+100%\\s+\\S+$`, 'm');
  expect(live.some((f) => done.test(f))).toBe(true);
  expect(frames.some((f) => /running now:\nvalidate: \d of 4 tables done, \d+ of \d+ rows validated/.test(f))).toBe(true);
}, 300000);
