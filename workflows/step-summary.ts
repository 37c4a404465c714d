// Per-step completion for the Temporal UI's current details: which data steps finished, over how
// many tables and rows, from their results (the workflow cannot see heartbeats). The step running
// now reports its per-table rows and elapsed time in its heartbeats: the UI shows those on the
// workflow page under Pending Activities (Heartbeat Details); the line says so.
import type { StepResults } from '../common/results';
import { stepStatusRows } from '../common/steps';
import type { RunState } from './state';
import { renderTable } from '../common/text-table';

type Row = [step: string, tables: string, rows: string];

const sum = (xs: number[]) => xs.reduce((a, x) => a + (Number.isFinite(x) ? x : 0), 0);

/** One row per data step that has a result. */
function rows(r: StepResults, planTables: number): Row[] {
  const out: Row[] = [];
  const of = (n: number) => `${n}/${planTables}`;
  if (r.backup)
    out.push([
      'backup',
      r.backup.backups.map((b) => `${b.kind} ${b.tables.length}`).join(', '),
      r.backup.backups.map((b) => `${b.kind} ${sum(b.tables.map((t) => t.rows))}`).join(', '),
    ]);
  if (r.rehearsal) out.push(['rehearsal', of(r.rehearsal.tables.length), `${sum(r.rehearsal.tables.map((t) => t.moved))} moved`]);
  if (r.stage) out.push(['stage', of(r.stage.tables.length), `${sum(r.stage.tables.map((t) => t.rows))} in scope`]);
  if (r.cleanup)
    out.push(['cleanup', of(planTables), `${sum(Object.values(r.cleanup.leftBehind).flatMap((x) => Object.values(x)))} left behind`]);
  if (r.publish)
    out.push([
      'publish',
      of(r.publish.tables.length),
      `${sum(r.publish.tables.map((t) => t.inserted))} inserted, ${sum(r.publish.tables.map((t) => t.merged))} merged`,
    ]);
  if (r.validate)
    out.push([
      'validate',
      `${r.validate.tables.filter((t) => t.ok).length}/${r.validate.tables.length} ok`,
      `${sum(r.validate.tables.map((t) => t.inScope))} checked`,
    ]);
  for (const step of ['erasure', 'erasure-final'] as const) {
    const e = r[step];
    if (e) out.push([step, String(Object.keys(e.rows).length), `${sum(Object.values(e.rows))} erased or anonymized`]);
  }
  if (r.rollback) out.push(['rollback', of(r.rollback.tables.length), `${sum(r.rollback.tables.map((t) => t.deleted))} deleted`]);
  if (r.restore) out.push(['restore', of(r.restore.tables.length), `${sum(r.restore.tables.map((t) => t.restored))} restored`]);
  // The step modules' own rows (common/steps/index.ts).
  out.push(...stepStatusRows(r));
  return out;
}

/** Markdown: the steps done so far, and where the running step's live progress is; null when nothing to say. */
export function stepSummary(s: RunState): string | null {
  let done: Row[];
  try {
    done = rows(s.results, s.plan.tables.length);
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
