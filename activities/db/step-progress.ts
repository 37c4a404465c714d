// The activity side of common/progress.ts: a step creates one tracker, marks each table as it
// begins (`table`), as rows go by (`rows`) and when it is done (`done`); every change is sent as a
// heartbeat at once (the SDK throttles what reaches the server; the worker sets the throttle to a
// few seconds), and `details` is what withContext's keep-alive beats carry while one statement
// runs, so the latest progress reaches the server at least every few seconds, whatever runs.
// Outside an activity (plan check, scripts, tests) it only keeps the progress.
import { Context } from '@temporalio/activity';
import type { Client } from 'pg';
import { PROGRESS_KIND, STEP_UNITS, type StepProgress, type TableStepProgress } from '../../common/progress';
import type { CleanupResult } from '../../common/results';
import type { StagingNames } from './staging';
import { stepResult } from './staging-state';

interface Entry {
  table: string;
  phase: TableStepProgress['phase'];
  done: number;
  total: number;
  startedAt: number;
  finishedAt: number;
  /** Rows were counted while the table went (rows()): the step can estimate from them. */
  streamed: boolean;
}

export class StepTracker {
  private readonly started = Date.now();
  private readonly startedAt = new Date(this.started).toISOString();
  private readonly entries = new Map<string, Entry>();
  private current: string | undefined;
  private bytes: number | undefined;

  constructor(
    readonly step: string,
    /** Tables known in advance with the rows expected (their order is the display order). */
    tables: { table: string; total?: number }[] = [],
  ) {
    this.expect(tables);
  }

  /** Tables this step will work on, in order, with the rows expected when known (shown as waiting). */
  expect(tables: { table: string; total?: number }[]): this {
    for (const t of tables) this.entry(t.table, t.total);
    return this;
  }

  /** `table` begins now (`total`: rows expected, when known). */
  table(table: string, total?: number): this {
    const e = this.entry(table, total);
    e.phase = 'running';
    e.startedAt = Date.now();
    return this.beat();
  }

  /** Rows of `table` done so far (streaming steps). */
  rows(table: string, done: number): this {
    const e = this.entry(table);
    if (e.phase === 'waiting') Object.assign(e, { phase: 'running', startedAt: Date.now() });
    e.done = done;
    e.streamed = true;
    // Row counts move fast: at most one beat a second (table changes are told at once).
    if (Date.now() - this.lastRows < 1000) return this;
    this.lastRows = Date.now();
    return this.beat();
  }

  /** `table` is finished with `rows` rows (its total becomes at least that). */
  done(table: string, rows: number): this {
    const e = this.entry(table);
    if (e.phase === 'waiting') e.startedAt = Date.now();
    Object.assign(e, { phase: 'done', done: rows, total: Math.max(e.total, rows), finishedAt: Date.now() });
    return this.beat();
  }

  /** What the step does now, beyond per-table work (e.g. "finding conflicts"); `bytes`: streamed so far (null: none now). */
  phase(what: string | undefined, bytes?: number | null): this {
    this.current = what;
    if (bytes === null) this.bytes = undefined;
    else if (bytes !== undefined) this.bytes = bytes;
    return this.beat();
  }

  private lastRows = 0;
  /** Carried in every beat beside the progress (stage: the snapshot a retry rejoins). */
  extra: Record<string, unknown> = {};

  snapshot(): StepProgress {
    const now = Date.now();
    const tables = [...this.entries.values()].map((e): TableStepProgress => ({
      table: e.table,
      phase: e.phase,
      done: e.done,
      total: e.total,
      elapsedMs: e.phase === 'waiting' ? 0 : (e.phase === 'done' ? e.finishedAt : now) - e.startedAt,
      ...(e.streamed ? { streamed: true } : {}),
    }));
    return {
      kind: PROGRESS_KIND,
      step: this.step,
      ...(STEP_UNITS[this.step] ? { unit: STEP_UNITS[this.step] } : {}),
      ...(this.current ? { phase: this.current } : {}),
      startedAt: this.startedAt,
      elapsedMs: now - this.started,
      done: tables.reduce((a, t) => a + t.done, 0),
      total: tables.reduce((a, t) => a + Math.max(t.total, t.done), 0),
      tables,
      ...(this.bytes !== undefined ? { bytes: this.bytes } : {}),
      ...this.extra,
    };
  }

  /** For withContext's keep-alive beats. */
  readonly details = (): StepProgress => this.snapshot();

  private beat(): this {
    try {
      Context.current().heartbeat(this.snapshot());
    } catch {
      // not in an activity
    }
    return this;
  }

  private entry(table: string, total?: number): Entry {
    let e = this.entries.get(table);
    if (!e) {
      e = { table, phase: 'waiting', done: 0, total: 0, startedAt: 0, finishedAt: 0, streamed: false };
      this.entries.set(table, e);
    }
    if (total !== undefined && total > 0) e.total = total;
    return e;
  }
}

/** Per table, rows in scope (stage) and left behind (cleanup) as the step log recorded them: the totals of later steps. */
export async function stagedCounts(db: Client, names: StagingNames): Promise<Record<string, { inScope: number; leftBehind: number }>> {
  const staged = await stepResult<{ inScope?: Record<string, number> }>(db, names, 'stage');
  const cleaned = await stepResult<CleanupResult>(db, names, 'cleanup');
  const out: Record<string, { inScope: number; leftBehind: number }> = {};
  for (const [table, n] of Object.entries(staged?.inScope ?? {})) {
    const left = Object.values(cleaned?.leftBehind?.[table] ?? {}).reduce((a, x) => a + x, 0);
    out[table] = { inScope: Number(n) || 0, leftBehind: left };
  }
  return out;
}
