// The building blocks every human-readable view of a run is made of: titled sections of key/value
// lists, tables, notes, text and code. The auditor's report (client/format/report-model.ts), the
// decision at a gate (common/gate-view.ts) and their renderers (markdown for the Temporal UI and
// reports, plain text for `cutover status`, HTML) share them, so every view says the same things.
// Pure: the workflow bundle imports it too.

export type ReportCell = string | number | boolean | null | undefined;

export interface ReportBlock {
  kv?: [string, ReportCell][];
  table?: { headers: string[]; rows: ReportCell[][] };
  notes?: string[]; // bullet list
  text?: string; // paragraph
  code?: { lang: string; lines: string[] }; // e.g. SQL to run
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

export const none = (what: string): ReportBlock => ({ text: `No ${what}.` });

export const cellToText = (c: ReportCell): string => {
  if (c === null || c === undefined) return '';
  if (typeof c === 'boolean') return c ? 'yes' : 'NO';
  return String(c);
};

/** `reason=n, reason=n` (or `-` when nothing). */
export function formatReasons(counts: Record<string, number> | undefined): string {
  const entries = Object.entries(counts ?? {}).filter(([, n]) => n > 0);
  if (!entries.length) return '-';
  return entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `${reason}=${n}`)
    .join(', ');
}

export const sumValues = (counts: Record<string, number> | undefined): number =>
  Object.values(counts ?? {}).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
