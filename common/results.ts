// Shapes that cross the workflow/activity boundary, in the neutral module both import.
// Bounded by the number of tables, never rows.
import type { Plan } from '../plan/schema';
import type { EvidencePack } from './temporal';
import type { DryRunCounts, RehearsalComparison } from './rehearsal-compare';

export interface StepInput {
  plan: Plan;
  runKey: string; // short id of this run: names the staging schema cutover_stage_<runKey>
  workflowId: string;
  runId: string;
  /** The databases the run's aliases pointed at in preflight: every later activity checks its aliases still do. */
  identities?: Record<string, DatabaseIdentity>;
}

/** Which database an alias reached (no secrets): the server's system identifier and the database's oid decide. */
export interface DatabaseIdentity {
  systemIdentifier: string; // pg_control_system(): one per PostgreSQL cluster (a restore or a replica keeps it)
  databaseOid: number; // pg_database.oid of current_database()
  database: string; // its name, for people
  server: string; // host:port from the URL (never the user or password)
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
  collisions: number; // rows whose Production key (after mapping: activities/db/row-identity.ts) production already holds
  /** Per unique constraint / unique index / exclusion constraint of Production that the rows to insert would break (absent or empty: none). */
  conflicts?: UniqueConflict[];
  /** The keys in scope (after selection) and kept (after cleanup), as approved: stage and cleanup compare (runs before this have none). */
  digests?: { inScope: KeyDigest; kept: KeyDigest };
  /** Rows that move with their nullable reference to a subject with an erasure request set to NULL (absent when none). */
  erasureNullified?: number;
  /** clean-start: rows the archive (the verified backup of the whole Pilot) will hold; nothing moves (absent on other strategies). */
  archived?: number;
  /** A table with into/columns/drop: every Production column's source and each dropped column, counted on the rows kept after cleanup (absent: no mapping). */
  mapping?: TableMapping;
}

/**
 * A mapped plan table's column fates, counted on the rows kept after cleanup (those that move, and
 * those ids: match merges with a Production row): the evidence
 * pack's `mapping` section. Values shown are the plan's own (constants, code values a map lists or
 * finds): never the values of copied columns.
 */
export interface TableMapping {
  table: string; // the Pilot table (plan name)
  into: string; // the Production table
  rows: number; // rows the mapping applied to
  columns: ColumnFate[];
  /** Pilot columns listed in drop, with the non-null values left behind in the Pilot (among the rows kept). */
  dropped: { column: string; nonNull: number }[];
}

export type MapValue = string | number | boolean | null;

export interface ColumnFate {
  column: string; // Production column
  source: 'copied' | 'renamed' | 'constant' | 'map' | 'expr' | 'default' | 'generated';
  from?: string; // renamed / map: the Pilot column
  value?: MapValue; // constant
  expr?: string; // expr: its text
  /** map: per Pilot value found (as text; null for NULL), its Production value, its rows, and whether the map's default gave it. */
  values?: { from: string | null; to: MapValue; rows: number; defaulted: boolean }[];
  /** A copy whose type changes: converted in staging (each value checked). */
  converted?: { from: string; to: string };
}

/** A set of staged keys: how many, and an order-independent digest of them (activities/db/drift.ts). */
export interface KeyDigest {
  rows: number;
  digest: string;
}

/** A plan table's catalog on both sides, in words (one entry per column, key, unique key and foreign key). */
export interface CatalogSummary {
  pilot: string[];
  production: string[];
}

/** A Production constraint the rows publish would insert break, by name (no values). */
export interface UniqueConflict {
  constraint: string; // the index's (or its constraint's) name
  kind: 'primary key' | 'unique' | 'unique index' | 'exclusion';
  columns: string; // its key columns / expressions, as the catalog prints them
  existing: number; // rows to insert whose values a Production row already holds
  duplicates: number; // rows to insert that repeat another row to insert
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
  /** Per alias the preflight used, the database it reached (runs started before this have none). */
  identities?: Record<string, DatabaseIdentity>;
  /** Both catalogs of every plan table as the dry run saw them: stage compares (runs before this have none). */
  catalog?: Record<string, CatalogSummary>;
  /** The plan's retention rules measured from the dry run's own snapshot (cleanup measures from stage's): absent when none. */
  retention?: RetentionApplied[];
  /** The staging schema the dry run staged the selected rows into (what publishes when the Pilot does not change; absent before). */
  staging?: string;
}

export interface StageResult {
  schema: string;
  snapshot: string | null;
  /** When the snapshot was taken, by the Pilot's clock: retention periods are measured from it (absent in older runs). */
  snapshotAt?: string;
  tables: { table: string; rows: number }[];
  registers: { consented: number; erased: number };
  attempt: number;
  resumedTables: string[]; // staged by an earlier attempt in the same snapshot, kept
  restaged: string | null; // why a retry started over from a new snapshot
  /** The staged keys in scope and both catalogs now, for the comparison with what was approved (workflows/drift.ts). */
  digests?: Record<string, KeyDigest>;
  catalog?: Record<string, CatalogSummary>;
  /**
   * What stage did with the dry run's staging (activities/db/prestage.ts): `kept` when the Pilot had
   * not changed since the dry run's snapshot (nothing copied); otherwise why it copied again, the
   * tables that changed, and per table the digests of every staged row before (the approved staging)
   * and after, compared at gate cutover like the keys (absent in runs from before this).
   */
  dryRunStaging?: {
    kept: boolean;
    why?: string;
    changed?: { table: string; rowsThen: number; rowsNow: number; newer: number }[];
    rows?: { approved: Record<string, KeyDigest>; now: Record<string, KeyDigest> };
  };
}

/**
 * One retention rule as a run applied it: measured from the snapshot's time (the Pilot's clock), its
 * cutoff (snapshotAt - olderThan, computed by PostgreSQL) and the rows past it: left behind (reason
 * retention, their dependents by cascade) or anonymized (moved with `columns` overwritten).
 */
export interface RetentionApplied {
  table: string;
  column: string;
  olderThan: string;
  action: 'leave-behind' | 'anonymize';
  columns?: Record<string, string | number | boolean | null>;
  snapshotAt: string;
  cutoff: string;
  rows: number;
}

export interface CleanupResult {
  leftBehind: Record<string, Record<string, number>>; // table -> reason -> rows
  /**
   * The same rows by the chain of causes that removed each first, e.g. `parent-left-behind:public.projects ←
   * parent-left-behind:public.users ← erasure-request`: table -> reason -> chain -> rows (absent in older runs).
   */
  rootCauses?: Record<string, Record<string, Record<string, number>>>;
  transforms: string[];
  /** The staged keys kept after cleanup, for the comparison with what was approved (workflows/drift.ts). */
  kept?: Record<string, KeyDigest>;
  /** table -> rows that move with their nullable reference to a subject with an erasure request set to NULL. */
  erasureNullified?: Record<string, number>;
  /** Mapped tables (into/columns/drop): each column's fate, counted on the rows kept (absent: no mapping). */
  mapping?: TableMapping[];
  /** The plan's retention rules as applied (absent when it has none). */
  retention?: RetentionApplied[];
}

export interface PublishResult {
  /** preExistingChecksum: every production row before the insert, only with validation.preExisting: full (and in runs before that option). */
  tables: { table: string; inserted: number; merged: number; preExistingChecksum?: string }[];
  /** How publish proved it changed no pre-existing row (absent in older runs: full). */
  preExisting?: 'count' | 'full';
  /** The publish transaction's id (xid8, as text): its rows carry it in xmin until someone else changes them. */
  xid?: string;
  /** What the publish transaction itself did per relation (pg_stat_xact_user_tables before COMMIT; staging left out). */
  transactionCounts?: TransactionCount[];
  /** The audit rows publish's inserts made Production's triggers write (absent without production.auditTables). */
  audit?: AuditProof;
  /** Grants and row-level security of the touched tables just before the first insert (access checks compare). */
  accessBefore?: AccessSnapshot;
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
  /** Checksums of production's own rows, only when publish took one (validation.preExisting: full). */
  preExistingBefore?: string;
  preExistingAfter?: string;
  /**
   * Published rows another transaction changed since publish (by xmin; a deleted one is a difference): not compared,
   * listed (up to 100 keys). Only by default (validation.preExisting count) in runs recording publish's xid.
   */
  changedSincePublish?: { count: number; keys: string[] };
  /** Pilot key → Production key pairs this run recorded in cutover.id_map (moved + merged), and how many changed the key; absent: none. */
  idPairs?: { pairs: number; changed: number };
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
  pack: EvidencePack; // the run's record: finalize builds the evidence document from it (common/evidence.ts)
  status: string; // completed, or the end state when a run stops early
  /** A run that wrote nothing (rejected, expired): write to cutover.evidence only where the control schema exists. */
  onlyIfControlSchema?: boolean;
}

/** Where the evidence pack went, and the sha256 of its exact bytes (UTF-8 JSON). */
export interface FinalizeResult {
  evidenceRows: number; // 1, or 0 when the target had no control schema to write to (onlyIfControlSchema)
  sha256?: string;
  bytes?: number;
  location?: string | null; // the object in the backup store, when the plan has one
}

/**
 * Who may do what on one relation the plan touches (a plan table, or one of its partitions, which
 * can be granted and secured on their own), as the target's catalog says.
 */
export interface RelationAccess {
  relation: string; // canonical name (plan/names.ts)
  partitionOf: string | null; // the plan table a partition belongs to
  owner: string;
  /** 'grantee: PRIVILEGE[ WITH GRANT OPTION] (by grantor)', sorted; an unset ACL is written out as its default. */
  grants: string[];
  /** 'column: grantee: PRIVILEGE…', sorted. */
  columnGrants: string[];
  rowSecurity: boolean; // relrowsecurity
  forceRowSecurity: boolean; // relforcerowsecurity
  policies: { name: string; definition: string }[]; // from pg_policy, sorted by name
}

/** Grants and row-level security of the touched relations at one moment; JSON, O(tables). */
export interface AccessSnapshot {
  takenAt: string;
  relations: RelationAccess[];
}

export interface AccessCheckResult {
  name: string; // the plan's check name, or built-in:grants-and-rls / built-in:consent
  kind: 'built-in' | 'plan';
  passed: boolean;
  rows: Record<string, unknown>[]; // up to 20 offending rows (plan checks: values as PostgreSQL prints them)
  rowCount: number; // offending rows in all
  error: string | null; // PostgreSQL's message when the check could not run (a write refused, a timeout)
  durationMs: number;
}

export interface AccessChecksResult {
  ok: boolean;
  checks: AccessCheckResult[];
}

export interface RollbackTable {
  table: string;
  inserted: number; // rows this run inserted, by cutover.manifest (ids: keep) / cutover.id_map (new, match)
  deleted: number;
  alreadyGone: number; // inserted rows that production itself had deleted since publish
  cycleColumnsCleared: number; // rows whose cycle-closing FK columns were set NULL before the deletes
  /** Whole-table checksums, only where publish took one (validation.preExisting: full, or older runs). */
  checksumBeforePublish?: string;
  checksumAfterRollback?: string;
  equal: boolean; // true when not checksummed
}

/** Per relation (leaf partitions for partitioned tables), what the rollback transaction itself did. */
export interface TransactionCount {
  relation: string;
  inserted: number;
  updated: number;
  deleted: number;
}

/**
 * Production's declared audit tables (plan production.auditTables) as a transaction wrote them: rows
 * inserted per audited table, and how many the triggers on the tables the transaction wrote explain
 * (one per row for a FOR EACH ROW trigger, one per statement for FOR EACH STATEMENT), each trigger
 * counted. Equal, or the transaction was refused.
 */
export interface AuditProof {
  rule: string;
  /** audit table -> rows the transaction inserted into it (its partitions included). */
  inserted: Record<string, number>;
  expected: number;
  triggers: { table: string; trigger: string; level: 'row' | 'statement'; events: string[]; rows: number }[];
}

export interface RollbackProof {
  /** (a) No row this run inserted is left, checked by key inside the transaction. */
  insertedRowsGone: boolean;
  /** (b) pg_stat_xact_user_tables before COMMIT: exactly these, nothing else (else refused). */
  transactionCounts: TransactionCount[];
  /** (c) Every touched table's checksum against the one publish took before inserting. */
  production:
    | 'unchanged since publish'
    | 'production changed since publish (other writers)'
    | 'production not checksummed (validation.preExisting: count)';
  changedTables: string[];
  preExisting: 'count' | 'full';
  summary: string[];
  /** The audit rows the rollback's deletes made Production's triggers write (absent without production.auditTables). */
  audit?: AuditProof;
}

export interface RollbackResult {
  runKey: string;
  rolledBackAt: string;
  tables: RollbackTable[]; // in delete order: children first
  proof: RollbackProof;
}

export interface AccessChecksInput extends StepInput {
  /** accessSnapshot() of the plan's tables taken before publish wrote anything. */
  before: AccessSnapshot;
}

export interface RollbackInput extends StepInput {
  publish: PublishResult;
}

export interface ErasureInput extends StepInput {
  step: 'erasure' | 'erasure-final'; // after access checks, and once more right before finalize
}

/** Erasure requests applied in production to the subjects this run moved, and the residue check. */
export interface ErasureResult {
  step: 'erasure' | 'erasure-final';
  at: string;
  requests: number; // distinct subject keys the registers name now
  movedSubjects: number; // subjects this run moved (manifest / id map)
  applied: number; // subjects whose rows this pass erased or anonymized (logged in cutover.erasure_log)
  erasedSoFar: number; // subjects this run has erased after publish, over all passes
  applications: ErasureApplication[]; // up to 100
  more: number;
  rows: Record<string, number>; // table -> rows deleted or anonymized by this pass
  anonymized: Record<string, number>; // table -> rows anonymized (kept)
  /** table -> rows kept with their nullable reference to an erased row set to NULL (absent in runs recorded before). */
  nullified?: Record<string, number>;
  residue: number; // 0, or the run pauses (ErasureResidue)
  problems: string[];
  verification: string[];
}

/** `cutover erasure replay`: re-apply every erasure after a restore of the target (workflow cutoverErasureReplay). */
export interface ErasureReplayInput {
  /** The target's connection alias (CUTOVER_DB_<ALIAS>), as the runs' plans name it. */
  target: string;
  /** The restore point: an ISO 8601 timestamp, or the location of a backup object (its createdAt is read from the store). */
  since: string;
  initiatedBy: string;
  /** Names this replay (cutover.erasure_replay, the evidence's object key). */
  replayKey: string;
  workflowId: string;
  runId: string;
}

/** One run's erasures re-applied by a replay. */
export interface ErasureReplayRun {
  runKey: string;
  planId: string;
  publishedAt: string;
  /** The restore point is before this run's publish: its rows are not in the restored Production, nothing is translated through it. */
  runAbsent: boolean;
  registers: string[];
  requests: number;
  /** Erasures this run logged (cutover.erasure_log, after publish) after the restore point / in all. */
  loggedSince: number;
  logged: number;
  applied: number;
  applications: ErasureApplication[];
  rows: Record<string, number>;
  anonymized: Record<string, number>;
  nullified: Record<string, number>;
  residue: number;
  verification: string[];
  /** Said when the run was rolled back after the restore point (its rows came back with the restore). */
  note?: string;
}

/** The replay's evidence pack (written to cutover.erasure_replay and, where a plan names one, the backup store). */
export interface ErasureReplayResult {
  kind: 'erasure-replay';
  schemaVersion: 1;
  replayKey: string;
  workflowId: string;
  runId: string;
  initiatedBy: string;
  target: string;
  since: string;
  /** The restore point as a time: the timestamp given, or the backup object's createdAt. */
  sinceAt: string;
  sinceFrom: 'timestamp' | 'backup';
  startedAt: string;
  finishedAt: string;
  runs: ErasureReplayRun[];
  /** Runs on this target that were not replayed, and why (no erasure registers, rolled back, another target's alias). */
  skipped: { runKey: string; planId: string; why: string }[];
  residue: number;
  rule: string;
  sha256?: string;
  location?: string | null;
}

/** Per-step results of a run, keyed by step name (the workflow's one map of what each step found). */
export interface StepResults {
  preflight?: DryRunReport;
  stage?: StageResult;
  cleanup?: CleanupResult;
  publish?: PublishResult;
  validate?: ValidateResult;
  'access-checks'?: AccessChecksResult;
  rollback?: RollbackResult;
  erasure?: ErasureResult;
  'erasure-final'?: ErasureResult;
  backup?: BackupResult;
  'restore-preview'?: RestorePreview;
  restore?: RestoreResult;
  rehearsal?: RehearsalReport;
  decommission?: DecommissionResult;
  'adopt-cleanup'?: AdoptCleanupResult;
  'adopt-restore'?: AdoptRestoreResult;
  adopt?: AdoptResult;
  finalize?: FinalizeResult;
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
  /** Why this object was taken after the run's first backup (a retried rehearsal); absent on the first. */
  note?: string;
  createdAt?: string; // when its backup step started (set on objects taken after the first)
}

export interface BackupResult {
  planHash: string;
  createdAt: string;
  backups: BackupObject[]; // target first, then source
}

export interface BackupInput extends StepInput {
  planHash?: string; // the hash the run approved; computed from the plan when absent
  /** Only the target (a fresh backup before a rehearsal is retried): the Pilot's backup already taken stands. */
  only?: 'target';
  /** Recorded on the objects: why this backup was taken after the first. */
  note?: string;
}

/** Rollback by restore: the run's verified target backup (BackupObject of kind target). */
export interface RestoreInput extends StepInput {
  backup: BackupObject;
}

/** What a restore of one touched table would discard, measured against the backup's rows by key. */
export interface RestorePreviewTable {
  table: string;
  backupRows: number; // counted in the backup's snapshot
  nowRows: number; // in production now
  insertedByRun: number; // this run's rows still in production (manifest / id map)
  /** now - backup - insertedByRun: rows written by others since the backup, net of their deletes. */
  writtenSinceBackup: number;
  /** By key against the backup's rows: rows others added, removed, or changed since the backup. */
  added: number;
  removed: number;
  changed: number;
  examples: string[]; // up to 5 keys of rows others added or changed: (key)=(values)
}

export interface RestorePreview {
  backup: string; // the object's location
  sha256: string; // re-read and re-hashed before the rows were read
  measuredAt: string;
  tables: RestorePreviewTable[]; // FK order: parents first
  summary: string[];
  /** The erasures the restore would re-apply, computed on the backup's rows (absent in runs recorded before). */
  erasures?: RestorePreviewErasures;
}

/** Per table: rows an erasure after the restore would delete, anonymize, or keep with a reference set to NULL. */
export interface RestorePreviewErasures {
  requests: number;
  deleted: Record<string, number>;
  anonymized: Record<string, number>;
  nullified: Record<string, number>;
  applications: ErasureApplication[]; // up to 100: register, subject, its production key, rows per table
  more: number;
}

export interface RestoreTable {
  table: string;
  before: number; // rows in production just before the restore (in its transaction)
  deleted: number;
  restored: number; // rows loaded from the backup
  erased: number; // rows then deleted by re-applied erasure requests
  after: number; // rows at COMMIT
  backupRows: number; // the backup's snapshot count
  ok: boolean; // after = backupRows - erased
}

export interface RestoreSequence {
  sequence: string;
  backupNext: number; // the value nextval() would have returned at the backup
  currentNext: number; // … just before the restore
  next: number; // … after the restore: max of both, never below current (no collision with keys handed out since)
}

export interface ErasureApplication {
  register: string; // db:schema.table (every register naming the subject)
  subject: string; // the request's key, as the register holds it
  productionSubject?: string; // after publish: the subject row's key in production (JSON array), through the id map
  rows: Record<string, number>; // table -> rows deleted (or anonymized)
  nullified?: Record<string, number>; // table -> rows kept with their reference to the subject's rows set to NULL
}

export interface RestoreResult {
  runKey: string;
  restoredAt: string;
  backup: { location: string; sha256: string; size: number; snapshot: string };
  tables: RestoreTable[]; // in delete order: children first
  sequences: RestoreSequence[];
  /** rows: per table, rows the erasure reached (deleted or anonymized); anonymized: those kept, anonymized (absent before anonymize applied to restores). */
  erasures: {
    requests: number;
    applications: ErasureApplication[];
    more: number;
    rows: Record<string, number>;
    anonymized?: Record<string, number>;
    nullified?: Record<string, number>;
  };
  verification: string[]; // what was checked before COMMIT, in words
}

/** One table as the rehearsal moved it in the scratch database (from its validate result). */
export type RehearsalTable = Pick<TableValidation, 'table' | 'inScope' | 'moved' | 'merged' | 'leftBehind' | 'leftBehindByReason'>;

/**
 * What a rehearsal proved: the run's target backup restored into a scratch database, stage →
 * cleanup → publish → validate → rollback run there by the same step code. O(tables).
 */
export interface RehearsalReport {
  ok: boolean;
  database: string; // cutover_rehearsal_<runKey> on the target's server: dropped at the end
  runKey: string; // the rehearsal's own run key (staging, guards): r<runKey>
  backup: { location: string; sha256: string }; // the target backup restored
  startedAt: string;
  finishedAt: string;
  tables: RehearsalTable[];
  cleanup: CleanupResult['leftBehind'] | null; // table -> reason -> rows, as cleanup reported them
  validation: { ok: boolean; problems: string[] } | null;
  rollback: {
    proven: boolean; // every table's checksum after the rollback equals the one before publish
    tables: { table: string; deleted: number; checksumBeforePublish: string; checksumAfterRollback: string; equal: boolean }[];
    summary: string[];
  } | null;
  timings: { step: string; ms: number }[]; // restore, stage, cleanup, publish, validate, rollback
  /** Tables outside the plan whose Production rows were copied into the scratch database (plan rows reference them). */
  parentsCopied?: { table: string; rows: number }[];
  /** Production-side erasure registers copied into the scratch database as they were at the rehearsal (replacing the backup's rows). */
  registersCopied?: { table: string; rows: number }[];
  /** The counts per table against the approved dry run's, each difference explained (absent in reports from before this, and when no dry run was passed). */
  dryRunComparison?: RehearsalComparison | null;
  /** code/constraint/table/detail: the database's own words when a database error failed the rehearsal. */
  failed: { step: string; type: string; message: string; database?: Record<string, string> } | null;
  /** sha256 of the canonical JSON of this report without this field: what a cutover approval may name. */
  rehearsalHash: string;
}

export interface RehearsalInput extends StepInput {
  backup: BackupResult; // the run's verified backups: the target's is restored
  expectedRows?: Record<string, number>; // from the dry run, for progress
  /** The approved dry run's counts per table: the report compares its own with them. */
  dryRun?: DryRunCounts[];
}

/** What the rehearsal's first activity made: the scratch database restored from the target backup, with Production's parents and registers. */
export interface RehearsalPrepared {
  database: string; // cutover_rehearsal_<runKey>
  runKey: string; // r<runKey>
  backup: { location: string; sha256: string };
  startedAt: string;
  parentsCopied: { table: string; rows: number }[];
  registersCopied?: { table: string; rows: number }[];
}

/** A sub-step of the rehearsal that failed, as the rehearsal workflow saw its activity fail (redacted by the worker). */
export interface RehearsalFailure {
  step: string;
  type: string;
  message: string;
  /** The failure's first detail (a database error's words, reduced again before the report keeps them). */
  details?: unknown;
}

/** The rehearsal workflow's findings, which rehearsalFinish turns into the sealed report. */
export interface RehearsalFinishInput {
  plan: Plan;
  dryRun?: DryRunCounts[];
  prepared: RehearsalPrepared | null;
  /** When prepare failed before it answered: the names the report still carries. */
  database: string;
  runKey: string;
  backup: { location: string; sha256: string } | null;
  startedAt: string;
  timings: { step: string; ms: number }[];
  cleanup: CleanupResult['leftBehind'] | null;
  validation: ValidateResult | null;
  rollback: RollbackResult | null;
  failure: RehearsalFailure | null;
}

/** The scratch database to drop (the parent's run key) and the rehearsal's staging snapshot to release. */
export interface RehearsalDropInput {
  plan: Plan;
  runKey: string;
}

/** clean-start: the Pilot database set read-only (or back). */
export type DecommissionInput = StepInput;
export interface DecommissionResult {
  database: string;
  readOnly: boolean;
  at: string;
  note: string;
}

/**
 * adopt: test data, erased and non-consenting subjects and their dependent rows removed from the
 * Pilot itself, in one transaction; every removed row is in the Pilot's cutover.manifest. O(tables).
 */
export interface AdoptCleanupResult {
  database: string; // the Pilot database cleaned (and adopted)
  cleanedAt: string;
  removed: Record<string, Record<string, number>>; // table -> reason -> rows (as the dry run counts them)
  /** The same rows by the chain of causes that removed each first (as CleanupResult.rootCauses; absent in older runs). */
  rootCauses?: Record<string, Record<string, Record<string, number>>>;
  deleted: Record<string, number>; // table -> rows deleted from the Pilot
  manifestRows: number; // rows this run wrote to cutover.manifest: equal to the rows deleted
  erasureLog: number; // rows written to cutover.erasure_log (one per erased subject removed)
  registers: { consented: number; erased: number };
  /** pg_stat_xact_user_tables before COMMIT: exactly the deletes above, plus the control schema's inserts. */
  transactionCounts: TransactionCount[];
  /** Grants and row-level security of the plan tables before the first delete (access checks compare). */
  accessBefore: AccessSnapshot;
  proof: string[];
}

/** adopt's compensation: the removed rows back from the Pilot backup, erasure requests re-applied. */
export interface AdoptRestoreResult {
  runKey: string;
  restoredAt: string;
  backup: { location: string; sha256: string };
  tables: { table: string; before: number; removedByCleanup: number; restored: number; reErased: number; after: number }[];
  /** Erasure requests in the registers at the rollback: every row of those subjects (and dependents) deleted again. */
  erasures: { subjects: number; rows: Record<string, number> };
  transactionCounts: TransactionCount[];
  proof: string[];
}

/** adopt, after gate cutover: the Pilot recorded as Production from adoptFrom. */
export interface AdoptResult {
  database: string;
  adoptFrom: string; // YYYY-MM-DD: the date from which the Pilot's data counts as Production's
  recordedAt: string;
  note: string;
}

export interface AdoptRestoreInput extends StepInput {
  backup: BackupObject; // the run's verified Pilot backup (kind source)
}
