// Report sections (common/report-blocks.ts) as plain text for the terminal: what `cutover status`
// prints of the decision at a gate (common/gate-view.ts), the same model the Temporal UI shows.
import { cellToText, type ReportBlock, type ReportSection } from '../../common/report-blocks';
import { renderTable } from './table';

function textBlock(b: ReportBlock): string[] {
  const out: string[] = [];
  if (b.text !== undefined) out.push(b.text);
  if (b.kv) {
    const width = Math.max(...b.kv.map(([k]) => k.length));
    out.push(...b.kv.map(([k, v]) => `  ${`${k}:`.padEnd(width + 1)} ${cellToText(v)}`));
  }
  if (b.table)
    out.push(
      renderTable(
        b.table.headers,
        b.table.rows.map((r) => r.map((c) => (typeof c === 'number' ? c : cellToText(c)))),
      ).replace(/^/gm, '  '),
    );
  if (b.notes) out.push(...b.notes.map((n) => `  - ${n}`));
  if (b.code) out.push(...b.code.lines.map((l) => `    ${l}`));
  return out;
}

export function formatSections(sections: ReportSection[]): string {
  return sections.map((s) => [`${s.title}:`, ...s.blocks.flatMap(textBlock)].join('\n')).join('\n\n');
}
