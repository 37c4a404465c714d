// The evidence pack laid out as titled sections (key/value lists, tables, notes, code), rendered to
// markdown by report-md.ts and to HTML by report-html.ts so both say exactly the same things. Built
// from the evidence document (common/evidence.ts); a run's raw record (the report query's answer)
// is built into one first. Read top-down as an auditor would: who decided and why, what is still
// open, the rules in words, approvals, backups, then what moved and stayed (report-data.ts). The
// steps' sections are their views' (common/steps/), each placed after a named slot of this report.
import type { EvidenceDocument } from '../../common/evidence';
import { asEvidence } from '../../common/evidence';
import type { DatabaseMove, EvidencePack } from '../../common/temporal';
import { dataSections } from './report-data';
import { arrange, stepReportEntries } from '../../common/steps';
import { MAPPING_HEADERS, mappingRows, mappingTitle } from '../../common/mapping-words';

import { none, type ReportBlock, type ReportCell, type ReportModel, type ReportSection } from '../../common/report-blocks';

// The blocks are shared with the decision shown at a gate (common/gate-view.ts).
export { cellToText, none } from '../../common/report-blocks';
export type { ReportBlock, ReportCell, ReportModel, ReportSection } from '../../common/report-blocks';

function summary(d: EvidenceDocument): ReportSection {
  const r = d.run;
  const kv: [string, ReportCell][] = [
    ['plan', r.planId],
    ['strategy', r.strategy],
    ['status', r.status],
    ['initiated by', r.initiatedBy],
    ['why (decision.reason)', d.decision.reason ?? 'not given in the plan'],
    // Packs written before change control have no key: the same as a plan without one.
    [
      'change request (decision.change)',
      d.decision.change ? `${d.decision.change}${d.decision.changeUrl ? ` ${d.decision.changeUrl}` : ''}` : 'none named in the plan',
    ],
    ['workflow id', r.workflowId],
    ['run id', r.runId],
    ['run key', r.runKey],
    ['started at', r.startedAt],
    ['finished at', r.finishedAt ?? 'still running'],
  ];
  const last = d.decision.lastResume;
  if (last) kv.push(['decision', `${last.action} by ${last.by} at ${last.at}: ${last.reason}`]);
  if (d.validation) kv.push(['validation', d.validation.ok ? 'ok' : 'FAILED']);
  return { title: 'Summary', level: 2, blocks: [{ kv }] };
}

function approvals(d: EvidenceDocument): ReportSection {
  const rule = d.decision.approvalRule;
  const blocks: ReportBlock[] = [
    {
      text: `Each gate needs ${rule.required} of ${rule.approvers.join(', ')}${rule.separationOfDuties ? '; the initiator may not approve' : ''}; a gate waits ${rule.timeout || 'its timeout'}.`,
    },
  ];
  const signature = (a: EvidenceDocument['approvals'][number]) =>
    !a.signature.signed
      ? 'not signed'
      : a.signature.verified
        ? `verified (${a.signature.fingerprint ?? 'no fingerprint'})`
        : 'did NOT verify';
  blocks.push(
    d.approvals.length
      ? {
          table: {
            headers: ['gate', 'approver', 'at', 'comment', 'plan hash approved', 'rehearsal hash', 'signature'],
            rows: d.approvals.map((a) => [a.gate, a.approver, a.at, a.comment ?? '', a.planHash, a.rehearsalHash ?? '-', signature(a)]),
          },
        }
      : none('approvals'),
  );
  // Predicted refusals the approvers accepted (decisions.ts acknowledgeRefusal); packs before it have none.
  for (const a of d.approvals) {
    if (a.acknowledged?.length)
      blocks.push({
        text: `${a.approver} approved gate ${a.gate} acknowledging the refusals the dry run predicted: ${a.acknowledged.join(', ')}.`,
      });
  }
  return { title: 'Approvals', level: 2, blocks };
}

/** Every column's fate, per mapped table (absent without a mapping). */
function mapping(d: EvidenceDocument): ReportSection[] {
  if (!d.mapping?.length) return [];
  return [
    {
      title: 'Mapping',
      level: 2,
      blocks: [
        {
          text: "The Pilot's model differs from Production's: per table, where each Production column's value came from, and each Pilot column dropped on purpose with the non-null values it left behind, counted on the rows kept after cleanup (moved, or merged by ids: match).",
        },
      ],
    },
    ...d.mapping.map((m): ReportSection => ({
      title: `Mapping ${mappingTitle(m)}`,
      level: 3,
      blocks: [{ table: { headers: MAPPING_HEADERS, rows: mappingRows(m) } }],
    })),
  ];
}

export function buildReportModel(input: EvidencePack | EvidenceDocument): ReportModel {
  const d = asEvidence(input);
  // The report's own sections as named slots, in order; each step view places its sections after one
  // of them or after another step's (common/steps/): the report iterates the step table.
  const slots: [string, ReportSection[]][] = [];
  const add = (name: string, ...sections: ReportSection[]) => void slots.push([name, sections]);
  add('summary', summary(d));
  add('open-items', { title: 'Open items', level: 2, blocks: [d.openItems.length ? { notes: d.openItems } : none('open items')] });
  add('plan-hash', { title: 'Plan hash', level: 2, blocks: [{ text: `sha256 of the canonical plan, as approved: ${d.run.planHash}` }] });
  add('rules', {
    title: "The plan's rules in words",
    level: 2,
    blocks: [d.rules.length ? { notes: d.rules.map((r) => r.text) } : none('rules')],
  });
  add('approvals', approvals(d));
  add('refused', {
    title: 'Refused signals',
    level: 2,
    blocks: d.refused.last.length
      ? [
          ...(d.refused.count > d.refused.kept
            ? [{ text: `${d.refused.count} refused in all; the run keeps the last ${d.refused.kept}.` }]
            : []),
          { table: { headers: ['at', 'signal', 'by', 'reason'], rows: d.refused.last.map((r) => [r.at, r.signal, r.by, r.reason]) } },
        ]
      : [none('refused signals')],
  });
  // Slots always there (empty when the run has none): steps may be placed after them.
  const moves: ReportSection[] = [];
  const drift: ReportSection[] = [];
  slots.push(['database-moves', moves], ['drift', drift]);
  if (d.databaseMoves?.length) {
    const where = (i: DatabaseMove['to'] | null) =>
      i ? `${i.database} on ${i.server} (system identifier ${i.systemIdentifier}, oid ${i.databaseOid})` : 'not recorded';
    moves.push({
      title: 'Databases accepted as moved',
      level: 2,
      blocks: [
        {
          text: 'The run refused these databases as not the ones it started with; on-call accepted each as the same database moved, and the run checked the new one from then on.',
        },
        {
          table: {
            headers: ['alias', 'was', 'is', 'by', 'at', 'reason', 'signature'],
            rows: d.databaseMoves.map((m) => [
              m.alias,
              where(m.from),
              where(m.to),
              m.by,
              m.at,
              m.reason,
              m.signature ? (m.signature.verified ? `verified (${m.signature.fingerprint})` : 'did NOT verify') : 'not signed',
            ]),
          },
        },
      ],
    });
  }
  if (d.drift?.length) {
    drift.push({
      title: 'Changes since gate plan (drift)',
      level: 2,
      blocks: [
        {
          text: 'What stage and cleanup found differed from the approved dry run. A tolerated change (plan drift.tolerate) let the run go on; any other sent it back to gate plan with a new dry run, and the approvals before it stopped counting.',
        },
        {
          table: {
            headers: ['found at', 'when', 'table', 'approved rows', 'rows now', 'catalog', 'outcome'],
            rows: d.drift.flatMap((x) => [
              ...x.tables.map((t) => [
                x.at,
                x.foundAt ?? '',
                t.table,
                t.approvedRows,
                t.rowsNow,
                '',
                x.tolerated ? 'tolerated' : 'back to gate plan',
              ]),
              ...x.catalog.map((c) => [
                x.at,
                x.foundAt ?? '',
                c.table,
                '',
                '',
                `${c.side}: ${[...c.removed.map((r) => `- ${r}`), ...c.added.map((a) => `+ ${a}`)].join('; ')}`,
                'back to gate plan',
              ]),
            ]),
          },
        },
        ...(d.voidedApprovals?.length
          ? [
              {
                text: `Approvals that stopped counting: ${d.voidedApprovals.map((a) => `${a.approver} (gate ${a.gate}, ${a.at})`).join(', ')}.`,
              },
            ]
          : []),
      ],
    });
  }
  add('mapping', ...mapping(d));
  slots.push(...dataSections(d));
  const sections = arrange(slots, stepReportEntries(d)).flatMap(([, x]) => x);
  return { title: `Cutover evidence: ${d.run.planId} (${d.run.status})`, sections };
}
