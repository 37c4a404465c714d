// Step `validate`'s view: its row in the steps-done table and its evidence section, kept under the
// document's key `validation` (per table: counts, checksums, problems). The manifest, the checksums
// and the report's per-table sections read it with the other steps' results (common/evidence.ts,
// client/format/report-data.ts). Its running half is the workflow's (workflows/steps.ts).
import type { EvidenceDocument } from '../evidence';
import { defineStepView } from '../step-module';
import { sum } from './counts';

export const validate = defineStepView<'validate'>({
  name: 'validate',
  status: (r) => [`${r.tables.filter((t) => t.ok).length}/${r.tables.length} ok`, `${sum(r.tables.map((t) => t.inScope))} checked`],
  document: {
    key: 'validation',
    after: 'audit',
    section: ({ pack, plan }): EvidenceDocument['validation'] =>
      pack.validation
        ? { ok: pack.validation.ok, preExisting: plan.validation?.preExisting ?? 'count', tables: pack.validation.tables }
        : null,
  },
});
