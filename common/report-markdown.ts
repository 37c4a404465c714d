// Report blocks (common/report-blocks.ts) as markdown: the evidence report (client/format/report-md.ts)
// and the Temporal UI's current details at a gate (workflows/visibility.ts) render through it.
// Pure: the workflow bundle imports it too.
import { cellToText, type ReportBlock, type ReportCell, type ReportSection } from './report-blocks';

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

export function mdBlock(b: ReportBlock): string[] {
  const out: string[] = [];
  if (b.text !== undefined) out.push(mdEscape(b.text));
  if (b.kv) out.push(b.kv.map(([k, v]) => `- **${mdEscape(k)}**: ${mdEscape(v)}`).join('\n'));
  if (b.table) out.push(mdTable(b.table.headers, b.table.rows));
  if (b.notes) out.push(b.notes.map((n) => `- ${mdEscape(n)}`).join('\n'));
  if (b.code) out.push(['```' + b.code.lang, ...b.code.lines.map((l) => l.replace(/```/g, '` ` `')), '```'].join('\n'));
  return out;
}

/** Sections as markdown paragraphs (a heading, then its blocks). */
export function mdSections(sections: ReportSection[]): string[] {
  const parts: string[] = [];
  for (const s of sections) {
    parts.push(`${'#'.repeat(s.level)} ${mdEscape(s.title)}`);
    for (const b of s.blocks) parts.push(...mdBlock(b));
  }
  return parts;
}
