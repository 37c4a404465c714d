// Step `stage`'s view: its row in the steps-done table. What it staged is in the evidence document's
// `run.stage` and the report's per-table sections (common/evidence.ts, client/format/report-data.ts),
// which read stage, publish and validate together. Its running half is the workflow's (workflows/steps.ts).
import { defineStepView } from '../step-module';
import { of, sum } from './counts';

export const stage = defineStepView<'stage'>({
  name: 'stage',
  status: (r, run) => [of(r.tables.length, run), `${sum(r.tables.map((t) => t.rows))} in scope`],
});
