// The Temporal surface of cutover (a contract: names users, the UI and acceptance tests rely on).
// Pure definitions only, in the neutral module that the workflow bundle, the activities, the worker
// and the CLI all import — none of them owns it, and they never import each other.
import type { StepPackSections } from './step-module';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AdoptCleanupResult,
  AdoptResult,
  AdoptRestoreResult,
  AccessChecksResult,
  BackupResult,
  CleanupResult,
  DatabaseIdentity,
  ErasureResult,
  DryRunReport,
  PublishResult,
  RehearsalReport,
  RestorePreview,
  RestoreResult,
  RollbackResult,
  StageResult,
  ValidateResult,
} from './results';
import type { ChangeRef } from './change';

export const TASK_QUEUE = 'cutover';
export const WORKFLOW_TYPE = 'cutoverMigration';
export const workflowIdFor = (planId: string): string => `cutover-${planId}`;

/** `cutover erasure replay`: its own workflow, one per target alias at a time. */
export const ERASURE_REPLAY_WORKFLOW_TYPE = 'cutoverErasureReplay';
export const erasureReplayWorkflowId = (target: string): string => `cutover-erasure-replay-${target}`;
/**
 * A run's rehearsal (plan rehearsal.mode: scratch): its own workflow, a child of the run, one per
 * attempt, id `<run's workflow id>/rehearsal/<n>` (common/rehearsal-alias.ts rehearsalChildId).
 */
export const REHEARSAL_WORKFLOW_TYPE = 'cutoverRehearsal';

/** The rehearsal workflow's progress, per sub-step (query `rehearsal-progress` on the child). */
export interface RehearsalProgress {
  /** The sub-step running now, or `done` / `failed` / `cancelled`. */
  phase: string;
  database: string;
  /** Each sub-step in order: waiting, running, done, failed; its time once it ended. */
  steps: { step: string; state: 'waiting' | 'running' | 'done' | 'failed'; ms?: number }[];
}
export const rehearsalProgressQuery = defineQuery<RehearsalProgress>('rehearsal-progress');

/** What `cutover erasure replay` starts the workflow with. */
export interface ErasureReplayRequest {
  target: string;
  since: string;
  initiatedBy: string;
}

export const GATES = ['plan', 'cutover', 'restore'] as const;
export type GateName = (typeof GATES)[number];

export const RESUME_ACTIONS = ['retry', 'skip', 'rollback', 'roll-forward', 'abort'] as const;
export type ResumeAction = (typeof RESUME_ACTIONS)[number];

export const STATUSES = [
  'running',
  'awaiting-approval',
  'paused',
  'completed',
  'rolled-back',
  'aborted',
  'rejected',
  'expired',
  'failed',
] as const;
export type RunStatus = (typeof STATUSES)[number];
/** A run in one of these has ended: no step will run again. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'rolled-back', 'aborted', 'rejected', 'expired', 'failed'];

export interface WorkflowInput {
  plan: unknown; // validated inside the workflow; a bad plan fails the run with the path at fault
  initiatedBy: string;
  /**
   * Set only by the workflow itself when it continues as new (its history grew large): the state
   * to resume with and the step to resume at. Refused on a run that was not continued as new.
   */
  continued?: unknown;
}

export interface ApproveInput {
  gate: GateName;
  approver: string;
  comment?: string;
  planHash?: string;
  /** Gate cutover: the rehearsal report the approver reviewed (refused if it differs or there is none). */
  rehearsalHash?: string;
  /** An armored SSH signature (`ssh-keygen -Y sign -n cutover`) over approvalMessage() (common/signing.ts). */
  signature?: string;
  /**
   * Gate plan: the refusals the dry run predicts that the approver accepts (their reasons, e.g.
   * `collisions:public.users`, listed by the refusal that asks for them): required when it predicts any.
   */
  acknowledge?: string[];
}
export interface RejectInput {
  gate: GateName;
  approver: string;
  reason: string;
}
export const ROLLBACK_MODES = ['surgical', 'restore'] as const;
export type RollbackMode = (typeof ROLLBACK_MODES)[number];

export interface ResumeInput {
  action: ResumeAction;
  by: string;
  reason: string;
  /** roll-forward: the step to re-run from (that step and every one after it run again). */
  fromStep?: string;
  /** rollback: surgical (default: delete exactly this run's rows) or restore (from the backup, after gate restore). */
  mode?: RollbackMode;
  /** An armored SSH signature (`ssh-keygen -Y sign -n cutover`) over resumeMessage() (common/signing.ts). */
  signature?: string;
  /**
   * retry: the connection alias whose database legitimately moved (restored to a new server, copied):
   * the run refused it as another database; this accepts the one it reaches now, recorded in databaseMoves.
   */
  acceptDatabase?: string;
}

/** A database the run accepted as moved (resume retry --accept-database): what it was, what it is, who decided. */
export interface DatabaseMove {
  alias: string;
  from: DatabaseIdentity | null;
  to: DatabaseIdentity;
  by: string;
  reason: string;
  at: string;
  signature?: SignatureEvidence;
}

/** A signature that came with a decision: verified against the person's key in the plan (a failed one is refused). */
export interface SignatureEvidence {
  verified: boolean;
  /** The signing key's fingerprint, `SHA256:…` as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

export interface Approval {
  gate: GateName;
  approver: string;
  comment?: string;
  /** The predicted refusals the approver acknowledged (workflows/decisions.ts predictedRefusals). */
  acknowledged?: string[];
  at: string;
  signature?: SignatureEvidence;
}
export interface Refusal {
  signal: 'approve' | 'reject' | 'resume';
  by: string;
  reason: string;
  at: string;
  input: unknown;
}
export interface StepError {
  step: string;
  type: string;
  message: string;
  at: string;
  /** Temporal's attempts of the activity that failed, when it says (common/attempts.ts). */
  attempts?: number;
}
export interface StepRecord {
  step: string;
  outcome: 'started' | 'completed' | 'failed' | 'skipped' | 'retried' | 'approved' | 'rejected' | 'expired' | 'aborted';
  at: string;
  detail?: string;
  /** completed/failed: Temporal's attempts of the step's activity in this execution, when more than one. */
  attempts?: number;
}
export interface TableProgress {
  table: string;
  rowsCopied: number;
  rowsTotal: number;
  phase: string;
}

export interface StatusView {
  planId: string;
  strategy: string;
  status: RunStatus;
  phase: string;
  gate: GateName | null;
  approvals: Approval[];
  required: number;
  refused: Refusal[]; // the last 100, payloads cut to 2 KB
  refusedCount: number; // every refusal so far
  error: StepError | null;
  progress: Record<string, TableProgress>;
  planHash: string;
  initiatedBy: string;
  runKey: string;
  /** The number of the run's current (or last) pause, from 1: what a signed resume names (Signatures v2). */
  pause?: number;
  steps: StepRecord[];
  /** In a closed run's result only: the evidence pack as the run ended (read without a worker). */
  evidence?: EvidencePack;
  /** While paused: the resume actions that would be accepted now. */
  actions?: string[];
  /** How many times the run continued as new so far (absent: never). Same workflow id and run key. */
  continuedAsNew?: number;
  /** Verified backups taken by this run (where, how big, sha256). */
  backups?: { kind: string; location: string; size: number; sha256: string; verified: boolean }[];
  /** Rollback by restore: what restoring the backup would discard (shown while gate restore waits). */
  restorePreview?: RestorePreview;
  /** The rehearsal in a scratch database: its outcome, its report's hash and its rows per table. */
  /** sameAsDryRun/differences: its counts against the approved dry run's, each difference explained (absent before this). */
  rehearsal?: {
    ok: boolean;
    rehearsalHash: string;
    rollbackProven: boolean;
    tables: { table: string; moved: number; merged: number; leftBehind: number }[];
    failed: string | null;
    sameAsDryRun?: boolean;
    differences?: string[];
  };
  decision?: { by: string; action: string; reason: string; at: string; signature?: SignatureEvidence };
  /** Databases accepted as moved by on-call (resume retry --accept-database), oldest first. */
  databaseMoves?: DatabaseMove[];
  /** The Pilot or a catalog changed after gate plan: each difference found (absent when none). */
  drift?: Drift[];
  /** From 2 on: the gates were reopened by a drift, and a signed approval names this round (common/signing.ts). */
  approvalRound?: number;
  /** While gate plan waits: the refusals the dry run predicts, which an approval must acknowledge by reason (absent when none). */
  mustAcknowledge?: { reason: string; why: string }[];
  /** The change request that authorised the run (plan decision.change); absent when the plan names none. */
  change?: ChangeRef;
  /** While a step runs in a child workflow (the rehearsal): its workflow id (its own progress query: rehearsal-progress). */
  child?: string;
}

/** The evidence pack so far (query `report`); written to cutover.evidence at finalize. */
/** The run's raw record; step modules (common/steps/) add their results under their names (StepPackSections). */
export interface EvidencePack extends StepPackSections {
  planId: string;
  planHash: string;
  strategy: string;
  status: RunStatus;
  initiatedBy: string;
  workflowId: string;
  runId: string;
  runKey: string;
  startedAt: string;
  finishedAt: string | null;
  plan: unknown;
  approvals: Approval[];
  refused: Refusal[]; // the last 100, payloads cut to 2 KB
  refusedCount: number; // every refusal so far
  steps: StepRecord[];
  dryRun: DryRunReport | null;
  stage: StageResult | null;
  cleanup: CleanupResult | null;
  publish: PublishResult | null;
  validation: ValidateResult | null;
  accessChecks: AccessChecksResult | null;
  rollback: RollbackResult | null;
  backups: BackupResult | null;
  /** Rollback by restore: what it would discard (preview), then what it did (restored, erasures re-applied, verified). */
  restorePreview?: RestorePreview | null;
  restore?: RestoreResult | null;
  /** Erasure requests applied in production after publish (step erasure) and right before finalize (erasure-final). */
  erasure?: ErasureResult | null;
  erasureFinal?: ErasureResult | null;
  rehearsal: RehearsalReport | null;
  /** adopt: the date the Pilot counts as Production from, the in-place cleanup, the adoption record, and a rollback's restore. */
  adoption?: {
    adoptFrom: string | null;
    cleanup: AdoptCleanupResult | null;
    adopt: AdoptResult | null;
    restore: AdoptRestoreResult | null;
  };
  decision: StatusView['decision'] | null;
  /** Databases accepted as moved during the run (absent when none). */
  databaseMoves?: DatabaseMove[];
  /** Differences from the approved dry run found at stage or cleanup (absent when none). */
  drift?: Drift[];
  /** Approvals that stopped counting when a drift reopened gate plan (absent when none). */
  voidedApprovals?: Approval[];
}

/**
 * A difference between the approved dry run and the staged Pilot (workflows/drift.ts): per table the
 * rows approved and found (digests differ), and per catalog side the entries removed and added.
 */
export interface Drift {
  at: 'stage' | 'cleanup';
  /** `values`: the keys are as approved, some row's values are not (from the staged rows' digests). */
  tables: { table: string; approvedRows: number; rowsNow: number; atLeastChanged: number; values?: boolean }[];
  catalog: { table: string; side: 'pilot' | 'production'; removed: string[]; added: string[] }[];
  /** Within the plan's drift.tolerate: recorded, and the run went on. Otherwise the run went back to gate plan. */
  tolerated: boolean;
  /** When it was found (workflow time). */
  foundAt?: string;
}

/** Result of an update: updates refuse with an error instead (validator), so success is all there is. */
export interface UpdateResult {
  accepted: true;
  status: RunStatus;
  gate: GateName | null;
}

export const approveSignal = defineSignal<[ApproveInput]>('approve');
export const rejectSignal = defineSignal<[RejectInput]>('reject');
export const resumeSignal = defineSignal<[ResumeInput]>('resume');
export const approveUpdate = defineUpdate<UpdateResult, [ApproveInput]>('approve');
export const rejectUpdate = defineUpdate<UpdateResult, [RejectInput]>('reject');
export const resumeUpdate = defineUpdate<UpdateResult, [ResumeInput]>('resume');
export const statusQuery = defineQuery<StatusView>('status');
export const reportQuery = defineQuery<EvidencePack>('report');

/** Never encrypted (the server indexes them, common/codec.ts cannot): status, phase, plan id and change request id only — no plan rows, values or comments. */
export const SEARCH_ATTRIBUTES = {
  status: 'CutoverStatus',
  phase: 'CutoverPhase',
  planId: 'CutoverPlanId',
  /** The plan's decision.change (a change request id, plan/schema.ts CHANGE_ID); set only when the plan names one. */
  change: 'CutoverChange',
} as const;
