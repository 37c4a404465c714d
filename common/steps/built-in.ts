// Where the built-in steps' results go in the run's raw record (EvidencePack): the keys the pack has
// had since schemaVersion 1 (docs/decisions.md: the pack and the document keep them; the code keys
// results by step name). Their views (status, evidence, report) are one file per step beside this one.
import type { StepKey } from '../step-module';

/**
 * Where each built-in step's result goes in the run's raw record (EvidencePack), in the pack's key
 * order: `[step, key in the pack, group]`. Keys without a group are always there (null until the step
 * ran); a group's keys are there together once any of its steps has a result (packs of runs without
 * them keep their shape). The names are the pack's since schemaVersion 1 (auditors read them): never
 * renamed. Step modules' results follow under their own step names (common/steps/index.ts).
 */
export const PACK_KEYS = [
  ['preflight', 'dryRun'],
  ['stage', 'stage'],
  ['cleanup', 'cleanup'],
  ['publish', 'publish'],
  ['validate', 'validation'],
  ['access-checks', 'accessChecks'],
  ['erasure', 'erasure', 'erasure'],
  ['erasure-final', 'erasureFinal', 'erasure'],
  ['rollback', 'rollback'],
  ['backup', 'backups'],
  ['restore-preview', 'restorePreview', 'restore'],
  ['restore', 'restore', 'restore'],
  ['rehearsal', 'rehearsal'],
] as const satisfies readonly (readonly [StepKey, string, string?])[];
