// The one step-runner every step goes through: run it; if it still fails after its activity
// retries, pause (status `paused`, error kept, the accepted actions listed) until on-call resumes.
// retry runs it again here; skip returns; abort, rollback and roll-forward leave the step by
// throwing, and the workflow's loop over the step table acts on them.
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, condition } from '@temporalio/workflow';
import { continueSuggested } from './continue';
import { attemptInDetails, isAttemptMarker, takeAttempt } from '../common/attempts';
import type { ResumeInput, SignatureEvidence, StepError } from '../common/temporal';
import type { RunState } from './state';
import { now } from './state';

/** A person chose to end the run (before anything was published). */
export class RunAborted extends Error {
  constructor(readonly decision: ResumeInput) {
    super(`aborted by ${decision.by}: ${decision.reason}`);
    this.name = 'RunAborted';
  }
}

/** A person chose to undo what was published (surgical, or restore from the backup). */
export class RollbackRequested extends Error {
  constructor(readonly decision: ResumeInput) {
    super(`rollback (${decision.mode ?? 'surgical'}) by ${decision.by}: ${decision.reason}`);
    this.name = 'RollbackRequested';
  }
}

/** A person fixed the cause and chose to re-run from an earlier (or the failed) step. */
export class RollForwardRequested extends Error {
  constructor(readonly decision: ResumeInput & { fromStep: string }) {
    super(`roll forward from ${decision.fromStep} by ${decision.by}: ${decision.reason}`);
    this.name = 'RollForwardRequested';
  }
}

/**
 * Temporal suggested continuing as new (or the run's signal budget is half spent) while the run was
 * paused at a top-level step: the workflow's loop continues as new there (workflows/continue.ts)
 * and the next run waits paused at the same step.
 */
export class ContinueRequested extends Error {
  constructor(readonly step: string) {
    super(`continue as new while paused at ${step}`);
    this.name = 'ContinueRequested';
  }
}

/** The run the steps work on: its state, and how a change of it is made visible (search attributes, the UI's details). */
export interface RunStateRef {
  state: RunState;
  publish(): void;
}

/**
 * On-call's decisions for the paused step: the resume handler (workflows/handlers.ts) fills it after
 * checking the decision against what is offered; the step runner takes it.
 */
export interface DecisionInbox {
  /** Set by the resume handler; consumed here. */
  pendingResume: ResumeInput | null;
  /** What the pending resume's signature proved, when it was signed (kept with the decision). */
  pendingSignature?: SignatureEvidence;
  /** Whether the step currently paused may be skipped (read by the resume handler). */
  skippable: boolean;
  /** Signals this run (not the chain) has received, of any name: the server allows each run a fixed number (see continueSuggested). */
  signalsThisRun?: number;
  /** The resume actions the handlers would accept now (shown in status and the UI). */
  offered(): string[];
  /** A retry that accepts a moved database records it before the step runs again: null, or why it could not. */
  acceptDatabase?: (decision: ResumeInput, signature?: SignatureEvidence) => Promise<StepError | null>;
}

/** How this run's steps run: when a fresh history is due, and how deep in nested steps the runner is. */
export interface RunOptions {
  /** The run's history size in its first workflow task (see continueSuggested). */
  startSize?: number;
  /** Steps running inside a step (stage again inside publish): a pause there is not a safe point. */
  depth?: number;
}

/** What the step runner is given: the run state, the decision inbox and the run options, one object (the workflow builds it once). */
export type StepControl = RunStateRef & DecisionInbox & RunOptions;

export type StepOutcome<T> = { skipped: false; value: T } | { skipped: true };

export interface StepOptions<T> {
  skippable?: boolean;
  /** A note for the step history when the step completes (e.g. why stage restarted). */
  detail?: (value: T) => string | undefined;
}

export async function runStep<T>(ctl: StepControl, step: string, fn: () => Promise<T>, opts: StepOptions<T> = {}): Promise<StepOutcome<T>> {
  const s = ctl.state;
  const pause = (error: StepError, skippable: boolean) => {
    s.error = error;
    s.status = 'paused';
    s.pauses++;
    s.record(step, 'failed', `${error.type}: ${error.message}`, error.attempts);
    ctl.skippable = skippable;
    s.actions = ctl.offered();
    ctl.publish();
  };
  // A continued run (workflows/continue.ts) that was paused here waits again, without re-running the step.
  let waiting = s.pausedAt?.step === step;
  if (waiting) {
    ctl.skippable = s.pausedAt!.skippable;
    s.pausedAt = null;
    ctl.publish();
  }
  for (;;) {
    if (!waiting) {
      s.status = 'running';
      s.phase = step;
      s.error = null;
      s.record(step, 'started');
      ctl.publish();
      ctl.depth = (ctl.depth ?? 0) + 1;
      try {
        // The step runs to its end: the run never continues as new while a step runs (only at the
        // safe points, workflows/continue.ts); the server's limits bound what a flood adds meanwhile.
        const value = await fn();
        // Temporal's own attempt count (common/attempts.ts): the evidence counts what really ran.
        const attempts = takeAttempt(value);
        s.record(step, 'completed', opts.detail?.(value), attempts);
        return { skipped: false, value };
      } catch (err) {
        pause(describeFailure(step, err), opts.skippable ?? false);
      } finally {
        ctl.depth = (ctl.depth ?? 1) - 1;
      }
    }
    waiting = false;
    // Only a pause of the loop's own step is a safe point to continue as new (not one nested in a step).
    const mayContinue = !ctl.depth;
    await condition(() => ctl.pendingResume !== null || (mayContinue && continueSuggested(ctl)));
    if (ctl.pendingResume === null) {
      s.pausedAt = { step, skippable: ctl.skippable };
      throw new ContinueRequested(step);
    }
    const decision = ctl.pendingResume!;
    const signature = ctl.pendingSignature;
    ctl.pendingResume = null;
    s.actions = [];
    s.decision = { by: decision.by, action: decision.action, reason: decision.reason, at: now(), ...(signature ? { signature } : {}) };
    ctl.pendingSignature = undefined;
    if (decision.acceptDatabase !== undefined && ctl.acceptDatabase) {
      s.status = 'running'; // no other resume is accepted while the identity is read
      const refused = await ctl.acceptDatabase(decision, signature);
      if (refused) {
        // Still paused here: the alias could not be read (or is not the run's); the step did not run.
        pause({ ...refused, step }, ctl.skippable);
        waiting = true;
        continue;
      }
    }
    if (decision.action === 'abort') throw new RunAborted(decision);
    if (decision.action === 'rollback') throw new RollbackRequested(decision);
    if (decision.action === 'roll-forward') throw new RollForwardRequested({ ...decision, fromStep: decision.fromStep ?? step });
    if (decision.action === 'skip') {
      s.error = null;
      s.record(step, 'skipped', `by ${decision.by}: ${decision.reason}`);
      return { skipped: true };
    }
    s.record(step, 'retried', `by ${decision.by}: ${decision.reason}`);
  }
}

export function describeFailure(step: string, err: unknown): StepError {
  const cause = (err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && err.cause ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const attempts = attemptInDetails(cause.details);
    return { step, type: cause.type ?? 'Error', message: cause.message, at: now(), ...(attempts !== undefined ? { attempts } : {}) };
  }
  const e = cause as Error;
  return { step, type: e?.name ?? 'Error', message: e?.message ?? String(err), at: now() };
}

/** PostgreSQL's failures (activities/db/pg-errors.ts): their details are the server's full words, never a result. */
const SERVER_WORDS = ['ConstraintViolation', 'DatabaseError', 'TransientDatabaseError'];

/**
 * Details attached to an ApplicationFailure (e.g. the validation result), if any. Not a database
 * failure's: those quote row values, kept only in the (encrypted) failure, never in status or evidence.
 */
export function failureDetails(err: unknown): unknown {
  const cause = err instanceof ActivityFailure || err instanceof ChildWorkflowFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure) || SERVER_WORDS.includes(cause.type ?? '')) return undefined;
  const first = cause.details?.[0];
  return isAttemptMarker(first) ? undefined : first;
}

/** The failure type of an activity failure (e.g. StagingLost), if any. A step run as a child workflow (the rehearsal) fails as a ChildWorkflowFailure, read the same way by describeFailure and failureDetails. */
export function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? (err.cause.type ?? undefined) : undefined;
}
