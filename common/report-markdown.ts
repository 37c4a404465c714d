// Report blocks (common/report-blocks.ts) as markdown: the evidence report (client/format/report-md.ts)
// and the Temporal UI's current details at a gate (workflows/visibility.ts) render through it.
// Pure: the workflow bundle imports it too.
import { cellToText, type ReportBlock, type ReportCell, type ReportSection } from './report-blocks';
import { renderTable } from './text-table';

/**
 * Escape a value for a markdown table cell (pipes, newlines) or inline text. Angle brackets become
 * entities (a report is pasted into tickets that render HTML); `ui`: backslash-escaped instead, as
 * the Temporal UI's markdown shows entities as typed.
 */
export function mdEscape(c: ReportCell, ui = false): string {
  const text = cellToText(c).replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
  return ui
    ? text.replace(/([<>])/g, '\\$1').replace(/\r?\n/g, ' ')
    : text.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, '<br>');
}

function mdTable(headers: string[], rows: ReportCell[][], ui: boolean): string {
  return [
    `| ${headers.map((h) => mdEscape(h, ui)).join(' | ')} |`,
    `|${headers.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${headers.map((_, i) => mdEscape(r[i], ui)).join(' | ')} |`),
  ].join('\n');
}

export function mdBlock(b: ReportBlock, ui = false): string[] {
  const esc = (c: ReportCell) => mdEscape(c, ui);
  const out: string[] = [];
  if (b.text !== undefined) out.push(esc(b.text));
  if (b.kv) out.push(b.kv.map(([k, v]) => `- **${esc(k)}**: ${esc(v)}`).join('\n'));
  // The UI's markdown tables have no cell padding: there a table is aligned text in a code block.
  if (b.table && ui)
    out.push(
      [
        '```text',
        renderTable(
          b.table.headers,
          b.table.rows.map((r) => r.map((c) => (typeof c === 'number' ? c : cellToText(c)))),
        ).replace(/```/g, '` ` `'),
        '```',
      ].join('\n'),
    );
  else if (b.table) out.push(mdTable(b.table.headers, b.table.rows, ui));
  if (b.notes) out.push(b.notes.map((n) => `- ${esc(n)}`).join('\n'));
  if (b.code) out.push(['```' + b.code.lang, ...b.code.lines.map((l) => l.replace(/```/g, '` ` `')), '```'].join('\n'));
  return out;
}

/** Sections as markdown paragraphs (a heading, then its blocks); `ui`: for the Temporal UI (mdEscape). */
export function mdSections(sections: ReportSection[], ui = false): string[] {
  const parts: string[] = [];
  for (const s of sections) {
    parts.push(`${'#'.repeat(s.level)} ${mdEscape(s.title, ui)}`);
    for (const b of s.blocks) parts.push(...mdBlock(b, ui));
  }
  return parts;
}
