// The whole decision at a gate, as report sections (common/report-blocks.ts): what approving does,
// why (decision.reason), who approves and who has approved or been refused, the backup and the
// rehearsal, what is being approved per table with its reasons (or, at gate restore, only what a
// restore would discard), and the plan's rules in words. One model for both readers: the workflow
// renders it as markdown into the Temporal UI's current details (workflows/visibility.ts) and
// `cutover status` as text (client/format/status.ts), so an approver reads the same in both.
// Tables have few, short columns (details in bullet lists below them) to read at half width.
// Pure, over the evidence pack as it stands: the workflow bundle imports it too.
import type { Plan } from '../plan/schema';
import { approverNames } from '../plan/signers';
import { rulesInWords } from './evidence-words';
import type { ReportBlock, ReportSection } from './report-blocks';
import type { DryRunReport, RestorePreview, TableDryRun } from './results';
import type { EvidencePack, GateName } from './temporal';

const sum = (counts: Record<string, number> | undefined): number =>
  Object.values(counts ?? {}).reduce((a, n) => a + (Number.isFinite(n) ? n : 0), 0);
const reasons = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');

/** What approving this gate lets the run do next, in one sentence. */
function consequence(plan: Plan, gate: GateName): string {
  if (gate === 'restore')
    return "Approving replaces the plan tables of Production with the verified backup's rows (erasure requests re-applied); what that discards is below.";
  if (plan.strategy === 'clean-start') {
    return gate === 'plan'
      ? 'Approving archives the whole Pilot into the backup store (a verified dump: it only reads); nothing moves, Production is not written.'
      : `Approving ${plan.decommission === 'readonly' ? 'sets the Pilot read-only for new sessions (undone by a rollback)' : 'records the decision; the Pilot stays writable'} and writes the evidence.`;
  }
  if (plan.strategy === 'adopt') {
    return gate === 'plan'
      ? "Approving backs up the Pilot's plan tables; nothing is removed before gate cutover."
      : `Approving removes the rows counted below from the Pilot (one proven transaction; a rollback restores them from the backup) and adopts it as Production from ${plan.adoptFrom ?? '?'}.`;
  }
  if (gate === 'plan') {
    const next = [plan.backup ? 'back up' : null, plan.rehearsal?.mode === 'scratch' ? 'rehearse in a scratch database' : null].filter(
      (x) => x !== null,
    );
    return `Approving lets the run ${next.length ? `${next.join(' and ')}, then ` : ''}wait at gate cutover; nothing is written to Production before it.`;
  }
  return 'Approving stages, cleans and publishes the rows counted below into Production in one transaction, then validates them.';
}

function backupInWords(pack: EvidencePack, plan: Plan): string {
  const b = plan.backup;
  if (!b) return 'none (no backup.store in the plan): a rollback can only be surgical';
  const what =
    plan.strategy === 'clean-start'
      ? 'the whole Pilot (the archive)'
      : plan.strategy === 'adopt'
        ? "the Pilot's plan tables"
        : `Production (${b.scope === 'full' ? 'every table' : "the plan tables' rows"}) and the Pilot's plan tables`;
  const taken = (pack.backups?.backups ?? []).map(
    (x) => `${x.kind} ${x.location}${x.verified?.sha256 === x.sha256 ? ' verified' : ' NOT verified'}`,
  );
  return `${what} into ${b.store} (scope ${b.scope})${taken.length ? `; taken: ${taken.join(', ')}` : '; not taken yet'}`;
}

function rehearsalInWords(pack: EvidencePack, plan: Plan): string {
  const mode = plan.rehearsal?.mode ?? 'skip';
  if (mode !== 'scratch') return `${mode}: no rehearsal`;
  const r = pack.rehearsal;
  if (!r) return 'scratch: runs after gate plan, in a database restored from the Production backup';
  const outcome = r.ok ? `ok, rollback ${r.rollback?.proven ? 'proven' : 'NOT proven'}` : `FAILED at ${r.failed?.step ?? '?'}`;
  const same = r.dryRunComparison ? (r.dryRunComparison.equal ? "; counts equal the dry run's" : '; DIFFERS from the dry run') : '';
  return `scratch: ${outcome}${same}; report hash ${r.rehearsalHash}`;
}

function decision(pack: EvidencePack, plan: Plan, gate: GateName): ReportSection {
  const got = pack.approvals.filter((a) => a.gate === gate);
  const refused = pack.refused
    .filter((r) => (r.signal === 'approve' || r.signal === 'reject') && (r.input as { gate?: unknown } | null)?.gate === gate)
    .slice(-5);
  const kv: ReportBlock['kv'] = [
    ['why (decision.reason)', plan.decision?.reason ?? 'not given in the plan'],
    ['initiated by', pack.initiatedBy],
    [
      'approvers',
      `${approverNames(plan).join(', ')}: ${plan.approvals.required} required${plan.approvals.separationOfDuties ? '; the initiator may not approve' : ''}${plan.approvals.signatures === 'required' ? '; signed approvals only' : ''}`,
    ],
    ['approved', got.length ? got.map((a) => `${a.approver}${a.signature?.verified ? ' (signed)' : ''}`).join(', ') : 'nobody yet'],
    ['refused', refused.length ? refused.map((r) => `${r.by}: ${r.reason}`).join('; ') : 'nobody'],
    ['backup', backupInWords(pack, plan)],
    ['rehearsal', rehearsalInWords(pack, plan)],
  ];
  return { title: `The decision at gate ${gate}`, level: 3, blocks: [{ text: consequence(plan, gate) }, { kv }] };
}

/** The dry run per table, laid out for the strategy: what moves (selective), what is removed (adopt), what is archived (clean-start). */
export function dryRunBlocks(dry: DryRunReport, strategy: string): ReportBlock[] {
  const tables: TableDryRun[] = [...dry.tables].sort((a, b) => a.order - b.order);
  if (strategy === 'clean-start') {
    return [{ table: { headers: ['table', 'rows to archive'], rows: tables.map((t) => [t.table, t.archived ?? t.total]) } }];
  }
  const why = tables.filter((t) => sum(t.leftBehind) > 0).map((t) => `${t.table}: ${reasons(t.leftBehind)}`);
  if (strategy === 'adopt') {
    return [
      {
        table: {
          headers: ['table', 'rows', 'removed', 'kept'],
          rows: tables.map((t) => [t.table, t.inScope, sum(t.leftBehind), t.inScope - sum(t.leftBehind)]),
        },
      },
      why.length ? { text: 'Removed from the Pilot after gate cutover, and why:' } : { text: 'Nothing is removed from the Pilot.' },
      ...(why.length ? [{ notes: why }] : []),
    ];
  }
  const conflicts = tables
    .filter((t) => t.collisions > 0 || (t.conflicts ?? []).length > 0)
    .map((t) => {
      const named = (t.conflicts ?? []).map((c) => `${c.constraint} (${c.kind} ${c.columns}) ${c.existing + c.duplicates}`);
      return `${t.table}: ${t.collisions} key collision(s)${named.length ? `; ${named.join('; ')}` : ''}`;
    });
  return [
    {
      table: {
        headers: ['table', 'in scope', 'to move', 'merged', 'left behind'],
        rows: tables.map((t) => [t.table, t.inScope, t.toMove, t.merged, sum(t.leftBehind)]),
      },
    },
    why.length ? { text: 'Left behind, and why:' } : { text: 'Nothing is left behind.' },
    ...(why.length ? [{ notes: why }] : []),
    conflicts.length ? { text: 'Predicted conflicts (publish would refuse these rows):' } : { text: 'Predicted conflicts: none.' },
    ...(conflicts.length ? [{ notes: conflicts }] : []),
  ];
}

/** At gate restore: what restoring the backup would discard, per table, and nothing else. */
export function restorePreviewBlocks(p: RestorePreview): ReportBlock[] {
  const examples = p.tables.filter((t) => t.examples.length).map((t) => `${t.table}: ${t.examples.join('; ')}`);
  return [
    { text: `A restore from ${p.backup} (sha256 ${p.sha256}, measured ${p.measuredAt}) would discard:` },
    ...(p.summary.length ? [{ notes: p.summary }] : []),
    {
      table: {
        headers: ['table', 'others wrote', "this run's", 'backup → now'],
        rows: p.tables.map((t) => [
          t.table,
          `${t.writtenSinceBackup} (+${t.added} −${t.removed} ~${t.changed})`,
          t.insertedByRun,
          `${t.backupRows} → ${t.nowRows}`,
        ]),
      },
    },
    ...(examples.length ? [{ text: 'Rows others wrote since the backup, e.g. (keys):' }, { notes: examples }] : []),
  ];
}

/** The sections an approver of `gate` reads, from the run's evidence pack as it stands. */
export function gateSections(pack: EvidencePack, gate: GateName): ReportSection[] {
  const plan = pack.plan as Plan;
  const sections: ReportSection[] = [decision(pack, plan, gate)];
  if (gate === 'restore') {
    sections.push({
      title: 'What a restore discards',
      level: 3,
      blocks: pack.restorePreview ? restorePreviewBlocks(pack.restorePreview) : [{ text: 'Not measured yet.' }],
    });
    return sections;
  }
  const title =
    plan.strategy === 'clean-start'
      ? 'What is archived (the dry run)'
      : plan.strategy === 'adopt'
        ? 'What the cleanup removes (the dry run)'
        : 'What moves (the dry run)';
  sections.push({ title, level: 3, blocks: pack.dryRun ? dryRunBlocks(pack.dryRun, plan.strategy) : [{ text: 'No dry run yet.' }] });
  // clean-start selects and cleans nothing: its one rule is the archive.
  const rules =
    plan.strategy === 'clean-start'
      ? [`Every table of the Pilot is archived whole into the backup store; nothing moves to ${plan.target}.`]
      : rulesInWords(plan).map((r) => r.text);
  sections.push({ title: "The plan's rules in words", level: 3, blocks: [{ notes: rules }] });
  return sections;
}
