// Step `rollback` (surgical)'s view: its row in the steps-done table, its evidence section (`rollback`:
// who asked and why, every table undone and the proof) and the report's "Rollback" section, which
// points to Restore when the run was rolled back by restore instead. The checksums and the audit
// section read its proof too (common/evidence.ts). Its running half is the workflow's (workflows/steps.ts).
import type { EvidenceDocument } from '../evidence';
import { none, type ReportSection } from '../report-blocks';
import { defineStepView } from '../step-module';
import { of, sum } from './counts';

function rollbackSection(d: EvidenceDocument): ReportSection[] {
  const r = d.rollback;
  return [
    {
      title: 'Rollback',
      level: 2,
      blocks: r
        ? [
            {
              kv: [
                ['mode', r.mode],
                ['requested by', r.by],
                ['reason', r.reason],
                ['at', r.at],
                ['every inserted row gone', r.proof.insertedRowsGone],
                ['Production', r.proof.production],
              ],
            },
            {
              table: {
                headers: ['table', 'inserted by the run', 'deleted', 'already gone', 'checksum back to before publish'],
                rows: r.undone.map((t) => [t.table, t.inserted, t.deleted, t.alreadyGone, t.equal]),
              },
            },
            ...(r.proof.summary.length ? [{ notes: r.proof.summary }] : []),
          ]
        : d.restore?.result
          ? [
              {
                text: `Rolled back by restore from the backup at ${d.restore.result.restoredAt} (requested by ${d.restore.by ?? 'unknown'}: ${d.restore.reason ?? 'no reason given'}); see Restore.`,
              },
            ]
          : [none('rollback')],
    },
  ];
}

export const rollback = defineStepView<'rollback'>({
  name: 'rollback',
  status: (r, run) => [of(r.tables.length, run), `${sum(r.tables.map((t) => t.deleted))} deleted`],
  document: {
    key: 'rollback',
    after: 'erasure',
    section: ({ pack: p }): EvidenceDocument['rollback'] => {
      const decision = p.decision?.action === 'rollback' ? p.decision : null;
      return p.rollback
        ? {
            mode: 'surgical',
            by: decision?.by ?? null,
            reason: decision?.reason ?? null,
            at: p.rollback.rolledBackAt,
            undone: p.rollback.tables.map((t) => ({
              table: t.table,
              inserted: t.inserted,
              deleted: t.deleted,
              alreadyGone: t.alreadyGone,
              equal: t.equal,
            })),
            proof: p.rollback.proof,
          }
        : null;
    },
  },
  reportAt: { after: 'checksums', sections: rollbackSection },
});
