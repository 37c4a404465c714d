// Shapes that cross the workflow/activity boundary. Bounded by the number of tables, never rows.
import type { Plan } from '../plan/schema';

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
  toMove: number; // rows that will be published (in scope minus left behind)
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
}

export interface PublishResult {
  tables: { table: string; inserted: number; preExistingChecksum: string }[];
}

export interface TableValidation {
  table: string;
  inScope: number;
  moved: number;
  merged: number;
  leftBehind: number;
  stagingChecksum: string;
  productionChecksum: string;
  preExistingBefore: string;
  preExistingAfter: string;
  ok: boolean;
  problems: string[];
}
export interface ValidateResult {
  ok: boolean;
  tables: TableValidation[];
}
