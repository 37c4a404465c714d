// Step `rehearsal`'s view: its row in the steps-done table, its fields of the status query, its
// evidence section (the plan's mode, whether it was performed or why it was skipped, its report as
// recorded) and its report sections: what the rehearsal in a scratch database did (outcome, hash,
// the backup it restored, registers and parents read from Production), its counts per table
// against the approved dry run's with each difference explained, validation, the rollback proof
// and timings. Read from the evidence document's `rehearsal.result` (the report as the run recorded
// it; older packs lack some fields, so each is read only when present). Its running half is still
// the workflow's (workflows/steps.ts).
import type { EvidenceDocument } from '../evidence';
import type { RehearsalReport } from '../results';
import { formatReasons, none, sumValues, type ReportBlock, type ReportCell, type ReportSection } from '../report-blocks';
import { defineStepView } from '../step-module';
import { of, sum } from './counts';

const arr = <T>(x: T[] | undefined | null): T[] => (Array.isArray(x) ? x : []);

function rehearsalSections(d: EvidenceDocument): ReportSection[] {
  const rh = d.rehearsal;
  const r = (rh.result && typeof rh.result === 'object' ? rh.result : null) as Partial<RehearsalReport> | null;
  const kv: [string, ReportCell][] = [
    ['mode', rh.mode],
    ['performed', rh.performed],
  ];
  if (rh.note) kv.push(['note', rh.note]);
  if (!r) return [{ title: 'Rehearsal', level: 2, blocks: [{ kv }, ...(rh.performed ? [] : [none('rehearsal result')])] }];

  kv.push(['outcome', r.ok ? 'ok' : `FAILED${r.failed ? ` at ${r.failed.step} (${r.failed.type})` : ''}`]);
  if (r.rehearsalHash) kv.push(['rehearsal hash', r.rehearsalHash]);
  if (r.backup) kv.push(['target backup restored', `${r.backup.location} (sha256 ${r.backup.sha256})`]);
  if (r.database) kv.push(['scratch database (dropped)', r.database]);
  if (r.runKey) kv.push(['its run key', r.runKey]);
  kv.push(['started at', r.startedAt ?? ''], ['finished at', r.finishedAt ?? '']);
  if (r.rollback) kv.push(['rollback proven', r.rollback.proven]);
  const c = r.dryRunComparison;
  if (c) kv.push(['counts equal the approved dry run', c.equal]);
  const blocks: ReportBlock[] = [{ kv }];
  if (r.failed) {
    blocks.push({ text: `Failed at ${r.failed.step}: ${r.failed.type}: ${r.failed.message}` });
    const db = r.failed.database;
    if (db && Object.keys(db).length) blocks.push({ kv: Object.entries(db).map(([k, v]) => [`database ${k}`, v] as [string, ReportCell]) });
  }
  const copied = [
    ...arr(r.registersCopied).map(
      (x) => `Production-side erasure register ${x.table}: ${x.rows} row(s) read from Production at the rehearsal (replacing the backup's)`,
    ),
    ...arr(r.parentsCopied).map((x) => `${x.table}: ${x.rows} row(s) copied from Production (referenced by plan rows, outside the plan)`),
  ];
  if (copied.length) blocks.push({ notes: copied });
  const out: ReportSection[] = [{ title: 'Rehearsal', level: 2, blocks }];

  const tables = arr(r.tables);
  out.push({
    title: 'Rehearsal: rows per table',
    level: 3,
    blocks: tables.length
      ? [
          {
            table: {
              headers: ['table', 'in scope', 'moved', 'merged', 'left behind', 'left behind (reasons)'],
              rows: tables.map((t) => [t.table, t.inScope, t.moved, t.merged, t.leftBehind, formatReasons(t.leftBehindByReason ?? {})]),
            },
          },
        ]
      : [none('table counted (the rehearsal stopped before validate)')],
  });
  if (c) {
    const cell = (x: { inScope: number; moved: number; merged: number; leftBehind: Record<string, number> } | null) =>
      x ? `${x.inScope} / ${x.moved} / ${x.merged} / ${sumValues(x.leftBehind)}` : '-';
    out.push({
      title: 'Rehearsal against the approved dry run',
      level: 3,
      blocks: [
        { text: c.equal ? "Every table's counts equal the approved dry run's." : 'The rehearsal DIFFERS from the approved dry run:' },
        ...(c.equal ? [] : [{ notes: c.differences }]),
        {
          table: {
            headers: [
              'table',
              'dry run (in scope / to move / merged / left behind)',
              'rehearsal (in scope / moved / merged / left behind)',
              'equal',
            ],
            rows: arr(c.tables).map((t) => [t.table, cell(t.dryRun), cell(t.rehearsal), t.equal]),
          },
        },
      ],
    });
  }
  if (r.validation) {
    out.push({
      title: 'Rehearsal validation',
      level: 3,
      blocks: [r.validation.ok ? { text: 'Validation passed in the scratch database.' } : { notes: arr(r.validation.problems) }],
    });
  }
  if (r.rollback) {
    out.push({
      title: 'Rehearsal rollback proof',
      level: 3,
      blocks: [
        {
          table: {
            headers: ['table', 'rows deleted', 'checksum before publish', 'checksum after rollback', 'equal'],
            rows: arr(r.rollback.tables).map((t) => [t.table, t.deleted, t.checksumBeforePublish, t.checksumAfterRollback, t.equal]),
          },
        },
        ...(arr(r.rollback.summary).length ? [{ notes: r.rollback.summary }] : []),
      ],
    });
  }
  const timings = arr(r.timings);
  if (timings.length)
    out.push({
      title: 'Rehearsal timings',
      level: 3,
      blocks: [{ table: { headers: ['step', 'ms'], rows: timings.map((t) => [t.step, t.ms]) } }],
    });
  return out;
}

export const rehearsal = defineStepView<'rehearsal'>({
  name: 'rehearsal',
  status: (r, run) => [of(r.tables.length, run), `${sum(r.tables.map((t) => t.moved))} moved`],
  statusView: (r) => ({
    rehearsal: {
      ok: r.ok,
      rehearsalHash: r.rehearsalHash,
      rollbackProven: r.rollback?.proven ?? false,
      tables: r.tables.map((t) => ({ table: t.table, moved: t.moved, merged: t.merged, leftBehind: t.leftBehind })),
      failed: r.failed ? `${r.failed.step}: ${r.failed.type}` : null,
      ...(r.dryRunComparison ? { sameAsDryRun: r.dryRunComparison.equal, differences: r.dryRunComparison.differences } : {}),
    },
  }),
  document: {
    key: 'rehearsal',
    after: 'backups',
    section: ({ pack, plan, steps }): EvidenceDocument['rehearsal'] => {
      const result = (pack as { rehearsal?: unknown }).rehearsal ?? null;
      const step = steps.find((s) => s.step === 'rehearsal');
      return {
        mode: plan.rehearsal?.mode ?? 'skip',
        performed: result !== null || step?.outcome === 'completed',
        note: step?.outcome === 'skipped' ? (step.decisions.at(-1)?.reason ?? null) : null,
        result,
      };
    },
  },
  reportAt: { after: 'backup', sections: rehearsalSections },
});
