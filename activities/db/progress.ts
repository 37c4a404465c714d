// Heartbeats for steps that run external tools (pg_dump, pg_restore): the latest progress is sent
// every few seconds, so a dead worker is noticed within the heartbeat timeout even while one table
// streams for minutes, and the activity's cancellation reaches the tools through `signal`.
// Outside an activity (tests, scripts) it only keeps the progress.
import { Context } from '@temporalio/activity';

export interface BackupProgress {
  phase: 'counting' | 'dumping' | 'verifying' | 'restoring' | 'comparing' | 'done';
  backup?: 'target' | 'source';
  table?: string; // being counted
  bytes?: number; // written to the store / read back so far
}

export interface Progress {
  readonly current: BackupProgress;
  update(p: Partial<BackupProgress>): void;
  signal?: AbortSignal;
  stop(): void;
}

export function startProgress(initial: BackupProgress): Progress {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined; // not in an activity
  }
  const current = { ...initial };
  let last = 0;
  const beat = () => {
    last = Date.now();
    ctx?.heartbeat({ ...current });
  };
  const timer = ctx ? setInterval(beat, 5000) : undefined;
  beat();
  return {
    current,
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
