// Step `access-checks`' view: its evidence section, kept under the document's key `accessChecks`, and
// the report's "Access checks" section. The consent and retention rules read their built-in checks
// from it (common/evidence.ts). Its running half is the workflow's (workflows/steps.ts).
import type { EvidenceDocument } from '../evidence';
import { none, type ReportSection } from '../report-blocks';
import { defineStepView } from '../step-module';

function accessChecksSection(d: EvidenceDocument): ReportSection[] {
  const a = d.accessChecks;
  return [
    {
      title: 'Access checks',
      level: 2,
      blocks: a
        ? [
            {
              table: {
                headers: ['check', 'kind', 'passed', 'offending rows', 'error'],
                rows: a.checks.map((c) => [c.name, c.kind, c.passed, c.rowCount, c.error ?? '']),
              },
            },
          ]
        : [none('access checks run')],
    },
  ];
}

export const accessChecks = defineStepView<'access-checks'>({
  name: 'access-checks',
  document: { key: 'accessChecks', after: 'validation', section: ({ pack }) => pack.accessChecks },
  reportAt: { after: 'rules-counts', sections: accessChecksSection },
});
