// One shape for the progress every long step (stage, cleanup, publish, validate, backup, restore,
// erasure, rollback, rehearsal) sends in its activity heartbeats: per table rows done out of the
// step's own total (what it publishes, validates, erases — never the scope's), in its own word
// (`unit`), and elapsed time. It is plain, readable JSON because the Temporal UI shows it as it is
// (Pending Activities → Heartbeat Details), and `cutover status --watch` turns it into a live table
// (the arithmetic is here, pure, so both sides agree and tests can pin it). Honest estimates only:
// a step whose tables each go in one statement (set-based INSERT … SELECT, checksums, deletes)
// cannot count rows inside it, so it reports table by table with elapsed time and no time left; a
// step that counts rows as they stream (stage's COPY) gets a time left from its own measured
// throughput, and never one above ten times the time it has run.

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
  /** Rows are counted as they go (streaming COPY); absent: only once the table's statement is done. */
  streamed?: boolean;
}

/** Each step's word for its rows done (`12 of 40 rows published`). */
export const STEP_UNITS: Record<string, string> = {
  stage: 'staged',
  cleanup: 'cleaned',
  publish: 'published',
  validate: 'validated',
  'access-checks': 'checked',
  erasure: 'erased',
  'erasure-final': 'erased',
  rollback: 'deleted',
  restore: 'restored',
  backup: 'dumped',
  'adopt-cleanup': 'removed',
  'adopt-restore': 'restored',
};

/** The word for a step's rows done ("done" for a step without one). */
export const unitOf = (p: Pick<StepProgress, 'step' | 'unit'>): string => p.unit ?? STEP_UNITS[p.step] ?? 'done';

/** An estimate is never above this many times the time already spent (early throughput says little more). */
export const MAX_ESTIMATE_FACTOR = 10;

export interface StepProgress {
  kind: typeof PROGRESS_KIND;
  step: string;
  /** What the step is doing now, in its own words (e.g. "building id maps", "dumping target"). */
  phase?: string;
  /** The step's word for rows done (published, validated, erased …): common/progress.ts STEP_UNITS. */
  unit?: string;
  startedAt: string;
  /** Since the step (this attempt) began, when the beat was composed. */
  elapsedMs: number;
  /** Sums over the tables. */
  done: number;
  total: number;
  tables: TableStepProgress[];
  /** Bytes written or read, for steps that stream archives (backup, restore). */
  bytes?: number;
  /** A step running within another (the rehearsal's child workflow runs stage, publish …): the outer one, set by the reader (client/commands/status.ts). */
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

/** Whether the step counts rows inside its statements (some table streams): only then can it estimate. */
export const measures = (p: Pick<StepProgress, 'tables'>): boolean => p.tables.some((t) => t.streamed);

/** `leftMs`, or null when above MAX_ESTIMATE_FACTOR times `elapsedMs` (or unknown). */
function bounded(leftMs: number | null, elapsedMs: number): number | null {
  if (leftMs === null || !(elapsedMs > 0) || leftMs > MAX_ESTIMATE_FACTOR * elapsedMs) return null;
  return leftMs;
}

/**
 * Time left of the whole step: from its own measured throughput (rows done / time run), only when it
 * counts rows as they stream, every table still to go has a known total, and the answer is within
 * ten times the time run; otherwise null (unknown, never a guess).
 */
export function stepTimeLeftMs(p: Pick<StepProgress, 'tables' | 'done' | 'total' | 'elapsedMs'>): number | null {
  if (!measures(p)) return null;
  if (p.tables.some((t) => t.phase !== 'done' && !(t.total > 0))) return null;
  return bounded(timeLeftMs(p.done, p.total, rowsPerSecond(p.done, p.elapsedMs)), p.elapsedMs);
}

/**
 * Rate and time left of one table: its own pace, measured while it streams (the rate of a finished
 * table is its rows over its time). A table counted only at its end, or not begun, has no estimate.
 */
export function tableEstimate(t: TableStepProgress): { rate: number | null; leftMs: number | null } {
  if (t.phase === 'done') return { rate: rowsPerSecond(t.done, t.elapsedMs), leftMs: 0 };
  if (t.phase !== 'running' || !t.streamed) return { rate: null, leftMs: null };
  const rate = rowsPerSecond(t.done, t.elapsedMs);
  return { rate, leftMs: bounded(timeLeftMs(t.done, t.total, rate), t.elapsedMs) };
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
