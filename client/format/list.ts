// `cutover list` rows.
import { renderTable } from './table';

export interface ListRow {
  workflowId: string;
  status: string; // CutoverStatus, or the execution status when the attribute is missing
  phase: string;
  planId: string;
  /** The plan's change request (CutoverChange), when it names one. */
  change?: string;
  startTime: Date | string;
  closeTime?: Date | string | null;
}

const iso = (d: Date | string | null | undefined): string => (d ? (d instanceof Date ? d.toISOString() : d) : '');

export function formatList(rows: ListRow[]): string {
  if (!rows.length) return 'no cutover workflows found';
  // The change column only when some run names one: lists without change control read as before.
  if (rows.some((r) => r.change)) {
    return renderTable(
      ['workflow id', 'status', 'phase', 'change', 'started', 'closed'],
      rows.map((r) => [r.workflowId, r.status, r.phase, r.change ?? '', iso(r.startTime), iso(r.closeTime)]),
    );
  }
  return renderTable(
    ['workflow id', 'status', 'phase', 'started', 'closed'],
    rows.map((r) => [r.workflowId, r.status, r.phase, iso(r.startTime), iso(r.closeTime)]),
  );
}

/** Visibility query for `list` (status already validated against STATUSES, the change id against CHANGE_ID). */
export function listQuery(
  workflowType: string,
  statusAttribute: string,
  status?: string,
  change?: { attribute: string; value: string },
): string {
  // A run that continued as new is one run: its latest execution stands for it.
  const base = `WorkflowType = '${workflowType}' AND ExecutionStatus != 'ContinuedAsNew'${change ? ` AND ${change.attribute} = '${change.value}'` : ''}`;
  // A run refused before its first step (a bad plan) never set the attribute: Temporal's own status finds it.
  if (status === 'failed') return `${base} AND (${statusAttribute} = 'failed' OR ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut'))`;
  return status ? `${base} AND ${statusAttribute} = '${status}'` : base;
}
