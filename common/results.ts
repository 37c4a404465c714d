// Shapes that cross the workflow/activity boundary, in the neutral module both import.
// Bounded by the number of tables, never rows.
import type { Plan } from '../plan/schema';
import type { EvidencePack } from './temporal';

export interface StepInput {
  plan: Plan;
  runKey: string; // short id of this run: names the staging schema cutover_stage_<runKey>
  workflowId: string;
  runId: string;
}

export interface TableDryRun {
  table: string; // schema.table as resolved in the catalog
  order: number; // position in FK order (parents first)
  ids: string;
  select: string; // human description of the selection
  total: number; // rows in the Pilot table
  inScope: number; // rows the selection picks
  toMove: number; // rows that will be inserted (in scope minus left behind minus merged)
  merged: number; // rows matched to an existing production row (ids: match)
  leftBehind: Record<string, number>; // reason -> rows
  collisions: number; // for ids: keep, rows whose key already exists in production
}

export interface DryRunReport {
  planId: string;
  planHash: string;
  source: string; // alias
  target: string; // alias
  order: string[];
  tables: TableDryRun[];
  warnings: string[];
  at: string;
}

export interface StageResult {
  schema: string;
  snapshot: string | null;
  tables: { table: string; rows: number }[];
  registers: { consented: number; erased: number };
  attempt: number;
  resumedTables: string[]; // staged by an earlier attempt in the same snapshot, kept
  restaged: string | null; // why a retry started over from a new snapshot
}

export interface CleanupResult {
  leftBehind: Record<string, Record<string, number>>; // table -> reason -> rows
  transforms: string[];
}

export interface PublishResult {
  tables: { table: string; inserted: number; merged: number; preExistingChecksum: string }[];
}

export interface TableValidation {
  table: string;
  inScope: number;
  moved: number;
  merged: number;
  leftBehind: number;
  leftBehindByReason: Record<string, number>;
  stagingChecksum: string;
  productionChecksum: string;
  preExistingBefore: string;
  preExistingAfter: string;
  ok: boolean;
  problems: string[];
  differingKeys: string[]; // up to 100, when the content checksums differ
}
export interface ValidateResult {
  ok: boolean;
  tables: TableValidation[];
}

export interface StageInput extends StepInput {
  expectedRows?: Record<string, number>; // from the dry run, for progress
}

export interface ValidateInput extends StepInput {
  publish: PublishResult;
  stage: StageResult;
}

export interface FinalizeInput extends StepInput {
  pack: EvidencePack;
  status: string; // completed, or the end state when a run stops early
}
