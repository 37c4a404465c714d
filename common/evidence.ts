// The evidence pack, schemaVersion 1: one JSON document that someone who never saw the run can read
// alone — who decided and why, who approved which plan, where the backups are and how they were
// verified, what moved, merged and stayed behind (and the root cause of each), where the row-by-row
// manifest and id map are, what the checks found, what was undone, and what is still open.
// One pure function builds it from the run's raw record (RunState.evidence(): step results,
// approvals, history), so the finalize activity that writes it and the CLI that renders a running
// one build the same document. Every top-level key is always present: a list is [] and a record
// null when it does not apply (the `steps` and `openItems` sections say why).
import type { EvidenceContext, StepDocSections } from './step-module';
import { arrange, stepDocEntries } from './steps';
import { approverNames } from '../plan/signers';
import type { Plan } from '../plan/schema';
import { planTableKey } from '../plan/names';
import type {
  AccessChecksResult,
  CleanupResult,
  DryRunReport,
  RestorePreview,
  RestoreResult,
  RollbackProof,
  TableMapping,
  TableValidation,
} from './results';
import type { DatabaseMove, Drift, EvidencePack, Refusal, RunStatus, StatusView } from './temporal';
import { hasRule, rootCauses, rootOf, rulesInWords, type RuleInWords } from './evidence-words';
import { stepsOf, type EvidenceStep } from './evidence-steps';
import { openItemsOf } from './evidence-open';

export const EVIDENCE_SCHEMA_VERSION = 1 as const;

export interface EvidenceApproval {
  gate: string;
  approver: string;
  at: string;
  comment: string | null;
  /** The plan hash this approval is for: the run's (the gate refuses an approval naming another). */
  planHash: string;
  rehearsalHash: string | null;
  signature: { signed: boolean; verified: boolean; fingerprint: string | null };
  /** The refusals the dry run predicted that this approver acknowledged ([] when none). */
  acknowledged: string[];
}

export interface EvidenceBackup {
  kind: string;
  alias: string;
  scope: string;
  location: string;
  size: number;
  sha256: string;
  snapshot: string;
  tables: number;
  verified: boolean;
  verifiedAt: string | null;
  verifiedHow: string[];
  /** Why it was taken after the run's first backup (a retried rehearsal); absent on the first. */
  note?: string;
}

export interface EvidenceManifestTable {
  table: string;
  ids: string;
  inScope: number;
  moved: number;
  merged: number;
  leftBehind: number;
  leftBehindByReason: Record<string, number>;
  /** reason → chains to a reason that is not a cascade, e.g. `parent-left-behind:public.accounts ← test-account`. */
  rootCauses: Record<string, string[]>;
  /**
   * reason → chain → rows: each row counted once, under the chain that removed it first (cleanup records
   * it per row). null: not recorded (a run before that, where a reason has several chains).
   */
  rootCauseRows?: Record<string, Record<string, number | null>>;
  balanced: boolean; // inScope = moved + merged + leftBehind
}

export interface EvidenceQuery {
  what: string;
  sql: string;
}

export interface EvidenceChecksum {
  covers: string;
  value: string;
}

/** Step modules (common/steps/) add their sections under their names (StepDocSections). */
export interface EvidenceDocument extends StepDocSections {
  schemaVersion: typeof EVIDENCE_SCHEMA_VERSION;
  run: {
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
    source: string;
    target: string;
    plan: unknown;
    stage: EvidencePack['stage'];
    publish: EvidencePack['publish'];
    history: EvidencePack['steps'];
  };
  decision: {
    strategy: string;
    planId: string;
    planHash: string;
    initiatedBy: string;
    reason: string | null;
    outcome: RunStatus;
    /** Change control: the change request that authorised the run (plan decision.change) and its link; null when the plan names none. */
    change: string | null;
    changeUrl: string | null;
    approvalRule: { approvers: string[]; required: number; separationOfDuties: boolean; timeout: string; signatures: string };
    /** On-call's last resume decision (retry, skip, abort, rollback, roll-forward), if any. */
    lastResume: StatusView['decision'] | null;
  };
  rules: RuleInWords[];
  approvals: EvidenceApproval[];
  refused: { count: number; kept: number; last: Refusal[] };
  dryRun: DryRunReport | null;
  backups: EvidenceBackup[];
  rehearsal: { mode: string; performed: boolean; note: string | null; result: unknown };
  cleanup: { leftBehind: Record<string, Record<string, number>>; rootCauses?: CleanupResult['rootCauses']; transforms: string[] } | null;
  manifest: {
    where: string;
    runKey: string;
    tables: EvidenceManifestTable[];
    totals: { inScope: number; moved: number; merged: number; leftBehind: number };
    queries: EvidenceQuery[];
  };
  idChanges: {
    where: string;
    runKey: string;
    /**
     * Per table whose rows' Production keys can differ from their Pilot keys (new, match, and keep
     * keyed by remapped parents): pairs = old→new pairs in cutover.id_map (moved + merged), keysChanged
     * = those whose key differs; null where validation did not count them (older runs).
     */
    tables: {
      table: string;
      strategy: string;
      matchOn: string[] | null;
      rowsRemapped: number;
      matchedExisting: number;
      pairs: number | null;
      keysChanged: number | null;
    }[];
    /** The pairs as one file in the backup store next to this pack (finalize writes it; null: no store, or nothing published). */
    pairsFile?: { location: string; sha256: string; rows: number } | null;
    queries: EvidenceQuery[];
  };
  /** cascaded (here, in testData and in erasure): rows left behind below the rule's own, whose first cause it is. */
  consent: {
    rule: string;
    subjects: string;
    consentedInRegister: number | null;
    leftBehind: number;
    cascaded: number;
    checkedAfterPublish: { passed: boolean; rowCount: number } | null;
  } | null;
  testData: { table: string; where: string; reason: string; leftBehind: number; cascaded: number }[];
  /**
   * Retention rules (absent in packs from before them; [] when the plan has none): each as cleanup
   * applied it (snapshot time, cutoff, rows left behind or anonymized), the dry run's count, and the
   * built-in check after publish.
   */
  retention?: {
    table: string;
    column: string;
    olderThan: string;
    action: string;
    snapshotAt: string | null;
    cutoff: string | null;
    dryRun: number | null;
    leftBehind: number | null;
    anonymized: number | null;
    cascaded: number;
  }[];
  retentionCheck?: { passed: boolean; rowCount: number } | null;
  /**
   * Production's declared audit tables (absent without production.auditTables): the rows its triggers
   * wrote there because of this run, per audit table — for publish's inserts and for a surgical
   * rollback's deletes — each equal to what the rule explains (else the transaction was refused).
   */
  audit?: {
    tables: string[];
    rule: string | null;
    publish: Record<string, number> | null;
    rollback: Record<string, number> | null;
    publishExpected: number | null;
    rollbackExpected: number | null;
  };
  validation: { ok: boolean; preExisting: string; tables: TableValidation[] } | null;
  accessChecks: AccessChecksResult | null;
  erasure: {
    registers: string[];
    requestsFound: number | null;
    leftBehind: number;
    appliedInProduction: boolean;
    /** Subjects this run moved and then erased in production after publish (each in cutover.erasure_log). */
    applied: number | null;
    residue: number | null;
    note: string;
    cascaded?: number;
    /** Each pass after publish (erasure, erasure-final): what it found, erased and verified. */
    passes: {
      step: string;
      at: string;
      requests: number;
      applied: number;
      rows: Record<string, number>;
      anonymized: Record<string, number>;
      nullified: Record<string, number>;
      residue: number;
      verification: string[];
    }[];
  };
  rollback: {
    mode: string;
    by: string | null;
    reason: string | null;
    at: string;
    undone: { table: string; inserted: number; deleted: number; alreadyGone: number; equal: boolean }[];
    proof: RollbackProof;
  } | null;
  /** Rollback by restore: what the approvers were shown (preview), what the restore did (result), and the erasures it re-applied, rows per table. */
  restore: EvidenceRestore | null;
  /** adopt only: the Pilot adopted as Production from adoptFrom, its in-place cleanup and any rollback's restore. */
  adoption?: EvidencePack['adoption'];
  /** Databases on-call accepted as moved during the run (resume retry --accept-database): from, to, who, why. */
  databaseMoves?: DatabaseMove[];
  /** The Pilot or a catalog changed after gate plan (each difference, tolerated or sent back to gate plan), and the approvals that stopped counting. */
  drift?: Drift[];
  voidedApprovals?: EvidencePack['voidedApprovals'];
  /**
   * A plan with into/columns/drop: per mapped table, each Production column's source (copied,
   * renamed, constant, map with counts per value, expression text) and each dropped Pilot column
   * with its non-null values left behind; counted on the rows cleanup kept (moved or merged), else as the dry
   * run counted them. Absent without a mapping.
   */
  mapping?: TableMapping[];
  checksums: EvidenceChecksum[];
  steps: EvidenceStep[];
  openItems: string[];
}

export interface EvidenceRestore {
  by: string | null;
  reason: string | null;
  preview: {
    measuredAt: string;
    backup: string;
    summary: string[];
    tables: RestorePreview['tables'];
    erasures: RestorePreview['erasures'] | null;
  } | null;
  result: { restoredAt: string; backup: RestoreResult['backup']; tables: RestoreResult['tables']; verification: string[] } | null;
  /** Erasures re-applied after the restore, each subject by its production key: rows per table deleted, anonymized, kept with a reference set to NULL. */
  erasuresAfterRestore: {
    requests: number;
    deleted: Record<string, number>;
    anonymized: Record<string, number>;
    nullified: Record<string, number>;
    applications: RestoreResult['erasures']['applications'];
    more: number;
  } | null;
}

type Loose = Record<string, unknown>;

function approvalOf(a: EvidencePack['approvals'][number], planHash: string): EvidenceApproval {
  const x = a as typeof a & Loose; // signed approvals and rehearsals add fields: read what is there
  const sig = x.signature as { verified?: boolean; fingerprint?: string } | undefined;
  return {
    gate: a.gate,
    approver: a.approver,
    at: a.at,
    comment: a.comment ?? null,
    planHash: typeof x.planHash === 'string' ? x.planHash : planHash,
    rehearsalHash: typeof x.rehearsalHash === 'string' ? x.rehearsalHash : null,
    signature: { signed: sig !== undefined, verified: sig?.verified === true, fingerprint: sig?.fingerprint ?? null },
    acknowledged: Array.isArray(x.acknowledged) ? (x.acknowledged as string[]) : [],
  };
}

/**
 * reason → chain → rows of one table. Cleanup's per-row record when it has the reason with the same
 * rows; else (older runs) the chains the per-table counts allow, with rows only where there is one.
 */
function causesOf(
  p: EvidencePack,
  counts: Record<string, Record<string, number>>,
  table: string,
): Record<string, Record<string, number | null>> {
  const recorded = p.cleanup?.rootCauses?.[table] ?? {};
  const out: Record<string, Record<string, number | null>> = {};
  for (const [reason, n] of Object.entries(counts[table] ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const chains = recorded[reason];
    if (chains && Object.values(chains).reduce((a, b) => a + b, 0) === n) {
      out[reason] = Object.fromEntries(Object.entries(chains).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      continue;
    }
    const derived = rootCauses(counts, table, reason);
    out[reason] = Object.fromEntries(derived.map((c) => [c, derived.length === 1 ? n : null]));
  }
  return out;
}

function manifestOf(p: EvidencePack): EvidenceDocument['manifest'] {
  const tables = p.validation?.tables ?? [];
  const counts = Object.fromEntries(tables.map((t) => [t.table, t.leftBehindByReason]));
  const idsOf = (t: string) => p.dryRun?.tables.find((d) => d.table === t)?.ids ?? '';
  const rows: EvidenceManifestTable[] = tables.map((t) => {
    const causes = causesOf(p, counts, t.table);
    return {
      table: t.table,
      ids: idsOf(t.table),
      inScope: t.inScope,
      moved: t.moved,
      merged: t.merged,
      leftBehind: t.leftBehind,
      leftBehindByReason: t.leftBehindByReason,
      rootCauses: Object.fromEntries(Object.entries(causes).map(([r, chains]) => [r, Object.keys(chains)])),
      rootCauseRows: causes,
      balanced: t.inScope === t.moved + t.merged + t.leftBehind,
    };
  });
  const total = (k: 'inScope' | 'moved' | 'merged' | 'leftBehind') => rows.reduce((a, r) => a + r[k], 0);
  const rk = p.runKey;
  return {
    where: 'cutover.manifest (target database): one row per Pilot row in scope, key as JSON, outcome moved / merged / left-behind, reason',
    runKey: rk,
    tables: rows,
    totals: { inScope: total('inScope'), moved: total('moved'), merged: total('merged'), leftBehind: total('leftBehind') },
    queries: [
      {
        what: 'counts per table, outcome and reason (equal to the tables above)',
        sql: `SELECT table_name, outcome, reason, count(*) FROM cutover.manifest WHERE run_key = '${rk}' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;`,
      },
      {
        what: 'every row left behind, with its reason',
        sql: `SELECT table_name, key, reason FROM cutover.manifest WHERE run_key = '${rk}' AND outcome = 'left-behind' ORDER BY table_name, reason;`,
      },
      {
        what: 'what happened to one Pilot row (its key as a JSON array)',
        sql: `SELECT outcome, reason FROM cutover.manifest WHERE run_key = '${rk}' AND table_name = 'public.users' AND key = '[17]'::jsonb;`,
      },
    ],
  };
}

function idChangesOf(p: EvidencePack, plan: Plan): EvidenceDocument['idChanges'] {
  const rk = p.runKey;
  const tables = (p.dryRun?.tables ?? [])
    .filter((d) => d.ids !== 'keep' || p.validation?.tables.find((t) => t.table === d.table)?.idPairs)
    .map((d) => {
      const v = p.validation?.tables.find((t) => t.table === d.table);
      const spec = plan.tables.find((t) => planTableKey(t.table) === d.table);
      const remapped = d.ids === 'keep' ? (v?.idPairs?.changed ?? 0) : (v?.moved ?? 0);
      const pairs = v ? (v.idPairs?.pairs ?? (v.moved + v.merged === 0 ? 0 : null)) : null;
      return {
        table: d.table,
        strategy: d.ids,
        matchOn: d.ids === 'match' ? (spec?.match ?? null) : null,
        rowsRemapped: remapped,
        matchedExisting: v?.merged ?? 0,
        pairs,
        keysChanged: v?.idPairs?.changed ?? (pairs === 0 ? 0 : null),
      };
    });
  return {
    where:
      'cutover.id_map (target database): per run and table, old_key (Pilot) → new_key (Production) as JSON, outcome moved / merged / found',
    runKey: rk,
    tables,
    queries: [
      {
        what: 'rows per table and outcome',
        sql: `SELECT table_name, outcome, count(*) FROM cutover.id_map WHERE run_key = '${rk}' GROUP BY 1, 2 ORDER BY 1, 2;`,
      },
      {
        what: 'the Production key of one Pilot row',
        sql: `SELECT new_key, outcome FROM cutover.id_map WHERE run_key = '${rk}' AND table_name = 'public.users' AND old_key = '[17]'::jsonb;`,
      },
    ],
  };
}

function checksumsOf(p: EvidencePack): EvidenceChecksum[] {
  const out: EvidenceChecksum[] = [
    { covers: 'plan hash: sha256 of the canonical plan JSON (defaults applied) — what the approvers approved', value: p.planHash },
  ];
  for (const b of p.backups?.backups ?? [])
    out.push({
      covers: `sha256 of the backup object ${b.location} (pg_dump of ${b.alias}, ${b.scope}), taken while writing it`,
      value: b.sha256,
    });
  for (const t of p.validation?.tables ?? []) {
    out.push(
      {
        covers: `${t.table}: rows this run moved, as staged after id remapping (row count:sum of row hashes, order-independent)`,
        value: t.stagingChecksum,
      },
      {
        covers: `${t.table}: the same rows as Production holds them after publish (equal to the staged one when correct)`,
        value: t.productionChecksum,
      },
    );
    // Only with validation.preExisting: full; otherwise publish's own transaction counts prove it.
    if (t.preExistingBefore !== undefined && t.preExistingAfter !== undefined) {
      out.push(
        { covers: `${t.table}: Production's own rows before publish`, value: t.preExistingBefore },
        { covers: `${t.table}: Production's own rows after publish (equal to before when untouched)`, value: t.preExistingAfter },
      );
    }
  }
  for (const t of p.rollback?.tables ?? []) {
    if (t.checksumBeforePublish === undefined || t.checksumAfterRollback === undefined) continue; // validation.preExisting: count
    out.push(
      { covers: `${t.table}: whole table before publish (rollback compares)`, value: t.checksumBeforePublish },
      { covers: `${t.table}: whole table after the rollback`, value: t.checksumAfterRollback },
    );
  }
  return out;
}

function leftBehindFor(p: EvidencePack, reason: string, table?: string): number {
  // adopt has no validation nor cleanup step: its in-place cleanup's counts.
  const lb = p.validation
    ? Object.fromEntries(p.validation.tables.map((t) => [t.table, t.leftBehindByReason]))
    : (p.cleanup?.leftBehind ?? p.adoption?.cleanup?.removed ?? {});
  return Object.entries(lb)
    .filter(([t]) => table === undefined || t === table)
    .reduce((a, [, r]) => a + (r[reason] ?? 0), 0);
}

/**
 * Rows left behind through a cascade that `reason` started: rows whose chain ends at it, below it. A
 * reason whose rows are not recorded per chain (older runs) counts whole when any chain ends there.
 */
function cascadedFrom(tables: Pick<EvidenceManifestTable, 'leftBehindByReason' | 'rootCauseRows'>[], reason: string): number {
  let n = 0;
  for (const t of tables) {
    for (const [r, chains] of Object.entries(t.rootCauseRows ?? {})) {
      const mine = Object.entries(chains).filter(([chain]) => chain !== reason && rootOf(chain) === reason);
      if (mine.some(([, rows]) => rows === null)) n += t.leftBehindByReason[r] ?? 0;
      else n += mine.reduce((a, [, rows]) => a + rows!, 0);
    }
  }
  return n;
}

/** What the cause counts are read from: the validated manifest; for adopt, its in-place cleanup's record. */
function causeTables(
  p: EvidencePack,
  manifest: EvidenceDocument['manifest'],
): Pick<EvidenceManifestTable, 'leftBehindByReason' | 'rootCauseRows'>[] {
  const adopted = p.adoption?.cleanup;
  if (manifest.tables.length || !adopted) return manifest.tables;
  return Object.keys(adopted.removed).map((t) => ({
    leftBehindByReason: adopted.removed[t],
    rootCauseRows: causesOf(
      { ...p, cleanup: { leftBehind: adopted.removed, rootCauses: adopted.rootCauses, transforms: [] } },
      adopted.removed,
      t,
    ),
  }));
}

/** The plan as the run normalised it; a partial one (an old or hand-made record) gets empty rules. */
function planOf(raw: unknown): Plan {
  const p = (raw ?? {}) as Partial<Plan>;
  return {
    ...p,
    tables: p.tables ?? [],
    approvals: { approvers: [], required: 0, separationOfDuties: true, timeout: '', ...p.approvals },
  } as Plan;
}

/** The mapping section: what cleanup counted on the rows it kept, else the dry run's count; nothing without a mapping. */
function mappingOf(p: EvidencePack): { mapping?: TableMapping[] } {
  const mapping = p.cleanup?.mapping ?? p.dryRun?.tables.flatMap((t) => (t.mapping ? [t.mapping] : []));
  return mapping?.length ? { mapping } : {};
}

/** The plan's retention rules with what the dry run counted, cleanup did and the check after publish found. */
function retentionOf(
  p: EvidencePack,
  plan: Plan,
  causes: ReturnType<typeof causeTables>,
): Pick<EvidenceDocument, 'retention' | 'retentionCheck'> {
  const rules = plan.retention ?? [];
  if (rules.length === 0) return {};
  const check = p.accessChecks?.checks.find((c) => c.name === 'built-in:retention');
  return {
    retention: rules.map((r, i) => {
      const applied = p.cleanup?.retention?.[i] ?? null;
      const dry = p.dryRun?.retention?.[i] ?? null;
      const rows = applied?.rows ?? null;
      return {
        table: planTableKey(r.table),
        column: r.column,
        olderThan: r.olderThan,
        action: r.action,
        snapshotAt: applied?.snapshotAt ?? null,
        cutoff: applied?.cutoff ?? null,
        dryRun: dry?.rows ?? null,
        leftBehind: r.action === 'leave-behind' ? rows : null,
        anonymized: r.action === 'anonymize' ? rows : null,
        cascaded:
          r.action === 'leave-behind' && i === rules.findIndex((x) => x.action === 'leave-behind') ? cascadedFrom(causes, 'retention') : 0,
      };
    }),
    retentionCheck: check ? { passed: check.passed, rowCount: check.rowCount } : null,
  };
}

/**
 * The evidence document of a run (pure; deterministic for the same record). The sections of the
 * document itself (run, decision, rules, the manifest, id changes, the rules' counts, checksums, …)
 * are slots in the document's order; each step view places its own section after one of them or
 * after another step's (common/steps/): the document iterates the step table, never lists steps.
 */
export function buildEvidence(p: EvidencePack): EvidenceDocument {
  const plan = planOf(p.plan);
  const steps = stepsOf(p.steps, p.approvals);
  const manifest = manifestOf(p);
  const causes = causeTables(p, manifest);
  const consentCheck = p.accessChecks?.checks.find((c) => c.name === 'built-in:consent');
  const rules = rulesInWords(plan);
  const ctx: EvidenceContext = {
    pack: p,
    plan,
    rules,
    steps,
    leftBehind: (reason, table) => leftBehindFor(p, reason, table),
    cascaded: (reason) => cascadedFrom(causes, reason),
  };
  const retention = retentionOf(p, plan, causes);
  const mapping = mappingOf(p);

  // The document's own sections, in order; undefined: the key is left out (a run without it).
  const slots: Record<string, unknown> = {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    run: {
      planId: p.planId,
      planHash: p.planHash,
      strategy: p.strategy,
      status: p.status,
      initiatedBy: p.initiatedBy,
      workflowId: p.workflowId,
      runId: p.runId,
      runKey: p.runKey,
      startedAt: p.startedAt,
      finishedAt: p.finishedAt,
      source: plan.source,
      target: plan.target,
      plan: p.plan,
      stage: p.stage,
      publish: p.publish,
      history: p.steps,
    },
    decision: {
      strategy: p.strategy,
      planId: p.planId,
      planHash: p.planHash,
      initiatedBy: p.initiatedBy,
      reason: plan.decision?.reason ?? null,
      outcome: p.status,
      change: plan.decision?.change ?? null,
      changeUrl: plan.decision?.changeUrl ?? null,
      approvalRule: {
        approvers: approverNames(plan),
        signatures: plan.approvals.signatures ?? 'optional',
        required: plan.approvals.required,
        separationOfDuties: plan.approvals.separationOfDuties,
        timeout: plan.approvals.timeout,
      },
      lastResume: p.decision,
    },
    rules,
    approvals: p.approvals.map((a) => approvalOf(a, p.planHash)),
    refused: { count: p.refusedCount, kept: p.refused.length, last: p.refused },
    manifest,
    idChanges: idChangesOf(p, plan),
    consent: plan.consent
      ? {
          rule: rules.find((r) => r.kind === 'consent')!.text,
          subjects: plan.subjects ? `${planTableKey(plan.subjects.table)}.${plan.subjects.key}` : '',
          consentedInRegister: p.stage?.registers.consented ?? null,
          leftBehind: leftBehindFor(p, 'no-consent'),
          cascaded: cascadedFrom(causes, 'no-consent'),
          checkedAfterPublish: consentCheck ? { passed: consentCheck.passed, rowCount: consentCheck.rowCount } : null,
        }
      : null,
    testData: rules
      .filter((r) => r.kind === 'test-data')
      .map((r, i) => {
        const rule = plan.testData![i];
        return {
          table: r.table!,
          where: r.text,
          reason: rule.reason,
          leftBehind: leftBehindFor(p, rule.reason, r.table!),
          cascaded: cascadedFrom(causes, rule.reason),
        };
      }),
    retention: retention.retention,
    retentionCheck: retention.retentionCheck,
    audit: plan.production?.auditTables?.length
      ? {
          tables: plan.production.auditTables.map(planTableKey),
          rule: p.publish?.audit?.rule ?? p.rollback?.proof.audit?.rule ?? null,
          publish: p.publish?.audit?.inserted ?? null,
          rollback: p.rollback?.proof.audit?.inserted ?? null,
          publishExpected: p.publish?.audit?.expected ?? null,
          rollbackExpected: p.rollback?.proof.audit?.expected ?? null,
        }
      : undefined,
    adoption: p.adoption ?? undefined,
    databaseMoves: p.databaseMoves?.length ? p.databaseMoves : undefined,
    drift: p.drift?.length ? p.drift : undefined,
    voidedApprovals: p.drift?.length ? (p.voidedApprovals ?? []) : undefined,
    mapping: mapping.mapping,
    checksums: checksumsOf(p),
    steps,
    openItems: [],
  };
  const entries = arrange(Object.entries(slots), stepDocEntries(ctx)).filter(([, v]) => v !== undefined);
  const doc = Object.fromEntries(entries) as unknown as EvidenceDocument;
  doc.openItems = openItemsOf(doc, (reason) => hasRule(plan, reason));
  return doc;
}

export const isEvidenceDocument = (x: unknown): x is EvidenceDocument =>
  (x as { schemaVersion?: unknown } | null)?.schemaVersion === EVIDENCE_SCHEMA_VERSION;

/** A document as is; a run's raw record (what the report query answers) built into one. */
export const asEvidence = (x: EvidencePack | EvidenceDocument): EvidenceDocument => (isEvidenceDocument(x) ? x : buildEvidence(x));

/** The exact text written to cutover.evidence and the backup store; its sha256 is taken over these bytes (UTF-8). */
export const evidenceText = (doc: EvidenceDocument): string => `${JSON.stringify(doc, null, 2)}\n`;
