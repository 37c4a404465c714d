// Evidence pack → one self-contained HTML page (no scripts, no external resources; all text escaped).
import type { EvidenceDocument } from '../../common/evidence';
import type { EvidencePack } from '../../common/temporal';
import { buildReportModel, cellToText } from './report-model';
import type { ReportBlock, ReportCell } from './report-model';

export function htmlEscape(c: ReportCell): string {
  return cellToText(c).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
code,.mono{font-family:ui-monospace,monospace;word-break:break-all}
pre{background:#f6f6f6;padding:.5rem;overflow-x:auto;white-space:pre-wrap}td:nth-child(n+2){font-variant-numeric:tabular-nums}`;

function htmlBlock(b: ReportBlock): string {
  const out: string[] = [];
  if (b.text !== undefined) out.push(`<p>${htmlEscape(b.text)}</p>`);
  if (b.kv) out.push(`<dl>${b.kv.map(([k, v]) => `<dt>${htmlEscape(k)}</dt><dd>${htmlEscape(v)}</dd>`).join('')}</dl>`);
  if (b.table) {
    const head = `<tr>${b.table.headers.map((h) => `<th>${htmlEscape(h)}</th>`).join('')}</tr>`;
    const rows = b.table.rows.map((r) => `<tr>${b.table!.headers.map((_, i) => `<td>${htmlEscape(r[i])}</td>`).join('')}</tr>`);
    out.push(`<table>\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`);
  }
  if (b.notes) out.push(`<ul>${b.notes.map((n) => `<li>${htmlEscape(n)}</li>`).join('')}</ul>`);
  if (b.code) out.push(`<pre><code class="${htmlEscape(b.code.lang)}">${b.code.lines.map(htmlEscape).join('\n')}</code></pre>`);
  return out.join('\n');
}

export function formatReportHtml(pack: EvidencePack | EvidenceDocument): string {
  const model = buildReportModel(pack);
  const body = model.sections
    .map((s) => `<section>\n<h${s.level}>${htmlEscape(s.title)}</h${s.level}>\n${s.blocks.map(htmlBlock).join('\n')}\n</section>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${htmlEscape(model.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${htmlEscape(model.title)}</h1>
${body}
</body>
</html>
`;
}
