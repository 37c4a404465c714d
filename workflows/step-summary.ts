// Per-step completion for the Temporal UI's current details: which data steps finished, over how
// many tables and rows, from their results (the workflow cannot see heartbeats). The step running
// now reports its per-table rows and elapsed time in its heartbeats: the UI shows those on the
// workflow page under Pending Activities (Heartbeat Details); the line says so.
import { stepStatusRows } from '../common/steps';
import type { RunState } from './state';
import { renderTable } from '../common/text-table';

type Row = [step: string, tables: string, rows: string];

/** Markdown: the steps done so far, and where the running step's live progress is; null when nothing to say. */
export function stepSummary(s: RunState): string | null {
  let done: Row[];
  try {
    // One row per step with a result, from each step's own declaration (common/steps/).
    done = stepStatusRows(s.results, { planTables: s.plan.tables.length });
  } catch {
    done = []; // a result of an older shape: say nothing rather than fail the workflow task
  }
  const running = s.status === 'running' && !s.gate && !s.phase.startsWith('gate:') ? s.phase : null;
  if (!done.length && !running) return null;
  const parts: string[] = [];
  // Aligned text in a code block: the UI's markdown tables have no cell padding (common/text-table.ts).
  if (done.length) parts.push(['```text', renderTable(['step done', 'tables', 'rows'], done), '```'].join('\n'));
  if (running)
    parts.push(
      `Running \`${running}\`: per-table rows done / total and elapsed time are in **Pending Activities → Heartbeat Details** below (refreshed every 5 s; \`cutover status --watch\` shows them as a table, with a time left only for a step that counts rows as they stream).`,
    );
  return parts.join('\n\n');
}
