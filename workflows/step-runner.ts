// The one step-runner every step goes through: run it; if it still fails after its activity
// retries, pause (status `paused`, error kept) until on-call resumes with retry, skip or abort.
import { ActivityFailure, ApplicationFailure, condition } from '@temporalio/workflow';
import type { ResumeInput, StepError } from '../common/temporal';
import type { RunState } from './state';
import { now } from './state';

export class RunAborted extends Error {
  constructor(readonly decision: ResumeInput) {
    super(`aborted by ${decision.by}: ${decision.reason}`);
    this.name = 'RunAborted';
  }
}

export interface StepControl {
  state: RunState;
  /** Set by the resume handler; consumed here. */
  pendingResume: ResumeInput | null;
  /** Whether the step currently paused may be skipped (read by the resume handler). */
  skippable: boolean;
  publish(): void;
}

export type StepOutcome<T> = { skipped: false; value: T } | { skipped: true };

export interface StepOptions<T> {
  skippable?: boolean;
  /** A note for the step history when the step completes (e.g. why stage restarted). */
  detail?: (value: T) => string | undefined;
}

export async function runStep<T>(ctl: StepControl, step: string, fn: () => Promise<T>, opts: StepOptions<T> = {}): Promise<StepOutcome<T>> {
  const s = ctl.state;
  for (;;) {
    s.status = 'running';
    s.phase = step;
    s.error = null;
    s.record(step, 'started');
    ctl.publish();
    try {
      const value = await fn();
      s.record(step, 'completed', opts.detail?.(value));
      return { skipped: false, value };
    } catch (err) {
      s.error = describeFailure(step, err);
      s.status = 'paused';
      s.record(step, 'failed', `${s.error.type}: ${s.error.message}`);
      ctl.skippable = opts.skippable ?? false;
      ctl.publish();
      await condition(() => ctl.pendingResume !== null);
      const decision = ctl.pendingResume!;
      ctl.pendingResume = null;
      s.decision = { by: decision.by, action: decision.action, reason: decision.reason, at: now() };
      if (decision.action === 'abort') throw new RunAborted(decision);
      if (decision.action === 'skip') {
        s.error = null;
        s.record(step, 'skipped', `by ${decision.by}: ${decision.reason}`);
        return { skipped: true };
      }
      s.record(step, 'retried', `by ${decision.by}: ${decision.reason}`);
    }
  }
}

export function describeFailure(step: string, err: unknown): StepError {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return { step, type: cause.type ?? 'Error', message: cause.message, at: now() };
  }
  const e = cause as Error;
  return { step, type: e?.name ?? 'Error', message: e?.message ?? String(err), at: now() };
}

/** Details attached to an ApplicationFailure (e.g. the validation result), if any. */
export function failureDetails(err: unknown): unknown {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
}
