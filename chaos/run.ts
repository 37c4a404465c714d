// One run the suite drives as its people would: started with the cutover workflow, gates approved by
// two approvers, and (by kind) a pause handled the way on-call would — a failed validation after
// publish is rolled back; a row Production refuses is checked (key named, nothing published, rollback
// not offered since nothing committed) and the run aborted. Anything else that pauses it is a failure.
import { outcomeResult } from '../common/outcome';
import type { Client, WorkflowHandle } from '@temporalio/client';
import {
  approveSignal,
  resumeSignal,
  statusQuery,
  TASK_QUEUE,
  TERMINAL_STATUSES,
  WORKFLOW_TYPE,
  workflowIdFor,
  type StatusView,
} from '../common/temporal';
import { saasPlan } from '../harness/saas';
import { checksums, createPair, rowSets, withDb, type Pair, type RowSets } from './data';

export type RunKind = 'complete' | 'rollback' | 'conflict';
const EXPECTED_END: Record<RunKind, string> = { complete: 'completed', rollback: 'rolled-back', conflict: 'aborted' };
/** A moving Pilot user (account 4 is not a test account) whose e-mail Production takes meanwhile. */
export const CONFLICT_EMAIL = 'user3@example.com';

export interface RunSpec {
  /** Short name, also the plan id's tail and the aliases' suffix. */
  name: string;
  kind: RunKind;
  /** Kill -9 points, in the order the run reaches them (one per round). */
  kills?: string[];
  backup?: boolean;
  /** Approval of gate plan withheld until released (the worker is killed while the run waits there). */
  holdPlanGate?: boolean;
}

export class ChaosRun {
  readonly planId: string;
  readonly aliases: { source: string; target: string };
  pair!: Pair;
  handle: WorkflowHandle | null = null;
  last: StatusView | null = null;
  end: string | null = null;
  /** Why the run did not go as it should (empty: it did). */
  problems: string[] = [];
  notes: string[] = [];
  /** Production as the run must leave it when the comparison is not with the reference run (conflict). */
  expected: RowSets | null = null;
  planGateHeld: boolean;
  private conflictInserted = false;
  private readonly pauses = new Set<string>();

  constructor(
    readonly spec: RunSpec,
    readonly suite: string,
    private readonly storeDir: string,
  ) {
    this.planId = `chaos-${spec.name}`;
    const slug = spec.name.replace(/[^a-z0-9]/g, '_');
    this.aliases = { source: `pilot_${slug}`, target: `production_${slug}` };
    this.planGateHeld = !!spec.holdPlanGate;
  }

  get kills(): string[] {
    return this.spec.kills ?? [];
  }

  /** The worker's environment for this run's connection aliases. */
  env(): Record<string, string> {
    return {
      [`CUTOVER_DB_${this.aliases.source.toUpperCase()}`]: this.pair.pilot,
      [`CUTOVER_DB_${this.aliases.target.toUpperCase()}`]: this.pair.production,
    };
  }

  async prepare(): Promise<void> {
    this.pair = await createPair(`${this.suite}_${this.spec.name.replace(/[^a-z0-9]/g, '_')}`, {
      emailUnique: this.spec.kind === 'conflict',
    });
  }

  plan(): Record<string, unknown> {
    return saasPlan(this.planId, {
      source: this.aliases.source,
      target: this.aliases.target,
      parallelism: 1,
      ...(this.spec.backup ? { backup: { store: `file://${this.storeDir}` } } : {}),
    });
  }

  /** Runs with kill points have a task queue (and worker) of their own: a kill breaks that run alone. */
  get taskQueue(): string {
    return this.kills.length ? `chaos-${this.spec.name}` : TASK_QUEUE;
  }

  async start(client: Client): Promise<void> {
    this.handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: this.taskQueue,
      workflowId: workflowIdFor(this.planId),
      args: [{ plan: this.plan(), initiatedBy: 'chaos' }],
    });
  }

  get done(): boolean {
    return this.end !== null;
  }

  /** Look at the run once and act as its people would; true when it has ended. */
  async tick(): Promise<boolean> {
    if (this.done || !this.handle) return this.done;
    const d = await this.handle.describe();
    if (d.status.name !== 'RUNNING') {
      // Rejected, aborted and rolled-back runs close as Failed with their result in the failure (common/outcome.ts).
      const r = (await this.handle.result().catch((e: unknown) => outcomeResult(e) ?? null)) as StatusView | null;
      this.last = r ?? this.last;
      this.end = r?.status ?? d.status.name.toLowerCase();
      if (this.end !== EXPECTED_END[this.spec.kind])
        this.problems.push(
          `ended ${this.end}, expected ${EXPECTED_END[this.spec.kind]}${r?.error ? `: ${r.error.type} ${r.error.message}` : ''}`,
        );
      return true;
    }
    const s = await this.handle.query(statusQuery);
    this.last = s;
    if ((TERMINAL_STATUSES as readonly string[]).includes(s.status)) return false; // closing: the next look reads the result
    if (s.status === 'awaiting-approval' && s.gate) {
      if (s.gate === 'plan' && this.planGateHeld) return false;
      if (s.gate === 'cutover' && this.spec.kind === 'conflict' && !this.conflictInserted) await this.insertConflict();
      for (const approver of ['alice', 'bob']) {
        if (s.approvals.some((a) => a.approver === approver && a.gate === s.gate)) continue;
        // Gate plan: acknowledge what the dry run predicts publish will refuse (the conflict run's).
        const acknowledge = s.gate === 'plan' && s.mustAcknowledge?.length ? { acknowledge: s.mustAcknowledge.map((x) => x.reason) } : {};
        await this.handle.signal(approveSignal, { gate: s.gate, approver, comment: 'chaos suite', ...acknowledge });
      }
      return false;
    }
    const pause = `${s.phase}|${s.error?.at ?? ''}`;
    if (s.status === 'paused' && !this.pauses.has(pause)) {
      this.pauses.add(pause);
      await this.onPause(s);
    }
    return false;
  }

  /** After the dry run, before publish: Production takes a moving user's e-mail (unique, not the key). */
  private async insertConflict(): Promise<void> {
    await withDb(this.pair.production, (c) =>
      c.query('INSERT INTO users (user_id, account_id, email, full_name) VALUES (5000, 1000, $1, $2)', [
        CONFLICT_EMAIL,
        'Concurrent signup',
      ]),
    );
    this.conflictInserted = true;
    this.expected = await rowSets(this.pair.production);
    this.notes.push(`Production before publish: ${JSON.stringify(await checksums(this.pair.production))}`);
  }

  private async onPause(s: StatusView): Promise<void> {
    const err = s.error;
    const actions = s.actions ?? [];
    const what = `paused at ${s.phase}: ${err?.type} ${err?.message?.split('\n')[0]} (actions ${actions.join(', ')})`;
    if (this.spec.kind === 'rollback' && s.phase === 'validate' && err?.type === 'ChaosInjected') {
      if (!actions.includes('rollback')) this.problems.push(`${what}: rollback not offered after publish`);
      await this.handle!.signal(resumeSignal, { action: 'rollback', by: 'oncall', reason: 'chaos: validation failed after publish' });
      this.notes.push(`${what} → rollback`);
      return;
    }
    if (this.spec.kind === 'conflict' && s.phase === 'publish') {
      const text = `${err?.message ?? ''}`;
      if (!text.includes('users_email_key'))
        this.problems.push(`the paused run's error does not name the constraint users_email_key: ${text}`);
      // The DETAIL names the key's columns; the value (an e-mail: personal data) is withheld from the message.
      if (!text.includes('Key (email)=')) this.problems.push(`the paused run's error does not carry the DETAIL's key columns: ${text}`);
      if (text.includes(CONFLICT_EMAIL)) this.problems.push(`the paused run's error shows the personal value ${CONFLICT_EMAIL}: ${text}`);
      if (actions.includes('rollback')) this.problems.push(`rollback offered though nothing was published (actions ${actions.join(', ')})`);
      if (!actions.includes('abort') || !actions.includes('retry'))
        this.problems.push(`abort and retry should be offered (actions ${actions.join(', ')})`);
      this.notes.push(`${what} → abort`);
      await this.handle!.signal(resumeSignal, { action: 'abort', by: 'oncall', reason: 'chaos: Production refused a row' });
      return;
    }
    this.problems.push(`unexpected pause: ${what}`);
  }

  /** Per activity of the run's history that took more than one attempt: its last attempt (a kill or an ended connection retried it). */
  async retried(): Promise<Record<string, number>> {
    const events = (await this.handle!.fetchHistory()).events ?? [];
    const types = new Map<string, string>();
    const out: Record<string, number> = {};
    for (const e of events) {
      const id = String(e.eventId);
      if (e.activityTaskScheduledEventAttributes) types.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
      const started = e.activityTaskStartedEventAttributes;
      if (started && (started.attempt ?? 1) > 1) {
        const type = types.get(String(started.scheduledEventId)) ?? '?';
        out[type] = Math.max(out[type] ?? 0, started.attempt!);
      }
    }
    return out;
  }

  /** A pause nobody resumes (an unexpected one) ends the run's part in the suite. */
  get stuck(): boolean {
    return !this.done && this.problems.length > 0;
  }
}
