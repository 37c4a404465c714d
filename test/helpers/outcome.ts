// A whole run driven to its end (both gates approved by bob) and what the tests read back from it:
// the manifest by table, outcome and reason, and the dry run's counts against the run's.
import { approveSignal, reportQuery, type EvidencePack, type StatusView } from '../../common/temporal';
import type { Harness } from './harness';
import { rows } from './pg';
import { acknowledging, atGate, startRun, waitFor } from './run';
import { runResult } from './run-result';

/** A selective plan over `tables`, approvals by bob or carol. */
export function planOf(id: string, tables: Record<string, unknown>[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    id,
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['bob', 'carol'], required: 1, timeout: '1h' },
    rehearsal: { mode: 'skip' },
    tables,
    ...extra,
  };
}

export async function runToCompletion(h: Harness, plan: Record<string, unknown>): Promise<{ result: StatusView; report: EvidencePack }> {
  const handle = await startRun(h.env, plan, 'alice');
  for (const gate of ['plan', 'cutover'] as const) {
    const s = await waitFor(handle, atGate(gate), 90000);
    await handle.signal(approveSignal, { gate, approver: 'bob', ...acknowledging(s) });
  }
  const result = (await runResult(handle)) as StatusView;
  return { result, report: await handle.query(reportQuery) };
}

/** table|outcome|reason → rows, from the run's manifest. */
export async function manifestCounts(prod: string, runKey: string): Promise<Record<string, number>> {
  const m = await rows<{ k: string; n: string }>(
    prod,
    `SELECT table_name || '|' || outcome || '|' || coalesce(reason, '') AS k, count(*)::text AS n FROM cutover.manifest WHERE run_key = $1 GROUP BY 1 ORDER BY 1`,
    [runKey],
  );
  return Object.fromEntries(m.map((x) => [x.k, Number(x.n)]));
}

/** The run validated, and the dry run's counts per table and reason are the run's. */
export function expectDryRunTruth(report: EvidencePack): void {
  expect(report.validation!.ok).toBe(true);
  for (const v of report.validation!.tables) {
    const dry = report.dryRun!.tables.find((t) => t.table === v.table)!;
    expect({ table: v.table, inScope: dry.inScope, moved: dry.toMove, merged: dry.merged, left: dry.leftBehind }).toEqual({
      table: v.table,
      inScope: v.inScope,
      moved: v.moved,
      merged: v.merged,
      left: v.leftBehindByReason,
    });
  }
}
