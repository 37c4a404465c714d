// The progress every long step heartbeats (common/progress.ts) and how `cutover status --watch`
// shows it: per-table rows done out of the step's own total in its own word, elapsed time, and a
// time left only where the step measures rows as they stream (from its own throughput, never above
// ten times the time it ran); the tracker that composes it.
import {
  formatDuration,
  formatRate,
  isStepProgress,
  PROGRESS_KIND,
  rowsPerSecond,
  stepTimeLeftMs,
  tableEstimate,
  timeLeftMs,
  type StepProgress,
} from '../common/progress';
import { StepTracker } from '../activities/db/step-progress';
import { formatLiveProgress, formatStepProgress, stepProgressFrom } from '../client/format/progress';
import { formatStatus, progressFromHeartbeat } from '../client/format/status';
import type { StatusView } from '../common/temporal';
import { stepSummary } from '../workflows/step-summary';
import type { RunState } from '../workflows/state';

const publish: StepProgress = {
  kind: PROGRESS_KIND,
  step: 'publish',
  phase: 'inserting',
  startedAt: '2026-01-02T03:04:05.000Z',
  elapsedMs: 20000,
  done: 30000,
  total: 90000,
  tables: [
    { table: 'public.accounts', phase: 'done', done: 30000, total: 30000, elapsedMs: 10000 },
    { table: 'public.orders', phase: 'running', done: 0, total: 50000, elapsedMs: 4000 },
    { table: 'public.notes', phase: 'waiting', done: 0, total: 10000, elapsedMs: 0 },
  ],
};

describe('rates and time left', () => {
  test('rows per second and time left', () => {
    expect(rowsPerSecond(30000, 20000)).toBe(1500);
    expect(rowsPerSecond(0, 20000)).toBeNull();
    expect(rowsPerSecond(10, 0)).toBeNull();
    expect(timeLeftMs(30000, 90000, 1500)).toBe(40000);
    expect(timeLeftMs(30000, 0, 1500)).toBeNull(); // no total: unknown, not zero
    expect(timeLeftMs(30000, 90000, null)).toBeNull();
    expect(timeLeftMs(100, 90, 10)).toBe(0);
  });

  test('a streaming table goes at its own pace; a table counted only at its end has no estimate', () => {
    const streaming = tableEstimate({ table: 't', phase: 'running', done: 2000, total: 10000, elapsedMs: 4000, streamed: true });
    expect(streaming).toEqual({ rate: 500, leftMs: 16000 });
    // The same table counted only when its statement ends: no rate, no time left (not the step's pace).
    expect(tableEstimate(publish.tables[1])).toEqual({ rate: null, leftMs: null });
    expect(tableEstimate(publish.tables[0])).toEqual({ rate: 3000, leftMs: 0 });
    expect(tableEstimate({ table: 't', phase: 'waiting', done: 0, total: 0, elapsedMs: 0 }).leftMs).toBeNull();
    // Above ten times the time it ran: no estimate (early throughput says nothing that far out).
    expect(tableEstimate({ table: 't', phase: 'running', done: 10, total: 100000, elapsedMs: 4000, streamed: true })).toEqual({
      rate: 2.5,
      leftMs: null,
    });
  });

  test('a step estimates only from its own streamed throughput, and never above ten times its elapsed time', () => {
    // The publish: 23 rows of small tables in 28 s, the 2,000,007-row table inside one INSERT.
    const big: StepProgress = {
      ...publish,
      elapsedMs: 28000,
      done: 23,
      total: 2000030,
      tables: [
        { table: 'public.small', phase: 'done', done: 23, total: 23, elapsedMs: 100 },
        { table: 'public.big', phase: 'running', done: 0, total: 2000007, elapsedMs: 27900 },
      ],
    };
    expect(stepTimeLeftMs(big)).toBeNull();
    expect(formatStepProgress(big)).not.toMatch(/about .* left|rows\/s|\dh/);
    expect(formatStepProgress(big)).toContain('no time-left estimate');
    // A streaming step: its own rate, 10,000 rows in 10 s, 20,000 to go: 20 s.
    const stage: StepProgress = {
      ...publish,
      step: 'stage',
      phase: undefined,
      elapsedMs: 10000,
      done: 10000,
      total: 30000,
      tables: [{ table: 'a', phase: 'running', done: 10000, total: 30000, elapsedMs: 10000, streamed: true }],
    };
    expect(stepTimeLeftMs(stage)).toBe(20000);
    // 100 rows in 10 s of 30,000: 50 min would be 300 times the elapsed time: none.
    expect(stepTimeLeftMs({ ...stage, done: 100, tables: [{ ...stage.tables[0], done: 100 }] })).toBeNull();
    // A table still to go with no known total: none.
    expect(
      stepTimeLeftMs({ ...stage, tables: [...stage.tables, { table: 'b', phase: 'waiting', done: 0, total: 0, elapsedMs: 0 }] }),
    ).toBeNull();
    for (const done of [1, 10, 100, 1000, 5000, 9999]) {
      const left = stepTimeLeftMs({ ...stage, done, elapsedMs: 1000, tables: [{ ...stage.tables[0], done, elapsedMs: 1000 }] });
      expect(left === null || left <= 10 * 1000).toBe(true);
    }
  });

  test('durations and rates read at a glance', () => {
    expect(formatDuration(950)).toBe('0.9s');
    expect(formatDuration(42000)).toBe('42s');
    expect(formatDuration(75000)).toBe('1m15s');
    expect(formatDuration(2 * 3600000 + 5 * 60000)).toBe('2h05m');
    expect(formatDuration(null)).toBe('?');
    expect(formatRate(12.4)).toBe('12');
    expect(formatRate(12345.6)).toBe('12.3k');
    expect(formatRate(2.5e6)).toBe('2.5M');
    expect(formatRate(null)).toBe('-');
  });
});

describe('the tracker a step reports through', () => {
  test('tables go waiting → running → done with rows, totals and elapsed time', () => {
    const p = new StepTracker('validate', [
      { table: 'a', total: 10 },
      { table: 'b', total: 5 },
    ]);
    let s = p.snapshot();
    expect(isStepProgress(s)).toBe(true);
    expect(s.tables.map((t) => `${t.table}:${t.phase}:${t.done}/${t.total}`)).toEqual(['a:waiting:0/10', 'b:waiting:0/5']);
    p.table('a').rows('a', 4);
    s = p.snapshot();
    expect(s.tables[0]).toMatchObject({ phase: 'running', done: 4, total: 10 });
    p.done('a', 12).phase('checking');
    s = p.snapshot();
    // A table that turned out larger than expected: its total grows with it.
    expect(s.tables[0]).toMatchObject({ phase: 'done', done: 12, total: 12 });
    expect(s).toMatchObject({ step: 'validate', unit: 'validated', phase: 'checking', done: 12, total: 17 });
    // Rows counted as they go mark the table streamed; one counted only when done is not.
    expect(s.tables[0].streamed).toBe(true);
    p.done('b', 5);
    expect(p.snapshot().tables[1].streamed).toBeUndefined();
    expect(s.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(new Date(s.startedAt).toISOString()).toBe(s.startedAt);
    // Plain JSON: what the Temporal UI shows as the pending activity's heartbeat details.
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});

describe('status --watch', () => {
  test('a set-based step: table by table, its own word, elapsed time, no time left', () => {
    const text = formatStepProgress(publish);
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      'publish (inserting): 1 of 3 tables done, 30000 of 90000 rows published (33%), 20s elapsed; rows are counted per table as each statement ends: no time-left estimate',
    );
    expect(lines[1]).toMatch(/^table\s+state\s+published\s+of\s+done\s+elapsed$/);
    expect(lines[3]).toMatch(/^public\.accounts\s+done\s+30000\s+30000\s+100%\s+10s$/);
    expect(lines[4]).toMatch(/^public\.orders\s+running\s+0\s+50000\s+0%\s+4\.0s$/);
    expect(lines[5]).toMatch(/^public\.notes\s+waiting\s+0\s+10000\s+0%\s+-$/);
  });

  test('a streaming step: rows/s and time left from its own throughput', () => {
    const stage: StepProgress = {
      kind: PROGRESS_KIND,
      step: 'stage',
      startedAt: publish.startedAt,
      elapsedMs: 10000,
      done: 12000,
      total: 30000,
      tables: [
        { table: 'public.accounts', phase: 'done', done: 10000, total: 10000, elapsedMs: 5000, streamed: true },
        { table: 'public.orders', phase: 'running', done: 2000, total: 20000, elapsedMs: 5000, streamed: true },
      ],
    };
    const lines = formatStepProgress(stage).split('\n');
    expect(lines[0]).toBe('stage: 1 of 2 tables done, 12000 of 30000 rows staged (40%), 1.2k rows/s, 10s elapsed, about 15s left');
    expect(lines[1]).toMatch(/^table\s+state\s+staged\s+of\s+done\s+rows\/s\s+elapsed\s+left$/);
    // orders: 18,000 rows at its own 400 rows/s is 45 s, within ten times its 5 s.
    expect(lines[4]).toMatch(/^public\.orders\s+running\s+2000\s+20000\s+10%\s+400\s+5\.0s\s+45s$/);
  });

  test('heartbeat details decode to steps: bare, in the argument list, or inside a rehearsal', () => {
    expect(stepProgressFrom(publish)).toEqual([publish]);
    expect(stepProgressFrom([publish])).toEqual([publish]);
    expect(stepProgressFrom({ rehearsal: 'publish', step: publish })).toEqual([{ ...publish, within: 'rehearsal' }]);
    expect(stepProgressFrom({ table: 'x', rowsCopied: 1 })).toEqual([]);
    expect(stepProgressFrom('junk')).toEqual([]);
    expect(formatLiveProgress([{ ...publish, within: 'rehearsal' }])).toMatch(/^rehearsal → publish \(inserting\)/);
    expect(formatLiveProgress([])).toBeNull();
    // The per-table form older callers use.
    expect(progressFromHeartbeat(publish).map((p) => `${p.table}:${p.rowsCopied}/${p.rowsTotal}:${p.activity}`)).toEqual([
      'public.accounts:30000/30000:publish',
      'public.orders:0/50000:publish',
      'public.notes:0/10000:publish',
    ]);
  });

  test('the status frame ends with what runs now', () => {
    const view = {
      planId: 'p',
      strategy: 'merge',
      status: 'running',
      phase: 'publish',
      gate: null,
      approvals: [],
      required: 2,
      refused: [],
      refusedCount: 0,
      error: null,
      progress: {},
      planHash: 'h',
      initiatedBy: 'alice',
      runKey: 'k',
      steps: [],
    } as unknown as StatusView;
    const frame = formatStatus(view, { steps: [publish] });
    expect(frame).toMatch(/running now:\npublish \(inserting\): 1 of 3 tables done/);
    expect(formatStatus(view)).not.toContain('running now:');
  });
});

describe("the UI's current details: per-step completion", () => {
  const state = (over: Record<string, unknown>) =>
    ({ status: 'running', phase: 'publish', gate: null, plan: { tables: [{}, {}] }, results: {}, ...over }) as unknown as RunState;

  test("steps done with tables and rows, and where the running step's progress is", () => {
    const text = stepSummary(
      state({
        results: {
          stage: {
            tables: [
              { table: 'a', rows: 10 },
              { table: 'b', rows: 5 },
            ],
          },
          cleanup: { leftBehind: { a: { 'test-data': 2 } }, transforms: [] },
        },
      }),
    )!;
    expect(text).toMatch(/```text\nstep done +tables +rows\n[- ]+\nstage +2\/2 +15 in scope\ncleanup +2\/2 +2 left behind\n```/);
    expect(text).toMatch(
      /Running `publish`: per-table rows done \/ total and elapsed time are in \*\*Pending Activities → Heartbeat Details\*\*/,
    );
  });

  test('nothing while waiting at a gate with no step done; an odd old result is left out, not thrown', () => {
    expect(stepSummary(state({ phase: 'gate:plan', gate: 'plan', status: 'awaiting-approval' }))).toBeNull();
    expect(stepSummary(state({ status: 'completed', phase: 'done', results: { publish: { tables: null } } }))).toBeNull();
  });
});
