// Step `preflight` (the dry run)'s view: its evidence section, kept under the document's key `dryRun`
// (what each table would move and leave behind, as the approvers saw it at gate plan), and the
// report's "Dry run" section. Its running half is the workflow's (workflows/steps.ts).
import { conflictsCell } from '../conflicts';
import type { EvidenceDocument } from '../evidence';
import { formatReasons, none, sumValues, type ReportSection } from '../report-blocks';
import { defineStepView } from '../step-module';

function dryRunSection(d: EvidenceDocument): ReportSection[] {
  const dry = d.dryRun;
  return [
    {
      title: 'Dry run',
      level: 2,
      blocks: dry
        ? [
            {
              kv: [
                ['source', dry.source],
                ['target', dry.target],
                ['at', dry.at],
                ['plan hash', dry.planHash],
              ],
            },
            {
              table: {
                headers: [
                  'order',
                  'table',
                  'ids',
                  'select',
                  'total',
                  'in scope',
                  'to move',
                  'left behind',
                  'left behind (reasons)',
                  'collisions',
                ],
                rows: [...dry.tables]
                  .sort((a, b) => a.order - b.order)
                  .map((t) => [
                    t.order,
                    t.table,
                    t.ids,
                    t.select,
                    t.total,
                    t.inScope,
                    t.toMove,
                    sumValues(t.leftBehind),
                    formatReasons(t.leftBehind),
                    conflictsCell(t),
                  ]),
              },
            },
            dry.warnings.length ? { notes: dry.warnings.map((w) => `warning: ${w}`) } : { text: 'No warnings.' },
          ]
        : [none('dry run yet')],
    },
  ];
}

export const preflight = defineStepView<'preflight'>({
  name: 'preflight',
  document: { key: 'dryRun', after: 'refused', section: ({ pack }) => pack.dryRun },
  reportAt: { after: 'drift', sections: dryRunSection },
});
