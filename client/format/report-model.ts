// The evidence pack laid out as titled sections (key/value lists, tables, notes), rendered to
// markdown by report-md.ts and to HTML by report-html.ts so both say exactly the same things.
import type { EvidencePack } from '../../common/temporal';
import { formatReasons, sumValues } from './table';

export type ReportCell = string | number | boolean | null | undefined;

export interface ReportBlock {
  kv?: [string, ReportCell][];
  table?: { headers: string[]; rows: ReportCell[][] };
  notes?: string[]; // bullet list
  text?: string; // paragraph
}

export interface ReportSection {
  title: string;
  level: 2 | 3;
  blocks: ReportBlock[];
}

export interface ReportModel {
  title: string;
  sections: ReportSection[];
}

const none = (what: string): ReportBlock => ({ text: `No ${what}.` });

/** Tables of a run in dry-run (FK) order, then any others as they appear. */
export function reportTableNames(pack: EvidencePack): string[] {
  const names: string[] = [];
  const add = (t: string): void => void (names.includes(t) || names.push(t));
  [...(pack.dryRun?.tables ?? [])].sort((a, b) => a.order - b.order).forEach((t) => add(t.table));
  pack.stage?.tables.forEach((t) => add(t.table));
  pack.publish?.tables.forEach((t) => add(t.table));
  pack.validation?.tables.forEach((t) => add(t.table));
  return names;
}

function tableSection(pack: EvidencePack, table: string): ReportSection {
  const dry = pack.dryRun?.tables.find((t) => t.table === table);
  const staged = pack.stage?.tables.find((t) => t.table === table);
  const published = pack.publish?.tables.find((t) => t.table === table);
  const v = pack.validation?.tables.find((t) => t.table === table);
  const kv: [string, ReportCell][] = [];
  if (dry) {
    kv.push(['dry run: in scope', dry.inScope], ['dry run: to move', dry.toMove], ['dry run: left behind', formatReasons(dry.leftBehind)]);
  }
  kv.push(['stage: rows staged', staged ? staged.rows : 'not staged']);
  kv.push(['publish: rows inserted', published ? published.inserted : 'not published']);
  if (published) kv.push(['publish: pre-existing checksum', published.preExistingChecksum]);
  if (v) {
    kv.push(
      ['validation', v.ok ? 'ok' : 'FAILED'],
      ['in scope = moved + merged + left behind', `${v.inScope} = ${v.moved} + ${v.merged} + ${v.leftBehind}${v.inScope === v.moved + v.merged + v.leftBehind ? '' : ' (MISMATCH)'}`],
      ['staging checksum', v.stagingChecksum],
      ['production checksum', v.productionChecksum],
      ['checksums match', v.stagingChecksum === v.productionChecksum],
      ['pre-existing rows before', v.preExistingBefore],
      ['pre-existing rows after', v.preExistingAfter],
      ['pre-existing rows unchanged', v.preExistingBefore === v.preExistingAfter],
    );
  } else {
    kv.push(['validation', 'not validated']);
  }
  const blocks: ReportBlock[] = [{ kv }];
  if (v?.problems.length) blocks.push({ notes: v.problems.map((p) => `problem: ${p}`) });
  return { title: `Table ${table}`, level: 3, blocks };
}

export function buildReportModel(pack: EvidencePack): ReportModel {
  const sections: ReportSection[] = [];
  const summary: [string, ReportCell][] = [
    ['plan', pack.planId],
    ['strategy', pack.strategy],
    ['status', pack.status],
    ['initiated by', pack.initiatedBy],
    ['workflow id', pack.workflowId],
    ['run id', pack.runId],
    ['run key', pack.runKey],
    ['started at', pack.startedAt],
    ['finished at', pack.finishedAt ?? 'still running'],
  ];
  if (pack.decision) summary.push(['decision', `${pack.decision.action} by ${pack.decision.by} at ${pack.decision.at}: ${pack.decision.reason}`]);
  if (pack.validation) summary.push(['validation', pack.validation.ok ? 'ok' : 'FAILED']);
  sections.push({ title: 'Summary', level: 2, blocks: [{ kv: summary }] });

  sections.push({
    title: 'Plan hash',
    level: 2,
    blocks: [{ text: `sha256 of the canonical plan, as approved: ${pack.planHash}` }],
  });

  const dry = pack.dryRun;
  sections.push({
    title: 'Dry run',
    level: 2,
    blocks: dry
      ? [
          { kv: [['source', dry.source], ['target', dry.target], ['at', dry.at], ['plan hash', dry.planHash]] },
          {
            table: {
              headers: ['order', 'table', 'ids', 'select', 'total', 'in scope', 'to move', 'left behind', 'left behind (reasons)', 'collisions'],
              rows: [...dry.tables]
                .sort((a, b) => a.order - b.order)
                .map((t) => [t.order, t.table, t.ids, t.select, t.total, t.inScope, t.toMove, sumValues(t.leftBehind), formatReasons(t.leftBehind), t.collisions]),
            },
          },
          dry.warnings.length ? { notes: dry.warnings.map((w) => `warning: ${w}`) } : { text: 'No warnings.' },
        ]
      : [none('dry run yet')],
  });

  sections.push({
    title: 'Approvals',
    level: 2,
    blocks: pack.approvals.length
      ? [{ table: { headers: ['gate', 'approver', 'at', 'comment'], rows: pack.approvals.map((a) => [a.gate, a.approver, a.at, a.comment ?? '']) } }]
      : [none('approvals')],
  });

  sections.push({
    title: 'Refused signals',
    level: 2,
    blocks: pack.refused.length
      ? [
          ...((pack.refusedCount ?? 0) > pack.refused.length ? [{ text: `${pack.refusedCount} refused in all; the run keeps the last ${pack.refused.length}.` }] : []),
          { table: { headers: ['at', 'signal', 'by', 'reason'], rows: pack.refused.map((r) => [r.at, r.signal, r.by, r.reason]) } },
        ]
      : [none('refused signals')],
  });

  sections.push({
    title: 'Steps',
    level: 2,
    blocks: pack.steps.length
      ? [{ table: { headers: ['at', 'step', 'outcome', 'detail'], rows: pack.steps.map((s) => [s.at, s.step, s.outcome, s.detail ?? '']) } }]
      : [none('steps')],
  });

  const names = reportTableNames(pack);
  const stageInfo: [string, ReportCell][] = [];
  if (pack.stage) stageInfo.push(['staging schema', pack.stage.schema], ['source snapshot', pack.stage.snapshot ?? 'none']);
  sections.push({
    title: 'Tables: stage, publish, validation',
    level: 2,
    blocks: names.length ? (stageInfo.length ? [{ kv: stageInfo }] : []) : [none('tables')],
  });
  for (const t of names) sections.push(tableSection(pack, t));

  return { title: `Cutover evidence: ${pack.planId} (${pack.status})`, sections };
}

export const cellToText = (c: ReportCell): string => {
  if (c === null || c === undefined) return '';
  if (typeof c === 'boolean') return c ? 'yes' : 'NO';
  return String(c);
};
