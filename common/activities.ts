// The activities the workflow calls, as an interface: the workflow proxies this type instead of
// importing activity code, and activities/index.ts must satisfy it (checked by the compiler).
import type { Plan } from '../plan/schema';
import type {
  AdoptCleanupResult,
  AdoptRestoreInput,
  AdoptRestoreResult,
  AdoptResult,
  AccessChecksInput,
  AccessChecksResult,
  BackupInput,
  BackupResult,
  RehearsalDropInput,
  RehearsalFinishInput,
  RehearsalInput,
  RehearsalPrepared,
  RehearsalReport,
  RestoreInput,
  RestorePreview,
  RestoreResult,
  RollbackInput,
  RollbackResult,
  CleanupResult,
  DatabaseIdentity,
  DecommissionInput,
  ErasureInput,
  ErasureReplayInput,
  ErasureReplayResult,
  ErasureResult,
  DecommissionResult,
  DryRunReport,
  FinalizeInput,
  FinalizeResult,
  PublishResult,
  StageInput,
  StageResult,
  StepInput,
  ValidateInput,
  ValidateResult,
} from './results';

export interface CutoverActivities {
  acceptPlan(raw: unknown): Promise<{ plan: Plan; planHash: string }>;
  preflight(input: StepInput): Promise<DryRunReport>;
  backup(input: BackupInput): Promise<BackupResult>;
  /** Workflow cutoverRehearsal: the scratch database restored from the target backup (then the step activities run against it). */
  rehearsalPrepare(input: RehearsalInput): Promise<RehearsalPrepared>;
  /** Workflow cutoverRehearsal: the sealed report from what its sub-steps answered. */
  rehearsalFinish(input: RehearsalFinishInput): Promise<RehearsalReport>;
  /** Workflow cutoverRehearsal: the scratch database dropped, whatever happened. */
  rehearsalDrop(input: RehearsalDropInput): Promise<{ dropped: string }>;
  stage(input: StageInput): Promise<StageResult>;
  cleanup(input: StepInput): Promise<CleanupResult>;
  publish(input: StepInput): Promise<PublishResult>;
  validate(input: ValidateInput): Promise<ValidateResult>;
  accessChecks(input: AccessChecksInput): Promise<AccessChecksResult>;
  erasure(input: ErasureInput): Promise<ErasureResult>;
  rollback(input: RollbackInput): Promise<RollbackResult>;
  restorePreview(input: RestoreInput): Promise<RestorePreview>;
  restore(input: RestoreInput): Promise<RestoreResult>;
  decommission(input: DecommissionInput): Promise<DecommissionResult>;
  recommission(input: DecommissionInput): Promise<DecommissionResult>;
  adoptCleanup(input: StepInput): Promise<AdoptCleanupResult>;
  adoptRestore(input: AdoptRestoreInput): Promise<AdoptRestoreResult>;
  adopt(input: StepInput): Promise<AdoptResult>;
  finalize(input: FinalizeInput): Promise<FinalizeResult>;
  databaseIdentity(input: { plan: Plan; alias: string }): Promise<DatabaseIdentity>;
  /** Workflow cutoverErasureReplay: every erasure re-applied after a restore of the target, proven, with its own evidence pack. */
  erasureReplay(input: ErasureReplayInput): Promise<ErasureReplayResult>;
}
