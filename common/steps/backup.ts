// Step `backup`'s view: its row in the steps-done table, its fields of the status query, its evidence
// section (`backups`: each object, its sha256 and how it was verified) and the report's "Backups"
// sections. Its running half is the workflow's (workflows/steps.ts).
import type { EvidenceDocument } from '../evidence';
import { none, type ReportSection } from '../report-blocks';
import { defineStepView } from '../step-module';
import { sum } from './counts';

function backupSections(d: EvidenceDocument): ReportSection[] {
  const out: ReportSection[] = [
    {
      title: 'Backups',
      level: 2,
      blocks: d.backups.length
        ? [
            {
              table: {
                headers: ['kind', 'of', 'location', 'size (bytes)', 'sha256', 'verified', 'verified at'],
                rows: d.backups.map((b) => [
                  b.kind,
                  `${b.alias} (${b.scope})`,
                  b.location,
                  b.size,
                  b.sha256,
                  b.verified,
                  b.verifiedAt ?? '',
                ]),
              },
            },
          ]
        : [none('backups')],
    },
  ];
  for (const b of d.backups)
    if (b.verifiedHow.length) out.push({ title: `How the ${b.kind} backup was verified`, level: 3, blocks: [{ notes: b.verifiedHow }] });
  const later = d.backups.filter((b) => b.note);
  if (later.length)
    out.push({
      title: 'Backups taken after the first',
      level: 3,
      blocks: [{ notes: later.map((b) => `${b.kind} ${b.location}: ${b.note}`) }],
    });
  return out;
}

export const backup = defineStepView<'backup'>({
  name: 'backup',
  status: (r) => [
    r.backups.map((b) => `${b.kind} ${b.tables.length}`).join(', '),
    r.backups.map((b) => `${b.kind} ${sum(b.tables.map((t) => t.rows))}`).join(', '),
  ],
  statusView: (r) => ({
    backups: r.backups.map((b) => ({
      kind: b.kind,
      location: b.location,
      size: b.size,
      sha256: b.sha256,
      verified: b.verified.sha256 === b.sha256,
    })),
  }),
  document: {
    key: 'backups',
    after: 'dryRun',
    section: ({ pack }): EvidenceDocument['backups'] =>
      (pack.backups?.backups ?? []).map((b) => ({
        kind: b.kind,
        alias: b.alias,
        scope: b.scope,
        location: b.location,
        size: b.size,
        sha256: b.sha256,
        snapshot: b.snapshot,
        tables: b.tables.length,
        verified: b.verified?.sha256 === b.sha256,
        verifiedAt: b.verified?.at ?? null,
        verifiedHow: b.verified?.checks ?? [],
        ...(b.note ? { note: b.note } : {}),
      })),
  },
  reportAt: { after: 'mapping', sections: backupSections },
});
