// Evidence pack → markdown that fits a change ticket (headings, bullet lists, pipe tables, SQL blocks).
import type { EvidenceDocument } from '../../common/evidence';
import type { EvidencePack } from '../../common/temporal';
import { buildReportModel, cellToText } from './report-model';
import type { ReportBlock, ReportCell } from './report-model';

/** Escape a value for a markdown table cell (pipes, newlines) or inline text. */
export function mdEscape(c: ReportCell): string {
  return cellToText(c).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, '<br>');
}

function mdTable(headers: string[], rows: ReportCell[][]): string {
  return [
    `| ${headers.map(mdEscape).join(' | ')} |`,
    `|${headers.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${headers.map((_, i) => mdEscape(r[i])).join(' | ')} |`),
  ].join('\n');
}

function mdBlock(b: ReportBlock): string[] {
  const out: string[] = [];
  if (b.text !== undefined) out.push(mdEscape(b.text));
  if (b.kv) out.push(b.kv.map(([k, v]) => `- **${mdEscape(k)}**: ${mdEscape(v)}`).join('\n'));
  if (b.table) out.push(mdTable(b.table.headers, b.table.rows));
  if (b.notes) out.push(b.notes.map((n) => `- ${mdEscape(n)}`).join('\n'));
  if (b.code) out.push(['```' + b.code.lang, ...b.code.lines.map((l) => l.replace(/```/g, '` ` `')), '```'].join('\n'));
  return out;
}

export function formatReportMarkdown(pack: EvidencePack | EvidenceDocument): string {
  const model = buildReportModel(pack);
  const parts: string[] = [`# ${mdEscape(model.title)}`];
  for (const s of model.sections) {
    parts.push(`${'#'.repeat(s.level)} ${mdEscape(s.title)}`);
    for (const b of s.blocks) parts.push(...mdBlock(b));
  }
  return `${parts.join('\n\n')}\n`;
}
