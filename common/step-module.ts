// A step as one typed module: `defineStep<'name'>({...})` declares, in one place, what the run, the
// status, the evidence document and the report need to know about a step — its activity, its
// compensation, whether it may be skipped, where it runs, its status row, its evidence section and
// its report section — each typed by the step's own result, `StepResults[name]`. The declarations are
// pure (no I/O, no Temporal): the workflow bundle, the CLI and the evidence code all read them, and
// iterate the table of modules (common/steps/index.ts) instead of listing steps by hand.
//
// A step module adds its own words to the shared interfaces by declaration merging (TypeScript
// "module augmentation"): its result to StepResults (common/results.ts), its activity to
// CutoverActivities (common/activities.ts) and its evidence section to StepEvidence (below), so a new
// step needs no edit in those files.
import type { Plan } from '../plan/schema';
import type { CutoverActivities } from './activities';
import type { EvidenceDocument } from './evidence';
import type { EvidenceStep } from './evidence-steps';
import type { RuleInWords } from './evidence-words';
import type { ReportBlock, ReportCell, ReportSection } from './report-blocks';
import type { StepInput, StepResults } from './results';
import type { EvidencePack, StatusView } from './temporal';

/** The steps that have a result in the run's results map: the one name every view keys it by (never renamed). */
export type StepKey = keyof StepResults & string;

/** A step's result, present (the map holds it once the step completed). */
export type ResultOf<N extends StepKey> = NonNullable<StepResults[N]>;

/**
 * Evidence sections declared by step modules: the section's key in the evidence document (and in the
 * run's raw record, EvidencePack) is the step's name. Step modules add to it by declaration merging.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface StepEvidence {}

/** A section of a step module (key of StepEvidence), or unknown for a step without one. */
export type EvidenceOf<N extends StepKey> = N extends keyof StepEvidence ? StepEvidence[N] : unknown;

/**
 * The activities that take the run's StepInput (or more: the module's `input` gives the rest) and
 * answer with step N's result: what a module of step N may name.
 */
export type ActivityFor<N extends StepKey> = {
  [K in keyof CutoverActivities]: CutoverActivities[K] extends (input: infer I) => Promise<ResultOf<N>>
    ? I extends StepInput
      ? K
      : never
    : never;
}[keyof CutoverActivities];

/** One row of the steps-done table (`cutover status`, the Temporal UI's current details): tables, rows. */
export type StatusRow = [tables: string, rows: string];

/** What the run knows that a status row may need beside the step's result. */
export interface StatusContext {
  /** Tables in the plan. */
  planTables: number;
}

/**
 * What a step's evidence section may read beside its own result: the whole raw record (a section may
 * also tell what another step did, e.g. erasure after a restore) and what the document derives once
 * for all sections (common/evidence.ts).
 */
export interface EvidenceContext {
  pack: EvidencePack;
  /** The plan as the run normalised it. */
  plan: Plan;
  rules: RuleInWords[];
  steps: EvidenceStep[];
  /** Rows left behind with this manifest reason (in this table). */
  leftBehind: (reason: string, table?: string) => number;
  /** Rows left behind through a cascade this reason started. */
  cascaded: (reason: string) => number;
}

/**
 * A step's section of the evidence document, where its key has been since schemaVersion 1 (dryRun,
 * validation, …: auditors and stored documents read them, docs/decisions.md): the key, the key or
 * slot it follows in the document (common/evidence.ts), and the section (undefined: no key at all).
 */
export interface DocumentSection {
  key: string;
  after: string;
  section: (ctx: EvidenceContext) => unknown;
}

/** A step's sections of the report, read from the evidence document, after a named slot or another step's sections (client/format/report-model.ts). */
export interface ReportPlacement {
  after: string;
  sections: (d: EvidenceDocument) => ReportSection[];
}

/**
 * What status, evidence and report read of a step: its declarative half. A step whose running part
 * is still declared in the workflow's table (workflows/steps.ts) has only this (common/steps/built-in.ts);
 * a step module has all of it and its running part too.
 */
export interface StepView<N extends StepKey> {
  name: N;
  /** The step history's note on completion. */
  detail?: (r: ResultOf<N>) => string | undefined;
  /** Its row in the steps-done table. */
  status?: (r: ResultOf<N>, run: StatusContext) => StatusRow;
  /** Its section of the evidence document, from its result (key: the step's name). */
  evidence?: (r: ResultOf<N>) => EvidenceOf<N>;
  /** Its sections of the report, from its evidence section (what an auditor reads; client/format/report-model.ts renders them). */
  report?: (e: EvidenceOf<N>) => ReportSection[];
  /** A built-in step's section of the evidence document under its schemaVersion 1 key (instead of `evidence`, which keys by the step's name). */
  document?: DocumentSection;
  /** A built-in step's report sections, placed among the report's (instead of `report`, which goes at the end). */
  reportAt?: ReportPlacement;
  /** Its fields of `cutover status`'s view (the status query), from its result. */
  statusView?: (r: ResultOf<N>) => Partial<StatusView>;
}

/** A step's declarative half, typed by its name. */
export function defineStepView<N extends StepKey>(v: StepView<N>): StepView<N> {
  return v;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStepView = StepView<any>;

export interface StepModule<N extends StepKey> extends StepView<N> {
  /** The activity the step runs, called with the run's StepInput: the compiler checks it answers with StepResults[name]. */
  activity: ActivityFor<N>;
  /** A data step (12 h start-to-close, heartbeats) rather than a quick one (10 min). */
  long?: boolean;
  /** Its compensation: the activity that undoes it (called with the run's StepInput), its result kept in the results map under `name` (saga). */
  undo?: { name: StepKey; activity: keyof CutoverActivities };
  /** On-call may skip it when it pauses. */
  skippable: boolean;
  /** Where it runs: in which strategy, right before which step. */
  runs: { strategy: Plan['strategy']; before: string };
  /** Whether this plan's run has the step at all (false: nothing recorded, no command: recorded histories replay). */
  inPlan: (plan: Plan) => boolean;
  /** Why it does not apply to this run after all (recorded as skipped, by the plan), or null when it runs. */
  notApplicable?: (plan: Plan, results: StepResults) => string | null;
  /** What its activity is given beside the run's StepInput (spread after it). */
  input?: (plan: Plan, results: StepResults) => object;
  /** A failure whose details carry a partial result keeps it as the step's result (the evidence shows what was found). */
  keepsFailureDetails?: boolean;
}

/** A step module, typed by its name: its result, evidence and report functions are checked against StepResults[name]. */
export function defineStep<N extends StepKey>(m: StepModule<N>): StepModule<N> {
  return m;
}

/** Any step module, for the table: the declarations are read through their name, never called with another step's result. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStepModule = StepModule<any>;

/** A key/value block: the small helper report sections share. */
export const kvBlock = (kv: [string, ReportCell][]): ReportBlock => ({ kv });

/** In the run's raw record (EvidencePack): each step module's result under its name, when it has one. */
export type StepPackSections = { [K in keyof StepEvidence]?: K extends StepKey ? StepResults[K] | null : never };

/** In the evidence document: each step module's section under its name, when the step ran. */
export type StepDocSections = { [K in keyof StepEvidence]?: StepEvidence[K] };
