// The run's state as the workflow holds it, and the views queries return. Deterministic: time comes
// from the workflow clock (Date in the sandbox is workflow time).
import { changeOf } from '../common/change';
import { predictedRefusals } from '../common/predicted-refusals';
import type { Plan } from '../plan/schema';
import type { StepResults } from '../common/results';
import { builtInPackSections, stepPackSections, stepStatusView } from '../common/steps';
import type {
  Approval,
  DatabaseMove,
  Drift,
  EvidencePack,
  GateName,
  Refusal,
  ResumeInput,
  RunStatus,
  StatusView,
  StepError,
  StepRecord,
  TableProgress,
} from '../common/temporal';

/** Refusals kept in full: the last ones (all are counted). Anyone may send them, so they are bounded. */
const REFUSALS_KEPT = 100;
/**
 * Characters of a refused payload's JSON (and of a refusal's reason) kept; the rest is cut with a
 * marker. The refusals travel in every status answer, the evidence, the result and each
 * continue-as-new, so 100 of them stay near 100 KB in all.
 */
const REFUSAL_TEXT_KEPT = 512;
/** Characters of a refused sender's name kept. */
const REFUSED_BY_KEPT = 80;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [cut: ${text.length} characters in all]`;
}

/** A refused payload as kept: as sent when its JSON is small, else that JSON cut. */
function keptInput(input: unknown, max: number): unknown {
  const json = JSON.stringify(input);
  return json === undefined || json.length <= max ? input : cut(json, max);
}

export class RunState {
  status: RunStatus = 'running';
  phase = 'preflight';
  gate: GateName | null = null;
  approvals: Approval[] = [];
  rejection: { gate: GateName; approver: string; reason: string; at: string } | null = null;
  refused: Refusal[] = []; // the last REFUSALS_KEPT
  refusedCount = 0;
  error: StepError | null = null;
  progress: Record<string, TableProgress> = {};
  steps: StepRecord[] = [];
  /** Every step's result, keyed by step name: status, evidence and reports are derived from it. */
  results: StepResults = {};
  /** Resume actions accepted now (set while paused; derived from the same rules the handlers use). */
  actions: string[] = [];
  /** Completed steps whose effect a rollback would undo (their compensations run latest first). */
  undoable: string[] = [];
  /** Steps a roll-forward may start from while paused (data steps up to the paused one). */
  rollForwardTargets: string[] = [];
  decision: StatusView['decision'] | null = null;
  finishedAt: string | null = null;
  startedAt = now();
  /** How many times this run continued as new (its history grew past Temporal's suggestion). */
  continuedAsNew = 0;
  /** A continued run resumes paused at this step (set when it continued as new while paused there). */
  pausedAt: { step: string; skippable: boolean } | null = null;
  /** While a gate waits: when it expires (workflow time, ms), carried across a continue-as-new. */
  gateDeadline: number | null = null;
  /**
   * While a rollback runs: on-call's decision, the index in the step table it was asked at, and how
   * far it got — a run that continued as new during the rollback resumes it there.
   */
  rollingBack: RollingBack | null = null;
  /** How many times the run paused (a step failed), across continue-as-new: a signed resume names the pause it answers. */
  pauses = 0;
  /** sha256 of every signature the run accepted (approvals and resumes): the same signature is refused a second time. */
  acceptedSignatures: string[] = [];
  /** Databases on-call accepted as moved (resume retry --accept-database): checked from then on instead of preflight's. */
  databaseMoves: DatabaseMove[] = [];
  /** Differences from the approved dry run found at stage or cleanup (workflows/drift.ts). */
  drift: Drift[] = [];
  /** Approvals that stopped counting when a drift sent the run back to gate plan. */
  voidedApprovals: Approval[] = [];
  /** While a step runs as a child workflow (the rehearsal): its workflow id. */
  child: string | null = null;

  constructor(
    readonly plan: Plan,
    readonly planHash: string,
    readonly initiatedBy: string,
    readonly ids: { workflowId: string; runId: string; runKey: string },
  ) {}

  /** Everything the run knows, for continue-as-new: the next run restores it and resumes at the same point. */
  snapshot(): RunSnapshot {
    const { plan, planHash, initiatedBy, ids, ...rest } = this;
    return { ...rest, plan, planHash, initiatedBy, ids };
  }

  static restore(snap: RunSnapshot): RunState {
    const s = new RunState(snap.plan, snap.planHash, snap.initiatedBy, snap.ids);
    const { plan: _p, planHash: _h, initiatedBy: _i, ids: _d, ...rest } = snap;
    void [_p, _h, _i, _d];
    Object.assign(s, rest);
    return s;
  }

  record(step: string, outcome: StepRecord['outcome'], detail?: string, attempts?: number): void {
    const r: StepRecord = detail === undefined ? { step, outcome, at: now() } : { step, outcome, at: now(), detail };
    // Only past the first attempt: records of runs that never retried stay as they were.
    if (attempts !== undefined && attempts > 1) r.attempts = attempts;
    this.steps.push(r);
  }

  refuse(r: Refusal): void {
    // The reason may quote the payload (an unknown approver's name): cut it too.
    this.refused.push({
      ...r,
      by: cut(r.by, REFUSED_BY_KEPT),
      reason: cut(r.reason, REFUSAL_TEXT_KEPT),
      input: keptInput(r.input, REFUSAL_TEXT_KEPT),
    });
    this.refusedCount++;
    if (this.refused.length > REFUSALS_KEPT) this.refused.splice(0, this.refused.length - REFUSALS_KEPT);
  }

  approvalsFor(gate: GateName): Approval[] {
    return this.approvals.filter((a) => a.gate === gate);
  }

  /** 1, then one more for every drift that reopened the gates (what a signed approval names from round 2 on). */
  approvalRound(): number {
    return 1 + this.drift.filter((d) => !d.tolerated).length;
  }

  /** A drift reopens gate plan: the approvals of plan and cutover no longer count (kept as voided, for the evidence). */
  voidApprovals(): void {
    const voided = this.approvals.filter((a) => a.gate === 'plan' || a.gate === 'cutover');
    this.voidedApprovals.push(...voided);
    this.approvals = this.approvals.filter((a) => !voided.includes(a));
  }

  statusView(): StatusView {
    const view: StatusView = {
      planId: this.plan.id,
      strategy: this.plan.strategy,
      status: this.status,
      phase: this.phase,
      gate: this.gate,
      approvals: this.approvals,
      required: this.plan.approvals.required,
      refused: this.refused,
      refusedCount: this.refusedCount,
      error: this.error,
      progress: this.progress,
      planHash: this.planHash,
      initiatedBy: this.initiatedBy,
      runKey: this.ids.runKey,
      steps: this.steps,
    };
    if (this.status === 'paused') view.actions = this.actions;
    if (this.pauses > 0) view.pause = this.pauses;
    if (this.continuedAsNew > 0) view.continuedAsNew = this.continuedAsNew;
    // The steps' own fields (backups, restore preview, rehearsal), from their views (common/steps/).
    Object.assign(view, stepStatusView(this.results));
    if (this.decision) view.decision = this.decision;
    if (this.databaseMoves.length) view.databaseMoves = this.databaseMoves;
    if (this.drift.length) view.drift = this.drift;
    if (this.approvalRound() > 1) view.approvalRound = this.approvalRound();
    const predicted = this.gate === 'plan' ? predictedRefusals(this.results.preflight) : [];
    if (predicted.length) view.mustAcknowledge = predicted;
    const change = changeOf(this.plan);
    if (change) view.change = change;
    if (this.child) view.child = this.child;
    return view;
  }

  evidence(): EvidencePack {
    return {
      planId: this.plan.id,
      planHash: this.planHash,
      strategy: this.plan.strategy,
      status: this.status,
      initiatedBy: this.initiatedBy,
      workflowId: this.ids.workflowId,
      runId: this.ids.runId,
      runKey: this.ids.runKey,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      plan: this.plan,
      approvals: this.approvals,
      refused: this.refused,
      refusedCount: this.refusedCount,
      steps: this.steps,
      // Each step's result under its pack key, in the pack's order (common/steps/built-in.ts PACK_KEYS).
      ...builtInPackSections(this.results),
      ...(this.plan.strategy === 'adopt'
        ? {
            adoption: {
              adoptFrom: this.plan.adoptFrom ?? null,
              cleanup: this.results['adopt-cleanup'] ?? null,
              adopt: this.results.adopt ?? null,
              restore: this.results['adopt-restore'] ?? null,
            },
          }
        : {}),
      decision: this.decision,
      ...(this.databaseMoves.length ? { databaseMoves: this.databaseMoves } : {}),
      ...(this.drift.length ? { drift: this.drift } : {}),
      ...(this.voidedApprovals.length ? { voidedApprovals: this.voidedApprovals } : {}),
      // The step modules' results, under their names (common/steps/index.ts).
      ...stepPackSections(this.results),
    };
  }
}

/** Where a rollback is: not begun, undoing steps (surgical), or restore's preview, gate, refusal or restore. */
export interface RollingBack {
  decision: ResumeInput;
  at: number;
  stage: 'start' | 'surgical' | 'preview' | 'gate' | 'refused' | 'restore';
}

export function now(): string {
  return new Date().toISOString();
}

/** RunState as plain data (what continue-as-new carries to the next run of the chain). */
export type RunSnapshot = { [K in keyof RunState as RunState[K] extends (...args: never[]) => unknown ? never : K]: RunState[K] };
