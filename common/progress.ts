// One shape for the progress every long step (stage, cleanup, publish, validate, backup, restore,
// erasure, rollback, rehearsal) sends in its activity heartbeats: per table rows done / total and
// elapsed time. It is plain, readable JSON because the Temporal UI shows it as it is (Pending
// Activities → Heartbeat Details), and `cutover status --watch` turns it into a live table with
// rows/s and time left (the arithmetic is here, pure, so both sides agree and tests can pin it).

/** Marks a heartbeat as this shape (older workers sent other details). */
export const PROGRESS_KIND = 'cutover.progress';

export interface TableStepProgress {
  table: string;
  /** waiting: not begun; running: being worked on now; done: finished in this step. */
  phase: 'waiting' | 'running' | 'done';
  /** Rows done so far (set-based statements report a table's rows only once it is done). */
  done: number;
  /** Rows expected (0 when not known in advance). */
  total: number;
  /** Since this table began (frozen when done; 0 while waiting). */
  elapsedMs: number;
}

export interface StepProgress {
  kind: typeof PROGRESS_KIND;
  step: string;
  /** What the step is doing now, in its own words (e.g. "building id maps", "dumping target"). */
  phase?: string;
  startedAt: string;
  /** Since the step (this attempt) began, when the beat was composed. */
  elapsedMs: number;
  /** Sums over the tables. */
  done: number;
  total: number;
  tables: TableStepProgress[];
  /** Bytes written or read, for steps that stream archives (backup, restore). */
  bytes?: number;
  /** An activity that runs other steps inside it (rehearsal) names the outer one here. */
  within?: string;
}

export function isStepProgress(x: unknown): x is StepProgress {
  const v = x as StepProgress | null;
  return !!v && typeof v === 'object' && v.kind === PROGRESS_KIND && typeof v.step === 'string' && Array.isArray(v.tables);
}

/** Rows per second over `elapsedMs`, or null when there is nothing to go by yet. */
export function rowsPerSecond(done: number, elapsedMs: number): number | null {
  if (!(done > 0) || !(elapsedMs > 0)) return null;
  return (done * 1000) / elapsedMs;
}

/** Milliseconds left at `rate` rows/s, or null when unknown (no rate, no total). */
export function timeLeftMs(done: number, total: number, rate: number | null): number | null {
  if (rate === null || !(rate > 0) || !(total > 0)) return null;
  return (Math.max(0, total - done) / rate) * 1000;
}

/**
 * Rate and time left of one table: its own pace once it has rows done; a table that reports rows
 * only at its end (set-based INSERT … SELECT, checksums) goes at the step's pace so far.
 */
export function tableEstimate(t: TableStepProgress, step: Pick<StepProgress, 'done' | 'elapsedMs'>): { rate: number | null; leftMs: number | null } {
  if (t.phase === 'done') return { rate: rowsPerSecond(t.done, t.elapsedMs), leftMs: 0 };
  const own = t.phase === 'running' ? rowsPerSecond(t.done, t.elapsedMs) : null;
  const rate = own ?? rowsPerSecond(step.done, step.elapsedMs);
  if (rate === null || !(t.total > 0)) return { rate: own, leftMs: null };
  // Time already spent on the running table counts against what is left of it.
  const left = timeLeftMs(t.done, t.total, rate)!;
  return { rate: own, leftMs: own === null && t.phase === 'running' ? Math.max(0, left - t.elapsedMs) : left };
}

/** 950 ms → "0.9s", 75 s → "1m15s", 2 h 5 min → "2h05m". */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '?';
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m - h * 60).padStart(2, '0')}m`;
}

/** 12.3 → "12", 12345.6 → "12.3k", 2.5e6 → "2.5M". */
export function formatRate(rate: number | null): string {
  if (rate === null || !Number.isFinite(rate)) return '-';
  if (rate < 1000) return String(Math.round(rate));
  if (rate < 1e6) return `${(rate / 1000).toFixed(1)}k`;
  return `${(rate / 1e6).toFixed(1)}M`;
}
