// The status query (StatusView) for humans, plus live progress decoded from activity heartbeats.
import type { Approval, EvidencePack, GateName, StatusView, TableProgress } from '../../common/temporal';
import { gateSections } from '../../common/gate-view';
import { formatSections } from './report-text';
import { GATES } from '../../common/temporal';
import { changeText } from '../../common/change';
import { STEP_UNITS, type StepProgress } from '../../common/progress';
import { formatLiveProgress, stepProgressFrom } from './progress';
import { percent, renderTable } from './table';

/** Live progress of one table as reported by a running activity's heartbeat. */
export interface LiveProgress {
  table: string;
  rowsCopied: number;
  rowsTotal: number;
  activity?: string;
}

function asProgress(value: unknown, activity?: string): LiveProgress | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (typeof v.table !== 'string') return null;
  const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : Number(x) || 0);
  return { table: v.table, rowsCopied: num(v.rowsCopied), rowsTotal: num(v.rowsTotal), ...(activity ? { activity } : {}) };
}

/**
 * Heartbeat details are the common progress shape, or (older workers) `{table, rowsCopied, rowsTotal}` or an array of them (possibly wrapped in the
 * heartbeat's argument list). Anything else is ignored.
 */
export function progressFromHeartbeat(details: unknown, activity?: string): LiveProgress[] {
  if (Array.isArray(details)) return details.flatMap((d) => progressFromHeartbeat(d, activity));
  // The common shape (common/progress.ts): one entry per table.
  const steps = stepProgressFrom(details);
  if (steps.length)
    return steps.flatMap((s) =>
      s.tables.map((t) => ({ table: t.table, rowsCopied: t.done, rowsTotal: t.total, activity: activity ?? s.step })),
    );
  const p = asProgress(details, activity);
  return p ? [p] : [];
}

export function approvalsFor(view: Pick<StatusView, 'approvals'>, gate: GateName): Approval[] {
  return view.approvals.filter((a) => a.gate === gate);
}

/** `plan 2/2 (alice, bob signed); cutover 0/2` — or just the awaited gate when there is one. */
export function formatApprovals(view: Pick<StatusView, 'approvals' | 'required' | 'gate'>): string {
  // The restore gate only exists once a rollback by restore was asked for: show it when it has approvals.
  const gates: readonly GateName[] = view.gate ? [view.gate] : GATES.filter((g) => g !== 'restore' || approvalsFor(view, g).length > 0);
  return gates
    .map((g) => {
      const got = approvalsFor(view, g);
      const who = got.length ? ` (${got.map((a) => `${a.approver}${a.signature?.verified ? ' signed' : ''}`).join(', ')})` : '';
      return `${g} ${got.length}/${view.required}${who}`;
    })
    .join('; ');
}

export interface StatusFormatOptions {
  workflowId?: string;
  live?: LiveProgress[];
  /** The running steps' own progress (status --watch): a live table with rows/s and time left. */
  steps?: StepProgress[];
  now?: Date;
  /** At a gate: the run's evidence pack as it stands (query `report`), for the whole decision (common/gate-view.ts). */
  evidence?: EvidencePack;
}

/**
 * Per table, the last count the run knows, each out of its own step's total and in its word: planned
 * (rows to move, from the dry run), staged (of the rows in scope), published (of the rows to publish);
 * a running step's heartbeat replaces it with that step's own count (total "?" until the step knows
 * it: never another step's total).
 */
function progressTable(progress: Record<string, TableProgress>, live: LiveProgress[]): string | null {
  const rows = new Map<string, { phase: string; copied: number; total: number; source: string }>();
  for (const p of Object.values(progress ?? {})) {
    rows.set(p.table, { phase: p.phase, copied: p.rowsCopied, total: p.rowsTotal, source: 'workflow' });
  }
  for (const l of live) {
    rows.set(l.table, {
      phase: l.activity ? (STEP_UNITS[l.activity] ?? l.activity) : (rows.get(l.table)?.phase ?? ''),
      copied: l.rowsCopied,
      total: l.rowsTotal,
      source: `live${l.activity ? ` (${l.activity})` : ''}`,
    });
  }
  if (!rows.size) return null;
  return renderTable(
    ['table', 'phase', 'rows', 'of', 'done', 'source'],
    [...rows.entries()].map(([table, r]) => [
      table,
      r.phase,
      r.copied,
      r.total || (r.phase === 'planned' ? 0 : '?'),
      percent(r.copied, r.total),
      r.source,
    ]),
  );
}

export function formatStatus(view: StatusView, opts: StatusFormatOptions = {}): string {
  const id = opts.workflowId ?? `cutover-${view.planId}`;
  const lines: string[] = [
    `${id}  (plan ${view.planId}, ${view.strategy})`,
    `status:       ${view.status}`,
    // A step run as a child workflow (the rehearsal): its id, where the UI shows its sub-steps.
    `phase:        ${view.phase}${view.child ? ` (running in child workflow ${view.child})` : ''}`,
    `gate:         ${view.gate ?? '-'}`,
    `approvals:    ${formatApprovals(view)}`,
    `plan hash:    ${view.planHash}`,
    `initiated by: ${view.initiatedBy}`,
    `run key:      ${view.runKey}`,
  ];
  if (view.change) lines.push(`change:       ${changeText(view.change)}`);
  // Gate plan: what an approval must acknowledge (workflows/decisions.ts acknowledgeRefusal).
  for (const p of view.mustAcknowledge ?? []) lines.push(`acknowledge:  ${p.reason} — ${p.why} (approve with --acknowledge ${p.reason})`);
  for (const m of view.databaseMoves ?? []) {
    lines.push(
      `moved:        ${m.alias} accepted as ${m.to.database} on ${m.to.server} (system identifier ${m.to.systemIdentifier}, oid ${m.to.databaseOid}) by ${m.by} at ${m.at}: ${m.reason}`,
    );
  }
  for (const x of view.drift ?? []) {
    const what = [
      ...x.tables.map((t) => `${t.table} ${t.approvedRows} → ${t.rowsNow} rows`),
      ...x.catalog.map((c) => `${c.table} ${c.side} catalog changed`),
    ].join(', ');
    lines.push(
      `drift:        at ${x.at}: ${what} (${x.tolerated ? 'tolerated by the plan' : 'back to gate plan; earlier approvals no longer count'})`,
    );
  }
  if (view.decision) {
    lines.push(`decision:     ${view.decision.action} by ${view.decision.by} at ${view.decision.at}: ${view.decision.reason}`);
  }
  for (const b of view.backups ?? []) {
    lines.push(`backup:       ${b.kind} ${b.location} (${b.size} bytes, sha256 ${b.sha256}${b.verified ? ', verified' : ''})`);
  }
  // While the gate waits, the decision below shows the preview; once it was refused (or without the pack), these lines do.
  if (view.restorePreview && (view.gate === 'restore' || view.phase === 'gate:restore') && !(view.gate === 'restore' && opts.evidence)) {
    lines.push(`restore:      from ${view.restorePreview.backup} would discard: ${view.restorePreview.summary[0] ?? ''}`);
    for (const t of view.restorePreview.tables) {
      lines.push(
        `              ${t.table}: written by others since the backup ${t.writtenSinceBackup} (${t.added} added, ${t.removed} removed, ${t.changed} changed), this run's ${t.insertedByRun}${t.examples.length ? `; e.g. ${t.examples.join('; ')}` : ''}`,
      );
    }
  }
  // At gate restore only what the restore discards counts (the decision below); the rehearsal is history.
  if (view.rehearsal && view.gate !== 'restore') {
    const r = view.rehearsal;
    const moved = r.tables
      .map((t) => `${t.table} ${t.moved}${t.merged ? `+${t.merged} merged` : ''}${t.leftBehind ? `, ${t.leftBehind} left behind` : ''}`)
      .join('; ');
    const outcome = r.ok ? `ok, rollback ${r.rollbackProven ? 'proven' : 'NOT proven'}` : `FAILED${r.failed ? ` (${r.failed})` : ''}`;
    lines.push(`rehearsal:    ${outcome}, hash ${r.rehearsalHash}${moved ? ` — moved ${moved}` : ''}`);
    if (r.sameAsDryRun === true) lines.push("              counts per table equal the approved dry run's");
    // A difference is what an approver of gate cutover must see first: one line each, with its cause.
    for (const d of r.differences ?? []) lines.push(`              DIFFERS FROM THE DRY RUN: ${d}`);
  }
  if (view.error && (view.status === 'paused' || view.status === 'failed')) {
    lines.push(`error:        [${view.error.step}] ${view.error.type}: ${view.error.message} (at ${view.error.at})`);
  }
  if (view.status === 'paused') {
    // A signed resume names this pause (Signatures v2); --sign reads it from here.
    if (view.pause !== undefined) lines.push(`pause:        ${view.pause}`);
    // Only what the run would accept now (older workers did not say: list every action).
    const actions = view.actions ?? ['retry', 'skip', 'rollback', 'roll-forward', 'abort'];
    for (const a of actions) {
      const extra = a === 'roll-forward' ? ' --from STEP' : a === 'rollback' ? ' [--mode restore]' : '';
      lines.push(`next:         cutover resume ${id} --action ${a}${extra} --as NAME --reason R`);
    }
  } else if (view.status === 'awaiting-approval' && view.gate) {
    const hash = view.gate === 'cutover' && view.rehearsal ? ` --rehearsal-hash ${view.rehearsal.rehearsalHash}` : '';
    lines.push(`next:         cutover approve ${id} --gate ${view.gate}${hash} --as NAME   (or: cutover reject … --reason R)`);
  }
  // The whole decision at the gate: the same model as the Temporal UI's current details.
  const decision = view.gate && opts.evidence ? formatSections(gateSections(opts.evidence, view.gate)) : null;
  if (decision) lines.push('', decision);
  if (view.refused.length) {
    // The run keeps only the last refusals; say how many there were (older workers sent no count).
    const count = view.refusedCount ?? view.refused.length;
    lines.push('', count > view.refused.length ? `refused signals (the last ${view.refused.length} of ${count}):` : 'refused signals:');
    lines.push(
      renderTable(
        ['at', 'signal', 'by', 'reason'],
        view.refused.map((r) => [r.at, r.signal, r.by, r.reason]),
      ),
    );
  }
  if (view.steps.length) {
    lines.push('', 'steps:');
    lines.push(
      renderTable(
        ['at', 'step', 'outcome', 'detail'],
        view.steps.map((s) => [s.at, s.step, s.outcome, s.detail ?? '']),
      ),
    );
  }
  // At a gate nothing runs: the dry run above says what each table will do, not a "planned" count.
  const progress = decision ? null : progressTable(view.progress, opts.live ?? []);
  if (progress) lines.push('', 'progress:', progress);
  const live = formatLiveProgress(opts.steps ?? []);
  if (live) lines.push('', 'running now:', live);
  return lines.join('\n');
}
