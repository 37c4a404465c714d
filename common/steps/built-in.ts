// The declarative half (common/step-module.ts StepView) of the steps whose running part is still
// declared in the workflow's table (workflows/steps.ts): their rows in the steps-done table, which
// the Temporal UI's current details show (workflows/step-summary.ts). Their evidence sections keep
// the names auditors read (dryRun, validation, …: common/evidence.ts). In the table's order.
import type { ResultOf, StatusContext, StatusRow, StepKey } from '../step-module';
import { defineStepView, type AnyStepView } from '../step-module';

const sum = (xs: number[]) => xs.reduce((a, x) => a + (Number.isFinite(x) ? x : 0), 0);
const of = (n: number, run: StatusContext) => `${n}/${run.planTables}`;

const erasureRow = (e: ResultOf<'erasure'>): StatusRow => [
  String(Object.keys(e.rows).length),
  `${sum(Object.values(e.rows))} erased or anonymized`,
];

export const BUILT_IN_VIEWS: readonly AnyStepView[] = [
  defineStepView<'backup'>({
    name: 'backup',
    status: (r) => [
      r.backups.map((b) => `${b.kind} ${b.tables.length}`).join(', '),
      r.backups.map((b) => `${b.kind} ${sum(b.tables.map((t) => t.rows))}`).join(', '),
    ],
  }),
  defineStepView<'rehearsal'>({
    name: 'rehearsal',
    status: (r, run) => [of(r.tables.length, run), `${sum(r.tables.map((t) => t.moved))} moved`],
  }),
  defineStepView<'stage'>({
    name: 'stage',
    status: (r, run) => [of(r.tables.length, run), `${sum(r.tables.map((t) => t.rows))} in scope`],
  }),
  defineStepView<'cleanup'>({
    name: 'cleanup',
    status: (r, run) => [of(run.planTables, run), `${sum(Object.values(r.leftBehind).flatMap((x) => Object.values(x)))} left behind`],
  }),
  defineStepView<'publish'>({
    name: 'publish',
    status: (r, run) => [
      of(r.tables.length, run),
      `${sum(r.tables.map((t) => t.inserted))} inserted, ${sum(r.tables.map((t) => t.merged))} merged`,
    ],
  }),
  defineStepView<'validate'>({
    name: 'validate',
    status: (r) => [`${r.tables.filter((t) => t.ok).length}/${r.tables.length} ok`, `${sum(r.tables.map((t) => t.inScope))} checked`],
  }),
  defineStepView<'erasure'>({ name: 'erasure', status: erasureRow }),
  defineStepView<'erasure-final'>({ name: 'erasure-final', status: erasureRow }),
  defineStepView<'rollback'>({
    name: 'rollback',
    status: (r, run) => [of(r.tables.length, run), `${sum(r.tables.map((t) => t.deleted))} deleted`],
  }),
  defineStepView<'restore'>({
    name: 'restore',
    status: (r, run) => [of(r.tables.length, run), `${sum(r.tables.map((t) => t.restored))} restored`],
  }),
];

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
