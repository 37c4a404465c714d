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

/** One relation whose rows a backup holds, counted in the dump's own snapshot. */
export interface BackupTable {
  table: string; // canonical name (plan/names.ts)
  oid: number; // in the dumped database: finds the table in the dump's table of contents
  rows: number; // a partitioned table counts the rows of all its partitions
  partitionOf?: string; // the plan's table this one is a partition of
  hasData: boolean; // false for a partitioned table: its rows are dumped with its partitions
}

export interface BackupVerification {
  at: string;
  sha256: string; // of the object re-read from the store: equal to the one taken while writing
  size: number;
  listed: number; // touched tables (and their data) found by pg_restore --list: all of them
  scratchDatabase: string; // restored into, row counts compared, dropped
  checks: string[]; // what was checked, in words, for the evidence pack
}

export interface BackupObject {
  kind: 'target' | 'source';
  alias: string; // the plan's connection alias that was dumped
  scope: 'touched-tables' | 'full';
  store: string; // the plan's backup.store
  key: string; // the object's key in that store
  location: string; // the object's URL
  size: number;
  sha256: string;
  snapshot: string; // exported snapshot the dump and the row counts were read in
  tables: BackupTable[];
  sequences: string[]; // whose values the dump holds with the tables
  verified: BackupVerification;
}

export interface BackupResult {
  planHash: string;
  createdAt: string;
  backups: BackupObject[]; // target first, then source
}
