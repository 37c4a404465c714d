// Heartbeats for steps that run external tools (pg_dump, pg_restore): the latest progress is sent
// every few seconds, so a dead worker is noticed within the heartbeat timeout even while one table
// streams for minutes, and the activity's cancellation reaches the tools through `signal`.
// What is sent is the common progress shape (common/progress.ts): the phase ("dumping target"),
// bytes streamed, and per table the rows counted in the dump's snapshot, done once dumped.
// Outside an activity (tests, scripts) it only keeps the progress.
import { Context } from '@temporalio/activity';
import { StepTracker } from './step-progress';

export interface BackupProgress {
  phase: 'counting' | 'dumping' | 'verifying' | 'restoring' | 'comparing' | 'done';
  backup?: 'target' | 'source';
  table?: string; // being counted
  bytes?: number; // written to the store / read back so far
}

export interface Progress {
  readonly current: BackupProgress;
  /** Per-table rows (named `<backup> <table>`), sent with every beat. */
  readonly tracker: StepTracker;
  update(p: Partial<BackupProgress>): void;
  signal?: AbortSignal;
  stop(): void;
}

export function startProgress(initial: BackupProgress, step = 'backup'): Progress {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined; // not in an activity
  }
  const current = { ...initial };
  const tracker = new StepTracker(step);
  let last = 0;
  const sync = () => tracker.phase([current.phase, current.backup, current.table].filter(Boolean).join(' '), current.bytes ?? null);
  const beat = () => {
    last = Date.now();
    sync();
  };
  const timer = ctx ? setInterval(beat, 5000) : undefined;
  beat();
  return {
    current,
    tracker,
    update(p) {
      const moved = (p.phase !== undefined && p.phase !== current.phase) || (p.backup !== undefined && p.backup !== current.backup);
      if (moved) {
        delete current.table;
        delete current.bytes;
      }
      const nextTable = p.table !== undefined && p.table !== current.table;
      Object.assign(current, p);
      // Each phase and table is told at once (few); byte counts at most once a second.
      if (moved || nextTable || Date.now() - last > 1000) beat();
    },
    signal: ctx?.cancellationSignal,
    stop: () => clearInterval(timer),
  };
}
